"""Who may act on a person's own account, and what view-as may do (issue 13, findings 1, 2,
3 and 6), tried over HTTP as an attacker would.

* An invitation, a block or a roster line never puts a person under anyone: an instructor who
  invites or blocks the administrator cannot then reset their password, email or web access.
* A person's own account is theirs (with their current password), their domain coordinator's
  or a superuser's — over people whose roles are all below theirs — never course staff's.
* View-as is for seeing: the viewed user is not oneself, nothing is changed meanwhile, it never
  reaches the viewed user's other courses, and it ends the moment the role that allowed it does.
* A password change ends the user's API tokens; changing one's own needs the current one.
"""

from __future__ import annotations

from api_support import CI_PATH, COURSE, World, body
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from coursegate.cli import demo_world as demo
from coursegate.services.common.places import find_course_instance
from coursegate.services.courses.enrollment import enroll
from coursegate.store.models import HistoryEntry, RoleAssignmentRow, User

ANA, BEN = demo.STUDENTS[0], demo.STUDENTS[1]
ADMIN, ROOT = demo.ADMIN, demo.SUPERUSER
NEW = "a-brand-new-password-1"


def _signs_in(world: World, uid: str, password: str) -> bool:
    c = TestClient(world.app, base_url="https://testserver")
    return c.post("/api/v1/session", json={"uid": uid, "password": password}).status_code == 200


def _instructor(world: World) -> TestClient:
    return world.sign_in(demo.INSTRUCTOR.uid, demo.INSTRUCTOR.password)


# -- finding 1: no account takeover through one's own course --------------------------------


def test_inviting_or_blocking_the_administrator_gives_no_power_over_them(world: World) -> None:
    ivy = _instructor(world)
    assert ivy.post(f"{CI_PATH}/invitations", json={"uid": ADMIN.uid}).status_code < 300
    r = ivy.put(f"/api/v1/users/{ADMIN.uid}/password", json={"password": "pwned-by-ivy-1"})
    assert r.status_code == 403, r.text
    assert "never by course staff" in body(r)["error"]["message"]
    assert ivy.get(f"/api/v1/users/{ADMIN.uid}").status_code == 403
    assert (
        ivy.put(f"/api/v1/users/{ADMIN.uid}/email", json={"email": "x@evil.test"}).status_code
        == 403
    )
    assert ivy.post(f"/api/v1/users/{ADMIN.uid}/freeze").status_code == 403
    ivy.post(f"{CI_PATH}/enrollments/{ADMIN.uid}/block", json={"reason": "attack"})
    r = ivy.put(f"/api/v1/users/{ADMIN.uid}/password", json={"password": "pwned-by-ivy-1"})
    assert r.status_code == 403
    assert _signs_in(world, ADMIN.uid, ADMIN.password)
    assert not _signs_in(world, ADMIN.uid, "pwned-by-ivy-1")


def test_course_staff_never_reset_their_students_passwords(world: World) -> None:
    for staff in (demo.INSTRUCTOR, demo.TA):
        c = world.sign_in(staff.uid, staff.password)
        r = c.put(f"/api/v1/users/{BEN.uid}/password", json={"password": NEW})
        assert r.status_code == 403, (staff.uid, r.text)
        assert c.post(f"/api/v1/users/{BEN.uid}/freeze").status_code == 403
        # Reading their student's record is still theirs (a roster line shows it anyway).
        assert c.get(f"/api/v1/users/{BEN.uid}").status_code == 200
    assert _signs_in(world, BEN.uid, BEN.password)


def test_a_domain_coordinator_resets_a_students_password_and_everything_of_theirs_ends(
    world: World,
) -> None:
    ben = world.sign_in(BEN.uid, BEN.password)
    token = body(ben.post("/api/v1/tokens", json={"name": "script", "scopes": ["read"]}))["token"]
    admin = world.sign_in(ADMIN.uid, ADMIN.password)
    r = admin.put(f"/api/v1/users/{BEN.uid}/password", json={"password": NEW, "reason": "lost"})
    assert r.status_code == 204, r.text
    assert ben.get("/api/v1/session").status_code == 401
    script = TestClient(world.app, base_url="https://testserver")
    r = script.get("/api/v1/session", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    assert _signs_in(world, BEN.uid, NEW)
    with world.ctx() as ctx:
        entry = ctx.session.scalars(
            select(HistoryEntry).where(HistoryEntry.action == "password.set")
        ).one()
        assert entry.actor == ADMIN.uid
        assert entry.details["by"] == "domain"
        assert entry.details["tokens_revoked"] == 1


def test_nobody_acts_on_someone_at_their_level_or_above(world: World) -> None:
    with world.ctx() as ctx:
        peer = ctx.user(demo.TA.uid)
        ctx.session.add(
            RoleAssignmentRow(
                user_id=peer.id,
                role="dc",
                area=f"/{demo.DOMAIN}/",
                created_by="system",
                created_at=ctx.at,
            )
        )
    admin = world.sign_in(ADMIN.uid, ADMIN.password)
    # Another domain coordinator (the TA, promoted), and the superuser: not the coordinator's.
    for target in (demo.TA.uid, ROOT.uid):
        r = admin.put(f"/api/v1/users/{target}/password", json={"password": NEW})
        assert r.status_code == 403, (target, r.text)
        assert "same level" in body(r)["error"]["message"]
    # The superuser stands above a domain coordinator.
    root = world.sign_in(ROOT.uid, ROOT.password)
    r = root.put(f"/api/v1/users/{ADMIN.uid}/password", json={"password": NEW})
    assert r.status_code == 204, r.text


# -- finding 6: changing one's own password -----------------------------------------------------


def test_changing_ones_own_password_needs_the_current_one_and_ends_tokens(world: World) -> None:
    ben = world.sign_in(BEN.uid, BEN.password)
    laptop = world.sign_in(BEN.uid, BEN.password)
    token = body(ben.post("/api/v1/tokens", json={"name": "script", "scopes": ["read"]}))["token"]
    url = f"/api/v1/users/{BEN.uid}/password"
    assert ben.put(url, json={"password": NEW}).status_code == 403
    r = ben.put(url, json={"password": NEW, "current_password": "not-my-password"})
    assert r.status_code == 403
    assert "current password" in body(r)["error"]["message"]
    r = ben.put(url, json={"password": NEW, "current_password": BEN.password})
    assert r.status_code == 204, r.text
    assert ben.get("/api/v1/session").status_code == 200  # this session stays
    assert laptop.get("/api/v1/session").status_code == 401  # the others end
    script = TestClient(world.app, base_url="https://testserver")
    r = script.get("/api/v1/session", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    assert _signs_in(world, BEN.uid, NEW)


# -- finding 2: view-as is for seeing -------------------------------------------------------------


def test_view_as_is_not_being_them(world: World) -> None:
    ivy = _instructor(world)
    assert ivy.post(f"{CI_PATH}/view-as", json={"uid": BEN.uid}).status_code == 200
    r = ivy.put(f"/api/v1/users/{BEN.uid}/password", json={"password": NEW})
    assert r.status_code == 403, r.text
    assert "viewing as" in body(r)["error"]["message"]
    assert ivy.post("/api/v1/tokens", json={"name": "as ben"}).status_code == 403
    r = ivy.post(f"{CI_PATH}/exceptions", json={"uid": ANA.uid, "assessment": "hw/hw1"})
    assert r.status_code == 403
    # Seeing is what view-as is for: Ben's own decisions in this course.
    asked = {"course": COURSE, "course_instance": demo.INSTANCE, "assessment": "hw/hw1"}
    assert ivy.post("/api/v1/decisions", json=asked).status_code == 200
    assert ivy.delete("/api/v1/view-as").status_code == 200
    assert _signs_in(world, BEN.uid, BEN.password)


def test_view_as_never_reaches_the_viewed_users_other_courses(world: World) -> None:
    with world.ctx() as ctx:
        other = find_course_instance(ctx, COURSE, demo.OTHER_INSTANCE)
        enroll(ctx, other.id, BEN.uid, reason="takes both")
    ivy = _instructor(world)
    ivy.post(f"{CI_PATH}/view-as", json={"uid": BEN.uid})
    elsewhere = {"course": COURSE, "course_instance": demo.OTHER_INSTANCE, "assessment": "hw/hw1"}
    assert ivy.post("/api/v1/decisions", json=elsewhere).status_code == 403
    mine = body(ivy.get("/api/v1/me/courses"))
    assert [c["course_instance"] for c in mine["course_instances"]] == [demo.INSTANCE]


# -- finding 3: view-as ends with the role that allowed it ----------------------------------------


def test_view_as_ends_when_the_viewers_role_is_revoked(world: World) -> None:
    ta = world.sign_in(demo.TA.uid, demo.TA.password)
    assert ta.post(f"{CI_PATH}/view-as", json={"uid": ANA.uid}).status_code == 200
    assert ta.get("/api/v1/session").headers["X-Coursegate-Viewing-As"] == ANA.uid
    with world.ctx() as ctx:
        me = ctx.session.scalars(select(User).where(User.uid == demo.TA.uid)).one()
        ctx.session.execute(
            update(RoleAssignmentRow)
            .where(RoleAssignmentRow.user_id == me.id)
            .values(end_at=ctx.at - 1)
        )
    r = ta.get("/api/v1/session")
    assert "X-Coursegate-Viewing-As" not in r.headers
    assert body(r)["viewing_as"] is None
    asked = {"course": COURSE, "course_instance": demo.INSTANCE, "assessment": "hw/hw1"}
    r = ta.post("/api/v1/decisions", json={**asked, "user": {"uid": ANA.uid}})
    assert r.status_code == 403
    with world.ctx() as ctx:
        ended = ctx.session.scalars(
            select(HistoryEntry).where(HistoryEntry.action == "view_as.end")
        ).one()
        assert ended.subject == ANA.uid
        assert "no longer allowed" in ended.reason
