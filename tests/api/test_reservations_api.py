"""Testing-centre exam reservations over HTTP: a centre's API token records them idempotently,
cancels them, and the exam becomes startable in Exam mode during the reservation only."""

from __future__ import annotations

from typing import Any

from api_support import CI_PATH, World, body
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from coursegate.cli import demo_world as demo
from coursegate.core.instants import Instant, parse_date, zone
from coursegate.services.people import signin
from coursegate.services.people.grants import grant_role
from coursegate.services.people.users import create_user
from coursegate.store.models import ExamReservation, HistoryEntry

TZ = zone("America/Chicago")
EXAM2 = "d7fcbf5c-a803-4d7e-94bf-68e68fa3dc85"
UNLINKED = "00000000-0000-4000-8000-000000000000"
CENTRE = "centre@example.edu"
ANA, BEN = demo.STUDENTS[0].uid, demo.STUDENTS[1].uid
AREA = "/exampleuniversity/CG_101.Sp24"
SLOT = {
    "uid": ANA,
    "exam_uuid": EXAM2,
    "access_start": "2024-02-27T10:00:00-06:00",
    "access_end": "2024-02-27T12:00:00-06:00",
}


def t(text: str) -> Instant:
    return parse_date(text, TZ)[0]


def centre(world: World) -> TestClient:
    """The testing centre's script: an account holding Exam Proctor (ep) in Sp24, calling with
    a personal API token that may write (no cookie, no CSRF token)."""
    with world.ctx() as ctx:
        user = create_user(ctx, CENTRE, "Testing Centre", CENTRE, domain=demo.DOMAIN)
        signin.store_password(ctx, user, "centre-password-1")
        grant_role(ctx, CENTRE, "ep", AREA, reason="testing centre integration")
    browser = world.sign_in(CENTRE, "centre-password-1")
    r = browser.post("/api/v1/tokens", json={"name": "PrairieTest", "scopes": ["read", "write"]})
    assert r.status_code == 201, r.text
    script = TestClient(world.app, base_url="https://testserver")
    script.headers["Authorization"] = f"Bearer {body(r)['token']}"
    return script


def rows(world: World) -> int:
    with world.ctx() as ctx:
        return int(ctx.session.scalar(select(func.count()).select_from(ExamReservation)) or 0)


def actions(world: World) -> list[str]:
    with world.ctx() as ctx:
        return list(
            ctx.session.scalars(
                select(HistoryEntry.action)
                .where(HistoryEntry.subject_kind == "exam_reservation")
                .order_by(HistoryEntry.id)
            )
        )


def start(world: World, persona: str, aid: str = "exams/exam2") -> Any:
    return world.client(persona).post(f"{CI_PATH}/attempts", json={"assessment": aid})


def test_recording_twice_is_one_row_and_the_same_answer(world: World) -> None:
    script = centre(world)
    first = script.put("/api/v1/reservations/pt-48213", json=SLOT)
    assert first.status_code == 200, first.text
    assert first.headers["X-Coursegate-Outcome"] == "created"
    got = body(first)
    assert (got["external_id"], got["uid"], got["exam_uuid"], got["active"]) == (
        "pt-48213", ANA, EXAM2, True,
    )  # fmt: skip
    assert got["course_instances"] == ["CG 101 Sp24"] and got["timezone"] == "America/Chicago"
    assert got["access_start"] == "2024-02-27T10:00:00-06:00"
    second = script.put("/api/v1/reservations/pt-48213", json=SLOT)
    assert second.status_code == 200
    assert second.headers["X-Coursegate-Outcome"] == "unchanged"
    assert second.content == first.content
    assert rows(world) == 1 and actions(world) == ["reservation.record"]
    # a centre's id may hold slashes
    slashed = script.put("/api/v1/reservations/room-3/slot-12", json={**SLOT, "uid": BEN})
    assert slashed.status_code == 200 and body(slashed)["external_id"] == "room-3/slot-12"
    assert body(script.get("/api/v1/reservations/room-3/slot-12"))["uid"] == BEN


def test_change_cancel_and_restore(world: World) -> None:
    script = centre(world)
    script.put("/api/v1/reservations/pt-1", json=SLOT)
    later = {**SLOT, "access_start": "2024-02-28T10:00:00", "access_end": "2024-02-28T12:00:00"}
    r = script.put("/api/v1/reservations/pt-1", json=later)
    assert r.headers["X-Coursegate-Outcome"] == "updated"
    assert body(r)["access_start"] == "2024-02-28T10:00:00-06:00"  # no offset: the course's zone
    gone = script.delete("/api/v1/reservations/pt-1", params={"reason": "student ill"})
    assert gone.status_code == 200 and gone.headers["X-Coursegate-Outcome"] == "cancelled"
    assert body(gone)["active"] is False and body(gone)["cancelled_at"] is not None
    twice = script.delete("/api/v1/reservations/pt-1")
    assert twice.headers["X-Coursegate-Outcome"] == "unchanged"
    assert twice.content == gone.content
    back = script.put("/api/v1/reservations/pt-1", json=later)
    assert back.headers["X-Coursegate-Outcome"] == "restored" and body(back)["active"] is True
    assert rows(world) == 1
    assert actions(world) == [
        "reservation.record", "reservation.change", "reservation.cancel", "reservation.change",
    ]  # fmt: skip


def test_who_may_record_is_decided_where_the_exam_is_linked(world: World) -> None:
    for persona in ("student", "ta", "other_instructor"):
        r = world.client(persona).put("/api/v1/reservations/pt-2", json=SLOT)
        assert r.status_code == 403, persona
        error = body(r)["error"]
        assert error["field"] == "exam_uuid" and "mrs" in error["message"]
        assert "CG 101 Sp24" in error["message"]
    assert rows(world) == 0
    r = world.client("instructor").put("/api/v1/reservations/pt-2", json=SLOT)
    assert r.status_code == 200
    r = world.client("admin").put("/api/v1/reservations/pt-3", json={**SLOT, "uid": BEN})
    assert r.status_code == 200  # a domain coordinator holds mrs in the domain
    r = world.client("ta").delete("/api/v1/reservations/pt-2")
    assert r.status_code == 403
    unlinked = world.client("instructor").put(
        "/api/v1/reservations/pt-4", json={**SLOT, "exam_uuid": UNLINKED}
    )
    assert unlinked.status_code == 404 and body(unlinked)["error"]["field"] == "exam_uuid"
    theft = world.client("instructor").put("/api/v1/reservations/pt-2", json={**SLOT, "uid": BEN})
    assert theft.status_code == 409 and body(theft)["error"]["field"] == "external_id"


def test_bad_reservations_name_the_field(world: World) -> None:
    staff = world.client("instructor")
    cases = [
        ({**SLOT, "exam_uuid": "not-a-uuid"}, 422, "exam_uuid"),
        ({**SLOT, "access_end": "2024-02-27T09:00:00-06:00"}, 422, "access_end"),
        ({**SLOT, "access_start": "Feb 27"}, 422, "access_start"),
        ({**SLOT, "uid": "ghost@example.edu"}, 404, "uid"),
        ({k: v for k, v in SLOT.items() if k != "uid"}, 422, "uid"),
    ]
    for payload, status, field in cases:
        r = staff.put("/api/v1/reservations/pt-9", json=payload)
        assert r.status_code == status, (payload, r.text)
        assert body(r)["error"]["field"] == field
    assert staff.put("/api/v1/reservations/%20", json=SLOT).status_code == 422
    assert staff.delete("/api/v1/reservations/pt-404").status_code == 404
    assert rows(world) == 0


def test_the_exam_is_startable_in_exam_mode_during_the_reservation_only(world: World) -> None:
    world.clock.now = t("2024-02-27T09:00")
    script = centre(world)
    assert script.put("/api/v1/reservations/pt-7", json=SLOT).status_code == 200
    world.clock.now = t("2024-02-27T09:59")
    early = start(world, "student")
    assert early.status_code == 403 and body(early)["error"]["field"] == "assessment"
    world.clock.now = t("2024-02-27T10:30")
    r = start(world, "student")
    assert r.status_code == 201, r.text
    attempt = body(r)
    assert attempt["mode"] == "Exam" and attempt["date_limit"] is None
    decision = attempt["decision"]
    assert decision["can_start"] is True
    assert decision["exam_access_end"] == "2024-02-27T12:00:00-06:00"
    assert start(world, BEN).status_code == 403  # no reservation of his own
    # inside the reservation the student is in Exam mode: homework is not there
    assert start(world, "student", "hw/hw1").status_code == 403
    world.clock.now = t("2024-02-27T11:00")
    submitted = world.client("student").post(
        f"{CI_PATH}/attempts/{attempt['id']}/submissions", json={"points": 15, "max_points": 20}
    )
    assert submitted.status_code == 200 and body(submitted)["score_percent"] == 75
    world.clock.now = t("2024-02-27T12:00")
    late = world.client("student").post(
        f"{CI_PATH}/attempts/{attempt['id']}/submissions", json={"points": 20}
    )
    assert late.status_code == 403


def test_a_cancelled_reservation_opens_nothing(world: World) -> None:
    world.clock.now = t("2024-02-27T09:00")
    staff = world.client("instructor")
    staff.put("/api/v1/reservations/pt-8", json={**SLOT, "uid": BEN})
    staff.delete("/api/v1/reservations/pt-8")
    world.clock.now = t("2024-02-27T10:30")
    assert start(world, BEN).status_code == 403


def test_listing_reservations(world: World) -> None:
    staff = world.client("instructor")
    staff.put("/api/v1/reservations/pt-a", json=SLOT)
    staff.put("/api/v1/reservations/pt-b", json={**SLOT, "uid": BEN})
    staff.delete("/api/v1/reservations/pt-b")
    url = f"{CI_PATH}/reservations"
    everyone = body(world.client("ta").get(url))
    assert [(r["external_id"], r["active"]) for r in everyone] == [("pt-a", True), ("pt-b", False)]
    active = body(world.client("ta").get(url, params={"include_cancelled": "false"}))
    assert [r["external_id"] for r in active] == ["pt-a"]
    own = world.client("student").get(url, params={"uid": ANA})
    assert own.status_code == 200 and [r["external_id"] for r in body(own)] == ["pt-a"]
    assert world.client("student").get(url).status_code == 403
    assert world.client("student").get(url, params={"uid": BEN}).status_code == 403
    assert world.client("other_instructor").get(url).status_code == 403
    fa14 = body(
        world.client("other_instructor").get("/api/v1/courses/CG 101/instances/Fa14/reservations")
    )
    assert fa14 == []  # Fa14 links other exams
    # one reservation, read back by its id
    assert body(world.client("student").get("/api/v1/reservations/pt-a"))["uid"] == ANA
    assert world.client("ta").get("/api/v1/reservations/pt-a").status_code == 200
    assert world.client("other_instructor").get("/api/v1/reservations/pt-a").status_code == 403
    assert world.client(BEN).get("/api/v1/reservations/pt-a").status_code == 403
