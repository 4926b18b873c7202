"""Users over HTTP: creating and importing (domain coordinators), reading, correcting the
email, freezing and thawing (a person's own account: their domain coordinator or a superuser)."""

from __future__ import annotations

from api_support import World, body
from sqlalchemy import select

from coursegate.cli import demo_world as demo
from coursegate.store.models import HistoryEntry, User

ANA, BEN = demo.STUDENTS[0], demo.STUDENTS[1]
USERS = "/api/v1/users"


def users_named(world: World, *uids: str) -> list[str]:
    with world.ctx() as ctx:
        return list(ctx.session.scalars(select(User.uid).where(User.uid.in_(uids))).all())


def test_an_administrator_creates_a_user_who_can_then_sign_in(world: World) -> None:
    new = {
        "uid": "eve@example.edu",
        "name": "Eve Evans",
        "email": "Eve.Evans@Example.edu",
        "password": "eve-first-password",
    }
    r = world.client("admin").post(USERS, json=new)
    assert r.status_code == 201, r.text
    out = body(r)
    assert (out["uid"], out["who"], out["email"], out["domain"], out["status"]) == (
        "eve@example.edu", "Eve Evans (eve@example.edu)", "eve.evans@example.edu",
        demo.DOMAIN, "active",
    )  # fmt: skip
    assert body(world.sign_in("eve@example.edu", "eve-first-password").get("/api/v1/session"))[
        "uid"
    ] == "eve@example.edu"  # fmt: skip
    r = world.client("admin").post(USERS, json={**new, "email": "other@else.edu"})
    assert r.status_code == 409 and body(r)["error"]["field"] == "uid"
    r = world.client("admin").post(USERS, json={**new, "uid": "eve2"})
    assert r.status_code == 409 and body(r)["error"]["field"] == "email"  # eve's address
    r = world.client("admin").post(
        USERS, json={"uid": "kim", "name": "Kim", "email": "kim@example.edu", "password": "short"}
    )
    assert r.status_code == 422 and body(r)["error"]["field"] == "password"
    assert users_named(world, "kim") == []


def test_only_domain_coordinators_create_users(world: World) -> None:
    new = {"uid": "zed@example.edu", "name": "Zed", "email": "zed@example.edu"}
    for persona in ("student", "ta", "instructor", "other_instructor"):
        r = world.client(persona).post(USERS, json=new)
        assert r.status_code == 403, persona
        error = body(r)["error"]
        assert error["message"].startswith("You can't create users in the domain Example ")
        assert "may not create users in the domain exampleuniversity" in error["details"]
    assert users_named(world, "zed@example.edu") == []


def test_importing_users_is_all_or_nothing_and_safe_to_repeat(world: World) -> None:
    admin = world.client("admin")
    url = f"{USERS}/import"
    bad = (
        "uid,name,email\n"
        "fay@example.edu,Fay Fox,fay@example.edu\n"
        f"gus@example.edu,Gus Green,{ANA.uid}\n"
        "bad uid,Someone,someone@example.edu\n"
    )
    r = admin.post(url, json={"csv": bad})
    assert r.status_code == 422
    errors = body(r)["error"]["errors"]
    assert [(e["line"], e["column"]) for e in errors] == [(3, "email"), (4, "uid")]
    assert users_named(world, "fay@example.edu", "gus@example.edu") == []
    good = (
        "uid,name,email\n"
        "fay@example.edu,Fay Fox,fay@example.edu\n"
        "gus@example.edu,Gus Green,gus@example.edu\n"
    )
    r = admin.post(url, json={"csv": good})
    assert r.status_code == 200, r.text
    assert (body(r)["created"], body(r)["unchanged"]) == (2, 0)
    assert (body(admin.post(url, json={"csv": good}))["created"]) == 0
    # Others may not import, and learn nothing about stored users from trying.
    probe = f"uid,name,email\n{BEN.uid},Someone Else,probe@example.edu\n"
    for persona in ("student", "instructor"):
        r = world.client(persona).post(url, json={"csv": probe})
        assert r.status_code == 403 and "Ben Brown" not in r.text and BEN.uid not in r.text
    r = admin.post(url, json={"csv": probe})
    assert r.status_code == 422 and "already exists with name 'Ben Brown'" in r.text


def test_reading_a_user_is_for_themselves_and_staff_over_them(world: World) -> None:
    url = f"{USERS}/{ANA.uid}"
    assert body(world.client("student").get(url))["who"] == f"Ana Alvarez ({ANA.uid})"
    assert body(world.client("ta").get(url))["status"] == "active"
    assert world.client("admin").get(url).status_code == 200
    assert world.client(BEN.uid).get(url).status_code == 403
    r = world.client("other_instructor").get(url)
    assert r.status_code == 403 and "staff of a course where" in body(r)["error"]["message"]
    assert world.client("ta").get(f"{USERS}/nobody@example.edu").status_code == 404


def test_an_administrator_corrects_the_one_authoritative_email(world: World) -> None:
    url = f"{USERS}/{ANA.uid}/email"
    r = world.client("admin").put(url, json={"email": "Ana.Alvarez@example.edu", "reason": "typo"})
    assert r.status_code == 200 and body(r)["email"] == "ana.alvarez@example.edu"
    r = world.client("admin").put(url, json={"email": BEN.uid})
    assert r.status_code == 409 and body(r)["error"]["field"] == "email"
    r = world.client("admin").put(url, json={"email": "not an address"})
    assert r.status_code == 422 and body(r)["error"]["field"] == "email"
    # Course staff never change a person's own account; nor does another student.
    for persona in ("ta", "instructor", "other_instructor", BEN.uid):
        r = world.client(persona).put(url, json={"email": "x@example.edu"})
        assert r.status_code == 403, persona
    with world.ctx() as ctx:
        (entry,) = ctx.session.scalars(
            select(HistoryEntry).where(HistoryEntry.action == "user.email")
        ).all()
        assert (entry.actor, entry.details["old"], entry.details["new"]) == (
            demo.ADMIN.uid, ANA.uid, "ana.alvarez@example.edu",
        )  # fmt: skip


def test_freeze_and_thaw_round_trip_with_sign_in(world: World) -> None:
    ana = world.sign_in(ANA.uid, ANA.password)
    assert ana.get("/api/v1/session").status_code == 200
    for persona in ("ta", "instructor"):  # course staff never freeze a person's web access
        assert world.client(persona).post(f"{USERS}/{ANA.uid}/freeze").status_code == 403
    r = world.client("admin").post(f"{USERS}/{ANA.uid}/freeze", json={"reason": "shared password"})
    assert r.status_code == 200 and body(r)["status"] == "frozen"
    assert ana.get("/api/v1/session").status_code == 401  # her session ended
    r = world.client().post("/api/v1/session", json={"uid": ANA.uid, "password": ANA.password})
    assert r.status_code == 401 and "frozen" in body(r)["error"]["message"]
    assert world.client("other_instructor").post(f"{USERS}/{ANA.uid}/thaw").status_code == 403
    assert world.client("instructor").post(f"{USERS}/{ANA.uid}/thaw").status_code == 403
    assert world.client(BEN.uid).post(f"{USERS}/{ANA.uid}/thaw").status_code == 403
    r = world.client("admin").post(f"{USERS}/{ANA.uid}/thaw", json={"reason": "new password"})
    assert r.status_code == 200 and body(r)["status"] == "active"
    assert ana.get("/api/v1/session").status_code == 401  # the old session stays ended
    again = world.sign_in(ANA.uid, ANA.password)
    assert body(again.get("/api/v1/session"))["uid"] == ANA.uid
    # An administrator may not freeze the superuser (above them).
    r = world.client("admin").post(f"{USERS}/{demo.SUPERUSER.uid}/freeze")
    assert r.status_code == 403
