"""The append-only history: who did what, as whom, when and why.

:func:`record` adds an entry in the caller's transaction; :func:`course_history` reads a
course instance's entries back, newest first, filtered and a page at a time (``vhi``).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from sqlalchemy import and_, or_, select

from coursegate.core.instants import Instant, format_instant
from coursegate.services.common.authz import require
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Invalid
from coursegate.services.common.places import course_instance_by_id, instance_area, instance_label
from coursegate.store.models import HistoryEntry


def record(
    ctx: Ctx,
    action: str,
    subject_kind: str,
    subject: str,
    *,
    course_instance_id: int | None = None,
    reason: str = "",
    **details: Any,
) -> HistoryEntry:
    """Add one entry in the caller's transaction (it commits or rolls back with the change)."""
    entry = HistoryEntry(
        at=ctx.at,
        actor=ctx.actor,
        acting_as=ctx.effective,
        action=action,
        subject_kind=subject_kind,
        subject=subject,
        course_instance_id=course_instance_id,
        reason=reason,
        details=details,
    )
    ctx.session.add(entry)
    return entry


# -- reading ----------------------------------------------------------------------------------

VIEW_HISTORY = "vhi"
"""View the history log."""
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
INSTANT_KEYS = frozenset(
    {
        "start", "end", "closed_at", "date_limit", "access_start", "access_end", "cancelled_at",
        "release", "due", "publishing_extension_end", "expires_at",
    }
)  # fmt: skip
"""Keys of ``details`` whose whole-number values the services write as instants."""


def readable(details: Any, tz: tzinfo | None) -> Any:
    """``details`` with the instants under :data:`INSTANT_KEYS` written as ISO 8601 text."""
    if isinstance(details, dict):
        return {
            k: format_instant(v, tz)
            if k in INSTANT_KEYS and isinstance(v, int) and not isinstance(v, bool)
            else readable(v, tz)
            for k, v in details.items()
        }
    if isinstance(details, list):
        return [readable(v, tz) for v in details]
    return details


@dataclass(frozen=True)
class HistoryFilter:
    """What to keep. Every field is optional; those given must all hold.

    * ``action`` — a prefix of the action: ``role.`` keeps ``role.grant``, ``role.revoke``, ...
    * ``subject`` — exactly this subject (a uid, a reservation's external id, ``uid aid``);
    * ``uid`` — entries about this user: the subject is the uid (or starts with ``"uid "``,
      as an attempt's does) or the details name it as ``uid``;
    * ``actor`` — entries done by this user or as this user (the real or the effective user);
    * ``person`` — anything to do with this user: ``uid`` or ``actor`` (the pages' "who");
    * ``since`` (inclusive) and ``until`` (exclusive) — instants.
    """

    action: str | None = None
    subject: str | None = None
    uid: str | None = None
    actor: str | None = None
    person: str | None = None
    since: Instant | None = None
    until: Instant | None = None


@dataclass(frozen=True)
class HistoryItem:
    id: int
    at: Instant
    actor: str
    acting_as: str
    action: str
    subject_kind: str
    subject: str
    reason: str
    details: dict[str, Any]

    @property
    def viewing_as(self) -> bool:
        """Done while ``actor`` viewed the course as ``acting_as``."""
        return self.actor != self.acting_as

    def to_json(self, tz: tzinfo | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": format_instant(self.at, tz),
            "actor": self.actor,
            "acting_as": self.acting_as,
            "viewing_as": self.viewing_as,
            "action": self.action,
            "subject_kind": self.subject_kind,
            "subject": self.subject,
            "reason": self.reason,
            "details": readable(self.details, tz),
        }


@dataclass(frozen=True)
class HistoryPage:
    entries: list[HistoryItem]
    next_cursor: str | None
    """Pass as ``cursor`` for the next (older) page; None on the last page."""


def _cursor(entry: HistoryEntry) -> str:
    raw = f"{entry.at}.{entry.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_cursor(text: str) -> tuple[int, int]:
    try:
        raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4)).decode()
        at, _, ident = raw.partition(".")
        return int(at), int(ident)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Invalid(
            "cursor: not a cursor from this history; pass the next_cursor of the previous page",
            "cursor",
        ) from None


def _limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise Invalid(
            f"limit: must be a whole number from 1 to {MAX_LIMIT}, not {limit!r}", "limit"
        )
    return limit


def query_history(
    ctx: Ctx,
    course_instance_id: int,
    filters: HistoryFilter = HistoryFilter(),
    *,
    limit: int | None = None,
    cursor: str | None = None,
) -> HistoryPage:
    """A course instance's history, newest first, one page at a time (no privilege check:
    :func:`course_history` is the use case)."""
    size = _limit(limit)
    if filters.since is not None and filters.until is not None and filters.until <= filters.since:
        raise Invalid("to: the end (until) must be after the start (from)", "to")
    query = select(HistoryEntry).where(HistoryEntry.course_instance_id == course_instance_id)
    f = filters
    if f.action:
        query = query.where(HistoryEntry.action.startswith(f.action.strip(), autoescape=True))
    if f.subject:
        query = query.where(HistoryEntry.subject == f.subject.strip())
    if f.uid:
        uid = f.uid.strip()
        query = query.where(
            or_(
                HistoryEntry.subject == uid,
                HistoryEntry.subject.startswith(uid + " ", autoescape=True),
                HistoryEntry.details["uid"].as_string() == uid,
            )
        )
    if f.actor:
        actor = f.actor.strip()
        query = query.where(or_(HistoryEntry.actor == actor, HistoryEntry.acting_as == actor))
    if f.person:
        who = f.person.strip()
        query = query.where(
            or_(
                HistoryEntry.actor == who,
                HistoryEntry.acting_as == who,
                HistoryEntry.subject == who,
                HistoryEntry.subject.startswith(who + " ", autoescape=True),
                HistoryEntry.details["uid"].as_string() == who,
            )
        )
    if f.since is not None:
        query = query.where(HistoryEntry.at >= f.since)
    if f.until is not None:
        query = query.where(HistoryEntry.at < f.until)
    if cursor:
        at, ident = _read_cursor(cursor)
        query = query.where(
            or_(HistoryEntry.at < at, and_(HistoryEntry.at == at, HistoryEntry.id < ident))
        )
    query = query.order_by(HistoryEntry.at.desc(), HistoryEntry.id.desc()).limit(size + 1)
    rows = list(ctx.session.scalars(query))
    more = len(rows) > size
    rows = rows[:size]
    items = [
        HistoryItem(
            id=r.id,
            at=r.at,
            actor=r.actor,
            acting_as=r.acting_as,
            action=r.action,
            subject_kind=r.subject_kind,
            subject=r.subject,
            reason=r.reason,
            details=dict(r.details or {}),
        )
        for r in rows
    ]
    return HistoryPage(items, _cursor(rows[-1]) if more and rows else None)


def course_history(
    ctx: Ctx,
    course_instance_id: int,
    filters: HistoryFilter = HistoryFilter(),
    *,
    limit: int | None = None,
    cursor: str | None = None,
) -> HistoryPage:
    """The history of a course instance for someone holding ``vhi`` there."""

    ci = course_instance_by_id(ctx, course_instance_id)
    require(ctx, VIEW_HISTORY, instance_area(ci), f"view the history of {instance_label(ci)}")
    return query_history(ctx, ci.id, filters, limit=limit, cursor=cursor)
