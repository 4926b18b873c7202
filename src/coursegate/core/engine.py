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

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import overload

from coursegate.core.access_control import (
    AccessControlConfig,
    AccessPatch,
    compile_settings,
    matching_overrides,
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
from coursegate.core.timeline import (
    Timeline,
    compile_assessment,
    decide_assessment_directly,
    is_staff_override,
    password_at,
)

PersonalOverride = LegacyRule | AccessPatch


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


def _profile_key(a: AssessmentConfig, s: Student, ci_key: object) -> object:
    """What of a student can change the decision for ``a``: students with equal keys share."""
    own = s.personal.get(a.id, ())
    inst = s.instances.get(a.id)
    if own or inst is not None or s.reservations or s.mode is not Mode.PUBLIC:
        return ("individual", s.user.uid, ci_key)
    if is_staff_override(s.user.role, a.form):
        return ("staff", s.user.role, ci_key)
    if a.form is Form.LEGACY:
        uid = s.user.uid if s.user.uid in a.uids_named else None
        return ("legacy", s.user.role, uid, ci_key)
    hits = matching_overrides(a.access, s.user.sections) if a.access is not None else ((), ())
    return ("access", s.user.role, hits, ci_key)


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
    Nothing here is mutable after construction; a change of configuration or facts means
    compiling again.
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
        ci_cache: dict[object, Timeline[CourseInstanceDecision]] = {}
        self.ci_timelines: list[Timeline[CourseInstanceDecision]] = []
        ci_keys: list[object] = []
        for s in self.students:
            key: object = (
                s.user.role,
                s.user.uid if ci.form == "legacy" else None,
                s.user.sections if ci.form == "rfc" else None,
                s.enrollment,
                s.user.institution,
            )
            tl = ci_cache.get(key)
            if tl is None:
                tl = compile_course_instance(ci, s.user, s.enrollment, tz)
                ci_cache[key] = tl
            ci_keys.append(key)
            self.ci_timelines.append(tl)
        # Students every assessment must look at one by one, whatever its rules say.
        common_ci = max(set(ci_keys), key=ci_keys.count) if ci_keys else None
        always: set[int] = {
            i
            for i, s in enumerate(self.students)
            if s.user.role is not Role.STUDENT
            or s.reservations
            or s.mode is not Mode.PUBLIC
            or ci_keys[i] != common_ci
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
        self._columns: list[list[Timeline[AssessmentDecision]]] = []
        self._index: list[ColumnIndex] = []
        for a in self.assessments:
            builder = _ColumnBuilder(self, a, ci_keys)
            slot = builder.slot
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
            # The default: any student this assessment does not single out.
            typical = next((i for i in range(len(self.students)) if i not in singled), None)
            default = slot(typical) if typical is not None else 0
            special = {i: k for i in singled if (k := slot(i)) != default}
            self._columns.append(builder.column)
            self._index.append(ColumnIndex(len(self.students), default, special))
        if not self.students:
            self._columns = [[] for _ in self.assessments]

    def _compile_cell(
        self, a: AssessmentConfig, s: Student, ci_tl: Timeline[CourseInstanceDecision]
    ) -> Timeline[AssessmentDecision]:
        policy = policy_for(a, s.user, s.personal.get(a.id, ()))
        return compile_assessment(
            policy,
            s.user,
            mode=s.mode,
            reservations=s.reservations,
            instance=s.instances.get(a.id),
            course_instance=ci_tl,
            tz=self.tz,
        )

    @property
    def compiled_timelines(self) -> int:
        return sum(len(c) for c in self._columns)

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
        columns = tuple(tuple(tl.at(at) for tl in col) for col in self._columns)
        return Matrix(
            at=at,
            student_ids=tuple(s.user.uid for s in self.students),
            assessment_ids=tuple(a.id for a in self.assessments),
            index=tuple(self._index),
            columns=columns,
        )


class _ColumnBuilder:
    """The distinct timelines of one assessment, compiled once per distinct profile."""

    def __init__(
        self, owner: CompiledCourseInstance, a: AssessmentConfig, ci_keys: list[object]
    ) -> None:
        self.owner = owner
        self.a = a
        self.ci_keys = ci_keys
        self.column: list[Timeline[AssessmentDecision]] = []
        self.distinct: dict[object, int] = {}

    def slot(self, i: int) -> int:
        s = self.owner.students[i]
        key = _profile_key(self.a, s, self.ci_keys[i])
        k = self.distinct.get(key)
        if k is None:
            k = len(self.column)
            self.distinct[key] = k
            self.column.append(self.owner._compile_cell(self.a, s, self.owner.ci_timelines[i]))
        return k


def decide_matrix(compiled: CompiledCourseInstance, at: Instant) -> Matrix:
    """Every student × every assessment of a compiled course instance at ``at``."""
    return compiled.matrix(at)
