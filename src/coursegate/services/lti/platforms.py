"""Registering LMS platforms (administrators only): issuer, client id, deployments and the
platform's endpoints; and the tool's own URLs, ready to paste into the LMS."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from coursegate.roles import Area
from coursegate.services.common.authz import require
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Conflict, Invalid, NotFound
from coursegate.services.history import log as history
from coursegate.store.models import Domain, LtiDeployment, LtiPlatform

MANAGE = "mau"
"""Registering a platform decides who may sign in through it: the privilege that modifies
authentication, at the system level."""


@dataclass(frozen=True)
class NewPlatform:
    name: str
    issuer: str
    client_id: str
    auth_url: str
    token_url: str
    jwks_url: str
    domain: str
    deployment_ids: tuple[str, ...] = ()
    match_email: bool = False
    allow_administrator: bool = False
    allow_author: bool = False


def _url(value: str, field: str, *, allow_http: bool) -> str:
    parts = urlsplit(value.strip())
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes or not parts.netloc:
        raise Invalid(
            f"{field}: {value!r} is not an https:// URL (the LMS's documentation gives it)",
            field,
        )
    if len(value) > 1000:
        raise Invalid(f"{field}: the URL is longer than 1,000 characters", field)
    return value.strip()


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in ("127.0.0.1", "localhost", "::1")


def register_platform(ctx: Ctx, new: NewPlatform) -> LtiPlatform:
    """Add a platform (refused if the same issuer and client id is registered). Plain http
    is accepted only for a platform on this machine (a local test LMS)."""
    require(ctx, MANAGE, Area.system(), "register LMS platforms")
    issuer = new.issuer.strip()
    if not issuer:
        raise Invalid(
            "issuer: give the platform's issuer (iss), e.g. https://canvas.instructure.com",
            "issuer",
        )
    local = _loopback(issuer)
    client_id = new.client_id.strip()
    if not client_id or len(client_id) > 200:
        raise Invalid("client_id: give the client id the LMS gave coursegate", "client_id")
    domain = ctx.session.scalars(select(Domain).where(Domain.name == new.domain)).one_or_none()
    if domain is None:
        raise Invalid(f"domain: there is no domain {new.domain!r} for its users", "domain")
    clash = ctx.session.scalars(
        select(LtiPlatform).where(LtiPlatform.issuer == issuer, LtiPlatform.client_id == client_id)
    ).one_or_none()
    if clash is not None:
        raise Conflict(
            f"the platform {issuer} with client id {client_id} is registered already "
            f"(as {clash.name!r})",
            "client_id",
        )
    row = LtiPlatform(
        name=new.name.strip()[:200] or issuer,
        issuer=_url(issuer, "issuer", allow_http=local),
        client_id=client_id,
        auth_url=_url(new.auth_url, "auth_url", allow_http=local),
        token_url=_url(new.token_url, "token_url", allow_http=local),
        jwks_url=_url(new.jwks_url, "jwks_url", allow_http=local),
        domain_id=domain.id,
        match_email=new.match_email,
        allow_administrator=new.allow_administrator,
        allow_author=new.allow_author,
        created_at=ctx.at,
        created_by=ctx.actor,
    )
    ctx.session.add(row)
    ctx.session.flush()
    for deployment in new.deployment_ids:
        _add_deployment(ctx, row, deployment)
    history.record(
        ctx,
        "lti.platform_registered",
        "lti_platform",
        f"{issuer} {client_id}",
        name=row.name,
        deployments=list(new.deployment_ids),
        match_email=new.match_email,
        allow_administrator=new.allow_administrator,
        allow_author=new.allow_author,
    )
    return row


def _add_deployment(ctx: Ctx, platform: LtiPlatform, deployment_id: str) -> LtiDeployment:
    value = deployment_id.strip()
    if not value or len(value) > 200:
        raise Invalid("deployment_id: give the deployment id the LMS shows", "deployment_id")
    if any(d.deployment_id == value for d in platform.deployments):
        raise Conflict(f"the deployment {value!r} is registered already", "deployment_id")
    row = LtiDeployment(platform_id=platform.id, deployment_id=value)
    ctx.session.add(row)
    ctx.session.flush()
    ctx.session.refresh(platform)
    return row


def add_deployment(ctx: Ctx, platform_id: int, deployment_id: str) -> LtiDeployment:
    require(ctx, MANAGE, Area.system(), "register LMS platforms")
    platform = get_platform(ctx, platform_id)
    row = _add_deployment(ctx, platform, deployment_id)
    history.record(
        ctx,
        "lti.deployment_added",
        "lti_platform",
        f"{platform.issuer} {platform.client_id}",
        deployment_id=row.deployment_id,
    )
    return row


def get_platform(ctx: Ctx, platform_id: int) -> LtiPlatform:
    row = ctx.session.get(LtiPlatform, platform_id)
    if row is None or row.removed_at is not None:
        raise NotFound(f"there is no LMS platform {platform_id}", "platform")
    return row


def platforms(ctx: Ctx) -> list[LtiPlatform]:
    require(ctx, MANAGE, Area.system(), "see the LMS platforms")
    return list(
        ctx.session.scalars(
            select(LtiPlatform).where(LtiPlatform.removed_at.is_(None)).order_by(LtiPlatform.id)
        )
    )


def find_platform(ctx: Ctx, issuer: str, client_id: str | None) -> LtiPlatform | None:
    """The platform a login names (by issuer, and client id when the LMS sends one — an
    issuer with several registrations needs it)."""
    query = select(LtiPlatform).where(
        LtiPlatform.issuer == issuer, LtiPlatform.removed_at.is_(None)
    )
    if client_id:
        query = query.where(LtiPlatform.client_id == client_id)
    found = list(ctx.session.scalars(query.limit(2)))
    return found[0] if len(found) == 1 else None


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def frame_origins(session: Session) -> list[str]:
    """The origins whose pages may show coursegate in a frame: every registered platform's
    (its issuer's and its sign-in page's)."""
    rows = session.execute(
        select(LtiPlatform.issuer, LtiPlatform.auth_url).where(LtiPlatform.removed_at.is_(None))
    )
    found = {o for row in rows for o in map(_origin, row) if o is not None}
    return sorted(found)


@dataclass(frozen=True)
class ToolUrls:
    """What an administrator pastes into the LMS."""

    login: str
    launch: str
    jwks: str
    deep_linking: str
    config: str

    def to_json(self) -> dict[str, str]:
        return {
            "login_url": self.login,
            "launch_url": self.launch,
            "jwks_url": self.jwks,
            "deep_linking_url": self.deep_linking,
            "config_url": self.config,
        }


def tool_urls(base_url: str) -> ToolUrls:
    base = base_url.rstrip("/")
    return ToolUrls(
        login=f"{base}/lti/login",
        launch=f"{base}/lti/launch",
        jwks=f"{base}/lti/jwks",
        deep_linking=f"{base}/lti/launch",
        config=f"{base}/lti/config.json",
    )


def canvas_config(base_url: str, title: str = "coursegate") -> dict[str, Any]:
    """Canvas's developer-key JSON ("Paste JSON" in Admin → Developer Keys → + LTI Key)."""
    urls = tool_urls(base_url)
    host = urlsplit(base_url).hostname or ""
    return {
        "title": title,
        "description": "Who may do what in a course, and when: deadlines, credit, extensions.",
        "oidc_initiation_url": urls.login,
        "target_link_uri": urls.launch,
        "public_jwk_url": urls.jwks,
        "scopes": [
            "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
            "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
            "https://purl.imsglobal.org/spec/lti-ags/scope/score",
            "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
        ],
        "extensions": [
            {
                "domain": host,
                "platform": "canvas.instructure.com",
                "privacy_level": "public",
                "settings": {
                    "placements": [
                        {
                            "placement": "course_navigation",
                            "message_type": "LtiResourceLinkRequest",
                            "target_link_uri": urls.launch,
                        },
                        {
                            "placement": "assignment_selection",
                            "message_type": "LtiDeepLinkingRequest",
                            "target_link_uri": urls.deep_linking,
                        },
                    ]
                },
            }
        ],
        "custom_fields": {
            # the LMS course's dates, for a course instance made at the first launch
            "course_start": "$Canvas.course.startAt",
            "course_end": "$Canvas.course.endAt",
        },
    }
