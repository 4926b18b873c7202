"""Course-instance access in the three forms, and self-enrollment."""

from __future__ import annotations

from coursegate.core.course_instance import (
    CourseInstancePolicy,
    Publishing,
    SelfEnrollment,
    may_self_enroll,
)
from coursegate.core.instants import parse_date, zone
from coursegate.core.model import EnrollmentFacts, UserFacts
from helpers import decide

LEGACY_CI = {
    "allowAccess": [
        {"role": "TA", "startDate": "2015-01-10T00:00:01", "endDate": "2015-06-01T23:59:59"},
        {"startDate": "2015-01-19T00:00:01", "endDate": "2015-05-13T23:59:59"},
    ]
}


def ci(at: str, config: dict, **kw: object) -> dict:
    return decide(None, at, instance_config=config, **kw)["course_instance"]  # type: ignore[arg-type]


def test_seed_course_instance_example() -> None:
    assert not ci("2015-01-15T12:00", LEGACY_CI)["access"]
    assert ci("2015-01-15T12:00", LEGACY_CI, user={"role": "TA"})["access"]
    assert ci("2015-03-01T12:00", LEGACY_CI)["access"]
    assert ci("2015-05-13T23:59:59", LEGACY_CI)["access"]
    assert not ci("2015-05-14T00:00:00", LEGACY_CI)["access"]
    assert ci("2015-05-20T00:00", LEGACY_CI, user={"role": "TA"})["access"]


def test_legacy_uids_and_institution() -> None:
    cfg = {"allowAccess": [{"uids": ["a@x.edu"]}, {"institution": "Other U"}]}
    assert ci("2020-01-01T00:00", cfg, user={"uid": "a@x.edu"})["access"]
    assert not ci("2020-01-01T00:00", cfg, user={"uid": "b@x.edu", "institution": "Home U"})[
        "access"
    ]
    assert ci("2020-01-01T00:00", cfg, user={"uid": "b@x.edu", "institution": "Other U"})["access"]
    anyone = {"allowAccess": [{"institution": "Any"}]}
    assert ci("2020-01-01T00:00", anyone, user={"institution": "Far U"})["access"]


def test_modern_publishing_with_extension() -> None:
    cfg = {"publishing": {"startDate": "2024-01-16T00:00:00", "endDate": "2024-05-17T23:59:59"}}
    assert not ci("2024-01-15T00:00", cfg)["access"]
    d = ci("2024-03-01T00:00", cfg)
    assert d["access"] and d["next_change"] == "2024-05-18T00:00:00-05:00"
    assert not ci("2024-05-18T00:00", cfg)["access"]
    ext = {"status": "joined", "publishing_extension_end": "2024-06-01T00:00:00"}
    assert ci("2024-05-20T00:00", cfg, enrollment=ext)["access"]
    assert not ci("2024-06-01T00:00:01", cfg, enrollment=ext)["access"]
    assert ci("2024-05-20T00:00", cfg, user={"role": "Instructor"})["access"]


def test_unpublished_and_blocked() -> None:
    assert not ci("2024-03-01T00:00", {"publishing": {}})["access"]
    cfg = {"publishing": {"startDate": "2024-01-16T00:00:00", "endDate": "2024-05-17T23:59:59"}}
    assert not ci("2024-03-01T00:00", cfg, enrollment={"status": "blocked"})["access"]


def test_rfc_instance_with_section_override() -> None:
    cfg = {
        "accessControl": {
            "published": True,
            "startDate": "2024-02-01T00:00",
            "endDate": "2024-05-30T23:59",
        },
        "accessControlOverrides": [
            {
                "sections": ["studentsWithExtendedAccess"],
                "accessControl": {"published": True, "endDate": "2024-06-15T23:59"},
            }
        ],
    }
    assert not ci("2024-06-10T00:00", cfg)["access"]
    assert ci("2024-06-10T00:00", cfg, user={"sections": ["studentsWithExtendedAccess"]})["access"]
    assert not ci("2024-03-01T00:00", {"accessControl": {}})["access"]


def test_no_configuration_is_open() -> None:
    assert decide(None, "2024-01-01T00:00")["course_instance"]["access"]


def test_no_course_instance_access_blocks_the_assessment() -> None:
    cfg = {"publishing": {"startDate": "2024-01-16T00:00:00", "endDate": "2024-05-17T23:59:59"}}
    hw = {"accessControl": [{"dateControl": {"release": {"date": "2024-01-01T00:00:00"}}}]}
    d = decide(hw, "2024-01-10T00:00", instance_config=cfg)["assessment"]
    assert not d["access"] and d["next_change"] == "2024-01-16T00:00:00-06:00"


CHI = zone("America/Chicago")


def t(s: str) -> int:
    return parse_date(s, CHI)[0]


def test_self_enrollment_rules() -> None:
    p = CourseInstancePolicy(
        form="modern",
        publishing=Publishing(t("2024-01-16T00:00"), t("2024-05-17T23:59:59")),
        institution="Home U",
        self_enrollment=SelfEnrollment(before=t("2024-02-01T00:00")),
    )
    home, away = UserFacts(institution="Home U"), UserFacts(institution="Away U")
    assert may_self_enroll(p, home, None, t("2024-01-20T00:00")).allowed
    assert not may_self_enroll(p, home, None, t("2024-02-01T00:00")).allowed
    assert not may_self_enroll(p, away, None, t("2024-01-20T00:00")).allowed
    assert may_self_enroll(p, away, EnrollmentFacts("invited"), t("2024-03-01T00:00")).allowed
    assert not may_self_enroll(p, home, EnrollmentFacts("blocked"), t("2024-01-20T00:00")).allowed
    coded = CourseInstancePolicy(self_enrollment=SelfEnrollment(use_code=True))
    assert not may_self_enroll(coded, home, None, 0, code="x", expected_code="y").allowed
    assert may_self_enroll(coded, home, None, 0, code="y", expected_code="y").allowed
    off = CourseInstancePolicy(self_enrollment=SelfEnrollment(enabled=False))
    assert "turned off" in may_self_enroll(off, home, None, 0).reason


def test_not_enrolled_students_get_in_only_while_they_could_enroll() -> None:
    cfg = {
        "publishing": {"startDate": "2024-01-16T00:00:00", "endDate": "2024-05-17T23:59:59"},
        "selfEnrollment": {"beforeDate": "2024-02-01T00:00:00"},
    }
    none = {"status": "none"}
    d = ci("2024-01-20T00:00", cfg, enrollment=none)
    assert d["access"] and d["next_change"] == "2024-02-01T00:00:00-06:00"
    late = ci("2024-02-02T00:00", cfg, enrollment=none)
    assert not late["access"] and "closed" in late["explanation"][0]
    assert ci("2024-02-02T00:00", cfg, enrollment={"status": "invited"})["access"]
    assert ci("2024-02-02T00:00", cfg)["access"]  # no enrollment facts: taken as enrolled


def test_publishing_extension_end_is_inclusive_like_end_dates() -> None:
    cfg = {"publishing": {"startDate": "2024-01-16T00:00:00", "endDate": "2024-05-17T23:59:59"}}
    ext = {"status": "joined", "publishing_extension_end": "2024-05-31T23:59:59"}
    assert ci("2024-05-31T23:59:59", cfg, enrollment=ext)["access"]
    assert not ci("2024-06-01T00:00:00", cfg, enrollment=ext)["access"]
