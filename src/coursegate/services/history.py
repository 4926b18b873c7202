"""The append-only history: who did what, as whom, when and why."""

from __future__ import annotations

from typing import Any

from coursegate.services.context import Ctx
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
