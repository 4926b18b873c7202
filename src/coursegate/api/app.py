"""The application: settings, database, routers, error handlers and response headers."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine

from coursegate.api import errors
from coursegate.api.deps import VIEWING_AS_HEADER
from coursegate.api.settings import Settings
from coursegate.core.instants import MICROS, Instant
from coursegate.store.db import make_engine, session_factory

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DESCRIPTION = """\
coursegate decides, explains and enforces who may do what in a course, and when.

**Signing in.** Browsers sign in with `POST /api/v1/session` (user id and password) and get a
session cookie; changes made with the cookie need the `X-CSRF-Token` header that sign-in returns.
Scripts use a personal API token (`POST /api/v1/tokens`) as `Authorization: Bearer cg_...`.

**Errors** are `{"error": {"code", "message", "field"}}` with a stable code.

**Every route** says who may call it in `x-coursegate-policy`: public, any signed-in user (the
service then checks the object), or a privilege of the roles core in the course instance.

While an instructor or TA views as a student, every response carries
`X-Coursegate-Viewing-As: <uid>`.
"""


def wall_clock() -> Instant:
    """The one place the server reads the clock."""
    return int(time.time() * MICROS)


def shifted_clock(start: Instant) -> Callable[[], Instant]:
    """A clock that starts at ``start`` now and runs at the normal pace (the demo's)."""
    offset = start - wall_clock()
    return lambda: wall_clock() + offset


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    clock: Callable[[], Instant] | None = None,
) -> FastAPI:
    settings = settings or Settings.load()
    engine = engine or make_engine(settings.database_url)
    if clock is None:
        clock = wall_clock
        if settings.clock_start:
            from coursegate.api.schemas import parse_instant

            clock = shifted_clock(parse_instant(settings.clock_start, "clock_start"))
    app = FastAPI(
        lifespan=_lifespan,
        title="coursegate",
        version="1",
        description=DESCRIPTION,
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    app.state.clock = clock
    errors.install(app)
    from coursegate.api.routes import ROUTERS

    for routes in ROUTERS:
        app.include_router(routes.router)
    _mount_pages(app)
    _document(app)
    app.add_middleware(
        ResponseHeaders, cookie_name=settings.session_cookie, secure=settings.cookie_secure
    )
    return app


def _document(app: FastAPI) -> None:
    from fastapi.openapi.utils import get_openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = errors.document_errors(doc)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    from coursegate.api import jobs

    tasks = jobs.start(app)
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()


def _mount_pages(app: FastAPI) -> None:
    """The web pages (server-rendered, over the same services)."""
    from coursegate.web import mount

    mount(app)


class ResponseHeaders:
    """Adds, to every response: ``X-Coursegate-Viewing-As`` while impersonating, the session
    cookie a single-sign-on request opened, and the usual protective headers."""

    def __init__(self, app: ASGIApp, cookie_name: str, secure: bool) -> None:
        self.app = app
        self.cookie_name = cookie_name
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                state = scope.get("state") or {}
                viewing = state.get("viewing_as")
                if viewing:
                    headers.append((VIEWING_AS_HEADER.lower().encode(), str(viewing).encode()))
                caller = state.get("caller")
                new_cookie = getattr(caller, "new_cookie", None)
                if new_cookie:
                    headers.append(
                        (
                            b"set-cookie",
                            session_cookie(
                                self.cookie_name, new_cookie, secure=self.secure
                            ).encode(),
                        )
                    )
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"referrer-policy", b"same-origin"))
                headers.append((b"x-frame-options", b"DENY"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def session_cookie(name: str, value: str, *, secure: bool, max_age: int | None = None) -> str:
    """A ``Set-Cookie`` value: HttpOnly, SameSite=Lax, Secure unless turned off for a local demo."""
    parts = [f"{name}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
    if secure:
        parts.append("Secure")
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    return "; ".join(parts)
