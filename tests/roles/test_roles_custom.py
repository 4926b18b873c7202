"""Custom roles: defined with mcr, within the template rows cr:s, cr:d, cr:c."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from roles_support import HELPROOM_COURSE, local, seed_index

from coursegate.roles import (
    Area,
    CustomRole,
    RoleAssignment,
    RoleDataError,
    RoleIndex,
    RoleTable,
    User,
    assign,
    check_custom_role,
    define_custom_role,
)

FALL = local(2001, 9, 1)


def test_a_coordinator_defines_a_custom_role() -> None:
    index = seed_index()
    role = CustomRole("msu", "smith", "grader", course="bre&R:mgr&SCR:pch")
    result = define_custom_role(index, "smith", role, at=FALL)
    assert result.ok, result.reason
    assert result.refused is None
    assert "defined cr/msu/smith/grader" in result.reason
    assert index.custom_role("cr/msu/smith/grader") == role


def test_the_template_letters_always_apply() -> None:
    index = seed_index()
    written = CustomRole("msu", "smith", "lenient", course="vgr:mgr&C")
    result = define_custom_role(index, "smith", written, at=FALL)
    assert result.ok, result.reason
    assert result.role is not None
    assert result.role.course == "vgr&SCR:mgr&SCR"
    assert index.custom_role("cr/msu/smith/lenient") == result.role


@pytest.mark.parametrize(
    ("fields", "refused", "words"),
    [
        (
            {"course": "bre&R:mgr&SCRL"},
            "c:mgr",
            "condition L (unless locked) on Modify grades (mgr)",
        ),
        ({"course": "bre&R:ere"}, "c:ere", "is not in the custom-role template cr:c"),
        ({"course": "cst&IK"}, "c:cst", "Grant/revoke role of Student (cst) is not in"),
        ({"domain_privs": "sma:bre"}, "d:bre", "the template allows: sma"),
        ({"system": "bre"}, "s:bre", "the template allows: none at all"),
        ({"course": "pch&L"}, "c:pch", "which allows the letters none (the privilege is full)"),
    ],
)
def test_outside_the_template_is_refused_with_level_and_privilege(
    fields: dict[str, str], refused: str, words: str
) -> None:
    index = seed_index()
    result = define_custom_role(index, "smith", CustomRole("msu", "smith", "x", **fields), at=FALL)
    assert not result.ok
    assert result.refused == refused
    assert words in result.reason
    assert index.custom_role("cr/msu/smith/x") is None


def test_every_violation_is_listed_the_first_is_reported() -> None:
    role = CustomRole("msu", "smith", "x", system="gan", course="ere:vgr&SCRX")
    violations = check_custom_role(RoleTable.default(), role)
    assert [v.code for v in violations] == ["s:gan", "c:ere", "c:vgr"]
    result = define_custom_role(seed_index(), "smith", role, at=FALL)
    assert result.refused == "s:gan"
    assert "c:ere" in result.reason
    assert "c:vgr" in result.reason


def test_without_mcr_nobody_defines_custom_roles() -> None:
    index = seed_index()
    role = CustomRole("msu", "jones", "mine", course="bre&R")
    result = define_custom_role(index, "jones", role, at=FALL)
    assert not result.ok
    assert result.refused == "mcr"
    assert "needs Create a Course Custom Role (mcr)" in result.reason
    # smith holds mcr only while coordinator (July to December 2001).
    spring = define_custom_role(
        index, "smith", CustomRole("msu", "smith", "r"), at=local(2001, 3, 1)
    )
    assert not spring.ok
    assert spring.refused == "mcr"


def test_only_the_author_defines_and_in_their_domain() -> None:
    index = seed_index()
    other = define_custom_role(index, "smith", CustomRole("msu", "jones", "x"), at=FALL)
    assert not other.ok
    assert other.refused == "author"
    assert "defined by its author (jones) only" in other.reason
    domain = define_custom_role(index, "smith", CustomRole("umn", "smith", "x"), at=FALL)
    assert not domain.ok
    assert "it would be cr/msu/smith/x" in domain.reason


def test_redefinition_reaches_holders_on_their_next_check() -> None:
    index = seed_index()
    assert index.allowed("jones", "pch", HELPROOM_COURSE, at=FALL).value == ""
    redefined = CustomRole("msu", "smith", "helproom", course="bre&R:vgr&SCR:pch")
    result = define_custom_role(index, "smith", redefined, at=FALL)
    assert result.ok
    assert result.reason.startswith("redefined cr/msu/smith/helproom")
    assert index.allowed("jones", "pch", HELPROOM_COURSE, at=FALL).value == "F"


def test_granting_a_custom_role_needs_ccr() -> None:
    index = seed_index()
    index.add_user(User("kim", "msu"))
    grant = RoleAssignment("kim", "cr/msu/smith/helproom", HELPROOM_COURSE)
    refused = assign(index, "smith", grant, at=FALL)
    assert not refused.ok
    assert "Grant/revoke Course Custom Role (ccr)" in refused.reason
    index.add_assignment(RoleAssignment("smith", "cc", HELPROOM_COURSE))
    assert assign(index, "smith", grant, at=FALL).ok


def test_records_given_to_the_index_are_checked_against_the_template() -> None:
    with pytest.raises(RoleDataError) as caught:
        RoleIndex(
            users=[User("a", "msu")],
            custom_roles=[CustomRole("msu", "a", "bad", course="ere")],
        )
    (problem,) = caught.value.problems
    assert problem.path == "$.custom_roles[0].course"
    assert "Create, edit, modify and publish resources (ere)" in problem.message


def test_custom_role_text_is_validated() -> None:
    with pytest.raises(ValueError, match="course: 'vgr&Q' uses unknown condition"):
        CustomRole("msu", "smith", "x", course="vgr&Q")
    with pytest.raises(ValueError, match="not a valid custom role name"):
        CustomRole("msu", "smith", "a/b")
    assert CustomRole("msu", "smith", "x").role_name == "cr/msu/smith/x"


def test_a_deployment_template_allows_more() -> None:
    table = RoleTable.default().extended("cr:c bre&R:vgr&SCR:mgr&SCR:ere&S\n")
    index = RoleIndex(
        table,
        users=[User("a", "msu")],
        assignments=[RoleAssignment("a", "cc", Area.parse("/msu/c1"))],
    )
    role = CustomRole("msu", "a", "editor", course="ere")
    result = define_custom_role(index, "a", role, at=datetime(2024, 1, 1, tzinfo=UTC))
    assert result.ok, result.reason
    assert result.role is not None
    assert result.role.course == "ere&S"
