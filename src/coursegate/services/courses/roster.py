"""The students of a course instance as the decision core sees them, read from the store.

Everything a decision may depend on — enrollment, sections, each student's exceptions (for an
assessment, for its set, for the whole course instance), testing-centre reservations and
attempts — is loaded here in a handful of queries and handed to
:class:`~coursegate.core.engine.CompiledCourseInstance`.

Exceptions are stored in one shape (:data:`EXCEPTION_FIELDS`, instants as integers) and turned
into each assessment's form by :func:`coursegate.core.exceptions.exception_override`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coursegate.core.access_control import UNSET
from coursegate.core.engine import (
    AssessmentConfig,
    CompiledCourseInstance,
    PersonalOverride,
    Student,
)
from coursegate.core.exceptions import StudentException, exception_override
from coursegate.core.model import EnrollmentFacts, InstanceFacts, Reservation, Role, UserFacts
from coursegate.services.courses.state import InstanceState, read_instance
from coursegate.store.models import (
    Assessment,
    AssessmentInstance,
    CourseInstance,
    Domain,
    Enrollment,
    ExamReservation,
    Section,
    SectionMembership,
    StudentOverride,
    User,
)

EXCEPTION_FIELDS = (
    "release", "due", "credit", "time_limit_minutes", "time_limit_percent", "password",
)  # fmt: skip
"""The keys of a stored exception body (plus ``publishing_extension_end`` for the course
instance); a key that is absent is not overridden."""


def exception_from_body(body: Mapping[str, Any], label: str) -> StudentException:
    """A stored exception body as the core's :class:`StudentException`."""
    kw: dict[str, Any] = {f: body.get(f, UNSET) for f in EXCEPTION_FIELDS}
    return StudentException(label=label, **kw)


@dataclass(frozen=True)
class RosterEntry:
    user_id: int
    uid: str
    name: str
    student: Student


def personal_overrides(
    config: AssessmentConfig,
    sections: frozenset[str],
    rows: Iterable[StudentOverride],
) -> tuple[PersonalOverride, ...]:
    """A student's overrides for one assessment: their exception for its set first, then the
    one for the assessment itself (the more specific wins)."""
    out: tuple[PersonalOverride, ...] = ()
    ordered = sorted(rows, key=lambda r: 0 if r.scope == "set" else 1)
    for r in ordered:
        if r.scope == "set" and r.target != config.set_name:
            continue
        if r.scope == "assessment" and r.target != config.id:
            continue
        if r.scope not in ("set", "assessment"):
            continue
        label = f"your exception ({r.reason})" if r.reason else "your exception"
        exc = exception_from_body(r.body, label)
        if not exc.empty:
            out += exception_override(config, sections, exc, out)
    return out


def load_roster(
    session: Session,
    ci: CourseInstance,
    state: InstanceState,
    *,
    user_ids: Iterable[int] | None = None,
    attempts: bool = True,
) -> list[RosterEntry]:
    """Every enrolled student (joined, invited or blocked), or only ``user_ids``.

    Five queries whatever the size of the class; the students are selected by a subquery (not a
    list of ids), and exceptions are turned into overrides only for the assessments they name.
    ``attempts=False`` leaves the students' attempts out (four queries): the decision cache
    (:mod:`coursegate.services.access.decisions.cache`) adds them per decision.
    """
    members = select(Enrollment.user_id).where(
        Enrollment.course_instance_id == ci.id, Enrollment.status != "removed"
    )
    if user_ids is not None:
        members = members.where(Enrollment.user_id.in_(list(user_ids)))
    people = session.execute(
        select(
            User.id,
            User.uid,
            User.name,
            Domain.title,
            Enrollment.status,
            Enrollment.publishing_extension_end,
        )
        .join(Enrollment, Enrollment.user_id == User.id)
        .join(Domain, Domain.id == User.domain_id)
        .where(Enrollment.course_instance_id == ci.id, User.id.in_(members))
        .order_by(User.uid)
    ).all()
    sections = _sections(session, ci, members)
    overrides = _exceptions(session, ci, members)
    reservations = _reservations(session, members)
    instances = _attempts(session, ci, state, members) if attempts else defaultdict(dict)
    by_set: dict[str, list[str]] = defaultdict(list)
    for aid, src in state.assessments.items():
        by_set[src.config.set_name].append(aid)
    out: list[RosterEntry] = []
    for user_id, uid, name, institution, status, extension in people:
        secs = frozenset(sections[user_id])
        rows = overrides[user_id]
        ext = extension
        for o in rows:
            if o.scope == "course_instance" and "publishing_extension_end" in o.body:
                ext = o.body["publishing_extension_end"]
        student = Student(
            user=UserFacts(uid=uid, role=Role.STUDENT, sections=secs, institution=institution),
            enrollment=EnrollmentFacts(status, ext),
            personal=_personal(state, by_set, secs, rows),
            reservations=tuple(reservations[user_id]),
            instances=instances[user_id],
        )
        out.append(RosterEntry(user_id, uid, name, student))
    return out


def _sections(session: Session, ci: CourseInstance, members: Any) -> dict[int, set[str]]:
    """The names of the sections each of ``members`` is in."""
    sections: dict[int, set[str]] = defaultdict(set)
    for user_id, name in session.execute(
        select(SectionMembership.user_id, Section.name)
        .join(Section, Section.id == SectionMembership.section_id)
        .where(Section.course_instance_id == ci.id, SectionMembership.user_id.in_(members))
    ):
        sections[user_id].add(name)
    return sections


def _exceptions(
    session: Session, ci: CourseInstance, members: Any
) -> dict[int, list[StudentOverride]]:
    """Each of ``members``' stored exceptions in the course instance."""
    overrides: dict[int, list[StudentOverride]] = defaultdict(list)
    for o in session.scalars(
        select(StudentOverride).where(
            StudentOverride.course_instance_id == ci.id, StudentOverride.user_id.in_(members)
        )
    ):
        overrides[o.user_id].append(o)
    return overrides


def _reservations(session: Session, members: Any) -> dict[int, list[Reservation]]:
    """Each of ``members``' testing-centre reservations that are not cancelled."""
    reservations: dict[int, list[Reservation]] = defaultdict(list)
    for res in session.scalars(
        select(ExamReservation).where(
            ExamReservation.user_id.in_(members), ExamReservation.cancelled_at.is_(None)
        )
    ):
        reservations[res.user_id].append(
            Reservation(res.exam_uuid, res.access_start, res.access_end)
        )
    return reservations


def _attempts(
    session: Session, ci: CourseInstance, state: InstanceState, members: Any
) -> dict[int, dict[str, InstanceFacts]]:
    """Each of ``members``' latest attempt of each live assessment, by assessment id."""
    aid_of = {v: k for k, v in state.assessment_ids.items()}
    instances: dict[int, dict[str, InstanceFacts]] = defaultdict(dict)
    for user_id, assessment_id, is_open, date_limit in session.execute(
        select(
            AssessmentInstance.user_id,
            AssessmentInstance.assessment_id,
            AssessmentInstance.open,
            AssessmentInstance.date_limit,
        )
        .join(Assessment, Assessment.id == AssessmentInstance.assessment_id)
        .where(
            Assessment.course_instance_id == ci.id,
            AssessmentInstance.user_id.in_(members),
        )
        .order_by(AssessmentInstance.number)
    ):
        if assessment_id in aid_of:
            instances[user_id][aid_of[assessment_id]] = InstanceFacts(is_open, date_limit)
    return instances


def _personal(
    state: InstanceState,
    by_set: Mapping[str, list[str]],
    sections: frozenset[str],
    rows: list[StudentOverride],
) -> dict[str, tuple[PersonalOverride, ...]]:
    """A student's overrides by assessment, for the assessments their exceptions name (each
    one, or each of a set's)."""
    targets: set[str] = set()
    for o in rows:
        if o.scope == "assessment":
            targets.add(o.target)
        elif o.scope == "set":
            targets.update(by_set.get(o.target, ()))
    return {
        aid: own
        for aid in sorted(targets)
        if aid in state.assessments
        and (own := personal_overrides(state.assessments[aid].config, sections, rows))
    }


def student_for(session: Session, ci: CourseInstance, state: InstanceState, user: User) -> Student:
    """One user as the decision core sees them in ``ci``: as the roster has them, or — not
    enrolled, or removed — with that enrollment status, and the core decides what they may
    still reach (for example: enroll themselves)."""
    roster = load_roster(session, ci, state, user_ids=[user.id])
    if roster:
        return roster[0].student
    status = session.scalars(
        select(Enrollment.status).where(
            Enrollment.course_instance_id == ci.id, Enrollment.user_id == user.id
        )
    ).one_or_none()
    facts = UserFacts(
        uid=user.uid,
        role=Role.STUDENT,
        institution=user.domain.title if user.domain is not None else None,
    )
    return Student(user=facts, enrollment=EnrollmentFacts(status or "none"))


def compile_course_instance(
    session: Session,
    ci: CourseInstance,
    *,
    user_ids: Iterable[int] | None = None,
    attempts: bool = True,
) -> tuple[CompiledCourseInstance, list[RosterEntry], InstanceState]:
    """The course instance compiled for its students (or some of them): decisions are lookups.
    ``attempts=False``: compiled as if no student had started anything (see :func:`load_roster`)."""
    state = read_instance(session, ci)
    roster = load_roster(session, ci, state, user_ids=user_ids, attempts=attempts)
    configs = [src.config for _, src in sorted(state.assessments.items())]
    compiled = CompiledCourseInstance(
        state.settings.policy, configs, [r.student for r in roster], state.tz
    )
    return compiled, roster, state
