"""Students' exceptions in each access form."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import example, given
from hypothesis import strategies as st

from coursegate.core.course_instance import CourseInstancePolicy
from coursegate.core.engine import Facts, decide_directly, policy_for
from coursegate.core.exceptions import StudentException, exception_override, later_by_days
from coursegate.core.instants import MINUTE, from_instant, parse_date, zone
from coursegate.core.model import UserFacts
from coursegate.courses.assessments import assessment_config
from coursegate.courses.instance_settings import InstanceSettings
from coursegate.courses.reader import Reader

TZ = zone("America/Chicago")
CI = CourseInstancePolicy()


def t(s: str) -> int:
    return parse_date(s, TZ)[0]


def config(data: dict):  # type: ignore[no-untyped-def]
    r = Reader("x", TZ)
    src = assessment_config(r, data, "a", InstanceSettings(CI, None, {}))
    assert src is not None and r.ok, r.problems
    return src.config


HW = config(
    {
        "accessControl": [
            {
                "dateControl": {
                    "release": {"date": "2024-03-14T00:00"},
                    "earlyDeadlines": [{"date": "2024-03-17T23:59", "credit": 120}],
                    "due": {"date": "2024-03-21T23:59"},
                    "lateDeadlines": [
                        {"date": "2024-03-23T23:59", "credit": 80},
                        {"date": "2024-03-30T23:59", "credit": 50},
                    ],
                    "durationMinutes": 60,
                }
            }
        ]
    }
)
LEGACY = config(
    {
        "allowAccess": [
            {
                "credit": 100,
                "startDate": "2024-03-14T00:00:00",
                "endDate": "2024-03-21T23:59:59",
                "timeLimitMin": 60,
            },
            {"credit": 80, "startDate": "2024-03-14T00:00:00", "endDate": "2024-03-25T23:59:59"},
        ]
    }
)


def credit(cfg, exc: StudentException | None, at: str) -> tuple[float, int | None]:  # type: ignore[no-untyped-def]
    own = exception_override(cfg, frozenset(), exc) if exc else ()
    d = decide_directly(CI, cfg, Facts(user=UserFacts(uid="s"), personal=own), t(at), TZ)
    return d.credit, d.time_limit_minutes


def test_modern_extension_moves_due_and_keeps_later_late_days() -> None:
    exc = StudentException(due=t("2024-03-26T23:59"))
    assert credit(HW, None, "2024-03-25T12:00")[0] == 50
    assert credit(HW, exc, "2024-03-25T12:00")[0] == 100
    assert credit(HW, exc, "2024-03-28T12:00")[0] == 50  # the Mar 30 late day survives
    assert credit(HW, exc, "2024-03-16T12:00")[0] == 120  # early bonus untouched


def test_modern_time_limit_percent_and_minutes() -> None:
    assert credit(HW, StudentException(time_limit_percent=150), "2024-03-15T12:00")[1] == 90
    assert credit(HW, StudentException(time_limit_minutes=75), "2024-03-15T12:00")[1] == 75


def test_modern_credit_only_keeps_the_due_date() -> None:
    exc = StudentException(credit=110)
    assert credit(HW, exc, "2024-03-20T12:00")[0] == 110
    assert credit(HW, exc, "2024-03-22T12:00")[0] == 80


def test_legacy_extension_and_time() -> None:
    exc = StudentException(due=t("2024-03-28T00:00"))
    assert credit(LEGACY, None, "2024-03-26T12:00")[0] == 0
    assert credit(LEGACY, exc, "2024-03-26T12:00")[0] == 100
    assert credit(LEGACY, exc, "2024-03-28T00:00")[0] == 0
    assert credit(LEGACY, None, "2024-03-10T12:00")[0] == 0
    assert credit(LEGACY, exc, "2024-03-10T12:00")[0] == 0  # not before the first start
    longer = StudentException(time_limit_percent=150)
    assert credit(LEGACY, longer, "2024-03-15T12:00") == (100, 90)
    assert credit(LEGACY, longer, "2024-03-23T12:00")[0] == 80


def test_an_empty_exception_changes_nothing() -> None:
    assert StudentException().empty
    for at in ("2024-03-15T12:00", "2024-03-22T12:00", "2024-04-02T12:00"):
        assert credit(HW, StudentException(), at) == credit(HW, None, at)


def test_policy_for_uses_the_overrides() -> None:
    own = exception_override(HW, frozenset(), StudentException(due=t("2024-03-26T23:59")))
    assert policy_for(HW, UserFacts(), own).grants != policy_for(HW, UserFacts()).grants


def test_rfc_exception_keeps_the_section_accommodation() -> None:
    """On an RFC-form assessment a student's exception adds to their section's override."""
    from coursegate.core.access_control import (
        AccessControlConfig,
        DateControlPatch,
        resolve_settings,
    )
    from coursegate.core.access_control import AccessPatch as Patch
    from coursegate.core.model import Form

    defaults = Patch(
        source="defaults",
        published=True,
        date_control=DateControlPatch(release=0, duration_minutes=60),
    )
    drc = Patch(
        source="drc", labels=frozenset({"drc"}), date_control=DateControlPatch(duration_minutes=90)
    )
    config = AccessControlConfig(Form.RFC, defaults, (drc,))
    extension = Patch(source="your exception", date_control=DateControlPatch(due=None))
    got = resolve_settings(config, frozenset({"drc"}), (extension,))
    assert got.date_control is not None and got.date_control.duration_minutes == 90


# -- "+N days": an extension counted on the course's wall clock ---------------------------------


HOUR = 60 * MINUTE
DAY = 24 * HOUR


GAP = (t("2024-03-09T02:30") - t("2023-01-01T00:00")) // MINUTE
"""02:30 on the Saturday before the spring change: +1 day falls in the gap."""
FOLD = (t("2024-11-03T01:30") + HOUR - t("2023-01-01T00:00")) // MINUTE
"""The second 01:30 of the autumn change."""


@given(
    minutes=st.integers(min_value=0, max_value=3 * 366 * 24 * 60),
    days=st.integers(min_value=0, max_value=60),
)
@example(minutes=GAP, days=1)
@example(minutes=FOLD, days=0)
@example(minutes=FOLD, days=7)
def test_later_by_days_keeps_the_wall_time_and_moves_at_most_an_hour_off(
    minutes: int, days: int
) -> None:
    start = t("2023-01-01T00:00") + minutes * MINUTE
    later = later_by_days(start, days, TZ)
    wall, new_wall = from_instant(start, TZ), from_instant(later, TZ)
    assert abs(later - start - days * DAY) <= HOUR  # one daylight-saving change's worth at most
    target = wall.replace(tzinfo=None) + timedelta(days=days)
    if new_wall.replace(tzinfo=None) != target:
        # That wall time does not exist on the day (the spring gap): read at the offset before
        # the jump, it shows an hour later.
        assert new_wall.replace(tzinfo=None) - target == timedelta(hours=1)
    # The same instant back, except from the second occurrence of a repeated wall time (read
    # as its first).
    assert (later_by_days(start, 0, TZ) == start) == (wall.fold == 0)
