"""Conflicts found while writing: a concurrent edit (a stale ``version``) or a duplicate (a
unique constraint) becomes :class:`Conflict`, worded by the table it hit. Every use case that
writes (users, enrollment, roles, class accounts) flushes through these."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Conflict

P = ParamSpec("P")
R = TypeVar("R")


_TABLE_WORDS = {
    "enrollments": "this enrollment",
    "users": "this user",
    "sections": "this section",
    "section_memberships": "these section memberships",
    "role_assignments": "these roles",
    "custom_roles": "this custom role",
}


def _conflict(error: Exception) -> Conflict:
    text = str(error)
    named = [table for table in _TABLE_WORDS if table in text]
    what = _TABLE_WORDS[max(named, key=len)] if named else "it"
    if isinstance(error, StaleDataError):
        return Conflict(
            f"someone else changed {what} since it was loaded; load it again and retry",
            "version",
        )
    return Conflict(
        f"someone else created or changed {what} at the same time; load it again and retry"
    )


def translate_conflicts(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn a concurrent edit found while writing into :class:`Conflict`.

    ``version`` columns make SQLAlchemy raise ``StaleDataError`` when someone else changed the
    row since it was loaded (whether the write happens at an explicit or an automatic flush);
    a unique constraint fails when someone else created the same thing first.
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (StaleDataError, IntegrityError) as error:
            raise _conflict(error) from None

    return wrapper


def flush_or_conflict(ctx: Ctx) -> None:
    """Write the pending changes now, inside the use case, so a concurrent edit surfaces as
    :class:`Conflict` there rather than at the caller's commit."""
    try:
        ctx.session.flush()
    except (StaleDataError, IntegrityError) as error:
        raise _conflict(error) from None


__all__ = [
    "flush_or_conflict",
    "translate_conflicts",
]
