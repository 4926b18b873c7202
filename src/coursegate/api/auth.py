"""API v1: signing in and out, one's sessions, personal API tokens, passwords, and view-as."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from coursegate.http.client import client_address, session_cookie
from coursegate.http.deps import CALLER, Caller
from coursegate.http.errors import ErrorOut, error_response
from coursegate.http.modes import mode_of_request
from coursegate.http.policy import Routes, needs, public, signed_in
from coursegate.http.schemas import RowId, iso, iso_or_none, parse_instant
from coursegate.services.common.errors import Invalid
from coursegate.services.common.places import find_course_instance
from coursegate.services.people import session_mode, signin
from coursegate.services.people.throttle import Throttled

routes = Routes(prefix="/api/v1", tags=["signing in"])


class SignInBody(BaseModel):
    uid: str = Field(min_length=1, max_length=200, examples=["instructor@example.edu"])
    password: str = Field(min_length=1, max_length=1000, examples=["a long passphrase"])


class SessionOut(BaseModel):
    uid: str
    name: str
    via: str = Field(description="session | token | sso")
    viewing_as: str | None = Field(None, description="whom the user views the course as")
    csrf_token: str | None = Field(
        None, description="send as X-CSRF-Token with every change made with the cookie"
    )
    expires_at: str | None = None


def _session_out(c: Caller) -> SessionOut:
    assert c.user is not None
    row = c.web_session
    return SessionOut(
        uid=c.user.uid,
        name=c.user.name,
        via=c.via,
        viewing_as=c.ctx.acting_as,
        csrf_token=row.csrf_token if row is not None else None,
        expires_at=iso(row.expires_at) if row is not None else None,
    )


@routes.get("/health", policy=public("a load balancer checks the server is up"))
def health() -> dict[str, str]:
    return {"status": "ok"}


THROTTLED = {
    "description": "too many failed sign-ins from this address (for this account): wait the"
    " seconds in Retry-After; the same answer whether the account exists or not",
    "model": ErrorOut,
    "headers": {
        "Retry-After": {
            "description": "seconds to wait before the next attempt is checked",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}


def throttled_response(e: Throttled) -> JSONResponse:
    response = error_response(e.status, e.code, e.message, e.field)
    response.headers["Retry-After"] = str(e.retry_after)
    return response


@routes.post(
    "/session",
    policy=public("signing in is how one stops being anonymous"),
    response_model=SessionOut,
    responses={
        401: {
            "description": "wrong user id or password (never says which); to the right"
            " password only: the account is frozen or locked"
        },
        429: THROTTLED,
    },
)
def sign_in(body: SignInBody, request: Request, c: Caller = CALLER) -> Any:
    """Sign in with a user id (never an email) and password. Sets the session cookie
    (HttpOnly, SameSite=Lax, Secure) and returns the CSRF token for later changes.

    Failed sign-ins are throttled per client address and account as typed: after three in a
    row the pair waits 1 s, 2 s, 4 s … (at most 15 minutes), answered with 429 and
    ``Retry-After``; an address also waits after 50 failures over all accounts within 15
    minutes. Failures never freeze the account. Only the right password learns that an
    account is frozen (by an administrator) or locked."""
    outcome = signin.sign_in(
        c.ctx,
        body.uid,
        body.password,
        address=client_address(request),
        user_agent=request.headers.get("user-agent", ""),
    )
    if outcome.error is not None:
        e = outcome.error
        if isinstance(e, Throttled):
            return throttled_response(e)
        return error_response(e.status, e.code, e.message, e.field)  # commits the count
    new = outcome.session
    assert new is not None
    settings = request.app.state.settings
    out = SessionOut(
        uid=new.user.uid,
        name=new.user.name,
        via="session",
        viewing_as=None,
        csrf_token=new.csrf_token,
        expires_at=iso(new.row.expires_at),
    )
    response = JSONResponse(out.model_dump())
    response.headers.append(
        "set-cookie",
        session_cookie(settings.session_cookie, new.token, secure=settings.cookie_secure),
    )
    return response


@routes.get("/session", policy=signed_in("one's own identity"), response_model=SessionOut)
def who_am_i(c: Caller = CALLER) -> SessionOut:
    """Who the request is from, how they signed in, and whom they view as."""
    return _session_out(c)


class ModeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"mode": "Exam"}]})
    mode: str = Field(examples=["Exam"], description="Exam (preview) or Public (back)")


class ModeOut(BaseModel):
    mode: str = Field(examples=["Exam"], description="the mode one's requests are in now")
    switched: bool = Field(description="whether this session (or token) is switched to Exam")
    why: str | None = Field(
        None,
        examples=["Exam mode: you switched your session to Exam mode"],
        description="why the mode is Exam (null in Public mode)",
    )


@routes.post(
    "/session/mode",
    policy=signed_in("one's own session; Exam only for instructors (in or cc) somewhere"),
    response_model=ModeOut,
    responses={403: {"description": "not an instructor anywhere, or viewing as someone"}},
)
def switch_mode(body: ModeIn, request: Request, c: Caller = CALLER) -> ModeOut:
    """Switch this session (or this API token) to Exam mode to preview what students see in
    the testing centre, or back to Public. Only instructors (``in`` or ``cc`` in force
    somewhere) may switch to Exam; recorded in the history (docs/exam-mode.md)."""
    row = c.web_session if c.web_session is not None else c.token
    if row is None:
        raise Invalid("mode: sign in with a session or an API token to switch its mode", "mode")
    stored = session_mode.set_session_mode(c.ctx, row, body.mode)
    now = mode_of_request(request, c)
    return ModeOut(mode=now.mode.value, switched=stored == "Exam", why=now.why)


@routes.delete(
    "/session", policy=signed_in("signing oneself out", in_view_as=True), status_code=204
)
def sign_out(request: Request, c: Caller = CALLER) -> Response:
    if c.web_session is not None:
        signin.sign_out(c.ctx, c.web_session)
    settings = request.app.state.settings
    response = Response(status_code=204)
    response.headers.append(
        "set-cookie",
        session_cookie(settings.session_cookie, "", secure=settings.cookie_secure, max_age=0),
    )
    return response


class SessionItem(BaseModel):
    id: int
    via: str
    created_at: str
    last_seen_at: str
    user_agent: str
    current: bool


@routes.get("/sessions", policy=signed_in("one's own sessions"), response_model=list[SessionItem])
def my_sessions(c: Caller = CALLER) -> list[SessionItem]:
    """One's signed-in browsers (to sign one out after losing a laptop)."""
    current = c.web_session.id if c.web_session is not None else None
    return [
        SessionItem(
            id=s.id,
            via=s.via,
            created_at=iso(s.created_at),
            last_seen_at=iso(s.last_seen_at),
            user_agent=s.user_agent,
            current=s.id == current,
        )
        for s in signin.sessions_of(c.ctx)
    ]


@routes.delete("/sessions/{session_id}", policy=signed_in("one's own sessions"), status_code=204)
def end_session(session_id: RowId, c: Caller = CALLER) -> Response:
    signin.revoke_session(c.ctx, session_id)
    return Response(status_code=204)


# -- API tokens -------------------------------------------------------------------------------


class TokenBody(BaseModel):
    name: str = Field(min_length=1, max_length=200, examples=["grade export script"])
    scopes: list[str] = Field(
        default_factory=lambda: ["read"],
        description="read (GET only) and/or write",
        examples=[["read"]],
    )
    expires_at: str | None = Field(None, examples=["2027-01-31T00:00:00+00:00"])


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: str
    expires_at: str | None
    last_used_at: str | None
    revoked_at: str | None
    token: str | None = Field(None, description="the secret: shown once, at creation")


def _token_out(row: Any, token: str | None = None) -> TokenOut:
    return TokenOut(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        scopes=list(row.scopes),
        created_at=iso(row.created_at),
        expires_at=iso_or_none(row.expires_at),
        last_used_at=iso_or_none(row.last_used_at),
        revoked_at=iso_or_none(row.revoked_at),
        token=token,
    )


@routes.post(
    "/tokens",
    policy=signed_in("a personal token acts with its owner's own privileges"),
    response_model=TokenOut,
    status_code=201,
)
def create_token(body: TokenBody, c: Caller = CALLER) -> TokenOut:
    """Create a personal API token for scripts; the secret is in the answer, once."""
    if c.via == "token":
        raise Invalid("create tokens from a signed-in browser session, not with a token", "$")
    expires = None if body.expires_at is None else parse_instant(body.expires_at, "expires_at")
    new = signin.create_token(c.ctx, body.name, body.scopes, expires_at=expires)
    return _token_out(new.row, new.token)


@routes.get("/tokens", policy=signed_in("one's own tokens"), response_model=list[TokenOut])
def list_tokens(c: Caller = CALLER) -> list[TokenOut]:
    return [_token_out(t) for t in signin.tokens_of(c.ctx)]


@routes.delete("/tokens/{token_id}", policy=signed_in("one's own tokens"), status_code=204)
def revoke_token(token_id: RowId, c: Caller = CALLER) -> Response:
    signin.revoke_token(c.ctx, token_id)
    return Response(status_code=204)


class PasswordBody(BaseModel):
    password: str = Field(min_length=1, max_length=1000)
    reason: str = Field("", max_length=1000)
    current_password: str | None = Field(
        None,
        max_length=1000,
        description="required to change one's own password; not used by an administrator",
    )


@routes.put(
    "/users/{uid}/password",
    policy=signed_in(
        "oneself with the current password, or a domain coordinator of the user's domain or a"
        " superuser over people below them (mau); never course staff, never in view-as"
    ),
    status_code=204,
)
def set_password(uid: str, body: PasswordBody, c: Caller = CALLER) -> Response:
    """Set a password (at least 10 characters). Changing one's own needs the current password
    and ends one's other sessions and every API token; an administrator's reset ends all of
    the user's sessions and tokens."""
    keep = c.web_session.id if c.web_session is not None and c.ctx.actor == uid else None
    signin.set_password(
        c.ctx,
        uid,
        body.password,
        reason=body.reason,
        current_password=body.current_password,
        keep_session=keep,
    )
    return Response(status_code=204)


# -- view as ----------------------------------------------------------------------------------


class ViewAsBody(BaseModel):
    uid: str = Field(min_length=1, examples=["student1@example.edu"])


@routes.post(
    "/courses/{course}/instances/{instance}/view-as",
    policy=needs("ain", why="view the course as one of its students or TAs"),
    response_model=SessionOut,
)
def start_view_as(
    course: str, instance: str, body: ViewAsBody, request: Request, c: Caller = CALLER
) -> SessionOut:
    """See the course exactly as one of its students (or, for instructors, TAs) sees it. Every
    response says so (``X-Coursegate-Viewing-As``) until ``DELETE /api/v1/view-as``."""
    if c.web_session is None:
        raise Invalid("view-as needs a signed-in browser session, not an API token", "$")
    ci = find_course_instance(c.ctx, course, instance)
    target = signin.start_view_as(c.ctx, c.web_session, body.uid, ci.id).uid
    c.ctx = type(c.ctx)(c.ctx.session, c.ctx.actor, c.ctx.at, target, ci.id)
    request.state.viewing_as = target
    return _session_out(c)


@routes.delete(
    "/view-as",
    policy=signed_in("stopping one's own view-as", in_view_as=True),
    response_model=SessionOut,
)
def stop_view_as(request: Request, c: Caller = CALLER) -> SessionOut:
    if c.web_session is not None:
        signin.stop_view_as(c.ctx, c.web_session)
    request.state.viewing_as = None
    c.ctx = type(c.ctx)(c.ctx.session, c.ctx.actor, c.ctx.at, None)
    return _session_out(c)
