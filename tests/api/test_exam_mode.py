"""Exam mode as the seed defines it (issue 15, class 7): a request from a testing-centre network
(at that time, for that institution) is in Exam mode — the client address is the socket's
peer, or the forwarded one only behind a configured trusted proxy; an instructor may switch
their own session to Exam mode to preview (students and TAs may not); reservations keep
working; and the decision's explanation says why the mode is Exam."""

from __future__ import annotations

import dataclasses
from typing import Any

from api_support import CI_PATH, World, body
from fastapi.testclient import TestClient
from sqlalchemy import select

from coursegate.cli import demo_world as demo
from coursegate.core.instants import Instant, parse_date, zone
from coursegate.services.common.places import ensure_domain
from coursegate.store.models import HistoryEntry, RoleAssignmentRow

TZ = zone("America/Chicago")
ANA = demo.STUDENTS[0]
QUIZ = "quizzes/quiz1"  # open in Public mode on Feb 6, 2024; no Exam-mode access
EXAM2 = "d7fcbf5c-a803-4d7e-94bf-68e68fa3dc85"
NETWORKS = "/api/v1/exam-networks"
FORWARDED = "X-Forwarded-For"
LAB_WORDS = "Exam mode: your computer is on the testing-centre network"
SWITCH_WORDS = "Exam mode: you switched your session to Exam mode"


def t(text: str) -> Instant:
    return parse_date(text, TZ)[0]


def behind_proxy(world: World, proxies: tuple[str, ...] = ("127.0.0.1", "::1")) -> None:
    world.app.state.settings = dataclasses.replace(
        world.app.state.settings, forwarded_header=FORWARDED, trusted_proxies=proxies
    )


def from_address(world: World, address: str, who: demo.DemoUser = ANA) -> TestClient:
    """A client whose socket peer is ``address``, signed in as ``who``."""
    c = TestClient(world.app, base_url="https://testserver", client=(address, 50000))
    r = c.post("/api/v1/session", json={"uid": who.uid, "password": who.password})
    assert r.status_code == 200, r.text
    c.headers["X-CSRF-Token"] = body(r)["csrf_token"]
    return c


def add(world: World, cidr: str, name: str = "Lab A", **extra: Any) -> dict[str, Any]:
    payload = {"name": name, "cidr": cidr, "domain": demo.DOMAIN, **extra}
    r = world.client("admin").post(NETWORKS, json=payload)
    assert r.status_code == 201, r.text
    return dict(body(r))


def decision(c: TestClient, aid: str = QUIZ, **extra: Any) -> dict[str, Any]:
    req = {"course": demo.COURSE, "course_instance": demo.INSTANCE, "assessment": aid, **extra}
    r = c.post("/api/v1/decisions", json=req)
    assert r.status_code == 200, r.text
    return dict(body(r)["assessment"])


def in_exam_mode(d: dict[str, Any], words: str = LAB_WORDS) -> bool:
    return bool(d["explanation"]) and d["explanation"][0].startswith(words)


def my_list(c: TestClient) -> dict[str, Any]:
    r = c.get(f"{CI_PATH}/students/{ANA.uid}/assessments")
    assert r.status_code == 200, r.text
    return dict(body(r))


def test_on_loopback_a_configured_range_puts_the_request_in_exam_mode(world: World) -> None:
    world.clock.now = t("2024-02-06T10:00")
    lab = from_address(world, "127.0.0.1")
    public = decision(lab)
    assert public["can_start"] is True and not in_exam_mode(public)
    assert my_list(lab)["mode"] == "Public"
    add(world, "127.0.0.0/8", "Loopback lab")
    exam = decision(lab)
    assert exam["can_start"] is False
    assert exam["explanation"][0] == (
        "Exam mode: your computer is on the testing-centre network Loopback lab (127.0.0.0/8)"
    )
    mine = my_list(lab)
    assert mine["mode"] == "Exam" and mine["mode_explanation"].startswith(LAB_WORDS)
    assert QUIZ not in [a["assessment"] for a in mine["assessments"]]
    # starting refuses with the decision's explanation, which says why the mode is Exam
    r = lab.post(f"{CI_PATH}/attempts", json={"assessment": QUIZ})
    assert r.status_code == 403 and "testing-centre network Loopback lab" in r.text
    # an explicit mode in a decision request is still answered as asked
    assert decision(lab, mode="Public")["can_start"] is True


def test_the_forwarded_address_counts_only_behind_a_trusted_proxy(world: World) -> None:
    world.clock.now = t("2024-02-06T10:00")
    add(world, "192.0.2.0/24", "Grainger lab")
    proxy = from_address(world, "127.0.0.1")
    proxy.headers[FORWARDED] = "192.0.2.44"
    assert not in_exam_mode(decision(proxy))  # no forwarded_header configured: the peer
    behind_proxy(world)
    assert in_exam_mode(decision(proxy))
    # what a client writes itself stays on the left, unbelieved
    proxy.headers[FORWARDED] = "192.0.2.44, 203.0.113.9"
    assert not in_exam_mode(decision(proxy))
    # a client that is no trusted proxy cannot claim the lab's address
    outside = from_address(world, "203.0.113.9")
    outside.headers[FORWARDED] = "192.0.2.44"
    d = decision(outside)
    assert d["can_start"] is True and not in_exam_mode(d)
    r = outside.post(f"{CI_PATH}/attempts", json={"assessment": QUIZ})
    assert r.status_code == 201 and body(r)["mode"] == "Public"


def test_ipv6_networks_and_addresses(world: World) -> None:
    world.clock.now = t("2024-02-06T10:00")
    behind_proxy(world)
    add(world, "2001:db8:5::/48", "Lab v6")
    proxy = from_address(world, "::1")
    for forwarded, exam in [
        ("2001:db8:5:1::17", True),
        ("[2001:db8:5::9]:4711", True),
        ("2001:db8:6::1", False),
        ("192.0.2.1", False),
    ]:
        proxy.headers[FORWARDED] = forwarded
        assert in_exam_mode(decision(proxy)) is exam, forwarded
    add(world, "::1/128", "Loopback v6")
    direct = from_address(world, "::1")
    assert in_exam_mode(decision(direct))
    # an IPv4 client seen through an IPv6 socket is its IPv4 address
    add(world, "198.51.100.0/24", "Lab v4")
    proxy.headers[FORWARDED] = "::ffff:198.51.100.3"
    assert decision(proxy)["explanation"][0].startswith(f"{LAB_WORDS} Lab v4")


def test_a_network_counts_only_within_its_window(world: World) -> None:
    world.clock.now = t("2024-02-06T08:00")
    add(
        world,
        "127.0.0.0/8",
        starts_at="2024-02-06T09:00:00-06:00",
        ends_at="2024-02-06T11:00:00-06:00",
    )
    lab = from_address(world, "127.0.0.1")
    for when, exam in [
        ("2024-02-06T08:59", False),
        ("2024-02-06T09:00", True),
        ("2024-02-06T10:59", True),
        ("2024-02-06T11:00", False),
    ]:
        world.clock.now = t(when)
        assert in_exam_mode(decision(lab)) is exam, when
    world.clock.now = t("2024-02-06T10:00")
    removed = body(world.client("admin").get(NETWORKS))[0]["id"]
    world.client("admin").delete(f"{NETWORKS}/{removed}")
    assert not in_exam_mode(decision(lab))


def test_a_network_counts_for_its_institution_or_site_wide(world: World) -> None:
    world.clock.now = t("2024-02-06T10:00")
    with world.ctx() as ctx:
        ensure_domain(ctx, "otheruniversity", "Other University")
    root = world.sign_in(demo.SUPERUSER.uid, demo.SUPERUSER.password)
    lab = {"name": "Their lab", "cidr": "127.0.0.0/8", "domain": "otheruniversity"}
    assert root.post(NETWORKS, json=lab).status_code == 201
    student = from_address(world, "127.0.0.1")
    assert not in_exam_mode(decision(student))  # another institution's lab
    site = {**lab, "name": "Shared lab", "domain": None}
    assert root.post(NETWORKS, json=site).status_code == 201
    assert decision(student)["explanation"][0].startswith(f"{LAB_WORDS} Shared lab")


def test_a_student_off_the_network_stays_in_public_mode(world: World) -> None:
    world.clock.now = t("2024-02-06T10:00")
    behind_proxy(world)
    add(world, "192.0.2.0/24")
    home = from_address(world, "127.0.0.1")
    home.headers[FORWARDED] = "198.51.100.20"
    d = decision(home)
    assert d["can_start"] is True and not any("Exam mode" in x for x in d["explanation"])
    mine = my_list(home)
    assert mine["mode"] == "Public" and mine["mode_explanation"] is None
    r = home.post(f"{CI_PATH}/attempts", json={"assessment": QUIZ})
    assert r.status_code == 201 and body(r)["mode"] == "Public"


# -- an instructor's own switch -----------------------------------------------------------------


def switches(world: World) -> list[tuple[str, str, Any]]:
    with world.ctx() as ctx:
        rows = ctx.session.execute(
            select(HistoryEntry.actor, HistoryEntry.subject, HistoryEntry.details)
            .where(HistoryEntry.action == "session.mode")
            .order_by(HistoryEntry.id)
        )
        return [(a, s, d["mode"]) for a, s, d in rows]


def test_an_instructor_previews_exam_mode_and_switches_back(world: World) -> None:
    world.clock.now = t("2024-02-06T10:00")
    prof = world.sign_in(demo.INSTRUCTOR.uid, demo.INSTRUCTOR.password)
    r = prof.post("/api/v1/session/mode", json={"mode": "Exam"})
    assert r.status_code == 200, r.text
    assert body(r) == {"mode": "Exam", "switched": True, "why": SWITCH_WORDS}
    # viewing as a student shows what the student would see in Exam mode
    assert prof.post(f"{CI_PATH}/view-as", json={"uid": ANA.uid}).status_code == 200
    d = decision(prof)
    assert d["can_start"] is False and d["explanation"][0] == SWITCH_WORDS
    assert my_list(prof)["mode"] == "Exam"
    # like every change, switching is refused while viewing as someone
    refused = prof.post("/api/v1/session/mode", json={"mode": "Public"})
    assert refused.status_code == 403 and body(refused)["error"]["field"] == "view_as"
    assert prof.delete("/api/v1/view-as").status_code in (200, 204)
    back = prof.post("/api/v1/session/mode", json={"mode": "Public"})
    assert back.status_code == 200 and body(back)["mode"] == "Public"
    assert prof.post(f"{CI_PATH}/view-as", json={"uid": ANA.uid}).status_code == 200
    assert decision(prof)["can_start"] is True
    # the switch belongs to that session only
    other_session = world.sign_in(demo.INSTRUCTOR.uid, demo.INSTRUCTOR.password)
    other_session.post("/api/v1/session/mode", json={"mode": "Exam"})
    assert prof.get("/api/v1/session").status_code == 200
    assert decision(prof)["can_start"] is True
    assert switches(world) == [
        (demo.INSTRUCTOR.uid, demo.INSTRUCTOR.uid, "Exam"),
        (demo.INSTRUCTOR.uid, demo.INSTRUCTOR.uid, "Public"),
        (demo.INSTRUCTOR.uid, demo.INSTRUCTOR.uid, "Exam"),
    ]


def test_a_switch_counts_only_while_its_holder_is_an_instructor(world: World) -> None:
    world.clock.now = t("2024-02-06T10:00")
    prof = world.sign_in(demo.INSTRUCTOR.uid, demo.INSTRUCTOR.password)
    assert body(prof.post("/api/v1/session/mode", json={"mode": "Exam"}))["mode"] == "Exam"
    assert decision(prof)["explanation"][0] == SWITCH_WORDS
    # the instructor role ends (the term is over): the switched session is Public again
    with world.ctx() as ctx:
        me = ctx.user(demo.INSTRUCTOR.uid)
        for row in ctx.session.scalars(
            select(RoleAssignmentRow).where(
                RoleAssignmentRow.user_id == me.id, RoleAssignmentRow.role.in_(("in", "cc"))
            )
        ):
            row.end_at = world.clock.now
    world.clock.now += 1
    assert SWITCH_WORDS not in decision(prof)["explanation"]


def test_an_api_token_can_be_switched_too(world: World) -> None:
    world.clock.now = t("2024-02-06T10:00")
    prof = world.sign_in(demo.INSTRUCTOR.uid, demo.INSTRUCTOR.password)
    r = prof.post("/api/v1/tokens", json={"name": "preview", "scopes": ["read", "write"]})
    script = TestClient(world.app, base_url="https://testserver")
    script.headers["Authorization"] = f"Bearer {body(r)['token']}"
    assert body(script.post("/api/v1/session/mode", json={"mode": "Exam"}))["mode"] == "Exam"
    assert switches(world)[-1] == (demo.INSTRUCTOR.uid, demo.INSTRUCTOR.uid, "Exam")
    # the browser session of the same instructor is not switched
    assert body(prof.post("/api/v1/session/mode", json={"mode": "Public"}))["mode"] == "Public"
    assert body(script.post("/api/v1/session/mode", json={"mode": "Exam"}))["switched"] is True


def test_students_and_tas_may_not_switch_to_exam_mode(world: World) -> None:
    for persona in ("student", "ta", "admin"):
        r = world.client(persona).post("/api/v1/session/mode", json={"mode": "Exam"})
        assert r.status_code == 403, (persona, r.text)
        error = body(r)["error"]
        assert error["field"] == "mode"
        assert "only instructors may switch their session to Exam mode" in error["message"]
    assert switches(world) == []
    bad = world.client("instructor").post("/api/v1/session/mode", json={"mode": "exam"})
    assert bad.status_code == 422 and body(bad)["error"]["field"] == "mode"


# -- reservations keep working, and say so ------------------------------------------------------


def test_a_reservation_in_force_is_exam_mode_and_says_which_exam(world: World) -> None:
    world.clock.now = t("2024-02-27T09:00")
    slot = {
        "uid": ANA.uid,
        "exam_uuid": EXAM2,
        "access_start": "2024-02-27T10:00:00-06:00",
        "access_end": "2024-02-27T12:00:00-06:00",
    }
    assert world.client("instructor").put("/api/v1/reservations/pt-1", json=slot).status_code == 200
    world.clock.now = t("2024-02-27T10:30")
    r = world.client("student").post(f"{CI_PATH}/attempts", json={"assessment": "exams/exam2"})
    assert r.status_code == 201, r.text
    attempt = body(r)
    assert attempt["mode"] == "Exam"
    assert attempt["decision"]["explanation"][0] == (
        f"Exam mode: a reservation for exam {EXAM2} is in force until 2024-02-27T12:00:00-06:00"
    )
    mine = my_list(world.client("student"))
    assert mine["mode"] == "Exam" and "reservation" in mine["mode_explanation"]
