"""Who is calling: one transaction per request, and the caller's identity in it.

The caller is found, in this order, from an API token (``Authorization: Bearer cg_...``), the
session cookie, or — when the deployment trusts a single-sign-on proxy — the proxy's identity
header (which opens a session, so the browser then carries a cookie like everyone else).
Cookie-authenticated changes need the session's CSRF token (header ``X-CSRF-Token``, or the
``csrf_token`` form field that the pages post). Read-only tokens may only read.

The clock is read here, at the edge, once per request (``Ctx.at``); nothing below reads it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from coursegate.core.instants import Instant
from coursegate.http.schemas import parse_instant
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Refused
from coursegate.services.lti.platforms import frame_origins
from coursegate.services.people.signin import (
    Unauthenticated,
    csrf_ok,
    live_session,
    sso_session,
    token_principal,
    view_as_in_force,
)
from coursegate.store.db import transaction
from coursegate.store.models import ApiToken, User, WebSession

ANONYMOUS = "anonymous"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "x-csrf-token"
AT_HEADER = "x-coursegate-at"
VIEWING_AS_HEADER = "X-Coursegate-Viewing-As"


@dataclass
class Caller:
    """The request's transaction (``ctx``) and how the caller proved who they are."""

    ctx: Ctx
    user: User | None
    via: str
    """anonymous | session | token | sso"""
    web_session: WebSession | None = None
    token: ApiToken | None = None
    new_cookie: str | None = None
    """Set when this request opened a session (single sign-on): the response sets the cookie."""
    refusal: Refused | None = None
    """A cookie came without its CSRF token on a change: the caller counts as anonymous for
    public routes (signing in again) and every other route refuses with this."""

    @property
    def signed_in(self) -> bool:
        return self.user is not None

    @property
    def uid(self) -> str:
        if self.user is None:
            raise Unauthenticated("sign in first (a session cookie or an API token)")
        return self.user.uid


def request_at(request: Request) -> Instant:
    clock: Callable[[], Instant] = request.app.state.clock
    raw = request.headers.get(AT_HEADER)
    if raw and request.app.state.settings.allow_at_header:
        # ISO with an offset, within the calendar's range (the one reading of request dates).
        return parse_instant(raw, AT_HEADER)
    return clock()


def caller(request: Request) -> Iterator[Caller]:
    """Open the request's transaction and identify the caller (commits when the handler
    returns, rolls back if it raises)."""
    factory: sessionmaker[Session] = request.app.state.sessions
    at = request_at(request)
    with transaction(factory) as session:
        found = identify(request, session, at)
        request.state.caller = found
        if found.web_session is not None and found.web_session.via == "lti":
            request.state.frame_ancestors = frame_origins(session)
        if found.ctx.acting_as is not None:
            request.state.viewing_as = found.ctx.acting_as
        yield found


CALLER: Any = Depends(caller, scope="function")
"""The one per-request caller (FastAPI caches it, so a route's policy check and its handler
share one transaction)."""


def identify(request: Request, session: Session, at: Instant) -> Caller:
    settings = request.app.state.settings
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        found = token_principal(session, auth[7:].strip(), at)
        if found is None:
            raise Unauthenticated("the API token is unknown, revoked or expired")
        token, user = found
        # Whether a read-only token may make this request is the route policy's call
        # (some POSTs, such as asking for decisions, change nothing).
        return Caller(Ctx(session, user.uid, at), user, "token", token=token)
    cookie = request.cookies.get(settings.session_cookie)
    if cookie:
        live = live_session(session, cookie, at)
        if live is not None:
            row, user = live
            if request.method not in SAFE_METHODS:
                presented = request.headers.get(CSRF_HEADER) or getattr(
                    request.state, "csrf_form", None
                )
                if not csrf_ok(row, presented):
                    refusal = Refused(
                        "missing or wrong CSRF token: send the X-CSRF-Token header (from"
                        " /api/v1/session) with changes made by a signed-in browser",
                        "x-csrf-token",
                    )
                    return Caller(Ctx(session, ANONYMOUS, at), None, "anonymous", refusal=refusal)
            # The right to view as is asked again on every request: a revoked or expired
            # staff role ends view-as at once (recorded), and the request is the real user's.
            acting_as = view_as_in_force(Ctx(session, user.uid, at), row)
            acting_in = int(row.acting_in) if acting_as is not None and row.acting_in else None
            ctx = Ctx(session, user.uid, at, acting_as, acting_in)
            return Caller(ctx, user, "session", web_session=row)
    if settings.trusted_header:
        remote = request.client.host if request.client else ""
        vouched = request.headers.get(settings.trusted_header)
        if vouched and remote in settings.trusted_proxies:
            if request.method not in SAFE_METHODS:
                raise Refused(
                    "missing CSRF token: open a page first (it gives the browser a session)",
                    "x-csrf-token",
                )
            ctx = Ctx(session, vouched.strip(), at)
            new = sso_session(ctx, vouched, user_agent=request.headers.get("user-agent", ""))
            return Caller(ctx, new.user, "sso", web_session=new.row, new_cookie=new.token)
    return Caller(Ctx(session, ANONYMOUS, at), None, "anonymous")
