"""Students' exceptions (extensions): grant, change, remove, grant to many, list.

An exception belongs to one student of one course instance and has a **scope**:

* ``assessment`` — one assessment (``target`` is its id, ``hw/hw2``);
* ``set`` — every assessment of a set (``target`` is the set name, ``Quiz``);
* ``course_instance`` — the whole course instance (``target`` is ``''``): a *publishing
  extension* that keeps the student in after the course instance ends.

Its **fields** (stored as :data:`~coursegate.services.roster.EXCEPTION_FIELDS`, instants as
integers) are ``release``, ``due`` (dates), ``credit`` (the credit until the new due date),
``time_limit_minutes`` or ``time_limit_percent``, ``password`` — and, for the course instance,
``publishing_extension_end``. A field that is absent is not overridden; in :func:`change`,
``None`` removes that field. Dates are strings read in the course instance's zone (no offset =
wall time there; an explicit offset is honoured), aware datetimes, or instants. ``password``
``""`` means "this student needs no password" (stored as ``None``).

What an exception *means* in each access form is the decision core's business
(:func:`coursegate.core.exceptions.exception_override`, applied by the roster); this module
checks that the result is a valid configuration for that student — the checks ``coursegate
validate`` runs (:func:`coursegate.courses.normalise.settings_problems`) on the settings the
student would have (their sections, their exception for the set and for the assessment), and
reports only problems the exception brings in.

Who may do what (asked of the roles core through :func:`authz.require`): granting, changing and
removing need ``gex`` in the course instance; listing needs ``vst``. Every change writes one
history entry with the actor, the effective user and the reason (required). Concurrent edits of
one exception never lose one silently: :func:`change` and :func:`remove` take the ``version``
the editor saw and raise :class:`Conflict` when it differs.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from coursegate.core.access_control import AccessPatch, resolve_settings
from coursegate.core.engine import AssessmentConfig
from coursegate.core.instants import (
    DateError,
    Instant,
    format_instant,
    format_wall,
    localise,
    parse_date,
    to_instant,
    zone,
)
from coursegate.core.legacy_rules import LegacyRule
from coursegate.core.model import Form
from coursegate.courses.normalise import Reader, settings_problems
from coursegate.services.authz import allowed, require
from coursegate.services.context import Ctx
from coursegate.services.course_instances import (
    course_instance_by_id,
    instance_area,
    instance_label,
)
from coursegate.services.course_state import InstanceState, read_instance
from coursegate.services.errors import (
    Conflict,
    EveryProblem,
    Invalid,
    NotFound,
    Refused,
    count,
)
from coursegate.services.history import record
from coursegate.services.roster import EXCEPTION_FIELDS, personal_overrides
from coursegate.store.models import (
    CourseInstance,
    Enrollment,
    HistoryEntry,
    Section,
    SectionMembership,
    StudentOverride,
    User,
)

GRANT_EXCEPTIONS = "gex"
"""Grant, change and remove students' exceptions (extensions)."""
VIEW_STUDENTS = "vst"
"""View students' access, exceptions and attempts."""

ASSESSMENT, SET, COURSE_INSTANCE = "assessment", "set", "course_instance"
SCOPES = (ASSESSMENT, SET, COURSE_INSTANCE)
PUBLISHING_EXTENSION = "publishing_extension_end"
ASSESSMENT_FIELDS = EXCEPTION_FIELDS
COURSE_INSTANCE_FIELDS = (PUBLISHING_EXTENSION,)
DATE_FIELDS = frozenset({"release", "due", PUBLISHING_EXTENSION})
ENROLLED = ("invited", "joined", "blocked")
"""Enrollment statuses that make a user a student of the course instance."""

MAX_CREDIT = 200
MAX_PERCENT = 1000

PAUSE_ENV = "COURSEGATE_TEST_PAUSE_BULK_EXCEPTIONS"
"""Tests only: a file that :func:`grant_many` writes once every row is written (flushed) in the
caller's transaction, before the caller commits; it then sleeps for
``COURSEGATE_TEST_PAUSE_SECONDS`` (default 60) so that a test can kill the process."""

_CHUNK = 500
_SPLIT = re.compile(r"[\s,;]+")
_HISTORY_KIND = "student_exception"


class _Removed:
    """``None`` in a change: remove the field."""

    def __repr__(self) -> str:
        return "REMOVED"


REMOVED = _Removed()


# -- small shared helpers (also used by reservations and instances) ---------------------------


def person(uid: str, name: str) -> str:
    """``Ada Lovelace (ada@example.edu)``: uid and full name together."""
    return f"{name} ({uid})" if name else uid


def find_user(ctx: Ctx, uid: str, field_name: str = "uid") -> User:
    """The user ``uid``; :class:`NotFound` naming the field otherwise."""
    found = ctx.session.scalars(select(User).where(User.uid == uid)).one_or_none()
    if found is None:
        raise NotFound(f"{field_name}: there is no user {uid!r}", field_name)
    return found


def read_when(value: object, tz: ZoneInfo, field_name: str) -> tuple[Instant, str | None]:
    """A date given as a string (wall time in ``tz`` unless it has an offset), a datetime (a
    naive one is wall time in ``tz``) or an instant (int microseconds); with a warning when a
    daylight-saving change makes the wall time ambiguous or non-existent."""
    warning = None
    if isinstance(value, bool):
        raise Invalid(f"{field_name}: {value!r} is not a date", field_name)
    if isinstance(value, int):
        return value, None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            t, warning = localise(value, tz)
        else:
            return to_instant(value), None
    elif isinstance(value, str):
        try:
            t, warning = parse_date(value, tz)
        except DateError as error:
            raise Invalid(f"{field_name}: {error}", field_name) from None
    else:
        raise Invalid(
            f"{field_name}: {value!r} is not a date; write it as YYYY-MM-DDTHH:MM:SS, for "
            "example 2024-03-21T23:59:00",
            field_name,
        )
    note = None if warning is None else f"{field_name}: {warning.message} (time zone {tz.key})"
    return t, note


def pause_for_tests(env: str, content: str) -> None:
    """Tests only: write ``content`` to the file named by ``env`` and sleep (see PAUSE_ENV)."""
    marker = os.environ.get(env)
    if not marker:
        return
    Path(marker).write_text(content)
    time.sleep(float(os.environ.get("COURSEGATE_TEST_PAUSE_SECONDS", "60")))


# -- what an exception looks like to people ---------------------------------------------------


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
        return _what(self.scope, self.target)

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


def _what(scope: str, target: str) -> str:
    if scope == SET:
        return f"the set {target}"
    if scope == COURSE_INSTANCE:
        return "the course instance"
    return target


def _for_history(body: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The fields as history keeps them: a password is never written into the log."""
    if body is None:
        return None
    out = dict(body)
    if isinstance(out.get("password"), str):
        out["password"] = "(set)"
    return out


# -- reading the fields -----------------------------------------------------------------------


def _allowed_fields(scope: str) -> tuple[str, ...]:
    return COURSE_INSTANCE_FIELDS if scope == COURSE_INSTANCE else ASSESSMENT_FIELDS


def _number(value: object, name: str) -> float:
    if isinstance(value, bool):
        raise Invalid(f"{name}: must be a number, not {value!r}", name)
    if isinstance(value, int | float):
        x = float(value)
    elif isinstance(value, str):
        try:
            x = float(value.strip())
        except ValueError:
            raise Invalid(f"{name}: must be a number, not {value!r}", name) from None
    else:
        raise Invalid(f"{name}: must be a number, not {value!r}", name)
    if not math.isfinite(x):
        raise Invalid(f"{name}: must be a finite number, not {value!r}", name)
    return x


def _read_value(name: str, value: object, tz: ZoneInfo, notes: list[str]) -> Any:
    if name in DATE_FIELDS:
        t, note = read_when(value, tz, name)
        if note:
            notes.append(note)
        return t
    if name == "credit":
        x = _number(value, name)
        if not 0 <= x <= MAX_CREDIT:
            raise Invalid(
                f"credit: must be between 0 and {MAX_CREDIT} (percent), not {x:g}", "credit"
            )
        return int(x) if x.is_integer() else x
    if name == "time_limit_minutes":
        x = _number(value, name)
        if not x.is_integer() or x <= 0:
            raise Invalid(
                f"time_limit_minutes: must be a whole number of minutes greater than 0, "
                f"not {value!r}",
                name,
            )
        return int(x)
    if name == "time_limit_percent":
        x = _number(value, name)
        if not 0 < x <= MAX_PERCENT:
            raise Invalid(
                f"time_limit_percent: must be more than 0 and at most {MAX_PERCENT} "
                f"(150 = half as long again), not {x:g}",
                name,
            )
        return int(x) if x.is_integer() else x
    if name == "password":
        if not isinstance(value, str):
            raise Invalid(f'password: must be text ("" for no password), not {value!r}', "password")
        return value if value != "" else None
    raise AssertionError(name)  # pragma: no cover - names are checked before


def read_fields(
    fields: Mapping[str, Any], scope: str, tz: ZoneInfo, *, change: bool
) -> tuple[dict[str, Any], list[str]]:
    """The given fields as stored values (``REMOVED`` for ``None`` in a change), and notes.

    Raises :class:`Invalid` naming the first bad field."""
    if not isinstance(fields, Mapping):
        raise Invalid("fields: give the exception's fields as an object", "fields")
    allowed = _allowed_fields(scope)
    out: dict[str, Any] = {}
    notes: list[str] = []
    for name, value in fields.items():
        if name not in allowed:
            close = difflib.get_close_matches(str(name), allowed, n=1, cutoff=0.5)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            other = _allowed_fields(ASSESSMENT if scope == COURSE_INSTANCE else COURSE_INSTANCE)
            if name in other:
                where = (
                    "an exception for the course instance"
                    if scope == COURSE_INSTANCE
                    else f"an exception for {'a set' if scope == SET else 'an assessment'}"
                )
                hint = f" ({name} does not go with {where})"
            raise Invalid(
                f"{name}: not a field of this exception{hint}; use {', '.join(allowed)}",
                str(name),
            )
        if value is None:
            if change:
                out[name] = REMOVED
            continue
        out[name] = _read_value(name, value, tz, notes)
    return out, notes


def _check_body(body: Mapping[str, Any], scope: str, tz: ZoneInfo) -> None:
    """Checks of the fields among themselves (what they mean is checked per student)."""
    if not body:
        raise Invalid(
            "fields: an exception needs at least one field: "
            + ", ".join(_allowed_fields(scope))
            + " (to take every field away, remove the exception)",
            "fields",
        )
    if "time_limit_minutes" in body and "time_limit_percent" in body:
        raise Invalid(
            "time_limit_percent: give the time limit in minutes or as a percentage, not both",
            "time_limit_percent",
        )
    rel, due = body.get("release"), body.get("due")
    if isinstance(rel, int) and isinstance(due, int) and due <= rel:
        raise Invalid(
            f"due: the due date {format_wall(due, tz)} is not after the release "
            f"{format_wall(rel, tz)}",
            "due",
        )


def _reason(reason: str) -> str:
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise Invalid("reason: say why (for the history and for the student)", "reason")
    return text


# -- the course instance, the target, the students --------------------------------------------


def _target(state: InstanceState, ci: CourseInstance, scope: str, target: str) -> str:
    if scope not in SCOPES:
        raise Invalid(f"scope: must be one of {', '.join(SCOPES)}, not {scope!r}", "scope")
    if scope == COURSE_INSTANCE:
        if target:
            raise Invalid(
                "target: an exception for the course instance has no target; leave it empty",
                "target",
            )
        return ""
    if scope == ASSESSMENT:
        if target not in state.assessments:
            close = difflib.get_close_matches(target, list(state.assessments), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise NotFound(
                f"target: {instance_label(ci)} has no assessment {target!r} ({hint}assessments: "
                f"{', '.join(sorted(state.assessments)) or 'none'})",
                "target",
            )
        return target
    sets = sorted({s.config.set_name for s in state.assessments.values() if s.config.set_name})
    if target not in sets:
        raise NotFound(
            f"target: {instance_label(ci)} has no assessment in a set {target!r} (sets: "
            f"{', '.join(sets) or 'none'})",
            "target",
        )
    return target


def _affected(state: InstanceState, scope: str, target: str) -> list[AssessmentConfig]:
    if scope == ASSESSMENT:
        return [state.assessments[target].config]
    if scope == SET:
        return [
            src.config
            for _, src in sorted(state.assessments.items())
            if src.config.set_name == target
        ]
    return []


@dataclass
class _Student:
    user: User
    status: str | None
    sections: frozenset[str]
    rows: list[StudentOverride] = field(default_factory=list)

    @property
    def label(self) -> str:
        return person(self.user.uid, self.user.name)


def _chunks(ids: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i : i + _CHUNK]


def _load_students(ctx: Ctx, ci: CourseInstance, users: Sequence[User]) -> dict[int, _Student]:
    """Enrollment status, sections and stored exceptions of ``users`` in ``ci``."""
    out = {u.id: _Student(u, None, frozenset()) for u in users}
    sections: dict[int, set[str]] = defaultdict(set)
    for chunk in _chunks(list(out)):
        for uid_, status in ctx.session.execute(
            select(Enrollment.user_id, Enrollment.status).where(
                Enrollment.course_instance_id == ci.id, Enrollment.user_id.in_(chunk)
            )
        ):
            out[uid_].status = status
        for uid_, name in ctx.session.execute(
            select(SectionMembership.user_id, Section.name)
            .join(Section, Section.id == SectionMembership.section_id)
            .where(Section.course_instance_id == ci.id, SectionMembership.user_id.in_(chunk))
        ):
            sections[uid_].add(name)
        for row in ctx.session.scalars(
            select(StudentOverride).where(
                StudentOverride.course_instance_id == ci.id,
                StudentOverride.user_id.in_(chunk),
            )
        ):
            out[row.user_id].rows.append(row)
    for uid_, names in sections.items():
        out[uid_].sections = frozenset(names)
    return out


def _not_enrolled(st: _Student, ci: CourseInstance) -> str | None:
    """Why ``st`` cannot have an exception in ``ci`` (None: they can)."""
    if st.status in ENROLLED:
        return None
    why = " (their enrollment was removed)" if st.status == "removed" else ""
    return (
        f"{st.label} is not enrolled in {instance_label(ci)}{why}; an exception is for a "
        "student of the course instance: enroll or invite them first"
    )


# -- is the result valid for this student? ----------------------------------------------------


_KEY_FIELD = {
    "release": "release",
    "date_control": "release",
    "sessions": "release",
    "due": "due",
    "late": "due",
    "after_last": "due",
    "early": "credit",
}


def _problem_field(key: str, body: Mapping[str, Any]) -> str:
    wanted = _KEY_FIELD.get(key)
    if wanted is not None and wanted in body:
        return wanted
    return next((f for f in ASSESSMENT_FIELDS if f in body), "fields")


def _check_student(
    state: InstanceState,
    ci: CourseInstance,
    st: _Student,
    scope: str,
    target: str,
    body: Mapping[str, Any],
) -> list[str]:
    """Raise :class:`Invalid` unless ``body`` gives ``st`` a valid configuration; warnings."""
    if scope == COURSE_INSTANCE:
        return _check_publishing_extension(state, ci, body)
    others = [
        r
        for r in st.rows
        if r.scope != COURSE_INSTANCE and not (r.scope == scope and r.target == target)
    ]
    candidate = StudentOverride(scope=scope, target=target, body=dict(body), reason="")
    warnings: list[str] = []
    errors: list[tuple[str, str]] = []
    tz = state.tz
    for config in _affected(state, scope, target):
        before = personal_overrides(config, st.sections, others)
        after = personal_overrides(config, st.sections, [*others, candidate])
        if config.form is Form.LEGACY:
            errors += _legacy_problems(config, before, after, tz)
            if tuple(after) == tuple(before):
                warnings.append(
                    f"{config.id} uses legacy allowAccess rules, where an exception needs a "
                    "release or due date, a time limit or a password: this one has no effect there"
                )
            elif "time_limit_percent" in body and not any(
                r.time_limit_minutes for r in config.legacy_rules
            ):
                warnings.append(
                    f"time_limit_percent: {config.id} has no time limit to scale, so the "
                    "percentage has no effect there"
                )
            continue
        if config.access is None:
            warnings.append(
                f"{config.id} gives students no access at all, so an exception has no effect there"
            )
            continue
        r = Reader(f"{st.user.uid}'s exception", tz)
        patches_b = tuple(p for p in before if isinstance(p, AccessPatch))
        patches_a = tuple(p for p in after if isinstance(p, AccessPatch))
        s_b = resolve_settings(config.access, st.sections, patches_b)
        s_a = resolve_settings(config.access, st.sections, patches_a)
        known = {msg for _, msg in settings_problems(s_b, r)}
        hint = ""
        if s_b.date_control is None and s_a.date_control is not None:
            hint = (
                f" ({config.id} has no dates of its own: students reach it only through "
                "testing-centre reservations, so an exception for it needs a release date)"
            )
        for key, msg in settings_problems(s_a, r):
            if msg not in known:
                errors.append((_problem_field(key, body), f"{config.id}: {msg}{hint}"))
        warnings += [
            f"{config.id}: {note}"
            for note in s_a.notes
            if "has no effect" in note and note not in s_b.notes
        ]
    if errors:
        field_name = errors[0][0]
        raise Invalid(
            f"{field_name}: with this exception {st.label}'s settings would not be valid: "
            + "; ".join(msg for _, msg in errors),
            field_name,
        )
    return warnings


def _legacy_problems(
    config: AssessmentConfig,
    before: Sequence[object],
    after: Sequence[object],
    tz: ZoneInfo,
) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for rule in after:
        if not isinstance(rule, LegacyRule) or rule in before:
            continue
        if rule.start is not None and rule.end is not None and rule.start > rule.end:
            out.append(
                (
                    "release",
                    f"{config.id}: the release {format_wall(rule.start, tz)} is after the due "
                    f"date {format_wall(rule.end, tz)}",
                )
            )
    return out


def _check_publishing_extension(
    state: InstanceState, ci: CourseInstance, body: Mapping[str, Any]
) -> list[str]:
    ext = body.get(PUBLISHING_EXTENSION)
    if not isinstance(ext, int):
        return []
    policy = state.settings.policy
    pub = policy.publishing
    if policy.form != "modern" or pub is None or pub.end is None:
        how = {
            "legacy": "allowAccess rules",
            "rfc": "an accessControl object",
            "open": "no access restrictions",
        }.get(policy.form, "publishing dates without an end")
        raise Invalid(
            f"{PUBLISHING_EXTENSION}: {instance_label(ci)} uses {how}, not publishing dates "
            "with an end, so a publishing extension would have no effect",
            PUBLISHING_EXTENSION,
        )
    if ext <= pub.end:
        raise Invalid(
            f"{PUBLISHING_EXTENSION}: {format_wall(ext, state.tz)} is not after the end of "
            f"{instance_label(ci)} ({format_wall(pub.end, state.tz)}); an extension must end later",
            PUBLISHING_EXTENSION,
        )
    return []


# -- views and history ------------------------------------------------------------------------


def _view(
    row: StudentOverride,
    user: User,
    log: Mapping[int, tuple[HistoryEntry | None, HistoryEntry | None]] | None = None,
    warnings: Sequence[str] = (),
) -> ExceptionView:
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


def _log(
    ctx: Ctx, ci_id: int, uids: Iterable[str]
) -> dict[int, tuple[HistoryEntry | None, HistoryEntry | None]]:
    """For each exception id: its grant entry and its latest change entry in the history."""
    out: dict[int, tuple[HistoryEntry | None, HistoryEntry | None]] = {}
    for chunk in _chunks(sorted(set(uids))):
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


def _record(
    ctx: Ctx,
    action: str,
    row: StudentOverride,
    user: User,
    reason: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> None:
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


def _flush(ctx: Ctx, what: str) -> None:
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


# -- grant, change, remove --------------------------------------------------------------------


def _managed(ctx: Ctx, ci: CourseInstance, what: str) -> None:
    require(ctx, GRANT_EXCEPTIONS, instance_area(ci), f"{what} in {instance_label(ci)}")


def _new_exception(
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
    _managed(ctx, ci, "grant exceptions")
    why = _reason(reason)
    state = read_instance(ctx.session, ci)
    target = _target(state, ci, scope, target)
    body, notes = read_fields(fields, scope, state.tz, change=False)
    _check_body(body, scope, state.tz)
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
    ci, state, target, body, notes, why = _new_exception(
        ctx, course_instance_id, scope, target, fields, reason
    )
    user = find_user(ctx, uid)
    st = _load_students(ctx, ci, [user])[user.id]
    problem = _not_enrolled(st, ci)
    if problem is not None:
        raise Invalid(f"uid: {problem}", "uid")
    same = next((r for r in st.rows if r.scope == scope and r.target == target), None)
    if same is not None:
        raise Conflict(
            f"target: {st.label} already has an exception for {_what(scope, target)} "
            f"(version {same.version}, granted by {same.created_by}); change it instead",
            "target",
        )
    warnings = notes + _check_student(state, ci, st, scope, target, body)
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
    _flush(ctx, f"an exception for {st.label} on {_what(scope, target)}")
    _record(ctx, "exception.grant", row, user, why, None, body)
    return _view(row, user, warnings=warnings)


def _stored(
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


def _check_version(row: StudentOverride, user: User, version: int) -> None:
    if isinstance(version, bool) or not isinstance(version, int):
        raise Invalid("version: give the version of the exception you saw (an integer)", "version")
    if row.version != version:
        raise Conflict(
            f"version: someone else changed {person(user.uid, user.name)}'s exception for "
            f"{_what(row.scope, row.target)} since you loaded it (you saw version {version}, "
            f"it is now version {row.version}); load it again and retry",
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
    row, ci, user = _stored(ctx, exception_id, course_instance_id)
    _managed(ctx, ci, "change exceptions")
    why = _reason(reason)
    _check_version(row, user, version)
    state = read_instance(ctx.session, ci)
    given, notes = read_fields(fields, row.scope, state.tz, change=True)
    body = _merged(row.body, given)
    if body == row.body:
        return _view(row, user, _log(ctx, ci.id, [user.uid]))
    st = _load_students(ctx, ci, [user])[user.id]
    warnings = notes + _check_change(state, ci, st, row, body)
    _apply_change(ctx, row, st, body, why)
    return _view(row, user, _log(ctx, ci.id, [user.uid]), warnings)


def _merged(stored: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """The stored fields with a change applied: given values replace, ``REMOVED`` removes,
    absent fields stay."""
    body = {k: v for k, v in stored.items() if given.get(k) is not REMOVED}
    body.update({k: v for k, v in given.items() if v is not REMOVED})
    return body


def _check_change(
    state: InstanceState,
    ci: CourseInstance,
    st: _Student,
    row: StudentOverride,
    body: Mapping[str, Any],
) -> list[str]:
    """Raise :class:`Invalid` unless ``row`` may become ``body`` for ``st``; warnings."""
    _check_body(body, row.scope, state.tz)
    if row.scope == ASSESSMENT and row.target not in state.assessments:
        raise Invalid(
            f"target: {row.target} has been retired (removed from the course files); its "
            "exception can only be removed",
            "target",
        )
    problem = _not_enrolled(st, ci)
    if problem is not None:
        raise Invalid(f"uid: {problem}", "uid")
    return _check_student(state, ci, st, row.scope, row.target, body)


def _apply_change(
    ctx: Ctx, row: StudentOverride, st: _Student, body: dict[str, Any], why: str
) -> None:
    before = dict(row.body)
    row.body = body
    row.reason = why
    row.updated_at = ctx.at
    _flush(ctx, f"{st.label}'s exception for {_what(row.scope, row.target)}")
    _record(ctx, "exception.change", row, st.user, why, before, body)


def remove(
    ctx: Ctx,
    exception_id: int,
    *,
    version: int,
    reason: str,
    course_instance_id: int | None = None,
) -> ExceptionView:
    """Remove an exception (the history keeps what it was). Returns it as it was."""
    row, ci, user = _stored(ctx, exception_id, course_instance_id)
    _managed(ctx, ci, "remove exceptions")
    why = _reason(reason)
    _check_version(row, user, version)
    view = _view(row, user, _log(ctx, ci.id, [user.uid]))
    _delete(ctx, row, user, why)
    return view


def _delete(ctx: Ctx, row: StudentOverride, user: User, why: str) -> None:
    _record(ctx, "exception.remove", row, user, why, dict(row.body), None)
    ctx.session.delete(row)
    _flush(ctx, f"{person(user.uid, user.name)}'s exception for {_what(row.scope, row.target)}")


# -- many students at once --------------------------------------------------------------------


@dataclass(frozen=True)
class BulkProblem:
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


def split_uids(text: str | Sequence[str]) -> list[str]:
    """Pasted uids (separated by spaces, commas, semicolons or lines), once each, in order."""
    items = _SPLIT.split(text) if isinstance(text, str) else [str(u).strip() for u in text]
    return list(dict.fromkeys(u for u in items if u))


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
) -> BulkReport:
    """Grant the same exception to many students — pasted ``uids`` or every enrolled member of
    ``section`` — in the caller's one transaction: all or nothing.

    Raises :class:`BulkInvalid` listing every student who cannot get it (unknown uid, not
    enrolled, an invalid result for them, a different exception already there). A student who
    already has exactly this exception is reported as unchanged, so running it again is safe.
    """
    ci, state, target, body, notes, why = _new_exception(
        ctx, course_instance_id, scope, target, fields, reason
    )
    if (uids is None) == (section is None):
        raise Invalid("uids: give either uids or a section (one of them)", "uids")
    problems: list[BulkProblem] = []
    if section is not None:
        users = _section_members(ctx, ci, section)
        wanted = [u.uid for u in users]
    else:
        assert uids is not None
        wanted = split_uids(uids)
        if not wanted:
            raise Invalid("uids: no uids given", "uids")
        users = []
        for chunk in _chunks(wanted):
            users += ctx.session.scalars(select(User).where(User.uid.in_(chunk))).all()
    by_uid = {u.uid: u for u in users}
    students = _load_students(ctx, ci, users)
    report = BulkReport(warnings=list(notes))
    checked: dict[object, list[str] | Invalid] = {}
    todo: list[_Student] = []
    for uid in wanted:
        user = by_uid.get(uid)
        if user is None:
            problems.append(BulkProblem(uid, "there is no such user"))
            continue
        st = students[user.id]
        not_in = _not_enrolled(st, ci)
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
                        f"{_what(scope, target)} (version {same.version}); change it instead",
                    )
                )
            continue
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
                result = _check_student(state, ci, st, scope, target, body)
            except Invalid as error:
                result = error
            checked[key] = result
        if isinstance(result, Invalid):
            problems.append(BulkProblem(uid, result.message))
            continue
        for w in result:
            if w not in report.warnings:
                report.warnings.append(w)
        todo.append(st)
    if problems:
        raise BulkInvalid(problems)
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
    _flush(ctx, f"an exception for {_what(scope, target)}")
    for st, row in zip(todo, rows, strict=True):
        _record(ctx, "exception.grant", row, st.user, why, None, body)
        report.granted.append(_view(row, st.user))
    ctx.session.flush()
    pause_for_tests(PAUSE_ENV, str(len(rows)))
    return report


def _section_members(ctx: Ctx, ci: CourseInstance, name: str) -> list[User]:
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
) -> tuple[list[tuple[_Student, StudentOverride | None]], BulkChangeReport]:
    """Every enrolled member of ``section`` with their exception for the target (or None)."""
    members = _section_members(ctx, ci, section)
    students = _load_students(ctx, ci, members)
    pairs: list[tuple[_Student, StudentOverride | None]] = []
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
            f"{_what(scope, target)}",
            "target",
        )
    return pairs, report


def _check_versions(
    pairs: Sequence[tuple[_Student, StudentOverride | None]],
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
    what = _what(scope, target)
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
    _managed(ctx, ci, "change exceptions")
    why = _reason(reason)
    state = read_instance(ctx.session, ci)
    target = _target(state, ci, scope, target)
    given, notes = read_fields(fields, scope, state.tz, change=True)
    if not given:
        raise Invalid(
            "fields: say what to change: " + ", ".join(_allowed_fields(scope)) + " (null removes "
            "a field)",
            "fields",
        )
    pairs, report = _section_rows(ctx, ci, section, scope, target)
    _check_versions(pairs, versions, scope, target)
    report.warnings = list(notes)
    problems: list[BulkProblem] = []
    todo: list[tuple[_Student, StudentOverride, dict[str, Any]]] = []
    for st, row in pairs:
        if row is None:
            continue
        body = _merged(row.body, given)
        if body == row.body:
            report.unchanged.append(st.label)
            continue
        try:
            warnings = _check_change(state, ci, st, row, body)
        except Invalid as error:
            problems.append(BulkProblem(st.user.uid, error.message))
            continue
        report.warnings += [w for w in warnings if w not in report.warnings]
        todo.append((st, row, body))
    if problems:
        raise BulkInvalid(problems, "cannot have this change")
    for st, row, body in todo:
        _apply_change(ctx, row, st, body, why)
    log = _log(ctx, ci.id, [st.user.uid for st, _, _ in todo])
    report.done = [_view(row, st.user, log) for st, row, _ in todo]
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
    _managed(ctx, ci, "remove exceptions")
    why = _reason(reason)
    if scope not in SCOPES:
        raise Invalid(f"scope: must be one of {', '.join(SCOPES)}, not {scope!r}", "scope")
    if scope == COURSE_INSTANCE:
        target = ""
    pairs, report = _section_rows(ctx, ci, section, scope, target)
    todo = [(st, row) for st, row in pairs if row is not None]
    log = _log(ctx, ci.id, [st.user.uid for st, _ in todo])
    report.done = [_view(row, st.user, log) for st, row in todo]
    for st, row in todo:
        _delete(ctx, row, st.user, why)
    return report


# -- listing ----------------------------------------------------------------------------------


def _viewer(ctx: Ctx, ci: CourseInstance, what: str) -> None:
    require(ctx, VIEW_STUDENTS, instance_area(ci), f"{what} in {instance_label(ci)}")


def get_exception(
    ctx: Ctx, exception_id: int, course_instance_id: int | None = None
) -> ExceptionView:
    """One exception (with its current ``version``, for an editor); needs ``vst``."""
    row, ci, user = _stored(ctx, exception_id, course_instance_id)
    _viewer(ctx, ci, "view students' exceptions")
    return _view(row, user, _log(ctx, ci.id, [user.uid]))


_SCOPE_ORDER = {COURSE_INSTANCE: 0, SET: 1, ASSESSMENT: 2}


def student_exceptions(ctx: Ctx, course_instance_id: int, uid: str) -> list[ExceptionView]:
    """Every exception of ``uid`` in the course instance: the course instance's first, then
    sets, then assessments. Needs ``vst``."""
    ci = course_instance_by_id(ctx, course_instance_id)
    _viewer(ctx, ci, "view students' exceptions")
    user = find_user(ctx, uid)
    rows = ctx.session.scalars(
        select(StudentOverride).where(
            StudentOverride.course_instance_id == ci.id, StudentOverride.user_id == user.id
        )
    ).all()
    log = _log(ctx, ci.id, [user.uid])
    views = [_view(r, user, log) for r in rows]
    return sorted(views, key=lambda v: (_SCOPE_ORDER.get(v.scope, 3), v.target))


def assessment_exceptions(
    ctx: Ctx, course_instance_id: int, assessment: str
) -> list[ExceptionView]:
    """Every exception that applies to ``assessment``: the students' exceptions for it and for
    its set, by uid. Needs ``vst``."""
    ci = course_instance_by_id(ctx, course_instance_id)
    _viewer(ctx, ci, "view students' exceptions")
    state = read_instance(ctx.session, ci)
    aid = _target(state, ci, ASSESSMENT, assessment)
    set_name = state.assessments[aid].config.set_name
    pairs = ctx.session.execute(
        select(StudentOverride, User)
        .join(User, User.id == StudentOverride.user_id)
        .where(
            StudentOverride.course_instance_id == ci.id,
            ((StudentOverride.scope == ASSESSMENT) & (StudentOverride.target == aid))
            | ((StudentOverride.scope == SET) & (StudentOverride.target == set_name)),
        )
        .order_by(User.uid, StudentOverride.scope)
    ).all()
    log = _log(ctx, ci.id, [u.uid for _, u in pairs])
    return [_view(r, u, log) for r, u in pairs]


OWN_PASSWORD = "(set)"
"""What a student sees of their own exception's password (staff see the password itself)."""


def list_exceptions(
    ctx: Ctx,
    course_instance_id: int,
    *,
    uid: str | None = None,
    assessment: str | None = None,
    section: str | None = None,
    scope: str | None = None,
) -> list[ExceptionView]:
    """The exceptions of a course instance, by uid (then the course instance's, sets',
    assessments'), filtered: ``uid`` (that student's), ``assessment`` (those that apply to it:
    its own and its set's), ``section`` (those of the section's current members), ``scope``.

    Needs ``vst`` — except that a student may list their own (``uid`` = themselves): they then
    see their own password as ``(set)``, never in clear."""
    ci = course_instance_by_id(ctx, course_instance_id)
    own = False
    if uid is not None and ctx.is_self(uid, ci.id):
        own = not allowed(ctx, VIEW_STUDENTS, instance_area(ci))[0]
    if not own:
        hint = ""
        if uid is None and not ctx.is_system:
            hint = f" (to see your own, ask for uid={ctx.effective})"
        try:
            _viewer(ctx, ci, "view students' exceptions")
        except Refused as refused:
            raise Refused(refused.message + hint, "uid") from None
    query = (
        select(StudentOverride, User)
        .join(User, User.id == StudentOverride.user_id)
        .where(StudentOverride.course_instance_id == ci.id)
    )
    if uid is not None:
        query = query.where(User.id == find_user(ctx, uid).id)
    if scope is not None:
        if scope not in SCOPES:
            raise Invalid(f"scope: must be one of {', '.join(SCOPES)}, not {scope!r}", "scope")
        query = query.where(StudentOverride.scope == scope)
    if assessment is not None:
        state = read_instance(ctx.session, ci)
        aid = _target(state, ci, ASSESSMENT, assessment)
        set_name = state.assessments[aid].config.set_name
        query = query.where(
            ((StudentOverride.scope == ASSESSMENT) & (StudentOverride.target == aid))
            | ((StudentOverride.scope == SET) & (StudentOverride.target == set_name))
        )
    if section is not None:
        sec = ctx.session.scalars(
            select(Section).where(Section.course_instance_id == ci.id, Section.name == section)
        ).one_or_none()
        if sec is None:
            raise NotFound(f"section: {instance_label(ci)} has no section {section!r}", "section")
        query = query.where(
            StudentOverride.user_id.in_(
                select(SectionMembership.user_id).where(SectionMembership.section_id == sec.id)
            )
        )
    pairs = ctx.session.execute(query).all()
    log = _log(ctx, ci.id, [u.uid for _, u in pairs])
    views = [_view(r, u, log) for r, u in pairs]
    if own:
        views = [_masked(v) for v in views]
    return sorted(views, key=lambda v: (v.uid, _SCOPE_ORDER.get(v.scope, 3), v.target))


def _masked(view: ExceptionView) -> ExceptionView:
    if isinstance(view.fields.get("password"), str):
        return replace(view, fields={**view.fields, "password": OWN_PASSWORD})
    return view


def course_zone(ci: CourseInstance) -> ZoneInfo:
    """The course instance's zone (for :meth:`ExceptionView.to_json`)."""
    return zone(ci.timezone)


__all__ = [
    "ASSESSMENT",
    "COURSE_INSTANCE",
    "OWN_PASSWORD",
    "PAUSE_ENV",
    "PUBLISHING_EXTENSION",
    "SCOPES",
    "SET",
    "BulkChangeReport",
    "BulkConflict",
    "BulkInvalid",
    "BulkProblem",
    "BulkReport",
    "ExceptionView",
    "assessment_exceptions",
    "change",
    "change_many",
    "course_zone",
    "get_exception",
    "grant",
    "grant_many",
    "list_exceptions",
    "read_fields",
    "read_when",
    "remove",
    "remove_many",
    "split_uids",
    "student_exceptions",
]
