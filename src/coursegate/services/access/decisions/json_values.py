"""How the student's course and the matrix write numbers and instants in JSON: a whole
number as an integer, an instant in the course instance's zone, and "since ever" or "for ever"
(the ends of the calendar) as ``null``."""

from __future__ import annotations

from datetime import tzinfo

from coursegate.core.instants import MAX_INSTANT, MIN_INSTANT, Instant, format_instant


def json_number(x: float) -> float | int:
    """``100.0`` as ``100``; ``62.5`` stays as it is."""
    return int(x) if float(x).is_integer() else x


def json_instant(t: Instant | None, tz: tzinfo) -> str | None:
    """ISO 8601 in ``tz``; ``None`` for no instant and for the ends of the calendar."""
    if t is None or t <= MIN_INSTANT or t >= MAX_INSTANT:
        return None
    return format_instant(t, tz)
