"""Students' exceptions (extensions): grant, change and remove one student's exception.

An exception belongs to one student of one course instance and has a **scope**:

* ``assessment`` — one assessment (``target`` is its id, ``hw/hw2``);
* ``set`` — every assessment of a set (``target`` is the set name, ``Quiz``);
* ``course_instance`` — the whole course instance (``target`` is ``''``): a *publishing
  extension* that keeps the student in after the course instance ends.

Its **fields** (stored as :data:`~coursegate.services.courses.roster.EXCEPTION_FIELDS`, instants as
integers) are ``release``, ``due`` (dates), ``credit`` (the credit until the new due date),
``time_limit_minutes`` or ``time_limit_percent``, ``password`` — and, for the course instance,
``publishing_extension_end``. A field that is absent is not overridden; in :func:`change`,
``None`` removes that field. Dates are strings read in the course instance's zone (no offset =
wall time there; an explicit offset is honoured), aware datetimes, or instants. ``password``
``""`` means "this student needs no password" (stored as ``None``).

What an exception *means* in each access form is the decision core's business
(:func:`coursegate.core.exceptions.exception_override`, applied by the roster); this module
checks that the result is a valid configuration for that student — the checks ``coursegate
validate`` runs (:func:`coursegate.courses.settings_checks.settings_problems`) on the settings the
student would have (their sections, their exception for the set and for the assessment), and
reports only problems the exception brings in.

Who may do what (asked of the roles core through :func:`authz.require`): granting, changing and
removing need ``gex`` in the course instance; listing needs ``vst``. Every change writes one
history entry with the actor, the effective user and the reason (required). Concurrent edits of
one exception never lose one silently: :func:`change` and :func:`remove` take the ``version``
the editor saw and raise :class:`Conflict` when it differs.

The rest of the service lives beside this module: reading the fields
(:mod:`~coursegate.services.access.exceptions.fields`), checking them against the course's rules
(:mod:`~coursegate.services.access.exceptions.checks`), views and history
(:mod:`~coursegate.services.access.exceptions.records`), many students at once
(:mod:`~coursegate.services.access.exceptions.bulk`) and listing
(:mod:`~coursegate.services.access.exceptions.listing`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from coursegate.services.access.exceptions.checks import check_change, check_student, check_target
from coursegate.services.access.exceptions.fields import (
    check_body,
    describe_target,
    merged_fields,
    read_fields,
    read_reason,
)
from coursegate.services.access.exceptions.records import (
    ExceptionView,
    flush_or_conflict,
    history_entries,
    record_history,
    stored_exception,
    view_of,
)
from coursegate.services.access.students import (
    StudentState,
    find_user,
    load_students,
    not_enrolled,
    person,
)
from coursegate.services.common.authz import require
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Conflict, Invalid
from coursegate.services.common.places import course_instance_by_id, instance_area, instance_label
from coursegate.services.courses.state import InstanceState, read_instance
from coursegate.store.models import CourseInstance, StudentOverride, User

GRANT_EXCEPTIONS = "gex"
"""Grant, change and remove students' exceptions (extensions)."""


def require_grant_privilege(ctx: Ctx, ci: CourseInstance, what: str) -> None:
    """:class:`Refused` unless the caller holds ``gex`` in ``ci`` (``what`` says what for)."""
    require(ctx, GRANT_EXCEPTIONS, instance_area(ci), f"{what} in {instance_label(ci)}")


def read_new_exception(
    ctx: Ctx,
    course_instance_id: int,
    scope: str,
    target: str,
    fields: Mapping[str, Any],
    reason: str,
) -> tuple[CourseInstance, InstanceState, str, dict[str, Any], list[str], str]:
    """What granting (one or many) starts with: the course instance, the privilege check, its
    state, the checked target, the exception's fields read and checked, and the reason."""
    ci = course_instance_by_id(ctx, course_instance_id)
    require_grant_privilege(ctx, ci, "grant exceptions")
    why = read_reason(reason)
    state = read_instance(ctx.session, ci)
    target = check_target(state, ci, scope, target)
    body, notes = read_fields(fields, scope, state.tz, change=False)
    check_body(body, scope, state.tz)
    return ci, state, target, body, notes, why


def grant(
    ctx: Ctx,
    course_instance_id: int,
    uid: str,
    scope: str,
    target: str,
    fields: Mapping[str, Any],
    *,
    reason: str,
) -> ExceptionView:
    """Grant ``uid`` an exception for ``target`` (see the module docstring for the fields).

    Raises :class:`Conflict` when the student already has one for the same target (change it
    instead), :class:`Invalid` for bad fields, an unenrolled student or a result that is not a
    valid configuration for them, :class:`NotFound` for an unknown user or target."""
    ci, state, target, body, notes, why = read_new_exception(
        ctx, course_instance_id, scope, target, fields, reason
    )
    user = find_user(ctx, uid)
    st = load_students(ctx, ci, [user])[user.id]
    problem = not_enrolled(st, ci)
    if problem is not None:
        raise Invalid(f"uid: {problem}", "uid")
    same = next((r for r in st.rows if r.scope == scope and r.target == target), None)
    if same is not None:
        raise Conflict(
            f"target: {st.label} already has an exception for {describe_target(scope, target)} "
            f"(version {same.version}, granted by {same.created_by}); change it instead",
            "target",
        )
    warnings = notes + check_student(state, ci, st, scope, target, body)
    row = StudentOverride(
        course_instance_id=ci.id,
        user_id=user.id,
        scope=scope,
        target=target,
        body=body,
        reason=why,
        created_by=ctx.actor,
        updated_at=ctx.at,
    )
    ctx.session.add(row)
    flush_or_conflict(ctx, f"an exception for {st.label} on {describe_target(scope, target)}")
    record_history(ctx, "exception.grant", row, user, why, None, body)
    return view_of(row, user, warnings=warnings)


def _check_version(row: StudentOverride, user: User, version: int) -> None:
    """:class:`Conflict` unless ``row`` is still at the ``version`` the editor saw."""
    if isinstance(version, bool) or not isinstance(version, int):
        raise Invalid("version: give the version of the exception you saw (an integer)", "version")
    if row.version != version:
        raise Conflict(
            f"version: someone else changed {person(user.uid, user.name)}'s exception for "
            f"{describe_target(row.scope, row.target)} since you loaded it (you saw version "
            f"{version}, it is now version {row.version}); load it again and retry",
            "version",
        )


def change(
    ctx: Ctx,
    exception_id: int,
    fields: Mapping[str, Any],
    *,
    version: int,
    reason: str,
    course_instance_id: int | None = None,
) -> ExceptionView:
    """Change an exception: given fields replace the stored ones, ``None`` removes a field,
    absent fields stay. ``version`` is the version the editor saw (:class:`Conflict` if it
    moved on). Changing nothing writes nothing. With ``course_instance_id``, an exception of
    another course instance is :class:`NotFound`."""
    row, ci, user = stored_exception(ctx, exception_id, course_instance_id)
    require_grant_privilege(ctx, ci, "change exceptions")
    why = read_reason(reason)
    _check_version(row, user, version)
    state = read_instance(ctx.session, ci)
    given, notes = read_fields(fields, row.scope, state.tz, change=True)
    body = merged_fields(row.body, given)
    if body == row.body:
        return view_of(row, user, history_entries(ctx, ci.id, [user.uid]))
    st = load_students(ctx, ci, [user])[user.id]
    warnings = notes + check_change(state, ci, st, row, body)
    apply_change(ctx, row, st, body, why)
    return view_of(row, user, history_entries(ctx, ci.id, [user.uid]), warnings)


def apply_change(
    ctx: Ctx, row: StudentOverride, st: StudentState, body: dict[str, Any], why: str
) -> None:
    """Store ``body`` as the exception's fields, with its history entry."""
    before = dict(row.body)
    row.body = body
    row.reason = why
    row.updated_at = ctx.at
    flush_or_conflict(ctx, f"{st.label}'s exception for {describe_target(row.scope, row.target)}")
    record_history(ctx, "exception.change", row, st.user, why, before, body)


def remove(
    ctx: Ctx,
    exception_id: int,
    *,
    version: int,
    reason: str,
    course_instance_id: int | None = None,
) -> ExceptionView:
    """Remove an exception (the history keeps what it was). Returns it as it was."""
    row, ci, user = stored_exception(ctx, exception_id, course_instance_id)
    require_grant_privilege(ctx, ci, "remove exceptions")
    why = read_reason(reason)
    _check_version(row, user, version)
    view = view_of(row, user, history_entries(ctx, ci.id, [user.uid]))
    delete_exception(ctx, row, user, why)
    return view


def delete_exception(ctx: Ctx, row: StudentOverride, user: User, why: str) -> None:
    """Delete the exception, its fields kept in the history entry."""
    record_history(ctx, "exception.remove", row, user, why, dict(row.body), None)
    ctx.session.delete(row)
    flush_or_conflict(
        ctx,
        f"{person(user.uid, user.name)}'s exception for {describe_target(row.scope, row.target)}",
    )


__all__ = ["GRANT_EXCEPTIONS", "change", "grant", "remove"]
