"""What syncing a course's roster from the LMS changes (Names and Role Provisioning Services 2.0),
decided before anything is written: :func:`plan_roster` compares the LMS's members with the
course instance's people and lists each change.

- A member the LMS lists as Active with the Learner role who is not enrolled **joins**.
- An enrolled student whom the LMS no longer lists (or lists as Inactive) **leaves**: the
  enrollment ends; nothing is deleted, their history stays.
- Teaching roles (TA, instructor) the LMS gives are **added**; teaching roles it no longer gives
  are **ended** — only for people the LMS brought to coursegate (their account was made by a
  launch or a sync). For an account that existed before and was linked by email, a missing role
  is reported, never taken away: coursegate's own grants are not the LMS's to undo.
- The LMS's test student never joins and never counts.
- Roles beyond the course (domain coordinator, Author) are given by launches only: a sync
  neither gives nor ends them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from coursegate.lti.membership import INSTRUCTOR, STUDENT, TEACHING_ASSISTANT, course_roles

TEACHING = frozenset({TEACHING_ASSISTANT, INSTRUCTOR})


@dataclass(frozen=True)
class Member:
    """One member of the LMS's membership list."""

    sub: str
    name: str
    email: str
    lti_roles: tuple[str, ...]
    active: bool = True


@dataclass(frozen=True)
class Person:
    """Someone of the course instance the platform knows (their ``sub``) or who is enrolled."""

    uid: str
    sub: str | None
    enrolled: bool
    teaching: frozenset[str]
    brought_by_lms: bool
    """Their account was made by a launch or a sync (not an earlier account linked by email)."""


Kind = Literal["join", "leave", "add_roles", "end_roles", "keep_roles"]


@dataclass(frozen=True)
class Change:
    kind: Kind
    sub: str | None
    uid: str | None
    name: str
    email: str
    roles: frozenset[str] = frozenset()

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "uid": self.uid,
            "name": self.name,
            "email": self.email,
            "roles": sorted(self.roles),
        }


@dataclass(frozen=True)
class RosterPlan:
    changes: tuple[Change, ...]
    members: int
    unchanged: int
    test_users: int
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def actionable(self) -> bool:
        """Whether a sync would change anything (kept roles are only reported)."""
        return any(c.kind != "keep_roles" for c in self.changes)

    def count(self, kind: Kind) -> int:
        return sum(1 for c in self.changes if c.kind == kind)

    def summary(self) -> str:
        parts = [
            f"{self.count('join')} join",
            f"{self.count('leave')} leave",
            f"{self.count('add_roles') + self.count('end_roles')} role changes",
            f"{self.unchanged} unchanged",
        ]
        if self.count("keep_roles"):
            parts.append(f"{self.count('keep_roles')} roles kept (coursegate's own grants)")
        if self.test_users:
            parts.append(f"{self.test_users} test student(s) ignored")
        return f"{self.members} members in the LMS: " + ", ".join(parts)


def plan_roster(
    members: Iterable[Member], people: Iterable[Person], *, allow_administrator: bool = False
) -> RosterPlan:
    """The changes that make the course instance's roster the LMS's (see the module)."""
    by_sub: Mapping[str, Person] = {p.sub: p for p in people if p.sub is not None}
    seen: set[str] = set()
    changes: list[Change] = []
    unchanged = tests = total = 0
    for m in members:
        total += 1
        membership = course_roles(m.lti_roles, allow_administrator=allow_administrator)
        if membership.test_user:
            tests += 1
            continue
        seen.add(m.sub)
        person = by_sub.get(m.sub)
        uid = person.uid if person else None
        wants = membership.roles if m.active else frozenset()
        changed = False
        if STUDENT in wants and not (person and person.enrolled):
            changes.append(Change("join", m.sub, uid, m.name, m.email))
            changed = True
        if person is not None and person.enrolled and STUDENT not in wants:
            changes.append(Change("leave", m.sub, uid, m.name, m.email))
            changed = True
        teaching_now = person.teaching if person else frozenset()
        add = (wants & TEACHING) - teaching_now
        if add:
            changes.append(Change("add_roles", m.sub, uid, m.name, m.email, add))
            changed = True
        end = teaching_now - (wants & TEACHING)
        if end:
            kind: Kind = "end_roles" if person and person.brought_by_lms else "keep_roles"
            changes.append(Change(kind, m.sub, uid, m.name, m.email, end))
            changed = changed or kind == "end_roles"
        if not changed:
            unchanged += 1
    for p in by_sub.values():
        if p.sub in seen:
            continue
        if p.enrolled:
            changes.append(Change("leave", p.sub, p.uid, "", ""))
        if p.teaching:
            kind = "end_roles" if p.brought_by_lms else "keep_roles"
            changes.append(Change(kind, p.sub, p.uid, "", "", p.teaching))
    return RosterPlan(tuple(changes), total, unchanged, tests)
