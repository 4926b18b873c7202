"""One student's decisions from stored state, compiled for that student alone: one assessment
in the JSON of ``coursegate decide`` (:func:`decide_one`), and their whole course — their
assessment list with their own dates, statuses and exceptions (:func:`student_course`).

Everything is read from the store (:mod:`coursegate.services.courses.roster`) and decided by
the core (:class:`~coursegate.core.engine.CompiledCourseInstance`); the dates are read off the
student's own timelines (:mod:`coursegate.services.access.decisions.schedule`). Who may look:
:mod:`coursegate.services.access.view_permissions`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import tzinfo
from typing import Any

from sqlalchemy import select

from coursegate.core.decision import AssessmentDecision, CourseInstanceDecision, Decision
from coursegate.core.engine import CompiledCourseInstance
from coursegate.core.instants import Instant, format_instant, zone
from coursegate.core.model import InstanceFacts, Mode
from coursegate.core.timeline import Timeline
from coursegate.services.access.decisions.json_values import json_instant, json_number
from coursegate.services.access.decisions.request_values import known_assessment, read_at
from coursegate.services.access.decisions.schedule import Schedule, read_schedule, status_of
from coursegate.services.access.exam_mode import PUBLIC, RequestMode, explained, resolve
from coursegate.services.access.view_permissions import require_view_student
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Invalid
from coursegate.services.common.places import find_course_instance
from coursegate.services.courses.roster import student_for
from coursegate.services.courses.state import InstanceState, read_instance
from coursegate.store.models import CourseInstance, StudentOverride, User

_INSTANT_KEYS = frozenset({"release", "due", "publishing_extension_end"})
_ASSUMED_OPEN = InstanceFacts(open=True, date_limit=None)
_ASSUMED_CLOSED = InstanceFacts(open=False, date_limit=None)


@dataclass(frozen=True)
class _One:
    """One student's compiled course instance (index 0), and the same as read for dates."""

    state: InstanceState
    user: User
    enrolled: bool
    compiled: CompiledCourseInstance
    schedule: CompiledCourseInstance
    """The same student with an attempt assumed open on every assessment (for dates)."""
    completed: CompiledCourseInstance
    """The same student with every attempt assumed closed (for what is shown afterwards)."""


def _one_student(
    ctx: Ctx,
    ci: CourseInstance,
    user: User,
    *,
    aids: Sequence[str] | None = None,
    mode: Mode = Mode.PUBLIC,
    schedule: bool = True,
) -> _One:
    """``user`` alone, compiled for ``aids`` (default: every live assessment)."""
    state = read_instance(ctx.session, ci)
    student = student_for(ctx.session, ci, state, user)
    enrolled = student.enrollment is not None and student.enrollment.status in (
        "joined",
        "invited",
        "blocked",
    )
    if mode is not Mode.PUBLIC:
        student = replace(student, mode=mode)
    ids = sorted(state.assessments) if aids is None else list(aids)
    configs = [state.assessments[a].config for a in ids]
    policy = state.settings.policy
    compiled = CompiledCourseInstance(policy, configs, [student], state.tz)
    dated = completed = compiled
    if schedule:
        assumed = replace(student, instances=dict.fromkeys(ids, _ASSUMED_OPEN))
        dated = CompiledCourseInstance(policy, configs, [assumed], state.tz)
        done = replace(student, instances=dict.fromkeys(ids, _ASSUMED_CLOSED))
        completed = CompiledCourseInstance(policy, configs, [done], state.tz)
    return _One(state, user, enrolled, compiled, dated, completed)


def decide_one(
    ctx: Ctx,
    course: str,
    course_instance: str,
    uid: str,
    assessment: str,
    *,
    mode: str = "Public",
    at: Instant | None = None,
) -> dict[str, Any]:
    """The decision for one student and one assessment from stored state, in the JSON shape of
    ``coursegate decide`` (``at``, ``course_instance``, ``assessment``; docs/decisions.md),
    written in the course instance's zone. ``at`` defaults to ``ctx.at``."""
    try:
        server_mode = Mode(mode)
    except ValueError:
        raise Invalid(f"mode must be 'Public' or 'Exam', not {mode!r}", "mode") from None
    ci = find_course_instance(ctx, course, course_instance)
    require_view_student(ctx, ci, uid)
    user = ctx.user(uid)
    state = read_instance(ctx.session, ci)
    aid = known_assessment(state, assessment)
    one = _one_student(ctx, ci, user, aids=[aid], mode=server_mode, schedule=False)
    when = ctx.at if at is None else at
    return Decision(
        at=when,
        tz=state.tz,
        course_instance=one.compiled.decide_course_instance(0, when),
        assessment=one.compiled.decide(0, 0, when),
    ).to_json()


@dataclass(frozen=True)
class OwnException:
    """One of the student's stored exceptions (passwords are never shown)."""

    scope: str
    target: str
    body: dict[str, Any]
    reason: str

    def to_json(self, tz: tzinfo) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for k, v in self.body.items():
            if k in _INSTANT_KEYS and isinstance(v, int):
                body[k] = format_instant(v, tz)
            elif k == "password":
                body[k] = "none needed" if v is None else "a password of your own"
            else:
                body[k] = v
        return {"scope": self.scope, "target": self.target, "body": body, "reason": self.reason}


@dataclass(frozen=True)
class StudentAssessment:
    """One line of a student's assessment list."""

    aid: str
    title: str
    set_name: str
    number: str
    status: str
    decision: AssessmentDecision
    schedule: Schedule
    time_limit_minutes: int | None
    """The limit an attempt started now gets, or (when none can start now) one started at the
    beginning of the next window."""
    password_required: bool
    exceptions: tuple[OwnException, ...]

    @property
    def credit(self) -> float:
        return self.decision.credit

    @property
    def credit_text(self) -> str:
        return self.decision.credit_text

    @property
    def due(self) -> Instant | None:
        return self.schedule.due

    @property
    def next_change(self) -> Instant | None:
        return self.decision.next_change

    @property
    def has_exception(self) -> bool:
        return bool(self.exceptions)

    def to_json(self, tz: tzinfo) -> dict[str, Any]:
        s = self.schedule
        return {
            "assessment": self.aid,
            "title": self.title,
            "set": self.set_name,
            "number": self.number,
            "status": self.status,
            "access": self.decision.access,
            "can_start": self.decision.can_start,
            "credit": json_number(self.credit),
            "credit_text": self.credit_text,
            "release": json_instant(s.release, tz),
            "due": json_instant(s.due, tz),
            "due_credit": None if s.due_credit is None else json_number(s.due_credit),
            "early_deadlines": [
                {"date": json_instant(t, tz), "credit": json_number(c)} for t, c in s.early
            ],
            "late_deadlines": [
                {"date": json_instant(t, tz), "credit": json_number(c)} for t, c in s.late
            ],
            "windows": [
                {"start": json_instant(a, tz), "end": json_instant(b, tz)} for a, b in s.windows
            ],
            "reveals": [
                {"date": json_instant(r.at, tz), "what": r.what, "visible": r.visible}
                for r in s.reveals
            ],
            "next_change": json_instant(self.next_change, tz),
            "time_limit_minutes": self.time_limit_minutes,
            "password_required": self.password_required,
            "exceptions": [e.to_json(tz) for e in self.exceptions],
        }


@dataclass(frozen=True)
class StudentCourse:
    """A student's course instance at ``at``: their assessment list with their own dates."""

    at: Instant
    tz: tzinfo
    course: str
    course_instance: str
    uid: str
    name: str
    enrolled: bool
    access: CourseInstanceDecision
    exceptions: tuple[OwnException, ...]
    """Exceptions for the whole course instance (publishing extensions)."""
    assessments: tuple[StudentAssessment, ...]
    mode: RequestMode = PUBLIC
    """The mode the list is decided in, and why (Exam: a testing-centre network, one's own
    switch, or a reservation in force)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "at": format_instant(self.at, self.tz),
            "course": self.course,
            "course_instance": self.course_instance,
            "timezone": str(self.tz),
            "uid": self.uid,
            "name": self.name,
            "enrolled": self.enrolled,
            "access": self.access.to_json(self.tz),
            "exceptions": [e.to_json(self.tz) for e in self.exceptions],
            "assessments": [a.to_json(self.tz) for a in self.assessments],
            "mode": self.mode.mode.value,
            "mode_explanation": self.mode.why,
        }


def _natural(text: str) -> tuple[tuple[int, int | str], ...]:
    """``"2" < "10"`` and ``"1a" < "1b"``: numbers by value, the rest as text."""
    return tuple(
        (0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", text) if p != ""
    )


def _first_startable(tl: Timeline[AssessmentDecision], at: Instant) -> AssessmentDecision | None:
    return next((v for _, _, v in tl.intervals(at) if v.can_start), None)


def student_course(
    ctx: Ctx,
    course: str,
    course_instance: str,
    uid: str,
    *,
    at: Instant | None = None,
    request_mode: RequestMode | None = None,
) -> StudentCourse:
    """The student's assessment list at ``at`` (default ``ctx.at``), sorted by due date (none
    last) then number. Assessments never listed for the student (in the mode it is decided
    in) are left out: a testing-centre-only exam they have no attempt of is not in their list
    in Public mode.

    The mode: Public, unless ``request_mode`` is given (the HTTP layer's answer for the
    signed-in user's own request) and ``uid`` is the effective user — then the request's mode,
    or Exam while a reservation of theirs is in force (:func:`exam_mode.resolve`)."""
    ci = find_course_instance(ctx, course, course_instance)
    require_view_student(ctx, ci, uid)
    user = ctx.user(uid)
    mode = _own_mode(ctx, user, request_mode, ci)
    return course_of(ctx, ci, user, ctx.at if at is None else at, mode)


def _own_mode(ctx: Ctx, user: User, given: RequestMode | None, ci: CourseInstance) -> RequestMode:
    """The mode of one's own list: the request's (and reservations) for oneself; Public for
    someone else's, or when no request mode is given."""
    if given is None or user.uid != ctx.effective:
        return PUBLIC
    return resolve(ctx, user, given, zone(ci.timezone))


def course_of(
    ctx: Ctx, ci: CourseInstance, user: User, at: Instant, mode: RequestMode = PUBLIC
) -> StudentCourse:
    """:func:`student_course` for rows already looked up and authorised, in ``mode``."""
    one = _one_student(ctx, ci, user, mode=mode.mode)
    tz = one.state.tz
    rows = ctx.session.scalars(
        select(StudentOverride)
        .where(StudentOverride.course_instance_id == ci.id, StudentOverride.user_id == user.id)
        .order_by(StudentOverride.scope, StudentOverride.target)
    ).all()
    own = [OwnException(r.scope, r.target, dict(r.body), r.reason) for r in rows]
    items: list[StudentAssessment] = []
    for j, config in enumerate(one.compiled.assessments):
        tl = one.compiled.timeline(0, j)
        if not any(v.listed for _, _, v in tl.intervals()):
            continue
        d = explained(tl.at(at), mode)
        sched = read_schedule(one.schedule.timeline(0, j), one.completed.timeline(0, j))
        window = _first_startable(one.schedule.timeline(0, j), at)
        mine = tuple(
            e
            for e in own
            if (e.scope == "assessment" and e.target == config.id)
            or (e.scope == "set" and e.target == config.set_name)
        )
        items.append(
            StudentAssessment(
                aid=config.id,
                title=config.title,
                set_name=config.set_name,
                number=config.number,
                status=status_of(d, tl, at, sched.due),
                decision=d,
                schedule=sched,
                time_limit_minutes=window.time_limit_minutes if window else None,
                password_required=window.password_required if window else d.password_required,
                exceptions=mine,
            )
        )
    items.sort(key=lambda a: (a.due is None, a.due or 0, _natural(a.number), a.set_name, a.aid))
    return StudentCourse(
        at=at,
        tz=tz,
        course=ci.course.name,
        course_instance=ci.short_name,
        uid=user.uid,
        name=user.name,
        enrolled=one.enrolled,
        access=one.compiled.decide_course_instance(0, at),
        exceptions=tuple(e for e in own if e.scope == "course_instance"),
        assessments=tuple(items),
        mode=mode,
    )


def student_course_at(
    ctx: Ctx,
    course: str,
    course_instance: str,
    uid: str,
    at: str | None = None,
    *,
    request_mode: RequestMode | None = None,
) -> StudentCourse:
    """:func:`student_course` with ``at`` as ISO 8601 text (naive: the course instance's
    zone; None: ``ctx.at``)."""
    ci = find_course_instance(ctx, course, course_instance)
    require_view_student(ctx, ci, uid)
    when = read_at(at, zone(ci.timezone))
    user = ctx.user(uid)
    mode = _own_mode(ctx, user, request_mode, ci)
    return course_of(ctx, ci, user, ctx.at if when is None else when, mode)
