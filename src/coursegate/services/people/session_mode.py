"""An instructor's own switch between Public and Exam mode, to preview what students see in
the testing centre — the seed's "the user has overridden the mode to be Exam (only possible for
Instructor)".

The switch belongs to one web session (or one API token) and is stored on its row; it ends
with the session. Only a user who holds an instructor role (``in`` or ``cc``) in force
somewhere may switch to Exam mode; switching back to Public is always allowed. Never while
viewing as someone (view-as is for seeing). Every switch is recorded in the history.
"""

from __future__ import annotations

from sqlalchemy import select

from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Invalid, Refused
from coursegate.services.history.log import record
from coursegate.services.people.persons import refuse_in_view_as
from coursegate.store.models import ApiToken, RoleAssignmentRow, WebSession

INSTRUCTOR_ROLES = ("in", "cc")
"""Roles that may preview Exam mode: instructors and course coordinators."""
MODES = ("Public", "Exam")


def holds_instructor_role(ctx: Ctx, user_id: int) -> bool:
    """Whether the user holds ``in`` or ``cc`` in force at ``ctx.at`` in any area."""
    found = ctx.session.scalars(
        select(RoleAssignmentRow.id)
        .where(
            RoleAssignmentRow.user_id == user_id,
            RoleAssignmentRow.role.in_(INSTRUCTOR_ROLES),
            RoleAssignmentRow.in_force(ctx.at),
        )
        .limit(1)
    ).first()
    return found is not None


def set_session_mode(ctx: Ctx, row: WebSession | ApiToken, mode: object) -> str:
    """Switch the caller's own session (or token) ``row`` to ``mode`` (Public or Exam);
    returns the mode now in force on it."""
    refuse_in_view_as(ctx, "switch their session's mode")
    me = ctx.user(ctx.actor)
    if row.user_id != me.id:  # pragma: no cover - the HTTP layer passes the caller's own
        raise Refused("only one's own session's mode may be switched", "mode")
    # Who may comes before what is asked: only switching back to Public is open to everyone.
    if mode != "Public" and not holds_instructor_role(ctx, me.id):
        raise Refused(
            f"mode: only instructors may switch their session to Exam mode (to preview what"
            f" students see in the testing centre); {me.uid} holds no instructor role (in or"
            " cc) now. Students are in Exam mode on a testing-centre network or during a"
            " reservation.",
            "mode",
        )
    if mode not in MODES:
        raise Invalid(f"mode: must be 'Public' or 'Exam', not {mode!r}", "mode")
    before = row.mode or "Public"
    stored = None if mode == "Public" else mode
    if row.mode != stored:
        row.mode = stored
        ctx.session.flush()
        record(
            ctx,
            "session.mode",
            "user",
            me.uid,
            mode=mode,
            before=before,
            via="token" if isinstance(row, ApiToken) else "session",
            row_id=row.id,
        )
    return str(mode)


__all__ = ["INSTRUCTOR_ROLES", "holds_instructor_role", "set_session_mode"]
