"""A roster sync (or its dry run) as a *run* that a page follows.

Reading a large LMS course's membership list takes tens of seconds (Canvas pages it at 50–100
members a request), too long for one request. :func:`start_run` checks, in the caller's
request, that the caller may sync this course's roster (``men``, as
:func:`~coursegate.services.lti.roster_sync.sync_roster` does) and that no other run of the
course is going on, and records the run; :func:`execute_run` — in the background, with
transactions of its own — reads the pages, writing its progress after each page in a short
transaction so that the page sees it, then plans (and, unless a dry run, applies) the changes
in **one** transaction, as a sync in a request does: all or nothing. A failure marks the run
``failed`` with the sentence that says why, and changes nothing else. :func:`read_run` shows a
run to those who may sync the roster.

A run whose ``updated_at`` is :data:`STALE` old is taken as stopped (its server was stopped or
restarted while it ran): it no longer blocks a new run, and reads as failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from coursegate.core.instants import MICROS, Instant
from coursegate.lti.roster import Change, RosterPlan
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Conflict, NotFound, ServiceError
from coursegate.services.lti import roster_sync
from coursegate.services.lti.tokens import PlatformTokens
from coursegate.store.db import transaction
from coursegate.store.models import LtiContext, LtiRosterRun

log = logging.getLogger("coursegate.lti.roster")

STALE = 15 * 60 * MICROS
"""A running run not updated for this long has stopped (each page, and the start of applying,
update it; one page waits at most :data:`~coursegate.services.lti.roster_sync.TIMEOUT_SECONDS`)."""
STOPPED = (
    "the run stopped without finishing (its server was stopped or restarted); what it had not "
    "finished was not changed: start it again"
)
UNEXPECTED = (
    "the roster sync stopped on an unexpected error (the server's log has the details); "
    "nothing was changed"
)

Runner = Callable[[Callable[[], None]], object]
"""Runs a job in the background (the server: a thread of its own; tests: at once)."""


@dataclass(frozen=True)
class RunView:
    """A run as its page shows it."""

    id: int
    context_id: int
    started_by: str
    dry_run: bool
    state: str
    step: str
    pages: int
    members: int
    started_at: Instant
    finished_at: Instant | None
    summary: str
    plan: RosterPlan | None
    error: str

    @property
    def finished(self) -> bool:
        return self.state != "running"

    @property
    def what(self) -> str:
        return "dry run" if self.dry_run else "sync"

    def progress(self) -> str:
        """Where the run is, in one sentence."""
        if self.state == "failed":
            return f"The roster {self.what} failed: {self.error}."
        if self.state == "done":
            return self.summary
        if self.step == "applying":
            doing = "comparing them with the course" if self.dry_run else "making the changes"
            return f"Read {self.members:,} members in {self.pages:,} page(s); {doing}…"
        if self.pages == 0:
            return "Asking the LMS for its roster…"
        return f"Reading the LMS's roster: page {self.pages:,}, {self.members:,} members so far…"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "context_id": self.context_id,
            "dry_run": self.dry_run,
            "state": self.state,
            "step": self.step,
            "pages": self.pages,
            "members": self.members,
            "finished": self.finished,
            "progress": self.progress(),
            "summary": self.summary or None,
            "error": self.error or None,
        }


def plan_json(plan: RosterPlan) -> dict[str, Any]:
    return {
        "members": plan.members,
        "unchanged": plan.unchanged,
        "test_users": plan.test_users,
        "changes": [c.to_json() for c in plan.changes],
        "notes": list(plan.notes),
    }


def plan_from_json(raw: dict[str, Any]) -> RosterPlan:
    changes = tuple(
        Change(
            kind=c["kind"],
            sub=None,
            uid=c.get("uid"),
            name=c.get("name", ""),
            email=c.get("email", ""),
            roles=frozenset(c.get("roles", ())),
        )
        for c in raw.get("changes", ())
    )
    return RosterPlan(
        changes,
        int(raw.get("members", 0)),
        int(raw.get("unchanged", 0)),
        int(raw.get("test_users", 0)),
        tuple(raw.get("notes", ())),
    )


def _view(run: LtiRosterRun, at: Instant) -> RunView:
    state, error = run.state, run.error or ""
    if state == "running" and at - run.updated_at >= STALE:
        state, error = "failed", STOPPED
    return RunView(
        id=run.id,
        context_id=run.context_id,
        started_by=run.started_by,
        dry_run=run.dry_run,
        state=state,
        step=run.step,
        pages=run.pages,
        members=run.members,
        started_at=run.started_at,
        finished_at=run.finished_at,
        summary=run.summary or "",
        plan=plan_from_json(run.plan) if run.plan is not None else None,
        error=error,
    )


def start_run(ctx: Ctx, context_row_id: int, *, dry_run: bool) -> RunView:
    """Record a run of the course's roster sync (a dry run: only what it would change), once
    the caller may sync it and no other run of the course is going on; :func:`execute_run`
    does it."""
    context = roster_sync.linked_context(ctx, context_row_id)
    # Two starts at once (PostgreSQL): the second waits here, then sees the first's run.
    ctx.session.execute(select(LtiContext.id).where(LtiContext.id == context.id).with_for_update())
    for other in ctx.session.scalars(
        select(LtiRosterRun).where(
            LtiRosterRun.context_id == context.id, LtiRosterRun.state == "running"
        )
    ):
        if ctx.at - other.updated_at < STALE:
            seen = _view(other, ctx.at)
            where = seen.progress().rstrip("…")
            raise Conflict(
                f"a roster {seen.what} of this course, started by {other.started_by}, is still "
                f"running ({where[0].lower()}{where[1:]}): wait for it to finish, then start "
                "again",
                "context",
            )
        other.state, other.error, other.finished_at = "failed", STOPPED, ctx.at
    run = LtiRosterRun(
        context_id=context.id,
        started_by=ctx.actor,
        dry_run=dry_run,
        state="running",
        step="reading",
        pages=0,
        members=0,
        started_at=ctx.at,
        updated_at=ctx.at,
    )
    ctx.session.add(run)
    ctx.session.flush()
    return _view(run, ctx.at)


def _set(factory: sessionmaker[Session], run_id: int, **values: Any) -> None:
    """Update a running run, in a short transaction of its own (others see it at once)."""
    with transaction(factory) as s:
        s.execute(
            update(LtiRosterRun)
            .where(LtiRosterRun.id == run_id, LtiRosterRun.state == "running")
            .values(**values)
        )


def execute_run(
    factory: sessionmaker[Session],
    tokens: PlatformTokens,
    run_id: int,
    *,
    clock: Callable[[], Instant],
    get: roster_sync.Get = roster_sync._get,
) -> None:
    """Do a run :func:`start_run` recorded (see the module); never raises."""
    try:
        _execute(factory, tokens, run_id, clock=clock, get=get)
    except ServiceError as exc:
        _fail(factory, run_id, exc.message, clock)
    except Exception:  # a bug: said, logged, and nothing changed
        log.exception("roster run %s failed", run_id)
        _fail(factory, run_id, UNEXPECTED, clock)


def _fail(
    factory: sessionmaker[Session], run_id: int, error: str, clock: Callable[[], Instant]
) -> None:
    at = clock()
    _set(factory, run_id, state="failed", error=error[:2000], updated_at=at, finished_at=at)


def _execute(
    factory: sessionmaker[Session],
    tokens: PlatformTokens,
    run_id: int,
    *,
    clock: Callable[[], Instant],
    get: roster_sync.Get,
) -> None:
    with transaction(factory) as s:
        run = s.get(LtiRosterRun, run_id)
        if run is None or run.state != "running":
            return
        actor, context_id, dry_run = run.started_by, run.context_id, run.dry_run
        ctx = Ctx(s, actor, clock())
        context = roster_sync.linked_context(ctx, context_id)  # still theirs to sync
        token = tokens.token(ctx, context.platform, (roster_sync.SCOPE,))
        url, platform = context.memberships_url or "", context.platform.name
    pages = 0

    def progress(members: int) -> None:
        nonlocal pages
        pages += 1
        _set(factory, run_id, pages=pages, members=members, updated_at=clock())

    members = roster_sync.fetch_roster(url, token, platform, get=get, progress=progress)
    _set(factory, run_id, step="applying", updated_at=clock())
    with transaction(factory) as s:
        run = s.get(LtiRosterRun, run_id, with_for_update=True)
        if run is None or run.state != "running":
            return  # taken as stopped meanwhile: a newer run does the work
        ctx = Ctx(s, actor, clock())
        context = roster_sync.linked_context(ctx, context_id)
        plan = roster_sync.plan_and_apply(ctx, context, members, dry_run=dry_run)
        if dry_run:
            summary = f"{plan.summary()}."
        else:
            skipped = f" Skipped: {'; '.join(plan.notes)}" if plan.notes else ""
            summary = f"Roster synced. {plan.summary()}.{skipped}"
        run.state, run.summary, run.plan = "done", summary, plan_json(plan)
        run.finished_at = run.updated_at = ctx.at


def read_run(ctx: Ctx, context_row_id: int, run_id: int) -> RunView:
    """One run of the course's roster sync, for those who may sync it."""
    roster_sync.linked_context(ctx, context_row_id)  # refused unless they may (``men``)
    run = ctx.session.get(LtiRosterRun, run_id)
    if run is None or run.context_id != context_row_id:
        raise NotFound(f"there is no roster sync {run_id} of this LMS course", "run")
    return _view(run, ctx.at)


def recent_runs(ctx: Ctx, context_row_id: int, limit: int = 5) -> list[RunView]:
    """The course's latest runs, newest first, for those who may sync its roster."""
    roster_sync.linked_context(ctx, context_row_id)  # refused unless they may (``men``)
    rows = ctx.session.scalars(
        select(LtiRosterRun)
        .where(LtiRosterRun.context_id == context_row_id)
        .order_by(LtiRosterRun.id.desc())
        .limit(limit)
    )
    return [_view(r, ctx.at) for r in rows]
