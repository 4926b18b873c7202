"""The application: settings, database, routers, error handlers and response headers."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from html import escape as html_escape
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import Engine
from starlette.exceptions import HTTPException

from coursegate.core.instants import MICROS, Instant
from coursegate.http import errors
from coursegate.http.client import session_cookie
from coursegate.http.deps import VIEWING_AS_HEADER
from coursegate.http.headers import API_CSP, API_CSP_HEADER, PAGE_CSP, PROTECTIVE
from coursegate.http.kept_decisions import KeptDecisions
from coursegate.http.schemas import MAX_BODY_BYTES, checked_input
from coursegate.http.settings import Settings
from coursegate.services.lti.platform_keys import PlatformKeys
from coursegate.services.lti.tokens import PlatformTokens
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
            from coursegate.http.schemas import parse_instant

            clock = shifted_clock(parse_instant(settings.clock_start, "clock_start"))
    app = FastAPI(
        lifespan=_lifespan,
        title="coursegate",
        version="1",
        description=DESCRIPTION,
        openapi_url="/api/openapi.json",
        docs_url=None,  # _docs_page: the same page, with a CSP of its own
        redoc_url=None,
        dependencies=[Depends(checked_input)],
        # coursegate exports no OpenTelemetry data: FastAPI's check for it costs every request
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    app.state.clock = clock
    # What the process keeps of the LMSs it talks to: their key sets and access tokens.
    app.state.lti_platform_keys = PlatformKeys()
    app.state.lti_platform_tokens = PlatformTokens()
    # How roster syncs that a page follows run in the background (tests: at once).
    from coursegate.server.jobs import in_thread

    app.state.lti_roster_runner = in_thread
    errors.install(app)
    from coursegate.api import ROUTERS

    for routes in ROUTERS:
        app.include_router(routes.router)
    _mount_pages(app)
    if settings.demo_lms:
        from coursegate.server.demo_lms import mount

        mount(app, settings)
    _document(app)
    _docs_page(app)
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    app.add_middleware(  # every other answer gets the headers, a 413 too
        ResponseHeaders, cookie_name=settings.session_cookie, secure=settings.cookie_secure
    )
    # The outermost: the hottest request, answered before the framework when it can be, with
    # the headers ResponseHeaders gives a JSON answer (no view-as, no cookie: a token's own).
    app.add_middleware(KeptDecisions, state=app.state, headers=[*PROTECTIVE, API_CSP_HEADER])
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


DOCS_URL = "/api/docs"


def _docs_page(app: FastAPI) -> None:
    """The API's documentation (Swagger UI) from the package's own files (``/static/swagger``,
    see its README): it loads with no internet connection, and with no inline script — an
    external ``docs-init.js`` starts it — under :data:`DOCS_CSP`."""

    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        html = docs_html(f"{root}{app.openapi_url}", f"{root}{SWAGGER_STATIC}", app.title)
        return HTMLResponse(html, headers={"content-security-policy": DOCS_CSP})

    app.add_route(DOCS_URL, docs, include_in_schema=False)


SWAGGER_STATIC = "/static/swagger"
"""Where the Swagger UI files are served (``coursegate/web/static/swagger``)."""


def docs_html(openapi_url: str, static: str, title: str) -> str:
    """The documentation page: Swagger UI's style and scripts from ``static``, the OpenAPI
    document's address in a data attribute for ``docs-init.js``."""
    esc = html_escape
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)} - API documentation</title>"
        f'<link rel="stylesheet" href="{esc(static)}/swagger-ui.css">'
        f'<link rel="icon" type="image/png" href="{esc(static)}/favicon-32x32.png">'
        "</head><body>"
        f'<div id="swagger-ui" data-openapi-url="{esc(openapi_url)}"></div>'
        f'<script src="{esc(static)}/swagger-ui-bundle.js"></script>'
        f'<script src="{esc(static)}/docs-init.js"></script>'
        "</body></html>\n"
    )


DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
"""The documentation page's policy: this server's scripts only (no inline script), and the
inline styles Swagger UI sets (on this page only: it shows no user input)."""


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    from coursegate.server import jobs

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
    cookie a single-sign-on request opened, and the usual protective headers — among them a
    Content-Security-Policy (:data:`PAGE_CSP` for HTML, :data:`API_CSP` for the rest) unless
    the response brings its own."""

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
                framers = state.get("frame_ancestors")
                sent = {name.lower(): value for name, value in headers}
                html = sent.get(b"content-type", b"").startswith(b"text/html")
                skip = {b"x-frame-options"} if framers and html else set()  # LTI: LMS frames
                headers.extend(h for h in PROTECTIVE if h[0] not in sent and h[0] not in skip)
                if b"content-security-policy" not in sent:
                    csp = PAGE_CSP if html else API_CSP
                    if framers and html:
                        csp = csp.replace(
                            "frame-ancestors 'none'", "frame-ancestors " + " ".join(framers)
                        )
                    headers.append((b"content-security-policy", csp.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Request bodies of at most ``limit`` bytes: a larger declared ``Content-Length`` is 413
    ``too_large`` before a byte is read; a body that only turns out too large as it streams in
    stops the request where it is read (through the usual error handlers)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.message = f"the request body is larger than {limit // 2**20} MiB"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", ())).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await errors.error_response(413, "too_large", self.message)(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise HTTPException(413, self.message)
            return message

        await self.app(scope, counted, send)
