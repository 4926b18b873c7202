"""Condition R: the roles core asks the decision core about the assessment."""

from __future__ import annotations

from datetime import UTC, datetime

from coursegate.core.course_instance import CourseInstancePolicy
from coursegate.core.engine import AssessmentConfig, Facts, decide
from coursegate.core.instants import to_instant, zone
from coursegate.core.legacy_rules import LegacyRule
from coursegate.core.model import Form, Role, UserFacts
from coursegate.roles import Area, AuthKind, CheckContext, RoleAssignment, RoleIndex, User, check
from coursegate.services.access.resource_rule import assessment_rule

TZ = zone("America/Chicago")
OPEN = to_instant(datetime(2024, 3, 1, 9, tzinfo=UTC))
CLOSE = to_instant(datetime(2024, 3, 1, 11, tzinfo=UTC))
EXAM = AssessmentConfig(
    id="exam",
    form=Form.LEGACY,
    legacy_rules=(LegacyRule(index=0, start=OPEN, end=CLOSE, credit=100),),
)


def decide_for(uid: str, at: int):  # type: ignore[no-untyped-def]
    facts = Facts(user=UserFacts(uid=uid, role=Role.STUDENT))
    d = decide(CourseInstancePolicy(), EXAM, facts, at, TZ).assessment
    assert d is not None
    return d


def test_proctor_browses_the_exam_only_while_its_rules_open_it() -> None:
    index = RoleIndex(
        users=[User("pat", "msu", AuthKind.INTERNAL)],
        assignments=[RoleAssignment("pat", "ep", Area.parse("/msu/c1"))],
    )
    ctx = CheckContext(resource=assessment_rule(decide_for, "exam"))
    inside = check(
        index,
        "pat",
        "bre",
        Area.parse("/msu/c1"),
        at=datetime(2024, 3, 1, 10, tzinfo=UTC),
        context=ctx,
    )
    assert inside.allowed
    outside = check(
        index,
        "pat",
        "bre",
        Area.parse("/msu/c1"),
        at=datetime(2024, 3, 1, 12, tzinfo=UTC),
        context=ctx,
    )
    assert not outside.allowed
    assert "no access" in " ".join(outside.explanation)
