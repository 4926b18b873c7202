"""Assessment instances (attempts) over HTTP: start with the decision that allowed it, the time
limit and its date_limit, submit (never decreasing), close, and who may touch whose attempt."""

from __future__ import annotations

import threading
from typing import Any

from api_support import CI_PATH, World, body
from sqlalchemy import func, select

from coursegate.cli import demo_world as demo
from coursegate.core.instants import MINUTE, Instant, format_instant, parse_date, zone
from coursegate.store.models import AssessmentInstance

TZ = zone("America/Chicago")
ANA, BEN = demo.STUDENTS[0].uid, demo.STUDENTS[1].uid
ATTEMPTS = f"{CI_PATH}/attempts"


def t(text: str) -> Instant:
    return parse_date(text, TZ)[0]


def start(world: World, persona: str, aid: str, **extra: Any) -> Any:
    return world.client(persona).post(ATTEMPTS, json={"assessment": aid, **extra})


def submit(world: World, persona: str, attempt: int, **points: Any) -> Any:
    return world.client(persona).post(f"{ATTEMPTS}/{attempt}/submissions", json=points)


def count(world: World) -> int:
    with world.ctx() as ctx:
        return int(ctx.session.scalar(select(func.count()).select_from(AssessmentInstance)) or 0)


def test_a_timed_attempt_gets_its_date_limit_and_the_decision(world: World) -> None:
    world.clock.now = at = t("2024-02-06T10:00")
    r = start(world, "student", "quizzes/quiz1")
    assert r.status_code == 201, r.text
    got = body(r)
    assert (got["uid"], got["assessment"], got["open"], got["created"]) == (
        ANA, "quizzes/quiz1", True, True,
    )  # fmt: skip
    assert got["started_at"] == "2024-02-06T10:00:00-06:00"
    assert got["date_limit"] == format_instant(at + 30 * MINUTE, TZ)
    assert got["time_limit_minutes"] == 30 and got["mode"] == "Public"
    decision = got["decision"]
    assert decision["can_start"] is True and decision["time_limit_minutes"] == 30
    assert decision["credit"] == 100 and decision["explanation"]
    # starting again returns the open attempt
    world.clock.now = at + MINUTE
    again = start(world, "student", "quizzes/quiz1")
    assert again.status_code == 200
    assert (body(again)["id"], body(again)["created"]) == (got["id"], False)
    assert body(again)["decision"]["submittable"] is True
    assert count(world) == 1


def test_extra_time_students_get_their_time_limit(world: World) -> None:
    world.clock.now = at = t("2024-02-06T10:00")
    got = body(start(world, BEN, "quizzes/quiz1"))  # extra-time: 150%
    assert got["time_limit_minutes"] == 45
    assert got["date_limit"] == format_instant(at + 45 * MINUTE, TZ)


def test_submit_never_decreases_and_nothing_is_accepted_after_close(world: World) -> None:
    world.clock.now = t("2024-02-06T10:00")
    attempt = body(start(world, "student", "quizzes/quiz1"))["id"]
    world.clock.now = t("2024-02-06T10:10")
    r = submit(world, "student", attempt, points=8, max_points=10)
    assert r.status_code == 200, r.text
    assert (body(r)["score_percent"], body(r)["credit"]) == (80, 100)
    assert body(r)["decision"]["submittable"] is True
    lower = submit(world, "student", attempt, points=6)
    assert body(lower)["score_percent"] == 80 and body(lower)["points"] == 6
    closed = world.client("student").post(f"{ATTEMPTS}/{attempt}/close")
    assert closed.status_code == 200 and body(closed)["open"] is False
    assert body(closed)["closed_at"] == "2024-02-06T10:10:00-06:00"
    after = submit(world, "student", attempt, points=10)
    assert after.status_code == 403 and body(after)["error"]["field"] == "instance_id"
    restart = start(world, "student", "quizzes/quiz1")
    assert restart.status_code == 409 and "one attempt" in body(restart)["error"]["message"]
    assert body(world.client("student").get(f"{ATTEMPTS}/{attempt}"))["score_percent"] == 80


def test_nothing_is_accepted_after_the_time_limit(world: World) -> None:
    world.clock.now = t("2024-02-06T10:00")
    attempt = body(start(world, "student", "quizzes/quiz1"))["id"]
    world.clock.now = t("2024-02-06T10:31")
    assert submit(world, "student", attempt, points=8, max_points=10).status_code == 403


def test_a_password_is_checked_and_the_limit_cut_to_the_end_of_access(world: World) -> None:
    world.clock.now = at = t("2024-03-06T10:05")  # in-class exam 10:00-10:50, password orchid
    r = start(world, "student", "exams/inclass1")
    assert r.status_code == 403 and body(r)["error"]["field"] == "password"
    r = start(world, "student", "exams/inclass1", password="tulip")
    assert r.status_code == 403 and "not the password" in body(r)["error"]["message"]
    r = start(world, "student", "exams/inclass1", password="orchid")
    assert r.status_code == 201
    assert body(r)["time_limit_minutes"] == 44  # 45 minutes left, less the 31-second grace
    assert body(r)["date_limit"] == format_instant(at + 44 * MINUTE, TZ)
    assert body(r)["decision"]["password_required"] is True


def test_the_decision_refuses_before_release(world: World) -> None:
    world.clock.now = t("2024-02-01T10:00")
    r = start(world, "student", "quizzes/quiz1")
    assert r.status_code == 403
    error = body(r)["error"]
    assert error["field"] == "assessment" and "cannot start quizzes/quiz1" in error["message"]
    unknown = start(world, "student", "quizzes/quiz99")
    assert unknown.status_code == 404 and body(unknown)["error"]["field"] == "assessment"
    assert count(world) == 0


def test_a_student_acts_on_their_own_attempts_only(world: World) -> None:
    world.clock.now = t("2024-02-06T10:00")
    r = start(world, "student", "quizzes/quiz1", uid=BEN)
    assert r.status_code == 403 and body(r)["error"]["field"] == "uid"
    assert count(world) == 0
    bens = body(start(world, BEN, "quizzes/quiz1"))["id"]
    ana = world.client("student")
    assert submit(world, "student", bens, points=1, max_points=10).status_code == 403
    assert ana.post(f"{ATTEMPTS}/{bens}/close", json={}).status_code == 403
    assert ana.get(f"{ATTEMPTS}/{bens}").status_code == 403
    assert ana.get(ATTEMPTS, params={"uid": BEN}).status_code == 403
    assert ana.get(ATTEMPTS).status_code == 403  # everyone's needs vst
    assert body(ana.get(ATTEMPTS, params={"uid": ANA})) == []
    assert body(world.client(BEN).get(f"{ATTEMPTS}/{bens}"))["open"] is True


def test_staff_list_attempts_and_an_instructor_closes_one(world: World) -> None:
    world.clock.now = t("2024-02-06T10:00")
    anas = body(start(world, "student", "quizzes/quiz1"))["id"]
    start(world, BEN, "quizzes/quiz1")
    assert start(world, BEN, "hw/hw2").status_code == 201
    listed = body(world.client("ta").get(ATTEMPTS, params={"assessment": "quizzes/quiz1"}))
    assert sorted(a["uid"] for a in listed) == [ANA, BEN]
    assert all(a["decision"] is None for a in listed)
    bens = body(world.client("ta").get(ATTEMPTS, params={"uid": BEN}))
    assert sorted(a["assessment"] for a in bens) == ["hw/hw2", "quizzes/quiz1"]
    missing = world.client("ta").get(ATTEMPTS, params={"assessment": "quizzes/quiz99"})
    assert missing.status_code == 404
    assert world.client("other_instructor").get(ATTEMPTS).status_code == 403
    # the TA's mgr depends on resource settings, so only the instructor closes someone's
    refused = world.client("ta").post(f"{ATTEMPTS}/{anas}/close", json={"reason": "left"})
    assert refused.status_code == 403 and "mgr" in body(refused)["error"]["details"]
    assert "“change grades” privilege" in body(refused)["error"]["message"]
    closed = world.client("instructor").post(f"{ATTEMPTS}/{anas}/close", json={"reason": "left"})
    assert closed.status_code == 200 and body(closed)["open"] is False
    still = body(world.client("ta").get(ATTEMPTS, params={"open_only": "true"}))
    assert sorted(a["assessment"] for a in still) == ["hw/hw2", "quizzes/quiz1"]
    assert {a["uid"] for a in still} == {BEN}


def test_an_attempt_belongs_to_its_course_instance(world: World) -> None:
    world.clock.now = t("2024-02-06T10:00")
    anas = body(start(world, "student", "quizzes/quiz1"))["id"]
    other = "/api/v1/courses/CG 101/instances/Fa14/attempts"
    r = world.client("admin").get(f"{other}/{anas}")
    assert r.status_code == 404 and body(r)["error"]["field"] == "instance_id"
    assert world.client("student").get(f"{ATTEMPTS}/999999").status_code == 404
    assert world.client("student").get(f"{ATTEMPTS}/0").status_code == 422


def test_two_simultaneous_starts_make_one_attempt(world: World) -> None:
    world.clock.now = t("2024-02-06T10:00")
    clients = [world.sign_in(ANA, demo.STUDENTS[0].password) for _ in range(4)]
    barrier = threading.Barrier(len(clients))
    answers: list[Any] = []

    def go(client: Any) -> None:
        barrier.wait()
        answers.append(client.post(ATTEMPTS, json={"assessment": "quizzes/quiz1"}))

    threads = [threading.Thread(target=go, args=(c,)) for c in clients]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(r.status_code for r in answers) == [200, 200, 200, 201]
    assert len({body(r)["id"] for r in answers}) == 1
    assert count(world) == 1


def test_staff_viewing_as_a_student_see_but_never_start_for_them(world: World) -> None:
    world.clock.now = t("2024-02-06T10:00")
    staff = world.sign_in(demo.INSTRUCTOR.uid, demo.INSTRUCTOR.password)
    assert staff.post(f"{CI_PATH}/view-as", json={"uid": ANA}).status_code == 200
    r = staff.post(ATTEMPTS, json={"assessment": "quizzes/quiz1"})
    assert r.status_code == 403 and body(r)["error"]["field"] == "view_as"
    assert r.headers["X-Coursegate-Viewing-As"] == ANA
    # what Ana sees: her own attempts (none were started for her)
    r = staff.get(ATTEMPTS, params={"uid": ANA})
    assert r.status_code == 200 and body(r) == []
    # as the student, the instructor holds no vst
    assert staff.get(ATTEMPTS).status_code == 403
