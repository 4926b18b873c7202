"""Issue 15, class 6: self-enrollment eligibility on a course instance with legacy
``allowAccess``.

PrairieLearn restricts self-enrollment to the course's institution only for course instances
with modern publishing; under legacy ``allowAccess`` the rules themselves say which
institutions get in, and self-enrollment is not restricted further.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from coursegate.core.course_instance import (
    CourseInstancePolicy,
    LegacyInstanceRule,
    Publishing,
    SelfEnrollment,
    may_self_enroll,
)
from coursegate.core.model import EnrollmentFacts, UserFacts
from helpers import decide

HOME, AWAY = UserFacts(institution="Home U"), UserFacts(institution="Away U")


def legacy() -> CourseInstancePolicy:
    return CourseInstancePolicy(
        form="legacy",
        legacy_rules=(LegacyInstanceRule(0, institution="Any"),),
        institution="Home U",
    )


def modern() -> CourseInstancePolicy:
    return CourseInstancePolicy(
        form="modern", publishing=Publishing(0, 10**15), institution="Home U"
    )


def test_legacy_course_instance_does_not_restrict_self_enrollment_to_the_institution() -> None:
    verdict = may_self_enroll(legacy(), AWAY, None, 1)
    assert verdict.allowed, verdict.reason


def test_modern_publishing_still_restricts_it() -> None:
    verdict = may_self_enroll(modern(), AWAY, None, 1)
    assert not verdict.allowed and "limited to Home U" in verdict.reason


def test_other_self_enrollment_settings_still_apply_under_legacy_rules() -> None:
    p = legacy()
    blocked = may_self_enroll(p, AWAY, EnrollmentFacts("blocked"), 1)
    assert not blocked.allowed
    off = replace(p, self_enrollment=SelfEnrollment(enabled=False))
    assert not may_self_enroll(off, AWAY, None, 1).allowed


def test_a_not_enrolled_student_from_elsewhere_reaches_a_legacy_course_instance() -> None:
    cfg = {"allowAccess": [{"institution": "Any"}]}
    out = decide(
        None,
        "2024-03-01T00:00",
        instance_config=cfg,
        user={"institution": "Far U"},
        enrollment={"status": "none"},
    )["course_instance"]
    assert out["access"], out["explanation"]


@given(institution=st.sampled_from(["Home U", "Away U", "Far U"]), restrict=st.booleans())
def test_property_legacy_eligibility_never_depends_on_the_institution(
    institution: str, restrict: bool
) -> None:
    p = replace(legacy(), self_enrollment=SelfEnrollment(restrict_to_institution=restrict))
    assert may_self_enroll(p, UserFacts(institution=institution), None, 1).allowed
