"""Decisions from stored state: one student and one assessment, a student's whole course, and the
matrix of a course instance (every student × every assessment).

Everything here is read from the store (:mod:`coursegate.services.roster`) and decided by the
core (:class:`~coursegate.core.engine.CompiledCourseInstance`); nothing re-derives a rule.
Statuses, due dates and deadlines are *read off the student's own timeline*
(:meth:`~coursegate.core.timeline.Timeline.intervals`), so a student's exceptions, sections and
the course instance's dates are always included, whatever form the files use.

Who may look (always asked of the roles core through :func:`authz.require`): a student may see
their own decisions (the effective user is the student, also while staff "view as" them);
anyone else needs ``vst`` (view students' access, exceptions and attempts) on the course
instance, so a student asking about another student, or the TA of another course, is refused.

Reading a timeline (see ``docs/store-decisions.md``):

* a **credited window** is a maximal run of intervals in which an open attempt earns credit;
  the timeline read for dates is the student's own with an attempt assumed open, so a time
  limit that stops *new* attempts a minute before the deadline does not move the deadline;
* the **due credit** is 100%, or the highest credit the student can ever earn when that is
  less; the **due date** is the end of the last interval whose credit is at least the due
  credit (``None``: credit never stops, or never starts);
* **early deadlines** end bands with more than the due credit before the due date; **late
  deadlines** end credited bands after it;
* **reveals** are changes of question or score visibility read off the same timeline with the
  attempt assumed closed (what a student who has finished sees, and from when).
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import String, bindparam, select
from sqlalchemy.orm import contains_eager

from coursegate.core.decision import AssessmentDecision, CourseInstanceDecision, Decision
from coursegate.core.engine import ColumnIndex, CompiledCourseInstance, Facts, Student, timelines
from coursegate.core.instants import (
    MAX_INSTANT,
    MIN_INSTANT,
    DateError,
    Instant,
    format_instant,
    parse_date,
    to_instant,
    zone,
)
from coursegate.core.model import InstanceFacts, Mode, Role
from coursegate.core.timeline import Timeline
from coursegate.courses.problems import CourseError
from coursegate.services.authz import allowed, require
from coursegate.services.context import Ctx
from coursegate.services.course_instances import find_course_instance, instance_area, instance_label
from coursegate.services.course_state import InstanceState, read_instance
from coursegate.services.decision_cache import CompiledState, compiled_state, read_users
from coursegate.services.errors import Invalid, NotFound, Refused, ServiceError
from coursegate.services.roster import (
    RosterEntry,
    compile_course_instance,
    student_for,
)
from coursegate.store.models import (
    Course,
    CourseInstance,
    Section,
    StudentOverride,
    User,
)

VIEW_STUDENTS = "vst"
"""View students' access, exceptions and attempts."""
DUE_CREDIT = 100.0

UPCOMING = "upcoming"
OPEN = "open"
LATE = "late"
PRACTICE_ONLY = "practice only"
CLOSED = "closed"
STATUSES = (UPCOMING, OPEN, LATE, PRACTICE_ONLY, CLOSED)

_INSTANT_KEYS = frozenset({"release", "due", "publishing_extension_end"})
_ASSUMED_OPEN = InstanceFacts(open=True, date_limit=None)
_ASSUMED_CLOSED = InstanceFacts(open=False, date_limit=None)


# -- looking things up and asking the roles core ----------------------------------------------


def require_view_student(ctx: Ctx, ci: CourseInstance, uid: str) -> None:
    """A student may see their own decisions (staff viewing as them: within that course
    instance only); anyone else needs ``vst`` on the instance."""
    if ctx.is_self(uid, ci.id):
        return
    require(
        ctx, VIEW_STUDENTS, instance_area(ci), f"view the access of {uid} in {instance_label(ci)}"
    )


def require_view_all(ctx: Ctx, ci: CourseInstance) -> None:
    require(
        ctx,
        VIEW_STUDENTS,
        instance_area(ci),
        f"view every student's access in {instance_label(ci)}",
    )


# -- one student, compiled -------------------------------------------------------------------


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


def _assessment_id(state: InstanceState, aid: str) -> str:
    if aid not in state.assessments:
        known = ", ".join(sorted(state.assessments)) or "none"
        raise NotFound(f"there is no assessment {aid!r} (assessments: {known})", "assessment")
    return aid


# -- one student and one assessment ----------------------------------------------------------


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
    aid = _assessment_id(state, assessment)
    one = _one_student(ctx, ci, user, aids=[aid], mode=server_mode, schedule=False)
    when = ctx.at if at is None else at
    return Decision(
        at=when,
        tz=state.tz,
        course_instance=one.compiled.decide_course_instance(0, when),
        assessment=one.compiled.decide(0, 0, when),
    ).to_json()


# -- reading a timeline ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Band:
    """A maximal run of equal positive credit: ``[start, end)``."""

    start: Instant
    end: Instant
    credit: float


@dataclass(frozen=True, slots=True)
class Reveal:
    """After completion, ``what`` (questions, score, or both) becomes visible or hidden."""

    at: Instant
    what: str
    visible: bool


@dataclass(frozen=True, slots=True)
class Schedule:
    """An assessment's dates for one student, read off their timeline."""

    windows: tuple[tuple[Instant, Instant], ...]
    """Credited windows, ``[start, end)``; MIN/MAX_INSTANT for "always"/"for ever"."""
    bands: tuple[Band, ...]
    due_credit: float | None
    due: Instant | None
    early: tuple[tuple[Instant, float], ...]
    late: tuple[tuple[Instant, float], ...]
    reveals: tuple[Reveal, ...]

    @property
    def release(self) -> Instant | None:
        """When credit can first be earned (None: since ever, or never)."""
        if not self.windows or self.windows[0][0] <= MIN_INSTANT:
            return None
        return self.windows[0][0]


def read_schedule(
    tl: Timeline[AssessmentDecision], completed: Timeline[AssessmentDecision] | None = None
) -> Schedule:
    """Credited windows, due date, early and late deadlines of ``tl`` (the student's timeline
    with an attempt assumed open), and the reveals of ``completed`` (the same with the attempt
    assumed closed; default ``tl``)."""
    intervals = tl.intervals()
    bands: list[Band] = []
    for a, b, d in intervals:
        if d.credit <= 0:
            continue
        last = bands[-1] if bands else None
        if last is not None and last.end == a and last.credit == d.credit:
            bands[-1] = Band(last.start, b, last.credit)
        else:
            bands.append(Band(a, b, d.credit))
    windows: list[tuple[Instant, Instant]] = []
    for band in bands:
        if windows and windows[-1][1] == band.start:
            windows[-1] = (windows[-1][0], band.end)
        else:
            windows.append((band.start, band.end))
    due_credit: float | None = None
    due: Instant | None = None
    early: list[tuple[Instant, float]] = []
    late: list[tuple[Instant, float]] = []
    if bands:
        due_credit = min(DUE_CREDIT, max(b.credit for b in bands))
        end = max(b.end for b in bands if b.credit >= due_credit)
        due = None if end >= MAX_INSTANT else end
        for band in bands:
            if band.end >= MAX_INSTANT:
                continue
            if (due is None or band.end < due) and band.credit > due_credit:
                early.append((band.end, band.credit))
            elif due is not None and band.start >= due:
                late.append((band.end, band.credit))
    reveals: list[Reveal] = []
    prev: AssessmentDecision | None = None
    for a, _, d in intervals if completed is None else completed.intervals():
        if prev is not None and prev.access and d.access and prev.complete and d.complete:
            pairs = (
                ("questions", prev.questions_visible, d.questions_visible),
                ("score", prev.score_visible, d.score_visible),
            )
            shown = [w for w, x, y in pairs if not x and y]
            hidden = [w for w, x, y in pairs if x and not y]
            if shown:
                reveals.append(Reveal(a, " and ".join(shown), True))
            if hidden:
                reveals.append(Reveal(a, " and ".join(hidden), False))
        prev = d
    return Schedule(
        tuple(windows), tuple(bands), due_credit, due, tuple(early), tuple(late), tuple(reveals)
    )


def status_of(
    d: AssessmentDecision, tl: Timeline[AssessmentDecision], at: Instant, due: Instant | None
) -> str:
    """upcoming, open, late, practice only or closed, from the decision at ``at``, the
    student's timeline ``tl`` and their due date."""
    if d.access and d.submittable and d.credit > 0:
        return LATE if due is not None and at >= due else OPEN
    if d.access and d.submittable:
        return PRACTICE_ONLY
    if any(v.credit > 0 for _, _, v in tl.intervals(at)):
        return UPCOMING
    return CLOSED


def _first_startable(tl: Timeline[AssessmentDecision], at: Instant) -> AssessmentDecision | None:
    return next((v for _, _, v in tl.intervals(at) if v.can_start), None)


# -- one student's whole course --------------------------------------------------------------


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
            "credit": _number(self.credit),
            "credit_text": self.credit_text,
            "release": _when(s.release, tz),
            "due": _when(s.due, tz),
            "due_credit": None if s.due_credit is None else _number(s.due_credit),
            "early_deadlines": [{"date": _when(t, tz), "credit": _number(c)} for t, c in s.early],
            "late_deadlines": [{"date": _when(t, tz), "credit": _number(c)} for t, c in s.late],
            "windows": [{"start": _when(a, tz), "end": _when(b, tz)} for a, b in s.windows],
            "reveals": [
                {"date": _when(r.at, tz), "what": r.what, "visible": r.visible} for r in s.reveals
            ],
            "next_change": _when(self.next_change, tz),
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
        }


def _natural(text: str) -> tuple[tuple[int, int | str], ...]:
    """``"2" < "10"`` and ``"1a" < "1b"``: numbers by value, the rest as text."""
    return tuple(
        (0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", text) if p != ""
    )


def student_course(
    ctx: Ctx, course: str, course_instance: str, uid: str, *, at: Instant | None = None
) -> StudentCourse:
    """The student's assessment list at ``at`` (default ``ctx.at``), sorted by due date (none
    last) then number. Assessments never listed for the student (in Public mode) are left out:
    a testing-centre-only exam they have no attempt of is not in their list."""
    ci = find_course_instance(ctx, course, course_instance)
    require_view_student(ctx, ci, uid)
    user = ctx.user(uid)
    return course_of(ctx, ci, user, ctx.at if at is None else at)


def course_of(ctx: Ctx, ci: CourseInstance, user: User, at: Instant) -> StudentCourse:
    """:func:`student_course` for rows already looked up and authorised."""
    one = _one_student(ctx, ci, user)
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
        d = tl.at(at)
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
    )


# -- the matrix ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MatrixStudent:
    uid: str
    name: str
    sections: tuple[str, ...]
    course_instance_access: bool
    publishing_extension: bool
    """The student holds a publishing extension (from their enrollment or an exception)."""

    @property
    def label(self) -> str:
        """``Ada Lovelace (ada@example.edu)``: uid and full name together."""
        return f"{self.name} ({self.uid})" if self.name else self.uid


@dataclass(frozen=True, slots=True)
class MatrixAssessment:
    aid: str
    title: str
    set_name: str
    number: str


@dataclass(frozen=True, slots=True)
class MatrixCell:
    access: bool
    can_start: bool
    submittable: bool
    credit: float
    credit_text: str
    next_change: Instant | None
    exception: bool
    """The student has their own exception for this assessment (or its set)."""

    def text(self) -> str:
        """A short rendering for tables and CSV: ``can start; 100% until 23:59, Mon, Jan 29``."""
        if self.can_start:
            word = "can start"
        elif self.access:
            word = "submittable" if self.submittable else "view only"
        else:
            word = "no access"
        parts = [word]
        if self.credit_text != "None":
            parts.append(self.credit_text)
        elif self.submittable:
            parts.append("0% (practice)")
        if self.exception:
            parts.append("exception")
        return "; ".join(parts)


class CourseMatrix:
    """Students × assessments at ``at``, kept factorised as the core compiled it: a cell is two
    look-ups, and each distinct decision is summarised once."""

    def __init__(
        self,
        *,
        at: Instant,
        tz: tzinfo,
        course: str,
        course_instance: str,
        students: tuple[MatrixStudent, ...],
        assessments: tuple[MatrixAssessment, ...],
        rows: tuple[int, ...],
        index: tuple[ColumnIndex, ...],
        cells: tuple[tuple[tuple[MatrixCell, MatrixCell], ...], ...],
        exceptions: tuple[frozenset[int], ...],
    ) -> None:
        self.at = at
        self.tz = tz
        self.course = course
        self.course_instance = course_instance
        self.students = students
        self.assessments = assessments
        self._rows = rows
        self._index = index
        self._cells = cells
        self._exceptions = exceptions

    def cell(self, r: int, c: int) -> MatrixCell:
        """Row ``r`` (a student of :attr:`students`), column ``c`` (of :attr:`assessments`)."""
        idx = self._index[c]
        k = idx.special.get(self._rows[r], idx.default)
        return self._cells[c][k][c in self._exceptions[r]]

    def row(self, r: int) -> list[MatrixCell]:
        i, exc = self._rows[r], self._exceptions[r]
        return [
            pair[idx.special.get(i, idx.default)][c in exc]
            for c, (idx, pair) in enumerate(zip(self._index, self._cells, strict=True))
        ]

    def to_json(self) -> dict[str, Any]:
        """The whole matrix as JSON (equal cells share one dict: do not mutate them)."""
        tz = self.tz
        shared = [[tuple(_cell_json(c, tz) for c in pair) for pair in col] for col in self._cells]
        cells = []
        for r in range(len(self.students)):
            i, exc = self._rows[r], self._exceptions[r]
            cells.append(
                [
                    col[idx.special.get(i, idx.default)][c in exc]
                    for c, (idx, col) in enumerate(zip(self._index, shared, strict=True))
                ]
            )
        return {
            "at": format_instant(self.at, tz),
            "course": self.course,
            "course_instance": self.course_instance,
            "timezone": str(tz),
            "assessments": [
                {"assessment": a.aid, "title": a.title, "set": a.set_name, "number": a.number}
                for a in self.assessments
            ],
            "students": [
                {
                    "uid": s.uid,
                    "name": s.name,
                    "sections": list(s.sections),
                    "course_instance_access": s.course_instance_access,
                    "publishing_extension": s.publishing_extension,
                }
                for s in self.students
            ],
            "cells": cells,
        }

    def to_csv(self) -> str:
        """One line per student: ``uid``, ``name``, ``sections``, then one column per assessment
        (its id) holding :meth:`MatrixCell.text`."""
        texts = [[tuple(c.text() for c in pair) for pair in col] for col in self._cells]
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["uid", "name", "sections", *(a.aid for a in self.assessments)])
        for r, s in enumerate(self.students):
            i, exc = self._rows[r], self._exceptions[r]
            w.writerow(
                [
                    _safe(s.uid),
                    _safe(s.name),
                    _safe(";".join(s.sections)),
                    *(
                        col[idx.special.get(i, idx.default)][c in exc]
                        for c, (idx, col) in enumerate(zip(self._index, texts, strict=True))
                    ),
                ]
            )
        return out.getvalue()


def _safe(text: str) -> str:
    """Keep spreadsheets from reading a name such as ``=HYPERLINK(...)`` as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _cell_json(c: MatrixCell, tz: tzinfo) -> dict[str, Any]:
    return {
        "access": c.access,
        "can_start": c.can_start,
        "submittable": c.submittable,
        "credit": _number(c.credit),
        "credit_text": c.credit_text,
        "next_change": _when(c.next_change, tz),
        "exception": c.exception,
    }


def matrix(
    ctx: Ctx,
    course: str,
    course_instance: str,
    at: Instant | None = None,
    *,
    sections: Iterable[str] | None = None,
    assessments: Iterable[str] | None = None,
    can_start_now: bool = False,
) -> CourseMatrix:
    """Every student × every assessment at ``at`` (default ``ctx.at``); needs ``vst``.

    ``sections``: only students in at least one of them; ``assessments``: only these columns
    (in the order given); ``can_start_now``: only students who can start at least one of the
    chosen assessments at ``at``.
    """
    ci = find_course_instance(ctx, course, course_instance)
    require_view_all(ctx, ci)
    wanted_sections: frozenset[str] | None = None
    if sections is not None:
        wanted_sections = frozenset(sections)
        known = set(
            ctx.session.scalars(select(Section.name).where(Section.course_instance_id == ci.id))
        )
        unknown = sorted(wanted_sections - known)
        if unknown:
            raise Invalid(
                f"{instance_label(ci)} has no section {', '.join(map(repr, unknown))}"
                f" (sections: {', '.join(sorted(known)) or 'none'})",
                "sections",
            )
    compiled, roster, state = compile_course_instance(ctx.session, ci)
    aids = None if assessments is None else [_assessment_id(state, a) for a in assessments]
    return build_matrix(
        compiled,
        roster,
        ctx.at if at is None else at,
        course=ci.course.name,
        course_instance=ci.short_name,
        sections=wanted_sections,
        assessments=aids,
        can_start_now=can_start_now,
    )


def build_matrix(
    compiled: CompiledCourseInstance,
    roster: Sequence[RosterEntry],
    at: Instant,
    *,
    course: str = "",
    course_instance: str = "",
    sections: frozenset[str] | None = None,
    assessments: Sequence[str] | None = None,
    can_start_now: bool = False,
) -> CourseMatrix:
    """The matrix of an already compiled course instance (no database, no privilege check)."""
    m = compiled.matrix(at)
    cols = (
        list(range(len(compiled.assessments)))
        if assessments is None
        else [compiled.assessment_index[a] for a in assessments]
    )
    index = tuple(m.index[j] for j in cols)
    cells = tuple(
        tuple(
            (
                _cell(d, exception=False),
                _cell(d, exception=True),
            )
            for d in m.columns[j]
        )
        for j in cols
    )
    rows = list(range(len(roster)))
    if sections is not None:
        rows = [i for i in rows if roster[i].student.user.sections & sections]
    if can_start_now:
        startable = [frozenset(k for k, d in enumerate(m.columns[j]) if d.can_start) for j in cols]
        rows = [
            i
            for i in rows
            if any(
                idx.special.get(i, idx.default) in ok
                for idx, ok in zip(index, startable, strict=True)
            )
        ]
    col_of = {j: c for c, j in enumerate(cols)}
    students: list[MatrixStudent] = []
    exceptions: list[frozenset[int]] = []
    for i in rows:
        e = roster[i]
        st = e.student
        own = (col_of.get(compiled.assessment_index[a]) for a in st.personal)
        exceptions.append(frozenset(c for c in own if c is not None))
        students.append(
            MatrixStudent(
                uid=e.uid,
                name=e.name,
                sections=tuple(sorted(st.user.sections)),
                course_instance_access=compiled.decide_course_instance(i, at).access,
                publishing_extension=_has_publishing_extension(e),
            )
        )
    return CourseMatrix(
        at=at,
        tz=compiled.tz,
        course=course,
        course_instance=course_instance,
        students=tuple(students),
        assessments=tuple(
            MatrixAssessment(a.id, a.title, a.set_name, a.number)
            for a in (compiled.assessments[j] for j in cols)
        ),
        rows=tuple(rows),
        index=index,
        cells=cells,
        exceptions=tuple(exceptions),
    )


def _cell(d: AssessmentDecision, *, exception: bool) -> MatrixCell:
    return MatrixCell(
        d.access, d.can_start, d.submittable, d.credit, d.credit_text, d.next_change, exception
    )


def _has_publishing_extension(e: RosterEntry) -> bool:
    enr = e.student.enrollment
    return enr is not None and enr.publishing_extension_end is not None


# -- formatting ------------------------------------------------------------------------------


def _number(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x


def _when(t: Instant | None, tz: tzinfo) -> str | None:
    if t is None or t <= MIN_INSTANT or t >= MAX_INSTANT:
        return None
    return format_instant(t, tz)


# -- decision requests: the public request format, the state from the store ------------------
#
# ``POST /api/v1/decisions`` (and its batch form) take the request of ``coursegate decide``
# (docs/decisions.md) with ``course`` naming a course in the database; everything the store
# knows about the user is filled in here, and a request that tries to supply it is refused.
# Answers are serialised once, to bytes, because a batch holds up to 10,000 of them: the JSON
# of each distinct decision of a compiled course instance is kept with it (the decisions are
# shared by every student the core put in the same slot), so most answers are assembled from
# ready-made pieces.

MAX_BATCH = 10_000
"""The most decision requests one batch may hold."""
REQUEST_FIELDS = ("at", "course", "course_instance", "assessment", "user", "mode", "timezone")
SERVER_FIELDS = (
    "course_instance_config", "assessment_config", "student_overrides", "reservations",
    "enrollment", "instance",
)  # fmt: skip
"""Fields of the file-based request that the server fills from the database."""
SERVER_USER_FIELDS = ("role", "sections", "institution")
STAFF_ROLES = {"cc": Role.INSTRUCTOR, "in": Role.INSTRUCTOR, "ta": Role.TA}
"""Course roles that decide as course staff (the staff override): course coordinators and
instructors as instructors, TAs as TAs. Every other role decides as a student."""


class TooLarge(ServiceError):
    code = "too_large"
    status = 413


@dataclass(frozen=True, slots=True)
class Question:
    """One decision request, read and checked (nothing looked up yet)."""

    course: str
    course_instance: str | None
    assessment: str | None
    uid: str
    mode: Mode
    at: str | None
    timezone: str | None


def _server_fills(name: str) -> Invalid:
    return Invalid(
        f"{name}: the server fills this from the database (the synced course files and the"
        " user's stored role, sections, enrollment, exceptions, reservations and attempt);"
        " leave it out",
        name,
    )


def _text(raw: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = raw.get(name)
    if value is None:
        if required:
            raise Invalid(f"{name}: required (a string)", name)
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise Invalid(f"{name}: must be a non-empty string, not {value!r}", name)
    return value


def read_question(raw: object, default_uid: str) -> Question:
    """Check one decision request (a parsed JSON object); ``user.uid`` defaults to
    ``default_uid`` (the signed-in user). Raises :class:`Invalid` naming the field."""
    if not isinstance(raw, dict):
        raise Invalid("a decision request is a JSON object {...}", "$")
    for key in raw:
        if key in REQUEST_FIELDS:
            continue
        if key in SERVER_FIELDS:
            raise _server_fills(key)
        raise Invalid(
            f"{key}: not a field of a decision request (the fields: {', '.join(REQUEST_FIELDS)})",
            str(key),
        )
    course = _text(raw, "course", required=True)
    assert course is not None
    uid = default_uid
    user = raw.get("user")
    if user is not None:
        if not isinstance(user, dict):
            raise Invalid('user: must be an object such as {"uid": "..."}', "user")
        for key in user:
            if key in SERVER_USER_FIELDS:
                raise _server_fills(f"user.{key}")
            if key != "uid":
                raise Invalid(f"user.{key}: not a field of user (only uid)", f"user.{key}")
        given = user.get("uid")
        if given is not None:
            if not isinstance(given, str) or not given.strip():
                raise Invalid(f"user.uid: must be a non-empty string, not {given!r}", "user.uid")
            uid = given
    mode = raw.get("mode", "Public")
    if mode not in ("Public", "Exam"):
        raise Invalid(f"mode: must be 'Public' or 'Exam', not {mode!r}", "mode")
    tz = _text(raw, "timezone")
    if tz is not None:
        try:
            zone(tz)
        except DateError as exc:
            raise Invalid(f"timezone: {exc}", "timezone") from None
    return Question(
        course=course,
        course_instance=_text(raw, "course_instance"),
        assessment=_text(raw, "assessment"),
        uid=uid,
        mode=Mode(mode),
        at=_text(raw, "at"),
        timezone=tz,
    )


def read_at(text: str | None, tz: ZoneInfo, field_name: str = "at") -> Instant | None:
    """An instant from a request: ISO 8601; without an offset, wall time in ``tz`` (an
    ambiguous time is its first occurrence, as in course files). ``None`` stays ``None``."""
    if text is None:
        return None
    if len(text) == 25 and text[10] == "T" and text[19] in "+-":
        # The common, explicit form (2024-03-19T10:00:00-05:00): read by the C parser, which
        # gives what parse_date gives for it; anything else goes through parse_date.
        try:
            return to_instant(datetime.fromisoformat(text))
        except ValueError:
            pass
    try:
        return parse_date(text, tz)[0]
    except DateError as exc:
        raise Invalid(f"{field_name}: {exc}", field_name) from None


@functools.cache
def _course_instance_query() -> Any:
    """The course instance with its course, by names (built once; names bound per call)."""
    return (
        select(CourseInstance)
        .join(Course, Course.id == CourseInstance.course_id)
        .options(contains_eager(CourseInstance.course))
        .where(
            Course.name == bindparam("course", type_=String),
            CourseInstance.short_name == bindparam("instance", type_=String),
        )
    )


def request_course_instance(ctx: Ctx, course: str, instance: str | None) -> CourseInstance:
    """The course instance a request names; ``instance`` may be left out when the course has
    only one."""
    if instance is not None:
        found: CourseInstance | None = ctx.session.scalars(
            _course_instance_query(), {"course": course, "instance": instance}
        ).one_or_none()
        if found is None:
            return find_course_instance(ctx, course, instance)  # raises NotFound
        return found
    rows = ctx.session.scalars(
        select(CourseInstance)
        .join(Course, Course.id == CourseInstance.course_id)
        .where(Course.name == course)
        .order_by(CourseInstance.short_name)
    ).all()
    if not rows:
        raise NotFound(f"course: there is no course {course!r}", "course")
    if len(rows) > 1:
        names = ", ".join(r.short_name for r in rows)
        raise Invalid(
            f"course_instance: {course} has several course instances; name one: {names}",
            "course_instance",
        )
    return rows[0]


def _role_at(held: Sequence[tuple[str, Instant | None, Instant | None]], at: Instant) -> Role:
    """The highest course-staff role in force at ``at`` (Student when none)."""
    best = Role.STUDENT
    for code, begins, ends in held:
        role = STAFF_ROLES.get(code, Role.STUDENT)
        if (begins is None or begins <= at) and (ends is None or at < ends) and role > best:
            best = role
    return best


def _json(value: Any) -> bytes:
    return orjson.dumps(value)


def error_json(error: ServiceError) -> bytes:
    """``{"error": {"code", "message", "field"}}``: an answer that is an error."""
    return _json({"error": error.to_json()})


Answer = bytes | ServiceError
"""A serialised decision, or the error that answers the request instead."""


def answer_questions(ctx: Ctx, questions: Sequence[Question | ServiceError]) -> list[Answer]:
    """Answer decision requests in order (errors are answers too: one bad request does not
    spoil the others). Requests are grouped by course instance: each is compiled once (or
    found compiled in the cache, :mod:`coursegate.services.decision_cache`), who may see whom
    is asked once per course instance, and each answer is the JSON of ``coursegate decide``."""
    out: list[Answer] = [b""] * len(questions)
    groups: dict[tuple[str, str | None], list[tuple[int, Question]]] = {}
    for k, q in enumerate(questions):
        if isinstance(q, ServiceError):
            out[k] = q
        else:
            groups.setdefault((q.course, q.course_instance), []).append((k, q))
    for (course, instance), items in groups.items():
        try:
            ci = request_course_instance(ctx, course, instance)
            _answer_group(ctx, ci, items, out)
        except ServiceError as error:
            for k, _ in items:
                out[k] = error
        except CourseError as error:
            problem = error.problems[0].message if error.problems else str(error)
            invalid = Invalid(
                f"course_instance: the stored configuration cannot be decided: {problem}",
                "course_instance",
            )
            for k, _ in items:
                out[k] = invalid
    return out


def answer_batch(ctx: Ctx, raw: object) -> bytes:
    """``{"requests": [...]}`` → ``{"results": [...]}``, serialised; see
    :func:`answer_questions`. More than :data:`MAX_BATCH` requests raise :class:`TooLarge`."""
    if not isinstance(raw, dict) or not isinstance(raw.get("requests"), list):
        raise Invalid('the body must be {"requests": [...]} (a list of decision requests)', "$")
    extra = sorted(set(raw) - {"requests"})
    if extra:
        raise Invalid(f"{extra[0]}: not a field of a batch (only requests)", extra[0])
    requests = raw["requests"]
    if len(requests) > MAX_BATCH:
        raise TooLarge(
            f"requests: {len(requests):,} decision requests in one batch; at most"
            f" {MAX_BATCH:,} (split them into several batches)",
            "requests",
        )
    questions: list[Question | ServiceError] = []
    me = ctx.effective
    for r in requests:
        try:
            questions.append(read_question(r, me))
        except ServiceError as error:
            questions.append(error)
    answers = answer_questions(ctx, questions)
    parts = [a if isinstance(a, bytes) else error_json(a) for a in answers]
    return b'{"results":[' + b",".join(parts) + b"]}"


def answer_one(ctx: Ctx, raw: object) -> bytes:
    """One decision request → its decision, serialised (errors are raised)."""
    (answer,) = answer_questions(ctx, [read_question(raw, ctx.effective)])
    if isinstance(answer, ServiceError):
        raise answer
    return answer


class _Pieces:
    """Serialised parts of answers: the JSON of decisions by ``id`` (each kept with its
    decision, so the id cannot be reused meanwhile) — shared with a cache entry — and of
    instants, for one batch."""

    def __init__(self, shared: dict[int, tuple[object, bytes]]) -> None:
        self.shared = shared
        self.ats: dict[tuple[Instant, str], bytes] = {}

    def decision(self, d: AssessmentDecision | CourseInstanceDecision, tz: tzinfo) -> bytes:
        hit = self.shared.get(id(d))
        if hit is None:
            hit = self.shared[id(d)] = (d, _json(d.to_json(tz)))
        return hit[1]

    def at(self, t: Instant, tz: tzinfo) -> bytes:
        key = (t, str(tz))
        found = self.ats.get(key)
        if found is None:
            found = self.ats[key] = _json(format_instant(t, tz))
        return found


def _answer_group(
    ctx: Ctx, ci: CourseInstance, items: Sequence[tuple[int, Question]], out: list[Answer]
) -> None:
    """Answer the requests of one course instance into ``out``."""
    label = instance_label(ci)
    viewing_all: tuple[bool, str] | None = None

    def refusal(uid: str) -> Refused | None:
        nonlocal viewing_all
        if ctx.is_self(uid, ci.id):
            return None
        if viewing_all is None:
            viewing_all = allowed(ctx, VIEW_STUDENTS, instance_area(ci))
        ok, why = viewing_all
        if ok:
            return None
        return Refused(f"{ctx.effective} may not view the access of {uid} in {label}: {why}")

    todo: list[tuple[int, Question]] = []
    for k, q in items:
        refused = refusal(q.uid)
        if refused is not None:
            out[k] = refused
        else:
            todo.append((k, q))
    if not todo:
        return
    # One query: the configuration, and everything about these users a decision depends on
    # (with their course roles and attempts); the compiled form is used only if it agrees.
    now = read_users(ctx.session, ci, {q.uid for _, q in todo})
    involved = {now.ids[q.uid] for _, q in todo if q.uid in now.ids}
    entries: dict[str, tuple[CompiledState, _Pieces]] = {}

    def entry_for(tz_name: str) -> tuple[CompiledState, _Pieces]:
        found = entries.get(tz_name)
        if found is None:
            compiled = compiled_state(ctx.session, ci, now, involved, tz_name)
            found = entries[tz_name] = (compiled, _Pieces(compiled.memo))
        return found

    base, pieces = entry_for(ci.timezone)
    state = base.state
    local = _Pieces({})  # decisions of this batch alone (staff, people not enrolled)
    outsiders: dict[int, Student] = {}
    own: dict[tuple[object, ...], tuple[Timeline[CourseInstanceDecision], Any]] = {}
    zones: dict[str, ZoneInfo] = {ci.timezone: state.tz}
    for k, q in todo:
        try:
            tz_name = q.timezone or ci.timezone
            tz = zones.get(tz_name)
            if tz is None:
                tz = zones[tz_name] = zone(tz_name)
            at = read_at(q.at, tz)
            when = ctx.at if at is None else at
            uid_id = now.ids.get(q.uid)
            if uid_id is None:
                raise NotFound(f"user.uid: there is no user {q.uid!r}", "user.uid")
            row = base.row_of_user.get(uid_id)
            j: int | None = None
            if q.assessment is not None:
                j = base.compiled.assessment_index.get(q.assessment)
                if j is None:
                    _assessment_id(state, q.assessment)  # raises NotFound, naming them all
                    raise NotFound(f"there is no assessment {q.assessment!r}", "assessment")
            role = _role_at(now.roles.get(uid_id, ()), when)
            attempt = (
                now.attempts.get(uid_id, {}).get(state.assessment_ids[q.assessment])
                if q.assessment
                else None
            )
            if row is not None and role is Role.STUDENT:
                entry, shared = (base, pieces) if tz_name == ci.timezone else entry_for(tz_name)
                row = entry.row_of_user[uid_id]  # each entry holds every user it was checked for
                compiled = entry.compiled
                c_part = shared.decision(compiled.decide_course_instance(row, when), tz)
                if j is None:
                    a_part = None
                elif q.mode is Mode.PUBLIC and attempt is None:
                    a_part = shared.decision(compiled.decide(row, j, when), tz)
                else:
                    tl = entry.cell(row, j, q.mode, attempt)
                    a_part = shared.decision(tl.at(when), tz)
            else:
                # Decided on its own: a staff role, or not (or no longer) enrolled.
                key = (q.uid, q.assessment, q.mode, role, tz_name)
                tls = own.get(key)
                if tls is None:
                    student = base.roster[row].student if row is not None else None
                    if student is None:
                        student = outsiders.get(uid_id)
                    if student is None:
                        user = ctx.session.get(User, uid_id)
                        assert user is not None
                        student = student_for(ctx.session, ci, state, user)
                        outsiders[uid_id] = student
                    config = None if j is None else base.compiled.assessments[j]
                    facts = Facts(
                        user=replace(student.user, role=role),
                        mode=q.mode,
                        reservations=student.reservations,
                        personal=student.personal.get(q.assessment, ()) if q.assessment else (),
                        enrollment=student.enrollment,
                        instance=attempt,
                    )
                    tls = own[key] = timelines(state.settings.policy, config, facts, tz)
                ci_tl, own_tl = tls
                c_part = local.decision(ci_tl.at(when), tz)
                a_part = None if own_tl is None else local.decision(own_tl.at(when), tz)
            answer = b'{"at":' + pieces.at(when, tz) + b',"course_instance":' + c_part
            if a_part is not None:
                answer += b',"assessment":' + a_part
            out[k] = answer + b"}"
        except ServiceError as error:
            out[k] = error


# -- the same, for requests that give the instant as text -------------------------------------


def matrix_at(
    ctx: Ctx,
    course: str,
    course_instance: str,
    at: str | None,
    *,
    sections: Iterable[str] | None = None,
    assessments: Iterable[str] | None = None,
    can_start_now: bool = False,
) -> CourseMatrix:
    """:func:`matrix` with ``at`` as ISO 8601 text (naive: the course instance's zone; None:
    ``ctx.at``)."""
    ci = find_course_instance(ctx, course, course_instance)
    when = read_at(at, zone(ci.timezone))
    return matrix(
        ctx,
        course,
        course_instance,
        when,
        sections=sections,
        assessments=assessments,
        can_start_now=can_start_now,
    )


def student_course_at(
    ctx: Ctx, course: str, course_instance: str, uid: str, at: str | None = None
) -> StudentCourse:
    """:func:`student_course` with ``at`` as ISO 8601 text (naive: the course instance's
    zone; None: ``ctx.at``)."""
    ci = find_course_instance(ctx, course, course_instance)
    require_view_student(ctx, ci, uid)
    when = read_at(at, zone(ci.timezone))
    return course_of(ctx, ci, ctx.user(uid), ctx.at if when is None else when)
