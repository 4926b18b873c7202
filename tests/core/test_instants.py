"""Dates in course files: zones, offsets and daylight-saving changes."""

from datetime import UTC, datetime

import pytest

from coursegate.core.instants import (
    DateError,
    format_for_people,
    from_instant,
    inclusive_end,
    parse_date,
    to_instant,
    zone,
)

CHI = zone("America/Chicago")


def utc(*args: int) -> int:
    return to_instant(datetime(*args, tzinfo=UTC))


def test_naive_date_is_wall_time_in_the_zone() -> None:
    t, warn = parse_date("2024-03-21T23:59:00", CHI)
    assert t == utc(2024, 3, 22, 4, 59)  # CDT is UTC-5
    assert warn is None


def test_winter_date_uses_standard_time() -> None:
    t, _ = parse_date("2024-01-10T12:00", CHI)
    assert t == utc(2024, 1, 10, 18, 0)


def test_explicit_offset_is_honoured_not_dropped() -> None:
    assert parse_date("2024-03-21T23:59:00+02:00", CHI)[0] == utc(2024, 3, 21, 21, 59)
    assert parse_date("2024-03-21T23:59:00Z", CHI)[0] == utc(2024, 3, 21, 23, 59)


def test_space_separator_and_fractions_are_read() -> None:
    assert parse_date("2024-03-08 09:00:00", CHI)[0] == utc(2024, 3, 8, 15, 0)
    assert parse_date("2024-03-08T09:00:00.5", CHI)[0] == utc(2024, 3, 8, 15, 0) + 500_000


def test_ambiguous_wall_time_takes_the_first_occurrence_and_warns() -> None:
    # 2024-11-03 01:30 happens twice in Chicago: first at CDT (UTC-5), then at CST (UTC-6).
    t, warn = parse_date("2024-11-03T01:30:00", CHI)
    assert t == utc(2024, 11, 3, 6, 30)
    assert warn is not None and warn.kind == "ambiguous"
    assert "happens twice" in warn.message


def test_nonexistent_wall_time_moves_forward_and_warns() -> None:
    # 2024-03-10 02:30 does not exist in Chicago: read with the offset before the jump (CST).
    t, warn = parse_date("2024-03-10T02:30:00", CHI)
    assert t == utc(2024, 3, 10, 8, 30)
    assert from_instant(t, CHI).hour == 3  # 03:30 CDT on the wall
    assert warn is not None and warn.kind == "nonexistent"


@pytest.mark.parametrize("bad", ["2024-13-01T00:00", "tomorrow", "2024-02-30T10:00", "24-01-01"])
def test_bad_dates_are_rejected_with_the_format(bad: str) -> None:
    with pytest.raises(DateError, match=r"date|time"):
        parse_date(bad, CHI)


def test_unknown_zone_is_a_clear_error() -> None:
    with pytest.raises(DateError, match="IANA"):
        zone("Mars/Olympus")


def test_inclusive_end_covers_the_whole_second() -> None:
    t = utc(2024, 1, 1, 5, 59, 59)
    assert inclusive_end(t) == t + 1_000_000
    assert inclusive_end(t + 5) == t + 6


def test_people_format_adds_year_only_when_it_differs() -> None:
    t = parse_date("2024-03-21T23:59", CHI)[0]
    assert format_for_people(t, CHI) == "23:59, Thu, Mar 21"
    assert format_for_people(t, CHI, relative_to=parse_date("2023-12-30", CHI)[0]).endswith("2024")
    s = parse_date("2024-03-21T23:59:59", CHI)[0]
    assert format_for_people(s, CHI) == "23:59, Thu, Mar 21"


@pytest.mark.parametrize(
    ("written", "relative_to", "shown"),
    [
        # A deadline at 23:59:59 is the end of the minute: shown as 23:59.
        ("2024-03-21T23:59:59", None, "23:59, Thu, Mar 21"),
        ("2024-02-05T17:59:59", None, "17:59, Mon, Feb 5"),
        # Seconds that matter show; whole minutes and fractions do not.
        ("2024-02-05T08:00:30", None, "08:00:30, Mon, Feb 5"),
        ("2014-10-12T00:00:01", None, "00:00:01, Sun, Oct 12"),
        ("2024-02-05T08:00:00", None, "08:00, Mon, Feb 5"),
        ("2024-02-05T08:00:00.25", None, "08:00, Mon, Feb 5"),
        # The year shows only when it differs from the page's now.
        ("2024-02-05T08:00", "2024-12-31T12:00", "08:00, Mon, Feb 5"),
        ("2025-01-02T08:00", "2024-12-20T12:00", "08:00, Thu, Jan 2, 2025"),
        ("2014-10-12T00:00:01", "2024-01-25T12:00", "00:00:01, Sun, Oct 12, 2014"),
        # Across a daylight-saving change: wall time in the zone, either side.
        ("2024-03-10T01:59:59", None, "01:59, Sun, Mar 10"),
        ("2024-03-10T03:00", None, "03:00, Sun, Mar 10"),
        ("2024-11-03T01:30", None, "01:30, Sun, Nov 3"),
    ],
)
def test_one_format_for_people(written: str, relative_to: str | None, shown: str) -> None:
    t = parse_date(written, CHI)[0]
    rel = None if relative_to is None else parse_date(relative_to, CHI)[0]
    assert format_for_people(t, CHI, relative_to=rel) == shown


def test_the_format_is_the_zones_wall_time_across_dst() -> None:
    """The same instant reads differently on either side of the change: 07:00 UTC is 01:00
    CST on Nov 3, 2024 after clocks go back, and 02:00 CDT the day before."""
    assert format_for_people(utc(2024, 11, 3, 7, 0, 0), CHI) == "01:00, Sun, Nov 3"
    assert format_for_people(utc(2024, 11, 2, 7, 0, 0), CHI) == "02:00, Sat, Nov 2"
