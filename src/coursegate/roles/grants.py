"""Granting, revoking and deleting roles, each checked against the actor's privileges.

* Granting role X needs the grant privilege ``cX`` (``ccr`` for a custom role) on the course
  (a section's course) or on the target user's domain, and its U/I/K/E conditions must admit
  the target user's authentication kind.
* Only the owner of a course or a domain coordinator adds course coordinators.
* A class account may hold only a Student role, and only in its own course.
* An Author role is granted only in the user's own domain.
* Revoking needs the same grant privilege; it sets the end to ``at`` and keeps the record.
* Deleting needs ``dro`` and erases the records, history included.

Every function returns a :class:`GrantResult`; a refusal's ``reason`` says why in plain words.
The caller (a service) stores the change and writes the history with ``result.actor``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from coursegate.roles.allowed import RoleIndex
from coursegate.roles.areas import Area
from coursegate.roles.conditions import CheckContext, evaluate
from coursegate.roles.impersonation import Actor, allowed_as
from coursegate.roles.model import RoleAssignment, User, require_aware
from coursegate.roles.privileges import Privilege, StandardRole

__all__ = ["GrantResult", "assign", "delete", "revoke"]


@dataclass(frozen=True, slots=True)
class GrantResult:
    """The outcome of a grant, revocation or deletion.

    ``changed`` holds the records written (assign, revoke) or erased (delete); ``actor`` carries
    the real and the effective user for the history record.
    """

    ok: bool
    reason: str
    actor: Actor
    changed: tuple[RoleAssignment, ...] = ()


def _refused(actor: Actor, reason: str) -> GrantResult:
    return GrantResult(False, reason, actor)


def _records(
    index: RoleIndex,
    actor: str | Actor,
    uid: str,
    role: str,
    area: Area,
    at: datetime,
    action: str,
) -> GrantResult | tuple[Actor, str, User, list[RoleAssignment]]:
    """The acting user, a description, the target and their records of ``role`` at ``area``,
    or the refusal when a user is unknown. ``action`` reads like "revoke {} from smith"."""
    require_aware(at, "at")
    who = Actor.of(actor)
    what = f"{index.table.describe(role)} at {area.path}"
    doing = action.format(what)
    if index.user(who.effective) is None:
        return _refused(who, f"cannot {doing}: there is no user {who.effective!r}")
    target = index.user(uid)
    if target is None:
        return _refused(who, f"cannot {doing}: there is no user {uid!r}")
    held = [a for a in index.assignments_of(uid) if a.role == role and a.area == area]
    return who, doing.split(" ", 1)[1], target, held


def assign(
    index: RoleIndex,
    actor: str | Actor,
    grant: RoleAssignment,
    *,
    at: datetime,
    context: CheckContext | None = None,
) -> GrantResult:
    """Give ``grant.uid`` the role ``grant.role`` at ``grant.area`` for its window.

    ``context`` supplies conditions other than the target's authentication kind if a
    deployment's grant privileges carry them (the seed's carry only U/I/K).
    """
    require_aware(at, "at")
    who = Actor.of(actor)
    table = index.table
    what = f"{table.describe(grant.role)} at {grant.area.path} to {grant.uid}"
    if index.user(who.effective) is None:
        return _refused(who, f"cannot grant {what}: there is no user {who.effective!r}")
    target = index.user(grant.uid)
    if target is None:
        return _refused(who, f"cannot grant {what}: there is no user {grant.uid!r}")
    problem = index.assignment_problem(grant)
    if problem is not None:
        return _refused(who, f"cannot grant {what}: {problem[1]}")
    if grant.end is not None and grant.end <= at:
        return _refused(
            who,
            f"cannot grant {what}: it would end at {grant.end.isoformat()}, which is not after "
            f"{at.isoformat()}; there is nothing left to grant",
        )
    if grant.role == StandardRole.AUTHOR and grant.area.domain != target.domain:
        return _refused(
            who,
            f"cannot grant {what}: an Author role is granted only in the user's own domain, "
            f"and {target.uid} belongs to {target.domain}",
        )
    for held in index.assignments_of(grant.uid):
        if (
            held.role == grant.role
            and held.area == grant.area
            and held.overlaps(grant.start, grant.end)
            and (held.end is None or held.end > at)
        ):
            return _refused(
                who,
                f"cannot grant {what}: {grant.uid} already holds it {held.describe_window()}; "
                "revoke that first or choose a window that does not overlap it",
            )
    ok, why = _authority(index, who, grant.role, grant.area, target, at=at, context=context)
    if not ok:
        return _refused(who, f"{who.describe()} may not grant {what}: {why}")
    index.add_assignment(grant)
    return GrantResult(
        True,
        f"granted {what} {grant.describe_window()}; {why}",
        who,
        (grant,),
    )


def revoke(
    index: RoleIndex,
    actor: str | Actor,
    uid: str,
    role: str,
    area: Area,
    *,
    at: datetime,
    context: CheckContext | None = None,
) -> GrantResult:
    """End ``uid``'s ``role`` at ``area`` at ``at``, keeping the records as history.

    A record that has not begun yet is closed at its start (it never comes into force).
    """
    found = _records(index, actor, uid, role, area, at, f"revoke {{}} from {uid}")
    if isinstance(found, GrantResult):
        return found
    who, what, target, held = found
    live = [a for a in held if a.end is None or a.end > at]
    if not live:
        if held:
            ended = "; ".join(a.describe_window() for a in held)
            return _refused(
                who, f"cannot revoke {what}: it has already ended ({ended}); nothing to revoke"
            )
        return _refused(who, f"cannot revoke {what}: {uid} has never held it")
    ok, why = _authority(index, who, role, area, target, at=at, context=context)
    if not ok:
        return _refused(who, f"{who.describe()} may not revoke {what}: {why}")
    changed: list[RoleAssignment] = []
    for record in live:
        end = at if record.start is None or record.start <= at else record.start
        closed = replace(record, end=end)
        index.replace_assignment(record, closed)
        changed.append(closed)
    return GrantResult(
        True,
        f"revoked {what} as of {at.isoformat()}; the record is kept as history; {why}",
        who,
        tuple(changed),
    )


def delete(
    index: RoleIndex,
    actor: str | Actor,
    uid: str,
    role: str,
    area: Area,
    *,
    at: datetime,
    context: CheckContext | None = None,
) -> GrantResult:
    """Erase every record of ``uid`` holding ``role`` at ``area``, history included.

    Needs ``dro`` (Delete a role assignment) on the course or on ``uid``'s domain. Prefer
    :func:`revoke`, which keeps the history.
    """
    found = _records(index, actor, uid, role, area, at, f"delete {{}} of {uid}")
    if isinstance(found, GrantResult):
        return found
    who, what, target, held = found
    if not held:
        return _refused(who, f"cannot delete {what}: there is no such record")
    ok, why = _holds(
        index, who, Privilege.DELETE_ROLE, _places(area, target), target, at=at, context=context
    )
    if not ok:
        return _refused(who, f"{who.describe()} may not delete {what}: {why}")
    removed = index.remove_assignments(uid, role, area)
    return GrantResult(
        True,
        f"deleted {len(removed)} record(s) of {what}, history included; {why}",
        who,
        removed,
    )


# -- authority --------------------------------------------------------------------------------


def _places(area: Area, target: User) -> list[Area]:
    """Where a grant privilege counts: the course (section stripped) or the area itself, and
    the target user's domain."""
    course = area.course_area
    places = [course if course is not None else area]
    home = Area.of_domain(target.domain)
    if home not in places:
        places.append(home)
    return places


def _authority(
    index: RoleIndex,
    who: Actor,
    role: str,
    area: Area,
    target: User,
    *,
    at: datetime,
    context: CheckContext | None,
) -> tuple[bool, str]:
    table = index.table
    places = _places(area, target)
    if role == StandardRole.COURSE_COORDINATOR:
        course = area.course_area
        assert course is not None  # assignment_problem has checked the area
        owner = index.owner_of(course)
        if owner is not None and owner == who.effective and not who.impersonating:
            return True, f"{who.real} owns {course.path}"
        domains = [Area.of_domain(course.domain)]
        if target.domain != course.domain:
            domains.append(Area.of_domain(target.domain))
        coordinates = [
            a
            for a in index.current_assignments(who.effective, at)
            if a.role == StandardRole.DOMAIN_COORDINATOR and a.area in domains
        ]
        if not coordinates or who.impersonating:
            owned = f"owned by {owner}" if owner is not None else "which has no recorded owner"
            names = " or ".join(domain.domain for domain in domains)
            return False, (
                f"only the owner of {course.path} ({owned}) or a domain coordinator of "
                f"{names} adds coordinators, and {who.effective} is neither"
            )
    privilege = table.grant_privilege(role)
    return _holds(index, who, privilege, places, target, at=at, context=context)


def _holds(
    index: RoleIndex,
    who: Actor,
    privilege: str,
    places: list[Area],
    target: User,
    *,
    at: datetime,
    context: CheckContext | None,
) -> tuple[bool, str]:
    """Does ``who`` hold ``privilege`` at one of ``places``, with its conditions met for
    ``target``? Returns the reason either way."""
    table = index.table
    checked = replace(context or CheckContext(), target_auth=target.auth)
    lacking: list[str] = []
    failing: dict[str, None] = {}
    for place in places:
        permission = allowed_as(index, who, privilege, place, at=at)
        if not permission.granted:
            lacking.append(place.path)
            continue
        decision = evaluate(permission, checked, at=at, table=table)
        if decision.allowed:
            roles = ", ".join(
                f"{source.role} at {source.held_at.path}" for source in permission.sources
            )
            return True, f"{who.effective} holds {privilege} at {place.path} through {roles}"
        failing.update(dict.fromkeys(decision.reasons[1:]))
    parts: list[str] = []
    if failing:
        parts.append(
            f"{who.effective} holds {table.describe(privilege)}, but not for this user: "
            + "; ".join(failing)
        )
    if lacking:
        parts.append(
            f"{who.effective} holds no {table.describe(privilege)} at {' or '.join(lacking)}"
        )
    return False, "; and ".join(parts)
