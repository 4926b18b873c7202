"""Students' exceptions (extensions) over HTTP: per student, for pasted uids and per section;
absent and null in changes; versions; who may; what the students' decisions then say."""

from __future__ import annotations

from typing import Any

from api_support import CI_PATH, COURSE, INSTANCE, World, body
from sqlalchemy import func, select

from coursegate.cli import demo_world as demo
from coursegate.core.instants import parse_date, zone
from coursegate.services.access.decisions.student import decide_one
from coursegate.store.models import HistoryEntry, StudentOverride

TZ = zone("America/Chicago")
EXC = f"{CI_PATH}/exceptions"
ANA, BEN, CHLOE, DAN = (s.uid for s in demo.STUDENTS)
AFTER_HW1 = "2024-02-06T12:00"
"""After homework 1's last late deadline (Feb 5, 23:59): 0% credit, practice only."""


def decision(world: World, uid: str, aid: str, when: str) -> dict[str, Any]:
    """The student's decision at ``when`` (Chicago wall time), from the stored state."""
    with world.ctx(demo.TA.uid) as ctx:
        at = parse_date(when, TZ)[0]
        out: dict[str, Any] = decide_one(ctx, COURSE, INSTANCE, uid, aid, at=at)
        return out


def stored_exceptions(world: World) -> int:
    with world.ctx() as ctx:
        return int(ctx.session.scalar(select(func.count()).select_from(StudentOverride)) or 0)


def grant(world: World, persona: str = "ta", **fields: Any) -> dict[str, Any]:
    payload = {"uid": ANA, "target": "hw/hw1", "reason": "illness (dean's note)", **fields}
    r = world.client(persona).post(EXC, json=payload)
    assert r.status_code == 201, r.text
    out: dict[str, Any] = body(r)
    return out


def test_a_ta_grants_an_extension_and_the_students_decision_changes(world: World) -> None:
    assert decision(world, ANA, "hw/hw1", AFTER_HW1)["assessment"]["credit"] == 0
    x = grant(world, due="2024-02-08T23:59", credit=100)
    assert x["student"] == f"Ana Alvarez ({ANA})"
    assert (x["uid"], x["name"], x["scope"], x["target"]) == (ANA, "Ana Alvarez", "assessment",
                                                              "hw/hw1")  # fmt: skip
    assert x["fields"] == {"due": "2024-02-08T23:59:00-06:00", "credit": 100}
    assert (x["granted_by"], x["version"], x["changed_by"]) == (demo.TA.uid, 1, None)
    assert x["granted_at"] == "2024-01-24T20:00:00-06:00"  # the demo clock, in the course zone
    after = decision(world, ANA, "hw/hw1", AFTER_HW1)["assessment"]
    assert after["credit"] == 100 and "Thu, Feb 8" in after["credit_text"]
    assert decision(world, BEN, "hw/hw1", AFTER_HW1)["assessment"]["credit"] == 0  # only Ana
    with world.ctx() as ctx:
        (entry,) = ctx.session.scalars(
            select(HistoryEntry).where(HistoryEntry.action == "exception.grant")
        ).all()
        assert (entry.actor, entry.subject, entry.reason) == (
            demo.TA.uid, ANA, "illness (dean's note)",
        )  # fmt: skip


def test_a_change_keeps_absent_fields_and_removes_null_ones(world: World) -> None:
    x = grant(world, target="quizzes/quiz1", due="2024-02-12T17:00", time_limit_minutes=60)
    assert decision(world, ANA, "quizzes/quiz1", "2024-02-10T12:00")["assessment"][
        "time_limit_minutes"
    ] == 60  # fmt: skip
    url = f"{EXC}/{x['id']}"
    ta = world.client("ta")
    r = ta.patch(url, json={"version": 1, "reason": "and full credit", "credit": 100})
    assert r.status_code == 200, r.text
    changed = body(r)
    assert changed["fields"] == {
        "due": "2024-02-12T17:00:00-06:00", "credit": 100, "time_limit_minutes": 60,
    }  # fmt: skip
    assert (changed["version"], changed["changed_by"], changed["reason"]) == (
        2, demo.TA.uid, "and full credit",
    )  # fmt: skip
    r = ta.patch(url, json={"version": 2, "reason": "no limit", "time_limit_minutes": None})
    assert body(r)["fields"] == {"due": "2024-02-12T17:00:00-06:00", "credit": 100}
    assert body(r)["version"] == 3
    # The quiz's own 30 minutes apply again (the override no longer sets a limit).
    d = decision(world, ANA, "quizzes/quiz1", "2024-02-10T12:00")["assessment"]
    assert d["time_limit_minutes"] == 30 and d["access"] is True
    # Naming no field changes nothing and writes nothing.
    r = ta.patch(url, json={"version": 3, "reason": "nothing"})
    assert r.status_code == 200 and body(r)["version"] == 3
    # Removing every field would leave an empty exception: remove the exception instead.
    r = ta.patch(url, json={"version": 3, "reason": "all", "due": None, "credit": None})
    assert r.status_code == 422 and body(r)["error"]["field"] == "fields"
    assert "remove the exception" in body(r)["error"]["message"]


def test_a_stale_version_is_a_conflict_for_change_and_delete(world: World) -> None:
    x = grant(world, target="quizzes/quiz1", due="2024-02-12T17:00")
    url = f"{EXC}/{x['id']}"
    first = world.client("ta").patch(url, json={"version": 1, "reason": "r", "credit": 90})
    assert first.status_code == 200
    late = world.client("instructor").patch(url, json={"version": 1, "reason": "r", "credit": 80})
    assert late.status_code == 409
    error = body(late)["error"]
    assert (error["code"], error["field"]) == ("conflict", "version")
    assert "you saw version 1, it is now version 2" in error["message"]
    r = world.client("instructor").delete(url, params={"version": 1, "reason": "r"})
    assert r.status_code == 409
    assert body(world.client("ta").get(url))["fields"]["credit"] == 90  # the first change stays


def test_delete_removes_it_and_the_decision_returns(world: World) -> None:
    x = grant(world, due="2024-02-08T23:59")
    assert decision(world, ANA, "hw/hw1", AFTER_HW1)["assessment"]["credit"] == 100
    url = f"{EXC}/{x['id']}"
    r = world.client("instructor").delete(url, params={"version": 1, "reason": "entered twice"})
    assert r.status_code == 200
    assert body(r)["fields"] == {"due": "2024-02-08T23:59:00-06:00"}  # as it was
    assert world.client("ta").get(url).status_code == 404
    assert body(world.client("ta").get(EXC, params={"uid": ANA})) == []
    assert decision(world, ANA, "hw/hw1", AFTER_HW1)["assessment"]["credit"] == 0
    r = world.client("ta").delete(url, params={"version": 1, "reason": "again"})
    assert r.status_code == 404 and body(r)["error"]["field"] == "exception_id"


def test_bulk_with_one_bad_uid_writes_nothing_and_lists_every_problem(world: World) -> None:
    before = stored_exceptions(world)
    payload = {
        "uids": f"{ANA}, {BEN}\nnobody@example.edu; {demo.TA.uid}",
        "target": "hw/hw1",
        "due": "2024-02-08T23:59",
        "reason": "snow day",
    }
    r = world.client("ta").post(f"{EXC}/bulk", json=payload)
    assert r.status_code == 422
    error = body(r)["error"]
    assert error["code"] == "invalid" and "2 students cannot get this exception" in error["message"]
    problems = {p["uid"]: p["message"] for p in error["errors"]}
    assert set(problems) == {"nobody@example.edu", demo.TA.uid}
    assert "no such user" in problems["nobody@example.edu"]
    assert "is not enrolled in CG 101 Sp24" in problems[demo.TA.uid]
    assert stored_exceptions(world) == before
    assert decision(world, ANA, "hw/hw1", AFTER_HW1)["assessment"]["credit"] == 0

    payload["uids"] = [ANA, BEN]
    r = world.client("ta").post(f"{EXC}/bulk", json=payload)
    assert r.status_code == 200, r.text
    assert [g["uid"] for g in body(r)["granted"]] == [ANA, BEN]
    assert decision(world, BEN, "hw/hw1", AFTER_HW1)["assessment"]["credit"] == 100
    again = body(world.client("ta").post(f"{EXC}/bulk", json=payload))
    assert again["granted"] == [] and again["unchanged"] == [
        f"Ana Alvarez ({ANA})", f"Ben Brown ({BEN})",
    ]  # fmt: skip


def test_students_and_other_courses_instructors_cannot_grant(world: World) -> None:
    before = stored_exceptions(world)
    payload = {"uid": ANA, "target": "hw/hw1", "due": "2024-02-08T23:59", "reason": "please"}
    r = world.client("student").post(EXC, json=payload)
    assert r.status_code == 403 and body(r)["error"]["code"] == "forbidden"
    r = world.client("other_instructor").post(EXC, json=payload)
    assert r.status_code == 403
    assert body(r)["error"]["message"].startswith(
        "You can't grant students' exceptions in CG 101, Spring 2024: that needs the “grant "
        "exceptions” privilege"
    )
    assert "may not grant students' exceptions" in body(r)["error"]["details"]
    r = world.client("student").patch(f"{EXC}/1", json={"version": 1, "reason": "x", "credit": 1})
    assert r.status_code == 403
    assert stored_exceptions(world) == before


def test_per_section_exceptions_reach_exactly_that_sections_students(world: World) -> None:
    when = "2024-02-06T12:00"
    limits = {
        u: decision(world, u, "quizzes/quiz1", when)["assessment"]["time_limit_minutes"]
        for u in (ANA, BEN, CHLOE, DAN)
    }
    assert limits == {ANA: 30, BEN: 45, CHLOE: 30, DAN: 30}
    section = f"{CI_PATH}/sections/lab-b/exceptions"
    payload = {"scope": "set", "target": "Quiz", "time_limit_minutes": 90, "reason": "lab-b room"}
    r = world.client("ta").post(section, json=payload)
    assert r.status_code == 200, r.text
    granted = body(r)["granted"]
    assert [(g["uid"], g["student"]) for g in granted] == [
        (BEN, f"Ben Brown ({BEN})"), (CHLOE, f"Chloe Chen ({CHLOE})"),
    ]  # fmt: skip
    after = {
        u: decision(world, u, "quizzes/quiz1", when)["assessment"]["time_limit_minutes"]
        for u in (ANA, BEN, CHLOE, DAN)
    }
    assert after == {ANA: 30, BEN: 90, CHLOE: 90, DAN: 30}
    listed = body(world.client("ta").get(EXC, params={"section": "lab-b"}))
    assert [(x["uid"], x["name"], x["target"]) for x in listed] == [
        (BEN, "Ben Brown", "Quiz"), (CHLOE, "Chloe Chen", "Quiz"),
    ]  # fmt: skip

    # Change them all, with the versions seen: a stale one refuses the whole change.
    patch = {"scope": "set", "target": "Quiz", "time_limit_minutes": 120, "reason": "longer"}
    stale = {**patch, "versions": {BEN: 1, CHLOE: 7}}
    r = world.client("ta").patch(section, json=stale)
    assert r.status_code == 409
    assert [p["uid"] for p in body(r)["error"]["errors"]] == [CHLOE]
    assert decision(world, BEN, "quizzes/quiz1", when)["assessment"]["time_limit_minutes"] == 90
    r = world.client("ta").patch(section, json={**patch, "versions": {BEN: 1, CHLOE: 1}})
    assert r.status_code == 200, r.text
    assert [(x["uid"], x["version"]) for x in body(r)["changed"]] == [(BEN, 2), (CHLOE, 2)]
    assert decision(world, CHLOE, "quizzes/quiz1", when)["assessment"]["time_limit_minutes"] == 120

    r = world.client("ta").delete(
        section, params={"scope": "set", "target": "Quiz", "reason": "room reopened"}
    )
    assert r.status_code == 200
    assert [x["uid"] for x in body(r)["removed"]] == [BEN, CHLOE]
    back = {
        u: decision(world, u, "quizzes/quiz1", when)["assessment"]["time_limit_minutes"]
        for u in (ANA, BEN, CHLOE, DAN)
    }
    assert back == limits
    r = world.client("ta").delete(section, params={"scope": "set", "target": "Quiz", "reason": "x"})
    assert r.status_code == 404


def test_a_section_grant_with_an_invalid_result_for_one_member_writes_nothing(
    world: World,
) -> None:
    # Chloe already has a different exception for hw/hw1: the section grant lists her.
    grant(world, uid=CHLOE, due="2024-02-07T23:59")
    before = stored_exceptions(world)
    r = world.client("ta").post(
        f"{CI_PATH}/sections/lab-b/exceptions",
        json={"target": "hw/hw1", "due": "2024-02-09T23:59", "reason": "lab-b"},
    )
    assert r.status_code == 422
    assert [p["uid"] for p in body(r)["error"]["errors"]] == [CHLOE]
    assert "already has a different exception" in body(r)["error"]["errors"][0]["message"]
    assert stored_exceptions(world) == before


def test_a_student_lists_their_own_exceptions_only(world: World) -> None:
    dan = world.client(DAN)
    own = body(dan.get(EXC, params={"uid": DAN}))
    assert [(x["uid"], x["target"], x["fields"]) for x in own] == [
        (DAN, "hw/hw2", {"due": "2024-02-10T23:59:00-06:00"})
    ]
    r = dan.get(EXC)
    assert r.status_code == 403 and f"uid={DAN}" in body(r)["error"]["message"]
    assert dan.get(EXC, params={"uid": ANA}).status_code == 403
    assert dan.get(f"{EXC}/{own[0]['id']}").status_code == 403  # one by id: staff only
    # A password of their own: staff see it, the student does not.
    grant(world, uid=DAN, target="exams/inclass1", password="orchid-7", time_limit_minutes=60)
    mine = {x["target"]: x["fields"] for x in body(dan.get(EXC, params={"uid": DAN}))}
    assert mine["exams/inclass1"]["password"] == "(set)"
    staff = {
        x["target"]: x["fields"] for x in body(world.client("ta").get(EXC, params={"uid": DAN}))
    }
    assert staff["exams/inclass1"]["password"] == "orchid-7"


def test_lists_filter_by_student_assessment_and_section(world: World) -> None:
    grant(world, uid=ANA, target="hw/hw2", due="2024-02-09T23:59")
    grant(world, uid=BEN, scope="set", target="Homework", credit=100, due="2024-02-09T23:59")
    ta = world.client("ta")
    everyone = body(ta.get(EXC))
    assert [(x["uid"], x["target"]) for x in everyone] == [
        (ANA, "hw/hw2"), (BEN, "Homework"), (DAN, "hw/hw2"),
    ]  # fmt: skip
    hw2 = body(ta.get(EXC, params={"assessment": "hw/hw2"}))
    assert [x["uid"] for x in hw2] == [ANA, BEN, DAN]  # Ben's set exception applies to hw2
    assert [x["uid"] for x in body(ta.get(EXC, params={"section": "lab-a"}))] == [ANA]
    assert [x["uid"] for x in body(ta.get(EXC, params={"scope": "set"}))] == [BEN]
    assert body(ta.get(EXC, params={"uid": BEN, "assessment": "quizzes/quiz1"})) == []
    r = ta.get(EXC, params={"assessment": "hw/hw9"})
    assert r.status_code == 404 and body(r)["error"]["field"] == "target"
    assert ta.get(EXC, params={"section": "lab-z"}).status_code == 404


def test_dates_are_read_in_the_course_zone_and_daylight_saving_is_reported(world: World) -> None:
    # An explicit offset is honoured and written back in Chicago time.
    x = grant(world, target="hw/hw2", due="2024-02-11T05:59Z")
    assert x["fields"]["due"] == "2024-02-10T23:59:00-06:00" and x["warnings"] == []
    # 02:30 on March 10 does not exist in Chicago: the offset before the change is used, and
    # the answer says so.
    y = grant(world, uid=BEN, target="hw/hw2", due="2024-03-10T02:30")
    assert y["fields"]["due"] == "2024-03-10T03:30:00-05:00"
    assert len(y["warnings"]) == 1 and "America/Chicago" in y["warnings"][0]
    assert y["warnings"][0].startswith("due:")


def test_bad_requests_name_the_field_and_say_what_is_wrong(world: World) -> None:
    ta = world.client("ta")
    base = {"uid": ANA, "target": "hw/hw1", "reason": "r"}

    def error(payload: dict[str, Any], status: int = 422) -> dict[str, Any]:
        r = ta.post(EXC, json=payload)
        assert r.status_code == status, r.text
        out: dict[str, Any] = body(r)["error"]
        return out

    e = error({**base, "due_date": "2024-02-08T23:59"})
    assert e["field"] == "due_date" and "did you mean 'due'" in e["message"]
    e = error({**base, "target": "hw/hw9", "due": "2024-02-08T23:59"}, 404)
    assert e["field"] == "target" and "no assessment 'hw/hw9'" in e["message"]
    e = error({**base, "credit": 250})
    assert e["field"] == "credit" and "between 0 and 200" in e["message"]
    e = error({**base, "due": "next friday"})
    assert e["field"] == "due"
    e = error({**base, "uid": demo.TA.uid, "due": "2024-02-08T23:59"})
    assert e["field"] == "uid" and "not enrolled" in e["message"]
    e = error({**base, "reason": " ", "due": "2024-02-08T23:59"})
    assert e["field"] == "reason"
    e = error({**base})
    assert e["field"] == "fields" and "at least one field" in e["message"]
    e = error({**base, "time_limit_minutes": 60, "time_limit_percent": 150})
    assert e["field"] == "time_limit_percent"
    e = error({**base, "scope": "course", "due": "2024-02-08T23:59"})
    assert e["field"] == "scope"
    e = error({**base, "time_limit_minutes": 10**7})
    assert e["field"] == "time_limit_minutes"
    e = error({**base, "due": "2024-02-08T23:59", "reason": "nul\x00here"})
    assert e["field"] == "reason" and "NUL" in e["message"]
    grant(world, due="2024-02-08T23:59")
    e = error({**base, "due": "2024-02-09T23:59"}, 409)
    assert e["code"] == "conflict" and "change it instead" in e["message"]
    r = ta.patch(f"{EXC}/999999", json={"version": 1, "reason": "r", "credit": 1})
    assert r.status_code == 404


def test_an_exception_is_only_found_in_its_own_course_instance(world: World) -> None:
    x = grant(world, due="2024-02-08T23:59")
    fa14 = f"/api/v1/courses/{COURSE}/instances/Fa14/exceptions/{x['id']}"
    admin = world.client("admin")  # a domain coordinator may look in both
    assert admin.get(f"{EXC}/{x['id']}").status_code == 200
    r = admin.get(fa14)
    assert r.status_code == 404 and "in CG 101 Fa14" in body(r)["error"]["message"]
    assert admin.delete(fa14, params={"version": 1, "reason": "r"}).status_code == 404


def test_a_publishing_extension_keeps_one_student_in_after_the_end(world: World) -> None:
    r = world.client("instructor").post(
        EXC,
        json={
            "uid": ANA,
            "scope": "course_instance",
            "publishing_extension_end": "2024-06-01T23:59:59",
            "reason": "incomplete grade",
        },
    )
    assert r.status_code == 201, r.text
    assert body(r)["target"] == "" and body(r)["fields"] == {
        "publishing_extension_end": "2024-06-01T23:59:59-05:00"
    }
    late = "2024-05-25T12:00"
    assert decision(world, ANA, "hw/hw1", late)["course_instance"]["access"] is True
    assert decision(world, BEN, "hw/hw1", late)["course_instance"]["access"] is False
    r = world.client("instructor").post(
        EXC,
        json={"uid": BEN, "scope": "course_instance", "due": "2024-06-01", "reason": "x"},
    )
    assert r.status_code == 422 and body(r)["error"]["field"] == "due"


def test_viewing_as_a_student_grants_nothing_and_sees_what_the_student_sees(
    world: World,
) -> None:
    grant(world, uid=ANA, target="exams/inclass1", password="orchid-7", time_limit_minutes=60)
    ta = world.sign_in(demo.TA.uid, demo.TA.password)
    assert ta.post(f"{CI_PATH}/view-as", json={"uid": ANA}).status_code == 200
    r = ta.post(EXC, json={"uid": ANA, "target": "hw/hw1", "due": "2024-02-08T23:59",
                           "reason": "as Ana"})  # fmt: skip
    assert r.status_code == 403 and r.headers["x-coursegate-viewing-as"] == ANA
    assert ta.get(EXC).status_code == 403  # Ana may not list everyone's
    (own,) = body(ta.get(EXC, params={"uid": ANA}))
    assert own["fields"]["password"] == "(set)"
