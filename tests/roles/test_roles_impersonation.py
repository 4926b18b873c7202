"""View as (ain): every direction, and what the viewer sees while viewing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from coursegate.roles import (
    Actor,
    Area,
    RoleAssignment,
    RoleIndex,
    RoleTable,
    User,
    allowed_as,
    revoke,
    view_as,
)

AT = datetime(2024, 9, 1, 12, tzinfo=UTC)
C1 = Area.parse("/msu/c1")
C2 = Area.parse("/msu/c2")
S1 = Area.parse("/msu/c1/s1")
S2 = Area.parse("/msu/c1/s2")
TA_UNTIL = AT + timedelta(days=1)


def course(table: RoleTable | None = None) -> RoleIndex:
    """c1: cora coordinates, ivan and ines instruct, tara and toby assist (toby only in s2,
    until tomorrow), stu, sue and sia study (stu in s1, sia in s2, sue course-wide), eve
    proctors, dan is also a domain coordinator and a student; c2: otto instructs, olga
    studies, pat assists, stu studies too."""
    held = [
        ("cora", "cc", C1),
        ("ivan", "in", C1),
        ("ines", "in", C1),
        ("tara", "ta", C1),
        ("stu", "st", S1),
        ("sue", "st", C1),
        ("sia", "st", S2),
        ("eve", "ep", C1),
        ("dan", "st", C1),
        ("dan", "dc", Area.parse("/msu/")),
        ("otto", "in", C2),
        ("olga", "st", C2),
        ("pat", "ta", C2),
        ("stu", "st", C2),
    ]
    uids = sorted({uid for uid, _r, _a in held} | {"toby"})
    assignments = [RoleAssignment(uid, role, area) for uid, role, area in held]
    assignments.append(RoleAssignment("toby", "ta", S2, None, TA_UNTIL))
    return RoleIndex(table, [User(uid, "msu") for uid in uids], assignments)


@pytest.mark.parametrize(
    ("real", "target"),
    [
        ("ivan", "tara"),
        ("ivan", "stu"),
        ("cora", "tara"),
        ("cora", "sue"),
        ("tara", "stu"),
        ("tara", "sue"),
        ("toby", "sia"),
    ],
)
def test_allowed_directions(real: str, target: str) -> None:
    result = view_as(course(), real, target, C1, at=AT)
    assert result.ok, result.reason
    assert result.actor == Actor(real, target, C1, since=AT)
    assert "actions are recorded with both users" in result.reason


@pytest.mark.parametrize(
    ("real", "target", "words"),
    [
        ("tara", "ivan", "never the reverse"),
        ("stu", "tara", "never the reverse"),
        ("sue", "ivan", "never the reverse"),
        ("ivan", "ines", "both are instructors in /msu/c1; peers never view as each other"),
        ("ivan", "cora", "both are instructors in /msu/c1; peers never view as each other"),
        ("tara", "cora", "never the reverse"),
        ("eve", "stu", "eve is neither instructor nor TA (ep at /msu/c1)"),
        ("sue", "stu", "both are students in /msu/c1; peers never view as each other"),
        ("ivan", "eve", "holds Exam Proctor (ep) in /msu/c1"),
        ("ivan", "dan", "holds Domain Coordinator (dc) at /msu/; administrators are never"),
        ("ivan", "olga", "olga holds no role in force in /msu/c1; view-as never crosses"),
        ("otto", "sue", "otto holds no role in force in /msu/c1; view-as never crosses"),
        ("pat", "stu", "pat holds no role in force in /msu/c1"),
        ("toby", "stu", "do not cover where stu's roles are held"),
        ("toby", "sue", "a section role covers its section only"),
        ("ivan", "ivan", "viewing as oneself changes nothing"),
        ("ivan", "nobody", "there is no user 'nobody'"),
    ],
)
def test_refused_directions(real: str, target: str, words: str) -> None:
    result = view_as(course(), real, target, C1, at=AT)
    assert not result.ok
    assert result.actor is None
    assert result.reason.startswith(f"{real} may not view as {target}: ")
    assert words in result.reason


def test_tas_are_peers() -> None:
    index = course()
    index.add_user(User("tess", "msu"))
    index.add_assignment(RoleAssignment("tess", "ta", C1))
    result = view_as(index, "tara", "tess", C1, at=AT)
    assert not result.ok
    assert "both are teaching assistants" in result.reason


def test_across_courses_even_when_both_are_in_the_other_course() -> None:
    # stu studies in c1 and c2; pat assists only in c2: pat may view stu in c2 only.
    index = course()
    assert view_as(index, "pat", "stu", C2, at=AT).ok
    assert not view_as(index, "pat", "stu", C1, at=AT).ok


def test_view_as_needs_a_course_instance() -> None:
    result = view_as(course(), "ivan", "stu", Area.parse("/msu/"), at=AT)
    assert not result.ok
    assert "within one course instance" in result.reason
    # A section names its course.
    assert view_as(course(), "ivan", "stu", S1, at=AT).ok


def test_the_viewer_sees_exactly_what_the_target_sees() -> None:
    index = course()
    actor = view_as(index, "cora", "stu", C1, at=AT).actor
    assert actor is not None
    # Staff privileges do not leak: vgr is F for cora herself, nothing for stu.
    assert index.allowed("cora", "vgr", S1, at=AT).value == "F"
    assert allowed_as(index, actor, "vgr", S1, at=AT).value == ""
    # cora browses everything without restrictions (cc:s bre); stu only under RXL.
    assert index.allowed("cora", "bre", S1, at=AT).value == "F"
    seen = allowed_as(index, actor, "bre", S1, at=AT)
    assert seen.value == index.allowed("stu", "bre", S1, at=AT).value == "RXL"
    assert "cora is viewing as stu in /msu/c1" in seen.explanation[0]
    # stu's other course does not show through the view of c1.
    assert index.allowed("stu", "pch", C2, at=AT).value == "L"
    assert allowed_as(index, actor, "pch", C2, at=AT).value == ""


def test_a_user_acting_as_themselves_gets_their_own_privileges() -> None:
    index = course()
    assert allowed_as(index, "cora", "vgr", C1, at=AT).value == "F"
    assert allowed_as(index, Actor.user("tara"), "vgr", C1, at=AT).value == "CR"


def test_viewing_ends_when_the_right_to_view_ends() -> None:
    index = course()
    actor = view_as(index, "toby", "sia", C1, at=AT).actor
    assert actor is not None
    assert allowed_as(index, actor, "pch", S2, at=AT).value == "L"
    ended = allowed_as(index, actor, "pch", S2, at=TA_UNTIL)
    assert ended.value == ""
    assert "viewing as has ended" in ended.explanation[0]
    actor = view_as(index, "tara", "sue", C1, at=AT).actor
    assert actor is not None
    assert revoke(index, "cora", "tara", "ta", C1, at=AT).ok
    assert allowed_as(index, actor, "pch", C1, at=AT).value == ""


def test_without_ain_in_the_table_nobody_views_as() -> None:
    table = RoleTable.default().extended("ta:c bre&RL:vgr&CR:mgr&CR:srm:pch:dch:pac\n")
    result = view_as(course(table), "tara", "stu", C1, at=AT)
    assert not result.ok
    assert "tara lacks Assume a student's identity (ain) at /msu/c1/s1" in result.reason
    assert view_as(course(table), "ivan", "stu", C1, at=AT).ok


def test_actor_values() -> None:
    with pytest.raises(ValueError, match="within one course instance"):
        Actor("a", "b")
    with pytest.raises(ValueError, match="within one course instance"):
        Actor("a", "b", S1)
    actor = Actor("a", "b", C1)
    assert actor.impersonating
    assert actor.describe() == "a (viewing as b in /msu/c1)"
    assert not Actor.user("a").impersonating
    assert Actor.of("a") == Actor.user("a")
