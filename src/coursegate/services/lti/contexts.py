"""LMS courses (LTI contexts) linked to course instances, and the roles a launch gives there.

The first instructor launch from an LMS course offers them the link: they choose one of the
course instances they teach here (instructor or course coordinator), and every later launch
from that LMS course lands in it. A launch into a linked course applies the roles the LMS sent
at once — Learner enrolls (with the Student role), TeachingAssistant and Instructor give those
roles in the course instance, Administrator (where the platform may) gives domain coordinator
in the platform's domain, ContentDeveloper (where the platform may) gives the Author role in
the platform's domain to people of that domain (the seed grants an Author only in their own
domain; someone linked by email from another domain is given nothing, and the history says so).
Roles the LMS did not send are not invented, and a launch takes none away (the roster sync ends
enrollments of those who left). The LMS's test student is never enrolled: it would count in the
roster; staff see what a student sees with View as.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from coursegate.courses.problems import CourseError
from coursegate.courses.rollover import suggested_name
from coursegate.lti.claims import Launch
from coursegate.lti.membership import (
    AUTHOR,
    DOMAIN_COORDINATOR,
    INSTRUCTOR,
    STUDENT,
    TEACHING_ASSISTANT,
    Membership,
)
from coursegate.roles import Area
from coursegate.services.common.context import SYSTEM, Ctx
from coursegate.services.common.errors import Invalid, NotFound, Refused
from coursegate.services.common.places import instance_area, instance_label
from coursegate.services.courses import new_instance
from coursegate.services.courses.enrollment import enroll
from coursegate.services.courses.rules_files import CourseFileWrites
from coursegate.services.history import log as history
from coursegate.services.people.grants import grant_role
from coursegate.services.people.persons import refuse_in_view_as
from coursegate.store.models import (
    CourseInstance,
    LtiContext,
    LtiIdentity,
    LtiPlatform,
    RoleAssignmentRow,
    User,
)

OFFER_LIFETIME = 3600 * 1_000_000
"""How long after their launch an instructor may link the LMS course."""
TEACHING = ("in", "cc")


@dataclass(frozen=True)
class Applied:
    """What a launch into a linked course did: roles given, whether it enrolled."""

    granted: tuple[str, ...]
    enrolled: bool


def note_context(
    ctx: Ctx, platform: LtiPlatform, launch: Launch, user: User, membership: Membership
) -> LtiContext | None:
    """The launch's LMS course, recorded (title and label kept current); offered to the
    launching instructor for linking while it is not linked."""
    if launch.context is None:
        return None
    row = ctx.session.scalars(
        select(LtiContext).where(
            LtiContext.platform_id == platform.id, LtiContext.context_id == launch.context.id
        )
    ).one_or_none()
    if row is None:
        row = LtiContext(platform_id=platform.id, context_id=launch.context.id, created_at=ctx.at)
        ctx.session.add(row)
    row.title = launch.context.title[:300]
    row.label = launch.context.label[:100]
    if launch.nrps_url:
        row.memberships_url = launch.nrps_url[:1000]
    first, last = launch.course_days
    if first is not None:
        row.first_day = first.isoformat()
    if last is not None:
        row.last_day = last.isoformat()
    lineitems = (launch.ags or {}).get("lineitems")
    if isinstance(lineitems, str) and lineitems:
        row.lineitems_url = lineitems[:1000]
    if row.course_instance_id is None and INSTRUCTOR in membership.roles:
        row.offered_to_user_id = user.id
        row.offered_at = ctx.at
    ctx.session.flush()
    return row


def _holds(ctx: Ctx, user: User, roles: tuple[str, ...], area: str) -> bool:
    return (
        ctx.session.scalar(
            select(RoleAssignmentRow.id)
            .where(
                RoleAssignmentRow.user_id == user.id,
                RoleAssignmentRow.role.in_(roles),
                RoleAssignmentRow.area == area,
                RoleAssignmentRow.in_force(ctx.at),
            )
            .limit(1)
        )
        is not None
    )


def apply_roles(ctx: Ctx, context: LtiContext, user: User, membership: Membership) -> Applied:
    """Give ``user`` in the linked course instance the roles the LMS sent (see the module)."""
    ci = context.course_instance
    if ci is None or membership.test_user:
        return Applied((), False)
    system = Ctx(ctx.session, SYSTEM, ctx.at)
    reason = f"LTI launch from {context.platform.name} ({context.title or context.context_id})"
    area = instance_area(ci).path
    granted: list[str] = []
    enrolled = False
    if STUDENT in membership.roles and not _holds(ctx, user, ("st",), area):
        enroll(system, ci.id, user.uid, reason=reason)
        enrolled = True
    for role in (TEACHING_ASSISTANT, INSTRUCTOR):
        if role in membership.roles and not _holds(ctx, user, (role,), area):
            grant_role(system, user.uid, role, area, reason=reason)
            granted.append(role)
    if DOMAIN_COORDINATOR in membership.roles:
        domain = Area.of_domain(context.platform.domain.name).path
        if not _holds(ctx, user, ("dc",), domain):
            grant_role(system, user.uid, "dc", domain, reason=reason)
            granted.append("dc")
    if AUTHOR in membership.roles and user.domain_id == context.platform.domain_id:
        domain = Area.of_domain(context.platform.domain.name).path
        if not _holds(ctx, user, (AUTHOR,), domain):
            grant_role(system, user.uid, AUTHOR, domain, reason=reason)
            granted.append(AUTHOR)
    return Applied(tuple(granted), enrolled)


def linkable(ctx: Ctx, context_row_id: int) -> tuple[LtiContext, list[CourseInstance]]:
    """The LMS course offered to the caller, and the course instances they may link it to."""
    row = _offered(ctx, context_row_id)
    user = ctx.user(ctx.actor)
    areas = set(
        ctx.session.scalars(
            select(RoleAssignmentRow.area).where(
                RoleAssignmentRow.user_id == user.id,
                RoleAssignmentRow.role.in_(TEACHING),
                RoleAssignmentRow.in_force(ctx.at),
            )
        )
    )
    instances = [
        ci
        for ci in ctx.session.scalars(
            select(CourseInstance).where(CourseInstance.retired_at.is_(None))
        )
        if instance_area(ci).path in areas
    ]
    return row, sorted(instances, key=instance_label)


def _offered(ctx: Ctx, context_row_id: int) -> LtiContext:
    row = ctx.session.get(LtiContext, context_row_id)
    user = ctx.user(ctx.actor)
    if row is None or row.offered_to_user_id != user.id:
        raise NotFound("this LMS course is not waiting for you to link it", "context")
    if row.course_instance_id is not None:
        raise Invalid(
            f"this LMS course is linked already, to {instance_label(row.course_instance)}"
            if row.course_instance
            else "this LMS course is linked already",
            "context",
        )
    if row.offered_at is None or ctx.at - row.offered_at > OFFER_LIFETIME:
        raise Refused(
            "more than an hour has passed since your launch from the LMS: launch again from "
            "the LMS course to link it",
            "context",
        )
    return row


def link_context(ctx: Ctx, context_row_id: int, course_instance_id: int) -> LtiContext:
    """Link the LMS course offered to the caller to a course instance they teach (never while
    viewing as someone: the offer and the teaching roles are the real user's)."""
    refuse_in_view_as(ctx, "link an LMS course to a course instance")
    row, choices = linkable(ctx, context_row_id)
    ci = next((c for c in choices if c.id == course_instance_id), None)
    if ci is None:
        raise Refused(
            "you may link an LMS course only to a course instance you teach here (instructor "
            "or course coordinator)",
            "course_instance",
        )
    row.course_instance_id = ci.id
    row.linked_by = ctx.actor
    row.linked_at = ctx.at
    row.offered_to_user_id = None
    row.offered_at = None
    ctx.session.flush()
    ctx.session.refresh(row)
    history.record(
        ctx,
        "lti.context_linked",
        "course_instance",
        instance_label(ci),
        course_instance_id=ci.id,
        platform=row.platform.name,
        context=row.context_id,
        title=row.title,
    )
    return row


def create_and_link(
    ctx: Ctx, context_row_id: int, new: new_instance.NewInstance, writes: CourseFileWrites
) -> LtiContext:
    """Make a course instance from one the caller teaches, for the LMS course offered to them
    (with its dates), and link the LMS course to it (:mod:`coursegate.services.courses.
    new_instance`: the caller becomes its instructor)."""
    row, choices = linkable(ctx, context_row_id)
    if not any(c.id == new.template_id for c in choices):
        raise Refused(
            "you may start a course instance only from one you teach here (instructor or "
            "course coordinator)",
            "template",
        )
    linked: list[LtiContext] = []
    try:
        new_instance.create_from_template(
            ctx, new, writes, then=lambda made: linked.append(link_context(ctx, row.id, made.id))
        )
    except CourseError as exc:
        said = "; ".join(str(p) for p in exc.problems[:5])
        more = f" (and {len(exc.problems) - 5} more)" if len(exc.problems) > 5 else ""
        raise Invalid(
            f"the new course instance does not validate, so nothing was written: {said}{more}",
            "template",
        ) from None
    return linked[0]


@dataclass(frozen=True)
class NewTerm:
    """What the form that makes a course instance for the LMS course starts with."""

    short_name: str
    long_name: str
    first_day: str
    last_day: str
    why_not: str
    """Empty when this server may write the new course instance; else why not."""


def _new_term(
    ctx: Ctx, row: LtiContext, choices: tuple[CourseInstance, ...], writes: CourseFileWrites
) -> NewTerm | None:
    if not choices:
        return None
    first = date.fromisoformat(row.first_day) if row.first_day else None
    why = new_instance.where(ctx, choices[0], writes).why_not
    return NewTerm(
        short_name=suggested_name(first) if first else "",
        long_name=row.title or row.label or "",
        first_day=row.first_day or "",
        last_day=row.last_day or "",
        why_not=why,
    )


@dataclass(frozen=True)
class ContextView:
    """What ``/lti/contexts/{id}`` shows the caller."""

    id: int
    title: str
    platform: str
    linked: CourseInstance | None
    offered: bool
    """The caller may link it now (their launch, within the hour, unlinked)."""
    choices: tuple[CourseInstance, ...]
    test_user: bool
    new_term: NewTerm | None = None
    """The form that makes a course instance from one of ``choices`` (when offered)."""


def context_view(
    ctx: Ctx, context_row_id: int, writes: CourseFileWrites | None = None
) -> ContextView:
    """The LMS course for someone who launched from its platform (others: not found)."""
    row = ctx.session.get(LtiContext, context_row_id)
    user = ctx.user(ctx.actor)
    identity = (
        ctx.session.scalars(
            select(LtiIdentity).where(
                LtiIdentity.platform_id == row.platform_id, LtiIdentity.user_id == user.id
            )
        ).first()
        if row is not None
        else None
    )
    if row is None or identity is None:
        raise NotFound("there is no such LMS course for you", "context")
    offered = (
        row.course_instance_id is None
        and row.offered_to_user_id == user.id
        and row.offered_at is not None
        and ctx.at - row.offered_at <= OFFER_LIFETIME
    )
    choices = tuple(linkable(ctx, row.id)[1]) if offered else ()
    return ContextView(
        id=row.id,
        title=row.title or row.label or row.context_id,
        platform=row.platform.name,
        linked=row.course_instance,
        offered=offered,
        choices=choices,
        test_user=identity.test_user,
        new_term=_new_term(ctx, row, choices, writes or CourseFileWrites()) if offered else None,
    )


def linked_lms_courses(session: Session, course_instance_id: int) -> list[LtiContext]:
    """The LMS courses linked to a course instance (its staff pages link their roster and
    grades pages)."""
    return list(
        session.scalars(
            select(LtiContext)
            .where(LtiContext.course_instance_id == course_instance_id)
            .order_by(LtiContext.id)
        )
    )
