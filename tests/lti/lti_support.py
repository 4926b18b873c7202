"""Driving a launch as a browser does: the tool's login, the platform's authorisation page,
the auto-posted id_token back to the tool."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

import httpx
from api_support import World
from fastapi.testclient import TestClient
from lti_platform import INSTRUCTOR, LEARNER, TA, TEST_USER, Person, Platform, auto_post
from sqlalchemy import func, select

from coursegate.services.lti.platforms import NewPlatform, register_platform
from coursegate.store.models import HistoryEntry, LtiIdentity, User, WebSession

TOOL = "https://testserver"


def continue_url(login_page: str) -> str:
    """Where the tool's login page goes on to (the platform's sign-in, with state and nonce)."""
    found = re.search(r'id="lti-continue" class="button" href="([^"]+)"', login_page)
    assert found is not None, login_page
    return html.unescape(found.group(1))


@dataclass
class Lms:
    world: World
    platform: Platform
    platform_id: int

    def browser(self) -> TestClient:
        return TestClient(self.world.app, base_url=TOOL, follow_redirects=False)

    def launch(
        self, login_hint: str = "learner", browser: TestClient | None = None
    ) -> httpx.Response:
        """The whole flow; the tool's answer to the launch."""
        b = browser or self.browser()
        start = b.get(
            "/lti/login", params=self.platform.login_params(login_hint, TOOL + "/lti/launch")
        )
        assert start.status_code == 200, start.text
        page = httpx.get(continue_url(start.text), timeout=10)
        assert page.status_code == 200, page.text
        action, fields = auto_post(page.text)
        assert action == TOOL + "/lti/launch"
        return b.post("/lti/launch", data=fields)

    def counts(self) -> dict[str, int]:
        """Users, sessions and identities in the store (a refused launch adds none)."""
        with self.world.ctx() as ctx:
            s = ctx.session
            return {
                "users": s.scalar(select(func.count()).select_from(User)) or 0,
                "sessions": s.scalar(select(func.count()).select_from(WebSession)) or 0,
                "identities": s.scalar(select(func.count()).select_from(LtiIdentity)) or 0,
            }

    def history(self, action: str) -> list[dict[str, Any]]:
        with self.world.ctx() as ctx:
            rows = ctx.session.scalars(
                select(HistoryEntry).where(HistoryEntry.action == action).order_by(HistoryEntry.id)
            )
            return [{"subject": r.subject, **(r.details or {})} for r in rows]


def lms_for(world: World, platform: Platform) -> Lms:
    platform.people.update(
        learner=Person("sub-learner", "Lea Learner", "lea@lms.example.edu", [LEARNER]),
        instructor=Person("sub-instructor", "Ian Instructor", "ian@lms.example.edu", [INSTRUCTOR]),
        ta=Person("sub-ta", "Tia Assistant", "tia@lms.example.edu", [INSTRUCTOR, TA]),
        test=Person("sub-test", "Test Student", "", [LEARNER, TEST_USER]),
    )
    with world.ctx() as ctx:
        row = register_platform(
            ctx,
            NewPlatform(
                name="Test LMS",
                issuer=platform.issuer,
                client_id=platform.client_id,
                auth_url=platform.base + "/auth",
                token_url=platform.base + "/token",
                jwks_url=platform.base + "/jwks",
                domain="exampleuniversity",
                deployment_ids=(platform.deployment_id,),
            ),
        )
        platform_id = row.id
    return Lms(world, platform, platform_id)
