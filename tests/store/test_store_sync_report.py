"""Whose decisions change: sync compiles the enrolled students' decisions before and after."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from store_support import EXAMPLE_COURSE, Store, utc

from coursegate.core.instants import parse_date, zone
from coursegate.services.common.context import Ctx
from coursegate.services.common.places import ensure_domain
from coursegate.services.courses.sync import run_sync, sync_course
from coursegate.services.courses.sync_report import Impact, SyncReport, describe_kinds
from coursegate.store.models import (
    Assessment,
    CourseInstance,
    Enrollment,
    HistoryEntry,
    Section,
    SectionMembership,
    StudentOverride,
    User,
)

AT = utc(2024, 1, 10)
TZ = zone("America/Chicago")
SP24 = "courseInstances/Sp24"


def t(s: str) -> int:
    return parse_date(s, TZ)[0]


@pytest.fixture
def course(tmp_path: Path) -> Path:
    dest = tmp_path / "course"
    shutil.copytree(EXAMPLE_COURSE, dest)
    return dest


def edit(course: Path, rel: str, fn: Any) -> None:
    """Change one JSON file of the copied course."""
    path = course / rel
    data = json.loads(path.read_text())
    fn(data)
    path.write_text(json.dumps(data, indent=2))


def hw2(course: Path) -> str:
    return f"{SP24}/assessments/hw/hw2/infoAssessment.json"


def enroll(c: Ctx) -> None:
    """Five people in Sp24: s0 plain, s1 in lab-a, s2 with their own due date for hw2 (later
    than any due date the test sets), s3 with a time-limit exception for hw2 (the due date
    still moves for them), s4 removed from the course instance (not counted)."""
    dom = ensure_domain(c, "exampleuniversity", "Example University")
    ci = c.session.scalars(select(CourseInstance).where(CourseInstance.short_name == "Sp24")).one()
    lab_a = c.session.scalars(
        select(Section).where(Section.course_instance_id == ci.id, Section.name == "lab-a")
    ).one()
    for i in range(5):
        u = User(
            uid=f"s{i}@example.edu",
            name=f"Student {i}",
            domain_id=dom.id,
            created_at=AT,
            email=f"s{i}@example.edu",
        )
        c.session.add(u)
        c.session.flush()
        status = "removed" if i == 4 else "joined"
        c.session.add(
            Enrollment(course_instance_id=ci.id, user_id=u.id, status=status, updated_at=AT)
        )
        if i == 1:
            c.session.add(SectionMembership(section_id=lab_a.id, user_id=u.id))
        body: dict[str, Any] | None = {2: {"due": t("2024-02-10T23:59")}}.get(i)
        if i == 3:
            body = {"time_limit_minutes": 90}
        if body is not None:
            c.session.add(
                StudentOverride(
                    course_instance_id=ci.id,
                    user_id=u.id,
                    scope="assessment",
                    target="hw/hw2",
                    body=body,
                    reason="illness",
                    created_by="ta",
                    updated_at=AT,
                )
            )


def setup(store: Store, course: Path) -> None:
    store.system(AT, lambda c: sync_course(c, course))
    store.system(AT, enroll)


def sync(store: Store, course: Path) -> SyncReport:
    rep = store.system(utc(2024, 1, 11), lambda c: sync_course(c, course))
    assert isinstance(rep, SyncReport)
    return rep


def impact(rep: SyncReport, what: str) -> Impact:
    found = [i for i in rep.impacts if i.what == what]
    assert found, rep.render()
    return found[0]


def test_due_date_moves_and_students_with_exceptions_keep_theirs(
    store: Store, course: Path
) -> None:
    setup(store, course)

    def later(d: dict[str, Any]) -> None:
        d["accessControl"][0]["dateControl"]["due"]["date"] = "2024-02-06T23:59:00"

    edit(course, hw2(course), later)
    rep = sync(store, course)
    assert [(c.kind, c.what) for c in rep.changes] == [("changed", "Sp24/hw/hw2")]
    got = impact(rep, "Sp24/hw/hw2")
    assert got.enrolled == 4  # the removed student is not counted
    assert got.groups == [(("due",), 3)]
    assert got.kept == 1
    assert got.render() == (
        "Sp24/hw/hw2: due date moves for 3 students; 1 student with an exception keeps theirs"
    )
    assert "Sp24/hw/hw2: due date moves for 3 students" in rep.render()
    assert len(rep.impacts) == 1


def test_release_and_late_deadlines_are_named(store: Store, course: Path) -> None:
    setup(store, course)

    def change(d: dict[str, Any]) -> None:
        dc = d["accessControl"][0]["dateControl"]
        dc["release"]["date"] = "2024-01-30T00:01:00"
        dc["lateDeadlines"] = [{"date": "2024-02-08T23:59:00", "credit": 80}]

    edit(course, hw2(course), change)
    got = impact(sync(store, course), "Sp24/hw/hw2")
    # s2's own due date (Feb 10) is after every late deadline: only the release moves for them.
    assert dict(got.groups) == {("release", "late"): 3, ("release",): 1}
    assert got.render().startswith(
        "Sp24/hw/hw2: release and late deadlines change for 3 students; release moves for 1 student"
    )


def test_time_limit_and_password_are_named(store: Store, course: Path) -> None:
    setup(store, course)

    def longer(d: dict[str, Any]) -> None:
        d["accessControl"][0]["dateControl"]["durationMinutes"] = 40

    def new_password(d: dict[str, Any]) -> None:
        d["accessControl"]["sessions"][0]["password"] = "oak"

    edit(course, f"{SP24}/assessments/quizzes/quiz1/infoAssessment.json", longer)
    edit(course, f"{SP24}/assessments/quizzes/quiz2/infoAssessment.json", new_password)
    rep = sync(store, course)
    assert impact(rep, "Sp24/quizzes/quiz1").groups == [(("time_limit",), 4)]
    assert impact(rep, "Sp24/quizzes/quiz1").render() == (
        "Sp24/quizzes/quiz1: time limit changes for 4 students"
    )
    assert impact(rep, "Sp24/quizzes/quiz2").groups == [(("password",), 4)]


def test_a_change_that_changes_no_decision_says_so(store: Store, course: Path) -> None:
    setup(store, course)
    edit(course, f"{SP24}/assessments/hw/hw1/infoAssessment.json", lambda d: d.update(number="9"))
    rep = sync(store, course)
    assert [(c.kind, c.what) for c in rep.changes] == [("changed", "Sp24/hw/hw1")]
    assert impact(rep, "Sp24/hw/hw1").render() == (
        "Sp24/hw/hw1: no student's decisions change (4 enrolled)"
    )


def test_questions_only_edit_is_not_a_change(store: Store, course: Path) -> None:
    setup(store, course)
    before = _history(store)
    edit(course, hw2(course), lambda d: d["zones"][0]["questions"].pop())
    rep = sync(store, course)
    assert not rep.changed and not rep.impacts and not rep.files_unchanged
    assert _history(store) == before
    again = sync(store, course)  # the new fingerprint was stored
    assert again.files_unchanged


def test_course_instance_change_reaches_every_assessment(store: Store, course: Path) -> None:
    setup(store, course)

    def earlier_end(d: dict[str, Any]) -> None:
        d["publishing"]["endDate"] = "2024-05-10T23:59:59"

    edit(course, f"{SP24}/infoCourseInstance.json", earlier_end)
    rep = sync(store, course)
    assert [(c.kind, c.what) for c in rep.changes] == [("changed", "course instance Sp24")]
    ci = impact(rep, "course instance Sp24")
    assert ci.groups == [(("access",), 4)]
    assert ci.render() == (
        "course instance Sp24: access to the course instance changes for 4 students"
    )
    indirect = [i for i in rep.impacts if i.note]
    assert indirect and all(i.what.startswith("Sp24/") for i in indirect)
    assert any("end of access moves" in i.render() for i in indirect)


def test_no_students_enrolled(store: Store, course: Path) -> None:
    setup(store, course)

    def later(d: dict[str, Any]) -> None:
        d["allowAccess"][1]["endDate"] = "2014-10-16T23:59:59"

    edit(course, "courseInstances/Fa14/assessments/hw3/infoAssessment.json", later)
    rep = sync(store, course)
    assert [i.render() for i in rep.impacts] == [
        "Fa14: no students are enrolled, so no decisions change"
    ]


def test_dry_run_reports_the_same_and_writes_nothing(store: Store, course: Path) -> None:
    setup(store, course)

    def later(d: dict[str, Any]) -> None:
        d["accessControl"][0]["dateControl"]["due"]["date"] = "2024-02-06T23:59:00"

    edit(course, hw2(course), later)
    before = _history(store), _hw2_hash(store)
    dry = run_sync(store.factory, course, at=utc(2024, 1, 11), dry_run=True)
    assert dry.dry_run and "dry run: nothing written" in dry.render()
    assert (_history(store), _hw2_hash(store)) == before
    real = run_sync(store.factory, course, at=utc(2024, 1, 11))
    assert [i.to_json() for i in dry.impacts] == [i.to_json() for i in real.impacts]
    assert json.loads(json.dumps(real.to_json()))["impacts"][0]["students_changed"] == 3


def _history(store: Store) -> int:
    with store.factory() as s:
        return len(s.scalars(select(HistoryEntry.id)).all())


def _hw2_hash(store: Store) -> str:
    with store.factory() as s:
        return s.scalars(select(Assessment.content_hash).where(Assessment.aid == "hw/hw2")).one()


def test_describe_kinds() -> None:
    assert describe_kinds(("due",)) == "due date moves"
    assert describe_kinds(("time_limit",)) == "time limit changes"
    assert describe_kinds(("release", "due", "late")) == (
        "release, due date and late deadlines change"
    )
    assert describe_kinds(()) == "decisions change"
