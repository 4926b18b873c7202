"""Shared pieces of the JSON shapes: instants as ISO 8601 text, and reading them back; row ids;
and what every request's input must be before any handler sees it (:func:`checked_input`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime, tzinfo
from typing import Annotated, Any

from fastapi import Path, Request
from starlette.datastructures import UploadFile

from coursegate.core.instants import Instant, format_instant, to_instant
from coursegate.services.common.errors import Invalid

MAX_ID = 2**31 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ID, description="a row id", examples=[1])]
"""A path parameter naming a stored object by id (bounded: both databases accept it)."""


def iso(t: Instant, tz: tzinfo | None = None) -> str:
    """An instant as ISO 8601 with its offset (UTC unless ``tz``)."""
    return format_instant(t, tz or UTC)


def iso_or_none(t: Instant | None, tz: tzinfo | None = None) -> str | None:
    return None if t is None else iso(t, tz)


def parse_instant(text: str, field: str, tz: tzinfo | None = None) -> Instant:
    """An ISO 8601 date. Without an offset it is wall time in ``tz``; with neither, an error
    that says so (the API never guesses a zone)."""
    try:
        dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(f"{field}: {text!r} is not an ISO 8601 date", field) from None
    if dt.tzinfo is None:
        if tz is None:
            raise Invalid(f"{field}: {text!r} needs an offset such as +00:00", field)
        dt = dt.replace(tzinfo=tz)
    t = to_instant(dt)
    if not EARLIEST <= t <= LATEST:
        raise Invalid(
            f"{field}: {text!r} is too close to the ends of the calendar; write a date between "
            "0001-01-02 and 9999-12-30",
            field,
        )
    return t


EARLIEST = to_instant(datetime(1, 1, 2, tzinfo=UTC))
LATEST = to_instant(datetime(9999, 12, 30, tzinfo=UTC))
"""The dates the API accepts: a day inside the calendar's ends, so that each can be written in
any zone (as course files' dates, :func:`coursegate.core.instants.parse_date`)."""


# -- every request's input ----------------------------------------------------------------------

MAX_BODY_BYTES = 16 * 2**20
"""The largest request body (16 MiB; a bigger one is 413 ``too_large`` before it is read whole).
The largest legitimate bodies, a batch of decision requests or a CSV file of users, are a few
megabytes."""

MAX_INT = 2**63 - 1
"""JSON numbers must fit in 64 bits (what both databases store as BIGINT); routes bound their
own fields more tightly where the column is narrower."""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
"""Control characters but tab, line feed and carriage return (C0, DEL, C1), and lone UTF-16
surrogates (which JSON can spell, ``"\\ud800"``, but no text encoding stores)."""
_CONTROL_IN_NAMES = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
"""In a URL (path and query) not even tab and line ends."""


def bad_text(text: str, *, multiline: bool = True) -> str | None:
    """Why ``text`` may not be accepted (None: it may): it holds a NUL or another control
    character (PostgreSQL refuses NUL in text; the others are never meant and hide in logs and
    pages), or a lone surrogate."""
    found = (_CONTROL if multiline else _CONTROL_IN_NAMES).search(text)
    if found is None:
        return None
    char = found.group()
    if "\ud800" <= char <= "\udfff":
        return f"a lone UTF-16 surrogate (U+{ord(char):04X}) is not text"
    nul = " (NUL)" if char == "\x00" else ""
    return f"control characters such as U+{ord(char):04X}{nul} are not allowed"


async def checked_input(request: Request) -> None:
    """The first dependency of every route (API and pages): the path, the query and the body
    (JSON or a form) hold no NUL, control character or lone surrogate, and a JSON body no
    number beyond 64 bits, no NaN and no infinity. Anything else is 422 ``invalid`` naming the
    field, before a handler or a database sees it: one rule, here, rather than a check in every
    model that takes text."""
    for name, value in request.path_params.items():
        _refuse(name, bad_text(str(value), multiline=False))
    for name, value in request.query_params.multi_items():
        _refuse(name, bad_text(name, multiline=False) or bad_text(value, multiline=False))
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    kind = request.headers.get("content-type", "")
    if kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        for name, value in form.multi_items():
            if not isinstance(value, UploadFile):
                _refuse(name, bad_text(name, multiline=False) or bad_text(value))
    elif _reads_json(request) and await request.body():
        try:
            data = await request.json()  # parsed already (FastAPI's parse is kept)
        except (ValueError, RecursionError):
            return  # not JSON after all: the route's own validation says so
        for where, value in _leaves(data):
            _refuse(where, _bad_value(value))


def _reads_json(request: Request) -> bool:
    """The route takes a body and it came as JSON (FastAPI has parsed it already: the check
    reads the same parsed value)."""
    route = request.scope.get("route")
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip()
    return getattr(route, "body_field", None) is not None and (
        kind == "application/json" or kind.endswith("+json")
    )


def _leaves(data: Any) -> Iterator[tuple[str, Any]]:
    """Every key and value of a JSON document with where it is (``$.students[3].uid``);
    iterative, so any depth the parser accepted is walked."""
    todo: list[tuple[str, Any]] = [("$", data)]
    while todo:
        where, value = todo.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                inner = f"{where}.{key}"
                yield inner, str(key)
                todo.append((inner, item))
        elif isinstance(value, list):
            todo.extend((f"{where}[{i}]", item) for i, item in enumerate(value))
        else:
            yield where, value


def _bad_value(value: Any) -> str | None:
    if isinstance(value, str):
        return bad_text(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and not -MAX_INT - 1 <= value <= MAX_INT:
        return "the number is too large"
    if isinstance(value, float) and not math.isfinite(value):
        return "a number must be finite (not NaN or infinity)"
    return None


def _refuse(where: str, why: str | None) -> None:
    if why is not None:
        # The field's name is the client's own text (a JSON key): escape what it may not hold,
        # so that the answer itself can be written.
        field = _CONTROL_IN_NAMES.sub(_escaped, where.removeprefix("$.").removeprefix("$")) or "$"
        raise Invalid(f"{field}: {why}", field)


def _escaped(found: re.Match[str]) -> str:
    return f"\\u{ord(found.group()):04x}"
