"""Each student's calendar by its secret link, over HTTP: who may have the link, the feed
without signing in, tampered and revoked links, and exceptions in the feed."""

from __future__ import annotations

from typing import Any

from api_support import CI_PATH, COURSE, INSTANCE, World, body
from fastapi.testclient import TestClient
from icalendar import Calendar

from coursegate.cli import demo_world as demo
from coursegate.server import create_app
from coursegate.services.access.exceptions import granting as X
from coursegate.services.common.places import find_course_instance

ANA, BEN, CHLOE, DAN = demo.STUDENTS


def link(world: World, persona: str, uid: str, status: int = 200) -> Any:
    r = world.client(persona).get(f"{CI_PATH}/students/{uid}/calendar-link")
    assert r.status_code == status, r.text
    return body(r)


def events(ics: bytes) -> dict[str, str]:
    """Summary → start (UTC, as written)."""
    cal = Calendar.from_ical(ics)
    return {str(e.get("summary")): e.decoded("dtstart").isoformat() for e in cal.walk("VEVENT")}


def untitled(found: dict[str, str]) -> dict[str, str]:
    """The summaries without the assessment's title they lead with (``hw1 due (100%)``)."""
    return {k.split(" — ", 1)[-1]: v for k, v in found.items()}


def test_a_student_gets_their_link_and_the_feed_opens_without_signing_in(world: World) -> None:
    got = link(world, "student", ANA.uid)
    assert got["path"].startswith("/api/v1/calendar/") and got["path"].endswith(".ics")
    assert got["url"] == "https://testserver" + got["path"]
    assert (got["uid"], got["course"], got["course_instance"]) == (ANA.uid, COURSE, INSTANCE)
    assert ANA.uid not in got["path"]  # no email address in a URL people paste elsewhere
    r = world.client().get(got["path"])  # anonymous: the link is the credential
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/calendar")
    assert r.content.startswith(b"BEGIN:VCALENDAR")
    found = events(r.content)
    assert found["Logic gates — hw1 due (100%)"] == "2024-01-30T05:59:00+00:00"
    assert "hw1 early deadline (120%)" in untitled(found)


def test_staff_with_vst_get_anyones_link_students_only_their_own(world: World) -> None:
    refused = link(world, "student", BEN.uid, 403)
    assert refused["error"]["code"] == "forbidden"
    link(world, "other_instructor", ANA.uid, 403)
    assert world.client().get(f"{CI_PATH}/students/{ANA.uid}/calendar-link").status_code == 401
    for persona in ("ta", "instructor", "admin"):
        assert link(world, persona, BEN.uid)["path"] == link(world, "ta", BEN.uid)["path"]
    assert link(world, "ta", "ghost@example.edu", 404)["error"]["field"] == "uid"


def test_tampered_and_made_up_tokens_get_404(world: World) -> None:
    path = link(world, "student", ANA.uid)["path"]
    token = path.removeprefix("/api/v1/calendar/").removesuffix(".ics")
    ci_id, user_id, mac = token.split(".")
    ben_id = link(world, "ta", BEN.uid)["path"].split("/")[-1].split(".")[1]
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    for bad in (
        f"{ci_id}.{user_id}.{flipped}",  # one character changed
        f"{ci_id}.{ben_id}.{mac}",  # ana's token on ben's calendar
        f"{int(ci_id) + 1}.{user_id}.{mac}",  # another course instance
        f"{ci_id}.{user_id}",
        "nothing",
        f"x.{user_id}.{mac}",
    ):
        r = world.client().get(f"/api/v1/calendar/{bad}.ics")
        assert r.status_code == 404, bad
        assert body(r)["error"]["code"] == "not_found"


def test_a_locked_accounts_link_stops_working(world: World) -> None:
    path = link(world, "student", ANA.uid)["path"]
    with world.ctx() as ctx:
        ctx.user(ANA.uid).status = "locked"
    assert world.client().get(path).status_code == 404


def test_a_new_secret_revokes_every_link(world: World) -> None:
    path = link(world, "student", ANA.uid)["path"]
    settings = world.app.state.settings
    from dataclasses import replace

    other = create_app(replace(settings, secret_key="another-secret"), engine=world.engine)
    other.state.clock = world.app.state.clock
    assert TestClient(other, base_url="https://testserver").get(path).status_code == 404
    assert world.client().get(path).status_code == 200


def test_the_feed_follows_exceptions_granted_after_the_link(world: World) -> None:
    path = link(world, "student", ANA.uid)["path"]
    before = untitled(events(world.client().get(path).content))
    assert before["hw2 due (100%)"] == "2024-02-06T05:59:00+00:00"
    with world.ctx(demo.INSTRUCTOR.uid) as ctx:
        ci = find_course_instance(ctx, COURSE, INSTANCE)
        X.grant(
            ctx, ci.id, ANA.uid, "assessment", "hw/hw2", {"due": "2024-02-10T23:59"}, reason="flu"
        )
    after = untitled(events(world.client().get(path).content))
    assert after["hw2 due (100%)"] == "2024-02-11T05:59:00+00:00"
    # Dan's demo extension is in his feed, not in ana's.
    dan = untitled(events(world.client().get(link(world, "ta", DAN.uid)["path"]).content))
    assert dan["hw2 due (100%)"] == "2024-02-11T05:59:00+00:00"
    assert before != after
