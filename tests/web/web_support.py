"""Helpers for page tests: a signed-in page client that posts forms with the session's CSRF
token as a browser does, and the page's text for assertions."""

from __future__ import annotations

import html
import re
from typing import Any

from api_support import PERSONAS, World
from fastapi.testclient import TestClient

from coursegate.cli import demo_world as demo

CI = "/courses/CG 101/instances/Sp24"
STAFF = CI + "/staff"


class PageClient:
    """A browser without a browser: signs in through the sign-in page, keeps the cookie, and
    posts forms with the page's CSRF token."""

    def __init__(self, world: World, persona: str | None = None) -> None:
        self.http = TestClient(
            world.app, base_url="https://testserver", raise_server_exceptions=True
        )
        self.csrf = ""
        if persona is not None:
            user = PERSONAS.get(persona) or next(u for u in demo.EVERYONE if u.uid == persona)
            r = self.http.post(
                "/sign-in", data={"uid": user.uid, "password": user.password},
                follow_redirects=False,
            )  # fmt: skip
            assert r.status_code == 303, r.text[:500]
            self.csrf = token_of(self.get("/courses").text)

    def get(self, path: str, **kw: Any) -> Any:
        kw.setdefault("follow_redirects", False)
        return self.http.get(path, **kw)

    def post(self, path: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        kw.setdefault("follow_redirects", False)
        body = {"csrf_token": self.csrf, **(data or {})}
        return self.http.post(path, data=body, **kw)

    def follow(self, response: Any) -> Any:
        """The page a 303 leads to (with its notice)."""
        assert response.status_code == 303, f"{response.status_code}: {response.text[:800]}"
        return self.get(response.headers["location"])


def token_of(html: str) -> str:
    m = re.search(r'<meta name="csrf-token" content="([^"]*)">', html)
    assert m, "the page carries no CSRF token"
    return m.group(1)


def text_of(page: str) -> str:
    """The page's visible text, tags removed and spaces collapsed (for assertions)."""
    page = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S)
    plain = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    return html.unescape(plain).strip()
