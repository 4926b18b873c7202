"""The term-end schedule (``coursegate accounts run-schedule``; the server runs it every
``schedule_interval_seconds``).

Safe at any time, any number of times, by several servers at once: what is due is computed from
the end date and what was already done for that end date (:func:`rules.term_due`), each course
instance is handled in one transaction holding its schedule row (``FOR UPDATE`` on PostgreSQL;
SQLite serialises writers), locking and unlocking change only what is not so already, and wipes
are the resumable procedure of :mod:`coursegate.services.accounts.wipe`. A run:

1. finishes every wipe left unfinished (a process killed part-way);
2. for each course instance with student accounts: locks them on the end date (and tells the
   instructors, once per end date), unlocks them if the end date moved later or an incomplete
   was granted, reminds the instructors two weeks after the end, and four weeks after the end
   starts wiping every student account without an incomplete;
3. runs those wipes;
4. delivers the queued mail (credentials and notices).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from coursegate.core.instants import Instant, format_instant, from_instant, zone
from coursegate.services.accounts import common, mail, rules, wipe, wipe_request
from coursegate.services.accounts.site import Site
from coursegate.services.accounts.views import effective_end
from coursegate.services.common.context import SYSTEM, Ctx
from coursegate.services.common.places import instance_label
from coursegate.services.history.log import record
from coursegate.store.db import insert_unless_exists
from coursegate.store.models import AccountTerm, ClassAccount, CourseInstance


@dataclass
class TermReport:
    course_instance: str
    phase: str
    end: str | None
    locked: list[str] = field(default_factory=list)
    unlocked: list[str] = field(default_factory=list)
    wiping: list[str] = field(default_factory=list)
    kept: list[tuple[str, str]] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.locked or self.unlocked or self.wiping or self.notices)

    def to_json(self) -> dict[str, Any]:
        return {
            "course_instance": self.course_instance,
            "phase": self.phase,
            "end": self.end,
            "locked": self.locked,
            "unlocked": self.unlocked,
            "wiping": self.wiping,
            "kept": [{"account": a, "why": w} for a, w in self.kept],
            "notices": self.notices,
        }

    def render(self, dry_run: bool) -> str:
        would = "would " if dry_run else ""
        lines = [f"{self.course_instance}: {self.phase} (end {self.end or 'not set'})"]
        lines += [f"  {would}lock {a}" for a in self.locked]
        lines += [f"  {would}unlock {a}" for a in self.unlocked]
        lines += [f"  {would}wipe {a}" for a in self.wiping]
        lines += [f"  {would}keep {a}: {w}" for a, w in self.kept]
        lines += [f"  {would}notify {n}" for n in self.notices]
        if len(lines) == 1:
            lines.append("  nothing to do")
        return "\n".join(lines)


@dataclass
class ScheduleReport:
    at: Instant
    dry_run: bool
    resumed: wipe.WipeRun | None = None
    unfinished_before: int = 0
    terms: list[TermReport] = field(default_factory=list)
    wipes: wipe.WipeRun | None = None
    delivery: mail.Delivery | None = None

    @property
    def ok(self) -> bool:
        return all(r is None or r.ok for r in (self.resumed, self.wipes))

    def to_json(self) -> dict[str, Any]:
        return {
            "at": format_instant(self.at, None),
            "dry_run": self.dry_run,
            "unfinished_wipes_before": self.unfinished_before,
            "resumed": self.resumed.to_json() if self.resumed else None,
            "terms": [t.to_json() for t in self.terms],
            "wipes": self.wipes.to_json() if self.wipes else None,
            "mail": None
            if self.delivery is None
            else {
                "transport": self.delivery.transport,
                "sent": self.delivery.sent,
                "failed": self.delivery.failed,
            },
        }

    def render(self) -> str:
        lines = [
            f"class-account schedule at {format_instant(self.at, None)}"
            + (" (dry run: nothing changed)" if self.dry_run else "")
        ]
        if self.unfinished_before:
            verb = "would finish" if self.dry_run else "finished"
            lines.append(f"unfinished wipes from an earlier run: {self.unfinished_before} ({verb})")
        if self.resumed is not None and (self.resumed.wiped or self.resumed.unfinished):
            lines.append(self.resumed.render())
        lines += [t.render(self.dry_run) for t in self.terms]
        if not self.terms:
            lines.append("no course instance has student accounts")
        if self.wipes is not None and (self.wipes.wiped or self.wipes.unfinished):
            lines.append("wipes:")
            lines.append(self.wipes.render())
        if self.delivery is not None and (self.delivery.sent or self.delivery.failed):
            lines.append(
                f"mail: {len(self.delivery.sent)} delivered to {self.delivery.transport}"
                + (f", {len(self.delivery.failed)} failed (kept for the next run)"
                   if self.delivery.failed else "")
            )  # fmt: skip
            lines += [f"  failed: {f}" for f in self.delivery.failed]
        return "\n".join(lines)


def run_schedule(
    factory: sessionmaker[Session],
    site: Site,
    *,
    at: Instant,
    actor: str = SYSTEM,
    dry_run: bool = False,
    chunk: int = wipe.CHUNK,
) -> ScheduleReport:
    report = ScheduleReport(at, dry_run)
    with factory() as s:
        report.unfinished_before = len(wipe.unfinished(Ctx(s, actor, at)))
        ci_ids = list(
            s.scalars(
                select(ClassAccount.course_instance_id)
                .where(
                    ClassAccount.role == rules.STUDENT,
                    ClassAccount.state == "assigned",
                    ClassAccount.course_instance_id.is_not(None),
                )
                .distinct()
            )
        )
    if report.unfinished_before and not dry_run:
        report.resumed = wipe.run_wipes(factory, site, at=at, actor=actor, chunk=chunk)
    started: list[int] = []
    for ci_id in sorted(i for i in ci_ids if i is not None):
        with factory() as session:
            ctx = Ctx(session, actor, at)
            term_report, wipe_ids = _run_term(ctx, site, ci_id)
            if dry_run:
                session.rollback()
            else:
                session.commit()
        report.terms.append(term_report)
        started += wipe_ids
    if started and not dry_run:
        report.wipes = wipe.run_wipes(
            factory, site, at=at, actor=actor, wipe_ids=started, chunk=chunk
        )
    if not dry_run:
        report.delivery = mail.deliver_pending(factory, site, at=at)
    return report


def _locked_term(ctx: Ctx, ci_id: int) -> AccountTerm:
    """The course instance's schedule row, held for this transaction."""
    query = (
        select(AccountTerm)
        .where(AccountTerm.course_instance_id == ci_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    term = ctx.session.scalars(query).one_or_none()
    if term is None:
        insert_unless_exists(ctx.session, AccountTerm(course_instance_id=ci_id))
        term = ctx.session.scalars(query).one()
    return term


def _run_term(ctx: Ctx, site: Site, ci_id: int) -> tuple[TermReport, list[int]]:
    ci = ctx.session.get(CourseInstance, ci_id)
    assert ci is not None
    term = _locked_term(ctx, ci.id)
    end, _source = effective_end(ci, term)
    tz = zone(ci.timezone)
    due = rules.term_due(
        end, ctx.at, rules.TermDone(term.locked_for, term.reminded_for, term.wiped_for)
    )
    label = instance_label(ci)
    report = TermReport(label, due.phase.value, None if end is None else format_instant(end, tz))
    to_wipe: list[str] = []
    students = [a for a in common.accounts_of(ctx, ci) if a.row.role == rules.STUDENT]
    for a in students:
        action = rules.account_action(
            due.phase,
            role=a.row.role,
            state=a.row.state,
            incomplete=a.row.incomplete_at is not None,
            lock_reason=a.row.lock_reason,
        )
        if action is rules.Action.LOCK and common.lock(ctx, a, "term"):
            report.locked.append(a.uid)
            record(ctx, "accounts.lock", "user", a.uid, course_instance_id=ci.id,
                   reason="the term ended", end=end)  # fmt: skip
        elif action is rules.Action.UNLOCK and common.unlock(ctx, a):
            report.unlocked.append(a.uid)
            why = "an incomplete" if a.row.incomplete_at is not None else "the end date moved"
            record(ctx, "accounts.unlock", "user", a.uid, course_instance_id=ci.id,
                   reason=why, end=end)  # fmt: skip
        elif action is rules.Action.WIPE:
            to_wipe.append(a.uid)
        if due.phase is rules.Phase.WIPE and a.row.incomplete_at is not None:
            report.kept.append((a.uid, "incomplete"))
    wipe_ids: list[int] = []
    if to_wipe:
        requested = wipe_request.request_wipes(
            ctx,
            uids=to_wipe,
            course_instance_id=ci.id,
            reason="term-end",
            note="four weeks after the end of the term",
            lenient=True,
        )
        report.wiping = requested.started + requested.resumed
        report.kept += requested.skipped
        wipe_ids = requested.wipe_ids
    assert end is not None or not (due.notify_lock or due.remind or due.notify_wiped)
    if due.notify_lock and end is not None:
        report.notices += _notify(
            ctx, site, ci, "lock-notice", _lock_notice(label, due, students, tz), end
        )
        term.locked_for = end
    if due.remind and end is not None:
        report.notices += _notify(
            ctx, site, ci, "reminder", _reminder(label, due, students, tz), end
        )
        term.reminded_for = end
    if due.notify_wiped and end is not None:
        body = _wiped_notice(label, report.wiping, report.kept)
        report.notices += _notify(ctx, site, ci, "wiped-notice", body, end)
        term.wiped_for = term.locked_for = term.reminded_for = end
    return report, wipe_ids


def _notify(
    ctx: Ctx, site: Site, ci: CourseInstance, kind: str, text: tuple[str, str], end: Instant
) -> list[str]:
    subject, body = text
    body = "\n".join(
        line if line.startswith("  ") else textwrap.fill(line, 76) for line in body.splitlines()
    )
    people = common.staff_of(ctx, ci, common.INSTRUCTOR_ROLES, min(ctx.at, end))
    if not people:
        people = common.staff_of(ctx, ci, common.INSTRUCTOR_ROLES, ctx.at)
    sent: list[str] = []
    for person in people:
        queued = mail.queue(
            ctx, site, kind=kind, to=person.email, subject=subject, body=body,
            course_instance_id=ci.id, course=instance_label(ci),
        )  # fmt: skip
        if queued is not None:
            sent.append(f"{person.uid} <{person.email}>: {subject}")
    record(ctx, f"accounts.{kind}", "course_instance", instance_label(ci), course_instance_id=ci.id,
           to=[p.uid for p in people], end=end)  # fmt: skip
    if not sent:
        sent.append(f"nobody: {instance_label(ci)} has no instructor with an address ({subject})")
    return sent


def _when(t: Instant | None, tz: tzinfo) -> str:
    if t is None:
        return "(no date)"
    return from_instant(t, tz).strftime("%a %d %b %Y, %H:%M %Z")


def _postpone(label: str) -> str:
    course, _, instance = label.rpartition(" ")
    return (
        "To postpone the lock and the wipe, move the end date:\n"
        f'  coursegate accounts end-date "{course}" {instance} YYYY-MM-DDTHH:MM\n'
        f"(or PUT /api/v1/courses/{course}/instances/{instance}/account-schedule).\n"
        "To keep one student's account, grant an incomplete:\n"
        f'  coursegate accounts incomplete "{course}" {instance} ACCOUNT\n'
    )


def _lock_notice(
    label: str, due: rules.TermDue, students: list[common.Account], tz: tzinfo
) -> tuple[str, str]:
    locked = [a.uid for a in students if a.row.incomplete_at is None]
    kept = [a.uid for a in students if a.row.incomplete_at is not None]
    body = (
        f"The term of {label} ended on {_when(due.end, tz)}.\n\n"
        f"{len(locked)} student account(s) are now locked: {', '.join(locked) or 'none'}.\n"
        f"{len(kept)} with an incomplete stay open: {', '.join(kept) or 'none'}.\n\n"
        f"On {_when(due.wipe_at, tz)} (four weeks after the end) every student account without "
        "an incomplete will be wiped: its files deleted, its keys, certificates and mail "
        "forwarding removed. A reminder follows two weeks before.\n\n" + _postpone(label)
    )
    return f"{label}: student accounts locked at the end of the term", body


def _reminder(
    label: str, due: rules.TermDue, students: list[common.Account], tz: tzinfo
) -> tuple[str, str]:
    wiped = [a.uid for a in students if a.row.incomplete_at is None]
    body = (
        f"Reminder: on {_when(due.wipe_at, tz)} the {len(wiped)} student account(s) of {label} "
        f"without an incomplete will be wiped: {', '.join(wiped) or 'none'}.\n\n" + _postpone(label)
    )
    return f"{label}: student accounts will be wiped on {_when(due.wipe_at, tz)}", body


def _wiped_notice(label: str, wiping: list[str], kept: list[tuple[str, str]]) -> tuple[str, str]:
    body = (
        f"The student accounts of {label} are wiped now, four weeks after the end of the term: "
        f"{', '.join(wiping) or 'none'}.\n"
        f"Kept: {', '.join(f'{a} ({w})' for a, w in kept) or 'none'}.\n"
    )
    return f"{label}: student accounts wiped", body


__all__ = ["ScheduleReport", "TermReport", "run_schedule"]
