"""Roles: grant, revoke and define custom roles, through the roles core, kept in the store.

The roles core (:mod:`coursegate.roles`) decides every grant, revocation and definition on an
index built from the stored records (:func:`authz.index_for`); this module writes what it
allowed to ``role_assignments`` and ``custom_roles`` and records it in the history. A refusal
raises :class:`Refused` with the core's reason. Revoking sets ``end_at``; no row is deleted.

The system actor (the operator) grants and revokes without a grant privilege — that is how the
first coordinators get their roles — but everything else the core checks about an assignment
(the role exists, it is held in that kind of area, class accounts, overlaps) still applies.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select

from coursegate.core.instants import Instant, from_instant, to_instant
from coursegate.roles import (
    Actor,
    Area,
    AreaError,
    CustomRole,
    RoleAssignment,
    RoleIndex,
    assign,
    revoke,
)
from coursegate.roles import define_custom_role as core_define_custom_role
from coursegate.services.authz import area_name, index_for
from coursegate.services.context import Ctx
from coursegate.services.errors import Invalid, Refused
from coursegate.services.history import record
from coursegate.services.sync import domain_name
from coursegate.services.users import flush_or_conflict, translate_conflicts
from coursegate.store.models import CourseInstance, CustomRoleRow, RoleAssignmentRow

# -- reading requests -------------------------------------------------------------------------


def parse_area(text: str) -> Area:
    try:
        return Area.parse(text.strip())
    except AreaError as error:
        raise Invalid(f"area: {error}", "area") from None


def _moment(t: Instant | None) -> datetime | None:
    return None if t is None else from_instant(t)


def _instant(moment: datetime | None) -> Instant | None:
    return None if moment is None else to_instant(moment)


def _assignment(
    uid: str, role: str, area: Area, start: Instant | None, end: Instant | None
) -> RoleAssignment:
    try:
        return RoleAssignment(uid, role.strip(), area, start=_moment(start), end=_moment(end))
    except ValueError as error:
        message = str(error)
        field = "end" if "ends" in message else "role"
        raise Invalid(f"{field}: {message}", field) from None


def _actor(ctx: Ctx, area: Area) -> Actor:
    """The roles core's actor: the real user, and the one viewed as (within a course)."""
    if ctx.acting_as is None or ctx.acting_as == ctx.actor:
        return Actor.user(ctx.actor)
    course = area.course_area
    if course is None:
        raise Refused(
            f"{ctx.actor} may not change roles at {area.path} while viewing as {ctx.acting_as}: "
            "viewing as someone stays within one course instance",
            "acting_as",
        )
    return Actor(ctx.actor, ctx.acting_as, course=course)


def _index(ctx: Ctx, *uids: str) -> RoleIndex:
    return index_for(ctx, {ctx.actor, ctx.effective, *uids})


def course_instance_at(ctx: Ctx, area: Area) -> int | None:
    """The id of the course instance an area lies in (for the history), if any."""
    course = area.course_area
    if course is None:
        return None
    for ci in ctx.session.scalars(select(CourseInstance)):
        if area_name(ci) == course.course and domain_name(ci.course.institution) == course.domain:
            return ci.id
    return None


# -- granting ---------------------------------------------------------------------------------


@translate_conflicts
def grant_role(
    ctx: Ctx,
    uid: str,
    role: str,
    area: str,
    *,
    start: Instant | None = None,
    end: Instant | None = None,
    reason: str = "",
) -> RoleAssignmentRow:
    """Give ``uid`` the role ``role`` (``st``, ``ta``, ``cr/msu/smith/helproom``, ...) at
    ``area`` from ``start`` (default: now) until ``end`` (default: no end), if the roles core
    allows the actor to."""
    where = parse_area(area)
    target = ctx.user(uid)
    grant = _assignment(uid, role, where, ctx.at if start is None else start, end)
    index = _index(ctx, uid)
    if ctx.is_system:
        why = _system_may_grant(ctx, index, grant)
        history: dict[str, str] = {"real_user": ctx.actor, "effective_user": ctx.actor}
    else:
        result = assign(index, _actor(ctx, where), grant, at=ctx.at_datetime)
        if not result.ok:
            raise Refused(result.reason, "role")
        why, history = result.reason, result.actor.history_fields()
    row = RoleAssignmentRow(
        user_id=target.id,
        role=grant.role,
        area=where.path,
        start_at=_instant(grant.start),
        end_at=_instant(grant.end),
        created_by=ctx.actor,
        created_at=ctx.at,
    )
    ctx.session.add(row)
    record(
        ctx, "role.grant", "role_assignment", uid,
        course_instance_id=course_instance_at(ctx, where), reason=reason,
        role=grant.role, area=where.path, start=row.start_at, end=row.end_at, why=why,
        **history,
    )  # fmt: skip
    flush_or_conflict(ctx)
    return row


def _system_may_grant(ctx: Ctx, index: RoleIndex, grant: RoleAssignment) -> str:
    """The checks of a grant that do not depend on who grants, for the system actor."""
    what = f"{grant.role} at {grant.area.path} to {grant.uid}"
    problem = index.assignment_problem(grant)
    if problem is not None:
        raise Invalid(f"{problem[0]}: cannot grant {what}: {problem[1]}", problem[0])
    if grant.end is not None and grant.end <= ctx.at_datetime:
        raise Invalid(f"end: cannot grant {what}: it would end before now", "end")
    for held in index.assignments_of(grant.uid):
        if (
            held.role == grant.role
            and held.area == grant.area
            and held.overlaps(grant.start, grant.end)
            and (held.end is None or held.end > ctx.at_datetime)
        ):
            raise Invalid(
                f"role: cannot grant {what}: {grant.uid} already holds it "
                f"{held.describe_window()}; revoke that first",
                "role",
            )
    return "granted by the system (operator)"


# -- revoking ---------------------------------------------------------------------------------


@translate_conflicts
def revoke_role(
    ctx: Ctx, uid: str, role: str, area: str, *, reason: str = ""
) -> list[RoleAssignmentRow]:
    """End ``uid``'s ``role`` at ``area`` now, keeping the records (``end_at`` is set; one
    that has not begun is closed at its start). Returns the rows changed."""
    where = parse_area(area)
    target = ctx.user(uid)
    _assignment(uid, role, where, None, None)
    live = list(
        ctx.session.scalars(
            select(RoleAssignmentRow).where(
                RoleAssignmentRow.user_id == target.id,
                RoleAssignmentRow.role == role.strip(),
                RoleAssignmentRow.area == where.path,
                or_(RoleAssignmentRow.end_at.is_(None), RoleAssignmentRow.end_at > ctx.at),
            )
        )
    )
    if ctx.is_system:
        if not live:
            raise Invalid(f"role: {uid} holds no {role} at {where.path} to revoke", "role")
        ends = {row.id: max(ctx.at, row.start_at or ctx.at) for row in live}
        why = "revoked by the system (operator)"
        history: dict[str, str] = {"real_user": ctx.actor, "effective_user": ctx.actor}
    else:
        result = revoke(_index(ctx, uid), _actor(ctx, where), uid, role.strip(), where,
                        at=ctx.at_datetime)  # fmt: skip
        if not result.ok:
            raise Refused(result.reason, "role")
        ends = _ends_from(result.changed, live)
        why, history = result.reason, result.actor.history_fields()
    for row in live:
        row.end_at = ends[row.id]
    record(
        ctx, "role.revoke", "role_assignment", uid,
        course_instance_id=course_instance_at(ctx, where), reason=reason,
        role=role.strip(), area=where.path, ended=len(live), why=why, **history,
    )  # fmt: skip
    flush_or_conflict(ctx)
    return live


def _ends_from(
    closed: tuple[RoleAssignment, ...], live: list[RoleAssignmentRow]
) -> dict[int, Instant]:
    """The end the core gave each live row (matched by start)."""
    by_start = {_instant(a.start): _instant(a.end) for a in closed}
    ends: dict[int, Instant] = {}
    for row in live:
        end = by_start.get(row.start_at)
        assert end is not None, "the roles core closes every live record"
        ends[row.id] = end
    return ends


# -- custom roles -----------------------------------------------------------------------------


@translate_conflicts
def define_custom_role(
    ctx: Ctx,
    name: str,
    *,
    course: str = "",
    domain_privs: str = "",
    system: str = "",
    reason: str = "",
) -> CustomRoleRow:
    """Define (or redefine) the acting user's custom role ``cr/<their domain>/<them>/<name>``
    with privileges in the table's format per level (``course="bre&R:vgr&SCR"``). The roles
    core checks ``mcr`` and the template; holders get the new privileges on their next check.
    """
    actor = _actor_for_definition(ctx)
    author = ctx.user(ctx.actor, "actor")
    wanted = _custom_role(author.domain.name, author.uid, name, system, domain_privs, course)
    index = _index(ctx)
    result = core_define_custom_role(index, actor, wanted, at=ctx.at_datetime)
    if not result.ok or result.role is None:
        raise Refused(result.reason, _refused_field(result.refused))
    stored = result.role
    row = ctx.session.scalars(
        select(CustomRoleRow).where(
            CustomRoleRow.domain == stored.domain,
            CustomRoleRow.author == stored.author,
            CustomRoleRow.name == stored.name,
        )
    ).one_or_none()
    old = None if row is None else {"system": row.system, "domain_privs": row.domain_privs,
                                    "course": row.course}  # fmt: skip
    if row is None:
        row = CustomRoleRow(domain=stored.domain, author=stored.author, name=stored.name)
        ctx.session.add(row)
    row.system, row.domain_privs, row.course = stored.system, stored.domain_privs, stored.course
    record(
        ctx, "role.define", "custom_role", stored.role_name,
        course_instance_id=None, reason=reason, old=old,
        new={"system": row.system, "domain_privs": row.domain_privs, "course": row.course},
        **result.actor.history_fields(),
    )  # fmt: skip
    flush_or_conflict(ctx)
    return row


def _refused_field(refused: str | None) -> str:
    """The field a custom-role refusal is about: ``c:mgr`` → ``course``; ``mcr`` → ``actor``."""
    levels = {"s": "system", "d": "domain_privs", "c": "course"}
    level = (refused or "").split(":", 1)[0]
    return levels.get(level, "actor")


def _actor_for_definition(ctx: Ctx) -> Actor:
    if ctx.is_system:
        raise Refused(
            "the system may not define custom roles: a custom role is defined by its author, "
            "a user holding mcr",
            "actor",
        )
    if ctx.acting_as is None or ctx.acting_as == ctx.actor:
        return Actor.user(ctx.actor)
    raise Refused(
        f"{ctx.actor} may not define custom roles while viewing as {ctx.acting_as}", "acting_as"
    )


def _custom_role(
    domain: str, author: str, name: str, system: str, domain_privs: str, course: str
) -> CustomRole:
    try:
        return CustomRole(domain, author, name.strip(), system, domain_privs, course)
    except ValueError as error:
        message = str(error)
        for field in ("system", "domain_privs", "course"):
            if message.startswith(field + ":"):
                raise Invalid(message, field) from None
        raise Invalid(f"name: {message}", "name") from None


__all__ = [
    "course_instance_at",
    "define_custom_role",
    "grant_role",
    "parse_area",
    "revoke_role",
]
