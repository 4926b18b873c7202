"""Users: create, import from CSV (all or nothing, idempotent), correct an email, freeze, thaw.

``setup_world`` (also used by the enrollment, roles and crash tests) syncs the example course
and creates staff and students with their roles.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from store_support import EXAMPLE_COURSE, Store, utc

from coursegate.services.accounts.common import forward_address
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Conflict, Invalid, NotFound, Refused
from coursegate.services.common.places import ensure_domain, find_course_instance
from coursegate.services.courses.enrollment import invite, self_enroll
from coursegate.services.courses.sync import sync_course
from coursegate.services.people.csv_import import BadCsv
from coursegate.services.people.grants import grant_role
from coursegate.services.people.user_import import import_users
from coursegate.services.people.users import correct_email, create_user, freeze_user, thaw_user
from coursegate.store.models import EmailAlias, HistoryEntry, RoleAssignmentRow, User

AT = utc(2024, 1, 10, 15)
DOM = "exampleuniversity"
SP24 = f"/{DOM}/CG_101.Sp24"
SP15 = f"/{DOM}/CG_101.Sp15"

STAFF = {
    # uid: (role, area)
    "inst": ("in", SP24),
    "ta": ("ta", SP24),
    "cc": ("cc", SP24),
    "inst15": ("in", SP15),
    "ta15": ("ta", SP15),
    "dc": ("dc", f"/{DOM}/"),
}


def setup_world(c: Ctx) -> None:
    """The example course; staff with roles; students s1 (joined Sp24), s2 (joined Sp15), s3
    (not enrolled) of Example University, and out1 of Other University."""
    sync_course(c, EXAMPLE_COURSE)
    ensure_domain(c, "otheru", "Other University")
    for uid, (role, area) in STAFF.items():
        create_user(c, uid, uid.upper(), f"{uid}@example.edu", domain=DOM)
        grant_role(c, uid, role, area)
    for uid in ("s1", "s2", "s3"):
        create_user(c, uid, f"Student {uid[1:]}", f"{uid}@example.edu", domain=DOM)
    create_user(c, "out1", "Outside One", "out1@other.edu", domain="otheru", auth="kerberos")


def enroll_students(store: Store) -> None:
    sp24 = ci_id(store, "Sp24")
    sp15 = ci_id(store, "Sp15")
    store.run("s1", AT, lambda c: self_enroll(c, sp24))
    store.run("inst15", AT, lambda c: invite(c, sp15, "s2"))
    store.run("s2", AT, lambda c: self_enroll(c, sp15))


def ci_id(store: Store, short_name: str) -> int:
    with store.factory() as s:
        from coursegate.services.common.context import SYSTEM

        return find_course_instance(Ctx(s, SYSTEM, AT), "CG 101", short_name).id


def count(store: Store, model: type, *where: Any) -> int:
    with store.factory() as s:
        q = select(func.count()).select_from(model)
        for w in where:
            q = q.where(w)
        return int(s.scalar(q) or 0)


def history(store: Store, action: str) -> list[HistoryEntry]:
    with store.factory() as s:
        return list(
            s.scalars(
                select(HistoryEntry).where(HistoryEntry.action == action).order_by(HistoryEntry.id)
            )
        )


def user(store: Store, uid: str) -> User:
    with store.factory() as s:
        return s.scalars(select(User).where(User.uid == uid)).one()


@pytest.fixture
def world(store: Store) -> Store:
    store.system(AT, setup_world)
    enroll_students(store)
    return store


# -- create -----------------------------------------------------------------------------------


def test_create_user_checks_every_field(world: Store) -> None:
    def bad(**kw: Any) -> Invalid:
        args: dict[str, Any] = {"uid": "n1", "name": "New One", "email": "n1@example.edu"}
        args.update(kw)
        with pytest.raises(Invalid) as err:
            world.system(AT, lambda c: create_user(c, domain=DOM, **args))
        return err.value

    e = bad(uid="n1 x")
    assert e.field == "uid" and "not a valid user id" in e.message
    e = bad(email="not-an-address")
    assert e.field == "email" and "is not an email address" in e.message
    e = bad(name=" ")
    assert e.field == "name" and "full name is empty" in e.message
    e = bad(auth="ldap")
    assert e.field == "auth" and "ldap" in e.message
    with pytest.raises(Invalid) as err:
        world.system(AT, lambda c: create_user(c, "n1", "N", "n1@example.edu", domain="nowhere"))
    assert err.value.field == "domain" and "no domain 'nowhere'" in err.value.message
    assert count(world, User, User.uid == "n1") == 0


def test_uid_and_email_are_unique(world: Store) -> None:
    with pytest.raises(Conflict) as err:
        world.system(AT, lambda c: create_user(c, "s1", "X", "x@example.edu", domain=DOM))
    assert err.value.field == "uid"
    with pytest.raises(Conflict) as err:
        world.system(AT, lambda c: create_user(c, "n2", "X", "S1@Example.edu", domain=DOM))
    assert err.value.field == "email" and "belongs to s1" in err.value.message


def test_creating_users_needs_mau_in_their_domain(world: Store) -> None:
    for actor in ("s1", "inst", "ta", "cc"):
        with pytest.raises(Refused) as err:
            world.run(actor, AT, lambda c: create_user(c, "n3", "N", "n3@example.edu", domain=DOM))
        assert "mau" in err.value.details or "Modify authentication" in err.value.details
        assert "“manage accounts and sign-in” privilege" in err.value.message
    world.run("dc", AT, lambda c: create_user(c, "n3", "New Three", "n3@example.edu", domain=DOM))
    (entry,) = [h for h in history(world, "user.create") if h.subject == "n3"]
    assert (entry.actor, entry.acting_as, entry.details["email"]) == ("dc", "dc", "n3@example.edu")
    with pytest.raises(Refused):  # a domain coordinator of exampleuniversity, not of otheru
        world.run("dc", AT, lambda c: create_user(c, "n4", "N", "n4@x.edu", domain="otheru"))


# -- import -----------------------------------------------------------------------------------

GOOD = """uid,name,email,auth
a1,Ann One,a1@example.edu,
a2,"Two, Ann",A2@example.edu,kerberos
a3,Ann Three,a3@other.edu,internal
"""


def test_import_creates_and_rerun_changes_nothing(world: Store) -> None:
    report = world.system(AT, lambda c: import_users(c, GOOD, default_domain=DOM))
    assert (report.created, report.unchanged) == (3, 0)  # type: ignore[attr-defined]
    assert user(world, "a2").email == "a2@example.edu" and user(world, "a2").auth == "kerberos"
    n = count(world, User), count(world, HistoryEntry)
    report = world.system(utc(2024, 1, 11), lambda c: import_users(c, GOOD, default_domain=DOM))
    assert (report.created, report.unchanged) == (0, 3)  # type: ignore[attr-defined]
    assert (count(world, User), count(world, HistoryEntry)) == n


def test_import_reports_every_bad_row_and_writes_nothing(world: Store) -> None:
    text = (
        "uid,name,email,domain\n"
        "b1,Bee One,b1@example.edu,\n"  # line 2: good
        "b2 two,Bee Two,b2@example.edu,\n"  # line 3: uid with a space
        "b3,,b3@example.edu,\n"  # line 4: no name
        "b4,Bee Four,nope,\n"  # line 5: bad email
        "b1,Bee Again,b1b@example.edu,\n"  # line 6: uid twice
        "b6,Bee Six,s1@example.edu,\n"  # line 7: email of s1
        "b7,Bee Seven,b7@example.edu,mars\n"  # line 8: unknown domain
        "s1,Student 1,other@example.edu,\n"  # line 9: contradicts the stored s1
    )
    before = count(world, User), count(world, HistoryEntry)
    with pytest.raises(BadCsv) as err:
        world.system(AT, lambda c: import_users(c, text, default_domain=DOM))
    got = [(p.line, p.column) for p in err.value.problems]
    assert got == [
        (3, "uid"), (4, "name"), (5, "email"), (6, "uid"), (7, "email"), (8, "domain"),
        (9, "email"),
    ]  # fmt: skip
    assert "line 7, email: s1@example.edu belongs to s1" in err.value.message
    assert "nothing was written" in err.value.message
    assert (count(world, User), count(world, HistoryEntry)) == before


def test_import_header_problems(world: Store) -> None:
    with pytest.raises(BadCsv) as err:
        world.system(AT, lambda c: import_users(c, "uid,fullname\nx,y\n", default_domain=DOM))
    messages = [p.render() for p in err.value.problems]
    assert "line 1, header: the column 'name' is missing" in messages
    assert any("'fullname' is not a column" in m for m in messages)


# -- correct an email -------------------------------------------------------------------------


def test_a_domain_coordinator_corrects_an_email_alias_follows(world: Store) -> None:
    def add_alias(c: Ctx) -> None:
        s1 = c.user("s1")
        c.session.add(EmailAlias(user_id=s1.id, alias="cg101aa@users.example.edu"))

    world.system(AT, add_alias)
    with world.factory() as s:
        assert forward_address(Ctx(s, "x", AT), "cg101aa@users.example.edu") == "s1@example.edu"
    world.run("dc", AT, lambda c: correct_email(c, "s1", "new1@example.edu", reason="typo"))
    assert user(world, "s1").email == "new1@example.edu"
    with world.factory() as s:
        assert forward_address(Ctx(s, "x", AT), "CG101AA@users.example.edu") == "new1@example.edu"
    (entry,) = history(world, "user.email")
    assert (entry.actor, entry.acting_as, entry.reason) == ("dc", "dc", "typo")
    assert entry.details == {
        "old": "s1@example.edu",
        "new": "new1@example.edu",
        "authority": "domain",
    }


def test_email_correction_refused_for_the_wrong_actor(world: Store) -> None:
    # a student, staff of another course, and the student's own course staff: a person's own
    # account is never course staff's
    for actor in ("s3", "s2", "ta15", "inst15", "ta", "inst", "cc"):
        with pytest.raises(Refused) as err:
            world.run(actor, AT, lambda c: correct_email(c, "s1", "x@example.edu"))
        # the roles core's reasoning: the whole message, or the details of a sentence
        said = err.value.details or err.value.message
        assert f"{actor} may not correct the email of s1" in said
        assert "never by course staff" in err.value.message
    assert user(world, "s1").email == "s1@example.edu"
    assert history(world, "user.email") == []


def test_no_account_is_changed_while_viewing_as(world: Store) -> None:
    with pytest.raises(Refused) as err:
        world.run("dc", AT, lambda c: correct_email(c, "s1", "n@example.edu"), acting_as="ta")
    assert "while viewing as ta" in err.value.message
    assert history(world, "user.email") == []


def test_email_correction_checks_the_address(world: Store) -> None:
    with pytest.raises(Invalid) as err:
        world.run("dc", AT, lambda c: correct_email(c, "s1", "s1 at example"))
    assert err.value.field == "email"
    with pytest.raises(Conflict) as c_err:
        world.run("dc", AT, lambda c: correct_email(c, "s1", "inst@example.edu"))
    assert "belongs to inst" in c_err.value.message
    with pytest.raises(NotFound):
        world.run("dc", AT, lambda c: correct_email(c, "nobody", "n@example.edu"))


# -- freeze and thaw --------------------------------------------------------------------------


def test_a_domain_coordinator_freezes_and_thaws_web_access(world: Store) -> None:
    world.run("dc", AT, lambda c: freeze_user(c, "s1", reason="shared password"))
    assert user(world, "s1").status == "frozen"
    world.run("dc", AT, lambda c: freeze_user(c, "s1"))  # again: nothing changes
    assert len(history(world, "user.freeze")) == 1
    world.run("dc", AT, lambda c: thaw_user(c, "s1"))
    assert user(world, "s1").status == "active"
    (f,) = history(world, "user.freeze")
    (t,) = history(world, "user.thaw")
    assert (f.actor, f.reason, f.details) == (
        "dc", "shared password", {"old": "active", "new": "frozen", "authority": "domain"},
    )  # fmt: skip
    assert (t.actor, t.details["new"]) == ("dc", "active")


def test_freeze_refused_for_the_wrong_actor(world: Store) -> None:
    for actor in ("s3", "ta15", "inst15", "ta", "inst", "cc"):
        with pytest.raises(Refused):
            world.run(actor, AT, lambda c: freeze_user(c, "s1"))
    assert user(world, "s1").status == "active"
    world.system(AT, lambda c: freeze_user(c, "s3"))  # the operator may
    assert user(world, "s3").status == "frozen"


def test_locked_accounts_are_neither_frozen_nor_thawed(world: Store) -> None:
    def lock(c: Ctx) -> None:
        c.user("s1").status = "locked"

    world.system(AT, lock)
    with pytest.raises(Invalid) as err:
        world.run("dc", AT, lambda c: freeze_user(c, "s1"))
    assert err.value.field == "status" and "locked" in err.value.message


def test_students_got_the_student_role(world: Store) -> None:
    s1 = user(world, "s1")
    mine = RoleAssignmentRow.user_id == s1.id
    assert count(world, RoleAssignmentRow, mine, RoleAssignmentRow.area == SP24) == 1
