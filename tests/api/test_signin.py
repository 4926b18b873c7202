"""Signing in, sessions, CSRF, API tokens, failed sign-ins (which never freeze the account; see
test_sign_in_throttle.py for the throttle), single sign-on and view-as, over HTTP."""

from __future__ import annotations

from api_support import CI_PATH, World, body
from fastapi.testclient import TestClient

from coursegate.cli import demo_world as demo
from coursegate.http.settings import Settings
from coursegate.server import create_app

ANA = demo.STUDENTS[0]


def test_sign_in_sets_a_protected_cookie_and_returns_the_csrf_token(world: World) -> None:
    c = TestClient(world.app, base_url="https://testserver")
    r = c.post("/api/v1/session", json={"uid": demo.TA.uid, "password": demo.TA.password})
    assert r.status_code == 200
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    assert body(r)["csrf_token"]
    assert body(c.get("/api/v1/session"))["uid"] == demo.TA.uid


def test_wrong_password_and_unknown_user_get_the_same_answer(world: World) -> None:
    c = world.client()
    a = c.post("/api/v1/session", json={"uid": ANA.uid, "password": "wrong-password"})
    b = c.post("/api/v1/session", json={"uid": "nobody@example.edu", "password": "x"})
    assert a.status_code == b.status_code == 401
    assert body(a)["error"]["message"] == body(b)["error"]["message"]


def test_anonymous_is_told_to_sign_in(world: World) -> None:
    r = world.client().get("/api/v1/session")
    assert r.status_code == 401
    assert body(r)["error"]["code"] == "unauthenticated"


def test_changes_with_a_cookie_need_the_csrf_token(world: World) -> None:
    c = world.sign_in(demo.TA.uid, demo.TA.password)
    token = c.headers.pop("X-CSRF-Token")
    r = c.post(f"{CI_PATH}/view-as", json={"uid": ANA.uid})
    assert r.status_code == 403 and body(r)["error"]["field"] == "x-csrf-token"
    r = c.post(f"{CI_PATH}/view-as", json={"uid": ANA.uid}, headers={"X-CSRF-Token": "forged"})
    assert r.status_code == 403
    r = c.post(f"{CI_PATH}/view-as", json={"uid": ANA.uid}, headers={"X-CSRF-Token": token})
    assert r.status_code == 200


def test_repeated_failures_never_freeze_the_account(world: World) -> None:
    """Five (or more) wrong passwords once froze web access: anyone could lock anyone out.
    Now the account stays active and its owner, at another address, signs in at once."""
    c = world.client()
    for _ in range(8):
        c.post("/api/v1/session", json={"uid": ANA.uid, "password": "not-the-password"})
    r = c.post("/api/v1/session", json={"uid": ANA.uid, "password": ANA.password})
    assert r.status_code == 429  # this address waits for this account ...
    with world.ctx() as ctx:
        assert ctx.user(ANA.uid).status == "active"  # ... the account is untouched
    owner = TestClient(world.app, base_url="https://testserver", client=("198.51.100.7", 5000))
    r = owner.post("/api/v1/session", json={"uid": ANA.uid, "password": ANA.password})
    assert r.status_code == 200, r.text


def test_a_frozen_users_open_sessions_stop_working(world: World) -> None:
    s = world.sign_in(ANA.uid, ANA.password)
    assert s.get("/api/v1/session").status_code == 200
    with world.ctx() as ctx:
        ctx.user(ANA.uid).status = "frozen"
    assert s.get("/api/v1/session").status_code == 401


def test_sign_out_revokes_the_session(world: World) -> None:
    s = world.sign_in(ANA.uid, ANA.password)
    cookie = s.cookies.get("coursegate_session")
    assert s.delete("/api/v1/session").status_code == 204
    replay = TestClient(world.app, base_url="https://testserver")
    replay.cookies.set("coursegate_session", cookie or "")
    assert replay.get("/api/v1/session").status_code == 401


def test_sessions_expire_when_idle(world: World) -> None:
    s = world.sign_in(ANA.uid, ANA.password)
    world.clock.now += 13 * 3600 * 1_000_000
    assert s.get("/api/v1/session").status_code == 401


def test_tokens_are_shown_once_scoped_and_revocable(world: World) -> None:
    s = world.client("ta")
    made = body(s.post("/api/v1/tokens", json={"name": "script", "scopes": ["read"]}))
    secret = made["token"]
    assert secret.startswith("cg_")
    listed = body(s.get("/api/v1/tokens"))
    assert [t["token"] for t in listed] == [None]
    script = TestClient(world.app, base_url="https://testserver")
    auth = {"Authorization": f"Bearer {secret}"}
    assert body(script.get("/api/v1/session", headers=auth))["via"] == "token"
    r = script.post("/api/v1/tokens", json={"name": "x"}, headers=auth)
    assert r.status_code == 403  # read-only token
    assert s.delete(f"/api/v1/tokens/{made['id']}").status_code == 204
    assert script.get("/api/v1/session", headers=auth).status_code == 401


def test_a_token_never_acts_on_a_cookie_alone(world: World) -> None:
    s = world.client("ta")
    secret = body(s.post("/api/v1/tokens", json={"name": "w", "scopes": ["read", "write"]}))[
        "token"
    ]
    script = TestClient(world.app, base_url="https://testserver")
    r = script.delete("/api/v1/session", headers={"Authorization": f"Bearer {secret}x"})
    assert r.status_code == 401


def test_view_as_marks_every_response_and_ends(world: World) -> None:
    ta = world.sign_in(demo.TA.uid, demo.TA.password)
    r = ta.post(f"{CI_PATH}/view-as", json={"uid": ANA.uid})
    assert r.status_code == 200
    assert r.headers["X-Coursegate-Viewing-As"] == ANA.uid
    r = ta.get("/api/v1/session")
    assert r.headers["X-Coursegate-Viewing-As"] == ANA.uid
    assert body(r)["viewing_as"] == ANA.uid
    r = ta.get("/api/v1/no-such-route")
    assert r.headers["X-Coursegate-Viewing-As"] == ANA.uid
    r = ta.delete("/api/v1/view-as")
    assert "X-Coursegate-Viewing-As" not in r.headers
    assert body(ta.get("/api/v1/session"))["viewing_as"] is None


def test_a_student_may_not_view_as_and_a_ta_not_as_the_instructor(world: World) -> None:
    ana = world.sign_in(ANA.uid, ANA.password)
    assert ana.post(f"{CI_PATH}/view-as", json={"uid": demo.STUDENTS[1].uid}).status_code == 403
    ta = world.sign_in(demo.TA.uid, demo.TA.password)
    r = ta.post(f"{CI_PATH}/view-as", json={"uid": demo.INSTRUCTOR.uid})
    assert r.status_code == 403
    other = world.sign_in(demo.OTHER_INSTRUCTOR.uid, demo.OTHER_INSTRUCTOR.password)
    assert other.post(f"{CI_PATH}/view-as", json={"uid": ANA.uid}).status_code == 403


def test_view_as_is_recorded_with_the_real_user(world: World) -> None:
    ta = world.sign_in(demo.TA.uid, demo.TA.password)
    ta.post(f"{CI_PATH}/view-as", json={"uid": ANA.uid})
    from sqlalchemy import select

    from coursegate.store.models import HistoryEntry

    with world.ctx() as ctx:
        entry = ctx.session.scalars(
            select(HistoryEntry).where(HistoryEntry.action == "view_as.start")
        ).one()
    assert (entry.actor, entry.subject) == (demo.TA.uid, ANA.uid)


def test_single_sign_on_header_is_trusted_only_from_the_proxy(world: World) -> None:
    settings = Settings(
        cookie_secure=False,
        data_dir=str(world.data_dir),
        secret_key="k",
        trusted_header="X-Remote-User",
        trusted_proxies=("testclient",),
    )
    app = create_app(settings, engine=world.engine, clock=world.clock)
    c = TestClient(app)
    r = c.get("/api/v1/session", headers={"X-Remote-User": demo.TA.uid})
    assert r.status_code == 200 and body(r)["via"] == "sso"
    assert "coursegate_session=" in r.headers["set-cookie"]
    assert body(c.get("/api/v1/session"))["uid"] == demo.TA.uid  # the cookie carries on
    stranger = create_app(
        Settings(data_dir=str(world.data_dir), secret_key="k", trusted_header="X-Remote-User"),
        engine=world.engine,
        clock=world.clock,
    )
    r = TestClient(stranger).get("/api/v1/session", headers={"X-Remote-User": demo.TA.uid})
    assert r.status_code == 401  # not from a trusted proxy address
    r = TestClient(app).get("/api/v1/session", headers={"X-Remote-User": "nobody@example.edu"})
    assert r.status_code == 401


def test_errors_are_json_never_a_stack_trace(world: World) -> None:
    c = world.client()
    r = c.post(
        "/api/v1/session", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422 and body(r)["error"]["code"] == "invalid"
    r = c.get("/api/v1/nothing-here")
    assert r.status_code == 404 and body(r)["error"]["code"] == "not_found"


def test_a_read_only_token_may_ask_for_decisions_but_change_nothing(world: World) -> None:
    s = world.client("ta")
    secret = body(s.post("/api/v1/tokens", json={"name": "reader", "scopes": ["read"]}))["token"]
    script = TestClient(world.app, base_url="https://testserver")
    auth = {"Authorization": f"Bearer {secret}"}
    ask = {
        "course": "CG 101",
        "course_instance": "Sp24",
        "assessment": "hw/hw1",
        "user": {"uid": ANA.uid},
    }
    r = script.post("/api/v1/decisions", json=ask, headers=auth)
    assert r.status_code == 200, r.text
    assert body(r)["assessment"]["credit"] == 120
    r = script.post(
        f"{CI_PATH}/exceptions",
        json={"uid": ANA.uid, "target": "hw/hw1", "due": "2024-02-01T23:59"},
        headers=auth,
    )
    assert r.status_code == 403 and "only read" in body(r)["error"]["message"]
