"""Who may act on a person's own account (``over_account``) and see their record
(``may_see_person``): the pure rule, its levels, and a property over random course roles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from coursegate.roles import (
    Area,
    RoleAssignment,
    RoleIndex,
    User,
    account_level,
    may_see_person,
    over_account,
)

AT = datetime(2024, 9, 1, 12, tzinfo=UTC)
MSU = Area.of_domain("msu")
UMN = Area.of_domain("umn")
C1 = Area.parse("/msu/c1")
C2 = Area.parse("/msu/c2")


def index(held: list[tuple[str, str, Area]], extra: tuple[RoleAssignment, ...] = ()) -> RoleIndex:
    uids = {u for u, _, _ in held} | {a.uid for a in extra} | {"nobody"}
    users = [User(u, "umn" if u.startswith("umn_") else "msu") for u in sorted(uids)]
    roles = [RoleAssignment(u, r, a) for u, r, a in held] + list(extra)
    return RoleIndex(users=users, assignments=roles)


WORLD = [
    ("root", "su", Area.system()),
    ("dora", "dc", MSU),
    ("dave", "dc", MSU),
    ("umn_dc", "dc", UMN),
    ("ivy", "in", C1),
    ("cora", "cc", C1),
    ("tara", "ta", C1),
    ("stu", "st", C1),
    ("stu", "st", C2),
    ("otto", "in", C2),
    ("tim", "ta", C2),
    ("tim", "st", C1),
]


def over(actor: str, target: str) -> bool:
    return over_account(index(WORLD), actor, target, "msu", at=AT, what="reset").ok


def test_oneself() -> None:
    assert over("stu", "stu")
    assert over_account(index(WORLD), "stu", "stu", "msu", at=AT, what="x").basis == "oneself"


def test_course_staff_never_act_on_a_persons_account() -> None:
    for staff in ("ivy", "cora", "tara", "otto"):
        assert not over(staff, "stu"), staff
        answer = over_account(index(WORLD), staff, "stu", "msu", at=AT, what="reset")
        assert "never by course staff" in answer.reason


def test_a_domain_coordinator_acts_below_and_never_on_peers_or_above() -> None:
    assert over("dora", "stu")
    assert over("dora", "ivy")
    assert not over("dora", "dave")  # a peer
    assert not over("dora", "root")  # above
    # A coordinator of another domain has no say in msu.
    assert not over_account(index(WORLD), "umn_dc", "stu", "msu", at=AT, what="reset").ok


def test_the_superuser_acts_on_coordinators_but_not_on_another_superuser() -> None:
    assert over("root", "dora")
    world = index([*WORLD, ("root2", "su", Area.system())])
    assert not over_account(world, "root", "root2", "msu", at=AT, what="reset").ok


def test_a_role_still_to_come_already_places_its_holder() -> None:
    soon = RoleAssignment("stu", "dc", MSU, start=AT + timedelta(days=7))
    world = index(WORLD, (soon,))
    assert account_level(world, "stu", AT)[0] == 5
    assert not over_account(world, "dora", "stu", "msu", at=AT, what="reset").ok
    ended = RoleAssignment("tim", "dc", MSU, start=AT - timedelta(days=9), end=AT)
    assert over_account(index(WORLD, (ended,)), "dora", "tim", "msu", at=AT, what="x").ok


def test_seeing_a_record_course_staff_over_their_students_only() -> None:
    world = index(WORLD)
    assert may_see_person(world, "ivy", "stu", "msu", at=AT).ok
    assert may_see_person(world, "ivy", "tara", "msu", at=AT).ok  # an instructor over a TA
    assert not may_see_person(world, "tara", "ivy", "msu", at=AT).ok
    assert not may_see_person(world, "otto", "tara", "msu", at=AT).ok  # another course
    assert not may_see_person(world, "stu", "tim", "msu", at=AT).ok
    # tim is a TA in c2 and a student in c1: ivy sees him through c1, tara (a TA) too.
    assert may_see_person(world, "tara", "tim", "msu", at=AT).ok


S1 = Area.parse("/msu/c1/s1")
COURSE_ROLE = st.one_of(
    st.tuples(st.sampled_from(["cc", "in"]), st.sampled_from([C1, C2])),
    st.tuples(st.sampled_from(["ta", "ep", "st"]), st.sampled_from([C1, C2, S1])),
)


@settings(max_examples=200, deadline=None)
@given(
    actor_roles=st.lists(COURSE_ROLE, min_size=1, max_size=4),
    target_roles=st.lists(COURSE_ROLE, max_size=4),
)
def test_no_course_role_ever_gives_power_over_someone_elses_account(
    actor_roles: list[tuple[str, Area]], target_roles: list[tuple[str, Area]]
) -> None:
    held = [("a", r, area) for r, area in actor_roles] + [
        ("t", r, area) for r, area in target_roles
    ]
    answer = over_account(index(held), "a", "t", "msu", at=AT, what="reset")
    assert not answer.ok
