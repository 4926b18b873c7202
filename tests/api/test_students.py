"""A student's assessments (their own dates, credit now, status, exceptions) and one's
courses, over HTTP."""

from __future__ import annotations

from typing import Any

from api_support import CI_PATH, COURSE, INSTANCE, World, body

from coursegate.cli import demo_world as demo
from coursegate.services.access.decisions.student import student_course
from coursegate.services.access.exceptions import granting as X
from coursegate.services.common.places import find_course_instance

ANA, BEN, CHLOE, DAN = demo.STUDENTS


def assessments(world: World, persona: str, uid: str, status: int = 200, **params: str) -> Any:
    r = world.client(persona).get(f"{CI_PATH}/students/{uid}/assessments", params=params)
    assert r.status_code == status, r.text
    return body(r)


def line(course: Any, aid: str) -> Any:
    return next(a for a in course["assessments"] if a["assessment"] == aid)


def test_a_student_sees_their_assessments_with_their_own_dates(world: World) -> None:
    got = assessments(world, "student", ANA.uid)
    assert (got["uid"], got["course"], got["course_instance"]) == (ANA.uid, COURSE, INSTANCE)
    assert got["timezone"] == "America/Chicago" and got["enrolled"] is True
    assert got["at"] == "2024-01-24T20:00:00-06:00"
    hw1 = line(got, "hw/hw1")
    assert (hw1["status"], hw1["credit"], hw1["can_start"]) == ("open", 120, True)
    assert hw1["due"] == "2024-01-29T23:59:00-06:00" and hw1["due_credit"] == 100
    assert [d["credit"] for d in hw1["early_deadlines"]] == [120, 110]
    assert hw1["late_deadlines"][0] == {"date": "2024-01-31T23:59:00-06:00", "credit": 80}
    assert hw1["next_change"] == "2024-01-25T23:59:00-06:00"
    assert hw1["exceptions"] == []
    # The same as the service's own JSON (the handler is thin).
    with world.ctx(ANA.uid) as ctx:
        assert got == student_course(ctx, COURSE, INSTANCE, ANA.uid).to_json()


def test_exceptions_are_in_the_list_and_move_the_due_date(world: World) -> None:
    dan = assessments(world, "ta", DAN.uid, at="2024-02-08T12:00:00")
    hw2 = line(dan, "hw/hw2")
    assert hw2["status"] == "open" and hw2["due"] == "2024-02-10T23:59:00-06:00"
    assert hw2["exceptions"][0]["reason"] == "illness (demo)"
    assert hw2["exceptions"][0]["body"] == {"due": "2024-02-10T23:59:00-06:00"}
    ana = assessments(world, "student", ANA.uid, at="2024-02-08T12:00:00")
    assert line(ana, "hw/hw2")["status"] == "practice only"
    with world.ctx(demo.INSTRUCTOR.uid) as ctx:
        ci = find_course_instance(ctx, COURSE, INSTANCE)
        X.grant(
            ctx, ci.id, ANA.uid, "set", "Homework", {"due": "2024-02-20T23:59"}, reason="travel"
        )
    ana = assessments(world, "student", ANA.uid, at="2024-02-08T12:00:00")
    hw2 = line(ana, "hw/hw2")
    assert hw2["status"] == "open" and hw2["due"] == "2024-02-20T23:59:00-06:00"
    assert hw2["exceptions"][0]["scope"] == "set" and hw2["exceptions"][0]["reason"] == "travel"


def test_a_student_cannot_see_another_students_assessments_a_ta_can(world: World) -> None:
    refused = assessments(world, "student", BEN.uid, 403)
    assert refused["error"]["code"] == "forbidden" and "vst" in refused["error"]["details"]
    assert "“view students” privilege" in refused["error"]["message"]
    assert assessments(world, "other_instructor", ANA.uid, 403)["error"]["code"] == "forbidden"
    for persona in ("ta", "instructor", "admin"):
        assert assessments(world, persona, BEN.uid)["uid"] == BEN.uid
    assert assessments(world, "ta", "ghost@example.edu", 404)["error"]["field"] == "uid"
    assert world.client().get(f"{CI_PATH}/students/{ANA.uid}/assessments").status_code == 401


def test_a_bad_instant_or_course_is_named(world: World) -> None:
    assert assessments(world, "student", ANA.uid, 422, at="tomorrow")["error"]["field"] == "at"
    r = world.client("student").get(
        f"/api/v1/courses/{COURSE}/instances/Xx99/students/{ANA.uid}/assessments"
    )
    assert r.status_code == 404


# -- one's courses ----------------------------------------------------------------------------


def my_courses(world: World, persona: str) -> Any:
    r = world.client(persona).get("/api/v1/me/courses")
    assert r.status_code == 200, r.text
    return body(r)


def test_a_student_starts_from_their_enrollments(world: World) -> None:
    got = my_courses(world, "student")
    assert (got["uid"], got["name"]) == (ANA.uid, ANA.name)
    (sp24,) = got["course_instances"]
    assert (sp24["course"], sp24["course_instance"], sp24["enrollment"]) == (
        COURSE,
        INSTANCE,
        "joined",
    )
    assert sp24["sections"] == ["lab-a"] and sp24["roles"] == []
    links = sp24["links"]
    assert links["matrix"] is None
    assert (
        links["assessments"]
        == f"/api/v1/courses/CG%20101/instances/Sp24/students/{ANA.uid}/assessments"
    )
    # The links work.
    c = world.client("student")
    assert c.get(links["assessments"]).status_code == 200
    assert c.get(links["calendar_link"]).status_code == 200


def test_staff_see_their_roles_and_the_matrix_link(world: World) -> None:
    (ta,) = my_courses(world, "ta")["course_instances"]
    assert ta["enrollment"] is None
    assert [r["role"] for r in ta["roles"]] == ["ta"]
    assert ta["roles"][0]["area"] == "/exampleuniversity/CG_101.Sp24"
    assert world.client("ta").get(ta["links"]["matrix"]).status_code == 200
    (other,) = my_courses(world, "other_instructor")["course_instances"]
    assert (other["course_instance"], [r["role"] for r in other["roles"]]) == ("Fa14", ["in"])
    instructor = my_courses(world, "instructor")["course_instances"][0]
    assert sorted(r["role"] for r in instructor["roles"]) == ["cc", "in"]
    admin = my_courses(world, "admin")
    assert admin["course_instances"] == []
    assert [(r["role"], r["area"]) for r in admin["other_roles"]] == [("dc", "/exampleuniversity/")]
    assert admin["other_roles"][0]["name"]


def test_my_courses_needs_a_sign_in(world: World) -> None:
    assert world.client().get("/api/v1/me/courses").status_code == 401
