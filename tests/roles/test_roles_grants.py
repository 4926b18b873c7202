"""assign / revoke / delete: who may change whose roles, and why not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from coursegate.roles import (
    Actor,
    Area,
    AuthKind,
    RoleAssignment,
    RoleIndex,
    User,
    assign,
    delete,
    revoke,
    view_as,
)

AT = datetime(2024, 9, 1, 12, tzinfo=UTC)
C1 = Area.parse("/msu/c1")
C2 = Area.parse("/msu/c2")
S1 = Area.parse("/msu/c1/s1")
MSU = Area.parse("/msu/")
UMN_COURSE = Area.parse("/umn/m1")
LATER = AT + timedelta(days=120)


def world() -> RoleIndex:
    """cora coordinates c1 (and owns it), dora coordinates the msu domain, ivan instructs c1,
    tara assists in c1, stu studies in c1; the rest hold nothing."""
    users = [
        User("cora", "msu", AuthKind.INTERNAL),
        User("dora", "msu", AuthKind.UNIX),
        User("ivan", "msu", AuthKind.INTERNAL),
        User("tara", "msu", AuthKind.INTERNAL),
        User("stu", "msu", AuthKind.INTERNAL),
        User("kim", "msu", AuthKind.KERBEROS),
        User("una", "msu", AuthKind.UNIX),
        User("ext", "msu", AuthKind.EXTERNAL),
        User("uma", "umn", AuthKind.INTERNAL),
        User("umd", "umn", AuthKind.UNIX),
        User("sc558aa", "msu", AuthKind.INTERNAL, class_account=True, class_course=C1),
        User("sc000zz", "msu", AuthKind.INTERNAL, class_account=True),
        User("cole", "msu", AuthKind.UNIX),
    ]
    assignments = [
        RoleAssignment("cora", "cc", C1),
        RoleAssignment("dora", "dc", MSU),
        RoleAssignment("ivan", "in", C1),
        RoleAssignment("tara", "ta", C1),
        RoleAssignment("stu", "st", C1),
        RoleAssignment("umd", "dc", Area.parse("/umn/")),
    ]
    return RoleIndex(users=users, assignments=assignments, course_owners={C1: "cora"})


def test_coordinator_grants_a_student_role() -> None:
    index = world()
    result = assign(index, "cora", RoleAssignment("kim", "st", C1, AT), at=AT)
    assert result.ok, result.reason
    assert "granted Student (st) at /msu/c1 to kim" in result.reason
    assert "cora holds cst at /msu/c1 through cc at /msu/c1" in result.reason
    assert result.changed == (RoleAssignment("kim", "st", C1, AT),)
    assert index.allowed("kim", "pch", C1, at=AT).value == "L"


def test_the_grant_privilege_honours_the_target_authentication() -> None:
    index = world()
    result = assign(index, "cora", RoleAssignment("una", "st", C1), at=AT)
    assert not result.ok
    assert "cora may not grant Student (st) at /msu/c1 to una" in result.reason
    assert "Internally authenticated or Kerberos authenticated" in result.reason
    assert "the target user is UNIX authenticated" in result.reason
    external = assign(index, "cora", RoleAssignment("ext", "st", C1), at=AT)
    assert not external.ok
    assert "Externally authenticated" in external.reason
    assert index.assignments_of("una") == ()


def test_a_domain_coordinator_grants_through_the_domain() -> None:
    index = world()
    result = assign(index, "dora", RoleAssignment("una", "st", C1), at=AT)
    assert result.ok, result.reason
    assert "through dc at /msu/" in result.reason


def test_a_domain_coordinator_grants_to_users_of_their_domain_in_other_domains_courses() -> None:
    index = world()
    # umd coordinates umn; uma belongs to umn: the target's domain counts (LON-CAPA's rule).
    assert assign(index, "umd", RoleAssignment("uma", "st", C1), at=AT).ok
    # ...but not for users of another domain.
    refused = assign(index, "umd", RoleAssignment("kim", "st", C1), at=AT)
    assert not refused.ok
    assert "holds no Grant/revoke role of Student (cst) at /msu/c1" in refused.reason


def test_students_and_tas_grant_nothing() -> None:
    index = world()
    for actor in ("stu", "tara"):
        result = assign(index, actor, RoleAssignment("kim", "st", C1), at=AT)
        assert not result.ok
        assert f"{actor} may not grant" in result.reason
        assert "holds no Grant/revoke role of Student (cst) at /msu/c1 or /msu/" in result.reason


def test_a_coordinator_grants_nothing_in_another_course() -> None:
    refused = assign(world(), "cora", RoleAssignment("kim", "st", C2), at=AT)
    assert not refused.ok
    assert "at /msu/c2" in refused.reason


def test_only_the_owner_or_a_domain_coordinator_adds_coordinators() -> None:
    index = world()
    owner = assign(index, "cora", RoleAssignment("kim", "cc", C1), at=AT)
    assert owner.ok, owner.reason
    assert "cora owns /msu/c1" in owner.reason
    # kim is now a coordinator but not the owner.
    refused = assign(index, "kim", RoleAssignment("ivan", "cc", C1), at=AT)
    assert not refused.ok
    assert "only the owner of /msu/c1 (owned by cora) or a domain coordinator of msu" in (
        refused.reason
    )
    assert "kim is neither" in refused.reason
    # A domain coordinator adds coordinators, within ccc's conditions (U in the seed).
    assert assign(index, "dora", RoleAssignment("cole", "cc", C1), at=AT).ok
    internal = assign(index, "dora", RoleAssignment("ivan", "cc", C1), at=AT)
    assert not internal.ok
    assert "UNIX authenticated" in internal.reason


def test_coordinators_of_a_course_without_owner() -> None:
    index = world()
    refused = assign(index, "cora", RoleAssignment("kim", "cc", C2), at=AT)
    assert not refused.ok
    assert "which has no recorded owner" in refused.reason


def test_class_accounts_are_students_in_their_own_course_only() -> None:
    index = world()
    assert assign(index, "cora", RoleAssignment("sc558aa", "st", S1), at=AT).ok
    wrong_course = assign(index, "dora", RoleAssignment("sc558aa", "st", C2), at=AT)
    assert not wrong_course.ok
    assert "class account of /msu/c1" in wrong_course.reason
    ta = assign(index, "cora", RoleAssignment("sc558aa", "ta", C1), at=AT)
    assert not ta.ok
    assert "class accounts may hold only the Student (st) role" in ta.reason
    homeless = assign(index, "cora", RoleAssignment("sc000zz", "st", C1), at=AT)
    assert not homeless.ok
    assert "belongs to no course" in homeless.reason


def test_authors_only_in_their_own_domain() -> None:
    index = world()
    assert assign(index, "dora", RoleAssignment("una", "au", MSU), at=AT).ok
    refused = assign(index, "umd", RoleAssignment("umd", "au", MSU), at=AT)
    assert not refused.ok
    assert "only in the user's own domain" in refused.reason


def test_unknown_or_misplaced_roles_are_refused() -> None:
    index = world()
    unknown = assign(index, "cora", RoleAssignment("kim", "zz", C1), at=AT)
    assert not unknown.ok
    assert "'zz' is not a role of the table" in unknown.reason
    misplaced = assign(index, "cora", RoleAssignment("kim", "st", MSU), at=AT)
    assert "held in a course or section, not in domain msu (/msu/)" in misplaced.reason
    nobody = assign(index, "cora", RoleAssignment("ghost", "st", C1), at=AT)
    assert "there is no user 'ghost'" in nobody.reason
    no_actor = assign(index, "ghost", RoleAssignment("kim", "st", C1), at=AT)
    assert "there is no user 'ghost'" in no_actor.reason


def test_a_window_already_over_is_refused() -> None:
    result = assign(
        world(), "cora", RoleAssignment("kim", "st", C1, AT - timedelta(days=9), AT), at=AT
    )
    assert not result.ok
    assert "nothing left to grant" in result.reason


def test_overlapping_duplicates_are_refused_but_a_later_term_is_fine() -> None:
    index = world()
    first = RoleAssignment("kim", "st", C1, AT, LATER)
    assert assign(index, "cora", first, at=AT).ok
    again = assign(index, "cora", RoleAssignment("kim", "st", C1, AT + timedelta(days=5)), at=AT)
    assert not again.ok
    assert "already holds it" in again.reason
    next_term = RoleAssignment("kim", "st", C1, LATER, LATER + timedelta(days=120))
    assert assign(index, "cora", next_term, at=AT).ok


def test_revoking_ends_now_and_keeps_history() -> None:
    index = world()
    result = revoke(index, "cora", "stu", "st", C1, at=AT)
    assert result.ok, result.reason
    assert "the record is kept as history" in result.reason
    assert index.assignments_of("stu") == (RoleAssignment("stu", "st", C1, None, AT),)
    assert index.allowed("stu", "pch", C1, at=AT).value == ""
    assert index.allowed("stu", "pch", C1, at=AT - timedelta(seconds=1)).value == "L"
    again = revoke(index, "cora", "stu", "st", C1, at=AT + timedelta(days=1))
    assert not again.ok
    assert "already ended" in again.reason


def test_revoking_a_future_role_closes_it_at_its_start() -> None:
    index = world()
    assert assign(index, "cora", RoleAssignment("kim", "st", C1, LATER), at=AT).ok
    result = revoke(index, "cora", "kim", "st", C1, at=AT)
    assert result.ok
    (record,) = index.assignments_of("kim")
    assert record.start == record.end == LATER
    assert index.allowed("kim", "pch", C1, at=LATER).value == ""
    assert "revoked before it began" in record.describe_window()


def test_revoking_needs_the_grant_privilege() -> None:
    index = world()
    refused = revoke(index, "tara", "stu", "st", C1, at=AT)
    assert not refused.ok
    assert "tara may not revoke Student (st) at /msu/c1 from stu" in refused.reason
    never = revoke(index, "cora", "kim", "st", C1, at=AT)
    assert not never.ok
    assert "kim has never held it" in never.reason


def test_deleting_needs_dro() -> None:
    index = world()
    refused = delete(index, "cora", "stu", "st", C1, at=AT)
    assert not refused.ok
    assert "cora holds no Delete a role assignment and its history (dro) at /msu/c1 or /msu/" in (
        refused.reason
    )
    assert len(index.assignments_of("stu")) == 1
    done = delete(index, "dora", "stu", "st", C1, at=AT)
    assert done.ok, done.reason
    assert "history included" in done.reason
    assert index.assignments_of("stu") == ()
    nothing = delete(index, "dora", "stu", "st", C1, at=AT)
    assert not nothing.ok
    assert "there is no such record" in nothing.reason


def test_a_user_viewing_as_a_student_grants_nothing_and_both_users_are_recorded() -> None:
    index = world()
    viewing = view_as(index, "cora", "stu", C1, at=AT)
    assert viewing.ok, viewing.reason
    assert viewing.actor is not None
    result = assign(index, viewing.actor, RoleAssignment("kim", "st", C1), at=AT)
    assert not result.ok
    assert "cora (viewing as stu in /msu/c1) may not grant" in result.reason
    assert result.actor.history_fields() == {
        "real_user": "cora",
        "effective_user": "stu",
        "viewing_as_in": "/msu/c1",
    }
    ok = assign(index, Actor.user("cora"), RoleAssignment("kim", "st", C1), at=AT)
    assert ok.actor.history_fields() == {"real_user": "cora", "effective_user": "cora"}


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        assign(world(), "cora", RoleAssignment("kim", "st", C1), at=datetime(2024, 1, 1))
