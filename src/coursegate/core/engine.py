"""Putting it together: one decision, a user's timeline, and the matrix of a course instance.

:func:`policy_for` normalises an assessment's configuration for one user (their sections and
their own overrides) into the internal model; :func:`decide` answers one request;
:class:`CompiledCourseInstance` compiles a whole course instance once so that a decision is a
lookup and :meth:`CompiledCourseInstance.matrix` gives every student × every assessment at an
instant.

Students who share everything the rules can see (role, the label overrides that match them, no
personal overrides, reservations or attempts) share one compiled timeline per assessment; the
matrix is stored in that factorised form and expanded on demand.
"""

from __future__ import annotations

import gc
from bisect import bisect_right
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import overload

from coursegate.core.access_control import (
    AccessControlConfig,
    AccessPatch,
    compile_settings,
    resolve_settings,
)
from coursegate.core.course_instance import (
    CourseInstancePolicy,
    compile_course_instance,
    decide_course_instance_at,
)
from coursegate.core.decision import AssessmentDecision, CourseInstanceDecision, Decision
from coursegate.core.instants import Instant
from coursegate.core.legacy_rules import LegacyRule, legacy_policy
from coursegate.core.model import (
    AssessmentPolicy,
    EnrollmentFacts,
    Form,
    InstanceFacts,
    Mode,
    Reservation,
    Role,
    UserFacts,
)
from coursegate.core.segment import decide_assessment_directly, is_staff_override, password_at
from coursegate.core.shared_rules import SharedRules
from coursegate.core.timeline import ShutOut, Timeline, compile_assessment

PersonalOverride = LegacyRule | AccessPatch
_Lookup = tuple[
    tuple[Instant, ...], tuple[AssessmentDecision, ...], Timeline[AssessmentDecision] | None
]


@dataclass(frozen=True, slots=True)
class AssessmentConfig:
    """An assessment's access configuration, in whichever form its file used."""

    id: str
    form: Form
    legacy_rules: tuple[LegacyRule, ...] = ()
    access: AccessControlConfig | None = None
    title: str = ""
    set_name: str = ""
    number: str = ""
    uids_named: frozenset[str] = frozenset()
    """Every uid a legacy rule names (the only uids that can change a decision)."""


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything about the user and their attempt that a decision may depend on."""

    user: UserFacts = field(default_factory=UserFacts)
    mode: Mode = Mode.PUBLIC
    reservations: tuple[Reservation, ...] = ()
    personal: tuple[PersonalOverride, ...] = ()
    enrollment: EnrollmentFacts | None = None
    instance: InstanceFacts | None = None


def policy_for(
    assessment: AssessmentConfig, user: UserFacts, personal: Sequence[PersonalOverride] = ()
) -> AssessmentPolicy:
    """The internal model of ``assessment`` for ``user`` with their own overrides."""
    if assessment.form is Form.LEGACY:
        rules = tuple(p for p in personal if isinstance(p, LegacyRule))
        return legacy_policy(assessment.legacy_rules, rules)
    if assessment.access is None:
        return AssessmentPolicy(form=assessment.form, grants=())
    patches = tuple(p for p in personal if isinstance(p, AccessPatch))
    return compile_settings(resolve_settings(assessment.access, user.sections, patches))


def no_access_policy(form: Form) -> AssessmentPolicy:
    return AssessmentPolicy(form=form, grants=(), notes=("the file gives students no access",))


def timelines(
    ci: CourseInstancePolicy,
    assessment: AssessmentConfig | None,
    facts: Facts,
    tz: tzinfo,
) -> tuple[Timeline[CourseInstanceDecision], Timeline[AssessmentDecision] | None]:
    """The user's course-instance timeline and, with an assessment, its timeline."""
    ci_tl = compile_course_instance(ci, facts.user, facts.enrollment, tz)
    if assessment is None:
        return ci_tl, None
    policy = policy_for(assessment, facts.user, facts.personal)
    tl = compile_assessment(
        policy,
        facts.user,
        mode=facts.mode,
        reservations=facts.reservations,
        instance=facts.instance,
        course_instance=ci_tl,
        tz=tz,
    )
    return ci_tl, tl


def decide(
    ci: CourseInstancePolicy,
    assessment: AssessmentConfig | None,
    facts: Facts,
    at: Instant,
    tz: tzinfo,
) -> Decision:
    """The decision for one user at one instant, with explanations and ``next_change``."""
    ci_tl, tl = timelines(ci, assessment, facts, tz)
    return Decision(
        at=at,
        tz=tz,
        course_instance=ci_tl.at(at),
        assessment=None if tl is None else tl.at(at),
    )


def password_in_force(assessment: AssessmentConfig, facts: Facts, at: Instant) -> str | None:
    """The password a student must type now for ``assessment`` (None: none)."""
    policy = policy_for(assessment, facts.user, facts.personal)
    return password_at(
        policy,
        facts.user,
        at,
        mode=facts.mode,
        reservations=facts.reservations,
        instance=facts.instance,
    )


def decide_directly(
    ci: CourseInstancePolicy,
    assessment: AssessmentConfig,
    facts: Facts,
    at: Instant,
    tz: tzinfo,
) -> AssessmentDecision:
    """Re-evaluate everything for this one instant (the naive path; no ``next_change``)."""
    policy = policy_for(assessment, facts.user, facts.personal)
    return decide_assessment_directly(
        policy,
        facts.user,
        at,
        mode=facts.mode,
        reservations=facts.reservations,
        instance=facts.instance,
        course_instance=lambda t: decide_course_instance_at(
            ci, facts.user, facts.enrollment, t, tz
        ),
        tz=tz,
    )


# ----------------------------------------------------------------------------- the matrix


@dataclass(frozen=True, slots=True)
class Student:
    """One student of a compiled course instance."""

    user: UserFacts
    enrollment: EnrollmentFacts | None = None
    personal: Mapping[str, tuple[PersonalOverride, ...]] = field(default_factory=dict)
    """The student's own overrides, by assessment id."""
    reservations: tuple[Reservation, ...] = ()
    instances: Mapping[str, InstanceFacts] = field(default_factory=dict)
    mode: Mode = Mode.PUBLIC


class ColumnIndex(Sequence[int]):
    """Which distinct decision of a column each student gets: a default with exceptions."""

    __slots__ = ("default", "n", "special")

    def __init__(self, n: int, default: int, special: dict[int, int]) -> None:
        self.n = n
        self.default = default
        self.special = special

    def __len__(self) -> int:
        return self.n

    @overload
    def __getitem__(self, i: int) -> int: ...
    @overload
    def __getitem__(self, i: slice) -> list[int]: ...
    def __getitem__(self, i: int | slice) -> int | list[int]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self.n))]
        if not -self.n <= i < self.n:
            raise IndexError(i)
        return self.special.get(i % self.n, self.default)


@dataclass(frozen=True, slots=True)
class Matrix:
    """Every student × every assessment at one instant, stored factorised.

    ``columns[j][k]`` is the k-th distinct decision for assessment j and ``index[j][i]`` says
    which one student i gets, so ``cell(i, j)`` is two look-ups.
    """

    at: Instant
    student_ids: tuple[str, ...]
    assessment_ids: tuple[str, ...]
    index: tuple[ColumnIndex, ...]
    columns: tuple[tuple[AssessmentDecision, ...], ...]

    def cell(self, i: int, j: int) -> AssessmentDecision:
        return self.columns[j][self.index[j][i]]

    def row(self, i: int) -> list[AssessmentDecision]:
        return [col[idx[i]] for col, idx in zip(self.columns, self.index, strict=True)]

    def rows(self) -> Iterator[list[AssessmentDecision]]:
        for i in range(len(self.student_ids)):
            yield self.row(i)


class CompiledCourseInstance:
    """A course instance compiled once: decisions become look-ups.

    For each assessment most students share one "default" timeline: those whose sections match
    none of its overrides, with no personal override, attempt, reservation or special role.
    Only the students an assessment singles out (through the sections its overrides name,
    uids its legacy rules name, their own overrides, ...) are looked at one by one, so the work
    grows with the students each assessment affects, not with students × assessments.

    Those looked at one by one share too: a student's *profile* for an assessment is everything
    of them its timeline can depend on (role, the label overrides their sections match, their
    own overrides, attempt, reservations and mode, their course-instance timeline, and their uid
    only where a legacy rule names uids), and students with equal profiles share one timeline.
    Each assessment's shared rules are resolved once (:class:`SharedRules`), so an extension
    costs only applying the student's own patch, and a timeline keeps a time limit's
    minute-by-minute countdown as one interval (:class:`~coursegate.core.timeline.Countdown`).
    What is stored per cell is one small number in a column's :class:`ColumnIndex`, and only
    for the cells that differ from the column's default. Nothing here is mutable after
    construction; a change of configuration or facts means compiling again.
    """

    def __init__(
        self,
        ci: CourseInstancePolicy,
        assessments: Sequence[AssessmentConfig],
        students: Sequence[Student],
        tz: tzinfo,
    ) -> None:
        self.ci = ci
        self.tz = tz
        self.assessments = tuple(assessments)
        self.students = tuple(students)
        self.assessment_index = {a.id: j for j, a in enumerate(self.assessments)}
        self.student_index = {s.user.uid: i for i, s in enumerate(self.students)}
        self.ci_timelines: list[Timeline[CourseInstanceDecision]] = []
        self._ci_slot = self._compile_course_instance()
        self._facts = _interned(
            [(s.reservations, s.mode) for s in self.students], ((), Mode.PUBLIC)
        )
        # Who a student is, as far as any timeline can tell (their uid aside: only legacy
        # rules name uids, and those keys add it): role, reservations and mode, and their
        # course-instance timeline.
        self._who = _interned(
            [
                (s.user.role, f, c)
                for s, f, c in zip(self.students, self._facts, self._ci_slot, strict=True)
            ],
            (Role.STUDENT, 0, -1),
        )
        self._plain_staff = {
            w
            for s, w, f in zip(self.students, self._who, self._facts, strict=True)
            if f == 0 and s.user.role is not Role.STUDENT
        }
        self._own: dict[int, int] = {id(()): 0}
        self._own_canon: dict[tuple[PersonalOverride, ...], int] = {(): 0}
        self._columns: list[list[Timeline[AssessmentDecision]]] = []
        self._index: list[ColumnIndex] = []
        self._student_ids = tuple(s.user.uid for s in self.students)
        self._assessment_ids = tuple(a.id for a in self.assessments)
        with _collector_paused():
            self._compile_columns()
            if not self.students:
                self._columns = [[] for _ in self.assessments]
            # Per column, each timeline's arrays for :meth:`matrix` (and the timeline itself
            # when a countdown may need deciding).
            self._lookups: list[list[_Lookup]] = [
                [(tl.starts, tl.values, tl if tl.countdowns else None) for tl in col]
                for col in self._columns
            ]

    def _compile_columns(self) -> None:
        always, by_section, by_uid, own = self._singled_out()
        shut: ShutOut = {}
        for a in self.assessments:
            rules = SharedRules(a.form, a.legacy_rules, a.access)
            singled: set[int] = set(always)
            if a.form is Form.LEGACY:
                singled.update(by_uid[u] for u in a.uids_named if u in by_uid)
            elif a.access is not None:
                labels = {
                    lab
                    for o in (*a.access.overrides, *a.access.set_overrides)
                    for lab in (o.labels or ())
                }
                for lab in labels:
                    singled.update(by_section.get(lab, ()))
            singled.update(own.get(a.id, ()))
            self._compile_column(a, rules, singled, shut)

    def _compile_course_instance(self) -> list[int]:
        """Each student's course-instance timeline, shared by equal keys; the slot of each."""
        ci = self.ci
        cache: dict[object, int] = {}
        slots: list[int] = []
        tls: list[Timeline[CourseInstanceDecision]] = []
        for s in self.students:
            key: object = (
                s.user.role,
                s.user.uid if ci.form == "legacy" else None,
                s.user.sections if ci.form == "rfc" else None,
                s.enrollment,
                s.user.institution,
            )
            k = cache.get(key)
            if k is None:
                k = cache[key] = len(tls)
                tls.append(compile_course_instance(ci, s.user, s.enrollment, self.tz))
            slots.append(k)
            self.ci_timelines.append(tls[k])
        return slots

    def _singled_out(
        self,
    ) -> tuple[set[int], dict[str, list[int]], dict[str, int], dict[str, list[int]]]:
        """Students every assessment must look at, and indexes by section, uid and own override."""
        slots = self._ci_slot
        common = max(set(slots), key=slots.count) if slots else None
        always: set[int] = {
            i
            for i, s in enumerate(self.students)
            if s.user.role is not Role.STUDENT or self._facts[i] != 0 or slots[i] != common
        }
        by_section: dict[str, list[int]] = {}
        by_uid: dict[str, int] = {}
        own: dict[str, list[int]] = {}
        for i, s in enumerate(self.students):
            for sec in s.user.sections:
                by_section.setdefault(sec, []).append(i)
            by_uid[s.user.uid] = i
            for aid in {*s.personal, *s.instances}:
                own.setdefault(aid, []).append(i)
        return always, by_section, by_uid, own

    def _compile_column(
        self, a: AssessmentConfig, rules: SharedRules, singled: set[int], shut: ShutOut
    ) -> None:
        """The distinct timelines of ``a`` and which one each student gets.

        A student's profile key (see the class docstring) is built inline from small numbers
        (who they are, which label overrides they match, their own overrides): this runs once
        per singled-out student per assessment, the only work that grows with the cells.
        """
        column: list[Timeline[AssessmentDecision]] = []
        distinct: dict[tuple[object, ...], int] = {}
        students, who, own_ids = self.students, self._who, self._own
        plain_staff, ci_slot, ci_timelines = self._plain_staff, self._ci_slot, self.ci_timelines
        aid, form, legacy, labelled = a.id, a.form, a.form is Form.LEGACY, rules.labelled
        named_uids = a.uids_named
        hit_ids: dict[frozenset[str], int] = {}
        """:meth:`SharedRules.hit_id` by sections object (a frozenset keeps its hash)."""

        def slot(i: int) -> int:
            s = students[i]
            user = s.user
            own = s.personal.get(aid, ()) if s.personal else ()
            inst = s.instances.get(aid) if s.instances else None
            n = own_ids.get(id(own))
            if n is None:
                n = self._own_id(own)
            key: tuple[object, ...]
            if (
                n == 0
                and inst is None
                and who[i] in plain_staff
                and is_staff_override(user.role, form)
            ):
                # Staff bypass the rules: one timeline for all with the same role.
                key = ("staff", user.role, ci_slot[i])
            elif legacy:
                named = user.uid in named_uids or any(
                    isinstance(r, LegacyRule) and r.uids is not None for r in own
                )
                key = (who[i], user.uid if named else None, n, inst)
            elif labelled:
                hit = hit_ids.get(user.sections)
                if hit is None:
                    hit = hit_ids[user.sections] = rules.hit_id(user.sections)
                key = (who[i], hit, n, inst)
            else:
                key = (who[i], 0, n, inst)
            k = distinct.get(key)
            if k is None:
                k = distinct[key] = len(column)
                staff = key[0] == "staff"
                policy = rules.policy(user.sections, own, key=None if staff else key[1:3])
                column.append(
                    compile_assessment(
                        policy,
                        user,
                        mode=s.mode,
                        reservations=s.reservations,
                        instance=inst,
                        course_instance=ci_timelines[i],
                        tz=self.tz,
                        shut=shut,
                    )
                )
            return k

        # The default: any student this assessment does not single out.
        typical = next((i for i in range(len(students)) if i not in singled), None)
        default = slot(typical) if typical is not None else 0
        special = {i: k for i in sorted(singled) if (k := slot(i)) != default}
        self._columns.append(column)
        self._index.append(ColumnIndex(len(students), default, special))

    def _own_id(self, own: tuple[PersonalOverride, ...]) -> int:
        """A small number for a student's own overrides: equal overrides, equal numbers."""
        n = self._own.get(id(own))
        if n is None:
            n = self._own[id(own)] = self._own_canon.setdefault(own, len(self._own_canon))
        return n

    @property
    def compiled_timelines(self) -> int:
        return sum(len(c) for c in self._columns)

    def column(self, assessment: int) -> tuple[Sequence[Timeline[AssessmentDecision]], ColumnIndex]:
        """The distinct timelines of one assessment, and which one each student gets."""
        return tuple(self._columns[assessment]), self._index[assessment]

    def timeline(self, student: int, assessment: int) -> Timeline[AssessmentDecision]:
        return self._columns[assessment][self._index[assessment][student]]

    def decide(self, student: int, assessment: int, at: Instant) -> AssessmentDecision:
        """One decision: two look-ups and a binary search."""
        idx = self._index[assessment]
        return self._columns[assessment][idx.special.get(student, idx.default)].at(at)

    def decide_course_instance(self, student: int, at: Instant) -> CourseInstanceDecision:
        return self.ci_timelines[student].at(at)

    def row(self, student: int, at: Instant) -> list[AssessmentDecision]:
        """One student's decisions for every assessment."""
        return [
            col[idx.special.get(student, idx.default)].at(at)
            for col, idx in zip(self._columns, self._index, strict=True)
        ]

    def matrix(self, at: Instant) -> Matrix:
        """Every student × every assessment at ``at``."""
        # Each distinct timeline once; students keep pointing at theirs (no per-cell work).
        columns = tuple(
            [
                tuple(
                    [
                        values[bisect_right(starts, at) - 1] if tl is None else tl.at(at)
                        for starts, values, tl in col
                    ]
                )
                for col in self._lookups
            ]
        )
        return Matrix(
            at=at,
            student_ids=self._student_ids,
            assessment_ids=self._assessment_ids,
            index=tuple(self._index),
            columns=columns,
        )


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while compiling.

    Compiling a large course instance allocates millions of small objects (decisions, tuples)
    and frees few; none of them form cycles, yet each allocation burst triggers collections
    that walk the growing heap, a fifth of the compile time. The collector's state is restored
    afterwards, whatever happens (reference counting frees memory as usual meanwhile).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _interned(values: Sequence[object], zero: object) -> list[int]:
    """A small number per value (``zero`` gets 0): equal values, equal numbers."""
    canon: dict[object, int] = {zero: 0}
    return [canon.setdefault(v, len(canon)) for v in values]


def decide_matrix(compiled: CompiledCourseInstance, at: Instant) -> Matrix:
    """Every student × every assessment of a compiled course instance at ``at``."""
    return compiled.matrix(at)
