"""One-click extensions: what course staff see and do on the "Extend…" form.

An *extension* is an exception (:mod:`.granting`) for one assessment, asked for as a preset:

* a new deadline — ``+1 day``, ``+2 days``, ``+1 week`` from the student's **current** deadline
  (the due date the decision core gives them now, their other exceptions included; the same
  wall time in the course's zone, :func:`coursegate.core.exceptions.later_by_days`), or
  ``until`` a date;
* more time — ``1.5×`` or ``2×`` the usual time limit, or another multiplier (stored as
  ``time_limit_percent``).

Before anything is written, :func:`plan` is a dry run: the fields the exception would get and
each student's timeline of the assessment before and after (:class:`Outlook`, read off the
decision core's timeline exactly as the student's own page reads it). :func:`save` writes the
same plan through the existing service: :func:`granting.grant` (or :func:`granting.change` when
the student already has an exception for the assessment) for one student,
:func:`bulk.grant_many` for a section or pasted uids and emails (all or nothing).

Who may: looking at a student's current deadline (:func:`outlook_now`) needs ``vst`` (and says
nothing about people who are not students of the course instance); :func:`plan` and
:func:`save` need ``gex``, as granting does.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import func, or_, select

from coursegate.core.engine import CompiledCourseInstance, Student
from coursegate.core.exceptions import later_by_days
from coursegate.core.instants import MAX_INSTANT, Instant, format_for_people
from coursegate.core.model import InstanceFacts
from coursegate.services.access.decisions.schedule import Schedule, read_schedule
from coursegate.services.access.exceptions import bulk
from coursegate.services.access.exceptions import granting as X
from coursegate.services.access.exceptions.checks import check_student, check_target
from coursegate.services.access.exceptions.fields import (
    ASSESSMENT,
    MAX_PERCENT,
    check_body,
    read_fields,
    read_when,
)
from coursegate.services.access.exceptions.granting import require_grant_privilege
from coursegate.services.access.exceptions.records import ExceptionView
from coursegate.services.access.students import StudentState, load_students, not_enrolled
from coursegate.services.access.view_permissions import require_view_all
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Conflict, Invalid
from coursegate.services.common.places import course_instance_by_id, instance_label
from coursegate.services.courses.roster import load_roster, personal_overrides
from coursegate.services.courses.state import InstanceState, read_instance
from coursegate.services.people.uids import split_uids
from coursegate.store.models import CourseInstance, Enrollment, StudentOverride, User

DAYS = {"1d": 1, "2d": 2, "1w": 7}
"""The deadline presets that add days to the current deadline."""
UNTIL = "until"
DEADLINES = (*DAYS, UNTIL)
TIMES = {"1.5": 1.5, "2": 2.0}
"""The time-limit presets (multipliers of the usual time limit)."""
OTHER = "other"
MAX_MULTIPLIER = MAX_PERCENT / 100

_ASSUMED_OPEN = InstanceFacts(open=True, date_limit=None)


@dataclass(frozen=True)
class Ask:
    """What the form asks for: a deadline preset (``1d``, ``2d``, ``1w``, ``until`` or none)
    with its date, and a time preset (``1.5``, ``2``, ``other`` or none) with its multiplier."""

    deadline: str = ""
    until: str = ""
    time: str = ""
    multiplier: str = ""


@dataclass(frozen=True)
class Outlook:
    """What a student may do on one assessment, and when: their credited bands and due date
    (:class:`Schedule`) and the time limit an attempt gets (the next one they may start)."""

    schedule: Schedule
    time_limit_minutes: int | None
    afterwards: str = ""
    """What they may do once credit ends: ``practice`` (submit for no credit), ``view``
    (look, not submit), ``closed``; empty when credit never ends."""

    @property
    def due(self) -> Instant | None:
        return self.schedule.due


@dataclass(frozen=True)
class Line:
    """One student of a plan: before and after."""

    uid: str
    label: str
    before: Outlook
    after: Outlook


@dataclass(frozen=True)
class Plan:
    """A dry run: the exception's fields (as stored) and every student's timeline before and
    after. ``existing`` is the one student's exception for the assessment that saving changes."""

    aid: str
    title: str
    fields: dict[str, Any]
    lines: list[Line]
    warnings: list[str] = field(default_factory=list)
    existing: StudentOverride | None = None
    asked: dict[str, Any] = field(default_factory=dict)
    """The fields the extension sets (the rest of ``existing`` stays)."""


# -- reading the student's timeline off the decision core --------------------------------------


def outlooks(
    state: InstanceState, aid: str, students: Sequence[Student], at: Instant
) -> list[Outlook]:
    """Each student's :class:`Outlook` of ``aid``, from their compiled timeline with an attempt
    assumed open (as :func:`~coursegate.services.access.decisions.student.course_of` reads the
    dates the student's page shows)."""
    config = state.assessments[aid].config
    assumed = [replace(s, instances={aid: _ASSUMED_OPEN}) for s in students]
    compiled = CompiledCourseInstance(state.settings.policy, [config], assumed, state.tz)
    out: list[Outlook] = []
    for i in range(len(assumed)):
        tl = compiled.timeline(i, 0)
        window = next((v for _, _, v in tl.intervals(at) if v.can_start), None)
        schedule = read_schedule(tl)
        afterwards = ""
        if schedule.bands and schedule.bands[-1].end < MAX_INSTANT:
            d = tl.at(schedule.bands[-1].end)
            afterwards = (
                "practice" if d.access and d.submittable else "view" if d.access else "closed"
            )
        limit = window.time_limit_minutes if window else None
        out.append(Outlook(schedule, limit, afterwards))
    return out


def _with_exception(
    state: InstanceState, aid: str, student: Student, st: StudentState, body: dict[str, Any]
) -> Student:
    """``student`` as the core would see them with ``body`` as their exception for ``aid``
    (in place of the one they have): nothing is stored."""
    config = state.assessments[aid].config
    others = [r for r in st.rows if not (r.scope == ASSESSMENT and r.target == aid)]
    candidate = StudentOverride(scope=ASSESSMENT, target=aid, body=dict(body), reason="")
    own = personal_overrides(config, st.sections, [*others, candidate])
    return replace(student, personal={**student.personal, aid: own})


def _students(
    ctx: Ctx, ci: CourseInstance, state: InstanceState, users: Sequence[User]
) -> list[Student]:
    by_id = {
        e.user_id: e.student
        for e in load_roster(ctx.session, ci, state, user_ids=[u.id for u in users], attempts=False)
    }
    return [by_id[u.id] for u in users]


# -- the form: the student's deadline now ------------------------------------------------------


def _not_a_student(ci: CourseInstance, uid: str) -> Invalid:
    return Invalid(f"uid: {uid} is not a student of {instance_label(ci)}", "uid")


def outlook_now(
    ctx: Ctx, ci: CourseInstance, uid: str, aid: str
) -> tuple[Outlook, StudentOverride | None]:
    """The student's timeline of ``aid`` now and their exception for it (None: none). Needs
    ``vst``; someone who is not an enrolled student of ``ci`` is "not a student" whether or
    not they exist elsewhere."""
    require_view_all(ctx, ci)
    state = read_instance(ctx.session, ci)
    aid = check_target(state, ci, ASSESSMENT, aid)
    st = _enrolled_student(ctx, ci, uid)
    (student,) = _students(ctx, ci, state, [st.user])
    (now,) = outlooks(state, aid, [student], ctx.at)
    return now, _existing(st, aid)


def section_outlook(
    ctx: Ctx, ci: CourseInstance, section: str, aid: str
) -> list[tuple[Instant | None, int]]:
    """The deadlines the enrolled members of ``section`` have now on ``aid``, each with how
    many have it (earliest first; None, no due date, last). Needs ``vst``."""
    require_view_all(ctx, ci)
    state = read_instance(ctx.session, ci)
    aid = check_target(state, ci, ASSESSMENT, aid)
    _, members = bulk.recipients(ctx, ci, None, section)
    dues = Counter(o.due for o in outlooks(state, aid, _students(ctx, ci, state, members), ctx.at))
    return sorted(dues.items(), key=lambda p: (p[0] is None, p[0] or 0))


def _enrolled_student(ctx: Ctx, ci: CourseInstance, uid: str) -> StudentState:
    user = ctx.session.scalars(select(User).where(User.uid == uid)).one_or_none()
    if user is None:
        raise _not_a_student(ci, uid)
    st = load_students(ctx, ci, [user])[user.id]
    if not_enrolled(st, ci) is not None:
        raise _not_a_student(ci, uid)
    return st


def _existing(st: StudentState, aid: str) -> StudentOverride | None:
    return next((r for r in st.rows if r.scope == ASSESSMENT and r.target == aid), None)


# -- presets -----------------------------------------------------------------------------------


def _when(t: Instant, state: InstanceState) -> str:
    return format_for_people(t, state.tz)


def preset_due(
    ask: Ask, due: Instant | None, state: InstanceState, at: Instant, who: str
) -> Instant | None:
    """The new due date ``ask`` gives a student whose deadline is ``due`` (None: the deadline
    stays). :class:`Invalid` beside ``deadline`` or ``until`` when it cannot."""
    if not ask.deadline:
        return None
    if ask.deadline not in DEADLINES:
        raise Invalid(
            f"deadline: choose +1 day, +2 days, +1 week or until a date, not {ask.deadline!r}",
            "deadline",
        )
    if ask.deadline in DAYS:
        if due is None:
            raise Invalid(
                f"deadline: {who} has no due date on this assessment (credit never stops, or "
                "never starts), so there is nothing to add days to; choose until a date",
                "deadline",
            )
        return later_by_days(due, DAYS[ask.deadline], state.tz)
    if not ask.until:
        raise Invalid("until: give the date the extension lasts until", "until")
    t, _ = read_when(ask.until, state.tz, "until")
    if due is not None and t <= due:
        raise Invalid(
            f"until: {_when(t, state)} is not after {who}'s current deadline "
            f"({_when(due, state)}); an extension ends later (to shorten a deadline, change "
            "the exception on the exceptions page)",
            "until",
        )
    if t <= at:
        raise Invalid(
            f"until: {_when(t, state)} is already past (now: {_when(at, state)}); an extension "
            "must end in the future",
            "until",
        )
    return t


def preset_percent(ask: Ask) -> float | None:
    """The time limit ``ask`` gives, as a percentage of the usual (None: it stays)."""
    if not ask.time:
        return None
    if ask.time in TIMES:
        return TIMES[ask.time] * 100
    if ask.time != OTHER:
        raise Invalid(f"time: choose 1.5×, 2× or another multiplier, not {ask.time!r}", "time")
    try:
        x = float(ask.multiplier.replace("×", "").replace("x", "").strip())
    except ValueError:
        raise Invalid(
            f"multiplier: {ask.multiplier!r} is not a number; write it as 1.25 or 3",
            "multiplier",
        ) from None
    if not math.isfinite(x) or not 1 < x <= MAX_MULTIPLIER:
        raise Invalid(
            f"multiplier: more time means a multiplier above 1 (at most {MAX_MULTIPLIER:g}), "
            f"not {ask.multiplier}",
            "multiplier",
        )
    return round(x * 100, 4)


def _asked(ask: Ask) -> None:
    if not ask.deadline and not ask.time:
        raise Invalid("deadline: choose a new deadline, more time, or both", "deadline")


# -- the plan (a dry run) and saving ------------------------------------------------------------


def _new_fields(
    ask: Ask,
    due: Instant | None,
    befores: Sequence[Outlook],
    state: InstanceState,
    at: Instant,
    who: str,
) -> dict[str, Any]:
    """The fields ``ask`` sets (a student's other fields stay): ``due``, ``time_limit_percent``.
    ``due`` is the deadline the presets count from; every student of ``befores`` must have a
    time limit for more time to mean something."""
    out: dict[str, Any] = {}
    new_due = preset_due(ask, due, state, at, who)
    if new_due is not None:
        out["due"] = new_due
    percent = preset_percent(ask)
    if percent is not None:
        if any(b.time_limit_minutes is None for b in befores):
            raise Invalid(
                f"time: {who} has no time limit on this assessment, so more time changes nothing",
                "time",
            )
        out["time_limit_percent"] = int(percent) if float(percent).is_integer() else percent
    return out


def _merged(stored: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """A stored exception with the extension's fields: a time limit as a percentage replaces
    one in minutes."""
    body = dict(stored)
    if "time_limit_percent" in given:
        body.pop("time_limit_minutes", None)
    body.update(given)
    return body


def plan(ctx: Ctx, course_instance_id: int, uid: str, aid: str, ask: Ask) -> Plan:
    """The dry run for one student: the exception's fields (their exception for ``aid``, if
    any, with the new values) and their timeline before and after. Nothing is written."""
    ci = course_instance_by_id(ctx, course_instance_id)
    require_grant_privilege(ctx, ci, "grant extensions")
    _asked(ask)
    state = read_instance(ctx.session, ci)
    aid = check_target(state, ci, ASSESSMENT, aid)
    st = _enrolled_student(ctx, ci, uid)
    (student,) = _students(ctx, ci, state, [st.user])
    (before,) = outlooks(state, aid, [student], ctx.at)
    existing = _existing(st, aid)
    new = _new_fields(ask, before.due, [before], state, ctx.at, st.label)
    given, notes = read_fields(new, ASSESSMENT, state.tz, change=False)
    body = _merged(dict(existing.body) if existing else {}, given)
    check_body(body, ASSESSMENT, state.tz)
    warnings = notes + check_student(state, ci, st, ASSESSMENT, aid, body)
    (after,) = outlooks(state, aid, [_with_exception(state, aid, student, st, body)], ctx.at)
    line = Line(st.user.uid, st.label, before, after)
    title = state.assessments[aid].config.title
    return Plan(aid, title, body, [line], warnings, existing, given)


def resolve_pasted(ctx: Ctx, ci: CourseInstance, pasted: str) -> list[str]:
    """Pasted uids or email addresses (spaces, commas, semicolons or lines between them) as
    uids, in order: the email address of someone enrolled in ``ci`` (whatever its capitals)
    becomes their uid; anything else stays as it was (and is reported as not a student), so
    the list reveals nobody's uid outside the course instance."""
    items = split_uids(pasted)
    if not items:
        raise Invalid("uids: paste the students' uids or email addresses", "uids")
    lowered = [i.lower() for i in items]
    found = ctx.session.execute(
        select(User.uid, User.email)
        .join(Enrollment, Enrollment.user_id == User.id)
        .where(
            Enrollment.course_instance_id == ci.id,
            or_(User.uid.in_(items), func.lower(User.email).in_(lowered)),
        )
    ).all()
    uids = {u for u, _ in found}
    by_email = {e.lower(): u for u, e in found if e}
    return list(dict.fromkeys(i if i in uids else by_email.get(i.lower(), i) for i in items))


def plan_many(
    ctx: Ctx,
    course_instance_id: int,
    aid: str,
    ask: Ask,
    *,
    uids: Sequence[str] | None = None,
    section: str | None = None,
) -> Plan:
    """The dry run for many students (``uids``, or every enrolled member of ``section``): one
    exception with the same fields each. A deadline preset counts from the students' current
    deadline, so they must share it (otherwise: until a date). Every student who cannot get it
    is listed (:class:`bulk.BulkInvalid`, beside the students' field); nothing is written."""
    ci = course_instance_by_id(ctx, course_instance_id)
    require_grant_privilege(ctx, ci, "grant extensions")
    _asked(ask)
    state = read_instance(ctx.session, ci)
    aid = check_target(state, ci, ASSESSMENT, aid)
    wanted, users = bulk.recipients(ctx, ci, uids, section)
    sts = load_students(ctx, ci, users)
    by_uid = {st.user.uid: st for st in sts.values()}
    problems: list[bulk.BulkProblem] = []
    for u in wanted:
        st = by_uid.get(u)
        if st is None or st.status is None:  # the same words whether or not they exist
            why: str | None = f"not a student of {instance_label(ci)}"
        else:
            why = not_enrolled(st, ci)
        if why is not None:
            problems.append(bulk.BulkProblem(u, why))
    if problems:
        raise bulk.BulkInvalid(problems, "cannot get this extension")
    ordered = [by_uid[u] for u in wanted]
    students = _students(ctx, ci, state, [st.user for st in ordered])
    befores = outlooks(state, aid, students, ctx.at)
    dues = sorted({b.due for b in befores}, key=lambda d: (d is None, d or 0))
    if ask.deadline in DAYS and len(dues) > 1:
        said = ", ".join("none" if d is None else _when(d, state) for d in dues)
        raise Invalid(
            f"deadline: these students have different deadlines now ({said}), so +days would "
            "give them different dates; choose until a date, or extend them one at a time",
            "deadline",
        )
    who = "every student" if len(ordered) > 1 else ordered[0].label
    latest = max((d for d in dues if d is not None), default=None)
    base = dues[0] if ask.deadline in DAYS else latest
    given = _new_fields(ask, base, befores, state, ctx.at, who)
    try:
        report = bulk.grant_many(
            ctx, ci.id, ASSESSMENT, aid, given, reason="(preview)",
            uids=[st.user.uid for st in ordered], dry_run=True,
        )  # fmt: skip
    except bulk.BulkInvalid as invalid:
        raise bulk.BulkInvalid(invalid.problems, "cannot get this extension") from None
    afters = outlooks(
        state,
        aid,
        [
            _with_exception(state, aid, s, st, given)
            for s, st in zip(students, ordered, strict=True)
        ],
        ctx.at,
    )
    lines = [
        Line(st.user.uid, st.label, b, a) for st, b, a in zip(ordered, befores, afters, strict=True)
    ]
    title = state.assessments[aid].config.title
    return Plan(aid, title, given, lines, report.warnings, None, given)


def save(
    ctx: Ctx,
    course_instance_id: int,
    uid: str,
    aid: str,
    ask: Ask,
    *,
    reason: str,
    version: int | None = None,
) -> tuple[Plan, ExceptionView]:
    """Grant the plan for one student (or change their exception for ``aid``: ``version`` is
    the one the form showed, :class:`Conflict` when it moved on). One history entry."""
    p = plan(ctx, course_instance_id, uid, aid, ask)
    if p.existing is None:
        if version is not None:
            raise Conflict(
                "version: the exception you saw was removed since you loaded the form; "
                "look at the preview again",
                "version",
            )
        view = X.grant(ctx, course_instance_id, uid, ASSESSMENT, p.aid, p.fields, reason=reason)
    else:
        if version is None:
            version = p.existing.version
        given: dict[str, Any] = dict(p.asked)
        if "time_limit_percent" in given and "time_limit_minutes" in p.existing.body:
            given["time_limit_minutes"] = None
        view = X.change(ctx, p.existing.id, given, version=version, reason=reason,
                        course_instance_id=course_instance_id)  # fmt: skip
    return p, view


def save_many(
    ctx: Ctx,
    course_instance_id: int,
    aid: str,
    ask: Ask,
    *,
    reason: str,
    uids: Sequence[str] | None = None,
    section: str | None = None,
) -> tuple[Plan, bulk.BulkReport]:
    """Grant the plan to every student of it, in the caller's one transaction (all or
    nothing), one history entry each."""
    p = plan_many(ctx, course_instance_id, aid, ask, uids=uids, section=section)
    report = bulk.grant_many(
        ctx, course_instance_id, ASSESSMENT, p.aid, p.fields, reason=reason,
        uids=[line.uid for line in p.lines],
    )  # fmt: skip
    return p, report


__all__ = [
    "DAYS",
    "TIMES",
    "Ask",
    "Line",
    "Outlook",
    "Plan",
    "outlook_now",
    "outlooks",
    "plan",
    "plan_many",
    "resolve_pasted",
    "save",
    "save_many",
]
