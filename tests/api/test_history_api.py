"""The history log of a course instance over HTTP: filters, pages, and view-as (whose start
and stop are recorded; nothing is changed while viewing)."""

from __future__ import annotations

from typing import Any

from api_support import CI_PATH, World, body

from coursegate.cli import demo_world as demo
from coursegate.core.instants import Instant, parse_date, zone
from coursegate.services.people import signin
from coursegate.services.people.users import create_user

TZ = zone("America/Chicago")
ANA, BEN = demo.STUDENTS[0].uid, demo.STUDENTS[1].uid
PROF, TA = demo.INSTRUCTOR.uid, demo.TA.uid
HISTORY = f"{CI_PATH}/history"
NEW = "newta@example.edu"


def t(text: str) -> Instant:
    return parse_date(text, TZ)[0]


def entries(world: World, persona: str = "instructor", **params: Any) -> list[dict[str, Any]]:
    r = world.client(persona).get(HISTORY, params=params)
    assert r.status_code == 200, r.text
    return list(body(r)["entries"])


def story(world: World) -> None:
    """Feb 6: the instructor grants a TA (09:00), views the course as Ana, cannot start her
    quiz for her (view-as is for seeing), stops viewing; Ana starts her own (10:00); Ben starts
    his own (11:00); the instructor closes Ana's (12:00)."""
    world.clock.now = t("2024-02-06T09:00")
    with world.ctx() as ctx:
        create_user(ctx, NEW, "Nina New", NEW, domain=demo.DOMAIN)
    prof = world.sign_in(PROF, demo.INSTRUCTOR.password)
    r = prof.post(f"{CI_PATH}/roles", json={"uid": NEW, "role": "ta", "reason": "labs"})
    assert r.status_code == 201, r.text
    world.clock.now = t("2024-02-06T10:00")
    assert prof.post(f"{CI_PATH}/view-as", json={"uid": ANA}).status_code == 200
    r = prof.post(f"{CI_PATH}/attempts", json={"assessment": "quizzes/quiz1"})
    assert r.status_code == 403, r.text
    assert prof.delete("/api/v1/view-as").status_code == 200
    ana = world.sign_in(ANA, demo.STUDENTS[0].password)
    r = ana.post(f"{CI_PATH}/attempts", json={"assessment": "quizzes/quiz1"})
    assert r.status_code == 201, r.text
    anas = body(r)["id"]
    world.clock.now = t("2024-02-06T11:00")
    bens = world.sign_in(BEN, demo.STUDENTS[1].password)
    assert bens.post(f"{CI_PATH}/attempts", json={"assessment": "quizzes/quiz1"}).status_code == 201
    world.clock.now = t("2024-02-06T12:00")
    assert prof.post(f"{CI_PATH}/attempts/{anas}/close", json={"reason": "fire alarm"}).is_success


def test_view_as_changes_nothing_and_its_start_and_stop_are_recorded(world: World) -> None:
    story(world)
    [started] = entries(world, action="instance.start", uid=ANA)
    assert (started["actor"], started["acting_as"], started["viewing_as"]) == (ANA, ANA, False)
    assert started["subject"] == f"{ANA} quizzes/quiz1"
    assert started["at"] == "2024-02-06T10:00:00-06:00"
    [began] = entries(world, action="view_as.start")
    assert (began["actor"], began["subject"], began["viewing_as"]) == (PROF, ANA, False)
    [stopped] = entries(world, action="view_as.stop")
    assert (stopped["actor"], stopped["subject"]) == (PROF, ANA)
    [bens] = entries(world, action="instance.start", uid=BEN)
    assert (bens["actor"], bens["acting_as"], bens["viewing_as"]) == (BEN, BEN, False)


def test_filters_combine(world: World) -> None:
    story(world)
    roles = entries(world, action="role.")
    assert [(e["action"], e["subject"], e["reason"]) for e in roles] == [
        ("role.grant", NEW, "labs")
    ]
    assert roles[0]["details"]["role"] == "ta" and roles[0]["actor"] == PROF
    # instants in the details are written in the course's zone, like "at"
    assert roles[0]["details"]["start"] == roles[0]["at"] == "2024-02-06T09:00:00-06:00"
    assert roles[0]["details"]["end"] is None
    about_ana = entries(world, uid=ANA)
    assert {e["action"] for e in about_ana} >= {"view_as.start", "instance.start", "instance.close"}
    assert all(ANA in (e["subject"].split(" ")[0], e["details"].get("uid")) for e in about_ana)
    by_prof = {e["action"] for e in entries(world, actor=PROF)}
    assert {"role.grant", "view_as.start", "instance.close"} <= by_prof
    assert "instance.start" not in by_prof
    as_ana = entries(world, actor=ANA, action="instance.")
    assert [(e["action"], e["actor"]) for e in as_ana] == [("instance.start", ANA)]
    [closed] = entries(world, subject=f"{ANA} quizzes/quiz1", action="instance.close")
    assert closed["reason"] == "fire alarm"
    window = entries(world, **{"from": "2024-02-06T10:30:00", "to": "2024-02-06T12:00:00"})
    assert [(e["action"], e["actor"]) for e in window] == [("instance.start", BEN)]
    utc = entries(world, **{"from": "2024-02-06T16:30:00Z", "to": "2024-02-06T18:00:00+00:00"})
    assert utc == window
    assert entries(world, action="nothing.") == []


def test_pages_follow_the_cursor_newest_first(world: World) -> None:
    story(world)
    everything = entries(world, limit=500)
    assert len(everything) >= 6
    instants = [e["at"] for e in everything]
    assert instants == sorted(instants, reverse=True)
    seen: list[dict[str, Any]] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = body(world.client("instructor").get(HISTORY, params=params))
        assert len(page["entries"]) <= 2
        seen.extend(page["entries"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == everything and pages == (len(everything) + 1) // 2
    assert len({e["id"] for e in seen}) == len(seen)


def test_who_may_read_the_history_and_bad_filters(world: World) -> None:
    story(world)
    assert world.client("ta").get(HISTORY).status_code == 200
    for persona in ("student", "other_instructor"):
        r = world.client(persona).get(HISTORY)
        error = body(r)["error"]
        assert r.status_code == 403 and "View the history log (vhi)" in error["details"]
        assert "“view the history log” privilege" in error["message"]
    with world.ctx() as ctx:  # the new TA reads it once granted
        signin.store_password(ctx, ctx.user(NEW), "new-ta-password-1")
    assert world.sign_in(NEW, "new-ta-password-1").get(HISTORY).status_code == 200
    cases: list[tuple[dict[str, Any], str]] = [
        ({"cursor": "not a cursor!"}, "cursor"),
        ({"from": "yesterday"}, "from"),
        ({"from": "2024-02-06T12:00:00", "to": "2024-02-06T10:00:00"}, "to"),
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
    ]
    for params, field in cases:
        r = world.client("instructor").get(HISTORY, params=params)
        assert r.status_code == 422, (params, r.text)
        assert body(r)["error"]["field"] == field
