"""Sections, memberships, the roster, enrolling, invitations, blocking, self-enrollment and
the enrollment code, over HTTP."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from api_support import CI_PATH, World, body
from fastapi.testclient import TestClient
from sqlalchemy import select

from coursegate.cli import demo_world as demo
from coursegate.core.instants import parse_date, zone
from coursegate.services.courses.sync import sync_course
from coursegate.services.people import signin
from coursegate.services.people.users import create_user
from coursegate.store.models import RoleAssignmentRow, SectionMembership

TZ = zone("America/Chicago")
ANA, BEN, CHLOE, DAN = (s.uid for s in demo.STUDENTS)
SECTIONS = f"{CI_PATH}/sections"
ENROLLMENTS = f"{CI_PATH}/enrollments"
PASSWORD = "a-new-student-1"


def newcomer(world: World, uid: str, name: str = "Eve Evans") -> TestClient:
    """A user of the institution, not enrolled anywhere, signed in."""
    with world.ctx() as ctx:
        user = create_user(ctx, uid, name, uid, domain=demo.DOMAIN)
        signin.store_password(ctx, user, PASSWORD)
    return world.sign_in(uid, PASSWORD)


def status_of(world: World, uid: str) -> str | None:
    for line in body(world.client("ta").get(ENROLLMENTS)):
        if line["uid"] == uid:
            return str(line["status"])
    return None


def student_role_live(world: World, uid: str) -> bool:
    with world.ctx() as ctx:
        user = ctx.user(uid)
        rows = ctx.session.scalars(
            select(RoleAssignmentRow).where(
                RoleAssignmentRow.user_id == user.id, RoleAssignmentRow.role == "st"
            )
        ).all()
        return any(r.end_at is None or r.end_at > world.clock.now for r in rows)


def test_the_roster_shows_uid_name_status_and_sections(world: World) -> None:
    roster = body(world.client("ta").get(ENROLLMENTS))
    assert [(x["uid"], x["student"], x["status"], x["sections"]) for x in roster] == [
        (ANA, f"Ana Alvarez ({ANA})", "joined", ["lab-a"]),
        (BEN, f"Ben Brown ({BEN})", "joined", ["extra-time", "lab-b"]),
        (CHLOE, f"Chloe Chen ({CHLOE})", "joined", ["drc", "lab-b"]),
        (DAN, f"Dan Diaz ({DAN})", "joined", []),
    ]
    lab_b = body(world.client("ta").get(ENROLLMENTS, params={"section": "lab-b"}))
    assert [x["uid"] for x in lab_b] == [BEN, CHLOE]
    assert body(world.client("ta").get(ENROLLMENTS, params={"status": "blocked"})) == []
    assert world.client("student").get(ENROLLMENTS).status_code == 403
    assert world.client("other_instructor").get(ENROLLMENTS).status_code == 403


def test_sections_are_created_renamed_filled_emptied_and_deleted(world: World) -> None:
    inst = world.client("instructor")
    listed = {s["name"]: s for s in body(world.client("ta").get(SECTIONS))}
    assert listed["lab-a"]["from_files"] is True
    assert [m["student"] for m in listed["lab-b"]["members"]] == [
        f"Ben Brown ({BEN})", f"Chloe Chen ({CHLOE})",
    ]  # fmt: skip
    r = inst.post(SECTIONS, json={"name": "study-group", "description": "Thursday evenings"})
    assert r.status_code == 201, r.text
    assert body(r) == {
        "name": "study-group", "description": "Thursday evenings", "from_files": False,
        "members": [],
    }  # fmt: skip
    assert inst.post(SECTIONS, json={"name": "study-group"}).status_code == 422  # taken
    r = inst.post(SECTIONS, json={"name": "study group"})
    assert r.status_code == 422 and body(r)["error"]["field"] == "name"
    r = inst.patch(f"{SECTIONS}/study-group", json={"name": "study-2"})
    assert r.status_code == 200 and body(r)["name"] == "study-2"
    r = inst.put(f"{SECTIONS}/study-2/members/{DAN}")
    assert body(r) == {"section": "study-2", "uid": DAN, "added": True}
    assert body(inst.put(f"{SECTIONS}/study-2/members/{DAN}"))["added"] is False
    r = inst.put(f"{SECTIONS}/study-2/members/{demo.TA.uid}")
    assert r.status_code == 422 and "not enrolled" in body(r)["error"]["message"]
    # The roster (and so every decision) sees the new section.
    assert [x["uid"] for x in body(inst.get(ENROLLMENTS, params={"section": "study-2"}))] == [DAN]
    r = inst.delete(f"{SECTIONS}/study-2")
    assert r.status_code == 422 and "still has 1 member" in body(r)["error"]["message"]
    assert inst.delete(f"{SECTIONS}/study-2/members/{DAN}").status_code == 204
    assert inst.delete(f"{SECTIONS}/study-2/members/{DAN}").status_code == 422
    assert inst.delete(f"{SECTIONS}/study-2").status_code == 204
    assert "study-2" not in {s["name"] for s in body(inst.get(SECTIONS))}
    r = inst.patch(f"{SECTIONS}/lab-a", json={"name": "lab-z"})
    assert r.status_code == 422 and "course files" in body(r)["error"]["message"]
    assert inst.delete(f"{SECTIONS}/nowhere").status_code == 404


def test_tas_see_sections_but_do_not_change_them(world: World) -> None:
    ta = world.client("ta")
    assert ta.get(SECTIONS).status_code == 200
    r = ta.post(SECTIONS, json={"name": "ta-made"})
    assert r.status_code == 403
    assert body(r)["error"]["message"].startswith("You can't manage enrollment and sections in ")
    assert "“manage enrollment” privilege" in body(r)["error"]["message"]
    assert "may not manage enrollment" in body(r)["error"]["details"]
    assert ta.put(f"{SECTIONS}/lab-a/members/{BEN}").status_code == 403
    assert world.client("student").get(SECTIONS).status_code == 403
    assert "ta-made" not in {s["name"] for s in body(ta.get(SECTIONS))}


def test_importing_memberships_is_all_or_nothing_with_every_bad_line(world: World) -> None:
    inst = world.client("instructor")
    url = f"{CI_PATH}/section-memberships/import"

    def memberships() -> int:
        with world.ctx() as ctx:
            return len(ctx.session.scalars(select(SectionMembership)).all())

    before = memberships()
    bad = f"uid,section\n{DAN},lab-a\nnobody@example.edu,lab-a\n{ANA},lab-q\n{demo.TA.uid},lab-b\n"
    r = inst.post(url, json={"csv": bad})
    assert r.status_code == 422
    errors = body(r)["error"]["errors"]
    assert [(e["line"], e["column"]) for e in errors] == [(3, "uid"), (4, "section"), (5, "uid")]
    assert "there is no section 'lab-q'" in errors[1]["message"]
    assert memberships() == before
    good = f"uid,section\n{DAN},lab-a\n{ANA},lab-a\n"
    r = inst.post(url, json={"csv": good})
    assert body(r) == {"created": 1, "unchanged": 1, "lines": [f"{DAN} joins section lab-a"]}
    assert body(inst.post(url, json={"csv": good}))["created"] == 0
    assert memberships() == before + 1
    r = inst.post(url, json={"csv": "who,where\n"})
    assert r.status_code == 422 and body(r)["error"]["field"] == "csv"


def test_staff_enroll_block_and_unblock(world: World) -> None:
    eve = "eve@example.edu"
    eve_client = newcomer(world, eve)
    inst = world.client("instructor")
    r = inst.post(ENROLLMENTS, json={"uid": eve, "reason": "late add"})
    assert r.status_code == 200, r.text
    assert (body(r)["status"], body(r)["student"]) == ("joined", f"Eve Evans ({eve})")
    assert student_role_live(world, eve)
    # Now a student of the course: she sees her own (empty) exceptions.
    assert body(eve_client.get(f"{CI_PATH}/exceptions", params={"uid": eve})) == []
    r = inst.post(f"{ENROLLMENTS}/{eve}/block", json={"reason": "academic integrity"})
    assert body(r)["status"] == "blocked" and not student_role_live(world, eve)
    r = eve_client.post(f"{CI_PATH}/self-enrollment", json={})
    assert r.status_code == 403 and "blocked" in body(r)["error"]["message"]
    r = inst.post(ENROLLMENTS, json={"uid": eve})
    assert r.status_code == 422 and "unblock them first" in body(r)["error"]["message"]
    r = inst.post(f"{ENROLLMENTS}/{eve}/unblock", json={})
    assert body(r)["status"] == "joined" and student_role_live(world, eve)
    r = inst.post(f"{ENROLLMENTS}/{eve}/unblock", json={})
    assert r.status_code == 422 and body(r)["error"]["field"] == "uid"
    assert world.client("ta").post(ENROLLMENTS, json={"uid": eve}).status_code == 403
    r = inst.post(ENROLLMENTS, json={"uid": "nobody@example.edu"})
    assert r.status_code == 404 and body(r)["error"]["field"] == "uid"


def test_an_invited_user_accepts_and_becomes_a_student(world: World) -> None:
    fay = "fay@example.edu"
    fay_client = newcomer(world, fay, "Fay Fox")
    r = fay_client.post(f"{CI_PATH}/invitation/accept")
    assert r.status_code == 422 and "has no invitation" in body(r)["error"]["message"]
    r = world.client("instructor").post(f"{CI_PATH}/invitations", json={"uid": fay})
    assert body(r)["status"] == "invited" and not student_role_live(world, fay)
    r = fay_client.post(f"{CI_PATH}/invitation/accept")
    assert r.status_code == 200 and body(r)["status"] == "joined"
    assert student_role_live(world, fay) and status_of(world, fay) == "joined"


def test_self_enrollment_follows_the_course_policy_and_its_date(world: World) -> None:
    gus = newcomer(world, "gus@example.edu", "Gus Green")
    r = gus.post(f"{CI_PATH}/self-enrollment")
    assert r.status_code == 200 and body(r)["status"] == "joined"
    assert body(gus.post(f"{CI_PATH}/self-enrollment", json={}))["status"] == "joined"  # again
    world.clock.now = parse_date("2024-02-02T09:00", TZ)[0]  # after beforeDate (Feb 1)
    hal = newcomer(world, "hal@example.edu", "Hal Hill")
    r = hal.post(f"{CI_PATH}/self-enrollment", json={})
    assert r.status_code == 403 and body(r)["error"]["code"] == "forbidden"
    assert status_of(world, "hal@example.edu") is None


def _require_a_code(world: World, tmp_path: Path) -> None:
    """Re-sync the example course with selfEnrollment.useEnrollmentCode turned on."""
    course = tmp_path / "course"
    shutil.copytree(demo.EXAMPLE_COURSE, course)
    info = course / "courseInstances/Sp24/infoCourseInstance.json"
    data: dict[str, Any] = json.loads(info.read_text())
    data["selfEnrollment"]["useEnrollmentCode"] = True
    info.write_text(json.dumps(data))
    with world.ctx() as ctx:
        sync_course(ctx, course)


def test_self_enrollment_with_a_code(world: World, tmp_path: Path) -> None:
    _require_a_code(world, tmp_path)
    code_url = f"{CI_PATH}/enrollment-code"
    inst = world.client("instructor")
    assert body(inst.get(code_url)) == {"code": None}
    ivy = newcomer(world, "ivy@example.edu", "Ivy Ito")
    r = ivy.post(f"{CI_PATH}/self-enrollment", json={"code": "ANYTHING"})
    assert r.status_code == 403 and body(r)["error"]["field"] == "code"  # none set: nobody
    r = inst.put(code_url, json={"code": "cg101-spring"})
    assert body(r) == {"code": "CG101-SPRING"}
    assert body(inst.get(code_url)) == {"code": "CG101-SPRING"}
    r = ivy.post(f"{CI_PATH}/self-enrollment", json={})
    assert r.status_code == 403 and body(r)["error"]["field"] == "code"
    assert "enrollment code is missing or wrong" in body(r)["error"]["message"]
    r = ivy.post(f"{CI_PATH}/self-enrollment", json={"code": "WRONG-CODE"})
    assert r.status_code == 403 and body(r)["error"]["field"] == "code"
    assert status_of(world, "ivy@example.edu") is None
    r = ivy.post(f"{CI_PATH}/self-enrollment", json={"code": " cg101-spring "})
    assert r.status_code == 200 and body(r)["status"] == "joined"
    # Rotating: a new random code, and the old one stops working.
    new = body(inst.put(code_url))["code"]
    assert new != "CG101-SPRING" and len(new) == 8
    jo = newcomer(world, "jo@example.edu", "Jo Jones")
    r = jo.post(f"{CI_PATH}/self-enrollment", json={"code": "CG101-SPRING"})
    assert r.status_code == 403
    assert jo.post(f"{CI_PATH}/self-enrollment", json={"code": new}).status_code == 200
    r = inst.put(code_url, json={"code": "a b"})
    assert r.status_code == 422 and body(r)["error"]["field"] == "code"
    assert world.client("ta").get(code_url).status_code == 403
    assert world.client("ta").put(code_url, json={}).status_code == 403
