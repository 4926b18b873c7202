"""API v1: a student's view — their assessments with their own dates, and one's courses.

``GET .../students/{uid}/assessments`` is the student's assessment list as
:func:`coursegate.services.access.decisions.student.student_course` reads it off their own
timelines (their sections and exceptions included); times are in the course instance's zone. ``GET
/me/courses`` is where a page or an app starts: the signed-in user's course instances, as a student
and as staff.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import orjson
from fastapi import Query, Request, Response
from pydantic import BaseModel, Field

from coursegate.http.deps import CALLER, Caller
from coursegate.http.modes import mode_of_request
from coursegate.http.policy import Routes, signed_in
from coursegate.http.schemas import iso_or_none
from coursegate.services.access.decisions import student as student_decisions
from coursegate.services.courses import user_courses

routes = Routes(prefix="/api/v1", tags=["students"])

JSON = "application/json"
VIEWERS = frozenset({"cc", "in", "ta", "ep"})
"""Roles of the standard table that view every student (vst): their courses link the matrix."""


# -- a student's assessments ------------------------------------------------------------------


class DatedCredit(BaseModel):
    date: str | None
    credit: float


class Window(BaseModel):
    start: str | None = Field(description="null: open since ever")
    end: str | None = Field(description="null: never closes")


class RevealOut(BaseModel):
    date: str | None
    what: str = Field(examples=["score"])
    visible: bool


class OwnExceptionOut(BaseModel):
    scope: str = Field(description="assessment | set | course_instance")
    target: str
    body: dict[str, Any] = Field(
        description="the overridden fields (a password shows as 'a password of your own')",
        examples=[{"due": "2024-02-10T23:59:00-06:00"}],
    )
    reason: str


class StudentAssessmentOut(BaseModel):
    assessment: str = Field(examples=["hw/hw2"])
    title: str
    set: str
    number: str
    status: str = Field(description="upcoming | open | late | practice only | closed")
    access: bool
    can_start: bool
    credit: float = Field(description="the credit earned now")
    credit_text: str
    release: str | None
    due: str | None
    due_credit: float | None
    early_deadlines: list[DatedCredit]
    late_deadlines: list[DatedCredit]
    windows: list[Window]
    reveals: list[RevealOut]
    next_change: str | None
    time_limit_minutes: int | None
    password_required: bool
    exceptions: list[OwnExceptionOut]


class CourseAccessOut(BaseModel):
    access: bool
    explanation: list[str]
    next_change: str | None


class StudentCourseOut(BaseModel):
    at: str
    course: str
    course_instance: str
    timezone: str
    uid: str
    name: str
    enrolled: bool
    access: CourseAccessOut
    exceptions: list[OwnExceptionOut] = Field(description="for the whole course instance")
    assessments: list[StudentAssessmentOut] = Field(
        description="sorted by due date (none last), then number"
    )
    mode: str = Field(
        "Public",
        examples=["Public"],
        description="Public or Exam: the mode one's own list is decided in (a testing-centre"
        " network, one's own switch, or a reservation in force); someone else's: Public",
    )
    mode_explanation: str | None = Field(
        None,
        examples=["Exam mode: your computer is on the testing-centre network Lab A"],
        description="why the mode is Exam (null in Public mode)",
    )


@routes.get(
    "/courses/{course}/instances/{instance}/students/{uid}/assessments",
    policy=signed_in("one's own assessments; staff with vst anyone's (checked by the service)"),
    response_model=StudentCourseOut,
)
def student_assessments(
    course: str,
    instance: str,
    uid: str,
    request: Request,
    at: Annotated[
        str | None, Query(description="ISO 8601 (naive: the course's zone); default now")
    ] = None,
    c: Caller = CALLER,
) -> Response:
    """The student's assessments with their own due dates, credit now, status, next change
    and their exceptions, in the course instance's zone. One's own list is decided in the
    request's mode (``mode``, ``mode_explanation``: docs/exam-mode.md)."""
    sc = student_decisions.student_course_at(
        c.ctx, course, instance, uid, at, request_mode=mode_of_request(request, c)
    )
    return Response(orjson.dumps(sc.to_json()), media_type=JSON)


# -- one's courses ----------------------------------------------------------------------------


class HeldRoleOut(BaseModel):
    role: str = Field(examples=["ta"])
    name: str = Field(examples=["Teaching Assistant"])
    area: str = Field(examples=["/exampleuniversity/CG_101.Sp24"])
    start: str | None
    end: str | None


class CourseLinks(BaseModel):
    assessments: str = Field(description="one's own assessments in it")
    calendar_link: str = Field(description="the secret link of one's own calendar")
    matrix: str | None = Field(description="every student × assessment (staff only)")


class MyCourseOut(BaseModel):
    course: str = Field(examples=["CG 101"])
    course_instance: str = Field(examples=["Sp24"])
    long_name: str
    timezone: str
    enrollment: str | None = Field(
        description="invited | joined | blocked as a student; null when not a student there"
    )
    sections: list[str]
    roles: list[HeldRoleOut] = Field(description="staff roles held there now")
    links: CourseLinks


class MyCoursesOut(BaseModel):
    uid: str
    name: str
    course_instances: list[MyCourseOut]
    other_roles: list[HeldRoleOut] = Field(
        description="roles held outside a course instance (a domain, the system)"
    )


def _role(r: user_courses.HeldRole) -> HeldRoleOut:
    return HeldRoleOut(
        role=r.code, name=r.name, area=r.area, start=iso_or_none(r.start), end=iso_or_none(r.end)
    )


@routes.get(
    "/me/courses",
    policy=signed_in("one's own course instances"),
    response_model=MyCoursesOut,
)
def my_courses(c: Caller = CALLER) -> MyCoursesOut:
    """The signed-in user's course instances — as a student (enrollment, sections) and as
    staff (the roles held there now) — with the API paths to go on from there. While viewing
    as a student, the student's."""
    mine = user_courses.courses_of(c.ctx)
    me = quote(mine.uid, safe="@")
    out: list[MyCourseOut] = []
    for ci in mine.course_instances:
        base = (
            f"/api/v1/courses/{quote(ci.course, safe='')}"
            f"/instances/{quote(ci.course_instance, safe='')}"
        )
        staff = any(r.code in VIEWERS for r in ci.roles)
        out.append(
            MyCourseOut(
                course=ci.course,
                course_instance=ci.course_instance,
                long_name=ci.long_name,
                timezone=ci.timezone,
                enrollment=ci.enrollment,
                sections=list(ci.sections),
                roles=[_role(r) for r in ci.roles],
                links=CourseLinks(
                    assessments=f"{base}/students/{me}/assessments",
                    calendar_link=f"{base}/students/{me}/calendar-link",
                    matrix=f"{base}/matrix" if staff else None,
                ),
            )
        )
    return MyCoursesOut(
        uid=mine.uid,
        name=mine.name,
        course_instances=out,
        other_roles=[_role(r) for r in mine.other_roles],
    )
