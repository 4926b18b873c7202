"""Asking the roles core, with the facts from the store.

Every use case calls :func:`require` before changing anything: it builds the roles core's index
from the stored role assignments of the users involved (so a grant, revocation or expiry counts
on the very next check, in every process), asks ``allowed`` and evaluates the conditions, and
raises :class:`Refused` with the roles core's reason when the answer is no.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import select

from coursegate.core.instants import from_instant
from coursegate.roles import (
    Actor,
    Area,
    AuthKind,
    CheckContext,
    CoursePreferences,
    CustomRole,
    RoleAssignment,
    RoleIndex,
    User,
    check,
    check_as,
)
from coursegate.roles.wording import privilege_name, who_can_give
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Refused
from coursegate.services.common.places import course_area, domain_name, instance_at, place_of
from coursegate.store.models import (
    AccountStem,
    ClassAccount,
    Course,
    CourseInstance,
    CustomRoleRow,
    Domain,
    RoleAssignmentRow,
)
from coursegate.store.models import (
    User as UserRow,
)


def index_for(ctx: Ctx, uids: Iterable[str]) -> RoleIndex:
    """A roles index holding these users and all their role assignments."""
    wanted = set(uids)
    rows = ctx.session.execute(
        select(UserRow, Domain.name).join(Domain).where(UserRow.uid.in_(wanted))
    ).all()
    users = [
        User(
            u.uid,
            dom,
            AuthKind(u.auth),
            class_account=u.class_account,
            class_course=_class_course(ctx, u),
        )
        for u, dom in rows
    ]
    ids = {u.id: u.uid for u, _ in rows}
    assignments = [
        RoleAssignment(
            ids[a.user_id],
            a.role,
            Area.parse(a.area),
            start=None if a.start_at is None else from_instant(a.start_at),
            end=None if a.end_at is None else from_instant(a.end_at),
        )
        for a in ctx.session.scalars(
            select(RoleAssignmentRow).where(RoleAssignmentRow.user_id.in_(list(ids)))
        )
    ]
    customs = [
        CustomRole(c.domain, c.author, c.name, c.system, c.domain_privs, c.course)
        for c in ctx.session.scalars(select(CustomRoleRow))
    ]
    return RoleIndex(users=users, assignments=assignments, custom_roles=customs)


def unassigned_class_account(ctx: Ctx, user: UserRow) -> str | None:
    """Why ``user`` takes no role now, when it is a class account nobody holds — free in its
    course's pool (generated ahead, or recycled) or being wiped — in one sentence naming the
    course; None for every other user (an assigned class account, a person's account).

    The roles core refuses such an account every role and lets its ended records (its former
    holder's) count for nothing; this is the sentence people read instead of a bare refusal."""
    found = ctx.session.execute(
        select(ClassAccount.state, ClassAccount.times_assigned, Course.name)
        .join(AccountStem, AccountStem.id == ClassAccount.stem_id)
        .join(Course, Course.id == AccountStem.course_id)
        .where(ClassAccount.user_id == user.id)
    ).one_or_none()
    if found is None:
        return None
    state, times_assigned, course = found
    if state == "assigned":
        return None
    if state == "wiping":
        return (
            f"{user.uid} is a class account of {course} being wiped: it returns to the pool "
            "when the wipe finishes, holds no one's work and takes no role until assigned again"
        )
    if times_assigned:
        return (
            f"{user.uid} is a recycled class account of {course}: it holds no one's work and "
            "takes no role until assigned again"
        )
    return (
        f"{user.uid} is an unassigned class account of {course} (free in its pool): it takes "
        "no role until assigned"
    )


def _class_course(ctx: Ctx, u: UserRow) -> Area | None:
    """The course area a class account belongs to (the roles core checks its limits)."""
    if not u.class_account or u.class_course_instance_id is None:
        return None
    ci = ctx.session.get(CourseInstance, u.class_course_instance_id)
    if ci is None:
        return None

    return course_area(ci, domain_name(ci.course.institution))


def allowed(ctx: Ctx, privilege: str, area: Area) -> tuple[bool, str]:
    """Whether the effective user holds ``privilege`` at ``area`` now, and why.

    While viewing as someone (``ctx.acting_as``), the roles core re-checks on every call that
    the real user may still view as them in that course, and only the viewed user's roles in
    that course count: no staff privilege leaks.
    """
    if ctx.is_system:
        return True, "the system (operator) acts"
    context = CheckContext(course_preferences=CoursePreferences())
    if ctx.acting_as is not None and ctx.acting_as != ctx.actor:
        course = area.course_area
        if course is None:
            return False, "while viewing as someone, only actions within that course are possible"
        actor = Actor(ctx.actor, ctx.acting_as, course=course, since=ctx.at_datetime)
        index = index_for(ctx, [ctx.actor, ctx.acting_as])
        decision = check_as(index, actor, privilege, area, at=ctx.at_datetime, context=context)
        return decision.allowed, "; ".join(decision.explanation)
    index = index_for(ctx, [ctx.effective])
    decision = check(index, ctx.effective, privilege, area, at=ctx.at_datetime, context=context)
    return decision.allowed, "; ".join(decision.explanation)


def holds_at_all(ctx: Ctx, privilege: str, area: Area) -> bool:
    """Whether a role of the effective user in force gives ``privilege`` at ``area`` in any
    form, before its conditions are looked at (a grant privilege held ``&IK`` counts)."""
    index = index_for(ctx, [ctx.effective])
    return index.allowed(ctx.effective, privilege, area, at=ctx.at_datetime).granted


def require(ctx: Ctx, privilege: str, area: Area, what: str) -> None:
    """Raise :class:`Refused` unless the effective user may ``what`` (privilege at area)."""
    ok, why = allowed(ctx, privilege, area)
    if not ok:
        raise refused(ctx, privilege, area, what, why)


def refused(ctx: Ctx, privilege: str, area: Area, what: str, why: str) -> Refused:
    """The refusal of ``what`` for want of ``privilege`` at ``area``, ``why`` being the roles
    core's answer: the one sentence of :func:`refusal` — or, while viewing as someone, the
    roles core's own words (viewing as is the reason)."""
    reasoning = f"{ctx.effective} may not {what}: {why}"
    if ctx.acting_as not in (None, ctx.actor):
        return Refused(reasoning)
    return refusal(ctx, privilege, area, what, reasoning)


_VERBS = frozenset(
    {
        "act", "add", "assign", "block", "change", "correct", "create", "define", "delete",
        "enroll", "freeze", "grant", "invite", "link", "list", "lock", "make", "manage", "move",
        "put", "read", "record", "recycle", "remove", "resend", "reset", "see", "send", "set",
        "sync", "thaw", "unblock", "unlock", "view", "wipe", "withdraw",
    }
)  # fmt: skip


def action_words(what: str, privilege: str) -> str:
    """What was refused, as a verb phrase: the route's own words when they are one ("enroll
    students"; up to a colon or semicolon), else the privilege's name ("view students")."""
    head = re.split(r"[:;]", what, maxsplit=1)[0].strip()
    if head.split(" ", 1)[0].strip(",") in _VERBS:
        return head
    return privilege_name(privilege)


def refusal(ctx: Ctx, privilege: str, area: Area, what: str, details: str) -> Refused:
    """The one-sentence refusal people read: what was refused, where, which privilege it needs
    and who can give it ("You can't enroll students in CG 101, Spring 2024: that needs the
    “manage enrollment” privilege, which a course coordinator of the course or a domain
    coordinator can give you."). The roles core's reasoning, with its codes, is ``details``."""
    place, ci = place_of(ctx, area), instance_at(ctx, area)
    # the route's words may name the place already ("... in CG 101 Sp24", "... in the domain x")
    if ci is not None:
        what = re.split(rf" (?:in|of|at) {re.escape(ci.course.name)}\b", what, maxsplit=1)[0]
    what = re.split(r" (?:in|at) the domain \S+$", what, maxsplit=1)[0]
    who = who_can_give(privilege) if area.course_area is not None else "an administrator"
    sentence = (
        f"You can't {action_words(what, privilege)} in {place}: that needs the "
        f"“{privilege_name(privilege)}” privilege, which {who} can give you."
    )
    return Refused(sentence, details=details)
