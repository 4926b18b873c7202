"""Deep linking (LTI Deep Linking 2.0): an instructor adding coursegate content in the LMS picks
assessments here, and they go back to the LMS as resource links — each opening its assessment
(custom parameter ``assessment``) with a gradebook column of 100 points — in a JWT signed by the
tool's key, posted by the browser to the LMS's return URL."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from sqlalchemy import select

from coursegate.core.instants import MICROS
from coursegate.lti.claims import CLAIM, DEPLOYMENT_ID, MESSAGE_TYPE, VERSION, Launch
from coursegate.services.common.authz import require
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Invalid, NotFound, Refused
from coursegate.services.common.places import instance_area, instance_label
from coursegate.services.history import log as history
from coursegate.services.lti.keys import ALGORITHM, private_key, signing_key
from coursegate.store.models import Assessment, LtiContext, LtiDeepLink, User

LIFETIME = 3600 * MICROS
"""How long an instructor has to choose."""


def remember(ctx: Ctx, launch: Launch, context: LtiContext, user: User) -> LtiDeepLink | None:
    """Keep a deep-linking launch's return address and data, for the staff who launched it."""
    settings = launch.deep_linking or {}
    url = settings.get("deep_link_return_url")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        return None
    data = settings.get("data")
    row = LtiDeepLink(
        context_id=context.id,
        user_id=user.id,
        deployment_id=launch.deployment_id,
        return_url=url[:1000],
        data=data if isinstance(data, str) else None,
        created_at=ctx.at,
    )
    ctx.session.add(row)
    ctx.session.flush()
    return row


@dataclass(frozen=True)
class Choice:
    request: LtiDeepLink
    context: LtiContext
    assessments: list[Assessment]


def choice(ctx: Ctx, request_id: int) -> Choice:
    """The deep-linking request the caller may answer, and the assessments they may pick."""
    row = ctx.session.get(LtiDeepLink, request_id)
    user = ctx.user(ctx.actor)
    if row is None or row.user_id != user.id:
        raise NotFound("there is no such request from your LMS", "request")
    if row.answered_at is not None:
        raise Invalid("this request from your LMS was answered already", "request")
    if ctx.at - row.created_at > LIFETIME:
        raise Refused("more than an hour has passed: add the content again from the LMS", "request")
    context = ctx.session.get(LtiContext, row.context_id)
    assert context is not None
    ci = context.course_instance
    if ci is None:
        raise Invalid("link this LMS course to a course instance first", "request")
    require(ctx, "mgr", instance_area(ci), f"add assessments of {instance_label(ci)} to the LMS")
    assessments = list(
        ctx.session.scalars(
            select(Assessment)
            .where(Assessment.course_instance_id == ci.id, Assessment.retired_at.is_(None))
            .order_by(Assessment.aid)
        )
    )
    return Choice(row, context, assessments)


def answer(ctx: Ctx, request_id: int, chosen: Sequence[str], launch_url: str) -> tuple[str, str]:
    """The signed response for the chosen assessment ids, and the URL to post it to."""
    found = choice(ctx, request_id)
    by_id = {a.aid: a for a in found.assessments}
    unknown = [aid for aid in chosen if aid not in by_id]
    if unknown or not chosen:
        raise Invalid(
            "assessments: choose at least one of this course's assessments"
            + (f" ({', '.join(unknown)} is not one)" if unknown else ""),
            "assessments",
        )
    items: list[dict[str, Any]] = []
    for aid in chosen:
        a = by_id[aid]
        title = f"{a.set_name} {a.number}: {a.title}".strip(": ") or aid
        items.append(
            {
                "type": "ltiResourceLink",
                "title": title,
                "url": launch_url,
                "custom": {"assessment": aid},
                "lineItem": {"scoreMaximum": 100, "label": title, "resourceId": aid},
            }
        )
    platform = found.context.platform
    now = ctx.at // MICROS
    claims: dict[str, Any] = {
        "iss": platform.client_id,
        "aud": platform.issuer,
        "iat": now,
        "exp": now + 600,
        "nonce": secrets.token_urlsafe(16),
        MESSAGE_TYPE: "LtiDeepLinkingResponse",
        VERSION: "1.3.0",
        DEPLOYMENT_ID: found.request.deployment_id,
        "https://purl.imsglobal.org/spec/lti-dl/claim/content_items": items,
    }
    if found.request.data is not None:
        claims["https://purl.imsglobal.org/spec/lti-dl/claim/data"] = found.request.data
    key = signing_key(ctx)
    token = jwt.encode({"alg": ALGORITHM, "kid": key.kid, "typ": "JWT"}, claims, private_key(key))
    found.request.answered_at = ctx.at
    ci = found.context.course_instance
    assert ci is not None
    history.record(
        ctx, "lti.deep_link", "course_instance", instance_label(ci), course_instance_id=ci.id,
        platform=platform.name, assessments=list(chosen),
    )  # fmt: skip
    return token, found.request.return_url


__all__ = ["CLAIM", "Choice", "answer", "choice", "remember"]
