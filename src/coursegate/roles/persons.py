"""Who may act on a person's own account, and who may see a person's record.

A person's own account — their password, their email, their sign-in freeze, their API tokens,
their SSH keys — is theirs. The rule (issue 13; LON-CAPA: "a role can only act on roles below
it"; DeterLab: class accounts are the course's, people are not):

* **oneself** may act on one's own account (the caller checks the current password where the
  act needs one, and never while viewing as someone);
* **a domain coordinator** of the person's domain, or **a superuser** — whoever holds
  ``mau`` (modify authentication) at the person's domain, by the area walk domain → system —
  may act on it, **unless the person holds a role at the same level or above in any area**
  (:data:`ACCOUNT_LEVEL`): a coordinator never resets another coordinator's password, nor a
  superuser's;
* **course staff never do**: an invitation, a block, a roster line, a section or an enrollment
  never puts a person under anyone. (Course staff act on what their course owns — its
  enrollments, exceptions, reservations, and the class accounts of its pool while assigned to
  it: those rules live with the course and in :mod:`coursegate.services.accounts.rules`.)

Seeing a person's record (name, email, status) is wider: oneself, the people above, and staff
who hold ``vst`` (view student) where the person currently holds a role *below* them in that
course — a student of their course, or a TA for an instructor.

Pure: every question takes ``at``; nothing reads a clock or a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from coursegate.roles.allowed import RoleIndex
from coursegate.roles.areas import Area
from coursegate.roles.conditions import CheckContext, evaluate
from coursegate.roles.impersonation import VIEW_AS_RANK
from coursegate.roles.model import RoleAssignment, require_aware
from coursegate.roles.privileges import Privilege, StandardRole

__all__ = [
    "ACCOUNT_LEVEL",
    "Authority",
    "account_level",
    "may_see_person",
    "over_account",
]

ACCOUNT_LEVEL: dict[str, int] = {
    StandardRole.SUPERUSER.value: 6,
    StandardRole.DOMAIN_COORDINATOR.value: 5,
    StandardRole.ADMINISTRATOR.value: 4,
    StandardRole.COURSE_COORDINATOR.value: 3,
    StandardRole.INSTRUCTOR.value: 3,
    StandardRole.AUTHOR.value: 3,
    StandardRole.LIBRARIAN.value: 2,
    StandardRole.CO_AUTHOR.value: 2,
    StandardRole.TEACHING_ASSISTANT.value: 2,
    StandardRole.EXAM_PROCTOR.value: 2,
    StandardRole.DOMAIN_GUEST.value: 1,
    StandardRole.STUDENT.value: 1,
}
"""How high each role stands when one person acts on another's account: system (6), domain
coordination (5), domain administration (4), teaching and authoring (3), assisting (2),
learning (1). Custom roles and roles a deployment adds stand at 2 (assisting)."""

CUSTOM_LEVEL = 2
VIEW_STUDENT = "vst"
"""coursegate's privilege "view a student's record and work" (added to the seed's table)."""

Basis = Literal["oneself", "domain", "system"]


@dataclass(frozen=True, slots=True)
class Authority:
    """The answer to "may ``actor`` act on ``target``'s account": ``basis`` says why yes
    (oneself, a domain coordinator, the system level); ``reason`` is a sentence either way."""

    ok: bool
    reason: str
    basis: Basis | None = None


def _level(role: str) -> int:
    return ACCOUNT_LEVEL.get(role, CUSTOM_LEVEL)


def _held(index: RoleIndex, uid: str, at: datetime) -> list[RoleAssignment]:
    """Roles in force at ``at`` or starting later: a role granted for next week already
    places its holder (a coordinator-to-be is not anyone's to reset)."""
    return [a for a in index.assignments_of(uid) if a.end is None or a.end > at]


def account_level(index: RoleIndex, uid: str, at: datetime) -> tuple[int, RoleAssignment | None]:
    """The highest level among ``uid``'s roles in force or still to come, and that role."""
    require_aware(at, "at")
    best: tuple[int, RoleAssignment | None] = (0, None)
    for held in _held(index, uid, at):
        level = _level(held.role)
        if level > best[0]:
            best = (level, held)
    return best


def over_account(
    index: RoleIndex, actor: str, target: str, target_domain: str, *, at: datetime, what: str
) -> Authority:
    """May ``actor`` ``what`` (set the password of …, freeze …) on ``target``'s own account?"""
    require_aware(at, "at")
    if actor == target:
        return Authority(True, f"{actor} acts on their own account", "oneself")
    area = Area.of_domain(target_domain)
    permission = index.allowed(actor, Privilege.MODIFY_AUTHENTICATION, area, at=at)
    decision = evaluate(permission, CheckContext(), at=at, table=index.table)
    if not decision.allowed:
        return Authority(
            False,
            f"{actor} may not {what}: a person's own account (password, email, sign-in "
            f"freeze, tokens, SSH keys) is acted on only by that person, a domain coordinator "
            f"of their domain ({target_domain}) or an administrator — never by course staff",
        )
    mine = [a for a in index.current_assignments(actor, at) if a.area.contains(area)]
    actor_level = max((_level(a.role) for a in mine), default=0)
    target_level, top = account_level(index, target, at)
    if top is not None and target_level >= actor_level:
        return Authority(
            False,
            f"{actor} may not {what}: {target} holds {index.table.describe(top.role)} at "
            f"{top.area.path}, at the same level as {actor}'s role or above; a role acts only "
            "on people whose every role is below it",
        )
    basis: Basis = "system" if any(a.area == Area.system() for a in mine) else "domain"
    return Authority(True, f"{actor} holds mau (modify authentication) over {area.path}", basis)


def may_see_person(
    index: RoleIndex, actor: str, target: str, target_domain: str, *, at: datetime
) -> Authority:
    """May ``actor`` see ``target``'s record? Oneself, whoever may act on the account, and
    course staff with ``vst`` where ``target`` holds a role below theirs now."""
    found = over_account(index, actor, target, target_domain, at=at, what="see this")
    if found.ok:
        return found
    target_now = index.current_assignments(target, at)
    actor_now = index.current_assignments(actor, at)
    for held in target_now:
        course = held.area.course_area
        if course is None or held.role not in VIEW_AS_RANK:
            continue
        above = [
            a
            for a in actor_now
            if a.area.course_area == course
            and a.area.contains(held.area)
            and VIEW_AS_RANK.get(a.role, 0) > VIEW_AS_RANK[held.role]
        ]
        if not above:
            continue
        permission = index.allowed(actor, VIEW_STUDENT, held.area, at=at)
        if evaluate(permission, CheckContext(), at=at, table=index.table).allowed:
            return Authority(True, f"{actor} is staff over {target} in {course.path}", None)
    return Authority(
        False,
        f"{actor} may not see the account of {target}: only that person, their domain "
        f"coordinator, an administrator, or staff of a course where {target} is their student "
        "(or TA) may",
    )
