"""A course instance for a new term from a template (coursegate.courses.rollover): the dates
move by whole weeks, the term's own dates are the LMS course's, per-student rules stay behind,
every uuid is new."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from coursegate.courses.rollover import (
    Term,
    Uuids,
    day_of,
    first_day,
    new_assessment,
    new_instance,
    shift_text,
    suggested_name,
    week_shift,
)

U1 = "11e89892-3eff-4d7f-90a2-221372f14e5c"
U2 = "22e89892-3eff-4d7f-90a2-221372f14e5c"


def counter() -> Uuids:
    n = itertools.count(1)
    return Uuids(lambda: f"00000000-0000-4000-8000-{next(n):012d}")


days_ = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@given(days_, days_)
def test_the_shift_is_whole_weeks_and_the_nearest(template: date, new: date) -> None:
    shift = week_shift(template, new)
    assert shift % 7 == 0
    assert abs(shift - (new - template).days) <= 3


@given(days_, st.integers(-200, 200), st.sampled_from(["T17:00:00", "T23:59:59", "", " 08:00"]))
def test_a_date_keeps_its_weekday_and_time_and_moves_back_exactly(
    day: date, weeks: int, rest: str
) -> None:
    text = day.isoformat() + rest
    moved = shift_text(text, 7 * weeks)
    moved_day = day_of(moved)
    assert moved_day is not None
    assert moved_day.weekday() == day.weekday()
    assert moved_day - day == timedelta(weeks=weeks)
    assert moved.endswith(rest)
    assert shift_text(moved, -7 * weeks) == text


def test_wall_times_stay_across_daylight_saving_time() -> None:
    """Chicago leaves DST on 2024-11-03: a Friday 17:00 deadline in October stays 17:00 (course
    files hold wall times), and a time that does not exist stays as written for the course's
    own rules on missing local times."""
    assert shift_text("2024-10-25T17:00:00", 14) == "2024-11-08T17:00:00"
    assert shift_text("2024-03-03T02:30:00", 7) == "2024-03-10T02:30:00"


def test_text_that_is_no_date_is_left_alone() -> None:
    for text in ("Quiz 3", "2024-13-01T00:00:00", "2024-02-30", "in 2024-01-01", ""):
        assert shift_text(text, 7) == text
    assert shift_text("9999-12-30T00:00:00", 14) == "9999-12-30T00:00:00"


def test_offsets_and_zones_are_kept() -> None:
    assert shift_text("2024-01-05T17:00:00-06:00", 7) == "2024-01-12T17:00:00-06:00"
    assert shift_text("2024-01-05T17:00:00Z", -7) == "2023-12-29T17:00:00Z"


TERM = Term("Fall 2024", date(2024, 8, 26), date(2024, 12, 13))


def test_a_modern_course_instance_takes_the_terms_dates() -> None:
    template: dict[str, Any] = {
        "uuid": U1,
        "longName": "Spring 2024",
        "publishing": {"startDate": "2024-01-16T00:00:00", "endDate": "2024-05-17T23:59:59"},
        "selfEnrollment": {"enabled": True, "beforeDate": "2024-02-01T00:00:00"},
    }
    assert first_day(template) == date(2024, 1, 16)
    out = new_instance(template, TERM, 224, counter())
    assert out["longName"] == "Fall 2024" and out["uuid"] != U1
    assert out["publishing"] == {
        "startDate": "2024-08-26T00:00:00",
        "endDate": "2024-12-13T23:59:59",
    }
    assert out["selfEnrollment"]["beforeDate"] == "2024-09-12T00:00:00"  # a Thursday still
    assert template["longName"] == "Spring 2024"  # the template is not changed


def test_a_legacy_course_instance_keeps_its_ta_rule_shifted_and_drops_students_rules() -> None:
    template = {
        "uuid": U1,
        "allowAccess": [
            {"role": "TA", "startDate": "2014-08-20T00:00:01", "endDate": "2014-12-22T23:59:59"},
            {"startDate": "2014-08-25T00:00:01", "endDate": "2014-12-15T23:59:59"},
            {"uids": ["ann@x.edu"], "endDate": "2014-12-30T23:59:59"},
        ],
    }
    assert first_day(template) == date(2014, 8, 25)
    days = week_shift(first_day(template), TERM.first)
    out = new_instance(template, TERM, days, counter())
    assert out["allowAccess"] == [
        {"role": "TA", "startDate": "2024-08-21T00:00:01", "endDate": "2024-12-23T23:59:59"},
        {"startDate": "2024-08-26T00:00:01", "endDate": "2024-12-13T23:59:59"},
    ]


def test_an_assessment_moves_and_the_same_uuid_stays_the_same_new_uuid() -> None:
    template = {
        "uuid": U1,
        "allowAccess": [
            {"uids": ["ann@x.edu"], "credit": 100, "endDate": "2024-02-20T23:59:59"},
            {"credit": 100, "endDate": "2024-02-16T23:59:59"},
        ],
        "accessControl": [{"uuid": U2, "dateControl": {"due": {"date": "2024-02-09T17:00:00"}}}],
        "zones": [{"questions": [{"id": "q", "uuid": U2}]}],
    }
    out = new_assessment(template, 7, counter())
    assert out["allowAccess"] == [{"credit": 100, "endDate": "2024-02-23T23:59:59"}]
    assert out["accessControl"][0]["dateControl"]["due"]["date"] == "2024-02-16T17:00:00"
    assert out["uuid"] != U1 and out["accessControl"][0]["uuid"] != U2
    assert out["accessControl"][0]["uuid"] == out["zones"][0]["questions"][0]["uuid"]


def test_without_dates_the_template_does_not_move() -> None:
    assert first_day({"uuid": U1}) is None
    assert week_shift(None, date(2024, 8, 26)) == 0


def test_suggested_names_follow_the_season() -> None:
    assert [suggested_name(date(2027, m, 1)) for m in (1, 4, 5, 7, 8, 12)] == [
        "Sp27", "Sp27", "Su27", "Su27", "Fa27", "Fa27",
    ]  # fmt: skip
