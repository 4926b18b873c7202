"""Compiled timelines keep a time limit's minute-by-minute countdown as one interval
(:class:`~coursegate.core.timeline.Countdown`); every answer must be the one the
minute-by-minute timeline gives. The reference below is the compile as it was before countdowns
were folded: one elementary interval per instant at which anything, a limit's drop included,
can change."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, tzinfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coursegate.core.access_control import (
    AccessControlConfig,
    AccessPatch,
    AfterLastDeadline,
    DateControlPatch,
    Deadline,
    Due,
)
from coursegate.core.course_instance import (
    CourseInstancePolicy,
    Publishing,
    compile_course_instance,
)
from coursegate.core.decision import AssessmentDecision, CourseInstanceDecision
from coursegate.core.engine import AssessmentConfig, policy_for
from coursegate.core.instants import (
    MAX_INSTANT,
    MIN_INSTANT,
    MINUTE,
    Instant,
    format_for_people,
    to_instant,
    zone,
)
from coursegate.core.legacy_rules import LegacyRule
from coursegate.core.model import AssessmentPolicy, Form, InstanceFacts, Mode, Role, UserFacts
from coursegate.core.segment import Live, applicable, decide_segment, pct
from coursegate.core.time_limits import cap_breakpoints, drops_within
from coursegate.core.timeline import (
    Timeline,
    compile_assessment,
    readable_stretches,
    with_next_changes,
)

TZ = zone("America/Chicago")
# Late December, so that deadlines, countdowns and look-ahead texts straddle New Year.
BASE = to_instant(datetime(2024, 12, 31, 12, 0, tzinfo=TZ))
EXAMPLES = int(os.environ.get("COURSEGATE_PROPERTY_EXAMPLES", "150"))
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
OPEN_CI = CourseInstancePolicy()
minutes = st.integers(min_value=0, max_value=600)


def at_minute(m: int) -> Instant:
    return BASE + m * MINUTE


# ------------------------------------------------------------------ the reference compile


def _reference_points(live: Sequence[Live], mode: Mode) -> set[Instant]:
    points: set[Instant] = set()
    for lv in live:
        points.add(lv.start)
        points.add(lv.end)
        g = lv.grant
        points.update(g.questions.boundaries())
        points.update(g.score.boundaries())
        if g.time_limit_minutes is not None and mode is Mode.PUBLIC:
            points.update(cap_breakpoints(g.time_limit_minutes, g.cap_end, lv.start, lv.end))
    return points


def reference_compile(
    policy: AssessmentPolicy,
    user: UserFacts,
    *,
    mode: Mode,
    instance: InstanceFacts | None,
    course_instance: Timeline[CourseInstanceDecision],
    tz: tzinfo,
) -> Timeline[AssessmentDecision]:
    """One interval per instant at which anything can change, decided one by one."""
    live = applicable(policy, user, mode, (), instance)
    points = _reference_points(live, mode)
    points.update(course_instance.starts)
    if instance is not None and instance.date_limit is not None:
        points.add(instance.date_limit)
    starts = sorted(p for p in points if MIN_INSTANT <= p < MAX_INSTANT)
    if not starts or starts[0] != MIN_INSTANT:
        starts.insert(0, MIN_INSTANT)
    values = [
        decide_segment(policy, user.role, mode, live, s, instance, course_instance.at(s), tz)
        for s in starts
    ]
    upcoming: tuple[Instant, float] | None = None
    for i in range(len(values) - 1, -1, -1):
        v = values[i]
        if v.can_start and v.credit > 0:
            upcoming = (starts[i], v.credit)
        elif v.credit == 0 and v.credit_text == "None" and upcoming is not None:
            when = format_for_people(upcoming[0], tz, relative_to=starts[i])
            values[i] = replace(v, credit_text=f"opens {when} at {pct(upcoming[1])}")
    return with_next_changes(starts, values)


# --------------------------------------------------------------------------- strategies


@st.composite
def timed_modern(draw: st.DrawFn) -> AssessmentConfig:
    """Quizzes: a time limit, deadlines close together (so countdowns meet deadlines)."""
    points = sorted(draw(st.lists(minutes, min_size=2, max_size=5, unique=True)))
    release, due, *late = (at_minute(p) for p in points)
    late_credits = sorted(
        draw(st.lists(st.integers(1, 99), min_size=len(late), max_size=len(late), unique=True)),
        reverse=True,
    )
    after = None
    if draw(st.booleans()):
        after = AfterLastDeadline(True, 0)
    dc = DateControlPatch(
        release=release,
        due=Due(due, draw(st.sampled_from([100, 110]))),
        late=tuple(Deadline(t, c) for t, c in zip(late, late_credits, strict=True)),
        after_last=after,
        duration_minutes=draw(st.integers(1, 90)),
    )
    overrides = ()
    if draw(st.booleans()):
        overrides = (
            AccessPatch(
                source="accessControl[1] (labels: a)",
                labels=frozenset({"a"}),
                date_control=DateControlPatch(duration_percent=150),
            ),
        )
    return AssessmentConfig(
        id="q",
        form=Form.MODERN,
        access=AccessControlConfig(
            Form.MODERN, AccessPatch(source="defaults", date_control=dc), overrides
        ),
    )


@st.composite
def timed_legacy(draw: st.DrawFn) -> AssessmentConfig:
    """Legacy rules with time limits whose windows overlap (several caps at once)."""
    rules = []
    for i in range(draw(st.integers(1, 4))):
        a, b = sorted(draw(st.lists(minutes, min_size=2, max_size=2, unique=True)))
        rules.append(
            LegacyRule(
                index=i,
                start=at_minute(a),
                end=at_minute(b) + draw(st.integers(0, 59)) * 1_000_000,
                credit=draw(st.one_of(st.none(), st.sampled_from([0, 50, 100, 120]))),
                time_limit_minutes=draw(st.one_of(st.none(), st.integers(1, 90))),
                active=draw(st.sampled_from([True, True, True, False])),
            )
        )
    return AssessmentConfig(id="l", form=Form.LEGACY, legacy_rules=tuple(rules))


users = st.sampled_from(
    [
        UserFacts(uid="s", role=Role.STUDENT),
        UserFacts(uid="s", role=Role.STUDENT, sections=frozenset({"a"})),
        UserFacts(uid="t", role=Role.TA),
    ]
)
instances = st.sampled_from(
    [None, InstanceFacts(open=True), InstanceFacts(open=False), InstanceFacts(True, BASE)]
)
course_instances = st.sampled_from(
    [OPEN_CI, CourseInstancePolicy(publishing=Publishing(at_minute(30), at_minute(400)))]
)


def check_same_answers(
    config: AssessmentConfig,
    user: UserFacts,
    inst: InstanceFacts | None,
    ci_policy: CourseInstancePolicy,
    probes: list[int],
) -> Timeline[AssessmentDecision]:
    ci = compile_course_instance(ci_policy, user, None, TZ)
    policy = policy_for(config, user)
    folded = compile_assessment(policy, user, instance=inst, course_instance=ci, tz=TZ)
    reference = reference_compile(
        policy, user, mode=Mode.PUBLIC, instance=inst, course_instance=ci, tz=TZ
    )
    # Every instant at which the reference changes, the microseconds around it, and probes.
    instants = {t + d for t in reference.starts for d in (-1, 0, 1) if t + d >= MIN_INSTANT}
    instants.update(BASE + p * 1_000_000 for p in probes)
    for t in sorted(instants):
        assert folded.at(t) == reference.at(t), t
    assert folded.intervals() == reference.intervals()
    lo, hi = sorted(BASE + p * 1_000_000 for p in probes[:2])
    assert folded.intervals(lo, hi) == reference.intervals(lo, hi)
    assert readable_stretches(folded) == readable_stretches(reference)
    pieces = [
        p for k, p in enumerate(folded.pieces()) if k == 0 or p[1] != folded.pieces()[k - 1][1]
    ]
    assert pieces == list(zip(reference.starts, reference.values, strict=True))
    return folded


probe_seconds = st.lists(st.integers(-3_600, 40_000), min_size=2, max_size=12)


@SETTINGS
@given(timed_modern(), users, instances, course_instances, probe_seconds)
def test_folded_countdowns_answer_as_minute_by_minute_modern(
    config: AssessmentConfig,
    user: UserFacts,
    inst: InstanceFacts | None,
    ci: CourseInstancePolicy,
    probes: list[int],
) -> None:
    check_same_answers(config, user, inst, ci, probes)


@SETTINGS
@given(timed_legacy(), users, instances, course_instances, probe_seconds)
def test_folded_countdowns_answer_as_minute_by_minute_legacy(
    config: AssessmentConfig,
    user: UserFacts,
    inst: InstanceFacts | None,
    ci: CourseInstancePolicy,
    probes: list[int],
) -> None:
    check_same_answers(config, user, inst, ci, probes)


def test_a_quiz_countdown_is_stored_as_one_interval() -> None:
    """An hour-long quiz keeps its last hour as one entry, not sixty."""
    due = at_minute(300)
    dc = DateControlPatch(release=at_minute(0), due=Due(due, 100), duration_minutes=60)
    config = AssessmentConfig(
        id="q",
        form=Form.MODERN,
        access=AccessControlConfig(Form.MODERN, AccessPatch(source="defaults", date_control=dc)),
    )
    user = UserFacts(uid="s")
    folded = check_same_answers(config, user, None, OPEN_CI, [0, 10_000])
    ci = compile_course_instance(OPEN_CI, user, None, TZ)
    reference = reference_compile(
        policy_for(config, user), user, mode=Mode.PUBLIC, instance=None, course_instance=ci, tz=TZ
    )
    assert len(reference.starts) > 60
    assert len(folded.starts) < 10
    limits = [folded.at(due - k * MINUTE).time_limit_minutes for k in (90, 45, 10, 1)]
    assert limits == [60, 44, 9, None]


@given(
    st.integers(0, 120),
    st.one_of(st.none(), st.integers(-10_000, 10_000)),
    st.integers(-20_000, 20_000),
    st.integers(0, 20_000),
)
def test_drops_within_names_exactly_the_cap_breakpoints(
    limit: int, cap_end_s: int | None, start_s: int, length_s: int
) -> None:
    cap_end = None if cap_end_s is None else BASE + cap_end_s * 1_000_000 + 7
    start = BASE + start_s * 1_000_000
    end = start + length_s * 1_000_000 + 3
    first, count = drops_within(limit, cap_end, start, end)
    expected = sorted(cap_breakpoints(limit, cap_end, start, end))
    assert [first + k * MINUTE for k in range(count)] == expected
