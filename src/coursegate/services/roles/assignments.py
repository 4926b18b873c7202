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

from dataclasses import dataclass
from dataclasses import replace as dataclass_replace
from datetime import tzinfo
from typing import Any

from sqlalchemy import or_, select

from coursegate.core.instants import Instant, format_instant
from coursegate.core.model import canonical_uid
from coursegate.roles import (
    Actor,
    Area,
    AreaError,
    AreaKind,
    CustomRole,
    RoleTable,
    assign,
)
from coursegate.roles import define_custom_role as core_define_custom_role
from coursegate.services.common.authz import require, unassigned_class_account
from coursegate.services.common.conflicts import flush_or_conflict, translate_conflicts
from coursegate.services.common.context import Ctx, find_user
from coursegate.services.common.errors import Conflict, Invalid, NotFound, Refused
from coursegate.services.common.places import (
    course_instance_by_id,
    instance_area,
    instance_label,
)
from coursegate.services.history.log import record
from coursegate.services.people.grants import (
    assignment,
    course_instance_at,
    grant_role,
    parse_area,
    revoke_role,
    role_index,
    roles_actor,
)
from coursegate.store.models import (
    CourseInstance,
    CustomRoleRow,
    Domain,
    RoleAssignmentRow,
    Section,
    User,
)

# -- reading requests -------------------------------------------------------------------------


# -- granting ---------------------------------------------------------------------------------


# -- revoking ---------------------------------------------------------------------------------


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
    index = role_index(ctx)
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


# -- reading: who holds what, and the custom roles --------------------------------------------

VIEW_STUDENTS = "vst"
"""Listing who holds which role in an area needs this privilege there."""

_TABLE = RoleTable.default()
IN_FORCE, ENDED, NOT_YET = "in force", "ended", "not yet begun"
STATES = (IN_FORCE, ENDED, NOT_YET)


def role_title(role: str) -> str:
    """``Teaching Assistant`` for ``ta``; ``custom role msu/smith/helproom`` for a custom role."""
    return _TABLE.name(role)


def assignment_state(start: Instant | None, end: Instant | None, at: Instant) -> str:
    """Whether an assignment is in force at ``at``, has ended, or has not begun yet."""
    if end is not None and (end <= at or (start is not None and end <= start)):
        return ENDED
    if start is not None and at < start:
        return NOT_YET
    return IN_FORCE


@dataclass(frozen=True)
class AssignmentView:
    """One role assignment: who holds which role where, from when until when."""

    id: int
    uid: str
    name: str
    role: str
    role_title: str
    area: str
    section: str | None
    start: Instant | None
    end: Instant | None
    state: str
    """``in force``, ``ended`` or ``not yet begun`` at the instant of the request."""
    created_by: str
    created_at: Instant

    def to_json(self, tz: tzinfo | None = None) -> dict[str, Any]:
        def when(t: Instant | None) -> str | None:
            return None if t is None else format_instant(t, tz)

        return {
            "id": self.id,
            "uid": self.uid,
            "name": self.name,
            "role": self.role,
            "role_title": self.role_title,
            "area": self.area,
            "section": self.section,
            "start": when(self.start),
            "end": when(self.end),
            "state": self.state,
            "created_by": self.created_by,
            "created_at": when(self.created_at),
        }


def _assignment_view(ctx: Ctx, row: RoleAssignmentRow, user: User) -> AssignmentView:
    try:
        section = Area.parse(row.area).section or None
    except AreaError:  # pragma: no cover - the store only holds areas the core accepted
        section = None
    return AssignmentView(
        id=row.id,
        uid=user.uid,
        name=user.name,
        role=row.role,
        role_title=role_title(row.role),
        area=row.area,
        section=section,
        start=row.start_at,
        end=row.end_at,
        state=assignment_state(row.start_at, row.end_at, ctx.at),
        created_by=row.created_by,
        created_at=row.created_at,
    )


def _state_filter(state: str | None) -> str | None:
    if state is None or state == "":
        return None
    wanted = state.strip().replace("_", " ")
    if wanted not in STATES:
        raise Invalid(
            f"state: must be one of {', '.join(repr(s) for s in STATES)}, not {state!r}", "state"
        )
    return wanted


def _assignments_under(
    ctx: Ctx, area: Area, *, uid: str | None, role: str | None, state: str | None
) -> list[AssignmentView]:
    """Every assignment held at ``area`` or inside it (its sections; for a domain, its
    courses too), oldest first within each area."""
    wanted = _state_filter(state)
    inside = area.path if area.kind is AreaKind.DOMAIN else area.path + "/"
    query = (
        select(RoleAssignmentRow, User)
        .join(User, User.id == RoleAssignmentRow.user_id)
        .where(
            or_(
                RoleAssignmentRow.area == area.path,
                RoleAssignmentRow.area.startswith(inside, autoescape=True),
            )
        )
    )
    if uid:
        query = query.where(User.uid.in_({uid.strip(), canonical_uid(uid)}))
    if role:
        query = query.where(RoleAssignmentRow.role == role.strip())
    query = query.order_by(RoleAssignmentRow.area, User.uid, RoleAssignmentRow.id)
    views = [_assignment_view(ctx, row, user) for row, user in ctx.session.execute(query)]
    return [v for v in views if wanted is None or v.state == wanted]


def course_roles(
    ctx: Ctx,
    course_instance_id: int,
    *,
    uid: str | None = None,
    role: str | None = None,
    state: str | None = None,
) -> list[AssignmentView]:
    """Who holds which role in a course instance and its sections (ended ones too: the
    records are kept); ``vst`` there."""
    ci = course_instance_by_id(ctx, course_instance_id)
    area = instance_area(ci)
    require(ctx, VIEW_STUDENTS, area, f"see who holds which role in {instance_label(ci)}")
    return _assignments_under(ctx, area, uid=uid, role=role, state=state)


def domain_area(ctx: Ctx, domain: str) -> Area:
    """The area of an existing domain (``/msu/``)."""
    try:
        area = Area.of_domain(domain.strip())
    except AreaError as error:
        raise Invalid(f"domain: {error}", "domain") from None
    found = ctx.session.scalars(select(Domain.id).where(Domain.name == area.domain)).first()
    if found is None:
        raise NotFound(f"domain: there is no domain {domain!r}", "domain")
    return area


def domain_roles(
    ctx: Ctx,
    domain: str,
    *,
    uid: str | None = None,
    role: str | None = None,
    state: str | None = None,
) -> list[AssignmentView]:
    """Every role held in a domain and in its courses and sections; ``vst`` in the domain
    (domain coordinators)."""
    area = domain_area(ctx, domain)
    require(ctx, VIEW_STUDENTS, area, f"see who holds which role in the domain {area.domain}")
    return _assignments_under(ctx, area, uid=uid, role=role, state=state)


def course_role_area(ctx: Ctx, ci: CourseInstance, section: str | None) -> Area:
    """The course instance's area, or one of its sections' (which must exist)."""
    area = instance_area(ci)
    if section is None or not section.strip():
        return area
    name = section.strip()
    found = ctx.session.scalars(
        select(Section.id).where(Section.course_instance_id == ci.id, Section.name == name)
    ).first()
    if found is None:
        raise NotFound(f"section: {instance_label(ci)} has no section {name!r}", "section")
    try:
        return Area.of_section(area.domain, area.course, name)
    except AreaError as error:  # pragma: no cover - sections are created with valid names
        raise Invalid(f"section: {error}", "section") from None


def _area_in_domain(domain: Area, area: str | None) -> Area:
    if area is None or not area.strip():
        return domain
    where = parse_area(area)
    if where.domain != domain.domain:
        raise Invalid(
            f"area: {where.path} is not in the domain {domain.domain} ({domain.path})", "area"
        )
    return where


def _row_view(ctx: Ctx, row: RoleAssignmentRow, uid: str) -> AssignmentView:
    return _assignment_view(ctx, row, ctx.user(uid))


def _may_grant_were_it_free(
    ctx: Ctx,
    uid: str,
    role: str,
    where: Area,
    start: Instant | None,
    end: Instant | None,
    *,
    authority_only: bool = False,
) -> bool:
    """Whether the roles core would let the actor grant this if ``uid`` held no record of
    ``role`` at ``where``: the core's own answer, on an index without those records. With
    ``authority_only`` (a revocation: who may end a role), the limits of class accounts on
    what the target may hold do not count either."""
    index = role_index(ctx, uid)
    index.remove_assignments(uid, role.strip(), where)
    target = index.user(uid)
    if authority_only and target is not None and target.class_account:
        index.add_user(dataclass_replace(target, class_account=False, class_course=None))
    try:
        probe = assignment(uid, role, where, ctx.at if start is None else start, end)
    except Invalid:
        return False
    return assign(index, roles_actor(ctx, where), probe, at=ctx.at_datetime).ok


def _classified(
    ctx: Ctx,
    refusal: Refused,
    uid: str,
    role: str,
    where: Area,
    start: Instant | None = None,
    end: Instant | None = None,
    *,
    revoking: bool = False,
) -> Refused | Conflict:
    """A refusal of someone who could grant the role, were it not already held (or already
    ended, or never held), is a :class:`Conflict` with the same reason: the request clashes
    with the records, not with the actor's privileges. Others stay :class:`Refused`."""
    if ctx.is_system or not _may_grant_were_it_free(
        ctx, uid, role, where, start, end, authority_only=revoking
    ):
        return refusal
    return Conflict(refusal.message, refusal.field)


def _grant_at(
    ctx: Ctx,
    uid: str,
    role: str,
    where: Area,
    start: Instant | None,
    end: Instant | None,
    reason: str,
) -> AssignmentView:
    try:
        row = grant_role(ctx, uid, role, where.path, start=start, end=end, reason=reason)
    except Refused as refusal:
        raise _classified(ctx, refusal, uid, role, where, start, end) from None
    return _row_view(ctx, row, uid)


def _revoke_at(ctx: Ctx, uid: str, role: str, where: Area, reason: str) -> list[AssignmentView]:
    try:
        rows = revoke_role(ctx, uid, role, where.path, reason=reason)
    except (Refused, Invalid) as error:
        refusal = _with_standing(ctx, uid, error)
        if isinstance(refusal, Refused):
            raise _classified(ctx, refusal, uid, role, where, revoking=True) from None
        raise refusal from None
    return [_row_view(ctx, row, uid) for row in rows]


def _with_standing(ctx: Ctx, uid: str, error: Refused | Invalid) -> Refused | Invalid:
    """A refusal to revoke a role of a class account nobody holds (recycled, free, being
    wiped), saying so: it holds nothing to revoke."""
    if error.field != "role":
        return error
    held_by = find_user(ctx.session, uid)
    standing = None if held_by is None else unassigned_class_account(ctx, held_by)
    if standing is None:
        return error
    return type(error)(f"{error.message}; {standing}", error.field)


def grant_in_course(
    ctx: Ctx,
    course_instance_id: int,
    uid: str,
    role: str,
    *,
    section: str | None = None,
    start: Instant | None = None,
    end: Instant | None = None,
    reason: str = "",
) -> AssignmentView:
    """:func:`grant_role` at a course instance (or one of its sections). A grant the actor
    may make but that overlaps one the user holds is a :class:`Conflict`."""
    ci = course_instance_by_id(ctx, course_instance_id)
    area = course_role_area(ctx, ci, section)
    return _grant_at(ctx, uid, role, area, start, end, reason)


def revoke_in_course(
    ctx: Ctx,
    course_instance_id: int,
    uid: str,
    role: str,
    *,
    section: str | None = None,
    reason: str = "",
) -> list[AssignmentView]:
    """:func:`revoke_role` at a course instance (or one of its sections). Revoking what has
    ended or was never held, by someone who may revoke it, is a :class:`Conflict`."""
    ci = course_instance_by_id(ctx, course_instance_id)
    area = course_role_area(ctx, ci, section)
    return _revoke_at(ctx, uid, role, area, reason)


def grant_in_domain(
    ctx: Ctx,
    domain: str,
    uid: str,
    role: str,
    *,
    area: str | None = None,
    start: Instant | None = None,
    end: Instant | None = None,
    reason: str = "",
) -> AssignmentView:
    """:func:`grant_role` at ``area`` (default: the domain itself), which must lie in
    ``domain``: how a domain coordinator grants domain roles or course roles anywhere in it."""
    where = _area_in_domain(domain_area(ctx, domain), area)
    return _grant_at(ctx, uid, role, where, start, end, reason)


def revoke_in_domain(
    ctx: Ctx,
    domain: str,
    uid: str,
    role: str,
    *,
    area: str | None = None,
    reason: str = "",
) -> list[AssignmentView]:
    """:func:`revoke_role` at ``area`` (default: the domain itself) within ``domain``."""
    where = _area_in_domain(domain_area(ctx, domain), area)
    return _revoke_at(ctx, uid, role, where, reason)


@dataclass(frozen=True)
class CustomRoleView:
    """A custom role's definition (template letters applied), as it is granted."""

    role: str
    """The name to grant: ``cr/<domain>/<author>/<name>``."""
    domain: str
    author: str
    name: str
    system: str
    domain_privs: str
    course: str

    def to_json(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "domain": self.domain,
            "author": self.author,
            "name": self.name,
            "system": self.system,
            "domain_privs": self.domain_privs,
            "course": self.course,
        }


def _custom_view(row: CustomRoleRow) -> CustomRoleView:
    return CustomRoleView(
        role=f"cr/{row.domain}/{row.author}/{row.name}",
        domain=row.domain,
        author=row.author,
        name=row.name,
        system=row.system,
        domain_privs=row.domain_privs,
        course=row.course,
    )


def custom_roles(
    ctx: Ctx, *, domain: str | None = None, author: str | None = None
) -> list[CustomRoleView]:
    """The custom roles defined (a definition names privileges, not people: any signed-in
    user may read them, as anyone may be granted one)."""
    query = select(CustomRoleRow)
    if domain:
        query = query.where(CustomRoleRow.domain == domain.strip())
    if author:
        query = query.where(CustomRoleRow.author == author.strip())
    query = query.order_by(CustomRoleRow.domain, CustomRoleRow.author, CustomRoleRow.name)
    return [_custom_view(row) for row in ctx.session.scalars(query)]


def define(
    ctx: Ctx,
    name: str,
    *,
    course: str = "",
    domain_privs: str = "",
    system: str = "",
    reason: str = "",
) -> tuple[CustomRoleView, bool]:
    """:func:`define_custom_role`, and whether the role is new (False: redefined)."""
    existing = {v.role for v in custom_roles(ctx, author=ctx.actor)}
    row = define_custom_role(
        ctx, name, course=course, domain_privs=domain_privs, system=system, reason=reason
    )
    view = _custom_view(row)
    return view, view.role not in existing


__all__ = [
    "ENDED",
    "IN_FORCE",
    "NOT_YET",
    "STATES",
    "AssignmentView",
    "CustomRoleView",
    "assignment_state",
    "course_instance_at",
    "course_role_area",
    "course_roles",
    "custom_roles",
    "define",
    "define_custom_role",
    "domain_area",
    "domain_roles",
    "grant_in_course",
    "grant_in_domain",
    "grant_role",
    "parse_area",
    "revoke_in_course",
    "revoke_in_domain",
    "revoke_role",
    "role_title",
]
