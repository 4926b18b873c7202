"""Converting legacy ``allowAccess`` to the modern ``accessControl`` list, and proving it.

:func:`propose_modern` reads the legacy rules' decisions for an ordinary student in Public mode
and writes the modern list that gives the same timeline: the release, early deadlines, due date,
late deadlines and what happens after the last one; testing-centre rules become linked exams;
rules for named ``uids`` become per-student overrides (they belong in the database, not in the
files). :func:`compare` then checks the two, for every class of users the rules distinguish
(each named uid, students, TAs; Public mode, Exam mode with a reservation for each linked exam,
Exam mode without one) at every instant where either could change, and lists every difference.

Two things can never be equivalent and are always reported when they matter: TAs (legacy rules
give them what ``role`` rules say; the modern form treats all course staff as staff), and access
ending (legacy access can stop altogether; modern access, once released, stays as "complete").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from coursegate.core.decision import AssessmentDecision, CourseInstanceDecision
from coursegate.core.instants import (
    MAX_INSTANT,
    MIN_INSTANT,
    Instant,
    format_wall,
    from_instant,
    localise,
)
from coursegate.core.legacy_rules import LegacyRule, legacy_policy
from coursegate.core.model import (
    AssessmentPolicy,
    InstanceFacts,
    Mode,
    Reservation,
    Role,
    UserFacts,
)
from coursegate.core.timeline import Timeline, compile_assessment

_OPEN_CI: Timeline[CourseInstanceDecision] = Timeline(
    (MIN_INSTANT,), (CourseInstanceDecision(True, ("(conversion check)",)),)
)


def substance(d: AssessmentDecision) -> tuple[object, ...]:
    """What is compared: everything a user can do or see, except how texts are worded."""
    return (
        d.access,
        d.listed,
        d.can_start,
        d.submittable,
        d.credit,
        d.time_limit_minutes,
        d.password_required,
        d.read_only,
        d.complete,
        d.questions_visible,
        d.score_visible,
    )


_FIELDS = (
    "access",
    "listed",
    "can_start",
    "submittable",
    "credit",
    "time_limit_minutes",
    "password_required",
    "read_only",
    "complete",
    "questions_visible",
    "score_visible",
)


def _detail(a: AssessmentDecision, b: AssessmentDecision) -> tuple[str, str]:
    """Name the fields that differ when the short descriptions are the same."""
    pairs = zip(_FIELDS, substance(a), substance(b), strict=True)
    diff = [(n, x, y) for n, x, y in pairs if x != y]
    left = ", ".join(f"{n}={x}" for n, x, _ in diff)
    right = ", ".join(f"{n}={y}" for n, _, y in diff)
    return f"{describe(a)} ({left})", f"{describe(b)} ({right})"


def describe(d: AssessmentDecision) -> str:
    if not d.access:
        return "no access" + (" (listed)" if d.listed else "")
    parts = [f"{d.credit:g}% credit" if d.submittable else "view only"]
    if d.can_start:
        parts.append("can start")
    if d.time_limit_minutes is not None:
        parts.append(f"{d.time_limit_minutes} min limit")
    if d.password_required:
        parts.append("password")
    if d.complete:
        parts.append("complete")
    if not d.questions_visible:
        parts.append("questions hidden")
    if not d.score_visible:
        parts.append("score hidden")
    return ", ".join(parts)


@dataclass(frozen=True)
class UserClass:
    """A kind of user the rules can tell apart."""

    label: str
    user: UserFacts
    mode: Mode = Mode.PUBLIC
    reservations: tuple[Reservation, ...] = ()
    instance: InstanceFacts | None = None
    staff: bool = False
    """Course staff: the modern form lets them bypass the rules, so their differences are
    reported but do not count against equivalence."""


def user_classes(rules: Sequence[LegacyRule]) -> list[UserClass]:
    """Every class of users the legacy rules distinguish, each in every state that matters."""
    uids = sorted({u for r in rules for u in (r.uids or ())})
    exams = sorted({r.exam_uuid for r in rules if r.exam_uuid is not None})
    people = [("students", UserFacts(uid="", role=Role.STUDENT))]
    people += [(f"student {u}", UserFacts(uid=u, role=Role.STUDENT)) for u in uids]
    people += [("TAs", UserFacts(uid="", role=Role.TA))]
    out: list[UserClass] = []
    for label, user in people:
        for state, inst in (("", None), (" with a closed attempt", InstanceFacts(open=False))):
            staff = user.role is not Role.STUDENT
            out.append(UserClass(label + state, user, Mode.PUBLIC, (), inst, staff))
            out.append(UserClass(label + " in Exam mode" + state, user, Mode.EXAM, (), inst, staff))
            for e in exams:
                out.append(
                    UserClass(
                        f"{label} with a reservation for exam {e}{state}",
                        user,
                        Mode.EXAM,
                        (Reservation(e, MIN_INSTANT, MAX_INSTANT),),
                        inst,
                        staff,
                    )
                )
    return out


@dataclass(frozen=True)
class Difference:
    who: str
    start: Instant
    end: Instant
    legacy: str
    modern: str
    staff: bool = False

    def render(self, tz: tzinfo) -> str:
        a = "the beginning" if self.start <= MIN_INSTANT else format_wall(self.start, tz)
        b = "for ever" if self.end >= MAX_INSTANT else format_wall(self.end, tz)
        return f"{self.who}, {a} → {b}: legacy gives {self.legacy}; converted gives {self.modern}"


def compare(
    legacy: Callable[[UserFacts], AssessmentPolicy],
    modern: Callable[[UserFacts], AssessmentPolicy],
    classes: Sequence[UserClass],
    tz: tzinfo,
) -> list[Difference]:
    """Every interval in which the two policies decide differently, for every class."""
    out: list[Difference] = []
    for c in classes:
        tls = [
            compile_assessment(
                f(c.user),
                c.user,
                mode=c.mode,
                reservations=c.reservations,
                instance=c.instance,
                course_instance=_OPEN_CI,
                tz=tz,
            )
            for f in (legacy, modern)
        ]
        # every change point, a countdown's minutes included (a folded countdown is one
        # stored interval, but its limit drops each minute)
        points = sorted({t for tl in tls for t, _ in tl.pieces()})
        current: Difference | None = None
        for i, t in enumerate(points):
            a, b = tls[0].at(t), tls[1].at(t)
            end = points[i + 1] if i + 1 < len(points) else MAX_INSTANT
            if substance(a) == substance(b):
                if current is not None:
                    out.append(current)
                    current = None
                continue
            da, db = describe(a), describe(b)
            if da == db:
                da, db = _detail(a, b)
            if current is not None and (current.legacy, current.modern) == (da, db):
                current = Difference(c.label, current.start, end, da, db, c.staff)
            else:
                if current is not None:
                    out.append(current)
                current = Difference(c.label, t, end, da, db, c.staff)
        if current is not None:
            out.append(current)
    return out


# --------------------------------------------------------------------------------- proposing


def _date(t: Instant, tz: tzinfo) -> str:
    """A course-file date for ``t``: wall time, with an offset only where DST makes it ambiguous."""
    dt = from_instant(t, tz)
    spec = "seconds" if dt.microsecond == 0 else "microseconds"
    naive = dt.replace(tzinfo=None)
    if isinstance(tz, ZoneInfo) and localise(naive, tz)[0] != t:
        return dt.isoformat(timespec=spec)
    return naive.isoformat(timespec=spec)


def _num(x: float) -> float:
    return int(x) if float(x).is_integer() else x


@dataclass
class Proposal:
    """A proposed modern ``accessControl`` list, with what could not be carried over."""

    access_control: list[dict[str, Any]]
    student_overrides: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _timeline_element(
    tl: Timeline[AssessmentDecision],
    rules: Sequence[LegacyRule],
    winners: Sequence[LegacyRule],
    tz: tzinfo,
    notes: list[str],
) -> dict[str, Any]:
    """The ``dateControl`` (and after-complete visibility) that reproduces a Public timeline."""
    intervals = [(a, b, v) for a, b, v in tl.intervals() if v.access]
    element: dict[str, Any] = {}
    if not intervals:
        return element
    release = intervals[0][0]
    dc: dict[str, Any] = {"release": _release(release, tz, notes)}
    bands, tail = _credit_bands(intervals, release, tz, notes)
    dc.update(_deadlines(bands, tail, tz))
    dc.update(_limit_and_password(winners, notes))
    element["dateControl"] = dc
    element["afterComplete"] = _after_complete(rules)
    return element


# The steps of _timeline_element, each giving keys of the element in the order they are written.


def _release(release: Instant, tz: tzinfo, notes: list[str]) -> dict[str, Any]:
    """``dateControl.release``: when access starts (a fixed early date if it always had)."""
    if release > MIN_INSTANT:
        return {"date": _date(release, tz)}
    notes.append("access has no start date: the release is set to 2000-01-01")
    return {"date": "2000-01-01T00:00:00"}


def _credit_bands(
    intervals: list[tuple[Instant, Instant, AssessmentDecision]],
    release: Instant,
    tz: tzinfo,
    notes: list[str],
) -> tuple[list[tuple[Instant, float]], AssessmentDecision | None]:
    """Credit bands: consecutive intervals that accept new attempts for credit, each as (end,
    credit); and the decision that follows the last band, if any."""
    bands: list[tuple[Instant, float]] = []
    tail: AssessmentDecision | None = None
    previous_end = release
    for a, b, v in intervals:
        if a != previous_end:
            notes.append(
                f"legacy access stops at {format_wall(previous_end, tz)} and resumes later"
            )
            break
        previous_end = b
        if v.can_start and v.credit > 0:
            credit = _num(v.credit)
            if bands and bands[-1][1] == credit:
                bands[-1] = (b, credit)
            else:
                bands.append((b, credit))
        else:
            tail = v
            break
    return bands, tail


def _deadlines(
    bands: list[tuple[Instant, float]], tail: AssessmentDecision | None, tz: tzinfo
) -> dict[str, Any]:
    """``due``, early and late deadlines and ``afterLastDeadline`` from the credit bands: the
    due date ends the last band at 100% or more (else the first band)."""
    if bands and bands[-1][0] >= MAX_INSTANT:
        return {"due": {"date": None, "credit": bands[-1][1]}}
    due_index = None
    for i, (_, c) in enumerate(bands):
        if c >= 100:
            due_index = i
    if due_index is None and bands:
        due_index = 0
    if due_index is None:
        return {}
    due_t, due_c = bands[due_index]
    dc: dict[str, Any] = {"due": {"date": _date(due_t, tz), "credit": due_c}}
    early = bands[:due_index]
    late = bands[due_index + 1 :]
    if early:
        dc["earlyDeadlines"] = [{"date": _date(t, tz), "credit": c} for t, c in early]
    if late:
        dc["lateDeadlines"] = [{"date": _date(t, tz), "credit": c} for t, c in late]
    if tail is not None and tail.submittable:
        dc["afterLastDeadline"] = {"allowSubmissions": True, "credit": 0}
    else:
        dc["afterLastDeadline"] = {"allowSubmissions": False}
    return dc


def _limit_and_password(winners: Sequence[LegacyRule], notes: list[str]) -> dict[str, Any]:
    """``durationMinutes`` and ``password``, when every rule giving credit agrees on them."""
    dc: dict[str, Any] = {}
    limits = {r.time_limit_minutes for r in winners if r.credit}
    if len(limits) == 1 and None not in limits:
        dc["durationMinutes"] = limits.pop()
    elif len(limits) > 1:
        notes.append("the rules use different time limits; the converted form cannot")
    passwords = {r.password for r in winners if r.credit}
    if len(passwords) == 1 and None not in passwords:
        dc["password"] = passwords.pop()
    elif len(passwords) > 1:
        notes.append("the rules use different passwords; consider dateControl.sessions")
    return dc


def _after_complete(rules: Sequence[LegacyRule]) -> dict[str, Any]:
    """``afterComplete``: questions and score are shown only if every rule shows them."""
    show_q = {r.show_closed_assessment for r in rules}
    show_s = {r.show_closed_assessment_score for r in rules}
    return {
        "questions": {"hidden": show_q != {True}},
        "score": {"hidden": show_s != {True}},
    }


def _exam_link(rule: LegacyRule, notes: list[str]) -> dict[str, Any]:
    """A linked exam for a legacy ``examUuid`` rule. In Exam mode the link's own
    ``afterComplete`` decides what a finished attempt shows (the assessment's does not), so the
    rule's ``showClosedAssessment`` flags go there; a ``readOnly`` link shows everything."""
    link: dict[str, Any] = {"examUuid": rule.exam_uuid}
    hide_q = not rule.show_closed_assessment or not rule.show_closed_assessment_score
    hide_s = not rule.show_closed_assessment_score
    if not rule.active:
        link["readOnly"] = True
        if hide_q:
            notes.append(
                f"{rule.name}: a read-only exam link shows the questions and the score; the "
                "rule's hiding cannot be carried over"
            )
    elif hide_q:
        link["afterComplete"] = {
            "questions": {"hidden": True},
            **({"score": {"hidden": True}} if hide_s else {}),
        }
    return link


def propose_modern(rules: Sequence[LegacyRule], tz: tzinfo) -> Proposal:
    """A modern list reproducing the legacy rules (see the module docstring)."""
    notes: list[str] = []
    policy = legacy_policy(tuple(rules))
    student = UserFacts(uid="", role=Role.STUDENT)
    tl = compile_assessment(policy, student, course_instance=_OPEN_CI, tz=tz)
    winners = [r for r in rules if r.uids is None and r.role in (None, Role.STUDENT)]
    defaults = _timeline_element(
        tl,
        rules,
        [r for r in winners if r.exam_uuid is None and r.mode is not Mode.EXAM],
        tz,
        notes,
    )
    exams = [_exam_link(r, notes) for r in rules if r.exam_uuid is not None and r.uids is None]
    if exams:
        defaults.setdefault("integrations", {})["prairieTest"] = {"exams": exams}
    if any(r.mode is Mode.EXAM and r.exam_uuid is None for r in rules):
        notes.append(
            "Exam-mode rules without examUuid have no modern equivalent (modern Exam access "
            "comes only from linked testing-centre exams)"
        )
    if any(r.role is not None and r.role > Role.STUDENT for r in rules):
        notes.append("rules for TAs are dropped: in the modern form course staff bypass the rules")
    overrides: list[dict[str, Any]] = []
    for uid in sorted({u for r in rules for u in (r.uids or ())}):
        mine = UserFacts(uid=uid, role=Role.STUDENT)
        their = compile_assessment(policy, mine, course_instance=_OPEN_CI, tz=tz)
        if [substance(v) for _, _, v in their.intervals()] == [
            substance(v) for _, _, v in tl.intervals()
        ] and their.starts == tl.starts:
            continue
        el = _timeline_element(
            their, rules, [r for r in rules if r.uids is None or uid in r.uids], tz, notes
        )
        dc = {
            "release": None,
            "due": None,
            "earlyDeadlines": [],
            "lateDeadlines": [],
            "afterLastDeadline": None,
            "durationMinutes": None,
            "password": None,
            **el.get("dateControl", {}),
        }
        overrides.append({"uids": [uid], "element": {"dateControl": dc}})
    if any(r.time_limit_minutes for r in rules) and not defaults.get("dateControl", {}).get(
        "durationMinutes"
    ):
        notes.append("time limits could not be carried over uniformly")
    elements: list[dict[str, Any]] = [defaults] if defaults else [{}]
    return Proposal(elements, overrides, notes)
