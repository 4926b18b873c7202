"""Instants, course-file dates and time zones.

An *instant* is an ``int``: microseconds since the Unix epoch, UTC. Integers make timelines
exact (no float rounding at a deadline) and fast to search.

Course files write dates without an offset; they mean wall time in the course instance's time
zone. A date with an explicit offset (``Z`` or ``+02:00``) is honoured as written. Wall times that
a daylight-saving change makes ambiguous or impossible are resolved deterministically:

* ambiguous (clocks go back, the wall time happens twice): the **first** occurrence, the one in
  daylight time, is used;
* non-existent (clocks go forward, the wall time never happens): the time is read with the
  offset in force *before* the change, which lands it as many minutes after the jump as it was
  after the old hour (02:30 on a spring-forward night becomes 03:30 daylight time).

Both cases return a warning so that ``coursegate validate`` can tell the instructor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Instant = int
"""Microseconds since 1970-01-01T00:00:00Z."""

MICROS = 1_000_000
MINUTE = 60 * MICROS
SECOND = MICROS
MIN_INSTANT: Instant = -(2**62)
"""Stands for "since forever" in half-open intervals."""
MAX_INSTANT: Instant = 2**62
"""Stands for "for ever" in half-open intervals."""

DEFAULT_TIMEZONE = "America/Chicago"
"""PrairieLearn's default when a course names no time zone."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_DATE_RE = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<h>\d{2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:\.(?P<frac>\d{1,6}))?)?)?"
    r"(?P<tz>Z|z|[+-]\d{2}:?\d{2})?$"
)


class DateError(ValueError):
    """A date string that cannot be read; the message is written for an instructor."""


@dataclass(frozen=True, slots=True)
class LocalTimeWarning:
    """A wall time that a daylight-saving change makes ambiguous or non-existent."""

    kind: str  # "ambiguous" | "nonexistent"
    text: str
    resolved: Instant
    used: str = ""
    """The local reading used, such as ``01:30 CDT (-05:00)``."""
    other_offset: str = ""
    """For an ambiguous time: the offset that picks the second occurrence."""

    @property
    def message(self) -> str:
        if self.kind == "ambiguous":
            return (
                f"{self.text} happens twice on this day because clocks go back; coursegate "
                f"uses the first time it happens, {self.used}. To mean the second one, write "
                f"the offset explicitly: {self.text.replace(' ', 'T')}{self.other_offset}."
            )
        return (
            f"{self.text} does not exist on this day because clocks go forward; coursegate "
            f"reads it as {self.used} (as many minutes after the jump as it was after the "
            "hour). Pick a time outside the change to avoid surprises."
        )


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; raises :class:`DateError` with a readable message."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise DateError(
            f"{name!r} is not an IANA time zone name (for example 'America/Chicago')"
        ) from exc


def to_instant(dt: datetime) -> Instant:
    """An aware datetime as an instant."""
    if dt.tzinfo is None:
        raise ValueError("naive datetime: localise it first")
    delta = dt - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * MICROS + delta.microseconds


def from_instant(t: Instant, tz: tzinfo | None = None) -> datetime:
    """The instant as an aware datetime in ``tz`` (UTC when None)."""
    dt = _EPOCH + timedelta(microseconds=t)
    return dt.astimezone(tz) if tz is not None else dt


def localise(naive: datetime, tz: ZoneInfo) -> tuple[Instant, LocalTimeWarning | None]:
    """Wall time ``naive`` in ``tz`` as an instant, with a warning on DST gaps and folds."""
    first = naive.replace(tzinfo=tz, fold=0)
    second = naive.replace(tzinfo=tz, fold=1)
    off0, off1 = first.utcoffset(), second.utcoffset()
    t = to_instant(first)
    if off0 == off1:
        return t, None
    text = naive.isoformat(sep=" ")
    local = from_instant(t, tz)
    used = f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()} ({_offset(local)})"
    # A wall time that exists round-trips through UTC; one in a gap does not.
    if local.replace(tzinfo=None) == naive:
        return t, LocalTimeWarning("ambiguous", text, t, used, _offset(second))
    return t, LocalTimeWarning("nonexistent", text, t, used)


def _offset(dt: datetime) -> str:
    off = dt.utcoffset() or timedelta(0)
    minutes = int(off.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


MAX_OFFSET_MINUTES = 14 * 60
"""UTC offsets in use run from -14:00 to +14:00."""

_EARLIEST = to_instant(datetime(1, 1, 2, tzinfo=UTC))
_LATEST = to_instant(datetime(9999, 12, 30, tzinfo=UTC))
"""Dates a day inside the calendar's ends, so that they can be written in any zone."""


def parse_date(text: str, tz: ZoneInfo) -> tuple[Instant, LocalTimeWarning | None]:
    """Read a course-file date. Without an offset it is wall time in ``tz``.

    An explicit offset must be one in use: -14:00 to +14:00, minutes below 60.
    """
    m = _DATE_RE.match(text.strip()) if isinstance(text, str) else None
    if m is None:
        raise DateError(
            f"{text!r} is not a date; write it as YYYY-MM-DDTHH:MM:SS, for example "
            "2024-03-21T23:59:00"
        )
    frac = (m["frac"] or "").ljust(6, "0")
    try:
        naive = datetime.fromisoformat(
            f"{m['date']}T{m['h'] or '00'}:{m['m'] or '00'}:{m['s'] or '00'}"
            + (f".{frac}" if m["frac"] else "")
        )
    except ValueError as exc:
        raise DateError(f"{text!r} is not a real date or time ({exc})") from exc
    offset = m["tz"]
    warning: LocalTimeWarning | None = None
    if offset in ("Z", "z"):
        t = to_instant(naive.replace(tzinfo=UTC))
    elif offset:
        sign = 1 if offset[0] == "+" else -1
        digits = offset[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:])
        if minutes >= 60 or hours * 60 + minutes > MAX_OFFSET_MINUTES:
            raise DateError(
                f"{text!r} has the UTC offset {offset}, which is not a real one: offsets run "
                "from -14:00 to +14:00, with minutes below 60"
            )
        t = to_instant(naive.replace(tzinfo=UTC)) - sign * (hours * 60 + minutes) * MINUTE
    else:
        try:
            t, warning = localise(naive, tz)
        except OverflowError:  # the wall time in ``tz`` is beyond year 9999 in UTC
            t = _LATEST + 1
    if not _EARLIEST <= t <= _LATEST:
        raise DateError(
            f"{text!r} is too close to the ends of the calendar; write a date between "
            "0001-01-02 and 9999-12-30"
        )
    return t, warning


def inclusive_end(t: Instant) -> Instant:
    """The exclusive end of an inclusive end date: the end of its second.

    Course files write times to the second, so ``23:59:59`` inclusive means "until 00:00:00"
    (a request at 23:59:59.4 is still inside). A time written with a fraction of a second ends
    one microsecond after it.
    """
    return t + (SECOND if t % SECOND == 0 else 1)


def format_instant(t: Instant, tz: tzinfo | None) -> str:
    """ISO 8601 with offset, in ``tz`` (UTC when None), seconds precision unless finer."""
    dt = from_instant(t, tz)
    spec = "seconds" if dt.microsecond == 0 else "microseconds"
    return dt.isoformat(timespec=spec)


def format_for_people(t: Instant, tz: tzinfo, *, relative_to: Instant | None = None) -> str:
    """The one format of times for people: ``23:59, Thu, Mar 21`` — 24-hour time, weekday,
    month and day, in ``tz`` (pages name the zone once, in their footer).

    * Seconds show only when they matter: ``08:00:30``, ``00:00:01``. A time at ``:59``
      seconds is the inclusive end of its minute (``23:59:59``, the usual deadline) and shows
      as that minute, ``23:59``. Fractions of a second never show.
    * The year is added (``23:59, Thu, Mar 21, 2024``) when it differs from that of
      ``relative_to`` (a page's now).
    """
    text, year = _people(t, tz)
    if (
        relative_to is not None
        and MIN_INSTANT < relative_to < MAX_INSTANT
        and _year(relative_to // _DAY, tz) != year
    ):
        text += f", {year}"
    return text


_DAY = 86_400 * MICROS


def year_for_people(t: Instant, tz: tzinfo) -> int | None:
    """The year :func:`format_for_people` compares with when ``relative_to=t`` (None: it never
    adds a year): two instants with the same value here format every instant alike."""
    if not MIN_INSTANT < t < MAX_INSTANT:
        return None
    return _year(t // _DAY, tz)


@lru_cache(maxsize=65_536)
def _people(t: Instant, tz: tzinfo) -> tuple[str, int]:
    dt = from_instant(t, tz)
    clock = f"{dt:%H:%M}" if dt.second in (0, 59) else f"{dt:%H:%M:%S}"
    return f"{clock}, {dt:%a}, {dt:%b} {dt.day}", dt.year


@lru_cache(maxsize=65_536)
def _year(day: int, tz: tzinfo) -> int:
    """The local year around UTC day ``day`` (exact except within hours of New Year, where the
    year is taken at noon UTC of that day; used only to decide whether to print a year)."""
    return from_instant(day * _DAY + _DAY // 2, tz).year


def format_wall(t: Instant, tz: tzinfo) -> str:
    """``2024-03-21 23:59:00 CDT``: a wall time with its zone abbreviation, for tables."""
    dt = from_instant(t, tz)
    return f"{dt:%Y-%m-%d %H:%M:%S} {dt.tzname()}"
