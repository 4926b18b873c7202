"""Generated course instances for the benchmarks, built directly from the core dataclasses.

Deterministic: every generator takes a seed (``SEED`` by default), so two runs of ``make bench``
measure the same course instance.

The mix follows the issue's course instance (800 students, 60 assessments, 20 sections):

* about five assessments in six use the modern ``accessControl`` form: homework (release, an
  optional early-bonus deadline, the due date, late deadlines, then zero-credit practice) and
  timed quizzes (a shorter window, a time limit, closed after the due date); roughly 40 % of
  them carry one to three label overrides for some sections (a later due date, or 150 % time);
* the rest are legacy ``allowAccess`` assessments (full credit until the end date, reduced credit
  for a few days more, sometimes a time limit, sometimes an extension for named uids);
* each student is in one or two sections; 5 % of students have their own overrides on one to
  three assessments (a later due date, or a legacy extension rule).

The big matrix (:func:`big`) keeps the same proportions: 1,000 assessments, and sections scaled
with the students (40 students a section, so 250 sections) so that a section override still
reaches the same share of the class.

The extensions matrix (:func:`extensions`) is the big matrix with 2 % of its cells (200,000)
carrying a student's exception, made as the roster makes them from stored exceptions
(:func:`~coursegate.core.exceptions.exception_override`): a new due date counted from the due
date the student had (after their section overrides). Most are the standard extensions a TA
grants in a click (1, 2, 3 or 7 days later: many students share each new date), a quarter a day
picked by hand (1 to 21 days later), and one in twenty an instant of its own (distinct); one in
six gives a reason, which the explanation shows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from coursegate.core.access_control import (
    AccessControlConfig,
    AccessPatch,
    AfterLastDeadline,
    DateControlPatch,
    Deadline,
    Due,
    matching_overrides,
    resolve_settings,
)
from coursegate.core.course_instance import CourseInstancePolicy, Publishing
from coursegate.core.engine import AssessmentConfig, PersonalOverride, Student
from coursegate.core.exceptions import StudentException, exception_override
from coursegate.core.instants import MINUTE, SECOND, Instant, from_instant, to_instant, zone
from coursegate.core.legacy_rules import LegacyRule
from coursegate.core.model import EnrollmentFacts, Form, Role, UserFacts

SEED = 20240116
TIMEZONE = "America/Chicago"
LEGACY_EVERY = 6
"""Every sixth assessment is legacy (10 of 60, 166 of 1,000)."""
PERSONAL_SHARE = 0.05
STUDENTS_PER_SECTION = 40


@dataclass(frozen=True, slots=True)
class Workload:
    """A generated course instance and the term its dates fall in."""

    name: str
    ci: CourseInstancePolicy
    assessments: tuple[AssessmentConfig, ...]
    students: tuple[Student, ...]
    sections: tuple[str, ...]
    tz: ZoneInfo
    term_start: Instant
    term_end: Instant

    @property
    def students_with_personal(self) -> int:
        return sum(1 for s in self.students if s.personal)

    @property
    def legacy_count(self) -> int:
        return sum(1 for a in self.assessments if a.form is Form.LEGACY)

    @property
    def label_override_count(self) -> int:
        return sum(len(a.access.overrides) for a in self.assessments if a.access is not None)

    def describe(self) -> str:
        return (
            f"{self.name}: {len(self.students):,} students, {len(self.assessments):,} assessments"
            f" ({len(self.assessments) - self.legacy_count:,} modern with"
            f" {self.label_override_count:,} label overrides, {self.legacy_count:,} legacy),"
            f" {len(self.sections):,} sections, {self.students_with_personal:,} students with"
            " personal overrides"
        )


def _local(tz: ZoneInfo, *args: int) -> Instant:
    return to_instant(datetime(*args, tzinfo=tz))


def _at_2359(t: Instant, tz: ZoneInfo) -> Instant:
    """The same local day at 23:59:00."""
    d = from_instant(t, tz)
    return _local(tz, d.year, d.month, d.day, 23, 59)


DAY = 86_400 * 1_000_000


def _modern(
    rng: random.Random, j: int, term_start: Instant, sections: tuple[str, ...], tz: ZoneInfo
) -> AssessmentConfig:
    """A modern homework (early/late deadlines) or a timed quiz, maybe with label overrides."""
    week = rng.randrange(15)
    release = term_start + week * 7 * DAY + rng.randrange(3) * DAY + 9 * 3_600_000_000
    quiz = rng.random() < 0.4
    if quiz:
        due = _at_2359(release + 2 * DAY, tz)
        dc = DateControlPatch(
            release=release,
            due=Due(due, 100),
            late=(Deadline(due + DAY, 50),) if rng.random() < 0.3 else (),
            after_last=AfterLastDeadline(False),
            duration_minutes=rng.choice((20, 30, 45, 60)),
        )
        aid, set_name = f"quiz/q{j:04d}", "Quiz"
    else:
        due = _at_2359(release + 7 * DAY, tz)
        early = (Deadline(due - 3 * DAY, 110),) if rng.random() < 0.5 else ()
        late = (Deadline(due + 2 * DAY, 80), Deadline(due + 7 * DAY, 50))[: rng.randrange(3)]
        dc = DateControlPatch(
            release=release,
            due=Due(due, 100),
            early=early,
            late=late,
            after_last=AfterLastDeadline(True, 0),
        )
        aid, set_name = f"hw/hw{j:04d}", "Homework"
    overrides: list[AccessPatch] = []
    if rng.random() < 0.4:
        for n in range(rng.randint(1, 3)):
            labels = frozenset(rng.sample(sections, rng.randint(1, 2)))
            if quiz and rng.random() < 0.5:
                patch = DateControlPatch(duration_percent=150)
            else:
                patch = DateControlPatch(due=Due(due + rng.randint(1, 3) * DAY, 100))
            overrides.append(
                AccessPatch(source=f"override {n + 1}", labels=labels, date_control=patch)
            )
    defaults = AccessPatch(source="defaults", date_control=dc)
    return AssessmentConfig(
        aid,
        form=Form.MODERN,
        access=AccessControlConfig(Form.MODERN, defaults, tuple(overrides)),
        title=aid,
        set_name=set_name,
        number=str(j),
    )


def _legacy(
    rng: random.Random, j: int, term_start: Instant, uids: list[str], tz: ZoneInfo
) -> AssessmentConfig:
    """A legacy assessment: full credit, then reduced credit, sometimes an extension by uid."""
    week = rng.randrange(15)
    start = term_start + week * 7 * DAY + 9 * 3_600_000_000
    end = _at_2359(start + 7 * DAY, tz) + 59_000_000  # 23:59:59 inclusive
    limit = rng.choice((None, None, 50))
    named: frozenset[str] = frozenset()
    if rng.random() < 0.3:
        named = frozenset(rng.sample(uids, 3))
    rules: list[LegacyRule] = []
    if named:
        rules.append(LegacyRule(index=0, uids=named, start=start, end=end + 5 * DAY, credit=100))
    n = len(rules)
    rules += [
        LegacyRule(index=n, start=start, end=end, credit=100, time_limit_minutes=limit),
        LegacyRule(
            index=n + 1, start=start, end=end + 3 * DAY, credit=50, time_limit_minutes=limit
        ),
        LegacyRule(index=n + 2, role=Role.TA, credit=100),
    ]
    return AssessmentConfig(
        f"legacy/old{j:04d}",
        form=Form.LEGACY,
        legacy_rules=tuple(rules),
        title=f"legacy {j}",
        set_name="Homework",
        number=str(j),
        uids_named=named,
    )


def _personal(
    rng: random.Random, a: AssessmentConfig, term_start: Instant, term_end: Instant, n: int
) -> PersonalOverride:
    """A student's own override: a later due date (modern) or an extension rule (legacy)."""
    if a.form is Form.LEGACY:
        first = a.legacy_rules[0]
        start = first.start if first.start is not None else term_start
        end = (first.end if first.end is not None else term_end) + rng.randint(2, 7) * DAY
        return LegacyRule(
            index=n, start=start, end=end, credit=100, source=f"your extension {n + 1}"
        )
    assert a.access is not None
    dc = a.access.defaults.date_control
    due = dc.due.date if isinstance(dc, DateControlPatch) and isinstance(dc.due, Due) else None
    base = due if due is not None else term_end
    return AccessPatch(
        source=f"your override {n + 1}",
        date_control=DateControlPatch(due=Due(base + rng.randint(1, 10) * DAY, 100)),
    )


def generate(
    name: str,
    n_students: int,
    n_assessments: int,
    n_sections: int,
    *,
    seed: int = SEED,
) -> Workload:
    """A course instance of the given size with the mix of the module docstring."""
    rng = random.Random(seed)
    tz = zone(TIMEZONE)
    term_start = _local(tz, 2024, 1, 16, 0, 0)
    term_end = _local(tz, 2024, 5, 10, 23, 59, 59)
    sections = tuple(f"sec-{k:03d}" for k in range(n_sections))
    uids = [f"s{i:05d}@example.edu" for i in range(n_students)]
    assessments = tuple(
        _legacy(rng, j, term_start, uids, tz)
        if j % LEGACY_EVERY == LEGACY_EVERY - 1
        else _modern(rng, j, term_start, sections, tz)
        for j in range(n_assessments)
    )
    personal_students = set(rng.sample(range(n_students), round(n_students * PERSONAL_SHARE)))
    students: list[Student] = []
    for i, uid in enumerate(uids):
        secs = frozenset(rng.sample(sections, rng.randint(1, 2)))
        personal: dict[str, tuple[PersonalOverride, ...]] = {}
        if i in personal_students:
            for a in rng.sample(assessments, rng.randint(1, 3)):
                personal[a.id] = (_personal(rng, a, term_start, term_end, 0),)
        students.append(
            Student(
                user=UserFacts(uid=uid, role=Role.STUDENT, sections=secs),
                enrollment=EnrollmentFacts("joined"),
                personal=personal,
            )
        )
    ci = CourseInstancePolicy(form="modern", publishing=Publishing(term_start, term_end))
    return Workload(
        name=name,
        ci=ci,
        assessments=assessments,
        students=tuple(students),
        sections=sections,
        tz=tz,
        term_start=term_start,
        term_end=term_end,
    )


def issue(seed: int = SEED) -> Workload:
    """(a) The issue's course instance: 800 students, 60 assessments, 20 sections."""
    return generate("(a) issue", 800, 60, 20, seed=seed)


def big(seed: int = SEED) -> Workload:
    """(b) The big matrix: 10,000 students × 1,000 assessments, 250 sections."""
    return generate("(b) big", 10_000, 1_000, 10_000 // STUDENTS_PER_SECTION, seed=seed)


EXTENSION_SHARE = 0.02
STANDARD_DAYS = (1, 2, 3, 7)
"""The extensions a TA grants in a click."""
STANDARD_SHARE = 0.85
BY_HAND_SHARE = 0.13
"""A day picked by hand (1 to ``BY_HAND_DAYS`` days later); the rest (2 %) an instant of its own."""
BY_HAND_DAYS = 14
REASONS = ("DRS accommodation", "illness")
REASON_SHARE = 0.1


def _due_for(a: AssessmentConfig, sections: frozenset[str]) -> Instant | None:
    """The due date a student in ``sections`` has for ``a`` before any exception (legacy: the
    end of the full-credit rule, as an exclusive instant)."""
    if a.form is Form.LEGACY:
        ends = [r.end for r in a.legacy_rules if r.credit == 100 and r.uids is None and r.end]
        return None if not ends else min(ends) + SECOND
    assert a.access is not None
    dc = resolve_settings(a.access, sections).date_control
    return None if dc is None or dc.due is None else dc.due.date


def _new_due(rng: random.Random, due: Instant) -> Instant:
    """A later due date: a standard extension (shared), a day picked by hand, or an instant of
    its own."""
    roll = rng.random()
    if roll < STANDARD_SHARE:
        return due + rng.choice(STANDARD_DAYS) * DAY
    if roll < STANDARD_SHARE + BY_HAND_SHARE:
        return due + rng.randint(1, BY_HAND_DAYS) * DAY
    return due + rng.randint(60, BY_HAND_DAYS * 24 * 60) * MINUTE


def extensions(seed: int = SEED) -> Workload:
    """(c) The big matrix with 2 % of its cells carrying a student's exception (a later due)."""
    w = generate("(c) extensions", 10_000, 1_000, 10_000 // STUDENTS_PER_SECTION, seed=seed)
    rng = random.Random(seed + 3)
    ns, na = len(w.students), len(w.assessments)
    cells = sorted(rng.sample(range(ns * na), round(ns * na * EXTENSION_SHARE)))
    memo: dict[tuple[object, ...], tuple[PersonalOverride, ...]] = {}
    dues: dict[tuple[object, ...], Instant | None] = {}
    personal: dict[int, dict[str, tuple[PersonalOverride, ...]]] = {}
    for cell in cells:
        i, j = divmod(cell, na)
        s, a = w.students[i], w.assessments[j]
        if a.id in s.personal:
            continue  # keep the student's own override from the big matrix's mix
        hits = matching_overrides(a.access, s.user.sections) if a.access is not None else None
        due = dues.get((j, hits))
        if (j, hits) not in dues:
            due = dues[(j, hits)] = _due_for(a, s.user.sections)
        if due is None:
            continue
        reason = rng.choice(REASONS) if rng.random() < REASON_SHARE else None
        label = f"your exception ({reason})" if reason else "your exception"
        exc = StudentException(due=_new_due(rng, due), label=label)
        key = (j, hits, exc)
        own = memo.get(key)
        if own is None:
            own = memo[key] = exception_override(a, s.user.sections, exc)
        personal.setdefault(i, {})[a.id] = own
    students = tuple(
        s if i not in personal else replace(s, personal={**s.personal, **personal[i]})
        for i, s in enumerate(w.students)
    )
    return replace(w, students=students)


def extension_cells(w: Workload) -> int:
    """How many student × assessment cells carry a student's own override."""
    return sum(len(s.personal) for s in w.students)


def triples(w: Workload, n: int, *, seed: int = SEED + 1) -> list[tuple[int, int, Instant]]:
    """``n`` random (student index, assessment index, instant within the term) triples."""
    rng = random.Random(seed)
    ns, na = len(w.students), len(w.assessments)
    return [
        (rng.randrange(ns), rng.randrange(na), rng.randrange(w.term_start, w.term_end))
        for _ in range(n)
    ]
