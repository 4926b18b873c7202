"""Reading class accounts: the list, the term-end schedule and the end date, the outbox, the
metrics."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from coursegate.core.instants import Instant, format_instant, to_instant, zone
from coursegate.services.accounts import common, mail, rules
from coursegate.services.accounts.service_base import MANAGE, OVER_ACCOUNT
from coursegate.services.accounts.site import Site
from coursegate.services.common.authz import require
from coursegate.services.common.conflicts import flush_or_conflict, translate_conflicts
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Invalid, NotFound, Refused
from coursegate.services.common.places import (
    course_instance_by_id,
    instance_area,
    instance_label,
)
from coursegate.services.history.log import record
from coursegate.store.models import (
    AccountEvent,
    AccountMail,
    AccountStem,
    AccountTerm,
    AccountWipe,
    ClassAccount,
    Course,
    CourseInstance,
    User,
)

LATEST_END: Instant = to_instant(datetime(9998, 12, 31, tzinfo=UTC))
"""The latest end of a term: its wipe (four weeks on) must still be a date."""

# -- listing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountLine:
    account: str
    name: str
    email: str | None
    alias: str
    role: str
    state: str
    status: str
    course_instance: str | None
    incomplete: bool
    lock_reason: str | None
    assigned_at: Instant | None
    times_assigned: int
    wipe_steps_done: int | None
    """While being wiped: how many steps are done."""

    def to_json(self, tz: Any = None) -> dict[str, Any]:
        return {
            "account": self.account,
            "name": self.name,
            "email": self.email,
            "alias": self.alias,
            "role": self.role or None,
            "state": self.state,
            "status": self.status,
            "course_instance": self.course_instance,
            "incomplete": self.incomplete,
            "lock_reason": self.lock_reason,
            "assigned_at": None
            if self.assigned_at is None
            else format_instant(self.assigned_at, tz),
            "times_assigned": self.times_assigned,
            "wipe_steps_done": self.wipe_steps_done,
        }

    def render(self) -> str:
        who = rules.ROLES.get(self.role, "free")
        extra = []
        if self.incomplete:
            extra.append("incomplete")
        if self.lock_reason:
            extra.append(f"locked ({self.lock_reason})")
        if self.state == "wiping":
            extra.append(f"being wiped ({self.wipe_steps_done} steps done)")
        where = self.course_instance or "pool"
        return (
            f"{self.account:<10} {who:<8} {where:<16} {self.status:<7} "
            f"{self.email or '-':<32} {self.name if self.state != 'free' else ''}"
            + (f"  [{', '.join(extra)}]" if extra else "")
        ).rstrip()


def list_accounts(
    ctx: Ctx, site: Site, course_name: str, instance_id: int | None = None
) -> list[AccountLine]:
    """The class accounts of a course instance (``mus`` there), or every account of a course's
    stems, free ones included (an administrator's view)."""
    course = common.course_named(ctx, course_name)
    query = (
        select(User, ClassAccount, AccountStem)
        .join(ClassAccount, ClassAccount.user_id == User.id)
        .join(AccountStem, AccountStem.id == ClassAccount.stem_id)
        .where(AccountStem.course_id == course.id)
    )
    if instance_id is not None:
        ci = course_instance_by_id(ctx, instance_id)
        require(
            ctx, OVER_ACCOUNT, instance_area(ci), f"list the class accounts of {instance_label(ci)}"
        )
        query = query.where(ClassAccount.course_instance_id == ci.id)
    else:
        common.require_admin(ctx, course, f"list every class account of {course.name}")
    rows = ctx.session.execute(query.order_by(AccountStem.id, ClassAccount.position)).all()
    labels = {
        ci.id: instance_label(ci)
        for ci in ctx.session.scalars(
            select(CourseInstance).where(CourseInstance.course_id == course.id)
        )
    }
    holders = {
        u.id: u.email
        for u in ctx.session.scalars(
            select(User).where(
                User.id.in_([r.mail_to_user_id for _, r, _ in rows if r.mail_to_user_id])
            )
        )
    }
    wipes = {
        w.user_id: len(w.steps_done)
        for w in ctx.session.scalars(
            select(AccountWipe).where(
                AccountWipe.finished_at.is_(None),
                AccountWipe.user_id.in_([u.id for u, r, _ in rows if r.state == "wiping"]),
            )
        )
    }
    out: list[AccountLine] = []
    for user, row, _stem in rows:
        email = user.email
        if rules.is_placeholder(email) and row.mail_to_user_id is not None:
            email = holders.get(row.mail_to_user_id)
        out.append(
            AccountLine(
                account=user.uid,
                name=user.name,
                email=None if rules.is_placeholder(email) else email,
                alias=rules.alias_for(user.uid, site.mail_domain),
                role=row.role,
                state=row.state,
                status=user.status,
                course_instance=labels.get(row.course_instance_id)
                if row.course_instance_id
                else None,
                incomplete=row.incomplete_at is not None,
                lock_reason=row.lock_reason,
                assigned_at=row.assigned_at,
                times_assigned=row.times_assigned,
                wipe_steps_done=wipes.get(user.id) if row.state == "wiping" else None,
            )
        )
    return out


# -- the end date -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TermView:
    course_instance: str
    end: Instant | None
    end_from: str
    """``course files`` (the publishing end), ``moved`` (set here) or ``none``."""
    phase: str
    lock_at: Instant | None
    reminder_at: Instant | None
    wipe_at: Instant | None
    next_step: tuple[str, Instant] | None
    students: int
    incompletes: int
    locked: int
    tz: str

    def to_json(self) -> dict[str, Any]:
        tz = zone(self.tz)

        def when(t: Instant | None) -> str | None:
            return None if t is None else format_instant(t, tz)

        return {
            "course_instance": self.course_instance,
            "end": when(self.end),
            "end_from": self.end_from,
            "phase": self.phase,
            "lock_at": when(self.lock_at),
            "reminder_at": when(self.reminder_at),
            "wipe_at": when(self.wipe_at),
            "next_step": None
            if self.next_step is None
            else {"step": self.next_step[0], "at": when(self.next_step[1])},
            "students": self.students,
            "incompletes": self.incompletes,
            "locked": self.locked,
        }

    def render(self) -> str:
        d = self.to_json()
        lines = [
            f"{self.course_instance}: {self.phase}; end {d['end'] or 'not set'} ({self.end_from})",
            f"  lock {d['lock_at']}, reminder {d['reminder_at']}, wipe {d['wipe_at']}"
            if self.end is not None
            else "  nothing is locked or wiped until an end date is set",
            f"  {self.students} student account(s), {self.locked} locked, "
            f"{self.incompletes} with an incomplete",
        ]
        if d["next_step"]:
            lines.append(f"  next: {d['next_step']['step']} at {d['next_step']['at']}")
        return "\n".join(lines)


def term_of(ctx: Ctx, ci: CourseInstance) -> AccountTerm | None:
    return ctx.session.get(AccountTerm, ci.id)


def effective_end(ci: CourseInstance, term: AccountTerm | None) -> tuple[Instant | None, str]:
    if term is not None and term.end_override is not None:
        return term.end_override, "moved"
    if ci.end_at is not None:
        return ci.end_at, "course files"
    return None, "none"


def term_view(ctx: Ctx, course_instance_id: int, *, check: bool = True) -> TermView:
    """Where the course instance stands in the term-end schedule (``mus`` there)."""
    ci = course_instance_by_id(ctx, course_instance_id)
    if check:
        require(
            ctx,
            OVER_ACCOUNT,
            instance_area(ci),
            f"see the account schedule of {instance_label(ci)}",
        )
    term = term_of(ctx, ci)
    end, source = effective_end(ci, term)
    done = rules.TermDone(
        term.locked_for if term else None,
        term.reminded_for if term else None,
        term.wiped_for if term else None,
    )
    due = rules.term_due(end, ctx.at, done)
    students = [a for a in common.accounts_of(ctx, ci) if a.row.role == rules.STUDENT]
    return TermView(
        instance_label(ci),
        end,
        source,
        due.phase.value,
        due.lock_at,
        due.remind_at,
        due.wipe_at,
        due.upcoming(ctx.at),
        len(students),
        sum(1 for a in students if a.row.incomplete_at is not None),
        sum(1 for a in students if a.user.status == "locked"),
        ci.timezone,
    )


@translate_conflicts
def set_end_date(
    ctx: Ctx, course_instance_id: int, end: Instant | None, *, reason: str = ""
) -> TermView:
    """Move the end date the schedule counts from (None: back to the course files' publishing
    end). Moving it later postpones the lock, the reminder and the wipe, and the next schedule
    run unlocks accounts it had locked."""
    ci = course_instance_by_id(ctx, course_instance_id)
    require(ctx, MANAGE, instance_area(ci), f"move the end date of {instance_label(ci)}")
    if end is not None and end > LATEST_END:
        raise Invalid(
            "end: the end of the term must be before the year 9999 (its accounts are wiped "
            "four weeks after it, and that date must exist)",
            "end",
        )
    term = term_of(ctx, ci)
    if term is None:
        term = AccountTerm(course_instance_id=ci.id)
        ctx.session.add(term)
    old = term.end_override
    term.end_override = end
    record(ctx, "accounts.end_date", "course_instance", instance_label(ci),
           course_instance_id=ci.id, reason=reason, old=old, new=end,
           course_files_end=ci.end_at)  # fmt: skip
    flush_or_conflict(ctx)
    return term_view(ctx, ci.id, check=False)


# -- the outbox -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MailView:
    id: int
    created_at: Instant
    kind: str
    account: str
    to: str
    subject: str
    sent_at: Instant | None
    status: str
    last_error: str
    credentials: tuple[str, ...] | None = None
    """The credentials the message issued (password, SSH key, certificate) — never their
    values; None when the text is not kept (sent by SMTP)."""

    def to_json(self, tz: Any = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "created_at": format_instant(self.created_at, tz),
            "kind": self.kind,
            "account": self.account or None,
            "to": self.to,
            "subject": self.subject,
            "sent_at": None if self.sent_at is None else format_instant(self.sent_at, tz),
            "status": self.status,
            "last_error": self.last_error or None,
            "credentials": None if self.credentials is None else list(self.credentials),
        }


@dataclass(frozen=True)
class MailText:
    """One message as its reader may see it."""

    view: MailView
    text: str | None
    """The message (None when it went out by SMTP: not kept): with its secrets withheld, except
    in :func:`outbox_secrets` (the operator's)."""
    withheld: tuple[str, ...]
    """What the message carried that only its holder reads (``password``, ``private key
    sc558aa_ed25519``, ...)."""


def outbox(ctx: Ctx, site: Site, course_instance_id: int) -> list[MailView]:
    """The messages about a course instance's accounts, newest first (``men`` there): who got
    what, when, and whether it was delivered; never a secret's value."""
    ci = course_instance_by_id(ctx, course_instance_id)
    require(
        ctx, MANAGE, instance_area(ci), f"read the class-account outbox of {instance_label(ci)}"
    )
    rows = ctx.session.scalars(
        select(AccountMail)
        .where(AccountMail.course_instance_id == ci.id)
        .order_by(AccountMail.id.desc())
    )
    out: list[MailView] = []
    for row in rows:
        text = mail.outbox_text(site, row)
        out.append(_mail_view(row, None if text is None else mail.redact(text)))
    return out


def outbox_message(ctx: Ctx, site: Site, course_instance_id: int, mail_id: int) -> MailText:
    """One message in full but for its secrets (``men`` in the course instance): a password
    or private key a message carried is replaced by a sentence saying it went to the holder
    only; staff issue new ones (reset), they never read them."""
    ci = course_instance_by_id(ctx, course_instance_id)
    require(
        ctx, MANAGE, instance_area(ci), f"read the class-account outbox of {instance_label(ci)}"
    )
    row = _mail_row(ctx, ci, mail_id)
    text = mail.outbox_text(site, row)
    if text is None:
        return MailText(_mail_view(row, None), None, ())
    red = mail.redact(text)
    return MailText(_mail_view(row, red), red.text, red.withheld)


def outbox_secrets(ctx: Ctx, site: Site, course_instance_id: int, mail_id: int) -> MailText:
    """One message exactly as it was sent, secrets included: the operator's only (``coursegate
    accounts outbox --show``), and every such read of a message that carried a secret is a
    history entry (``secret.read``: the account, the message, what it carried, the reader), in
    the caller's transaction — commit it."""
    ci = course_instance_by_id(ctx, course_instance_id)
    if not ctx.is_system:
        raise Refused(
            f"{ctx.effective} may not read the secrets a message carried: a password or private "
            "key goes to its holder only; staff see the message with them withheld, and reset "
            "the password or keys to issue new ones",
            "mail",
        )
    row = _mail_row(ctx, ci, mail_id)
    text = mail.outbox_text(site, row)
    if text is None:
        return MailText(_mail_view(row, None), None, ())
    red = mail.redact(text)
    if red.had_secrets:
        record(
            ctx, "secret.read", "user", row.account or row.to_addr,
            course_instance_id=ci.id, mail_id=row.id, kind=row.kind,
            secrets=list(red.withheld), credentials=list(red.credentials), reader=ctx.actor,
            holder=row.to_addr,
        )  # fmt: skip
    return MailText(_mail_view(row, red), text, red.withheld)


def _mail_row(ctx: Ctx, ci: CourseInstance, mail_id: int) -> AccountMail:
    row = ctx.session.get(AccountMail, mail_id)
    if row is None or row.course_instance_id != ci.id:
        raise NotFound(f"mail: {instance_label(ci)} has no message {mail_id}", "mail")
    return row


def _mail_view(row: AccountMail, red: mail.Redacted | None) -> MailView:
    if row.sent_at is None:
        status = "queued" if not row.last_error else "failing"
    elif row.outbox_key is not None:
        status = "in the outbox"
    else:
        status = "sent by SMTP"
    return MailView(
        row.id, row.created_at, row.kind, row.account, row.to_addr, row.subject,
        row.sent_at, status, row.last_error,
        None if red is None else red.credentials,
    )  # fmt: skip


# -- metrics ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricRow:
    course: str
    term: str
    generated: int
    assigned: int
    reassigned: int
    wiped: int

    FIELDS = ("course", "term", "generated", "assigned", "reassigned", "wiped")

    def to_json(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self.FIELDS}


POOL_TERM = "(ahead)"
"""The term column of accounts an administrator generated ahead of any assignment."""


def metrics(ctx: Ctx, course_name: str | None = None) -> list[MetricRow]:
    """Accounts generated, assigned (every assignment, re-assignments included), re-assigned
    (of a recycled account) and wiped, per course and term (course instance), for the funders.
    An administrator's view (``mau`` in the course's domain), or the operator's."""
    courses = {c.id: c for c in ctx.session.scalars(select(Course))}
    if course_name is not None:
        wanted = common.course_named(ctx, course_name)
        courses = {wanted.id: wanted}
    for c in courses.values():
        if course_name is not None:
            common.require_admin(ctx, c, f"read the class-account metrics of {c.name}")
    counts: dict[tuple[int, int | None], Counter[str]] = defaultdict(Counter)
    for course_id, ci_id, kind, n in ctx.session.execute(
        select(
            AccountEvent.course_id,
            AccountEvent.course_instance_id,
            AccountEvent.kind,
            func.count(),
        ).group_by(AccountEvent.course_id, AccountEvent.course_instance_id, AccountEvent.kind)
    ):
        if course_id in courses:
            counts[(course_id, ci_id)][kind] += int(n)
    visible = set()
    for course_id in {k[0] for k in counts}:
        try:
            common.require_admin(ctx, courses[course_id], "read the class-account metrics")
        except Refused:
            continue
        visible.add(course_id)
    labels = {ci.id: ci.short_name for ci in ctx.session.scalars(select(CourseInstance))}
    rows = [
        MetricRow(
            courses[course_id].name,
            labels.get(ci_id, "?") if ci_id is not None else POOL_TERM,
            c["generated"],
            c["assigned"] + c["reassigned"],
            c["reassigned"],
            c["wiped"],
        )
        for (course_id, ci_id), c in counts.items()
        if course_id in visible
    ]
    return sorted(rows, key=lambda r: (r.course, r.term))


__all__ = [
    "POOL_TERM",
    "AccountLine",
    "MailText",
    "MailView",
    "MetricRow",
    "TermView",
    "effective_end",
    "list_accounts",
    "metrics",
    "outbox",
    "outbox_message",
    "outbox_secrets",
    "set_end_date",
    "term_of",
    "term_view",
]
