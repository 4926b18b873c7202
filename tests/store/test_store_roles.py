"""Roles in the store: grants and revocations decided by the roles core, kept as records that
end but are never deleted; custom roles within the template; every change in the history."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from store_support import Store, utc
from test_store_users import AT, DOM, SP15, SP24, count, history, user, world

from coursegate.roles import Area
from coursegate.services.common.authz import require
from coursegate.services.common.errors import Invalid, Refused
from coursegate.services.people.grants import grant_role, revoke_role
from coursegate.services.people.users import create_user
from coursegate.services.roles.assignments import define_custom_role
from coursegate.store.models import CustomRoleRow, HistoryEntry, RoleAssignmentRow

__all__ = ["world"]


def roles_of(store: Store, uid: str) -> list[tuple[str, str, int | None, int | None]]:
    user_id = user(store, uid).id
    with store.factory() as s:
        return [
            (r.role, r.area, r.start_at, r.end_at)
            for r in s.scalars(
                select(RoleAssignmentRow)
                .where(RoleAssignmentRow.user_id == user_id)
                .order_by(RoleAssignmentRow.id)
            )
        ]


@pytest.fixture
def newcomer(world: Store) -> Store:
    world.system(AT, lambda c: create_user(c, "n1", "New One", "n1@example.edu", domain=DOM))
    return world


def test_coordinator_grants_a_ta_role_and_it_counts_at_once(newcomer: Store) -> None:
    newcomer.run("cc", AT, lambda c: grant_role(c, "n1", "ta", SP24, reason="new TA"))
    assert roles_of(newcomer, "n1") == [("ta", SP24, AT, None)]
    (entry,) = [h for h in history(newcomer, "role.grant") if h.subject == "n1"]
    assert (entry.actor, entry.acting_as, entry.reason) == ("cc", "cc", "new TA")
    assert entry.details["role"] == "ta" and entry.details["area"] == SP24
    assert entry.details["real_user"] == "cc" and "cst" not in entry.details["why"]
    assert entry.course_instance_id is not None
    # the new TA's privilege counts on the next check: they may now grant s1 an extension
    newcomer.run("n1", AT, lambda c: require(c, "gex", Area.parse(SP24), "grant extensions"))


def test_revoke_ends_the_role_and_keeps_the_record(newcomer: Store) -> None:
    newcomer.run("cc", AT, lambda c: grant_role(c, "n1", "ta", SP24))
    later = utc(2024, 2, 1)
    newcomer.run("cc", later, lambda c: revoke_role(c, "n1", "ta", SP24, reason="left"))
    assert roles_of(newcomer, "n1") == [("ta", SP24, AT, later)]
    (entry,) = history(newcomer, "role.revoke")
    assert (entry.actor, entry.reason, entry.details["ended"]) == ("cc", "left", 1)
    with pytest.raises(Refused) as err:  # nothing left to revoke
        newcomer.run("cc", later, lambda c: revoke_role(c, "n1", "ta", SP24))
    assert "already ended" in err.value.message
    with pytest.raises(Refused):  # and the former TA's privileges are gone
        newcomer.run("n1", later, lambda c: require(c, "gex", Area.parse(SP24), "extend"))


@pytest.mark.parametrize("actor", ["s1", "ta", "inst", "inst15", "ta15"])
def test_granting_is_refused_with_the_core_reason(newcomer: Store, actor: str) -> None:
    """A student, a TA, an instructor (no ``cta``), and staff of another course instance."""
    before = count(newcomer, HistoryEntry)
    with pytest.raises(Refused) as err:
        newcomer.run(actor, AT, lambda c: grant_role(c, "n1", "ta", SP24))
    assert f"{actor} may not grant Teaching Assistant (ta) at {SP24} to n1" in err.value.details
    assert "that needs the “grant the Teaching Assistant role” privilege" in err.value.message
    assert "Grant/revoke role of Teaching Assistant" in err.value.details
    assert roles_of(newcomer, "n1") == []
    assert count(newcomer, HistoryEntry) == before


def test_revoking_is_refused_for_the_wrong_actor(newcomer: Store) -> None:
    newcomer.run("cc", AT, lambda c: grant_role(c, "n1", "ta", SP24))
    for actor in ("s1", "ta", "inst15"):
        with pytest.raises(Refused):
            newcomer.run(actor, AT, lambda c: revoke_role(c, "n1", "ta", SP24))
    assert roles_of(newcomer, "n1") == [("ta", SP24, AT, None)]


def test_viewing_as_gives_only_the_viewed_users_privileges(newcomer: Store) -> None:
    with pytest.raises(Refused) as err:
        newcomer.run("cc", AT, lambda c: grant_role(c, "n1", "st", SP24), acting_as="ta")
    assert "cc (viewing as ta" in err.value.message
    newcomer.run("cc", AT, lambda c: grant_role(c, "n1", "st", SP24))


def test_bad_requests_name_the_field(newcomer: Store) -> None:
    with pytest.raises(Invalid) as err:
        newcomer.run("cc", AT, lambda c: grant_role(c, "n1", "ta", "exampleuniversity/x"))
    assert err.value.field == "area" and "does not start with '/'" in err.value.message
    with pytest.raises(Invalid) as err:
        newcomer.run("cc", AT, lambda c: grant_role(c, "n1", "Teaching Assistant", SP24))
    assert err.value.field == "role"
    with pytest.raises(Invalid) as err:
        newcomer.run("cc", AT, lambda c: grant_role(c, "n1", "ta", SP24, end=utc(2024, 1, 1)))
    assert err.value.field == "end"
    with pytest.raises(Refused) as r:  # overlapping an existing grant: the core says why
        newcomer.run("cc", AT, lambda c: grant_role(c, "inst", "in", SP24))
    assert "already holds it" in r.value.message


def test_system_grants_bootstrap_but_the_core_still_checks_the_assignment(world: Store) -> None:
    with pytest.raises(Invalid) as err:
        world.system(AT, lambda c: grant_role(c, "s3", "st", f"/{DOM}/"))
    assert err.value.field == "area" and "held in a course" in err.value.message
    with pytest.raises(Invalid) as err:
        world.system(AT, lambda c: grant_role(c, "inst", "in", SP24))
    assert "already holds it" in err.value.message
    world.system(AT, lambda c: revoke_role(c, "inst15", "in", SP15))
    assert roles_of(world, "inst15") == [("in", SP15, AT, AT)]


# -- custom roles -----------------------------------------------------------------------------


def test_custom_role_defined_within_the_template_then_granted(newcomer: Store) -> None:
    row = newcomer.run(
        "cc", AT, lambda c: define_custom_role(c, "helproom", course="bre&R:vgr", reason="lab")
    )
    assert row.course == "bre&R:vgr&SCR"  # type: ignore[attr-defined]  # template letters apply
    (entry,) = history(newcomer, "role.define")
    assert (entry.subject, entry.actor, entry.details["old"]) == (
        f"cr/{DOM}/cc/helproom", "cc", None,
    )  # fmt: skip
    newcomer.run("cc", AT, lambda c: define_custom_role(c, "helproom", course="bre&R"))
    with newcomer.factory() as s:
        (stored,) = s.scalars(select(CustomRoleRow))
        assert stored.course == "bre&R"
    assert history(newcomer, "role.define")[1].details["old"]["course"] == "bre&R:vgr&SCR"
    newcomer.run("cc", AT, lambda c: grant_role(c, "n1", f"cr/{DOM}/cc/helproom", SP24))
    assert roles_of(newcomer, "n1") == [(f"cr/{DOM}/cc/helproom", SP24, AT, None)]


def test_custom_role_refusals(newcomer: Store) -> None:
    with pytest.raises(Refused) as err:
        newcomer.run("cc", AT, lambda c: define_custom_role(c, "grader", course="mgr&L"))
    assert err.value.field == "course" and "c:mgr" in err.value.message
    for actor in ("s1", "ta", "inst"):  # none holds mcr (course coordinators do)
        with pytest.raises(Refused) as err:
            newcomer.run(actor, AT, lambda c: define_custom_role(c, "mine", course="bre&R"))
        assert err.value.field == "actor" and "Create a Course Custom Role" in err.value.message
    with pytest.raises(Refused):
        newcomer.system(AT, lambda c: define_custom_role(c, "ops", course="bre&R"))
    with pytest.raises(Invalid) as bad:
        newcomer.run("cc", AT, lambda c: define_custom_role(c, "bad name", course="bre&R"))
    assert bad.value.field == "name"
    with newcomer.factory() as s:
        assert list(s.scalars(select(CustomRoleRow))) == []
