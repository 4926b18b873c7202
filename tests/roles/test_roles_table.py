"""The privilege table: the shipped rows, every row of the seed, parsing and extension."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from roles_support import ADDITIONS, SEED_ROLES_TAB, seed_entries

from coursegate.roles import (
    Area,
    AreaKind,
    CustomRole,
    Level,
    Privilege,
    RoleAssignment,
    RoleIndex,
    RoleTable,
    StandardRole,
    TableError,
    User,
)

AT = datetime(2001, 9, 1, 12, tzinfo=UTC)
COURSE = Area.parse("/msu/c1")
OTHER_COURSE = Area.parse("/msu/c2")
DOMAIN = Area.parse("/msu/")
OTHER_DOMAIN = Area.parse("/umn/")
SYSTEM = Area.parse("/")
AT_LEVEL = {Level.SYSTEM: SYSTEM, Level.DOMAIN: DOMAIN, Level.COURSE: COURSE}


def test_shipped_table_is_the_seed_plus_documented_additions() -> None:
    shipped = RoleTable.default()
    seed = RoleTable.parse(SEED_ROLES_TAB, shipped.to_rolesplain_tab())
    assert shipped.roles == seed.roles
    for role, level, privileges in shipped.rows():
        expected = dict(seed.row(role, level))
        expected.update(ADDITIONS.get((role, level), {}))
        assert dict(privileges) == expected, f"{role}:{level.value}"
    assert len(list(shipped.rows())) == len(list(seed.rows())) == 25


def test_every_code_of_the_seed_has_its_plain_name() -> None:
    table = RoleTable.default()
    assert table.name("vgr") == "View grades"
    assert table.name("cm") == "No Role, Cumulative Privileges"
    assert table.name("cr") == "Course Custom Role"
    assert table.name("R") == "according to resource settings"
    assert table.name("dro") == "Delete a role assignment and its history"
    assert table.describe(Privilege.VIEW_GRADES) == "View grades (vgr)"
    for privilege in Privilege:
        assert table.name(privilege) != privilege.value, privilege
    for role in StandardRole:
        assert table.has_role(role), role


def _holder_index(role: str) -> tuple[RoleIndex, str]:
    """A user holding ``role`` (for ``cr``: a custom role equal to the template) where it is
    held: courses at /msu/c1, domain roles at /msu/, system roles at /."""
    table = RoleTable.default()
    customs: list[CustomRole] = []
    held_role = role
    if role == "cr":
        from coursegate.roles.table import format_privilege_list

        template = CustomRole(
            "msu",
            "author",
            "template",
            system=format_privilege_list(table.row("cr", Level.SYSTEM)),
            domain_privs=format_privilege_list(table.row("cr", Level.DOMAIN)),
            course=format_privilege_list(table.row("cr", Level.COURSE)),
        )
        customs.append(template)
        held_role = template.role_name
    kinds = table.holding_kinds(held_role)
    if AreaKind.COURSE in kinds:
        area = COURSE
    elif AreaKind.DOMAIN in kinds:
        area = DOMAIN
    else:
        area = SYSTEM
    index = RoleIndex(
        table,
        [User("holder", "msu"), User("author", "msu")],
        [RoleAssignment("holder", held_role, area)],
        customs,
    )
    return index, held_role


SEED_ENTRIES = seed_entries()


def test_no_role_of_the_seed_repeats_a_privilege_across_levels() -> None:
    # The per-row test below relies on this: each privilege's value comes from one row only.
    seen: dict[tuple[str, str], Level] = {}
    for role, level, code, _letters in SEED_ENTRIES:
        assert (role, code) not in seen, (role, code)
        seen[(role, code)] = level


@pytest.mark.parametrize(
    ("role", "level", "privilege", "conditions"),
    SEED_ENTRIES,
    ids=[f"{r}:{lv.value}:{p}" for r, lv, p, _c in SEED_ENTRIES],
)
def test_every_row_of_the_seed(role: str, level: Level, privilege: str, conditions: str) -> None:
    """The holder of ``role`` gets exactly ``privilege&conditions`` where the row's level
    reaches, and not one level above it."""
    index, held_role = _holder_index(role)
    expected = conditions or "F"
    permission = index.allowed("holder", privilege, AT_LEVEL[level], at=AT)
    assert permission.value == expected
    assert [s.level for s in permission.sources] == [level]
    assert permission.sources[0].role == held_role
    # Lower areas see it too (a course privilege in a section, a domain one in its courses).
    below = {
        Level.SYSTEM: OTHER_COURSE,
        Level.DOMAIN: COURSE,
        Level.COURSE: Area.parse("/msu/c1/s9"),
    }
    assert index.allowed("holder", privilege, below[level], at=AT).value == expected
    # ...but it does not reach above its level or sideways.
    if level is Level.COURSE:
        assert index.allowed("holder", privilege, DOMAIN, at=AT).value == ""
        assert index.allowed("holder", privilege, OTHER_COURSE, at=AT).value == ""
    if level is Level.DOMAIN:
        assert index.allowed("holder", privilege, SYSTEM, at=AT).value == ""
        assert index.allowed("holder", privilege, OTHER_DOMAIN, at=AT).value == ""


def test_holding_kinds_follow_the_rows() -> None:
    table = RoleTable.default()
    course_or_section = frozenset({AreaKind.COURSE, AreaKind.SECTION})
    assert table.holding_kinds("st") == course_or_section
    assert table.holding_kinds("ta") == course_or_section
    assert table.holding_kinds("cc") == frozenset({AreaKind.COURSE})
    assert table.holding_kinds("dc") == frozenset({AreaKind.DOMAIN})
    assert table.holding_kinds("au") == frozenset({AreaKind.DOMAIN})
    assert table.holding_kinds("su") == frozenset({AreaKind.SYSTEM})
    assert table.holding_kinds("cr/msu/smith/x") == course_or_section


def test_grant_privileges_name_their_role() -> None:
    table = RoleTable.default()
    assert table.grant_privilege("st") == "cst"
    assert table.grant_privilege("cr/msu/smith/helproom") == "ccr"
    assert table.granted_role("cta") == "ta"
    assert table.granted_role("vgr") is None


def test_round_trip_through_text() -> None:
    table = RoleTable.default()
    again = RoleTable.parse(table.to_roles_tab(), table.to_rolesplain_tab())
    assert list(again.rows()) == list(table.rows())
    assert dict(again.names) == dict(table.names)


@pytest.mark.parametrize(
    ("roles_tab", "message"),
    [
        ("ta:c bre&RQ", "unknown condition letter(s) Q"),
        ("ta:x bre", "'x' is not a level"),
        ("ta bre", "should be role:level"),
        ("ta:c bre\nta:c vgr", "ta:c appears twice"),
        ("ta:c bre:bre", "listed twice"),
        ("ta:c bre&", "no condition letters"),
        ("ta:c B!", "is not a privilege"),
        ("cm:c bre", "reserved for cumulative privileges"),
        ("TA:c bre", "is not a role code"),
    ],
)
def test_table_errors_say_where_and_why(roles_tab: str, message: str) -> None:
    plain = RoleTable.default().to_rolesplain_tab()
    with pytest.raises(TableError) as caught:
        RoleTable.parse("# deployment\n" + roles_tab, plain, roles_source="site.tab")
    assert message in str(caught.value)
    assert str(caught.value).startswith("site.tab")


def test_error_names_the_line() -> None:
    with pytest.raises(TableError) as caught:
        RoleTable.parse("st:c pch\n\nst:d sma&Z\n", "st:Student\npch:Post\nsma:Mail\n")
    assert caught.value.line == 3


def test_every_code_needs_a_plain_name() -> None:
    with pytest.raises(TableError, match=r"no plain-English name in rolesplain\.tab for: xyz"):
        RoleTable.default().extended("ta:c xyz")


def test_a_deployment_extends_the_table() -> None:
    table = RoleTable.default().extended(
        "ta:c bre&RL:vgr&CR:xgr&C\ngr:c bre:vgr\n",
        "xgr:Export grades\ngr:Grader\n",
    )
    assert dict(table.row("ta", Level.COURSE)) == {"bre": "RL", "vgr": "CR", "xgr": "C"}
    assert table.has_role("gr")
    assert "xgr" in table.privileges
    index = RoleIndex(table, [User("g", "msu")], [RoleAssignment("g", "gr", COURSE)])
    assert index.allowed("g", "vgr", COURSE, at=AT).value == "F"
    assert index.allowed("g", "mgr", COURSE, at=AT).value == ""


def test_a_deployment_replaces_the_table() -> None:
    table = RoleTable.parse("st:c bre\n", "st:Student\nbre:Browse\n")
    assert table.roles == ("st",)
    assert table.privileges == frozenset({"bre"})


def test_describe_conditions() -> None:
    table = RoleTable.default()
    assert table.describe_conditions("") == "no restrictions"
    assert table.describe_conditions("IK") == (
        "only for users who are Internally authenticated or Kerberos authenticated"
    )
    assert table.describe_conditions("RL") == "according to resource settings; unless locked"
