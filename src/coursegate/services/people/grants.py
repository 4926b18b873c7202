"""Giving and ending a person's roles: the roles core decides, the store keeps every record.

Every system grants through here (the roles pages, class accounts, the command line); a
revocation ends a record at ``at`` and never deletes it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select

from coursegate.core.instants import Instant, from_instant, to_instant
from coursegate.roles import (
    Actor,
    Area,
    AreaError,
    RoleAssignment,
    RoleIndex,
    RoleTable,
    assign,
    revoke,
)
from coursegate.roles.wording import role_name
from coursegate.services.common.authz import (
    holds_at_all,
    index_for,
    refusal,
    unassigned_class_account,
)
from coursegate.services.common.conflicts import flush_or_conflict, translate_conflicts
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Invalid, Refused
from coursegate.services.common.places import (
    area_name,
    domain_name,
)
from coursegate.services.history.log import record
from coursegate.store.models import (
    CourseInstance,
    RoleAssignmentRow,
)


def parse_area(text: str) -> Area:
    try:
        return Area.parse(text.strip())
    except AreaError as error:
        raise Invalid(f"area: {error}", "area") from None


def _moment(t: Instant | None) -> datetime | None:
    return None if t is None else from_instant(t)


def _instant(moment: datetime | None) -> Instant | None:
    return None if moment is None else to_instant(moment)


def assignment(
    uid: str, role: str, area: Area, start: Instant | None, end: Instant | None
) -> RoleAssignment:
    try:
        return RoleAssignment(uid, role.strip(), area, start=_moment(start), end=_moment(end))
    except ValueError as error:
        message = str(error)
        field = "end" if "ends" in message else "role"
        raise Invalid(f"{field}: {message}", field) from None


def roles_actor(ctx: Ctx, area: Area) -> Actor:
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


def role_index(ctx: Ctx, *uids: str) -> RoleIndex:
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
    grant = assignment(uid, role, where, ctx.at if start is None else start, end)
    unassigned = unassigned_class_account(ctx, target)
    if unassigned is not None:
        what = f"{_TABLE.describe(grant.role)} at {where.path} to {uid}"
        message = f"cannot grant {what}: {unassigned}"
        if ctx.is_system:
            raise Invalid(f"role: {message}", "role")
        raise Refused(message, "role")
    index = role_index(ctx, uid)
    if ctx.is_system:
        why = _system_may_grant(ctx, index, grant)
        history: dict[str, str] = {"real_user": ctx.actor, "effective_user": ctx.actor}
    else:
        result = assign(index, roles_actor(ctx, where), grant, at=ctx.at_datetime)
        if not result.ok:
            raise _grant_refusal(ctx, grant, result.reason)
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


def _grant_refusal(ctx: Ctx, grant: RoleAssignment, reason: str) -> Refused:
    """The roles core's refusal of a grant; in one sentence for people (with the core's reason
    as details) when it is the grant privilege the actor lacks."""
    privilege = _TABLE.grant_privilege(grant.role)
    lacks = " may not grant " in reason and ctx.acting_as in (None, ctx.actor)
    if not lacks or holds_at_all(ctx, privilege, grant.area):
        return Refused(reason, "role")
    name = role_name(grant.role)
    what = f"grant the {name}" if name.startswith("custom role") else f"grant the {name} role"
    refused = refusal(ctx, privilege, grant.area, what, reason)
    refused.field = "role"
    return refused


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


@translate_conflicts
def revoke_role(
    ctx: Ctx, uid: str, role: str, area: str, *, reason: str = ""
) -> list[RoleAssignmentRow]:
    """End ``uid``'s ``role`` at ``area`` now, keeping the records (``end_at`` is set; one
    that has not begun is closed at its start). Returns the rows changed."""
    where = parse_area(area)
    target = ctx.user(uid)
    assignment(uid, role, where, None, None)
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
        result = revoke(role_index(ctx, uid), roles_actor(ctx, where), uid, role.strip(), where,
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


_TABLE = RoleTable.default()
