"""Syncing a course instance's roster from the LMS (Names and Role Provisioning Services 2.0).

:func:`fetch_members` reads the LMS's membership list, following its ``Link: <…>; rel="next"``
pages; :func:`sync_roster` compares it with the course instance (the pure
:func:`coursegate.lti.roster.plan_roster`) and, unless it is a dry run, applies the plan in the
caller's one transaction: joins enroll (making the person's account and link as a launch does),
departures end the enrollment, teaching roles are given or ended. Staff with ``men`` (manage
enrollment) in the linked course instance may run it; every change is in the history.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from coursegate.lti.claims import LaunchRefused
from coursegate.lti.roster import Change, Member, Person, RosterPlan, plan_roster
from coursegate.services.common.authz import require
from coursegate.services.common.context import SYSTEM, Ctx
from coursegate.services.common.errors import Invalid, NotFound, ServiceError
from coursegate.services.common.places import instance_area, instance_label
from coursegate.services.courses.enrollment import enroll, enroll_new_users, remove
from coursegate.services.history import log as history
from coursegate.services.lti.launch import new_people, person_for
from coursegate.services.lti.tokens import PlatformTokens, PlatformUnavailable
from coursegate.services.people.grants import grant_role, revoke_role
from coursegate.store.db import transaction
from coursegate.store.models import (
    Enrollment,
    LtiContext,
    LtiIdentity,
    RoleAssignmentRow,
    User,
)

SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
MEDIA_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
MAX_PAGES = 200
TIMEOUT_SECONDS = 20.0

Get = Callable[[str, str], tuple[Any, str | None]]
"""Reads one page (URL, bearer token) → (its JSON, the next page's URL or None)."""
Progress = Callable[[int], None]


def _get(url: str, token: str) -> tuple[Any, str | None]:
    with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client:
        response = client.get(
            url, headers={"accept": MEDIA_TYPE, "authorization": f"Bearer {token}"}
        )
        response.raise_for_status()
        found = re.search(r'<([^>]+)>\s*;\s*rel="?next"?', response.headers.get("link", ""))
        return response.json(), found.group(1) if found else None


def _member(raw: Any) -> Member | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("user_id"), str):
        return None
    roles = raw.get("roles")
    return Member(
        sub=raw["user_id"],
        name=str(raw.get("name") or ""),
        email=str(raw.get("email") or ""),
        lti_roles=tuple(r for r in roles if isinstance(r, str)) if isinstance(roles, list) else (),
        active=raw.get("status", "Active") == "Active",
    )


def fetch_members(
    url: str, token: str, *, get: Get = _get, progress: Progress | None = None
) -> list[Member]:
    """Every member of the LMS's list, page after page (at most :data:`MAX_PAGES`)."""
    members: list[Member] = []
    page: str | None = url
    for _ in range(MAX_PAGES):
        if page is None:
            return members
        data, page = get(page, token)
        raw = data.get("members") if isinstance(data, dict) else None
        if not isinstance(raw, list):
            raise ValueError("the LMS's answer has no members list")
        members.extend(m for m in map(_member, raw) if m is not None)
        if progress is not None:
            progress(len(members))
    raise ValueError(f"the LMS's membership list goes on for more than {MAX_PAGES} pages")


def _people(ctx: Ctx, context: LtiContext) -> list[Person]:
    ci = context.course_instance
    assert ci is not None
    area = instance_area(ci).path
    links = {
        i.user_id: i
        for i in ctx.session.scalars(
            select(LtiIdentity).where(LtiIdentity.platform_id == context.platform_id)
        )
    }
    enrolled = set(
        ctx.session.scalars(
            select(Enrollment.user_id).where(
                Enrollment.course_instance_id == ci.id, Enrollment.status == "joined"
            )
        )
    )
    teaching: dict[int, set[str]] = {}
    for user_id, role in ctx.session.execute(
        select(RoleAssignmentRow.user_id, RoleAssignmentRow.role).where(
            RoleAssignmentRow.area == area,
            RoleAssignmentRow.role.in_(("ta", "in")),
            RoleAssignmentRow.in_force(ctx.at),
        )
    ):
        teaching.setdefault(user_id, set()).add(role)
    uids = {
        user_id: uid
        for user_id, uid in ctx.session.execute(
            select(User.id, User.uid).where(User.id.in_(set(links) | enrolled))
        )
    }
    out = []
    for user_id in set(links) | enrolled:
        link = links.get(user_id)
        out.append(
            Person(
                uid=uids.get(user_id, ""),
                sub=link.sub if link else None,
                enrolled=user_id in enrolled,
                teaching=frozenset(teaching.get(user_id, ())),
                brought_by_lms=link is not None and link.linked_by == "created",
            )
        )
    return out


def linked_context(ctx: Ctx, context_row_id: int) -> LtiContext:
    """The linked LMS course whose roster ``ctx``'s caller may sync (``men`` in its course
    instance), with its roster service offered."""
    context = ctx.session.get(LtiContext, context_row_id)
    if context is None or context.course_instance is None:
        raise NotFound("there is no linked LMS course with that id", "context")
    ci = context.course_instance
    require(ctx, "men", instance_area(ci), f"sync the roster of {instance_label(ci)} from the LMS")
    if not context.memberships_url:
        raise Invalid(
            f"{context.platform.name} has not offered its roster service for this course: "
            "launch once from the LMS course (the LMS gives the service's address then), and "
            "check that the tool may read rosters (Names and Role Provisioning)",
            "context",
        )
    return context


def fetch_roster(
    url: str, token: str, platform: str, *, get: Get = _get, progress: Progress | None = None
) -> list[Member]:
    """:func:`fetch_members`, its failures said as :class:`PlatformUnavailable`."""
    try:
        return fetch_members(url, token, get=get, progress=progress)
    except (httpx.HTTPError, ValueError, TypeError) as exc:
        raise PlatformUnavailable(
            f"{platform}'s roster could not be read at {url} ({type(exc).__name__}: {exc})",
            "context",
        ) from None


def sync_roster(
    ctx: Ctx,
    context_row_id: int,
    *,
    tokens: PlatformTokens,
    dry_run: bool,
    get: Get = _get,
    progress: Progress | None = None,
) -> RosterPlan:
    """Read the LMS's roster of a linked course and show (dry run) or apply the changes."""
    context = linked_context(ctx, context_row_id)
    assert context.memberships_url is not None
    token = tokens.token(ctx, context.platform, (SCOPE,))
    members = fetch_roster(
        context.memberships_url, token, context.platform.name, get=get, progress=progress
    )
    return plan_and_apply(ctx, context, members, dry_run=dry_run)


def plan_and_apply(
    ctx: Ctx, context: LtiContext, members: list[Member], *, dry_run: bool
) -> RosterPlan:
    """Compare the LMS's ``members`` with the course instance, and — unless a dry run — apply
    the plan in ``ctx``'s transaction (and say so in the history)."""
    ci = context.course_instance
    assert ci is not None
    plan = plan_roster(
        members, _people(ctx, context), allow_administrator=context.platform.allow_administrator
    )
    if dry_run:
        return plan
    skipped = _apply(ctx, context, plan, {m.sub: m for m in members})
    plan = replace(plan, notes=tuple(skipped))
    context.roster_synced_at = ctx.at
    history.record(
        ctx,
        "lti.roster_synced",
        "course_instance",
        instance_label(ci),
        course_instance_id=ci.id,
        platform=context.platform.name,
        summary=plan.summary(),
        skipped=list(plan.notes),
    )
    return plan


def _apply(
    ctx: Ctx, context: LtiContext, plan: RosterPlan, members: dict[str, Member]
) -> list[str]:
    """Apply each change in a savepoint of its own: one that cannot be made (a blocked student,
    an email that belongs to an account the platform may not link) is skipped and said."""
    skipped: list[str] = []
    done = _newcomers(ctx, context, plan, members)
    for change in plan.changes:
        if change.kind == "join" and change.sub in done:
            continue
        try:
            with ctx.session.begin_nested():
                _apply_one(ctx, context, change, members)
        except (ServiceError, LaunchRefused) as exc:
            who = change.uid or change.email or change.name or change.sub
            skipped.append(f"{change.kind} {who}: {exc}")
    return skipped


def _newcomers(
    ctx: Ctx, context: LtiContext, plan: RosterPlan, members: dict[str, Member]
) -> set[str]:
    """Members who join and are new to coursegate, made and enrolled all at once (a first
    sync of a large course: thousands of them); the ``sub``s handled."""
    ci = context.course_instance
    assert ci is not None
    joins = [c for c in plan.changes if c.kind == "join" and c.uid is None and c.sub is not None]
    if not joins:
        return set()
    system = Ctx(ctx.session, SYSTEM, ctx.at)
    people = [(m.sub, m.name, m.email) for m in (members[c.sub] for c in joins if c.sub)]
    made = new_people(system, context.platform, people)
    reason = f"roster sync from {context.platform.name}, by {ctx.actor}"
    enroll_new_users(system, ci.id, list(made.values()), reason=reason)
    return set(made)


def _apply_one(ctx: Ctx, context: LtiContext, change: Change, members: dict[str, Member]) -> None:
    ci = context.course_instance
    assert ci is not None
    system = Ctx(ctx.session, SYSTEM, ctx.at)
    area = instance_area(ci).path
    reason = f"roster sync from {context.platform.name}, by {ctx.actor}"
    uid = change.uid
    if uid is None and change.sub is not None:
        m = members[change.sub]
        user, _ = person_for(system, context.platform, m.sub, m.name, m.email, test_user=False)
        uid = user.uid
    if uid is None:
        return
    if change.kind == "join":
        enroll(system, ci.id, uid, reason=reason)
    elif change.kind == "leave":
        remove(system, ci.id, uid, reason=reason)
    elif change.kind == "add_roles":
        for role in sorted(change.roles):
            grant_role(system, uid, role, area, reason=reason)
    elif change.kind == "end_roles":
        for role in sorted(change.roles):
            revoke_role(system, uid, role, area, reason=reason)


def sync_due(
    factory: sessionmaker[Session], tokens: PlatformTokens, *, at: int, every: int
) -> dict[str, int]:
    """The server's schedule: sync every linked course whose roster was last synced ``every``
    microseconds ago or more (or never), each in a transaction of its own, as the operator (the
    history says so). An LMS that is down is tried again at the next run."""
    with transaction(factory) as s:
        due = [
            c.id
            for c in s.scalars(
                select(LtiContext).where(
                    LtiContext.course_instance_id.is_not(None),
                    LtiContext.memberships_url.is_not(None),
                )
            )
            if c.roster_synced_at is None or at - c.roster_synced_at >= every
        ]
    done = {"synced": 0, "failed": 0}
    for context_id in due:
        try:
            with transaction(factory) as s:
                sync_roster(Ctx(s, SYSTEM, at), context_id, tokens=tokens, dry_run=False)
            done["synced"] += 1
        except ServiceError:
            done["failed"] += 1
    return done
