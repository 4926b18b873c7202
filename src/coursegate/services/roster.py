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
from sqlalchemy.orm import Session, joinedload

from coursegate.core.access_control import UNSET
from coursegate.core.engine import (
    AssessmentConfig,
    CompiledCourseInstance,
    PersonalOverride,
    Student,
)
from coursegate.core.exceptions import StudentException, exception_override
from coursegate.core.instants import Instant
from coursegate.core.model import EnrollmentFacts, InstanceFacts, Reservation, Role, UserFacts
from coursegate.roles import Area, AreaError, RoleTable
from coursegate.services.authz import area_name
from coursegate.services.context import Ctx
from coursegate.services.course_state import InstanceState, read_instance
from coursegate.store.models import (
    Assessment,
    AssessmentInstance,
    CourseInstance,
    Domain,
    Enrollment,
    ExamReservation,
    RoleAssignmentRow,
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
    (:mod:`coursegate.services.decision_cache`) adds them per decision.
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
    sections: dict[int, set[str]] = defaultdict(set)
    for user_id, name in session.execute(
        select(SectionMembership.user_id, Section.name)
        .join(Section, Section.id == SectionMembership.section_id)
        .where(Section.course_instance_id == ci.id, SectionMembership.user_id.in_(members))
    ):
        sections[user_id].add(name)
    overrides: dict[int, list[StudentOverride]] = defaultdict(list)
    for o in session.scalars(
        select(StudentOverride).where(
            StudentOverride.course_instance_id == ci.id, StudentOverride.user_id.in_(members)
        )
    ):
        overrides[o.user_id].append(o)
    reservations: dict[int, list[Reservation]] = defaultdict(list)
    for res in session.scalars(
        select(ExamReservation).where(
            ExamReservation.user_id.in_(members), ExamReservation.cancelled_at.is_(None)
        )
    ):
        reservations[res.user_id].append(
            Reservation(res.exam_uuid, res.access_start, res.access_end)
        )
    aid_of = {v: k for k, v in state.assessment_ids.items()}
    instances: dict[int, dict[str, InstanceFacts]] = defaultdict(dict)
    if attempts:
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
    by_set: dict[str, list[str]] = defaultdict(list)
    for aid, src in state.assessments.items():
        by_set[src.config.set_name].append(aid)
    out: list[RosterEntry] = []
    for user_id, uid, name, institution, status, extension in people:
        secs = frozenset(sections[user_id])
        rows = overrides[user_id]
        ext = extension
        targets: set[str] = set()
        for o in rows:
            if o.scope == "course_instance" and "publishing_extension_end" in o.body:
                ext = o.body["publishing_extension_end"]
            elif o.scope == "assessment":
                targets.add(o.target)
            elif o.scope == "set":
                targets.update(by_set.get(o.target, ()))
        personal = {
            aid: own
            for aid in sorted(targets)
            if aid in state.assessments
            and (own := personal_overrides(state.assessments[aid].config, secs, rows))
        }
        student = Student(
            user=UserFacts(uid=uid, role=Role.STUDENT, sections=secs, institution=institution),
            enrollment=EnrollmentFacts(status, ext),
            personal=personal,
            reservations=tuple(reservations[user_id]),
            instances=instances[user_id],
        )
        out.append(RosterEntry(user_id, uid, name, student))
    return out


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


# -- a user's course instances ----------------------------------------------------------------


@dataclass(frozen=True)
class HeldRole:
    """A role the user holds now: its code, its plain name and where."""

    code: str
    name: str
    area: str
    start: Instant | None
    end: Instant | None


@dataclass(frozen=True)
class UserCourse:
    """One course instance of a user: as a student (their enrollment and sections) and/or as
    staff (the roles they hold there now)."""

    course: str
    course_instance: str
    long_name: str
    timezone: str
    enrollment: str | None
    """invited | joined | blocked; None when not a student there."""
    sections: tuple[str, ...]
    roles: tuple[HeldRole, ...]


@dataclass(frozen=True)
class UserCourses:
    uid: str
    name: str
    course_instances: tuple[UserCourse, ...]
    other_roles: tuple[HeldRole, ...]
    """Roles held outside any course instance (a domain, the system)."""


def _role_name(code: str) -> str:
    if code.startswith("cr/"):
        return f"custom role {code.rsplit('/', 1)[-1]}"
    return str(RoleTable.default().names.get(code, code))


def courses_of(ctx: Ctx) -> UserCourses:
    """The effective user's course instances now: where they are enrolled (invited, joined or
    blocked) and where they hold a role in force (a student's own ``st`` role is shown as the
    enrollment). Their own, so no privilege is needed."""
    from coursegate.services.sync import domain_name  # sync reads the roster

    user = ctx.user(ctx.effective)
    instances = ctx.session.scalars(
        select(CourseInstance).options(joinedload(CourseInstance.course))
    ).all()
    by_area = {(domain_name(ci.course.institution), area_name(ci)): ci for ci in instances}
    enrolled: dict[int, str] = {
        ci_id: status
        for ci_id, status in ctx.session.execute(
            select(Enrollment.course_instance_id, Enrollment.status).where(
                Enrollment.user_id == user.id, Enrollment.status != "removed"
            )
        )
    }
    sections: dict[int, list[str]] = defaultdict(list)
    for ci_id, name in ctx.session.execute(
        select(Section.course_instance_id, Section.name)
        .join(SectionMembership, SectionMembership.section_id == Section.id)
        .where(SectionMembership.user_id == user.id)
        .order_by(Section.name)
    ):
        sections[ci_id].append(name)
    roles: dict[int, list[HeldRole]] = defaultdict(list)
    other: list[HeldRole] = []
    for a in ctx.session.scalars(
        select(RoleAssignmentRow)
        .where(RoleAssignmentRow.user_id == user.id)
        .order_by(RoleAssignmentRow.area, RoleAssignmentRow.role)
    ):
        if (a.start_at is not None and a.start_at > ctx.at) or (
            a.end_at is not None and a.end_at <= ctx.at
        ):
            continue
        held = HeldRole(a.role, _role_name(a.role), a.area, a.start_at, a.end_at)
        try:
            course = Area.parse(a.area).course_area
        except AreaError:
            course = None
        ci = None if course is None else by_area.get((course.domain or "", course.course or ""))
        if ci is None:
            other.append(held)
        elif a.role != "st":
            roles[ci.id].append(held)
    by_id = {ci.id: ci for ci in instances}
    ids = sorted(
        set(enrolled) | set(roles), key=lambda i: (by_id[i].course.name, by_id[i].short_name)
    )
    if ctx.viewing_as:  # view-as shows the viewed course instance only, never their others
        ids = [i for i in ids if i == ctx.acting_in]
        other = []
    return UserCourses(
        uid=user.uid,
        name=user.name,
        course_instances=tuple(
            UserCourse(
                course=by_id[i].course.name,
                course_instance=by_id[i].short_name,
                long_name=by_id[i].long_name,
                timezone=by_id[i].timezone,
                enrollment=enrolled.get(i),
                sections=tuple(sections.get(i, ())),
                roles=tuple(roles.get(i, ())),
            )
            for i in ids
        ),
        other_roles=tuple(other),
    )
