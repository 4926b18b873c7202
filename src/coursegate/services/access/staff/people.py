"""Read-only views of a course instance's people for the staff's pages: sections with their
member counts, full names, the students holding exceptions, role grants and custom roles.

Everything is read off the store; every function but :func:`people_named` asks the roles core
for ``vst`` first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, or_, select

from coursegate.core.instants import Instant
from coursegate.services.access.view_permissions import require_view_all
from coursegate.services.common.context import Ctx
from coursegate.services.common.places import instance_area
from coursegate.store.models import (
    CourseInstance,
    CustomRoleRow,
    RoleAssignmentRow,
    Section,
    SectionMembership,
    StudentOverride,
    User,
)


@dataclass(frozen=True)
class SectionInfo:
    name: str
    description: str
    from_files: bool
    members: int


def sections_of(ctx: Ctx, ci: CourseInstance) -> list[SectionInfo]:
    """The course instance's sections with their member counts; needs ``vst``."""
    require_view_all(ctx, ci)
    counts = dict(
        ctx.session.execute(
            select(SectionMembership.section_id, func.count())
            .join(Section, Section.id == SectionMembership.section_id)
            .where(Section.course_instance_id == ci.id)
            .group_by(SectionMembership.section_id)
        ).all()
    )
    return [
        SectionInfo(s.name, s.description, s.from_files, int(counts.get(s.id, 0)))
        for s in ctx.session.scalars(
            select(Section).where(Section.course_instance_id == ci.id).order_by(Section.name)
        )
    ]


def people_named(ctx: Ctx, uids: Sequence[str]) -> dict[str, str]:
    """Full names of these users (for showing uid and name together)."""
    if not uids:
        return {}
    return dict(
        ctx.session.execute(select(User.uid, User.name).where(User.uid.in_(list(uids)))).all()
    )


def students_with_exceptions(ctx: Ctx, ci: CourseInstance) -> list[str]:
    """The uids of students holding at least one exception in the course instance (``vst``)."""
    require_view_all(ctx, ci)
    return list(
        ctx.session.scalars(
            select(User.uid)
            .join(StudentOverride, StudentOverride.user_id == User.id)
            .where(StudentOverride.course_instance_id == ci.id)
            .distinct()
            .order_by(User.uid)
        )
    )


@dataclass(frozen=True)
class RoleGrant:
    uid: str
    name: str
    role: str
    area: str
    start_at: Instant | None
    end_at: Instant | None
    created_by: str

    def live(self, at: Instant) -> bool:
        return (self.start_at is None or self.start_at <= at) and (
            self.end_at is None or self.end_at > at
        )


def role_grants(ctx: Ctx, ci: CourseInstance, *, students: bool = False) -> list[RoleGrant]:
    """Role assignments in the course instance and its sections (without the Student roles
    unless ``students``), newest first; needs ``vst``."""
    require_view_all(ctx, ci)
    path = instance_area(ci).path
    q = (
        select(RoleAssignmentRow, User.uid, User.name)
        .join(User, User.id == RoleAssignmentRow.user_id)
        .where(or_(RoleAssignmentRow.area == path, RoleAssignmentRow.area.startswith(path + "/")))
        .order_by(RoleAssignmentRow.id.desc())
    )
    if not students:
        q = q.where(RoleAssignmentRow.role != "st")
    return [
        RoleGrant(uid, name, r.role, r.area, r.start_at, r.end_at, r.created_by)
        for r, uid, name in ctx.session.execute(q).all()
    ]


@dataclass(frozen=True)
class CustomRoleInfo:
    name: str
    """``cr/<domain>/<author>/<name>``: what is granted."""
    author: str
    system: str
    domain_privs: str
    course: str


def custom_roles(ctx: Ctx, ci: CourseInstance) -> list[CustomRoleInfo]:
    """Every custom role defined (anyone may grant one they hold ``ccr`` for); needs ``vst``
    in the course instance to be listed here."""
    require_view_all(ctx, ci)
    return [
        CustomRoleInfo(
            f"cr/{r.domain}/{r.author}/{r.name}", r.author, r.system, r.domain_privs, r.course
        )
        for r in ctx.session.scalars(
            select(CustomRoleRow).order_by(
                CustomRoleRow.domain, CustomRoleRow.author, CustomRoleRow.name
            )
        )
    ]


__all__ = [
    "CustomRoleInfo",
    "RoleGrant",
    "SectionInfo",
    "custom_roles",
    "people_named",
    "role_grants",
    "sections_of",
    "students_with_exceptions",
]
