"""Properties of the decision core (hypothesis)."""

from __future__ import annotations

import itertools
import os
from dataclasses import replace

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from coursegate.core.access_control import (
    AccessControlConfig,
    AccessPatch,
    AfterLastDeadline,
    DateControlPatch,
    Deadline,
    Due,
)
from coursegate.core.convert import compare, propose_modern, substance, user_classes
from coursegate.core.course_instance import CourseInstancePolicy
from coursegate.core.decision import AssessmentDecision
from coursegate.core.engine import (
    AssessmentConfig,
    CompiledCourseInstance,
    Facts,
    PersonalOverride,
    Student,
    decide_directly,
    policy_for,
    timelines,
)
from coursegate.core.exceptions import StudentException, exception_override
from coursegate.core.instants import MINUTE, zone
from coursegate.core.legacy_rules import LegacyRule, legacy_policy
from coursegate.core.model import Form, InstanceFacts, Mode, Role, UserFacts
from coursegate.core.shared_rules import SharedRules

TZ = zone("America/Chicago")
BASE = 1_710_000_000 * 1_000_000  # March 2024
EXAMPLES = int(os.environ.get("COURSEGATE_PROPERTY_EXAMPLES", "150"))
"""Examples per property; raise it for a longer search (e.g. 2000)."""
CI = CourseInstancePolicy()
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

minutes = st.integers(min_value=0, max_value=20_000)


def at_minute(m: int) -> int:
    return BASE + m * MINUTE


@st.composite
def modern_configs(draw: st.DrawFn) -> AssessmentConfig:
    """Valid modern assessments: release, early > due > late credits, optional extras."""
    points = sorted(draw(st.lists(minutes, min_size=2, max_size=7, unique=True)))
    release = at_minute(points[0])
    rest = [at_minute(p) for p in points[1:]]
    n_early = draw(st.integers(0, max(0, len(rest) - 1)))
    due_credit = draw(st.sampled_from([100, 100, 110]))
    early_credits = sorted(
        draw(
            st.lists(
                st.integers(due_credit + 1, 200), min_size=n_early, max_size=n_early, unique=True
            )
        ),
        reverse=True,
    )
    early = tuple(Deadline(t, c) for t, c in zip(rest[:n_early], early_credits, strict=True))
    has_due = draw(st.booleans()) or len(rest) > n_early + 1
    due_t = rest[n_early] if has_due and len(rest) > n_early else None
    late_ts = rest[n_early + 1 :] if due_t is not None else []
    late_credits = sorted(
        draw(
            st.lists(st.integers(1, 99), min_size=len(late_ts), max_size=len(late_ts), unique=True)
        ),
        reverse=True,
    )
    late = tuple(Deadline(t, c) for t, c in zip(late_ts, late_credits, strict=True))
    last_credit = late_credits[-1] if late_credits else due_credit
    after = None
    if due_t is not None and draw(st.booleans()):
        after = AfterLastDeadline(True, draw(st.integers(0, min(99, last_credit - 1))))
    dc = DateControlPatch(
        release=release,
        due=Due(due_t, due_credit),
        early=early,
        late=late,
        after_last=after,
        duration_minutes=draw(st.one_of(st.none(), st.integers(1, 120))),
        password=draw(st.one_of(st.none(), st.just("pw"))),
    )
    overrides: list[AccessPatch] = []
    if draw(st.booleans()):
        shift = draw(st.integers(1, 3000)) * MINUTE
        overrides.append(
            AccessPatch(
                source="accessControl[1] (labels: a)",
                labels=frozenset({"a"}),
                date_control=DateControlPatch(
                    due=Due(None if due_t is None else due_t + shift, due_credit),
                    late=tuple(Deadline(d.date + shift, d.credit) for d in late),
                ),
            )
        )
    defaults = AccessPatch(source="accessControl[0] (defaults)", date_control=dc)
    return AssessmentConfig(
        id="a",
        form=Form.MODERN,
        access=AccessControlConfig(Form.MODERN, defaults, tuple(overrides)),
    )


@st.composite
def legacy_configs(draw: st.DrawFn) -> AssessmentConfig:
    rules = []
    for i in range(draw(st.integers(1, 5))):
        a, b = sorted(draw(st.lists(minutes, min_size=2, max_size=2, unique=True)))
        rules.append(
            LegacyRule(
                index=i,
                start=at_minute(a) if draw(st.booleans()) else None,
                end=at_minute(b) if draw(st.booleans()) else None,
                credit=draw(st.one_of(st.none(), st.sampled_from([0, 50, 80, 100, 110, 120]))),
                time_limit_minutes=draw(st.one_of(st.none(), st.integers(1, 90))),
                active=draw(st.sampled_from([True, True, True, False])),
                role=draw(st.sampled_from([None, None, Role.TA])),
                uids=draw(st.sampled_from([None, None, frozenset({"u1"})])),
                mode=draw(st.sampled_from([None, None, Mode.EXAM])),
                show_closed_assessment=draw(st.booleans()),
                password=draw(st.sampled_from([None, "p"])),
            )
        )
    rules = [
        r if r.active else replace(r, credit=0 if r.credit is not None else None) for r in rules
    ]
    return AssessmentConfig(
        id="l", form=Form.LEGACY, legacy_rules=tuple(rules), uids_named=frozenset({"u1"})
    )


users = st.sampled_from(
    [
        UserFacts(uid="s", role=Role.STUDENT),
        UserFacts(uid="u1", role=Role.STUDENT, sections=frozenset({"a"})),
        UserFacts(uid="t", role=Role.TA),
    ]
)
instances = st.sampled_from(
    [
        None,
        InstanceFacts(open=True),
        InstanceFacts(open=False),
        InstanceFacts(True, at_minute(5000)),
    ]
)


def normal_text(d: AssessmentDecision) -> tuple[object, ...]:
    """The decision as direct evaluation words it: the compiled timeline says when credit
    opens ("opens 08:00, Mon, Feb 5 at 100%") where one instant alone can only say "None"."""
    text = "None" if d.credit_text.startswith("opens ") else d.credit_text.split(" now;")[0]
    return (*substance(d), text, d.exam_access_end)


def check_timeline_against_direct(
    config: AssessmentConfig, facts: Facts, t: int, probes: list[int]
) -> None:
    _, tl = timelines(CI, config, facts, TZ)
    assert tl is not None
    here = tl.at(t)
    direct = decide_directly(CI, config, facts, t, TZ)
    assert normal_text(here) == normal_text(direct)
    nxt = here.next_change
    if nxt is not None:
        assert nxt > t
        # Something observable changes exactly at next_change ...
        assert tl.at(nxt).key() != here.key()
        assert substance(decide_directly(CI, config, facts, nxt, TZ)) == substance(tl.at(nxt))
    # ... and nothing observable changes before it.
    end = nxt if nxt is not None else t + 30_000 * MINUTE
    for p in probes:
        u = t + (end - t) * p // 1000
        if t <= u < end:
            assert substance(decide_directly(CI, config, facts, u, TZ)) == substance(here)


@SETTINGS
@given(modern_configs(), users, instances, minutes, st.lists(st.integers(0, 999), max_size=8))
def test_modern_compiled_timeline_agrees_with_direct_evaluation(
    config: AssessmentConfig, user: UserFacts, inst: InstanceFacts | None, m: int, probes: list[int]
) -> None:
    check_timeline_against_direct(config, Facts(user=user, instance=inst), at_minute(m), probes)


@SETTINGS
@given(
    legacy_configs(),
    users,
    instances,
    st.sampled_from([Mode.PUBLIC, Mode.EXAM]),
    minutes,
    st.lists(st.integers(0, 999), max_size=8),
)
def test_legacy_compiled_timeline_agrees_with_direct_evaluation(
    config: AssessmentConfig,
    user: UserFacts,
    inst: InstanceFacts | None,
    mode: Mode,
    m: int,
    probes: list[int],
) -> None:
    check_timeline_against_direct(
        config, Facts(user=user, instance=inst, mode=mode), at_minute(m), probes
    )


@SETTINGS
@given(modern_configs(), st.lists(minutes, min_size=2, max_size=12))
def test_under_modern_rules_credit_never_rises_with_time(
    config: AssessmentConfig, ms: list[int]
) -> None:
    policy = policy_for(config, UserFacts(uid="s"))
    assert config.access is not None
    release = min(g.start for g in policy.grants)
    facts = Facts(user=UserFacts(uid="s"))
    credits = [
        decide_directly(CI, config, facts, max(release, at_minute(m)), TZ).credit
        for m in sorted(ms)
    ]
    assert all(a >= b for a, b in itertools.pairwise(credits))


@SETTINGS
@given(modern_configs(), st.integers(1, 5000), minutes)
def test_an_override_never_changes_another_students_decision(
    config: AssessmentConfig, extension: int, m: int
) -> None:
    someone = Student(UserFacts(uid="x", sections=frozenset({"a"})))
    others = [
        Student(UserFacts(uid=f"s{i}", sections=frozenset({"a"} if i % 2 else set())))
        for i in range(4)
    ]
    own = (
        AccessPatch(
            source="your override 1",
            date_control=DateControlPatch(due=Due(at_minute(m) + extension * MINUTE), late=()),
        ),
    )
    before = CompiledCourseInstance(CI, [config], [someone, *others], TZ)
    after = CompiledCourseInstance(
        CI, [config], [replace(someone, personal={"a": own}), *others], TZ
    )
    for i in range(1, len(others) + 1):
        assert before.timeline(i, 0) == after.timeline(i, 0)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(legacy_configs(), st.lists(minutes, min_size=1, max_size=10))
def test_converted_rules_agree_wherever_convert_claims_equivalence(
    config: AssessmentConfig, ms: list[int]
) -> None:
    from coursegate.courses.modern_access import modern_access
    from coursegate.courses.reader import Reader

    rules = config.legacy_rules
    proposal = propose_modern(rules, TZ)
    r = Reader("converted", TZ)
    parsed = modern_access(r, proposal.access_control, "$.accessControl", None)
    assume(parsed is not None and r.ok and not proposal.student_overrides)
    assert parsed is not None
    modern_cfg = AssessmentConfig(
        id="m", form=Form.MODERN, access=AccessControlConfig(Form.MODERN, parsed[0], parsed[1])
    )
    classes = user_classes(rules)
    diffs = compare(
        lambda u: legacy_policy(rules), lambda u: policy_for(modern_cfg, u), classes, TZ
    )
    for c in classes:
        facts = Facts(user=c.user, mode=c.mode, reservations=c.reservations, instance=c.instance)
        for m in ms:
            t = at_minute(m)
            a = substance(decide_directly(CI, config, facts, t, TZ))
            b = substance(decide_directly(CI, modern_cfg, facts, t, TZ))
            claimed_same = not any(d.who == c.label and d.start <= t < d.end for d in diffs)
            assert all(d.staff == c.staff for d in diffs if d.who == c.label)
            assert claimed_same == (a == b)


@st.composite
def rosters(draw: st.DrawFn) -> list[Student]:
    out = []
    for i in range(draw(st.integers(1, 8))):
        sections = frozenset(draw(st.sets(st.sampled_from(["a", "b", "c"]), max_size=2)))
        role = draw(st.sampled_from([Role.STUDENT, Role.STUDENT, Role.STUDENT, Role.TA]))
        personal = {}
        if draw(st.booleans()):
            personal["a"] = (
                AccessPatch(
                    source="your override 1",
                    date_control=DateControlPatch(due=Due(at_minute(draw(minutes)))),
                ),
            )
        out.append(Student(UserFacts(uid=f"s{i}", role=role, sections=sections), personal=personal))
    return out


@SETTINGS
@given(st.lists(modern_configs(), min_size=1, max_size=3), rosters(), minutes)
def test_compiled_matrix_agrees_with_each_student_evaluated_alone(
    configs: list[AssessmentConfig], students: list[Student], m: int
) -> None:
    configs = [replace(c, id=f"a{j}" if j else "a") for j, c in enumerate(configs)]
    compiled = CompiledCourseInstance(CI, configs, students, TZ)
    t = at_minute(m)
    matrix = compiled.matrix(t)
    for i, s in enumerate(students):
        for j, a in enumerate(configs):
            facts = Facts(user=s.user, personal=s.personal.get(a.id, ()))
            direct = decide_directly(CI, a, facts, t, TZ)
            assert substance(matrix.cell(i, j)) == substance(direct)
            assert compiled.decide(i, j, t) == matrix.cell(i, j)


# ------------------------------------------------------- the matrix with students' extensions


@st.composite
def extended_rosters(draw: st.DrawFn, configs: list[AssessmentConfig]) -> list[Student]:
    """Students with exceptions as the roster makes them: a later due date for some
    (assessment, student) cells, several students often sharing one date, some staff."""
    dates = draw(st.lists(minutes, min_size=1, max_size=3))
    out = []
    for i in range(draw(st.integers(1, 10))):
        sections = frozenset(draw(st.sets(st.sampled_from(["a", "b"]), max_size=2)))
        role = draw(st.sampled_from([Role.STUDENT] * 5 + [Role.TA]))
        user = UserFacts(uid=f"s{i}" if i else "u1", role=role, sections=sections)
        personal: dict[str, tuple[PersonalOverride, ...]] = {}
        for a in configs:
            if draw(st.integers(0, 2)) == 0:
                due = at_minute(draw(st.sampled_from(dates) | minutes))
                label = draw(st.sampled_from(["your exception", "your exception (illness)"]))
                exc = StudentException(due=due, label=label)
                personal[a.id] = exception_override(a, sections, exc)
        out.append(Student(user, personal=personal))
    return out


@st.composite
def courses_with_extensions(
    draw: st.DrawFn,
) -> tuple[list[AssessmentConfig], list[Student]]:
    configs = draw(st.lists(st.one_of(modern_configs(), legacy_configs()), min_size=1, max_size=3))
    configs = [replace(c, id=f"{c.id}{j}") for j, c in enumerate(configs)]
    return configs, draw(extended_rosters(configs))


@SETTINGS
@given(courses_with_extensions(), st.lists(minutes, min_size=1, max_size=4))
def test_matrix_with_extensions_agrees_with_each_cell_decided_directly(
    course: tuple[list[AssessmentConfig], list[Student]], ms: list[int]
) -> None:
    """Sharing timelines among students with equal facts changes no cell."""
    configs, students = course
    compiled = CompiledCourseInstance(CI, configs, students, TZ)
    for m in ms:
        t = at_minute(m)
        matrix = compiled.matrix(t)
        for i, s in enumerate(students):
            for j, a in enumerate(configs):
                facts = Facts(user=s.user, personal=s.personal.get(a.id, ()))
                direct = decide_directly(CI, a, facts, t, TZ)
                cell = matrix.cell(i, j)
                assert normal_text(cell) == normal_text(direct)
                assert cell == compiled.decide(i, j, t)
                _, alone = timelines(CI, a, facts, TZ)
                assert alone is not None and cell == alone.at(t)


@SETTINGS
@given(courses_with_extensions(), st.integers(0, 9), minutes, st.lists(minutes, max_size=4))
def test_an_extension_for_one_student_never_changes_another_students_cell(
    course: tuple[list[AssessmentConfig], list[Student]], who: int, due: int, ms: list[int]
) -> None:
    configs, students = course
    k = who % len(students)
    s = students[k]
    a = configs[due % len(configs)]
    own = exception_override(a, s.user.sections, StudentException(due=at_minute(due)))
    changed = [*students]
    changed[k] = replace(s, personal={**s.personal, a.id: own})
    before = CompiledCourseInstance(CI, configs, students, TZ)
    after = CompiledCourseInstance(CI, configs, changed, TZ)
    for m in [*ms, due]:
        t = at_minute(m)
        old, new = before.matrix(t), after.matrix(t)
        for i in range(len(students)):
            if i != k:
                assert old.row(i) == new.row(i)


def test_students_with_the_same_extension_share_one_timeline() -> None:
    config = AssessmentConfig(
        id="hw",
        form=Form.MODERN,
        access=AccessControlConfig(
            Form.MODERN,
            AccessPatch(
                source="defaults",
                date_control=DateControlPatch(release=at_minute(0), due=Due(at_minute(600))),
            ),
        ),
    )
    ext = exception_override(config, frozenset(), StudentException(due=at_minute(900)))
    other = exception_override(config, frozenset(), StudentException(due=at_minute(1200)))
    students = [
        Student(UserFacts(uid=f"s{i}"), personal={"hw": (ext if i % 2 else other)})
        for i in range(40)
    ] + [Student(UserFacts(uid=f"t{i}")) for i in range(40)]
    compiled = CompiledCourseInstance(CI, [config], students, TZ)
    assert compiled.compiled_timelines == 3  # no extension, one date, the other date
    assert compiled.decide(1, 0, at_minute(700)).credit == 100
    assert compiled.decide(0, 0, at_minute(1000)).credit == 100
    assert compiled.decide(1, 0, at_minute(1000)).credit == 0
    assert compiled.decide(79, 0, at_minute(700)).credit == 0


@SETTINGS
@given(
    st.one_of(modern_configs(), legacy_configs()),
    users,
    st.sampled_from([None, 0, 500, 5000]),
)
def test_shared_rules_give_each_student_the_policy_they_would_get_alone(
    config: AssessmentConfig, user: UserFacts, due: int | None
) -> None:
    rules = SharedRules(config.form, config.legacy_rules, config.access)
    personal: tuple[PersonalOverride, ...] = ()
    if due is not None:
        personal = exception_override(config, user.sections, StudentException(due=at_minute(due)))
    for _ in range(2):  # the second time from the caches
        assert rules.policy(user.sections, personal) == policy_for(config, user, personal)
        assert rules.policy(user.sections) == policy_for(config, user)


def test_compare_sees_a_countdown_folded_into_one_interval() -> None:
    """A time limit that counts down to a rule's end is stored as one interval with a
    countdown; convert's comparison still sees each minute (found by the property above)."""
    from coursegate.courses.modern_access import modern_access
    from coursegate.courses.reader import Reader

    start = at_minute(0)
    rules = (
        LegacyRule(
            index=0, start=start, end=start + 443 * MINUTE, credit=50, time_limit_minutes=2,
            show_closed_assessment=False,
        ),
        LegacyRule(index=1, show_closed_assessment=False),
    )  # fmt: skip
    proposal = propose_modern(rules, TZ)
    parsed = modern_access(Reader("converted", TZ), proposal.access_control, "$", None)
    assert parsed is not None
    modern = AssessmentConfig(
        id="m", form=Form.MODERN, access=AccessControlConfig(Form.MODERN, parsed[0], parsed[1])
    )
    diffs = compare(
        lambda u: legacy_policy(rules), lambda u: policy_for(modern, u), user_classes(rules), TZ
    )
    closed = [d for d in diffs if d.who == "students with a closed attempt"]
    minute = at_minute(441)
    assert any(d.start <= minute < d.end for d in closed)
