"""A user's course instances: where they are enrolled (invited, joined or blocked) and where
they hold a staff role in force now, for ``GET /me/courses``."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from coursegate.core.instants import Instant
from coursegate.roles import Area, AreaError, RoleTable
from coursegate.services.common.context import Ctx
from coursegate.services.common.places import area_name, domain_name
from coursegate.store.models import (
    CourseInstance,
    Enrollment,
    RoleAssignmentRow,
    Section,
    SectionMembership,
)


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
