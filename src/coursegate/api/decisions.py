"""API v1: decisions — one, a batch of up to 10,000, and the matrix of a course instance.

The request is the public decision request of ``coursegate decide`` (docs/decisions.md) with
``course`` naming a course in the database; the answer is exactly the JSON that command
prints. Everything the store knows about the user (their role, sections, enrollment,
exceptions, reservations, attempt) is filled in by the server: a request that supplies it is
refused. Handlers read the raw body (``orjson``): a batch of 10,000 is not validated field by
field through pydantic, and answers come back already serialised by the service.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel, Field

from coursegate.http.deps import CALLER, Caller
from coursegate.http.errors import ErrorOut
from coursegate.http.modes import mode_of_request
from coursegate.http.policy import Routes, needs, signed_in
from coursegate.services.access.decisions import answers, batch
from coursegate.services.access.decisions import matrix as course_matrix
from coursegate.services.common.errors import Invalid

routes = Routes(prefix="/api/v1", tags=["decisions"])

MAX_BODY = 16 * 1024 * 1024
"""The largest request body read (a full batch of 10,000 requests is about 2 MB)."""
JSON = "application/json"


async def json_body(request: Request) -> Any:
    """The request body as parsed JSON, read up to :data:`MAX_BODY` bytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise answers.TooLarge(
                f"the body is larger than {MAX_BODY // (1024 * 1024)} MB; send fewer requests"
                f" per batch (at most {answers.MAX_BATCH:,})",
                "$",
            )
        chunks.append(chunk)
    try:
        return orjson.loads(b"".join(chunks))
    except orjson.JSONDecodeError as exc:
        raise Invalid(f"the body is not valid JSON: {exc}", "$") from None


BODY: Any = Depends(json_body)


# -- the documented shapes (the handlers answer with bytes the service serialised) -----------


class DecisionUser(BaseModel):
    uid: str = Field(
        description="whose decision (default: the signed-in user); staff with vst may ask"
        " about anyone in their course instance",
        examples=["ana@example.edu"],
    )


DECISION_REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The decision request of `coursegate decide` (docs/decisions.md); the server"
    " fills in the user's role, sections, enrollment, exceptions, reservations and attempt, so"
    " course_instance_config, assessment_config, student_overrides, reservations, enrollment,"
    " instance and user.role/sections/institution are refused.",
    "required": ["course"],
    "properties": {
        "at": {
            "type": ["string", "null"],
            "description": "ISO 8601; without an offset, wall time in `timezone`. Default: now",
            "examples": ["2024-01-24T20:00:00"],
        },
        "course": {
            "type": "string",
            "description": "the course's short name",
            "examples": ["CG 101"],
        },
        "course_instance": {
            "type": ["string", "null"],
            "description": "may be left out when the course has only one",
            "examples": ["Sp24"],
        },
        "assessment": {
            "type": ["string", "null"],
            "description": "an assessment id; without one only the course instance is decided",
            "examples": ["hw/hw1"],
        },
        "user": {
            "type": ["object", "null"],
            "properties": {"uid": {"type": "string", "examples": ["ana@example.edu"]}},
        },
        "mode": {"type": "string", "enum": ["Public", "Exam"], "default": "Public"},
        "timezone": {
            "type": ["string", "null"],
            "description": "how `at` is read and the answer written (default: the course"
            " instance's zone)",
            "examples": ["America/Chicago"],
        },
    },
}


class CourseInstanceDecisionOut(BaseModel):
    access: bool
    explanation: list[str]
    next_change: str | None


class AssessmentDecisionOut(BaseModel):
    rules: str | None = Field(description="legacy | modern | rfc")
    access: bool
    listed: bool
    can_start: bool
    submittable: bool
    credit: float
    credit_text: str = Field(examples=["120% until 23:59, Thu, Jan 25"])
    time_limit_minutes: int | None
    password_required: bool
    read_only: bool
    complete: bool
    questions_visible: bool
    score_visible: bool
    next_change: str | None
    exam_access_end: str | None
    explanation: list[str]


class DecisionOut(BaseModel):
    """Exactly what ``coursegate decide`` prints (docs/decisions.md)."""

    at: str = Field(examples=["2024-01-24T20:00:00-06:00"])
    course_instance: CourseInstanceDecisionOut
    assessment: AssessmentDecisionOut | None = Field(
        None, description="absent when the request names no assessment"
    )


class BatchOut(BaseModel):
    results: list[DecisionOut | ErrorOut] = Field(
        description="one per request, in order: a decision, or the error for that request"
    )


# -- one decision, and a batch ----------------------------------------------------------------


@routes.post(
    "/decisions",
    policy=signed_in(
        "one's own decisions; staff with vst anyone's in their course instance", reads=True
    ),
    response_model=DecisionOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {JSON: {"schema": DECISION_REQUEST_SCHEMA}},
        }
    },
)
def decide(request: Request, raw: Any = BODY, c: Caller = CALLER) -> Response:
    """What the user may do with an assessment now (or at ``at``), with the explanation and
    the next instant it changes — decided from the course as synced and the user's stored
    state. A student may ask about themself; staff holding ``vst`` in the course instance
    about anyone in it. A request about oneself without ``mode`` is decided in the request's
    own mode (Exam on a testing-centre network or after an instructor's switch:
    docs/exam-mode.md)."""
    return Response(answers.answer_one(c.ctx, raw, mode_of_request(request, c)), media_type=JSON)


@routes.post(
    "/decisions/batch",
    policy=signed_in(
        "each request is checked like POST /api/v1/decisions; refusals are items", reads=True
    ),
    response_model=BatchOut,
    responses={413: {"model": ErrorOut, "description": "more than 10,000 requests"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                JSON: {
                    "schema": {
                        "type": "object",
                        "required": ["requests"],
                        "properties": {
                            "requests": {
                                "type": "array",
                                "maxItems": answers.MAX_BATCH,
                                "items": DECISION_REQUEST_SCHEMA,
                            }
                        },
                    }
                }
            },
        }
    },
)
def decide_batch(request: Request, raw: Any = BODY, c: Caller = CALLER) -> Response:
    """Up to 10,000 decision requests at once; ``results`` answers them in order. A request
    that cannot be answered (unknown assessment, not allowed, bad field) gets
    ``{"error": {code, message, field}}`` in its place; the others are answered."""
    answer = batch.answer_batch_grouped(c.ctx, raw, mode_of_request(request, c))
    return Response(answer, media_type=JSON)


# -- the matrix -------------------------------------------------------------------------------


class MatrixCellOut(BaseModel):
    access: bool
    can_start: bool
    submittable: bool
    credit: float
    credit_text: str
    next_change: str | None
    exception: bool = Field(description="the student has their own exception for it")


class MatrixAssessmentOut(BaseModel):
    assessment: str = Field(examples=["hw/hw1"])
    title: str
    set: str
    number: str


class MatrixStudentOut(BaseModel):
    uid: str
    name: str
    sections: list[str]
    course_instance_access: bool
    publishing_extension: bool


class MatrixOut(BaseModel):
    at: str
    course: str
    course_instance: str
    timezone: str
    assessments: list[MatrixAssessmentOut]
    students: list[MatrixStudentOut]
    cells: list[list[MatrixCellOut]] = Field(
        description="cells[r][c]: student r (of students), assessment c (of assessments)"
    )


def _names(values: list[str] | None) -> list[str] | None:
    """``?sections=a&sections=b`` or ``?sections=a,b``."""
    names = [v.strip() for value in values or () for v in value.split(",") if v.strip()]
    return names or None


@routes.get(
    "/courses/{course}/instances/{instance}/matrix",
    policy=needs("vst", why="view every student's access"),
    response_model=MatrixOut,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def matrix(
    course: str,
    instance: str,
    at: Annotated[
        str | None,
        Query(description="ISO 8601 (naive: the course's zone); default now"),
    ] = None,
    sections: Annotated[
        list[str] | None, Query(description="only students in one of these sections")
    ] = None,
    assessments: Annotated[
        list[str] | None, Query(description="only these assessments, in this order")
    ] = None,
    can_start_now: Annotated[
        bool, Query(description="only students who can start one of them at `at`")
    ] = False,
    format: Annotated[str, Query(pattern="^(json|csv)$", description="json or csv")] = "json",
    c: Caller = CALLER,
) -> Response:
    """Every student × every assessment at ``at``: access, whether they can start, credit
    now, the next change, and whether they have an exception. ``?format=csv`` gives one line
    per student and one column per assessment, for a spreadsheet."""
    m = course_matrix.matrix_at(
        c.ctx,
        course,
        instance,
        at,
        sections=_names(sections),
        assessments=_names(assessments),
        can_start_now=can_start_now,
    )
    if format == "csv":
        name = f"{course}-{instance}-matrix.csv".replace(" ", "_").replace("/", "_")
        return Response(
            m.to_csv(),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )
    return Response(orjson.dumps(m.to_json()), media_type=JSON)
