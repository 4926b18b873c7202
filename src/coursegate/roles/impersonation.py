"""View as: a course's staff see the course exactly as one of its TAs or students sees it.

The rules (LON-CAPA's ``ain``, DeterLab's instructor/TA/student trust):

* an instructor (course coordinator or instructor) may view as a TA or a student of their own
  course, a TA as a student; never the reverse, never a peer, never across courses, never as
  an administrator (su, dc, ad anywhere);
* a section role covers only its section: a TA of section s2 may not view as a student of s1;
* the real user needs ``ain`` (Assume a student's identity) where the target's roles are held;
* while viewing as someone, privileges are exactly the target's roles in that course: none of
  the real user's staff privileges leak, and nothing of the target's other courses shows;
* every action carries an :class:`Actor` with both the real and the effective user, for
  history records. The right to view as is checked again on every check, so an expiry or
  revocation on either side ends it at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from coursegate.roles.allowed import RoleIndex
from coursegate.roles.areas import Area
from coursegate.roles.conditions import CheckContext, evaluate
from coursegate.roles.model import RoleAssignment, SelectedRole, User, require_aware
from coursegate.roles.permission import Decision, Permission
from coursegate.roles.privileges import ADMINISTRATOR_ROLES, Privilege, StandardRole

__all__ = [
    "VIEW_AS_RANK",
    "Actor",
    "ViewAsResult",
    "allowed_as",
    "check_as",
    "view_as",
]

VIEW_AS_RANK = {
    StandardRole.COURSE_COORDINATOR.value: 3,
    StandardRole.INSTRUCTOR.value: 3,
    StandardRole.TEACHING_ASSISTANT.value: 2,
    StandardRole.STUDENT.value: 1,
}
"""Who may view as whom: a higher rank views as a strictly lower one. Targets must hold only
ranked roles below the top rank in the course."""

_RANK_NAME = {3: "an instructor", 2: "a teaching assistant", 1: "a student"}
_RANK_PLURAL = {3: "instructors", 2: "teaching assistants", 1: "students"}


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: the real user (who is logged in) and the effective user (whose privileges
    apply). They differ only while viewing as someone, and then ``course`` says where.
    ``selected`` is the role the real user chose for the session, if any."""

    real: str
    effective: str
    course: Area | None = None
    since: datetime | None = None
    selected: SelectedRole | None = None

    def __post_init__(self) -> None:
        if self.real != self.effective:
            if self.course is None or self.course.course_area != self.course:
                raise ValueError("viewing as someone is always within one course instance")
            if self.selected is not None:
                raise ValueError("a user viewing as someone has no chosen role of their own")

    @staticmethod
    def user(uid: str, selected: SelectedRole | None = None) -> Actor:
        """A user acting as themselves."""
        return Actor(uid, uid, selected=selected)

    @staticmethod
    def of(actor: str | Actor) -> Actor:
        return actor if isinstance(actor, Actor) else Actor(actor, actor)

    @property
    def impersonating(self) -> bool:
        return self.real != self.effective

    def history_fields(self) -> dict[str, str]:
        """What a history record stores about who acted."""
        fields = {"real_user": self.real, "effective_user": self.effective}
        if self.course is not None and self.impersonating:
            fields["viewing_as_in"] = self.course.path
        return fields

    def describe(self) -> str:
        if not self.impersonating:
            return self.real
        where = self.course.path if self.course is not None else "?"
        return f"{self.real} (viewing as {self.effective} in {where})"


@dataclass(frozen=True, slots=True)
class ViewAsResult:
    """The answer to a request to view as someone: the :class:`Actor` to use, or why not."""

    ok: bool
    reason: str
    actor: Actor | None = None


def _refuse(real: str, target: str, why: str) -> ViewAsResult:
    return ViewAsResult(False, f"{real} may not view as {target}: {why}")


def view_as(
    index: RoleIndex, real: str, target: str, course: Area, *, at: datetime
) -> ViewAsResult:
    """May ``real`` view ``course`` as ``target`` at ``at``? Every refusal says why."""
    require_aware(at, "at")
    parties = _parties(index, real, target, course)
    if isinstance(parties, str):
        return _refuse(real, target, parties)
    target_user, course_area = parties
    target_in = _target_roles(index, target, course_area, at)
    if isinstance(target_in, str):
        return _refuse(real, target, target_in)
    target_rank = max(VIEW_AS_RANK[a.role] for a in target_in)
    real_rank = _covering_rank(index, real, target, course_area, target_in, target_rank, at)
    if isinstance(real_rank, str):
        return _refuse(real, target, real_rank)
    why = _assume_identity_problem(index, real, target_user, target_in, at)
    if why is not None:
        return _refuse(real, target, why)
    actor = Actor(real, target, course_area, since=at)
    return ViewAsResult(
        True,
        f"{real} ({_RANK_NAME[real_rank]}) views {course_area.path} as {target} "
        f"({_RANK_NAME[target_rank]}); actions are recorded with both users",
        actor,
    )


# The steps of view_as: each gives what it found, or (as a string) why view-as is refused.


def _parties(index: RoleIndex, real: str, target: str, course: Area) -> tuple[User, Area] | str:
    """The target user and the course instance, if both users exist, differ, and ``course``
    lies in a course instance."""
    if index.user(real) is None:
        return f"there is no user {real!r}"
    target_user = index.user(target)
    if target_user is None:
        return f"there is no user {target!r}"
    if real == target:
        return "viewing as oneself changes nothing"
    course_area = course.course_area
    if course_area is None:
        return f"view-as is always within one course instance, and {course.describe()} is not one"
    return target_user, course_area


def _target_roles(
    index: RoleIndex, target: str, course_area: Area, at: datetime
) -> list[RoleAssignment] | str:
    """The target's roles in force in the course: there must be some, all of them ranked, and
    the target must be no administrator anywhere."""
    table = index.table
    target_now = index.current_assignments(target, at)
    for held in target_now:
        if held.role in ADMINISTRATOR_ROLES:
            return (
                f"{target} holds {table.describe(held.role)} at {held.area.path}; "
                "administrators are never viewed as"
            )
    target_in = [a for a in target_now if a.area.course_area == course_area]
    if not target_in:
        return (
            f"{target} holds no role in force in {course_area.path}; view-as never crosses courses"
        )
    for held in target_in:
        if held.role not in VIEW_AS_RANK:
            return (
                f"{target} holds {table.describe(held.role)} in {course_area.path}; only "
                "teaching assistants and students are viewed as"
            )
    return target_in


def _covering_rank(
    index: RoleIndex,
    real: str,
    target: str,
    course_area: Area,
    target_in: list[RoleAssignment],
    target_rank: int,
    at: datetime,
) -> int | str:
    """The rank of the real user's roles that outrank the target and cover every area where the
    target's roles are held (a section role covers its section only)."""
    real_in = [a for a in index.current_assignments(real, at) if a.area.course_area == course_area]
    if not real_in:
        return f"{real} holds no role in force in {course_area.path}; view-as never crosses courses"
    real_rank = max((VIEW_AS_RANK.get(a.role, 0) for a in real_in), default=0)
    if real_rank == target_rank:
        return (
            f"both are {_RANK_PLURAL[real_rank]} in {course_area.path}; "
            "peers never view as each other"
        )
    if real_rank < target_rank:
        what = _RANK_NAME.get(real_rank, f"neither instructor nor TA ({_list(real_in)})")
        return (
            f"{real} is {what} and {target} is {_RANK_NAME[target_rank]} in "
            f"{course_area.path}; an instructor may view as a TA or a student and a TA as a "
            "student, never the reverse"
        )
    covering = [
        a
        for a in real_in
        if VIEW_AS_RANK.get(a.role, 0) > target_rank
        and all(a.area.contains(t.area) for t in target_in)
    ]
    if not covering:
        return (
            f"{real}'s roles in {course_area.path} ({_list(real_in)}) do not cover where "
            f"{target}'s roles are held ({_list(target_in)}); a section role covers its "
            "section only"
        )
    return max(VIEW_AS_RANK[a.role] for a in covering)


def _assume_identity_problem(
    index: RoleIndex, real: str, target_user: User, target_in: list[RoleAssignment], at: datetime
) -> str | None:
    """Why the real user lacks ``ain`` where one of the target's roles is held, or None."""
    table = index.table
    context = CheckContext(target_auth=target_user.auth)
    for held in target_in:
        permission = index.allowed(real, Privilege.ASSUME_IDENTITY, held.area, at=at)
        decision = evaluate(permission, context, at=at, table=table)
        if not decision.allowed:
            return (
                f"{real} lacks {table.describe(Privilege.ASSUME_IDENTITY)} at {held.area.path} "
                f"({'; '.join(decision.explanation)})"
            )
    return None


def _list(assignments: list[RoleAssignment]) -> str:
    return ", ".join(f"{a.role} at {a.area.path}" for a in assignments)


def allowed_as(
    index: RoleIndex, actor: str | Actor, privilege: str, area: Area, *, at: datetime
) -> Permission:
    """The merged permission for an actor: their own (or chosen role's) privileges, or, while
    viewing as someone, exactly that person's roles in the course."""
    who = Actor.of(actor)
    if not who.impersonating:
        return index.allowed(who.effective, privilege, area, at=at, selected=who.selected)
    assert who.course is not None
    still = view_as(index, who.real, who.effective, who.course, at=at)
    if not still.ok:
        return Permission.denied(
            who.effective,
            privilege,
            area,
            [f"viewing as has ended: {still.reason}"],
        )
    permission = index.allowed_within_course(
        who.effective, privilege, area, at=at, course=who.course
    )
    note = (
        f"{who.real} is viewing as {who.effective} in {who.course.path}: only "
        f"{who.effective}'s roles there count, none of {who.real}'s"
    )
    return permission.with_note(note)


def check_as(
    index: RoleIndex,
    actor: str | Actor,
    privilege: str,
    area: Area,
    *,
    at: datetime,
    context: CheckContext,
) -> Decision:
    """:func:`allowed_as` followed by :func:`coursegate.roles.evaluate`."""
    return evaluate(
        allowed_as(index, actor, privilege, area, at=at), context, at=at, table=index.table
    )
