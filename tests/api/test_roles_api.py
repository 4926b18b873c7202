"""Role grants and revocations, who holds what, the domain form and custom roles, over HTTP."""

from __future__ import annotations

from api_support import CI_PATH, World, body
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from coursegate.cli import demo_world as demo
from coursegate.core.instants import format_instant, zone
from coursegate.services.people import signin
from coursegate.services.people.users import create_user
from coursegate.store.models import HistoryEntry, RoleAssignmentRow

TZ = zone("America/Chicago")
NEW = "newta@example.edu"
NEW_PASSWORD = "new-ta-password-1"
ANA, BEN = demo.STUDENTS[0].uid, demo.STUDENTS[1].uid
AREA = "/exampleuniversity/CG_101.Sp24"
ROLES = f"{CI_PATH}/roles"


def newcomer(world: World) -> TestClient:
    """A user of the institution with no role yet, signed in."""
    with world.ctx() as ctx:
        user = create_user(ctx, NEW, "Nina New", NEW, domain=demo.DOMAIN)
        signin.store_password(ctx, user, NEW_PASSWORD)
    return world.sign_in(NEW, NEW_PASSWORD)


def assignments(world: World, uid: str) -> list[tuple[str, str, int | None, int | None]]:
    with world.ctx() as ctx:
        user = ctx.user(uid)
        rows = ctx.session.scalars(
            select(RoleAssignmentRow)
            .where(RoleAssignmentRow.user_id == user.id)
            .order_by(RoleAssignmentRow.id)
        )
        return [(r.role, r.area, r.start_at, r.end_at) for r in rows]


def history_count(world: World, action: str) -> int:
    with world.ctx() as ctx:
        query = select(func.count()).select_from(HistoryEntry).where(HistoryEntry.action == action)
        return int(ctx.session.scalar(query) or 0)


def test_a_ta_cannot_grant_an_instructor_role_and_is_told_why(world: World) -> None:
    newcomer(world)
    r = world.client("ta").post(ROLES, json={"uid": NEW, "role": "in"})
    assert r.status_code == 403
    error = body(r)["error"]
    assert error["code"] == "forbidden" and error["field"] == "role"
    assert error["message"] == (
        "You can't grant the Instructor role in CG 101, Spring 2024: that needs the “grant "
        "the Instructor role” privilege, which a domain coordinator can give you."
    )
    assert f"may not grant Instructor (in) at {AREA} to {NEW}" in error["details"]
    assert "Grant/revoke role of Instructor" in error["details"]
    assert assignments(world, NEW) == []
    assert history_count(world, "role.grant") == 0


def test_an_instructor_grants_a_ta_who_can_then_act(world: World) -> None:
    nina = newcomer(world)
    assert nina.get(f"{CI_PATH}/attempts").status_code == 403  # no vst yet
    r = world.client("instructor").post(
        ROLES, json={"uid": NEW, "role": "ta", "reason": "second TA for the labs"}
    )
    assert r.status_code == 201, r.text
    got = body(r)
    assert (got["uid"], got["role"], got["role_title"], got["area"]) == (
        NEW, "ta", "Teaching Assistant", AREA,
    )  # fmt: skip
    assert got["start"] == format_instant(world.clock.now, TZ) and got["end"] is None
    assert got["state"] == "in force" and got["created_by"] == demo.INSTRUCTOR.uid
    assert assignments(world, NEW) == [("ta", AREA, world.clock.now, None)]
    # the new TA acts at once, in the same session: views students' attempts (vst) ...
    assert nina.get(f"{CI_PATH}/attempts").status_code == 200
    # ... and sees who holds what, themselves included
    listed = body(nina.get(ROLES, params={"uid": NEW}))
    assert [(a["role"], a["state"]) for a in listed] == [("ta", "in force")]
    assert history_count(world, "role.grant") == 1


def test_revoking_ends_access_on_the_next_request_and_keeps_the_record(world: World) -> None:
    nina = newcomer(world)
    staff = world.client("instructor")
    assert staff.post(ROLES, json={"uid": NEW, "role": "ta"}).status_code == 201
    assert nina.get(f"{CI_PATH}/attempts").status_code == 200
    world.clock.now += 60_000_000
    r = staff.post(f"{ROLES}/revocations", json={"uid": NEW, "role": "ta", "reason": "left"})
    assert r.status_code == 200, r.text
    [ended] = body(r)
    assert ended["state"] == "ended" and ended["end"] == format_instant(world.clock.now, TZ)
    # the very next request of the same session is refused
    r = nina.get(f"{CI_PATH}/attempts")
    assert r.status_code == 403 and "“view students” privilege" in body(r)["error"]["message"]
    assert "View students'" in body(r)["error"]["details"]
    # the record is kept, with its end
    assert assignments(world, NEW) == [("ta", AREA, world.clock.now - 60_000_000, world.clock.now)]
    kept = body(staff.get(ROLES, params={"uid": NEW, "state": "ended"}))
    assert [a["role"] for a in kept] == ["ta"]
    assert body(staff.get(ROLES, params={"uid": NEW, "state": "in_force"})) == []
    # nothing left to revoke: a conflict with the records, with the core's reason; someone
    # who may not revoke it at all is still refused
    again = staff.post(f"{ROLES}/revocations", json={"uid": NEW, "role": "ta"})
    assert again.status_code == 409 and "already ended" in body(again)["error"]["message"]
    assert body(again)["error"]["code"] == "conflict"
    refused = world.client("ta").post(f"{ROLES}/revocations", json={"uid": NEW, "role": "ta"})
    assert refused.status_code == 403


def test_only_those_the_core_allows_may_revoke(world: World) -> None:
    newcomer(world)
    world.client("instructor").post(ROLES, json={"uid": NEW, "role": "ta"})
    for persona in ("student", "ta", "other_instructor"):
        r = world.client(persona).post(f"{ROLES}/revocations", json={"uid": NEW, "role": "ta"})
        assert r.status_code == 403, persona
        assert "Grant/revoke role of Teaching Assistant" in body(r)["error"]["message"]
    assert assignments(world, NEW)[0][3] is None


def test_a_section_role_and_a_window(world: World) -> None:
    newcomer(world)
    r = world.client("instructor").post(
        ROLES,
        json={
            "uid": NEW,
            "role": "ta",
            "section": "lab-a",
            "start": "2024-02-01T00:00:00",
            "end": "2024-05-18T00:00:00",
        },
    )
    assert r.status_code == 201, r.text
    got = body(r)
    assert (got["area"], got["section"], got["state"]) == (
        f"{AREA}/lab-a",
        "lab-a",
        "not yet begun",
    )
    assert (got["start"], got["end"]) == ("2024-02-01T00:00:00-06:00", "2024-05-18T00:00:00-05:00")


def test_bad_grants_name_the_field(world: World) -> None:
    newcomer(world)
    staff = world.client("instructor")
    cases = [
        ({"uid": "ghost@example.edu", "role": "ta"}, 404, "uid"),
        ({"uid": NEW, "role": "ta", "section": "lab-z"}, 404, "section"),
        ({"uid": NEW, "role": "ta", "start": "soon"}, 422, "start"),
        ({"uid": NEW, "role": "ta", "start": "2024-03-01T00:00", "end": "2024-02-01T00:00"},
         422, "end"),
        ({"uid": NEW, "role": "ta", "colour": "red"}, 422, "colour"),
        ({"uid": NEW}, 422, "role"),
    ]  # fmt: skip
    for payload, status, field in cases:
        r = staff.post(ROLES, json=payload)
        assert r.status_code == status, (payload, r.text)
        error = body(r)["error"]
        assert error["field"] == field, (payload, error)
        assert error["message"] and "Traceback" not in r.text
    assert assignments(world, NEW) == []
    r = staff.post("/api/v1/courses/CG 101/instances/Su99/roles", json={"uid": NEW, "role": "ta"})
    assert r.status_code == 404 and body(r)["error"]["field"] == "course_instance"


def test_an_overlapping_grant_is_a_conflict_for_those_who_may_grant(world: World) -> None:
    newcomer(world)
    staff = world.client("instructor")
    assert staff.post(ROLES, json={"uid": NEW, "role": "ta"}).status_code == 201
    r = staff.post(ROLES, json={"uid": NEW, "role": "ta"})
    assert r.status_code == 409 and "revoke that first" in body(r)["error"]["message"]
    assert world.client("admin").post(ROLES, json={"uid": NEW, "role": "ta"}).status_code == 409
    # a student learns nothing from it: refused, as for any grant
    assert world.client("student").post(ROLES, json={"uid": NEW, "role": "ta"}).status_code == 403
    # a later window that does not overlap is fine (next term)
    later = {"uid": NEW, "role": "ta", "section": None, "start": "2024-09-01T00:00"}
    staff.post(f"{ROLES}/revocations", json={"uid": NEW, "role": "ta"})
    assert staff.post(ROLES, json=later).status_code == 201
    assert len(assignments(world, NEW)) == 2


def test_listing_who_holds_what_needs_vst(world: World) -> None:
    listed = body(world.client("ta").get(ROLES))
    held = {(a["uid"], a["role"]) for a in listed}
    assert {(demo.INSTRUCTOR.uid, "in"), (demo.INSTRUCTOR.uid, "cc"), (demo.TA.uid, "ta")} <= held
    assert (ANA, "st") in held and (demo.OTHER_INSTRUCTOR.uid, "in") not in held
    assert all(a["state"] == "in force" for a in listed)
    only_ta = body(world.client("ta").get(ROLES, params={"role": "ta"}))
    assert [a["uid"] for a in only_ta] == [demo.TA.uid]
    for persona in ("student", "other_instructor"):
        assert world.client(persona).get(ROLES).status_code == 403
    bad = world.client("ta").get(ROLES, params={"state": "someday"})
    assert bad.status_code == 422 and body(bad)["error"]["field"] == "state"


# -- the domain form ---------------------------------------------------------------------------


def test_a_domain_coordinator_grants_and_revokes_domain_roles(world: World) -> None:
    domain_roles = "/api/v1/domains/exampleuniversity/roles"
    r = world.client("admin").post(domain_roles, json={"uid": ANA, "role": "dg", "reason": "lib"})
    assert r.status_code == 201, r.text
    assert (body(r)["area"], body(r)["role_title"]) == ("/exampleuniversity/", "Domain Guest")
    for persona in ("instructor", "ta", "student"):
        refused = world.client(persona).post(domain_roles, json={"uid": BEN, "role": "dg"})
        assert refused.status_code == 403, persona
        error = body(refused)["error"]
        assert "You can't grant the Domain Guest role in the domain " in error["message"]
        assert "Grant/revoke role of Domain Guest" in error["details"]
    # course roles anywhere in the domain, through the same form
    newcomer(world)
    r = world.client("admin").post(domain_roles, json={"uid": NEW, "role": "ta", "area": AREA})
    assert r.status_code == 201 and body(r)["area"] == AREA
    listed = body(world.client("admin").get(domain_roles, params={"uid": ANA}))
    assert {(a["role"], a["area"]) for a in listed} == {("dg", "/exampleuniversity/"), ("st", AREA)}
    assert world.client("instructor").get(domain_roles).status_code == 403
    r = world.client("admin").post(f"{domain_roles}/revocations", json={"uid": ANA, "role": "dg"})
    assert r.status_code == 200 and body(r)[0]["state"] == "ended"


def test_the_domain_form_stays_in_its_domain(world: World) -> None:
    admin = world.client("admin")
    r = admin.post(
        "/api/v1/domains/exampleuniversity/roles",
        json={"uid": ANA, "role": "ta", "area": "/otheruniversity/CS_1.Sp24"},
    )
    assert r.status_code == 422 and body(r)["error"]["field"] == "area"
    r = admin.post("/api/v1/domains/nowhere/roles", json={"uid": ANA, "role": "dg"})
    assert r.status_code == 404 and body(r)["error"]["field"] == "domain"
    r = admin.get("/api/v1/domains/bad domain!/roles")
    assert r.status_code == 422 and body(r)["error"]["field"] == "domain"
    r = admin.post(
        "/api/v1/domains/exampleuniversity/roles",
        json={"uid": ANA, "role": "dg", "start": "2024-02-01T00:00"},
    )
    assert r.status_code == 422 and body(r)["error"]["field"] == "start"  # an offset is needed


# -- custom roles ------------------------------------------------------------------------------


def test_define_a_custom_role_then_grant_it_like_any_role(world: World) -> None:
    staff = world.client("instructor")
    r = staff.put("/api/v1/custom-roles/grader", json={"course": "bre:vgr:mgr", "reason": "labs"})
    assert r.status_code == 201, r.text
    defined = body(r)
    role = "cr/exampleuniversity/instructor@example.edu/grader"
    assert (defined["role"], defined["created"]) == (role, True)
    assert defined["course"] == "bre&R:vgr&SCR:mgr&SCR"  # the template's letters always apply
    again = staff.put("/api/v1/custom-roles/grader", json={"course": "bre:vgr"})
    assert again.status_code == 200 and body(again)["created"] is False
    listed = body(world.client("student").get("/api/v1/custom-roles"))
    assert [(d["role"], d["course"]) for d in listed] == [(role, "bre&R:vgr&SCR")]
    r = staff.post(ROLES, json={"uid": BEN, "role": role, "section": "lab-b"})
    assert r.status_code == 201, r.text
    assert body(r)["role_title"] == "custom role exampleuniversity/instructor@example.edu/grader"
    refused = world.client("ta").post(ROLES, json={"uid": ANA, "role": role})
    assert refused.status_code == 403
    error = body(refused)["error"]
    assert error["message"].startswith("You can't grant the custom role grader in CG 101, ")
    assert "“grant custom roles” privilege" in error["message"]
    assert "Grant/revoke Course Custom Role" in error["details"]


def test_custom_role_refusals_name_the_level(world: World) -> None:
    r = world.client("instructor").put("/api/v1/custom-roles/proctor", json={"course": "mrs"})
    assert r.status_code == 403
    error = body(r)["error"]
    assert error["field"] == "course" and "c:mrs" in error["message"]
    for persona in ("ta", "admin", "student"):
        r = world.client(persona).put("/api/v1/custom-roles/mine", json={"course": "bre"})
        assert r.status_code == 403, persona
        error = body(r)["error"]
        assert "“define custom roles” privilege" in error["message"]
        assert "Create a Course Custom Role (mcr)" in error["details"]
    bad = world.client("instructor").put("/api/v1/custom-roles/no good", json={})
    assert bad.status_code == 422 and body(bad)["error"]["field"] == "name"
    assert body(world.client("instructor").get("/api/v1/custom-roles")) == []


# -- class accounts nobody holds (issue 13, finding 7) ----------------------------------------

CLASS_ACCOUNTS = f"{CI_PATH}/accounts"


def _recycled_class_account(world: World) -> None:
    """cg101aa and cg101ab assigned in CG 101 Sp24 (as in the demo), then cg101aa recycled:
    wiped and free in the pool, with its former holder's ended Student role kept as history."""
    (world.data_dir / "home").mkdir(exist_ok=True)
    r = world.client("admin").post("/api/v1/courses/CG 101/account-stems", json={"stem": "cg101"})
    assert r.status_code == 201, r.text
    emails = "eve@student.example.edu\nfinn@student.example.edu"
    r = world.client("instructor").post(CLASS_ACCOUNTS, json={"emails": emails})
    assert [a["account"] for a in body(r)["assigned"]] == ["cg101aa", "cg101ab"]
    world.clock.now += 60_000_000
    r = world.client("instructor").delete(f"{CLASS_ACCOUNTS}/cg101aa")
    assert body(r)["started"] == ["cg101aa"]  # the wipe runs right after the request
    world.clock.now += 60_000_000
    pool = body(world.client("admin").get("/api/v1/courses/CG 101/account-pool"))
    assert {a["account"]: a["state"] for a in pool} == {"cg101aa": "free", "cg101ab": "assigned"}


RECYCLED = (
    "cg101aa is a recycled class account of CG 101: it holds no one's work and takes no role "
    "until assigned again"
)


def test_a_recycled_class_account_takes_no_role_and_says_so(world: World) -> None:
    """Granting, revoking or viewing as a recycled class account answered 500: the roles core
    refused to load the account's kept history (its ended Student role) at all."""
    _recycled_class_account(world)
    staff = world.client("instructor")
    for role in ("st", "ta"):
        r = staff.post(ROLES, json={"uid": "cg101aa", "role": role})
        assert r.status_code == 403, r.text
        assert RECYCLED in body(r)["error"]["message"]
    r = world.client("admin").post(
        "/api/v1/domains/exampleuniversity/roles",
        json={"uid": "cg101aa", "role": "ta", "area": AREA},
    )
    assert r.status_code == 403 and RECYCLED in body(r)["error"]["message"]
    # Its former holder's Student role has ended: nothing is left to revoke (a conflict for
    # those who may revoke it, the refusal for others).
    r = staff.post(f"{ROLES}/revocations", json={"uid": "cg101aa", "role": "st"})
    assert r.status_code == 409, r.text
    assert "already ended" in body(r)["error"]["message"]
    assert RECYCLED in body(r)["error"]["message"]
    r = world.client("student").post(f"{ROLES}/revocations", json={"uid": "cg101aa", "role": "st"})
    assert r.status_code == 403
    # Nobody views the course as it: it holds no role there.
    for persona in ("instructor", "ta"):
        r = world.client(persona).post(f"{CI_PATH}/view-as", json={"uid": "cg101aa"})
        assert r.status_code == 403, r.text
        assert "cg101aa is a recycled class account of CG 101" in body(r)["error"]["message"]
    # The record of who held what stays readable, and the other account is untouched.
    kept = body(staff.get(ROLES, params={"uid": "cg101aa"}))
    assert [(a["role"], a["state"]) for a in kept] == [("st", "ended")]
    r = staff.post(f"{CI_PATH}/view-as", json={"uid": "cg101ab"})
    assert r.status_code == 200 and staff.delete("/api/v1/view-as").status_code == 200


def test_a_class_account_reassigned_next_term_acts_and_is_acted_on(world: World) -> None:
    """A recycled account assigned to a student of a later term keeps the earlier term's
    ended Student role as history: its own requests, and staff's over it, used to answer 500."""
    _recycled_class_account(world)
    fa14 = "/api/v1/courses/CG 101/instances/Fa14"
    with world.ctx() as ctx:  # Fa14's instructor is another: the operator assigns there
        from coursegate.services.accounts import service
        from coursegate.services.accounts.site import Site
        from coursegate.services.common.places import find_course_instance

        site = Site.from_settings(world.app.state.settings)
        ci = find_course_instance(ctx, demo.COURSE, "Fa14")
        report = service.assign(
            ctx, site, site.issuer(), ci.id, service.parse_list("zed@student.example.edu")
        )
        assert [(a.account, a.reassigned) for a in report.assigned] == [("cg101aa", True)]
        signin.store_password(ctx, ctx.user("cg101aa"), "zeds-own-password-1")
    zed = world.sign_in("cg101aa", "zeds-own-password-1")
    r = zed.get(f"{fa14}/students/cg101aa/assessments")
    assert r.status_code == 200, r.text
    r = zed.get(f"{CI_PATH}/roles")  # Sp24 is not its course any more: refused, not a crash
    assert r.status_code == 403, r.text
    other = world.client("other_instructor")  # Fa14's instructor
    r = other.post(f"{fa14}/view-as", json={"uid": "cg101aa"})
    assert r.status_code == 200, r.text
    assert other.delete("/api/v1/view-as").status_code == 200
    r = world.client("instructor").post(ROLES, json={"uid": "cg101aa", "role": "st"})
    assert r.status_code == 403 and "only in its own course" in body(r)["error"]["message"]
