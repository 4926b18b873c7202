"""Timelines: the decision for one user as a function of time, and ``next_change``.

Compiling sweeps the instants at which anything can change (grant starts and ends, visibility
windows, the end of an attempt's time limit, course-instance changes), decides each elementary
interval once (:func:`~coursegate.core.segment.decide_segment`), and records for each interval
the first later interval whose decision differs. A decision at ``at`` is then a binary search:
the compiled timeline *is* the evaluation, not a cache of it.
:func:`~coursegate.core.segment.decide_assessment_directly` evaluates the same rules at one
instant without compiling; tests check the two agree, and the benchmark compares their speed.

**Countdowns.** A time limit capped by the end of access shrinks by a minute every minute of
the last hour or so before the end (:mod:`coursegate.core.time_limits`), so a quiz's timeline
would hold one decision per minute of it, each differing only in ``time_limit_minutes`` and one
line of explanation. The timeline keeps such an interval as one entry: its first decision in
``values``, and a :class:`Countdown` in ``countdowns`` holding the last one and deciding the
minutes in between on demand, with the very inputs the compile used. Every answer is the one
the minute-by-minute timeline gives (``at``, ``intervals`` and ``next_change`` alike); only
what is stored differs.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import tzinfo
from typing import Generic, TypeVar, cast

from coursegate.core.decision import AssessmentDecision, CourseInstanceDecision
from coursegate.core.frozen import quick_init
from coursegate.core.instants import (
    MAX_INSTANT,
    MIN_INSTANT,
    MINUTE,
    Instant,
    format_for_people,
    year_for_people,
)
from coursegate.core.model import (
    AssessmentPolicy,
    Form,
    InstanceFacts,
    Mode,
    Reservation,
    Role,
    UserFacts,
)
from coursegate.core.segment import (
    Live,
    applicable,
    decide_segment,
    pct,
    winner,
)
from coursegate.core.time_limits import drops_within, no_time_left_from

D = TypeVar("D", AssessmentDecision, CourseInstanceDecision)


@quick_init
@dataclass(frozen=True, slots=True)
class Timeline(Generic[D]):
    """Decisions over time: ``values[i]`` holds on ``[starts[i], starts[i+1])``, unless
    ``countdowns[i]`` says a time limit counts down in that interval (assessment timelines
    only; empty when none does)."""

    starts: tuple[Instant, ...]
    values: tuple[D, ...]
    countdowns: tuple[Countdown | None, ...] = ()

    def at(self, t: Instant) -> D:
        i = bisect_right(self.starts, t) - 1
        if self.countdowns:
            c = self.countdowns[i]
            if c is not None and t >= c.first_drop:
                v: object = c.at(t)  # an AssessmentDecision: only those count down
                return cast(D, v)
        return self.values[i]

    def pieces(self) -> list[tuple[Instant, D]]:
        """Every stored interval's start and decision, a countdown's minutes spelled out (the
        exact values, explanation included; :meth:`intervals` merges equal keys)."""
        out: list[tuple[Instant, D]] = []
        for i, s in enumerate(self.starts):
            out.append((s, self.values[i]))
            c = self.countdowns[i] if self.countdowns else None
            if c is not None:
                out += [(t, self.at(t)) for t in range(c.first_drop, c.end(), MINUTE)]
        return out

    def intervals(
        self, lo: Instant = MIN_INSTANT, hi: Instant = MAX_INSTANT
    ) -> list[tuple[Instant, Instant, D]]:
        """Maximal intervals of equal decisions (by key) overlapping ``[lo, hi)``."""
        out: list[tuple[Instant, Instant, D]] = []
        s = self.starts[bisect_right(self.starts, lo) - 1]
        while s < hi:
            # Each next_change is the start of an interval (or of a countdown's minute).
            v = self.at(max(s, lo))
            nxt = v.next_change
            out.append((max(s, lo), min(MAX_INSTANT if nxt is None else nxt, hi), v))
            if nxt is None:
                break
            s = nxt
        return out


def with_next_changes(starts: Sequence[Instant], values: Sequence[D]) -> Timeline[D]:
    """Attach to each value the start of the first later interval whose key differs."""
    n = len(values)
    keys = [v.key() for v in values]
    nexts: list[Instant | None] = [None] * n
    next_start: Instant | None = None
    for i in range(n - 2, -1, -1):
        if keys[i + 1] != keys[i]:
            next_start = starts[i + 1]
        nexts[i] = next_start
    # Drop intervals whose decision equals the previous one in every respect (which needs an
    # equal key). Within a run of equal keys every value gets the same ``next_change``, so
    # the values are compared without it and only those kept are copied with it.
    keep_s: list[Instant] = [starts[0]]
    keep_v: list[D] = [values[0].with_next(nexts[0])]
    last = 0
    for i in range(1, n):
        if keys[i] == keys[last] and _equal_but_next(values[i], values[last]):
            continue
        keep_s.append(starts[i])
        keep_v.append(values[i].with_next(nexts[i]))
        last = i
    return Timeline(tuple(keep_s), tuple(keep_v))


def _equal_but_next(a: D, b: D) -> bool:
    """Whether ``a`` and ``b`` are equal in every field but ``next_change``."""
    if a.next_change == b.next_change:
        return a == b
    return a.with_next(None) == b.with_next(None)


# --------------------------------------------------------------------------- assessments


@quick_init
@dataclass(frozen=True, slots=True)
class _Inputs:
    """What :func:`decide_segment` is given for every interval of one compiled timeline."""

    policy: AssessmentPolicy
    role: Role
    mode: Mode
    live: tuple[Live, ...]
    instance: InstanceFacts | None
    tz: tzinfo


@quick_init
@dataclass(frozen=True, slots=True)
class Countdown:
    """A time limit counting down inside one interval of an assessment timeline.

    The interval's own decision (the timeline's ``values`` entry) holds until ``first_drop``;
    from then on the offered limit drops by one minute at ``first_drop``, ``first_drop + 1
    min``, ... (``count`` drops, the winning grant's own), and nothing else changes within the
    interval. The decision from the last drop on is kept (``last``); those in between are
    decided again when asked, as the compile would have decided them.
    """

    first_drop: Instant
    count: int
    last: AssessmentDecision
    course_instance: CourseInstanceDecision
    upcoming: tuple[Instant, float] | None
    """The credit look-ahead in force after the interval (see :func:`_look_ahead`)."""
    inputs: _Inputs

    def end(self) -> Instant:
        """Just after the last drop."""
        return self.first_drop + (self.count - 1) * MINUTE + 1

    def at(self, t: Instant) -> AssessmentDecision:
        """The decision at ``t`` (``t >= first_drop``, within the interval)."""
        m = (t - self.first_drop) // MINUTE
        if m >= self.count - 1:
            return self.last
        s = self.first_drop + m * MINUTE
        i = self.inputs
        v = decide_segment(
            i.policy, i.role, i.mode, i.live, s, i.instance, self.course_instance, i.tz
        )
        return _look_ahead(v, s, self.upcoming, i.tz)[0].with_next(s + MINUTE)


def _points(live: Sequence[Live], mode: Mode) -> tuple[set[Instant], list[tuple[Instant, int]]]:
    """Where anything but a time limit's minute-by-minute drop can change; and the runs of
    those drops, each as (first, count) a minute apart (:func:`drops_within`).

    A limit's drop to 0 (no new attempt from then on) changes more than the limit, so it is
    among the former.
    """
    points: set[Instant] = set()
    drops: list[tuple[Instant, int]] = []
    for lv in live:
        points.add(lv.start)
        points.add(lv.end)
        g = lv.grant
        points.update(g.questions.boundaries())
        points.update(g.score.boundaries())
        limit = g.time_limit_minutes
        if limit is not None and limit >= 1 and mode is Mode.PUBLIC and g.cap_end is not None:
            zero = no_time_left_from(g.cap_end)
            if lv.start < zero < lv.end:
                points.add(zero)
            run = drops_within(limit, g.cap_end, lv.start, min(lv.end, zero))
            if run[1]:
                drops.append(run)
    return points, drops


def _starts(points: set[Instant], drops: list[tuple[Instant, int]], tz: tzinfo) -> list[Instant]:
    """The sorted interval starts. A drop where the year (as texts print it) is not that of
    its interval's start starts an interval of its own, since texts relative to it differ."""
    starts = sorted(p for p in points if MIN_INSTANT <= p < MAX_INSTANT)
    if not starts or starts[0] != MIN_INSTANT:
        starts.insert(0, MIN_INSTANT)
    extra: set[Instant] = set()
    for first, count in drops:
        last = first + (count - 1) * MINUTE
        year = year_for_people(starts[bisect_right(starts, first) - 1], tz)
        if year is not None and year == year_for_people(last, tz):
            continue  # years never decrease: every drop of the run is in that year
        for p in range(first, last + 1, MINUTE):
            if year_for_people(p, tz) != year_for_people(starts[bisect_right(starts, p) - 1], tz):
                extra.add(p)
    return sorted({*starts, *extra}) if extra else starts


ShutOut = dict[tuple[int, Form], tuple[CourseInstanceDecision, AssessmentDecision]]
"""Decisions where the course instance gives no access, by (``id`` of its decision, form).

Such a decision depends on nothing else (:func:`decide_segment` returns it first), so every
timeline compiled against the same course-instance decisions can share it; the dictionary
holds each course-instance decision itself, so no ``id`` is reused while it is alive.
"""


def compile_assessment(
    policy: AssessmentPolicy,
    user: UserFacts,
    *,
    mode: Mode = Mode.PUBLIC,
    reservations: Sequence[Reservation] = (),
    instance: InstanceFacts | None = None,
    course_instance: Timeline[CourseInstanceDecision],
    tz: tzinfo,
    shut: ShutOut | None = None,
) -> Timeline[AssessmentDecision]:
    """Every decision this user can get for this assessment, over all time.

    ``shut``, when given, keeps the decisions where the course instance gives no access (see
    :data:`ShutOut`) for other timelines compiled with the same dictionary.
    """
    live = applicable(policy, user, mode, reservations, instance)
    points, drops = _points(live, mode)
    points.update(course_instance.starts)
    if instance is not None and instance.date_limit is not None:
        points.add(instance.date_limit)
    starts = _starts(points, drops, tz)
    n, role, ci_at = len(starts), user.role, course_instance.at
    firsts: list[AssessmentDecision] = []
    runs: list[tuple[Instant, int, AssessmentDecision] | None] = [None] * n
    cis: list[CourseInstanceDecision] = []
    for k, s in enumerate(starts):
        ci = ci_at(s)
        if ci.access or shut is None:
            v = decide_segment(policy, role, mode, live, s, instance, ci, tz)
        else:
            kept = shut.get((id(ci), policy.form))
            if kept is None or kept[0] is not ci:
                v = decide_segment(policy, role, mode, live, s, instance, ci, tz)
                shut[id(ci), policy.form] = (ci, v)
            else:
                v = kept[1]
        firsts.append(v)
        cis.append(ci)
        if v.time_limit_minutes is None or not drops:
            continue
        # Only the winning grant's limit shows; it counts down where its drops fall.
        g = winner(live, s)[0]
        assert g is not None and g.grant.time_limit_minutes is not None
        end = starts[k + 1] if k + 1 < n else MAX_INSTANT
        first, count = drops_within(g.grant.time_limit_minutes, g.grant.cap_end, s, end)
        if count:
            at = first + (count - 1) * MINUTE
            runs[k] = (first, count, decide_segment(policy, role, mode, live, at, instance, ci, tz))
    inputs = _Inputs(policy, role, mode, tuple(live), instance, tz)
    return _assemble(starts, firsts, runs, cis, inputs)


def _look_ahead(
    v: AssessmentDecision, start: Instant, upcoming: tuple[Instant, float] | None, tz: tzinfo
) -> tuple[AssessmentDecision, tuple[Instant, float] | None]:
    """Where there is no credit now but there will be, say from when: ``opens 08:00, Mon,
    Feb 5 at 100%`` (instead of PrairieLearn's bare ``None``).

    Intervals are looked at from the last back: ``upcoming`` is the start and credit of the
    nearest later interval in which an attempt can start for credit. Returns the decision and
    ``upcoming`` for the interval before it.
    """
    if v.can_start and v.credit > 0:
        return v, (start, v.credit)
    if v.credit == 0 and v.credit_text == "None" and upcoming is not None:
        when = format_for_people(upcoming[0], tz, relative_to=start)
        return v.with_credit_text(f"opens {when} at {pct(upcoming[1])}"), upcoming
    return v, upcoming


def _assemble(
    starts: list[Instant],
    firsts: list[AssessmentDecision],
    runs: list[tuple[Instant, int, AssessmentDecision] | None],
    cis: list[CourseInstanceDecision],
    inputs: _Inputs,
) -> Timeline[AssessmentDecision]:
    """The credit look-ahead, ``next_change`` and the dropping of repeated intervals, as
    :func:`with_next_changes` does them minute by minute, over intervals and countdowns.

    Within a countdown the minutes all differ (each offers a different limit) and share
    whether an attempt can start and its credit, so the first and the last minute stand for
    them all; a countdown's first decision changes at its first drop.
    """
    tz = inputs.tz
    n = len(starts)
    firsts = list(firsts)
    upcoming: tuple[Instant, float] | None = None
    if not any(runs):
        for i in range(n - 1, -1, -1):
            firsts[i], upcoming = _look_ahead(firsts[i], starts[i], upcoming, tz)
        return with_next_changes(starts, firsts)
    lasts: list[AssessmentDecision | None] = [None] * n
    ups: list[tuple[Instant, float] | None] = [None] * n
    for i in range(n - 1, -1, -1):
        run = runs[i]
        if run is not None:
            ups[i] = upcoming
            lasts[i], upcoming = _look_ahead(run[2], run[0] + (run[1] - 1) * MINUTE, upcoming, tz)
        firsts[i], upcoming = _look_ahead(firsts[i], starts[i], upcoming, tz)
    next_start: Instant | None = None
    for i in range(n - 1, -1, -1):
        run, tail = runs[i], lasts[i]
        here = firsts[i] if tail is None else tail
        if i + 1 < n and firsts[i + 1].key() != here.key():
            next_start = starts[i + 1]
        if run is not None and tail is not None:
            lasts[i] = tail.with_next(next_start)
            next_start = run[0]
        firsts[i] = firsts[i].with_next(next_start)
    keep_s: list[Instant] = []
    keep_v: list[AssessmentDecision] = []
    keep_c: list[Countdown | None] = []
    previous: AssessmentDecision | None = None
    for i in range(n):
        run, tail, v = runs[i], lasts[i], firsts[i]
        if run is None or tail is None:
            if previous == v:
                continue
            keep_s.append(starts[i])
            keep_v.append(v)
            keep_c.append(None)
            previous = v
            continue
        keep_s.append(starts[i])
        keep_v.append(v)
        keep_c.append(Countdown(run[0], run[1], tail, cis[i], ups[i], inputs))
        previous = tail
    return Timeline(tuple(keep_s), tuple(keep_v), tuple(keep_c))


@dataclass(frozen=True, slots=True)
class Stretch:
    """A run of intervals for display: equal except for a time limit counting down."""

    start: Instant
    end: Instant
    first: AssessmentDecision
    last: AssessmentDecision

    @property
    def time_limit_text(self) -> str | None:
        a, b = self.first.time_limit_minutes, self.last.time_limit_minutes
        if a is None:
            return None
        return f"{a} min" if a == b else f"{a} min, shrinking to {b} min as the end nears"


def readable_stretches(
    tl: Timeline[AssessmentDecision], lo: Instant = MIN_INSTANT, hi: Instant = MAX_INSTANT
) -> list[Stretch]:
    """:meth:`Timeline.intervals`, with minute-by-minute time-limit countdowns folded."""
    out: list[Stretch] = []
    for a, b, v in tl.intervals(lo, hi):
        if out:
            prev = out[-1]
            same = replace(v, time_limit_minutes=None, explanation=(), next_change=None)
            was = replace(prev.last, time_limit_minutes=None, explanation=(), next_change=None)
            if (
                prev.end == a
                and same.key() == was.key()
                and v.time_limit_minutes is not None
                and prev.last.time_limit_minutes is not None
            ):
                out[-1] = Stretch(prev.start, b, prev.first, v)
                continue
        out.append(Stretch(a, b, v, v))
    return out
