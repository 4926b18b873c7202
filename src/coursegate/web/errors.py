"""Errors on pages: the API answers JSON, pages answer HTML.

The API's handlers stay as they are for ``/api/...``; for every other path the same errors
become pages: not signed in → 303 to the sign-in page (and back afterwards); refused → a 403
page saying in one sentence what was refused, why and who can grant it (the roles core's own
reasoning, with its codes, folded under "Details"); not found, invalid, conflict → a page with the
message and a way back. An htmx request gets the message alone, to show where it asked.
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException

from coursegate.courses.problems import CourseError
from coursegate.services.common.errors import Refused, ServiceError
from coursegate.web.pages import SIGN_IN, fragment, render

log = logging.getLogger("coursegate.web")

Handler = Callable[[Request, Any], Awaitable[Response]]

TITLES = {
    400: "That did not work",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed here",
    409: "Changed meanwhile",
    413: "Too large",
    422: "Please check what you entered",
    500: "Something went wrong",
}


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/api"


def error_page(
    request: Request, status: int, message: str, field: str | None = None, details: str = ""
) -> Response:
    """The error as a page (or, for htmx, the message alone): ``message`` is the sentence
    people read; ``details`` (the roles core's reasoning, with its codes) sits folded under
    it."""
    if status == 401:
        back = request.url.path
        if request.method == "GET" and request.url.query:
            back += "?" + request.url.query
        elif request.method != "GET":
            back = "/courses"
        target = f"{SIGN_IN}?next={urllib.parse.quote(back)}"
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    if request.headers.get("hx-request"):
        html = fragment("_error.html", status=status, message=message, field=field, details=details)
        return HTMLResponse(html, status_code=status)
    back = request.headers.get("referer", "")
    same_site = back.startswith(str(request.base_url))
    return render(
        request,
        "error.html",
        status=status,
        title=TITLES.get(status, "That did not work"),
        message=message,
        field=field,
        details=details,
        back=back if same_site else "",
    )


def install(app: FastAPI) -> None:
    """Wrap the API's handlers: JSON for ``/api/...``, pages for everything else."""

    def wrap(kind: type[Exception], page: Handler) -> None:
        api: Handler | None = app.exception_handlers.get(kind)  # type: ignore[assignment]

        async def handler(request: Request, exc: Any) -> Response:
            if is_api(request) and api is not None:
                return await api(request, exc)
            return await page(request, exc)

        app.add_exception_handler(kind, handler)

    async def service(request: Request, exc: ServiceError) -> Response:
        details = exc.details if isinstance(exc, Refused) else ""
        return error_page(request, exc.status, exc.message, exc.field, details)

    async def course(request: Request, exc: CourseError) -> Response:
        first = exc.problems[0].message if exc.problems else "invalid course data"
        return error_page(request, 422, first)

    async def validation(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path"))
        return error_page(request, 422, f"{where}: {first.get('msg', 'invalid')}", where)

    async def http(request: Request, exc: HTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "request refused"
        if exc.status_code == 404 and message == "Not Found":
            message = "there is no such page"
        if exc.status_code == 405:
            message = "this page does not accept that kind of request"
        return error_page(request, exc.status_code, message)

    async def stale(request: Request, exc: Exception) -> Response:
        return error_page(
            request, 409, "someone else changed this at the same time; reload and try again"
        )

    async def internal(request: Request, exc: Exception) -> Response:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return error_page(request, 500, "an internal error; it was logged and nothing was changed")

    wrap(ServiceError, service)
    wrap(CourseError, course)
    wrap(RequestValidationError, validation)
    wrap(HTTPException, http)
    wrap(StaleDataError, stale)
    wrap(IntegrityError, stale)
    wrap(Exception, internal)
