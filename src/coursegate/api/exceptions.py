"""API v1: students' exceptions (extensions) — per student, for pasted uids, and per section.

An exception gives one student their own dates, credit, time limit or password for an
assessment, a set of assessments, or the whole course instance (a publishing extension). The
rules are the exceptions service's (:mod:`coursegate.services.access.exceptions.granting`); this
module parses, calls it and writes the answer in the course instance's time zone.

Fields follow Canvas's rule: in a change (``PATCH``) an **absent** field is left as it is and
**null removes** it; in answers, ``fields`` holds only what is overridden.

**Per section** means: the same exception granted to every enrolled member of the section *now*,
in one transaction, reported student by student — each becomes that student's own exception
(changeable and removable on its own). A student who joins the section later does not get it;
a standing rule for a section belongs in the course files (student labels and
``accessControlOverrides``). ``PATCH`` and ``DELETE`` on a section change or remove the members'
exceptions for one target, all or nothing.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from datetime import tzinfo
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from coursegate.http.deps import CALLER, Caller
from coursegate.http.errors import error_response
from coursegate.http.policy import Routes, needs, signed_in
from coursegate.http.schemas import RowId
from coursegate.services.access.exceptions import bulk as XB
from coursegate.services.access.exceptions import granting as X
from coursegate.services.access.exceptions import listing as XL
from coursegate.services.access.exceptions import records as XR
from coursegate.services.common.errors import EveryProblem, Invalid, ServiceError
from coursegate.services.common.places import course_zone, find_course_instance

routes = Routes(prefix="/api/v1", tags=["exceptions"])

CI = "/courses/{course}/instances/{instance}"
T = TypeVar("T")

FIELD_NAMES = (
    "release",
    "due",
    "credit",
    "time_limit_minutes",
    "time_limit_percent",
    "password",
    "publishing_extension_end",
)
Scope = Literal["assessment", "set", "course_instance"]
MAX_MINUTES = 1_000_000
"""About two years: more is a typo, and attempts' time limits must fit the database."""


# -- shared by the routes of this area --------------------------------------------------------


class Body(BaseModel):
    """A request body: an unknown field is an error naming it (with "did you mean"). Text with
    a NUL or another control character never gets here (:func:`~coursegate.http.schemas.
    checked_input` refuses it for every route)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _known_fields(cls, data: Any) -> Any:
        if isinstance(data, dict):
            known = list(cls.model_fields)
            for name in data:
                if name not in known:
                    close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.5)
                    hint = f"did you mean {close[0]!r}? " if close else ""
                    raise Invalid(
                        f"{name}: not a field of this request ({hint}its fields: "
                        f"{', '.join(known)})",
                        str(name),
                    )
        return data


def every_problem(c: Caller, run: Callable[[], T]) -> T | JSONResponse:
    """Run a use case that lists every problem at once (a CSV file, many students); when it
    refuses, answer with the usual error and ``errors``: one entry per problem."""
    try:
        return run()
    except (EveryProblem, XB.BulkConflict) as error:
        c.ctx.session.rollback()  # nothing was written; make sure of it
        problems = [
            asdict(p) if is_dataclass(p) and not isinstance(p, type) else {"message": str(p)}
            for p in error.problems
        ]
        assert isinstance(error, ServiceError)
        return error_response(error.status, error.code, error.message, error.field, errors=problems)


# -- shapes -----------------------------------------------------------------------------------


class ExceptionFields(Body):
    """What an exception overrides. Dates without an offset are wall time in the course
    instance's zone (``2024-02-10T23:59`` is 23:59 Chicago time in a Chicago course); a time
    that a daylight-saving change makes ambiguous (the first occurrence is used) or skips (the
    offset before the change is used) is accepted with a warning."""

    release: str | None = Field(
        None, description="when the student may start", examples=["2024-02-01T08:00"]
    )
    due: str | None = Field(
        None,
        description="the student's due date (early deadlines after it and late deadlines up to "
        "it are dropped; later late deadlines stay)",
        examples=["2024-02-10T23:59"],
    )
    credit: float | None = Field(
        None, description="0-200: the credit (percent) until the new due date", examples=[100]
    )
    time_limit_minutes: int | None = Field(
        None,
        le=MAX_MINUTES,
        description="a whole number of minutes (not with time_limit_percent)",
        examples=[90],
    )
    time_limit_percent: float | None = Field(
        None,
        description="more than 0, at most 1000: scales the time limit in force (150 = half as "
        "long again)",
        examples=[150],
    )
    password: str | None = Field(
        None,
        description='the student\'s own password; "" means this student needs none',
        examples=["orchid-7"],
    )
    publishing_extension_end: str | None = Field(
        None,
        description="scope course_instance only: the student keeps access until then",
        examples=["2024-06-01T23:59:59"],
    )

    def given(self) -> dict[str, Any]:
        """The fields the request named (``None`` = null: "remove" in a change)."""
        return {k: getattr(self, k) for k in FIELD_NAMES if k in self.model_fields_set}


class ExceptionIn(ExceptionFields):
    """Grant one student an exception."""

    uid: str = Field(min_length=1, max_length=200, examples=["ana@example.edu"])
    scope: Scope = Field(
        "assessment",
        description="assessment (target: its id), set (target: the set name) or course_instance "
        "(no target)",
    )
    target: str = Field("", max_length=300, examples=["hw/hw2"])
    reason: str = Field(
        max_length=2000,
        description="why (kept in the history, shown to the student)",
        examples=["illness (dean's note)"],
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "uid": "ana@example.edu",
                    "target": "hw/hw2",
                    "due": "2024-02-10T23:59",
                    "credit": 100,
                    "reason": "illness (dean's note)",
                }
            ]
        },
    )


class ExceptionPatch(ExceptionFields):
    """Change an exception: absent fields stay, null removes a field."""

    version: int = Field(
        ge=1, le=2**31 - 1, description="the version you loaded (409 if it moved on)"
    )
    reason: str = Field(max_length=2000, examples=["the illness lasted longer"])

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "version": 1,
                    "due": "2024-02-12T23:59",
                    "time_limit_minutes": None,
                    "reason": "the illness lasted longer",
                }
            ]
        },
    )


class ExceptionOut(BaseModel):
    """One student's exception. ``fields`` holds exactly what is overridden (dates in the
    course instance's zone); a field that is not there is not overridden."""

    id: int
    uid: str = Field(examples=["ana@example.edu"])
    name: str = Field(examples=["Ana Alvarez"])
    student: str = Field(description="uid and full name together", examples=["Ana Alvarez (ana)"])
    scope: Scope
    target: str = Field(examples=["hw/hw2"])
    fields: dict[str, str | int | float] = Field(
        examples=[{"due": "2024-02-10T23:59:00-06:00", "credit": 100}],
        description='password: "" when the student needs none; a student sees their own as "(set)"',
    )
    reason: str
    granted_by: str
    granted_at: str
    changed_by: str | None
    changed_at: str | None
    version: int
    warnings: list[str] = Field(
        description="worth knowing, not wrong (a daylight-saving time, a percentage with no "
        "time limit to scale, ...)"
    )


def exception_out(view: XR.ExceptionView, tz: tzinfo) -> ExceptionOut:
    data = view.to_json(tz)
    data["fields"] = {k: "" if v is None else v for k, v in data["fields"].items()}
    return ExceptionOut(**data)


class BulkIn(ExceptionFields):
    """The same exception for many students (pasted uids): all or nothing."""

    uids: str | list[str] = Field(
        description="uids separated by spaces, commas, semicolons or lines, or a list",
        examples=["ana@example.edu, ben@example.edu\nchloe@example.edu"],
    )
    scope: Scope = "assessment"
    target: str = Field("", max_length=300, examples=["hw/hw2"])
    reason: str = Field(max_length=2000, examples=["snow day"])


class SectionExceptionIn(ExceptionFields):
    """The same exception for every enrolled member of the section: all or nothing."""

    scope: Scope = "assessment"
    target: str = Field("", max_length=300, examples=["quizzes/quiz1"])
    reason: str = Field(max_length=2000, examples=["lab-b's room was closed"])


class SectionExceptionPatch(ExceptionFields):
    """Change the exception for ``target`` of every member of the section who has one: absent
    fields stay, null removes a field (each student keeps their other fields)."""

    scope: Scope = "assessment"
    target: str = Field("", max_length=300, examples=["quizzes/quiz1"])
    reason: str = Field(max_length=2000, examples=["one more day"])
    versions: dict[str, int] | None = Field(
        None,
        description="uid -> the version you loaded (from GET ...?section=); when given, 409 if "
        "any of them moved on",
        examples=[{"ben@example.edu": 1, "chloe@example.edu": 1}],
    )


class BulkGrantOut(BaseModel):
    granted: list[ExceptionOut]
    unchanged: list[str] = Field(description="students who already had exactly this exception")
    warnings: list[str]


class BulkChangeOut(BaseModel):
    changed: list[ExceptionOut] = Field(description="as they are now")
    unchanged: list[str] = Field(description="students whose exception already was so")
    without: list[str] = Field(description="members with no exception for the target (left)")
    warnings: list[str]


class BulkRemoveOut(BaseModel):
    removed: list[ExceptionOut] = Field(description="as they were")
    without: list[str] = Field(description="members with no exception for the target")


# -- routes -----------------------------------------------------------------------------------


@routes.get(
    CI + "/exceptions",
    policy=signed_in(
        "staff with vst list anyone's exceptions; a student lists their own (uid = themselves)",
        secret=True,
    ),
    response_model=list[ExceptionOut],
)
def list_exceptions(
    course: str,
    instance: str,
    uid: str | None = Query(None, max_length=200, description="one student's"),
    assessment: str | None = Query(
        None, max_length=300, description="those that apply to it (its own and its set's)"
    ),
    section: str | None = Query(None, max_length=200, description="the section's members'"),
    scope: Annotated[Scope | None, Query()] = None,
    c: Caller = CALLER,
) -> list[ExceptionOut]:
    """The exceptions of the course instance, by uid, each with the student's uid and full name.
    Filters combine. A student asks with ``uid`` = their own uid."""
    ci = find_course_instance(c.ctx, course, instance)
    views = XL.list_exceptions(
        c.ctx, ci.id, uid=uid, assessment=assessment, section=section, scope=scope
    )
    tz = course_zone(ci)
    return [exception_out(v, tz) for v in views]


@routes.post(
    CI + "/exceptions",
    policy=needs("gex", why="grant students' exceptions"),
    status_code=201,
    response_model=ExceptionOut,
)
def grant(course: str, instance: str, body: ExceptionIn, c: Caller = CALLER) -> ExceptionOut:
    """Grant one student an exception. The student must be enrolled (invited, joined or
    blocked); the result must be a valid configuration for them (their sections and other
    exceptions included); a student who already has one for the target gets 409 (change it)."""
    ci = find_course_instance(c.ctx, course, instance)
    view = X.grant(
        c.ctx, ci.id, body.uid, body.scope, body.target, body.given(), reason=body.reason
    )
    return exception_out(view, course_zone(ci))


@routes.post(
    CI + "/exceptions/bulk",
    policy=needs("gex", why="grant students' exceptions"),
    response_model=BulkGrantOut,
)
def grant_to_uids(course: str, instance: str, body: BulkIn, c: Caller = CALLER) -> Any:
    """The same exception for pasted uids, all or nothing: when any student cannot get it,
    nothing is written and ``errors`` lists every one (uid and why). A student who already has
    exactly this exception is ``unchanged``, so sending the same request again is safe."""
    ci = find_course_instance(c.ctx, course, instance)

    def run() -> BulkGrantOut:
        report = XB.grant_many(
            c.ctx, ci.id, body.scope, body.target, body.given(), reason=body.reason,
            uids=body.uids,
        )  # fmt: skip
        return _grant_out(report, course_zone(ci))

    return every_problem(c, run)


def _grant_out(report: XB.BulkReport, tz: tzinfo) -> BulkGrantOut:
    return BulkGrantOut(
        granted=[exception_out(v, tz) for v in report.granted],
        unchanged=report.unchanged,
        warnings=report.warnings,
    )


@routes.get(
    CI + "/exceptions/{exception_id}",
    policy=needs("vst", why="view students' exceptions (their passwords too)", secret=True),
    response_model=ExceptionOut,
)
def get_exception(
    course: str, instance: str, exception_id: RowId, c: Caller = CALLER
) -> ExceptionOut:
    """One exception, with its current ``version`` (send it back with a change)."""
    ci = find_course_instance(c.ctx, course, instance)
    return exception_out(XL.get_exception(c.ctx, exception_id, ci.id), course_zone(ci))


@routes.patch(
    CI + "/exceptions/{exception_id}",
    policy=needs("gex", why="change students' exceptions"),
    response_model=ExceptionOut,
)
def change(
    course: str, instance: str, exception_id: RowId, body: ExceptionPatch, c: Caller = CALLER
) -> ExceptionOut:
    """Change an exception: a field given replaces the stored one, ``null`` removes it, an
    absent field stays. 409 ``conflict`` when someone changed it since ``version``."""
    ci = find_course_instance(c.ctx, course, instance)
    view = X.change(
        c.ctx, exception_id, body.given(), version=body.version, reason=body.reason,
        course_instance_id=ci.id,
    )  # fmt: skip
    return exception_out(view, course_zone(ci))


@routes.delete(
    CI + "/exceptions/{exception_id}",
    policy=needs("gex", why="remove students' exceptions"),
    response_model=ExceptionOut,
)
def remove(
    course: str,
    instance: str,
    exception_id: RowId,
    version: int = Query(ge=1, le=2**31 - 1, description="the version you loaded"),
    reason: str = Query(max_length=2000, description="why (kept in the history)"),
    c: Caller = CALLER,
) -> ExceptionOut:
    """Remove an exception (the history keeps it); answers with it as it was. 409 when it
    changed since ``version``."""
    ci = find_course_instance(c.ctx, course, instance)
    view = X.remove(c.ctx, exception_id, version=version, reason=reason, course_instance_id=ci.id)
    return exception_out(view, course_zone(ci))


# -- per section ------------------------------------------------------------------------------


@routes.post(
    CI + "/sections/{section}/exceptions",
    policy=needs("gex", why="grant students' exceptions"),
    response_model=BulkGrantOut,
)
def grant_to_section(
    course: str, instance: str, section: str, body: SectionExceptionIn, c: Caller = CALLER
) -> Any:
    """Grant the same exception to every enrolled member of the section, all or nothing (each
    becomes that student's own exception; later members do not get it)."""
    ci = find_course_instance(c.ctx, course, instance)

    def run() -> BulkGrantOut:
        report = XB.grant_many(
            c.ctx, ci.id, body.scope, body.target, body.given(), reason=body.reason,
            section=section,
        )  # fmt: skip
        return _grant_out(report, course_zone(ci))

    return every_problem(c, run)


@routes.patch(
    CI + "/sections/{section}/exceptions",
    policy=needs("gex", why="change students' exceptions"),
    response_model=BulkChangeOut,
)
def change_for_section(
    course: str, instance: str, section: str, body: SectionExceptionPatch, c: Caller = CALLER
) -> Any:
    """Change the exception for ``target`` of every member of the section who has one, all or
    nothing (absent fields stay, null removes). With ``versions``, 409 lists every exception
    that changed since you loaded it."""
    ci = find_course_instance(c.ctx, course, instance)

    def run() -> BulkChangeOut:
        report = XB.change_many(
            c.ctx, ci.id, section, body.scope, body.target, body.given(), reason=body.reason,
            versions=body.versions,
        )  # fmt: skip
        tz = course_zone(ci)
        return BulkChangeOut(
            changed=[exception_out(v, tz) for v in report.done],
            unchanged=report.unchanged,
            without=report.without,
            warnings=report.warnings,
        )

    return every_problem(c, run)


@routes.delete(
    CI + "/sections/{section}/exceptions",
    policy=needs("gex", why="remove students' exceptions"),
    response_model=BulkRemoveOut,
)
def remove_for_section(
    course: str,
    instance: str,
    section: str,
    target: str = Query("", max_length=300, examples=["quizzes/quiz1"]),
    scope: Annotated[Scope, Query()] = "assessment",
    reason: str = Query(max_length=2000, description="why (kept in the history)"),
    c: Caller = CALLER,
) -> BulkRemoveOut:
    """Remove the exception for ``target`` from every member of the section who has one (as
    each has it now; look first with ``GET .../exceptions?section=``)."""
    ci = find_course_instance(c.ctx, course, instance)
    report = XB.remove_many(c.ctx, ci.id, section, scope, target, reason=reason)
    tz = course_zone(ci)
    return BulkRemoveOut(
        removed=[exception_out(v, tz) for v in report.done], without=report.without
    )
