"""Students as the access services meet them: a user found by uid and named with their full name,
and what a course instance knows of its students (enrollment status, sections, stored
exceptions), loaded in chunks."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from coursegate.services.common import context
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import NotFound
from coursegate.services.common.places import instance_label
from coursegate.store.models import (
    CourseInstance,
    Enrollment,
    Section,
    SectionMembership,
    StudentOverride,
    User,
)

ENROLLED = ("invited", "joined", "blocked")
"""Enrollment statuses that make a user a student of the course instance."""

_CHUNK = 500


def person(uid: str, name: str) -> str:
    """``Ada Lovelace (ada@example.edu)``: uid and full name together."""
    return f"{name} ({uid})" if name else uid


def find_user(ctx: Ctx, uid: str, field_name: str = "uid") -> User:
    """The user ``uid``; :class:`NotFound` naming the field otherwise."""
    found = context.find_user(ctx.session, uid)
    if found is None:
        raise NotFound(f"{field_name}: there is no user {uid!r}", field_name)
    return found


@dataclass
class StudentState:
    """One user's enrollment status, sections and stored exceptions in one course instance."""

    user: User
    status: str | None
    sections: frozenset[str]
    rows: list[StudentOverride] = field(default_factory=list)

    @property
    def label(self) -> str:
        return person(self.user.uid, self.user.name)


def in_chunks(ids: Sequence[Any]) -> Iterable[Sequence[Any]]:
    """``ids`` in slices small enough for one ``IN (...)`` query."""
    for i in range(0, len(ids), _CHUNK):
        yield ids[i : i + _CHUNK]


def load_students(ctx: Ctx, ci: CourseInstance, users: Sequence[User]) -> dict[int, StudentState]:
    """Enrollment status, sections and stored exceptions of ``users`` in ``ci``."""
    out = {u.id: StudentState(u, None, frozenset()) for u in users}
    sections: dict[int, set[str]] = defaultdict(set)
    for chunk in in_chunks(list(out)):
        for uid_, status in ctx.session.execute(
            select(Enrollment.user_id, Enrollment.status).where(
                Enrollment.course_instance_id == ci.id, Enrollment.user_id.in_(chunk)
            )
        ):
            out[uid_].status = status
        for uid_, name in ctx.session.execute(
            select(SectionMembership.user_id, Section.name)
            .join(Section, Section.id == SectionMembership.section_id)
            .where(Section.course_instance_id == ci.id, SectionMembership.user_id.in_(chunk))
        ):
            sections[uid_].add(name)
        for row in ctx.session.scalars(
            select(StudentOverride).where(
                StudentOverride.course_instance_id == ci.id,
                StudentOverride.user_id.in_(chunk),
            )
        ):
            out[row.user_id].rows.append(row)
    for uid_, names in sections.items():
        out[uid_].sections = frozenset(names)
    return out


def not_enrolled(st: StudentState, ci: CourseInstance) -> str | None:
    """Why ``st`` cannot have an exception in ``ci`` (None: they can)."""
    if st.status in ENROLLED:
        return None
    why = " (their enrollment was removed)" if st.status == "removed" else ""
    return (
        f"{st.label} is not enrolled in {instance_label(ci)}{why}; an exception is for a "
        "student of the course instance: enroll or invite them first"
    )
