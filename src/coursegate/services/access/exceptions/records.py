"""A stored exception as people see it and as the history keeps it: finding one by id, the
:class:`ExceptionView` built from the row and its history entries, the history entry each change
writes, and the flush that turns a concurrent edit into a :class:`Conflict`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from coursegate.core.instants import Instant, format_instant
from coursegate.services.access.exceptions.fields import (
    ASSESSMENT_FIELDS,
    COURSE_INSTANCE_FIELDS,
    DATE_FIELDS,
    describe_target,
)
from coursegate.services.access.students import in_chunks, person
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Conflict, NotFound
from coursegate.services.common.places import course_instance_by_id, instance_label
from coursegate.services.history.log import record
from coursegate.store.models import CourseInstance, HistoryEntry, StudentOverride, User

_HISTORY_KIND = "student_exception"


@dataclass(frozen=True)
class ExceptionView:
    """One stored exception, with the student (uid and full name together) and who set it."""

    id: int
    course_instance_id: int
    uid: str
    name: str
    scope: str
    target: str
    fields: dict[str, Any]
    """The stored fields (instants as integers; ``password: None`` = no password needed)."""
    reason: str
    granted_by: str
    granted_at: Instant
    changed_by: str | None
    changed_at: Instant | None
    version: int
    warnings: tuple[str, ...] = ()
    """Things worth knowing that do not make the exception invalid (a time-limit percentage
    with no time limit to scale, a daylight-saving change, ...)."""

    @property
    def student(self) -> str:
        return person(self.uid, self.name)

    @property
    def what(self) -> str:
        """``hw/hw2``, ``the set Quiz``, ``the course instance``."""
        return describe_target(self.scope, self.target)

    def to_json(self, tz: tzinfo) -> dict[str, Any]:
        return {
            "id": self.id,
            "course_instance_id": self.course_instance_id,
            "uid": self.uid,
            "name": self.name,
            "student": self.student,
            "scope": self.scope,
            "target": self.target,
            "fields": fields_json(self.fields, tz),
            "reason": self.reason,
            "granted_by": self.granted_by,
            "granted_at": format_instant(self.granted_at, tz),
            "changed_by": self.changed_by,
            "changed_at": None if self.changed_at is None else format_instant(self.changed_at, tz),
            "version": self.version,
            "warnings": list(self.warnings),
        }


def fields_json(body: Mapping[str, Any], tz: tzinfo) -> dict[str, Any]:
    """Stored fields for people: dates in the course instance's zone with their offset."""
    out: dict[str, Any] = {}
    for k in (*ASSESSMENT_FIELDS, *COURSE_INSTANCE_FIELDS):
        if k in body:
            v = body[k]
            out[k] = format_instant(v, tz) if k in DATE_FIELDS and isinstance(v, int) else v
    return out


def _for_history(body: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The fields as history keeps them: a password is never written into the log."""
    if body is None:
        return None
    out = dict(body)
    if isinstance(out.get("password"), str):
        out["password"] = "(set)"
    return out


def view_of(
    row: StudentOverride,
    user: User,
    log: Mapping[int, tuple[HistoryEntry | None, HistoryEntry | None]] | None = None,
    warnings: Sequence[str] = (),
) -> ExceptionView:
    """``row`` as people see it; who granted and last changed it come from ``log`` (see
    :func:`history_entries`) when given."""
    granted, changed = (log or {}).get(row.id, (None, None))
    return ExceptionView(
        id=row.id,
        course_instance_id=row.course_instance_id,
        uid=user.uid,
        name=user.name,
        scope=row.scope,
        target=row.target,
        fields=dict(row.body),
        reason=row.reason,
        granted_by=granted.actor if granted is not None else row.created_by,
        granted_at=granted.at if granted is not None else row.updated_at,
        changed_by=None if changed is None else changed.actor,
        changed_at=None if changed is None else changed.at,
        version=row.version,
        warnings=tuple(warnings),
    )


def history_entries(
    ctx: Ctx, ci_id: int, uids: Iterable[str]
) -> dict[int, tuple[HistoryEntry | None, HistoryEntry | None]]:
    """For each exception id: its grant entry and its latest change entry in the history."""
    out: dict[int, tuple[HistoryEntry | None, HistoryEntry | None]] = {}
    for chunk in in_chunks(sorted(set(uids))):
        for entry in ctx.session.scalars(
            select(HistoryEntry)
            .where(
                HistoryEntry.course_instance_id == ci_id,
                HistoryEntry.subject_kind == _HISTORY_KIND,
                HistoryEntry.subject.in_(chunk),
                HistoryEntry.action.in_(("exception.grant", "exception.change")),
            )
            .order_by(HistoryEntry.id)
        ):
            xid = (entry.details or {}).get("exception_id")
            if not isinstance(xid, int):
                continue
            granted, changed = out.get(xid, (None, None))
            if entry.action == "exception.grant":
                granted, changed = entry, None
            else:
                changed = entry
            out[xid] = (granted, changed)
    return out


def record_history(
    ctx: Ctx,
    action: str,
    row: StudentOverride,
    user: User,
    reason: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> None:
    """One history entry for a grant, change or removal of ``row`` (passwords hidden)."""
    record(
        ctx,
        action,
        _HISTORY_KIND,
        user.uid,
        course_instance_id=row.course_instance_id,
        reason=reason,
        exception_id=row.id,
        scope=row.scope,
        target=row.target,
        before=_for_history(before),
        after=_for_history(after),
    )


def flush_or_conflict(ctx: Ctx, what: str) -> None:
    """Write now, so a concurrent edit surfaces here as :class:`Conflict`."""
    try:
        ctx.session.flush()
    except StaleDataError:
        raise Conflict(
            f"version: someone else changed or removed {what} at the same time; load it again "
            "and retry",
            "version",
        ) from None
    except IntegrityError:
        raise Conflict(
            f"someone else granted {what} at the same time; load it again and change it instead",
            "target",
        ) from None


def stored_exception(
    ctx: Ctx, exception_id: int, course_instance_id: int | None = None
) -> tuple[StudentOverride, CourseInstance, User]:
    """The exception ``exception_id`` (of ``course_instance_id`` when given: an exception of
    another course instance is not found there)."""
    row = ctx.session.get(StudentOverride, exception_id)
    if row is None or (
        course_instance_id is not None and row.course_instance_id != course_instance_id
    ):
        where = ""
        if course_instance_id is not None:
            where = f" in {instance_label(course_instance_by_id(ctx, course_instance_id))}"
        raise NotFound(
            f"exception_id: there is no exception {exception_id}{where} (it may have been removed)",
            "exception_id",
        )
    ci = course_instance_by_id(ctx, row.course_instance_id)
    user = ctx.session.get(User, row.user_id)
    assert user is not None
    return row, ci, user


__all__ = ["ExceptionView"]
