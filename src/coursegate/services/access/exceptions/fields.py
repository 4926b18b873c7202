"""The fields of a student's exception as people give them: the scopes, the fields each scope
takes, reading given values into stored ones (dates, credit, time limits, password) and checking
them among themselves, and the reason every change needs."""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from coursegate.core.instants import (
    DateError,
    Instant,
    format_wall,
    localise,
    parse_date,
    to_instant,
)
from coursegate.services.common.errors import Invalid
from coursegate.services.courses.roster import EXCEPTION_FIELDS

ASSESSMENT = "assessment"
SET = "set"
COURSE_INSTANCE = "course_instance"
SCOPES = (ASSESSMENT, SET, COURSE_INSTANCE)
PUBLISHING_EXTENSION = "publishing_extension_end"
ASSESSMENT_FIELDS = EXCEPTION_FIELDS
COURSE_INSTANCE_FIELDS = (PUBLISHING_EXTENSION,)
DATE_FIELDS = frozenset({"release", "due", PUBLISHING_EXTENSION})

MAX_CREDIT = 200
MAX_PERCENT = 1000


class _Removed:
    """``None`` in a change: remove the field."""

    def __repr__(self) -> str:
        return "REMOVED"


REMOVED = _Removed()


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


def describe_target(scope: str, target: str) -> str:
    """``hw/hw2``, ``the set Quiz``, ``the course instance``: the target as people read it."""
    if scope == SET:
        return f"the set {target}"
    if scope == COURSE_INSTANCE:
        return "the course instance"
    return target


def allowed_fields(scope: str) -> tuple[str, ...]:
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
    allowed = allowed_fields(scope)
    out: dict[str, Any] = {}
    notes: list[str] = []
    for name, value in fields.items():
        if name not in allowed:
            close = difflib.get_close_matches(str(name), allowed, n=1, cutoff=0.5)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            other = allowed_fields(ASSESSMENT if scope == COURSE_INSTANCE else COURSE_INSTANCE)
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


def check_body(body: Mapping[str, Any], scope: str, tz: ZoneInfo) -> None:
    """Checks of the fields among themselves (what they mean is checked per student)."""
    if not body:
        raise Invalid(
            "fields: an exception needs at least one field: "
            + ", ".join(allowed_fields(scope))
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


def read_reason(reason: str) -> str:
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise Invalid("reason: say why (for the history and for the student)", "reason")
    return text


def merged_fields(stored: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """The stored fields with a change applied: given values replace, ``REMOVED`` removes,
    absent fields stay."""
    body = {k: v for k, v in stored.items() if given.get(k) is not REMOVED}
    body.update({k: v for k, v in given.items() if v is not REMOVED})
    return body


__all__ = [
    "ASSESSMENT",
    "COURSE_INSTANCE",
    "PUBLISHING_EXTENSION",
    "SCOPES",
    "SET",
    "read_fields",
    "read_when",
]
