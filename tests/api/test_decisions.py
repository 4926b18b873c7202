"""Decisions over HTTP: one, a batch, the matrix — and that a change committed elsewhere (another
transaction, another process) changes the very next decision, whatever the server cached."""

from __future__ import annotations

import csv
import io
import socket
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import uvicorn
from api_support import CI_PATH, COURSE, INSTANCE, World, body
from sqlalchemy import text

from coursegate.cli import demo_world as demo
from coursegate.core.instants import format_instant, parse_date, zone
from coursegate.services.access import attempts
from coursegate.services.access.decisions import cache as decision_cache
from coursegate.services.access.decisions.answers import MAX_BATCH
from coursegate.services.access.decisions.request import decide as decide_from_files
from coursegate.services.access.decisions.student import decide_one
from coursegate.services.access.exceptions import granting as X
from coursegate.services.access.exceptions import listing as XL
from coursegate.services.access.reservations import record_reservation
from coursegate.services.common.places import find_course_instance
from coursegate.services.courses.enrollment import block
from coursegate.services.courses.sections import add_to_section, remove_from_section
from coursegate.services.people.signin import create_token

ANA, BEN, CHLOE, DAN = demo.STUDENTS
CHICAGO = zone("America/Chicago")
EXAM2_UUID = "d7fcbf5c-a803-4d7e-94bf-68e68fa3dc85"
AIDS = (
    "hw/hw1", "hw/hw2", "hw/cheatsheet", "quizzes/quiz1", "quizzes/quiz2", "quizzes/quiz3",
    "exams/exam1", "exams/exam2", "exams/exam3", "exams/exam4", "exams/final",
    "exams/inclass1", "exams/practical",
)  # fmt: skip


def req(aid: str | None = "hw/hw1", **fields: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"course": COURSE, "course_instance": INSTANCE}
    if aid is not None:
        out["assessment"] = aid
    out.update(fields)
    return out


def decide(world: World, persona: str, request: dict[str, Any], status: int = 200) -> Any:
    r = world.client(persona).post("/api/v1/decisions", json=request)
    assert r.status_code == status, r.text
    return body(r)


def batch(world: World, persona: str, requests: list[Any]) -> list[Any]:
    r = world.client(persona).post("/api/v1/decisions/batch", json={"requests": requests})
    assert r.status_code == 200, r.text
    results = body(r)["results"]
    assert len(results) == len(requests)
    return list(results)


def local(text: str) -> int:
    return parse_date(text, CHICAGO)[0]


def service_decision(world: World, uid: str, aid: str, at: str, mode: str = "Public") -> Any:
    with world.ctx() as ctx:
        return decide_one(ctx, COURSE, INSTANCE, uid, aid, mode=mode, at=local(at))


# -- one decision -----------------------------------------------------------------------------


def test_a_student_gets_the_decide_json_of_their_own_stored_state(world: World) -> None:
    got = decide(world, "student", req("hw/hw1"))
    assert set(got) == {"at", "course_instance", "assessment"}
    assert got["at"] == format_instant(world.clock.now, CHICAGO)  # default: now, in the zone
    a = got["assessment"]
    assert (a["rules"], a["credit"], a["can_start"]) == ("rfc", 120, True)
    assert a["credit_text"] == "120% until 23:59, Thu, Jan 25"
    assert a["next_change"] == "2024-01-25T23:59:00-06:00"
    # The same JSON as `coursegate decide` on the course files for a student with ana's
    # section and enrollment: the public contract.
    files = decide_from_files(
        {
            "at": "2024-01-24T20:00:00",
            "course": str(demo.EXAMPLE_COURSE),
            "course_instance": INSTANCE,
            "assessment": "hw/hw1",
            "user": {"uid": ANA.uid, "sections": ["lab-a"]},
        }
    ).to_json()
    assert got["assessment"] == files["assessment"]
    assert got["at"] == files["at"]


def test_at_and_timezone_read_and_write_the_answer_as_the_request_says(world: World) -> None:
    utc = decide(world, "student", req("hw/hw1", at="2024-01-26T06:00:00", timezone="UTC"))
    assert utc["at"] == "2024-01-26T06:00:00+00:00"
    files = decide_from_files(
        {
            "at": "2024-01-26T06:00:00",
            "timezone": "UTC",
            "course": str(demo.EXAMPLE_COURSE),
            "course_instance": INSTANCE,
            "assessment": "hw/hw1",
            "user": {"uid": ANA.uid, "sections": ["lab-a"]},
        }
    ).to_json()
    assert utc["assessment"] == files["assessment"]
    assert utc["assessment"]["next_change"].endswith("+00:00")
    offset = decide(world, "student", req("hw/hw1", at="2024-01-26T00:00:00-06:00"))
    assert offset["at"] == "2024-01-26T00:00:00-06:00"
    assert offset["assessment"]["credit"] == 110


def test_without_an_assessment_only_the_course_instance_is_decided(world: World) -> None:
    got = decide(world, "student", req(None))
    assert set(got) == {"at", "course_instance"}
    assert got["course_instance"]["access"] is True


def test_the_course_instance_may_be_left_out_only_when_there_is_one(world: World) -> None:
    r = decide(world, "student", {"course": COURSE, "assessment": "hw/hw1"}, 422)
    assert r["error"]["field"] == "course_instance"
    assert "Sp24" in r["error"]["message"] and "Fa14" in r["error"]["message"]
    assert decide(world, "student", {"course": "NOPE 1"}, 404)["error"]["field"] == "course"


def test_students_see_their_own_decisions_and_staff_with_vst_anyones(world: World) -> None:
    about_ben = req("hw/hw2", user={"uid": BEN.uid})
    refused = decide(world, "student", about_ben, 403)
    assert refused["error"]["code"] == "forbidden"
    assert "vst" in refused["error"]["details"] and BEN.uid in refused["error"]["message"]
    assert "“view students” privilege" in refused["error"]["message"]
    assert decide(world, "other_instructor", about_ben, 403)["error"]["code"] == "forbidden"
    for persona in ("ta", "instructor", "admin"):
        assert decide(world, persona, about_ben)["assessment"]["rules"] == "modern"
    # A student asking about someone who does not exist is refused, not told who exists.
    assert decide(world, "student", req(user={"uid": "ghost@example.edu"}), 403)
    assert decide(world, "ta", req(user={"uid": "ghost@example.edu"}), 404)["error"]["field"] == (
        "user.uid"
    )


@pytest.mark.parametrize(
    "field",
    [
        "course_instance_config",
        "assessment_config",
        "student_overrides",
        "reservations",
        "enrollment",
        "instance",
    ],
)
def test_state_the_server_owns_is_refused(world: World, field: str) -> None:
    r = decide(world, "student", req(**{field: {} if "config" in field else []}), 422)
    assert r["error"]["code"] == "invalid" and r["error"]["field"] == field
    assert "the server fills this from the database" in r["error"]["message"]


@pytest.mark.parametrize("field", ["role", "sections", "institution"])
def test_the_users_role_sections_and_institution_are_the_servers(world: World, field: str) -> None:
    value: Any = ["lab-b"] if field == "sections" else "Instructor"
    r = decide(world, "student", req(user={"uid": ANA.uid, field: value}), 422)
    assert r["error"]["field"] == f"user.{field}"
    assert "the server fills this" in r["error"]["message"]


@pytest.mark.parametrize(
    ("request_", "status", "field"),
    [
        (req(colour="red"), 422, "colour"),
        (req(mode="Quiet"), 422, "mode"),
        (req(timezone="Mars/Olympus"), 422, "timezone"),
        (req(at="next tuesday"), 422, "at"),
        (req(at=20240124), 422, "at"),
        (req("hw/hw9"), 404, "assessment"),
        ({"course_instance": INSTANCE}, 422, "course"),
        ([1, 2], 422, "$"),
        (req(user={"uid": ""}), 422, "user.uid"),
        (req(course_instance="Xx99"), 404, "course_instance"),
    ],
)
def test_bad_requests_name_the_field(world: World, request_: Any, status: int, field: str) -> None:
    r = decide(world, "student", request_, status)
    assert r["error"]["field"] == field, r


def test_a_body_that_is_not_json_is_an_error_not_a_crash(world: World) -> None:
    r = world.client("student").post(
        "/api/v1/decisions", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422 and body(r)["error"]["field"] == "$"


def test_staff_are_decided_with_their_course_role(world: World) -> None:
    # The server fills the role: an instructor gets the staff override, as in the files.
    got = decide(world, "instructor", req("hw/hw1", at="2024-01-20T10:00:00"))
    assert got["assessment"]["credit_text"] == "100% (Staff override)"
    assert got["course_instance"]["access"] is True
    # The instructor of another course instance is no staff of Sp24: decided as a student
    # who is not enrolled.
    other = decide(world, "other_instructor", req("hw/hw1", at="2024-01-20T10:00:00"))
    assert other["assessment"]["credit_text"] != "100% (Staff override)"


def test_exam_mode_uses_the_stored_reservation(world: World) -> None:
    with world.ctx() as ctx:
        record_reservation(ctx, "pt-1", BEN.uid, EXAM2_UUID, "2024-02-08T10:00", "2024-02-08T14:00")
    during = req("exams/exam2", user={"uid": BEN.uid}, at="2024-02-08T11:00:00", mode="Exam")
    got = decide(world, "ta", during)
    assert got["assessment"]["can_start"] is True
    assert got["assessment"]["exam_access_end"] == "2024-02-08T14:00:00-06:00"
    assert decide(world, "ta", {**during, "mode": "Public"})["assessment"]["can_start"] is False
    assert got == service_decision(world, BEN.uid, "exams/exam2", "2024-02-08T11:00", "Exam")


def test_view_as_decides_for_the_student_viewed(world: World) -> None:
    ta = world.sign_in(demo.TA.uid, demo.TA.password)
    assert ta.post(f"{CI_PATH}/view-as", json={"uid": DAN.uid}).status_code == 200
    r = ta.post("/api/v1/decisions", json=req("hw/hw2", at="2024-02-08T12:00:00"))
    assert r.status_code == 200 and r.headers["x-coursegate-viewing-as"] == DAN.uid
    assert body(r) == service_decision(world, DAN.uid, "hw/hw2", "2024-02-08T12:00")


# -- staff changes count on the next decision -------------------------------------------------


def test_an_exception_granted_elsewhere_changes_the_next_decision(world: World) -> None:
    late = req("hw/hw1", at="2024-02-08T12:00:00")
    before = decide(world, "student", late)["assessment"]
    assert before["credit"] == 0  # after the last late deadline: practice only
    with world.ctx(demo.INSTRUCTOR.uid) as ctx:
        ci = find_course_instance(ctx, COURSE, INSTANCE)
        view = X.grant(
            ctx, ci.id, ANA.uid, "assessment", "hw/hw1", {"due": "2024-02-15T23:59"}, reason="flu"
        )
    after = decide(world, "student", late)["assessment"]
    assert (after["credit"], after["credit_text"]) == (100, "100% until 23:59, Thu, Feb 15")
    assert "uses your exception (flu)" in after["explanation"]
    # Removed, and another one granted in its place before anyone asks (on SQLite the new row
    # may get the old one's id, version and timestamp): the next answer still has the new one.
    with world.ctx(demo.INSTRUCTOR.uid) as ctx:
        X.remove(ctx, view.id, version=view.version, reason="granted by mistake")
    with world.ctx(demo.INSTRUCTOR.uid) as ctx:
        ci = find_course_instance(ctx, COURSE, INSTANCE)
        X.grant(
            ctx, ci.id, ANA.uid, "assessment", "hw/hw1", {"due": "2024-02-12T23:59"}, reason="flu"
        )
    again = decide(world, "student", late)["assessment"]
    assert again["credit_text"] == "100% until 23:59, Mon, Feb 12"
    with world.ctx(demo.INSTRUCTOR.uid) as ctx:
        for e in XL.student_exceptions(ctx, ci.id, ANA.uid):
            X.remove(ctx, e.id, version=e.version, reason="recovered")
    assert decide(world, "student", late)["assessment"] == before


def test_sections_enrollment_and_attempts_changed_elsewhere_count_at_once(world: World) -> None:
    quiz = req("quizzes/quiz1", user={"uid": ANA.uid}, at="2024-02-08T12:00:00")
    plain = decide(world, "ta", quiz)["assessment"]
    with world.ctx(demo.INSTRUCTOR.uid) as ctx:
        ci = find_course_instance(ctx, COURSE, INSTANCE)
        add_to_section(ctx, ci.id, ANA.uid, "extra-time")
    extra = decide(world, "ta", quiz)["assessment"]
    assert extra["time_limit_minutes"] > plain["time_limit_minutes"]
    with world.ctx(demo.INSTRUCTOR.uid) as ctx:
        remove_from_section(ctx, ci.id, ANA.uid, "extra-time")
    assert decide(world, "ta", quiz)["assessment"] == plain
    # An attempt started by the student: the decision is about their attempt now.
    now = req("hw/hw1")
    assert decide(world, "student", now)["assessment"]["complete"] is False
    with world.ctx(ANA.uid) as ctx:
        ci = find_course_instance(ctx, COURSE, INSTANCE)
        started = attempts.start(ctx, ci.id, "hw/hw1")
    with world.ctx(ANA.uid) as ctx:
        attempts.close(ctx, started.id)
    closed = decide(world, "student", now)["assessment"]
    assert closed["complete"] is True
    # Blocked: the course instance is closed to them on the next request.
    with world.ctx(demo.INSTRUCTOR.uid) as ctx:
        block(ctx, ci.id, ANA.uid, reason="test")
    assert (
        decide(world, "ta", req(None, user={"uid": ANA.uid}))["course_instance"]["access"] is False
    )


def _database_args(world: World) -> tuple[str, str | None]:
    url = world.engine.url.render_as_string(hide_password=False)
    if world.engine.dialect.name != "postgresql":
        return url, None
    with world.engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    return url, str(schema)


def test_a_change_committed_by_another_process_is_seen_by_the_next_request(world: World) -> None:
    """The server's compiled course instance is cached in its process; another process (a
    second server, the command line) commits an exception: the next answer has it."""
    late = req("hw/hw2", at="2024-02-08T12:00:00")
    first = decide(world, "student", late)["assessment"]
    assert decide(world, "student", late)["assessment"] == first  # now served from the cache
    hits = decision_cache.STATS.hits
    decide(world, "student", late)
    assert decision_cache.STATS.hits > hits
    url, schema = _database_args(world)
    script = textwrap.dedent(
        f"""
        from coursegate.services.common.context import Ctx
        from coursegate.services.common.places import find_course_instance
        from coursegate.services.access.exceptions import granting as X
        from coursegate.store.db import make_engine, session_factory, transaction
        schema = {schema!r}
        kw = {{"connect_args": {{"options": f"-csearch_path={{schema}}"}}}} if schema else {{}}
        engine = make_engine({url!r}, **kw)
        with transaction(session_factory(engine)) as s:
            ctx = Ctx(s, {demo.INSTRUCTOR.uid!r}, {world.clock.now})
            ci = find_course_instance(ctx, {COURSE!r}, {INSTANCE!r})
            X.grant(ctx, ci.id, {ANA.uid!r}, "assessment", "hw/hw2",
                    {{"due": "2024-02-10T23:59"}}, reason="another process")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], check=False, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    after = decide(world, "student", late)["assessment"]
    assert after != first
    assert after["credit_text"] == "100% until 23:59, Sat, Feb 10"
    assert "uses your exception (another process)" in after["explanation"]


# -- the batch --------------------------------------------------------------------------------


def test_a_batch_answers_in_order_with_errors_in_place(world: World) -> None:
    requests: list[Any] = [
        req("hw/hw1", user={"uid": BEN.uid}, at="2024-01-24T20:00:00"),
        req("hw/nope"),
        req("hw/hw2", user={"uid": DAN.uid}, at="2024-02-08T12:00:00"),
        req(enrollment={"status": "joined"}),
        "not an object",
        req(None, user={"uid": "ghost@example.edu"}),
        {"course": COURSE, "course_instance": "Fa14"},
        req("hw/hw1", user={"uid": BEN.uid}, at="2024-01-24T20:00:00"),
    ]
    got = batch(world, "ta", requests)
    assert got[0] == decide(world, "ta", requests[0])
    assert got[0] == got[7]
    assert got[1]["error"]["code"] == "not_found" and got[1]["error"]["field"] == "assessment"
    assert got[2] == service_decision(world, DAN.uid, "hw/hw2", "2024-02-08T12:00")
    assert got[2]["assessment"]["credit"] == 100  # dan's extension
    assert got[3]["error"]["field"] == "enrollment"
    assert got[4]["error"] == {
        "code": "invalid",
        "message": "a decision request is a JSON object {...}",
        "field": "$",
    }
    assert got[5]["error"]["code"] == "not_found"
    assert set(got[6]) == {"at", "course_instance"}  # the TA about themself in Fa14


def test_a_students_batch_answers_their_own_and_refuses_the_rest_item_by_item(
    world: World,
) -> None:
    got = batch(
        world,
        "student",
        [req("hw/hw1"), req("hw/hw1", user={"uid": BEN.uid}), req("hw/hw2", user={"uid": ANA.uid})],
    )
    assert got[0]["assessment"]["credit"] == 120
    assert got[1]["error"]["code"] == "forbidden" and BEN.uid in got[1]["error"]["message"]
    assert got[2]["assessment"]["rules"] == "modern"
    other = batch(world, "other_instructor", [req("hw/hw1", user={"uid": ANA.uid})])
    assert other[0]["error"]["code"] == "forbidden"


def test_a_batch_agrees_with_one_decision_at_a_time_for_everyone_everywhere(
    world: World,
) -> None:
    """Every demo user × assessment × mode at four instants (attempts and a reservation
    stored): the batch (compiled once, cached, attempts added per student) says exactly
    what deciding each on its own says."""
    with world.ctx(ANA.uid) as ctx:
        ci = find_course_instance(ctx, COURSE, INSTANCE)
        attempts.start(ctx, ci.id, "hw/hw1")
    # Two students of the same slot with closed attempts: their cells are compiled once.
    for person in (CHLOE, DAN):
        with world.ctx(person.uid) as ctx:
            started = attempts.start(ctx, ci.id, "hw/hw1")
        with world.ctx(person.uid) as ctx:
            attempts.close(ctx, started.id)
    with world.ctx() as ctx:
        record_reservation(ctx, "pt-2", BEN.uid, EXAM2_UUID, "2024-02-08T10:00", "2024-02-08T14:00")
    ats = ["2024-01-20T10:00", "2024-01-24T20:00", "2024-02-08T11:00", "2024-03-01T09:00"]
    people = [u.uid for u in demo.EVERYONE]
    requests = [
        req(aid, user={"uid": uid}, at=at, mode=mode)
        for at in ats
        for uid in people
        for aid in AIDS
        for mode in ("Public", "Exam")
    ]
    got = batch(world, "admin", requests)
    staff = {demo.INSTRUCTOR.uid, demo.TA.uid}
    for r, answer in zip(requests, got, strict=True):
        uid = r["user"]["uid"]
        if uid in staff:  # decided with their course role (the service decides students)
            assert answer["assessment"]["access"] is True
            continue
        want = service_decision(world, uid, r["assessment"], r["at"], r["mode"])
        assert answer == want, (uid, r["assessment"], r["at"], r["mode"])


def test_batch_limits(world: World) -> None:
    c = world.client("student")
    full = c.post("/api/v1/decisions/batch", json={"requests": [req("hw/hw1")] * MAX_BATCH})
    assert full.status_code == 200
    results = body(full)["results"]
    assert len(results) == MAX_BATCH and results[-1] == results[0]
    over = c.post("/api/v1/decisions/batch", json={"requests": [req("hw/hw1")] * (MAX_BATCH + 1)})
    assert over.status_code == 413
    error = body(over)["error"]
    assert error["code"] == "too_large" and error["field"] == "requests"
    assert "10,001" in error["message"] and "10,000" in error["message"]
    assert c.post("/api/v1/decisions/batch", json={"requests": []}).json() == {"results": []}
    for bad in ({}, {"requests": "all"}, [], {"requests": [], "extra": 1}):
        r = c.post("/api/v1/decisions/batch", json=bad)
        assert r.status_code == 422, bad


def test_anonymous_callers_are_asked_to_sign_in(world: World) -> None:
    c = world.client()
    assert c.post("/api/v1/decisions", json=req()).status_code == 401
    assert c.post("/api/v1/decisions/batch", json={"requests": []}).status_code == 401


# -- the matrix -------------------------------------------------------------------------------


def test_the_matrix_of_every_student_and_assessment(world: World) -> None:
    r = world.client("ta").get(f"{CI_PATH}/matrix", params={"at": "2024-02-08T12:00:00"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    m = body(r)
    assert (m["course"], m["course_instance"], m["timezone"]) == (
        COURSE,
        INSTANCE,
        "America/Chicago",
    )
    assert m["at"] == "2024-02-08T12:00:00-06:00"
    uids = [s["uid"] for s in m["students"]]
    assert uids == sorted(u.uid for u in demo.STUDENTS)
    aids = [a["assessment"] for a in m["assessments"]]
    assert set(aids) == set(AIDS)
    assert len(m["cells"]) == 4 and all(len(row) == len(aids) for row in m["cells"])
    dan = m["cells"][uids.index(DAN.uid)][aids.index("hw/hw2")]
    ana = m["cells"][uids.index(ANA.uid)][aids.index("hw/hw2")]
    assert dan["exception"] is True and dan["credit"] == 100
    assert ana["exception"] is False and ana["credit"] == 0


def test_matrix_filters(world: World) -> None:
    c = world.client("instructor")
    lab_b = body(c.get(f"{CI_PATH}/matrix", params={"sections": "lab-b"}))
    assert [s["uid"] for s in lab_b["students"]] == [BEN.uid, CHLOE.uid]
    two = body(c.get(f"{CI_PATH}/matrix?assessments=hw/hw2&assessments=hw/hw1"))
    assert [a["assessment"] for a in two["assessments"]] == ["hw/hw2", "hw/hw1"]
    early = {"at": "2024-01-24T20:00:00", "assessments": "hw/hw1", "can_start_now": "true"}
    assert len(body(c.get(f"{CI_PATH}/matrix", params=early))["students"]) == 4
    before = {**early, "at": "2024-01-20T10:00:00"}
    assert body(c.get(f"{CI_PATH}/matrix", params=before))["students"] == []
    r = c.get(f"{CI_PATH}/matrix", params={"sections": "lab-z"})
    assert r.status_code == 422 and body(r)["error"]["field"] == "sections"
    r = c.get(f"{CI_PATH}/matrix", params={"assessments": "hw/nope"})
    assert r.status_code == 404
    assert c.get(f"{CI_PATH}/matrix", params={"at": "soon"}).status_code == 422


def test_the_matrix_as_csv(world: World) -> None:
    r = world.client("ta").get(
        f"{CI_PATH}/matrix",
        params={"format": "csv", "at": "2024-02-08T12:00:00", "assessments": "hw/hw1,hw/hw2"},
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["uid", "name", "sections", "hw/hw1", "hw/hw2"]
    by_uid = {row[0]: row for row in rows[1:]}
    assert set(by_uid) == {u.uid for u in demo.STUDENTS}
    assert by_uid[BEN.uid][2] == "extra-time;lab-b"
    assert by_uid[DAN.uid][4].endswith("exception") and "100%" in by_uid[DAN.uid][4]
    assert not by_uid[ANA.uid][4].endswith("exception")


def test_the_matrix_needs_vst_in_that_course_instance(world: World) -> None:
    for persona in ("student", "other_instructor"):
        assert world.client(persona).get(f"{CI_PATH}/matrix").status_code == 403
    assert world.client().get(f"{CI_PATH}/matrix").status_code == 401


# -- over a real socket, many requests at once ------------------------------------------------


def test_concurrent_requests_after_a_change_all_see_it(world: World) -> None:
    """Sixteen requests at once on a real server (its thread pool): the first compiles, the
    others wait for it; after an exception is granted, every one of them sees it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(world.app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        with world.ctx(ANA.uid) as ctx:
            token = create_token(ctx, "concurrency", ["read", "write"]).token
        late = req("hw/hw1", at="2024-02-08T12:00:00")

        def ask(_: int) -> Any:
            r = httpx.post(
                f"http://127.0.0.1:{port}/api/v1/decisions",
                json=late,
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            assert r.status_code == 200, r.text
            return r.json()["assessment"]["credit_text"]

        decision_cache.clear()
        with ThreadPoolExecutor(16) as pool:
            assert set(pool.map(ask, range(16))) == {"None"}
        with world.ctx(demo.INSTRUCTOR.uid) as ctx:
            ci = find_course_instance(ctx, COURSE, INSTANCE)
            X.grant(
                ctx, ci.id, ANA.uid, "assessment", "hw/hw1", {"due": "2024-02-15T23:59"}, reason="x"
            )
        with ThreadPoolExecutor(16) as pool:
            assert set(pool.map(ask, range(16))) == {"100% until 23:59, Thu, Feb 15"}
    finally:
        server.should_exit = True
        thread.join(timeout=10)
