"""Enrollment: self-enrollment by the decision core's rules, invitations, blocking, sections,
memberships from CSV, the roster, and concurrent edits."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest
from sqlalchemy import select
from store_support import Store, utc
from test_store_users import AT, DOM, SP24, ci_id, count, history, setup_world, user, world

from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Conflict, Invalid, Refused
from coursegate.services.courses.enrollment import (
    block,
    invite,
    join_invitation,
    self_enroll,
    set_enrollment_code,
    unblock,
)
from coursegate.services.courses.roster_views import list_roster
from coursegate.services.courses.sections import (
    add_to_section,
    create_section,
    delete_section,
    import_section_memberships,
    remove_from_section,
    rename_section,
)
from coursegate.services.courses.sync import sync_course
from coursegate.services.people.csv_import import BadCsv
from coursegate.services.people.users import create_user
from coursegate.store.models import Enrollment, HistoryEntry, RoleAssignmentRow, SectionMembership
from databases import PG_URL

__all__ = ["world"]  # the fixture, shared with the users tests


def enrollment(store: Store, uid: str, short_name: str) -> Enrollment | None:
    user_id, course_instance_id = user(store, uid).id, ci_id(store, short_name)
    with store.factory() as s:
        return s.scalars(
            select(Enrollment).where(
                Enrollment.user_id == user_id, Enrollment.course_instance_id == course_instance_id
            )
        ).one_or_none()


def student_roles(store: Store, uid: str) -> list[RoleAssignmentRow]:
    user_id = user(store, uid).id
    with store.factory() as s:
        return list(
            s.scalars(
                select(RoleAssignmentRow)
                .where(
                    RoleAssignmentRow.user_id == user_id,
                    RoleAssignmentRow.role == "st",
                )
                .order_by(RoleAssignmentRow.id)
            )
        )


# -- self-enrollment --------------------------------------------------------------------------


def test_self_enrollment_joins_and_gives_the_student_role(world: Store) -> None:
    sp24 = ci_id(world, "Sp24")
    world.run("s3", AT, lambda c: self_enroll(c, sp24))
    e = enrollment(world, "s3", "Sp24")
    assert e is not None and e.status == "joined"
    (role,) = student_roles(world, "s3")
    assert (role.area, role.start_at, role.end_at) == (SP24, AT, None)
    (entry,) = [h for h in history(world, "enrollment.self") if h.subject == "s3"]
    assert (entry.actor, entry.acting_as, entry.course_instance_id) == ("s3", "s3", sp24)
    n = count(world, HistoryEntry), count(world, RoleAssignmentRow)
    world.run("s3", AT, lambda c: self_enroll(c, sp24))  # again: nothing changes
    assert (count(world, HistoryEntry), count(world, RoleAssignmentRow)) == n


def test_self_enrollment_closes_at_its_before_date(world: Store) -> None:
    sp24 = ci_id(world, "Sp24")
    with pytest.raises(Refused) as err:
        world.run("s3", utc(2024, 2, 2), lambda c: self_enroll(c, sp24))
    assert "self-enrollment has closed" in err.value.message
    assert enrollment(world, "s3", "Sp24") is None


def test_other_institutions_need_an_invitation(world: Store) -> None:
    sp24 = ci_id(world, "Sp24")
    with pytest.raises(Refused) as err:
        world.run("out1", AT, lambda c: self_enroll(c, sp24))
    assert "limited to Example University" in err.value.message
    with pytest.raises(Invalid):  # no invitation yet
        world.run("out1", AT, lambda c: join_invitation(c, sp24))
    world.run("inst", AT, lambda c: invite(c, sp24, "out1", reason="exchange student"))
    assert enrollment(world, "out1", "Sp24").status == "invited"  # type: ignore[union-attr]
    assert student_roles(world, "out1") == []
    world.run("out1", utc(2024, 3, 1), lambda c: join_invitation(c, sp24))  # after beforeDate
    assert enrollment(world, "out1", "Sp24").status == "joined"  # type: ignore[union-attr]
    assert [r.area for r in student_roles(world, "out1")] == [SP24]
    (inv,) = [h for h in history(world, "enrollment.invite") if h.subject == "out1"]
    assert (inv.actor, inv.reason, inv.details["new"]) == ("inst", "exchange student", "invited")


def test_enrollment_code(store: Store, tmp_path: Path) -> None:
    course = tmp_path / "course"
    shutil.copytree(Path(__file__).resolve().parents[2] / "examples" / "course", course)
    info = course / "courseInstances/Sp24/infoCourseInstance.json"
    data = json.loads(info.read_text())
    data["selfEnrollment"]["useEnrollmentCode"] = True
    info.write_text(json.dumps(data))

    def setup(c: Ctx) -> None:
        setup_world(c)
        sync_course(c, course)

    store.system(AT, setup)
    sp24 = ci_id(store, "Sp24")
    with pytest.raises(Refused) as err:
        store.run("s1", AT, lambda c: self_enroll(c, sp24, code="anything"))
    assert err.value.field == "code"  # no code set yet: nobody gets in by guessing
    code = str(store.run("inst", AT, lambda c: set_enrollment_code(c, sp24)))
    assert len(code) == 8
    with pytest.raises(Refused) as err:
        store.run("s1", AT, lambda c: self_enroll(c, sp24))
    assert err.value.field == "code" and "enrollment code is missing or wrong" in err.value.message
    with pytest.raises(Refused):
        store.run("s1", AT, lambda c: self_enroll(c, sp24, code="WRONG123"))
    store.run("s1", AT, lambda c: self_enroll(c, sp24, code=f" {code.lower()} "))
    assert enrollment(store, "s1", "Sp24").status == "joined"  # type: ignore[union-attr]
    with pytest.raises(Refused):
        store.run("ta", AT, lambda c: set_enrollment_code(c, sp24, "NEWCODE"))
    with pytest.raises(Invalid) as bad:
        store.run("inst", AT, lambda c: set_enrollment_code(c, sp24, "a b"))
    assert bad.value.field == "code"


def test_frozen_users_and_viewing_as_do_not_enroll(world: Store) -> None:
    sp24 = ci_id(world, "Sp24")
    with pytest.raises(Refused) as err:
        world.run("inst", AT, lambda c: self_enroll(c, sp24), acting_as="s3")
    assert "while viewing as s3" in err.value.message
    world.system(AT, lambda c: setattr(c.user("s3"), "status", "frozen"))
    with pytest.raises(Refused) as err:
        world.run("s3", AT, lambda c: self_enroll(c, sp24))
    assert "frozen" in err.value.message


def test_class_accounts_only_in_their_own_course_instance(world: Store) -> None:
    sp24, sp15 = ci_id(world, "Sp24"), ci_id(world, "Sp15")
    world.system(
        AT,
        lambda c: create_user(
            c, "cg101aa", "Class Account", "cg101aa@example.edu", domain=DOM,
            class_course_instance_id=sp24,
        ),
    )  # fmt: skip
    with pytest.raises(Refused) as err:
        world.run("cg101aa", AT, lambda c: self_enroll(c, sp15))
    assert "only in its own course" in err.value.message
    with pytest.raises(Refused):
        world.run("inst15", AT, lambda c: invite(c, sp15, "cg101aa"))
    world.run("cg101aa", AT, lambda c: self_enroll(c, sp24))
    assert enrollment(world, "cg101aa", "Sp24").status == "joined"  # type: ignore[union-attr]


# -- blocking ---------------------------------------------------------------------------------


def test_block_ends_the_student_role_and_unblock_restores_it(world: Store) -> None:
    sp24 = ci_id(world, "Sp24")
    later = utc(2024, 1, 20)
    world.run("inst", later, lambda c: block(c, sp24, "s1", reason="academic misconduct"))
    assert enrollment(world, "s1", "Sp24").status == "blocked"  # type: ignore[union-attr]
    (role,) = student_roles(world, "s1")
    assert (role.start_at, role.end_at) == (AT, later)  # ended, not deleted
    with pytest.raises(Refused) as err:
        world.run("s1", later, lambda c: self_enroll(c, sp24))
    assert "blocked" in err.value.message
    with pytest.raises(Invalid):
        world.run("inst", later, lambda c: invite(c, sp24, "s1"))
    world.run("inst", utc(2024, 1, 21), lambda c: unblock(c, sp24, "s1"))
    assert enrollment(world, "s1", "Sp24").status == "joined"  # type: ignore[union-attr]
    roles = student_roles(world, "s1")
    assert [(r.start_at, r.end_at) for r in roles] == [(AT, later), (utc(2024, 1, 21), None)]
    (b,) = history(world, "enrollment.block")
    assert (b.actor, b.reason, b.details["old"], b.details["student_roles_ended"]) == (
        "inst", "academic misconduct", "joined", 1,
    )  # fmt: skip


def test_blocking_someone_not_enrolled_and_unblocking(world: Store) -> None:
    sp24 = ci_id(world, "Sp24")
    world.run("inst", AT, lambda c: block(c, sp24, "s3"))
    with pytest.raises(Refused):
        world.run("s3", AT, lambda c: self_enroll(c, sp24))
    world.run("inst", AT, lambda c: unblock(c, sp24, "s3"))
    assert enrollment(world, "s3", "Sp24").status == "removed"  # type: ignore[union-attr]
    world.run("s3", AT, lambda c: self_enroll(c, sp24))
    assert enrollment(world, "s3", "Sp24").status == "joined"  # type: ignore[union-attr]
    with pytest.raises(Invalid) as err:
        world.run("inst", AT, lambda c: unblock(c, sp24, "s3"))
    assert "is not blocked" in err.value.message


@pytest.mark.parametrize("actor", ["s1", "ta", "inst15", "ta15"])
def test_managing_enrollment_needs_men_here(world: Store, actor: str) -> None:
    """A student, a TA (no ``men``), an instructor and a TA of another course instance."""
    sp24 = ci_id(world, "Sp24")
    before = count(world, HistoryEntry)
    for attempt in (
        lambda c: invite(c, sp24, "s3"),
        lambda c: block(c, sp24, "s1"),
        lambda c: create_section(c, sp24, "lab-z"),
        lambda c: add_to_section(c, sp24, "s1", "lab-a"),
        lambda c: import_section_memberships(c, sp24, "uid,section\ns1,lab-a\n"),
    ):
        with pytest.raises(Refused) as err:
            world.run(actor, AT, attempt)
        assert f"{actor} may not" in err.value.details and "CG 101 Sp24" in err.value.details
        assert err.value.message.startswith("You can't ")
        assert "in CG 101, Spring 2024: that needs the “manage enrollment” privilege" in (
            err.value.message
        )
    assert count(world, HistoryEntry) == before
    assert enrollment(world, "s1", "Sp24").status == "joined"  # type: ignore[union-attr]


def test_viewing_as_a_student_leaks_no_staff_privilege(world: Store) -> None:
    sp24 = ci_id(world, "Sp24")
    with pytest.raises(Refused) as err:
        world.run("inst", AT, lambda c: invite(c, sp24, "s3"), acting_as="s1")
    assert "viewing as" in err.value.message
    assert [h for h in history(world, "enrollment.invite") if h.subject == "s3"] == []


def test_viewing_as_across_roles_is_refused(world: Store) -> None:
    sp24 = ci_id(world, "Sp24")
    with pytest.raises(Refused) as err:
        world.run("dc", AT, lambda c: invite(c, sp24, "s3"), acting_as="cc")
    assert "view as" in err.value.message


# -- sections ---------------------------------------------------------------------------------


def test_sections_create_rename_delete_when_empty(world: Store) -> None:
    sp24 = ci_id(world, "Sp24")
    world.run("inst", AT, lambda c: create_section(c, sp24, "lab-z", description="Fridays"))
    with pytest.raises(Invalid) as err:
        world.run("inst", AT, lambda c: create_section(c, sp24, "lab-z"))
    assert err.value.field == "name" and "already has a section" in err.value.message
    with pytest.raises(Invalid) as err:
        world.run("inst", AT, lambda c: create_section(c, sp24, "lab z/2"))
    assert err.value.field == "name"
    world.run("inst", AT, lambda c: rename_section(c, sp24, "lab-z", "lab-y"))
    assert world.run("inst", AT, lambda c: add_to_section(c, sp24, "s1", "lab-y")) is True
    assert world.run("inst", AT, lambda c: add_to_section(c, sp24, "s1", "lab-y")) is False
    with pytest.raises(Invalid) as err:
        world.run("inst", AT, lambda c: delete_section(c, sp24, "lab-y"))
    assert "still has 1 member" in err.value.message
    world.run("inst", AT, lambda c: remove_from_section(c, sp24, "s1", "lab-y"))
    world.run("inst", AT, lambda c: delete_section(c, sp24, "lab-y"))
    actions = [h.action for h in history(world, "section.create")]
    assert actions == ["section.create"]
    with pytest.raises(Invalid) as err:  # named in the course files
        world.run("inst", AT, lambda c: rename_section(c, sp24, "lab-a", "lab-q"))
    assert "course files" in err.value.message
    with pytest.raises(Invalid) as err:  # not enrolled here
        world.run("inst", AT, lambda c: add_to_section(c, sp24, "s3", "lab-a"))
    assert err.value.field == "uid" and "not enrolled" in err.value.message


def test_memberships_from_csv_all_or_nothing_and_idempotent(world: Store) -> None:
    sp24 = ci_id(world, "Sp24")
    world.run("inst", AT, lambda c: invite(c, sp24, "out1"))
    bad = "uid,section\ns1,lab-a\nghost,lab-a\ns1,lab-nowhere\ns3,lab-b\n"
    with pytest.raises(BadCsv) as err:
        world.run("inst", AT, lambda c: import_section_memberships(c, sp24, bad))
    assert [(p.line, p.column) for p in err.value.problems] == [
        (3, "uid"), (4, "section"), (5, "uid"),
    ]  # fmt: skip
    assert "line 3, uid: there is no user 'ghost'" in err.value.message
    assert count(world, SectionMembership) == 0
    good = "uid,section\ns1,lab-a\ns1,lab-b\nout1,lab-a\n"
    report = world.run("inst", AT, lambda c: import_section_memberships(c, sp24, good))
    assert (report.created, report.unchanged) == (3, 0)  # type: ignore[attr-defined]
    n = count(world, SectionMembership), count(world, HistoryEntry)
    report = world.run("inst", AT, lambda c: import_section_memberships(c, sp24, good))
    assert (report.created, report.unchanged) == (0, 3)  # type: ignore[attr-defined]
    assert (count(world, SectionMembership), count(world, HistoryEntry)) == n


# -- the roster -------------------------------------------------------------------------------


def test_roster_shows_uid_and_name_with_sections_and_status(world: Store) -> None:
    sp24 = ci_id(world, "Sp24")
    world.run("inst", AT, lambda c: invite(c, sp24, "out1"))
    world.run("inst", AT, lambda c: block(c, sp24, "s3"))
    world.run("inst", AT, lambda c: add_to_section(c, sp24, "s1", "lab-b"))
    world.run("inst", AT, lambda c: add_to_section(c, sp24, "s1", "lab-a"))
    lines = world.run("ta", AT, lambda c: list_roster(c, sp24))
    got = [(r.who, r.status, r.sections) for r in lines]  # type: ignore[attr-defined]
    assert got == [
        ("out1 (Outside One)", "invited", ()),
        ("s1 (Student 1)", "joined", ("lab-a", "lab-b")),
        ("s3 (Student 3)", "blocked", ()),
    ]
    for actor in ("s1", "ta15"):
        with pytest.raises(Refused):
            world.run(actor, AT, lambda c: list_roster(c, sp24))


# -- concurrent edits -------------------------------------------------------------------------


def test_concurrent_edits_of_one_enrollment_conflict(world: Store) -> None:
    """Session B loads the invitation, A blocks it and commits, then B's join must fail loudly
    instead of silently undoing the block."""
    sp24 = ci_id(world, "Sp24")
    world.run("inst", AT, lambda c: invite(c, sp24, "out1"))
    out1 = user(world, "out1").id
    with world.factory() as b:
        with b.begin():
            loaded = b.scalars(select(Enrollment).where(Enrollment.user_id == out1)).one()
            assert loaded.status == "invited"
        world.run("inst", AT, lambda c: block(c, sp24, "out1"))
        with pytest.raises(Conflict) as err, b.begin():
            join_invitation(Ctx(b, "out1", AT), sp24)
    assert "someone else changed this enrollment" in err.value.message
    assert enrollment(world, "out1", "Sp24").status == "blocked"  # type: ignore[union-attr]
    assert student_roles(world, "out1") == []


@pytest.mark.skipif(not PG_URL, reason="two open write transactions need PostgreSQL")
def test_two_open_transactions_one_wins_one_conflicts(world: Store) -> None:
    if world.url.startswith("sqlite"):
        pytest.skip("SQLite takes the write lock at BEGIN: transactions never overlap there")
    sp24 = ci_id(world, "Sp24")
    world.run("inst", AT, lambda c: invite(c, sp24, "out1"))
    out1 = user(world, "out1").id
    loaded = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def run(name: str, actor: str) -> None:
        try:
            with world.factory() as s, s.begin():
                # Held: the session's identity map keeps only what is referenced, so an
                # unreferenced copy may be collected and the write would read afresh.
                held = s.scalars(select(Enrollment).where(Enrollment.user_id == out1)).one()
                loaded.wait(timeout=10)
                ctx = Ctx(s, actor, AT)
                if name == "block":
                    block(ctx, sp24, "out1")
                else:
                    join_invitation(ctx, sp24)
                assert held.version == 2  # this transaction's own write
            outcomes[name] = "ok"
        except Conflict:
            outcomes[name] = "conflict"

    threads = [
        threading.Thread(target=run, args=("block", "inst")),
        threading.Thread(target=run, args=("join", "out1")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes.values()) == ["conflict", "ok"], outcomes
    winner = "blocked" if outcomes["block"] == "ok" else "joined"
    assert enrollment(world, "out1", "Sp24").status == winner  # type: ignore[union-attr]
