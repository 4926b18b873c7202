"""Shared pieces of the JSON shapes: instants as ISO 8601 text, and reading them back."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Annotated

from fastapi import Path

from coursegate.core.instants import Instant, format_instant, to_instant
from coursegate.services.errors import Invalid

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
    return to_instant(dt)
