"""Every error is JSON ``{"error": {"code", "message", "field"}}`` — never a stack trace.

Codes are stable (scripts branch on them): ``invalid`` (422), ``unauthenticated`` and
``sign_in_failed`` (401), ``forbidden`` (403), ``not_found`` (404), ``conflict`` (409),
``method_not_allowed`` (405), ``too_large`` (413), ``too_many_failed_sign_ins`` (429, signing in
only, with ``Retry-After``), ``internal`` (500). Bad decision requests
carry ``errors`` too: the ``{file, path, message}`` list of ``coursegate decide``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException

from coursegate.courses.problems import CourseError
from coursegate.services.common.errors import EveryProblem, Refused, ServiceError

log = logging.getLogger("coursegate.api")

_HTTP_CODES = {
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    422: "invalid",
}


class ErrorDetail(BaseModel):
    code: str = Field(examples=["forbidden"], description="stable: scripts may branch on it")
    message: str = Field(
        examples=[
            "You can't enroll students in CG 101, Spring 2024: that needs the “manage "
            "enrollment” privilege, which a course coordinator of the course or a domain "
            "coordinator can give you."
        ],
        description="one sentence for people",
    )
    field: str | None = Field(None, examples=["uid"], description="the offending field")
    errors: list[dict[str, Any]] | None = Field(
        None, description="every problem, when there are several (bad requests, CSV rows)"
    )
    details: str | None = Field(
        None,
        description="a refusal (403) only: the roles core's reasoning, with privilege codes "
        "and area paths",
    )


class ErrorOut(BaseModel):
    """Every error of the API."""

    error: ErrorDetail


ERROR_STATUSES = {
    "401": "Not signed in, or the sign-in failed",
    "403": "Signed in, but not allowed (the message says why)",
    "404": "No such object",
    "409": "Changed by someone else at the same time, or already exists",
    "422": "Invalid input (the field and every problem are named)",
}


def document_errors(doc: dict[str, Any]) -> dict[str, Any]:
    """Make the OpenAPI document say what errors really look like: every operation may answer
    with :class:`ErrorOut` (FastAPI's default 422 schema is replaced)."""
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    for name, model in (("ErrorOut", ErrorOut), ("ErrorDetail", ErrorDetail)):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schema.pop("$defs", None)
        schemas[name] = schema
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    for methods in doc.get("paths", {}).values():
        for op in methods.values():
            responses = op.setdefault("responses", {})
            for status, text in ERROR_STATUSES.items():
                responses[status] = {"description": text, "content": ref}
    return doc


def error_body(code: str, message: str, field: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field, **extra}}


def error_response(
    status: int, code: str, message: str, field: str | None = None, **extra: Any
) -> JSONResponse:
    return JSONResponse(error_body(code, message, field, **extra), status_code=status)


def _field(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "$"


def install(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def service_error(_: Request, exc: ServiceError) -> JSONResponse:
        if isinstance(exc, EveryProblem):
            every = [{"field": exc.field, "message": p.render()} for p in exc.problems]
            return error_response(exc.status, exc.code, exc.message, exc.field, errors=every)
        if isinstance(exc, Refused) and exc.details:
            return error_response(exc.status, exc.code, exc.message, exc.field, details=exc.details)
        return error_response(exc.status, exc.code, exc.message, exc.field)

    @app.exception_handler(CourseError)
    async def course_error(_: Request, exc: CourseError) -> JSONResponse:
        problems = [{"file": p.file, "path": p.path, "message": p.message} for p in exc.problems]
        first = problems[0] if problems else {"path": "$", "message": "invalid request"}
        return error_response(
            422, "invalid", str(first["message"]), str(first["path"]), errors=problems
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        field = _field(first.get("loc", ()))
        message = f"{field}: {first.get('msg', 'invalid')}"
        details = [{"field": _field(e.get("loc", ())), "message": e.get("msg")} for e in errors]
        return error_response(422, "invalid", message, field, errors=details)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        cookie = request.app.state.settings.session_cookie
        if getattr(request.state, "caller", None) is None and request.cookies.get(cookie):
            # No route ran (404, 405): still say so while viewing as someone (only a session
            # can be viewing as someone, so nothing is looked up without its cookie).
            from starlette.concurrency import run_in_threadpool

            await run_in_threadpool(_note_viewing_as, request)
        code = _HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else "request refused"
        if exc.status_code == 404 and message == "Not Found":
            message = "there is no such page or API route"
        return JSONResponse(
            error_body(code, message), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(StaleDataError)
    async def stale(_: Request, exc: StaleDataError) -> JSONResponse:
        return error_response(
            409, "conflict", "someone else changed this at the same time; reload and try again"
        )

    @app.exception_handler(IntegrityError)
    async def integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        return error_response(
            409, "conflict", "this conflicts with something saved at the same time; try again"
        )

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return error_response(
            500, "internal", "an internal error; it was logged and nothing was changed"
        )


def _note_viewing_as(request: Request) -> None:
    from coursegate.http.deps import caller

    try:
        for _ in caller(request):
            pass
    except Exception:  # an expired session or a bad header: nothing to note
        return
