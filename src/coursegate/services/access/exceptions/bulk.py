"""Exceptions for many students at once: the same exception granted to pasted uids or a whole
section, and one target's exceptions changed or removed for every member of a section — each in
the caller's one transaction, all or nothing, every problem listed."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy import select

from coursegate.services.access.exceptions.checks import check_change, check_student, check_target
from coursegate.services.access.exceptions.fields import (
    COURSE_INSTANCE,
    SCOPES,
    allowed_fields,
    describe_target,
    merged_fields,
    read_fields,
    read_reason,
)
from coursegate.services.access.exceptions.granting import (
    apply_change,
    delete_exception,
    read_new_exception,
    require_grant_privilege,
)
from coursegate.services.access.exceptions.records import (
    ExceptionView,
    flush_or_conflict,
    history_entries,
    record_history,
    view_of,
)
from coursegate.services.access.students import (
    ENROLLED,
    StudentState,
    in_chunks,
    load_students,
    not_enrolled,
)
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Conflict, EveryProblem, Invalid, NotFound, count
from coursegate.services.common.places import course_instance_by_id, instance_label
from coursegate.services.courses.state import InstanceState, read_instance
from coursegate.services.people.uids import split_uids
from coursegate.store.models import (
    CourseInstance,
    Enrollment,
    Section,
    SectionMembership,
    StudentOverride,
    User,
)

PAUSE_ENV = "COURSEGATE_TEST_PAUSE_BULK_EXCEPTIONS"
"""Tests only: a file that :func:`grant_many` writes once every row is written (flushed) in the
caller's transaction, before the caller commits; it then sleeps for
``COURSEGATE_TEST_PAUSE_SECONDS`` (default 60) so that a test can kill the process."""


def pause_for_tests(env: str, content: str) -> None:
    """Tests only: write ``content`` to the file named by ``env`` and sleep (see PAUSE_ENV)."""
    marker = os.environ.get(env)
    if not marker:
        return
    Path(marker).write_text(content)
    time.sleep(float(os.environ.get("COURSEGATE_TEST_PAUSE_SECONDS", "60")))


@dataclass(frozen=True)
class BulkProblem:
    """Why one student (``uid``) cannot get the exception or the change."""

    uid: str
    message: str

    def render(self) -> str:
        return f"{self.uid}: {self.message}"


class BulkInvalid(EveryProblem[BulkProblem]):
    """Some of the students cannot get the exception (or the change): all of them are listed,
    nothing was written."""

    def __init__(
        self, problems: Sequence[BulkProblem], what: str = "cannot get this exception"
    ) -> None:
        head = f"{count(len(problems), 'student')} {what}"
        super().__init__(problems, head, "uids")


class BulkConflict(Conflict):
    """Some students' exceptions changed since the editor loaded them (``versions``): all of
    them are listed, nothing was written."""

    def __init__(self, problems: Sequence[BulkProblem]) -> None:
        self.problems = list(problems)
        super().__init__(
            f"versions: {count(len(self.problems), 'exception')} changed since you loaded "
            "them; nothing was written; load them again and retry: "
            + "; ".join(p.render() for p in self.problems),
            "versions",
        )


@dataclass
class BulkReport:
    """What :func:`grant_many` did."""

    granted: list[ExceptionView] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    """Students (uid and name) who already had exactly this exception."""
    warnings: list[str] = field(default_factory=list)

    def to_json(self, tz: tzinfo) -> dict[str, Any]:
        return {
            "granted": [v.to_json(tz) for v in self.granted],
            "unchanged": list(self.unchanged),
            "warnings": list(self.warnings),
        }


def grant_many(
    ctx: Ctx,
    course_instance_id: int,
    scope: str,
    target: str,
    fields: Mapping[str, Any],
    *,
    reason: str,
    uids: str | Sequence[str] | None = None,
    section: str | None = None,
    dry_run: bool = False,
) -> BulkReport:
    """Grant the same exception to many students — pasted ``uids`` or every enrolled member of
    ``section`` — in the caller's one transaction: all or nothing.

    Raises :class:`BulkInvalid` listing every student who cannot get it (unknown uid, not
    enrolled, an invalid result for them, a different exception already there). A student who
    already has exactly this exception is reported as unchanged, so running it again is safe.
    ``dry_run``: every check, nothing written (``report.granted`` stays empty).
    """
    ci, state, target, body, notes, why = read_new_exception(
        ctx, course_instance_id, scope, target, fields, reason
    )
    wanted, users = recipients(ctx, ci, uids, section)
    students = load_students(ctx, ci, users)
    report = BulkReport(warnings=list(notes))
    todo = _students_to_grant(state, ci, scope, target, body, wanted, students, report)
    if dry_run:
        return report
    _write_grants(ctx, ci, scope, target, body, why, todo, report)
    pause_for_tests(PAUSE_ENV, str(len(todo)))
    return report


def recipients(
    ctx: Ctx, ci: CourseInstance, uids: str | Sequence[str] | None, section: str | None
) -> tuple[list[str], list[User]]:
    """The uids asked for, in order (pasted, or the enrolled members of ``section``), and the
    users among them that exist."""
    if (uids is None) == (section is None):
        raise Invalid("uids: give either uids or a section (one of them)", "uids")
    if section is not None:
        members = _section_members(ctx, ci, section)
        return [u.uid for u in members], members
    assert uids is not None
    wanted = split_uids(uids)
    if not wanted:
        raise Invalid("uids: no uids given", "uids")
    users: list[User] = []
    for chunk in in_chunks(wanted):
        users += ctx.session.scalars(select(User).where(User.uid.in_(chunk))).all()
    return wanted, users


def _students_to_grant(
    state: InstanceState,
    ci: CourseInstance,
    scope: str,
    target: str,
    body: Mapping[str, Any],
    wanted: Sequence[str],
    students: Mapping[int, StudentState],
    report: BulkReport,
) -> list[StudentState]:
    """The students who get the exception, in the order asked; those who already have exactly
    it go to ``report.unchanged``, the warnings to ``report.warnings``. Raises
    :class:`BulkInvalid` listing every student who cannot get it."""
    by_uid = {st.user.uid: st for st in students.values()}
    checked: dict[object, list[str] | Invalid] = {}
    problems: list[BulkProblem] = []
    todo: list[StudentState] = []
    for uid in wanted:
        st = by_uid.get(uid)
        if st is None:
            problems.append(BulkProblem(uid, "there is no such user"))
            continue
        not_in = not_enrolled(st, ci)
        if not_in is not None:
            problems.append(BulkProblem(uid, not_in))
            continue
        same = next((r for r in st.rows if r.scope == scope and r.target == target), None)
        if same is not None:
            if same.body == body:
                report.unchanged.append(st.label)
            else:
                problems.append(
                    BulkProblem(
                        uid,
                        f"{st.label} already has a different exception for "
                        f"{describe_target(scope, target)} (version {same.version}); "
                        "change it instead",
                    )
                )
            continue
        result = _check_alike(checked, state, ci, st, scope, target, body)
        if isinstance(result, Invalid):
            problems.append(BulkProblem(uid, result.message))
            continue
        for w in result:
            if w not in report.warnings:
                report.warnings.append(w)
        todo.append(st)
    if problems:
        raise BulkInvalid(problems)
    return todo


def _check_alike(
    checked: dict[object, list[str] | Invalid],
    state: InstanceState,
    ci: CourseInstance,
    st: StudentState,
    scope: str,
    target: str,
    body: Mapping[str, Any],
) -> list[str] | Invalid:
    """:func:`check_student`'s warnings or error for ``st``, checked once for all students with
    the same sections and the same other exceptions (remembered in ``checked``)."""
    key = (
        st.sections,
        tuple(
            sorted(
                (r.scope, r.target, json.dumps(r.body, sort_keys=True))
                for r in st.rows
                if r.scope != COURSE_INSTANCE
            )
        ),
    )
    result = checked.get(key)
    if result is None:
        try:
            result = check_student(state, ci, st, scope, target, body)
        except Invalid as error:
            result = error
        checked[key] = result
    return result


def _write_grants(
    ctx: Ctx,
    ci: CourseInstance,
    scope: str,
    target: str,
    body: Mapping[str, Any],
    why: str,
    todo: Sequence[StudentState],
    report: BulkReport,
) -> None:
    """Add one exception per student, flushed (a concurrent grant is a :class:`Conflict`), with
    its history entry; the views go to ``report.granted``."""
    rows = [
        StudentOverride(
            course_instance_id=ci.id,
            user_id=st.user.id,
            scope=scope,
            target=target,
            body=dict(body),
            reason=why,
            created_by=ctx.actor,
            updated_at=ctx.at,
        )
        for st in todo
    ]
    ctx.session.add_all(rows)
    flush_or_conflict(ctx, f"an exception for {describe_target(scope, target)}")
    for st, row in zip(todo, rows, strict=True):
        record_history(ctx, "exception.grant", row, st.user, why, None, body)
        report.granted.append(view_of(row, st.user))
    ctx.session.flush()


def _section_members(ctx: Ctx, ci: CourseInstance, name: str) -> list[User]:
    """The enrolled members of the section ``name``, by uid; none is :class:`Invalid`."""
    sec = ctx.session.scalars(
        select(Section).where(Section.course_instance_id == ci.id, Section.name == name)
    ).one_or_none()
    if sec is None:
        known = ctx.session.scalars(
            select(Section.name).where(Section.course_instance_id == ci.id).order_by(Section.name)
        ).all()
        raise NotFound(
            f"section: {instance_label(ci)} has no section {name!r} (sections: "
            f"{', '.join(known) or 'none'})",
            "section",
        )
    members = ctx.session.scalars(
        select(User)
        .join(SectionMembership, SectionMembership.user_id == User.id)
        .join(
            Enrollment,
            (Enrollment.user_id == User.id) & (Enrollment.course_instance_id == ci.id),
        )
        .where(SectionMembership.section_id == sec.id, Enrollment.status.in_(ENROLLED))
        .order_by(User.uid)
    ).all()
    if not members:
        raise Invalid(f"section: no enrolled student is in the section {name!r}", "section")
    return list(members)


@dataclass
class BulkChangeReport:
    """What :func:`change_many` or :func:`remove_many` did, student by student."""

    done: list[ExceptionView] = field(default_factory=list)
    """The exceptions changed (as they are now) or removed (as they were)."""
    unchanged: list[str] = field(default_factory=list)
    """Students (uid and name) whose exception already was exactly so."""
    without: list[str] = field(default_factory=list)
    """Members of the section who have no exception for the target (left alone)."""
    warnings: list[str] = field(default_factory=list)


def _section_rows(
    ctx: Ctx, ci: CourseInstance, section: str, scope: str, target: str
) -> tuple[list[tuple[StudentState, StudentOverride | None]], BulkChangeReport]:
    """Every enrolled member of ``section`` with their exception for the target (or None)."""
    members = _section_members(ctx, ci, section)
    students = load_students(ctx, ci, members)
    pairs: list[tuple[StudentState, StudentOverride | None]] = []
    report = BulkChangeReport()
    for user in members:
        st = students[user.id]
        row = next((r for r in st.rows if r.scope == scope and r.target == target), None)
        if row is None:
            report.without.append(st.label)
        pairs.append((st, row))
    if all(row is None for _, row in pairs):
        raise NotFound(
            f"target: no enrolled student of the section {section} has an exception for "
            f"{describe_target(scope, target)}",
            "target",
        )
    return pairs, report


def _check_versions(
    pairs: Sequence[tuple[StudentState, StudentOverride | None]],
    versions: Mapping[str, int] | None,
    scope: str,
    target: str,
) -> None:
    """When the editor says which versions they saw, every exception they would touch must
    still be at that version, and every one they saw must still be there."""
    if versions is None:
        return
    conflicts: list[BulkProblem] = []
    seen: set[str] = set()
    what = describe_target(scope, target)
    for st, row in pairs:
        uid = st.user.uid
        if row is None:
            if uid in versions:
                message = f"{st.label}'s exception for {what} was removed since you loaded it"
                conflicts.append(BulkProblem(uid, message))
            continue
        seen.add(uid)
        saw = versions.get(uid)
        if saw is None:
            message = f"{st.label}'s exception for {what} (version {row.version}) is new to you"
            conflicts.append(BulkProblem(uid, message))
        elif saw != row.version:
            message = f"you saw version {saw}, it is now version {row.version}"
            conflicts.append(BulkProblem(uid, message))
    for uid in sorted(set(versions) - seen - {st.user.uid for st, _ in pairs}):
        conflicts.append(BulkProblem(uid, "no longer an enrolled member of the section"))
    if conflicts:
        raise BulkConflict(conflicts)


def change_many(
    ctx: Ctx,
    course_instance_id: int,
    section: str,
    scope: str,
    target: str,
    fields: Mapping[str, Any],
    *,
    reason: str,
    versions: Mapping[str, int] | None = None,
) -> BulkChangeReport:
    """Change the exception for ``target`` of every enrolled member of ``section`` who has one,
    in the caller's one transaction: all or nothing. Given fields replace each student's, ``None``
    removes a field, absent fields stay (each student keeps their own other fields).

    ``versions`` (uid → the version the editor saw) makes the change safe against concurrent
    edits: :class:`BulkConflict` lists every exception that moved on. :class:`BulkInvalid` lists
    every student for whom the result would not be valid. Members without such an exception are
    left alone (``without``)."""
    ci = course_instance_by_id(ctx, course_instance_id)
    require_grant_privilege(ctx, ci, "change exceptions")
    why = read_reason(reason)
    state = read_instance(ctx.session, ci)
    target = check_target(state, ci, scope, target)
    given, notes = read_fields(fields, scope, state.tz, change=True)
    if not given:
        raise Invalid(
            "fields: say what to change: " + ", ".join(allowed_fields(scope)) + " (null removes "
            "a field)",
            "fields",
        )
    pairs, report = _section_rows(ctx, ci, section, scope, target)
    _check_versions(pairs, versions, scope, target)
    report.warnings = list(notes)
    problems: list[BulkProblem] = []
    todo: list[tuple[StudentState, StudentOverride, dict[str, Any]]] = []
    for st, row in pairs:
        if row is None:
            continue
        body = merged_fields(row.body, given)
        if body == row.body:
            report.unchanged.append(st.label)
            continue
        try:
            warnings = check_change(state, ci, st, row, body)
        except Invalid as error:
            problems.append(BulkProblem(st.user.uid, error.message))
            continue
        report.warnings += [w for w in warnings if w not in report.warnings]
        todo.append((st, row, body))
    if problems:
        raise BulkInvalid(problems, "cannot have this change")
    for st, row, body in todo:
        apply_change(ctx, row, st, body, why)
    log = history_entries(ctx, ci.id, [st.user.uid for st, _, _ in todo])
    report.done = [view_of(row, st.user, log) for st, row, _ in todo]
    return report


def remove_many(
    ctx: Ctx,
    course_instance_id: int,
    section: str,
    scope: str,
    target: str,
    *,
    reason: str,
) -> BulkChangeReport:
    """Remove the exception for ``target`` from every enrolled member of ``section`` who has
    one (whatever each has now), in the caller's one transaction. Returns the exceptions as they
    were."""
    ci = course_instance_by_id(ctx, course_instance_id)
    require_grant_privilege(ctx, ci, "remove exceptions")
    why = read_reason(reason)
    if scope not in SCOPES:
        raise Invalid(f"scope: must be one of {', '.join(SCOPES)}, not {scope!r}", "scope")
    if scope == COURSE_INSTANCE:
        target = ""
    pairs, report = _section_rows(ctx, ci, section, scope, target)
    todo = [(st, row) for st, row in pairs if row is not None]
    log = history_entries(ctx, ci.id, [st.user.uid for st, _ in todo])
    report.done = [view_of(row, st.user, log) for st, row in todo]
    for st, row in todo:
        delete_exception(ctx, row, st.user, why)
    return report


__all__ = [
    "PAUSE_ENV",
    "BulkChangeReport",
    "BulkConflict",
    "BulkInvalid",
    "BulkProblem",
    "BulkReport",
    "change_many",
    "grant_many",
    "remove_many",
]
