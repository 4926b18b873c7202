"""API v1: assessment instances (attempts): start, submit points, close, list.

Whether a student may start or submit is the decision core's answer from stored state (their
sections, exceptions, reservations and the attempt itself), so these routes are open to any
signed-in user and the service refuses with the decision's explanation. The server's mode is
never taken from the request body: a student is in Exam mode on a testing-centre network, when
an instructor switched their own session to Exam mode, or while one of their testing-centre
reservations is in force; in Public mode otherwise (docs/exam-mode.md).
"""

from __future__ import annotations

from typing import Any

from fastapi import Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from coursegate.http.deps import CALLER, Caller
from coursegate.http.modes import mode_of_request
from coursegate.http.policy import Routes, signed_in
from coursegate.services.access import attempt_views
from coursegate.services.access import attempts as instances
from coursegate.services.common.places import course_zone, find_course_instance

routes = Routes(prefix="/api/v1", tags=["attempts"])

CI = "/courses/{course}/instances/{instance}"
ATTEMPT_ID = Path(ge=1, le=2**31 - 1, description="the attempt's id", examples=[1])


class DecisionOut(BaseModel):
    """The decision core's answer for this student and assessment at that instant."""

    rules: str | None = Field(examples=["modern"])
    access: bool
    listed: bool
    can_start: bool
    submittable: bool
    credit: float = Field(examples=[100])
    credit_text: str = Field(examples=["100% until 17:00, Fri, Feb 9"])
    time_limit_minutes: int | None = Field(examples=[30])
    password_required: bool
    read_only: bool
    complete: bool
    questions_visible: bool
    score_visible: bool
    next_change: str | None = Field(examples=["2024-02-09T17:00:00-06:00"])
    exam_access_end: str | None = Field(
        examples=[None], description="the end of the reservation the student is in"
    )
    explanation: list[str] = Field(
        examples=[["uses accessControl[0] (defaults)", "now: before the due date, 100% credit"]]
    )


class AttemptOut(BaseModel):
    """A student's attempt at an assessment."""

    id: int
    course_instance_id: int
    assessment: str = Field(examples=["quizzes/quiz1"])
    uid: str = Field(examples=["ana@example.edu"])
    name: str = Field(examples=["Ana Alvarez"])
    student: str = Field(examples=["Ana Alvarez (ana@example.edu)"])
    number: int = Field(examples=[1])
    open: bool
    started_at: str = Field(examples=["2024-02-06T10:00:00-06:00"])
    date_limit: str | None = Field(
        examples=["2024-02-06T10:30:00-06:00"],
        description="when the attempt stops accepting answers (null: no time limit)",
    )
    time_limit_minutes: int | None = Field(
        examples=[30], description="minutes given (already cut to the end of access)"
    )
    closed_at: str | None = Field(examples=[None])
    points: float = Field(examples=[8])
    max_points: float = Field(examples=[10])
    bonus_points: float = Field(examples=[0])
    score_percent: float = Field(examples=[80], description="never decreases")
    version: int
    created: bool = Field(description="start: true when this call created the attempt")
    credit: float | None = Field(
        None, examples=[100], description="submit: the credit the points were scored at"
    )
    mode: str | None = Field(None, examples=["Public"], description="Public or Exam")
    decision: DecisionOut | None = Field(
        None,
        description="start: the decision that allowed it (for an attempt already open, the "
        "decision now); submit: the one that accepted the points",
    )


class StartIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"assessment": "quizzes/quiz1"},
                {"assessment": "exams/inclass1", "password": "orchid"},
            ]
        },
    )
    assessment: str = Field(min_length=1, max_length=300, examples=["quizzes/quiz1"])
    password: str | None = Field(
        None, max_length=200, examples=["orchid"], description="when the rule in force has one"
    )
    uid: str | None = Field(
        None,
        max_length=200,
        description="whose attempt: only yourself (or the student you view as); default you",
    )


class SubmitIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"points": 8, "max_points": 10}]},
    )
    points: float = Field(ge=0, le=instances.MAX_POINTS, examples=[8])
    max_points: float | None = Field(
        None,
        ge=instances.MIN_MAX_POINTS,
        le=instances.MAX_POINTS,
        examples=[10],
        description="default: what the attempt holds (required the first time)",
    )
    bonus_points: float | None = Field(None, ge=0, le=instances.MAX_POINTS, examples=[0])


class CloseIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "left the room"}]}
    )
    reason: str = Field("", max_length=2000, examples=["left the room"])


def _out(view: attempt_views.InstanceView, tz: Any) -> AttemptOut:
    return AttemptOut.model_validate(view.to_json(tz))


@routes.post(
    CI + "/attempts",
    policy=signed_in("the student themselves; the decision core decides whether they may start"),
    response_model=AttemptOut,
    status_code=201,
    responses={
        200: {"description": "the student's attempt was already open: it is returned"},
        403: {"description": "the decision's explanation, a wrong password, someone else's"},
        409: {"description": "the student's attempt is closed (one attempt per assessment)"},
    },
)
def start(
    course: str,
    instance: str,
    body: StartIn,
    request: Request,
    response: Response,
    c: Caller = CALLER,
) -> AttemptOut:
    """Start your attempt at an assessment, with the password when the rule in force asks for
    one. Its ``date_limit`` is now plus the time limit (cut to the end of access); the
    ``decision`` says why it was allowed. Starting again returns the open attempt (200); two
    simultaneous starts make one attempt."""
    ci = find_course_instance(c.ctx, course, instance)
    view = instances.start(
        c.ctx,
        ci.id,
        body.assessment,
        uid=body.uid,
        password=body.password,
        mode=None,
        request_mode=mode_of_request(request, c),
    )
    response.status_code = 201 if view.created else 200
    return _out(view, course_zone(ci))


@routes.get(
    CI + "/attempts",
    policy=signed_in("a student's own attempts; everyone's with vst in the course instance"),
    response_model=list[AttemptOut],
)
def list_attempts(
    course: str,
    instance: str,
    assessment: str | None = Query(None, max_length=300, examples=["quizzes/quiz1"]),
    uid: str | None = Query(
        None, max_length=200, examples=["ana@example.edu"], description="one student's"
    ),
    open_only: bool = Query(False, description="only attempts still open"),
    c: Caller = CALLER,
) -> list[AttemptOut]:
    """Attempts in the course instance, of one assessment and/or one student (oldest first).
    Without ``uid`` (every student's) it needs ``vst``; a student lists their own with
    ``uid``."""
    ci = find_course_instance(c.ctx, course, instance)
    found = attempt_views.list_attempts(
        c.ctx, ci.id, assessment=assessment, uid=uid, open_only=open_only
    )
    tz = course_zone(ci)
    return [_out(v, tz) for v in found]


@routes.get(
    CI + "/attempts/{attempt_id}",
    policy=signed_in("the student's own attempt; anyone's with vst in the course instance"),
    response_model=AttemptOut,
)
def get_attempt(
    course: str, instance: str, attempt_id: int = ATTEMPT_ID, c: Caller = CALLER
) -> AttemptOut:
    ci = find_course_instance(c.ctx, course, instance)
    return _out(attempt_views.get_attempt(c.ctx, ci.id, attempt_id), course_zone(ci))


@routes.post(
    CI + "/attempts/{attempt_id}/submissions",
    policy=signed_in("the student themselves; the decision core decides whether it is open"),
    response_model=AttemptOut,
    responses={403: {"description": "someone else's attempt, or the decision says closed"}},
)
def submit(
    course: str,
    instance: str,
    body: SubmitIn,
    request: Request,
    attempt_id: int = ATTEMPT_ID,
    c: Caller = CALLER,
) -> AttemptOut:
    """Submit your attempt's points. The credit in force now turns them into a percentage;
    the score never decreases. Refused after the time limit, after the attempt is closed, and
    whenever the decision says the assessment no longer accepts answers."""
    ci = find_course_instance(c.ctx, course, instance)
    view = instances.submit(
        c.ctx,
        attempt_id,
        body.points,
        max_points=body.max_points,
        bonus_points=body.bonus_points,
        mode=None,
        course_instance_id=ci.id,
        request_mode=mode_of_request(request, c),
    )
    return _out(view, course_zone(ci))


@routes.post(
    CI + "/attempts/{attempt_id}/close",
    policy=signed_in("the student's own attempt, or mgr (modify grades) in the course instance"),
    response_model=AttemptOut,
)
def close(
    course: str,
    instance: str,
    body: CloseIn | None = None,
    attempt_id: int = ATTEMPT_ID,
    c: Caller = CALLER,
) -> AttemptOut:
    """Close an attempt: no more answers. The student closes their own; staff holding
    ``mgr`` close anyone's. Closing a closed attempt changes nothing. The body is optional."""
    ci = find_course_instance(c.ctx, course, instance)
    reason = "" if body is None else body.reason
    view = instances.close(c.ctx, attempt_id, reason=reason, course_instance_id=ci.id)
    return _out(view, course_zone(ci))
