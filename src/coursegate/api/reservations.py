"""API v1: testing-centre exam reservations.

A testing centre calls ``PUT /api/v1/reservations/{external_id}`` with an API token (write
scope) of an account holding ``mrs`` (exam proctor, ``ep``) in the course instance. The path
names an exam, not a course: the service finds the course instances whose live assessments link
the exam's uuid and requires ``mrs`` in one of them, so the route itself is open to any signed-in
caller and the refusal comes from the service, with the roles core's reason.
"""

from __future__ import annotations

from typing import Any

from fastapi import Query, Response
from pydantic import BaseModel, ConfigDict, Field

from coursegate.core.instants import zone
from coursegate.http.deps import CALLER, Caller
from coursegate.http.policy import Routes, signed_in
from coursegate.services.access import reservations
from coursegate.services.common.places import course_zone, find_course_instance

routes = Routes(prefix="/api/v1", tags=["exam reservations"])

OUTCOME_HEADER = "X-Coursegate-Outcome"
BY_EXAM = (
    "mrs (record and cancel exam reservations) in a course instance that links the exam; the"
    " service finds those course instances from the exam uuid"
)

EXAMPLE_OUT: dict[str, Any] = {
    "id": 1,
    "external_id": "pt-48213",
    "uid": "ana@example.edu",
    "name": "Ana Alvarez",
    "student": "Ana Alvarez (ana@example.edu)",
    "exam_uuid": "d7fcbf5c-a803-4d7e-94bf-68e68fa3dc85",
    "access_start": "2024-02-27T10:00:00-06:00",
    "access_end": "2024-02-27T12:00:00-06:00",
    "cancelled_at": None,
    "active": True,
    "course_instances": ["CG 101 Sp24"],
    "timezone": "America/Chicago",
}


class ReservationIn(BaseModel):
    """What the testing centre sends. Sending the same again changes nothing."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "uid": "ana@example.edu",
                    "exam_uuid": "d7fcbf5c-a803-4d7e-94bf-68e68fa3dc85",
                    "access_start": "2024-02-27T10:00:00-06:00",
                    "access_end": "2024-02-27T12:00:00-06:00",
                }
            ]
        },
    )
    uid: str = Field(min_length=1, max_length=200, examples=["ana@example.edu"])
    exam_uuid: str = Field(
        min_length=1, max_length=100, examples=["d7fcbf5c-a803-4d7e-94bf-68e68fa3dc85"]
    )
    access_start: str = Field(
        min_length=1,
        max_length=100,
        examples=["2024-02-27T10:00:00-06:00"],
        description="ISO 8601; without an offset, wall time in the zone of the course that "
        "links the exam",
    )
    access_end: str = Field(
        min_length=1,
        max_length=100,
        examples=["2024-02-27T12:00:00-06:00"],
        description="exclusive",
    )


class ReservationOut(BaseModel):
    """A reservation as stored (identical for identical requests)."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_OUT]})
    id: int
    external_id: str
    uid: str
    name: str
    student: str = Field(description="name and uid together")
    exam_uuid: str
    access_start: str
    access_end: str
    cancelled_at: str | None
    active: bool = Field(description="false once cancelled")
    course_instances: list[str] = Field(description="the course instances that link the exam")
    timezone: str = Field(description="the zone the times are written in")


def _out(view: reservations.ReservationView, tz_name: str | None = None) -> ReservationOut:
    data = view.to_json(zone(tz_name or view.timezone))
    data.pop("outcome")
    return ReservationOut(**data, active=view.active, timezone=tz_name or view.timezone)


OUTCOME_DOC = {
    "description": "what this call did: created, updated, restored, cancelled or unchanged",
    "schema": {"type": "string"},
}


@routes.put(
    "/reservations/{external_id:path}",
    policy=signed_in(BY_EXAM),
    response_model=ReservationOut,
    responses={
        200: {"headers": {OUTCOME_HEADER: OUTCOME_DOC}},
        404: {"description": "no course instance links the exam"},
        409: {"description": "this external id belongs to another student's reservation"},
    },
)
def record(
    external_id: str, body: ReservationIn, response: Response, c: Caller = CALLER
) -> ReservationOut:
    """Record the testing centre's reservation ``external_id``: the student may take the
    exam, in Exam mode, from ``access_start`` until ``access_end``. Idempotent: the same request
    again changes nothing and answers the same (200, the same body); a changed one updates the
    reservation (never a second one); one that was cancelled is restored. What happened is in
    the ``X-Coursegate-Outcome`` header."""
    view = reservations.record_reservation(
        c.ctx, external_id, body.uid, body.exam_uuid, body.access_start, body.access_end
    )
    response.headers[OUTCOME_HEADER] = view.outcome
    return _out(view)


@routes.delete(
    "/reservations/{external_id:path}",
    policy=signed_in(BY_EXAM),
    response_model=ReservationOut,
    responses={200: {"headers": {OUTCOME_HEADER: OUTCOME_DOC}}},
)
def cancel(
    external_id: str,
    response: Response,
    reason: str = Query("", max_length=2000, examples=["moved to a later slot"]),
    c: Caller = CALLER,
) -> ReservationOut:
    """Cancel a reservation. The record stays (``cancelled_at``, ``active: false``);
    cancelling again changes nothing."""
    view = reservations.cancel_reservation(c.ctx, external_id, reason=reason)
    response.headers[OUTCOME_HEADER] = view.outcome
    return _out(view)


@routes.get(
    "/reservations/{external_id:path}",
    policy=signed_in("the student, or mrs or vst in a course instance that links the exam"),
    response_model=ReservationOut,
)
def get(external_id: str, c: Caller = CALLER) -> ReservationOut:
    """Read one reservation back by the testing centre's id."""
    return _out(reservations.get_reservation(c.ctx, external_id))


@routes.get(
    "/courses/{course}/instances/{instance}/reservations",
    policy=signed_in("a student's own; everyone's with vst in the course instance"),
    response_model=list[ReservationOut],
)
def list_for_course(
    course: str,
    instance: str,
    uid: str | None = Query(
        None, max_length=200, examples=["ana@example.edu"], description="one student's"
    ),
    include_cancelled: bool = Query(True, description="false: active reservations only"),
    c: Caller = CALLER,
) -> list[ReservationOut]:
    """The reservations for the exams this course instance links (earliest first), times in
    the course's zone. Without ``uid``: every student's (``vst``); a student lists their own
    with ``uid``."""
    ci = find_course_instance(c.ctx, course, instance)
    found = reservations.list_reservations(
        c.ctx, ci.id, uid=uid, include_cancelled=include_cancelled
    )
    tz_name = course_zone(ci).key
    return [_out(v, tz_name) for v in found]
