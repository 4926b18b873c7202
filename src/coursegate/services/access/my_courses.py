"""One's course instances and the links one may follow: the course instances where the
effective user is enrolled or holds a role (their home page), and whether they hold a privilege
now (for showing or hiding links; the routes and services check again).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from coursegate.roles import Area
from coursegate.services.access.students import ENROLLED
from coursegate.services.access.view_permissions import VIEW_STUDENTS
from coursegate.services.common.authz import allowed
from coursegate.services.common.context import Ctx
from coursegate.services.common.places import instance_area
from coursegate.store.models import (
    Course,
    CourseInstance,
    Enrollment,
    RoleAssignmentRow,
)


@dataclass(frozen=True)
class MyCourseInstance:
    course: str
    instance: str
    title: str
    long_name: str
    enrolled: str | None
    """The effective user's enrollment status (None: not enrolled)."""
    staff: bool
    """The effective user may look at the students (``vst``)."""

    @property
    def label(self) -> str:
        return f"{self.course} {self.instance}"


def my_course_instances(ctx: Ctx) -> list[MyCourseInstance]:
    """The live course instances where the effective user is enrolled or holds a role (a role
    in the domain counts for all of its course instances), newest first."""
    me = ctx.user(ctx.effective)
    enrolled = dict(
        ctx.session.execute(
            select(Enrollment.course_instance_id, Enrollment.status).where(
                Enrollment.user_id == me.id, Enrollment.status.in_(ENROLLED)
            )
        ).all()
    )
    areas = list(
        ctx.session.scalars(
            select(RoleAssignmentRow.area).where(
                RoleAssignmentRow.user_id == me.id, RoleAssignmentRow.in_force(ctx.at)
            )
        )
    )
    out: list[MyCourseInstance] = []
    rows = ctx.session.scalars(
        select(CourseInstance)
        .join(Course, Course.id == CourseInstance.course_id)
        .where(CourseInstance.retired_at.is_(None))
        .order_by(Course.name, CourseInstance.start_at.desc(), CourseInstance.short_name)
    ).all()
    for ci in rows:
        if ctx.viewing_as and ci.id != ctx.acting_in:
            continue  # view-as shows the viewed course instance only
        path = instance_area(ci).path
        related = ci.id in enrolled or any(
            path.startswith(a) or a.startswith(path + "/") or a == path for a in areas
        )
        if not related:
            continue
        staff, _ = allowed(ctx, VIEW_STUDENTS, instance_area(ci))
        if ci.id not in enrolled and not staff:
            continue
        out.append(
            MyCourseInstance(
                ci.course.name,
                ci.short_name,
                ci.course.title,
                ci.long_name,
                enrolled.get(ci.id),
                staff,
            )
        )
    return out


def may(ctx: Ctx, privilege: str, ci: CourseInstance) -> bool:
    """Whether the effective user holds ``privilege`` in the course instance now (for showing
    or hiding links; the routes and services check again)."""
    ok, _ = allowed(ctx, privilege, instance_area(ci))
    return ok


def may_in_domain(ctx: Ctx, privilege: str) -> bool:
    """Whether the effective user holds ``privilege`` in their own domain now (for links)."""
    me = ctx.user(ctx.effective)
    ok, _ = allowed(ctx, privilege, Area.of_domain(me.domain.name))
    return ok


__all__ = ["MyCourseInstance", "may", "may_in_domain", "my_course_instances"]
