"""The roster and the sections as staff see them: every enrolled user with their full name,
status and sections, and every section with its members. Viewing them needs ``vst`` (view
students) in the course instance."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select

from coursegate.services.common.authz import require
from coursegate.services.common.context import Ctx
from coursegate.services.common.places import (
    course_instance_by_id,
    instance_area,
    instance_label,
)
from coursegate.store.models import (
    Enrollment,
    Section,
    SectionMembership,
    User,
)


@dataclass(frozen=True)
class RosterLine:
    """One enrolled user as staff see them: uid and full name together."""

    uid: str
    name: str
    email: str | None
    status: str
    sections: tuple[str, ...]

    @property
    def who(self) -> str:
        """``jdoe (Jane Doe)``."""
        return f"{self.uid} ({self.name})"

    def render(self) -> str:
        sections = ", ".join(self.sections) or "no section"
        return f"{self.who}  {self.status}  {sections}"


def list_roster(ctx: Ctx, course_instance_id: int) -> list[RosterLine]:
    """Every invited, joined or blocked user of a course instance, by uid, with their full
    name, sections and enrollment status."""
    ci = course_instance_by_id(ctx, course_instance_id)
    require(ctx, "vst", instance_area(ci), f"view the roster of {instance_label(ci)}")
    pairs = ctx.session.execute(
        select(User, Enrollment.status)
        .join(Enrollment, Enrollment.user_id == User.id)
        .where(Enrollment.course_instance_id == ci.id, Enrollment.status != "removed")
        .order_by(User.uid)
    ).all()
    sections: dict[int, list[str]] = defaultdict(list)
    for user_id, name in ctx.session.execute(
        select(SectionMembership.user_id, Section.name)
        .join(Section, Section.id == SectionMembership.section_id)
        .where(Section.course_instance_id == ci.id)
        .order_by(Section.name)
    ):
        sections[user_id].append(name)
    return [
        RosterLine(u.uid, u.name, u.email, status, tuple(sections[u.id])) for u, status in pairs
    ]


def roster_line(ctx: Ctx, enrollment: Enrollment) -> RosterLine:
    """One enrollment as a roster line (for answering the use case that just changed it; no
    privilege check: the caller has just been allowed to change it, or it is their own)."""
    user = ctx.session.get(User, enrollment.user_id)
    assert user is not None
    names = ctx.session.scalars(
        select(Section.name)
        .join(SectionMembership, SectionMembership.section_id == Section.id)
        .where(
            Section.course_instance_id == enrollment.course_instance_id,
            SectionMembership.user_id == user.id,
        )
        .order_by(Section.name)
    ).all()
    return RosterLine(user.uid, user.name, user.email, enrollment.status, tuple(names))


@dataclass(frozen=True)
class SectionLine:
    """A section with its members (uid and full name together)."""

    name: str
    description: str
    from_files: bool
    members: tuple[tuple[str, str], ...]
    """``(uid, full name)`` of every member, by uid."""


def list_sections(ctx: Ctx, course_instance_id: int) -> list[SectionLine]:
    """The sections of a course instance, by name, with their members; needs ``vst``."""
    ci = course_instance_by_id(ctx, course_instance_id)
    require(ctx, "vst", instance_area(ci), f"view the sections of {instance_label(ci)}")
    members: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for section_id, uid, name in ctx.session.execute(
        select(SectionMembership.section_id, User.uid, User.name)
        .join(User, User.id == SectionMembership.user_id)
        .join(Section, Section.id == SectionMembership.section_id)
        .where(Section.course_instance_id == ci.id)
        .order_by(User.uid)
    ):
        members[section_id].append((uid, name))
    return [
        SectionLine(s.name, s.description, s.from_files, tuple(members[s.id]))
        for s in ctx.session.scalars(
            select(Section).where(Section.course_instance_id == ci.id).order_by(Section.name)
        )
    ]


__all__ = [
    "RosterLine",
    "SectionLine",
    "list_roster",
    "list_sections",
    "roster_line",
]
