"""Decisions from stored state: one decision, a student's course, the matrix, and who may look."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from sqlalchemy import select
from store_support import EXAMPLE_COURSE, Store, add_user, instance_named, utc

import coursegate
from coursegate.core.instants import Instant, parse_date, zone
from coursegate.services.access.decisions import matrix as M
from coursegate.services.access.decisions import student as D
from coursegate.services.common.context import SYSTEM, Ctx
from coursegate.services.common.errors import Invalid, NotFound, Refused
from coursegate.services.common.places import (
    course_area,
    domain_name,
    ensure_domain,
    find_course_instance,
)
from coursegate.services.courses.sync import sync_course
from coursegate.store.models import (
    Enrollment,
    ExamReservation,
    RoleAssignmentRow,
    Section,
    SectionMembership,
    StudentOverride,
)

AT = utc(2024, 1, 10)
TZ = zone("America/Chicago")
COURSE, SP24 = "CG 101", "Sp24"
S0, S1, S2 = "s0", "s1", "s2"
PROF, TA, OTHER_TA, OUTSIDER = "prof", "ta", "ta-sp15", "ta-cs225"
EXAM2 = "d7fcbf5c-a803-4d7e-94bf-68e68fa3dc85"


def t(s: str) -> Instant:
    return parse_date(s, TZ)[0]


def populate(c: Ctx) -> None:
    """Sp24 with three students (s1 in lab-a, s2 with an extension on hw2), an instructor and
    a TA of Sp24, a TA of Sp15 and a TA of another course."""
    sync_course(c, EXAMPLE_COURSE)
    dom = ensure_domain(c, "exampleuniversity", "Example University")
    ci = instance_named(c, SP24)
    lab_a = c.session.scalars(
        select(Section).where(Section.course_instance_id == ci.id, Section.name == "lab-a")
    ).one()
    for i, uid in enumerate((S0, S1, S2)):
        u = add_user(c, uid, f"Student {i}", dom.id, AT)
        c.session.add(
            Enrollment(course_instance_id=ci.id, user_id=u.id, status="joined", updated_at=AT)
        )
        if uid == S1:
            c.session.add(SectionMembership(section_id=lab_a.id, user_id=u.id))
        if uid == S2:
            c.session.add(
                StudentOverride(
                    course_instance_id=ci.id,
                    user_id=u.id,
                    scope="assessment",
                    target="hw/hw2",
                    body={"due": t("2024-02-10T23:59")},
                    reason="illness",
                    created_by=PROF,
                    updated_at=AT,
                )
            )
    domain = domain_name(ci.course.institution)
    sp15 = instance_named(c, "Sp15")
    for uid, role, area in (
        (PROF, "in", course_area(ci, domain).path),
        (TA, "ta", course_area(ci, domain).path),
        (OTHER_TA, "ta", course_area(sp15, domain).path),
        (OUTSIDER, "ta", "/exampleuniversity/CS_225.Sp24"),
    ):
        u = add_user(c, uid, uid.upper(), dom.id, AT)
        c.session.add(RoleAssignmentRow(user_id=u.id, role=role, area=area, created_at=AT))


@pytest.fixture
def db(store: Store) -> Store:
    store.system(AT, populate)
    return store


def run(db: Store, actor: str, at: Instant, fn: Any, acting_as: str | None = None) -> Any:
    return db.run(actor, at, fn, acting_as)


def course(db: Store, who: str, at: Instant, uid: str | None = None) -> D.StudentCourse:
    out = run(db, who, at, lambda c: D.student_course(c, COURSE, SP24, uid or who))
    assert isinstance(out, D.StudentCourse)
    return out


def by_aid(sc: D.StudentCourse) -> dict[str, D.StudentAssessment]:
    return {a.aid: a for a in sc.assessments}


# -- a student's own course ---------------------------------------------------------------------


def test_student_sees_own_course_with_statuses_and_due_dates(db: Store) -> None:
    sc = course(db, S0, t("2024-01-30T12:00"))
    items = by_aid(sc)
    hw1, hw2 = items["hw/hw1"], items["hw/hw2"]
    assert (hw1.status, hw1.credit) == ("late", 80)
    assert hw1.due == t("2024-01-29T23:59") and hw1.schedule.due_credit == 100
    assert hw1.schedule.release == t("2024-01-22T00:01")
    assert hw1.schedule.early == ((t("2024-01-25T23:59"), 120), (t("2024-01-28T23:59"), 110))
    assert hw1.schedule.late == ((t("2024-01-31T23:59"), 80), (t("2024-02-05T23:59"), 50))
    assert hw1.credit_text.startswith("80% until 23:59")
    assert hw1.next_change == t("2024-01-31T23:59")
    assert (hw2.status, hw2.credit, hw2.due) == ("open", 110, t("2024-02-05T23:59"))
    assert items["exams/exam1"].status == "upcoming"
    assert items["exams/exam1"].time_limit_minutes == 60
    assert items["exams/inclass1"].password_required
    assert items["quizzes/quiz2"].schedule.due == t("2024-03-28T16:10")
    assert len(items["quizzes/quiz2"].schedule.windows) == 3
    # Testing-centre-only exams are never listed for them in Public mode.
    assert "exams/exam2" not in items and "exams/final" not in items
    assert all(not a.exceptions for a in sc.assessments)
    # Sorted by due date, then number.
    dues = [a.due for a in sc.assessments if a.due is not None]
    assert dues == sorted(dues)
    assert [a.aid for a in sc.assessments][:3] == ["hw/hw1", "hw/hw2", "quizzes/quiz1"]
    data = sc.to_json()
    assert data["uid"] == S0 and data["name"] == "Student 0" and data["enrolled"]
    first = data["assessments"][0]
    assert first["due"] == "2024-01-29T23:59:00-06:00"
    assert first["early_deadlines"][0] == {"date": "2024-01-25T23:59:00-06:00", "credit": 120}


def test_statuses_over_time(db: Store) -> None:
    def status(at: str, aid: str, who: str = S0) -> str:
        return by_aid(course(db, who, t(at)))[aid].status

    assert status("2024-01-20T12:00", "hw/hw1") == "upcoming"  # listed before release
    assert status("2024-01-24T12:00", "hw/hw1") == "open"
    assert status("2024-02-08T12:00", "hw/hw2") == "practice only"  # 0% after the last deadline
    assert status("2024-02-08T12:00", "hw/hw1") == "closed"  # zeroCreditPractice, no attempt
    assert status("2024-03-26T12:00", "quizzes/quiz2") == "upcoming"  # between sessions
    assert status("2024-04-23T14:30", "quizzes/quiz3", S1) == "open"  # lab-a's window
    assert status("2024-04-23T14:30", "quizzes/quiz3") == "closed"  # s0's was the day before


def test_exception_changes_due_date_for_that_student_only(db: Store) -> None:
    at = t("2024-02-08T12:00")
    mine, theirs = by_aid(course(db, S2, at))["hw/hw2"], by_aid(course(db, S0, at))["hw/hw2"]
    assert mine.due == t("2024-02-10T23:59") and mine.status == "open" and mine.credit == 100
    assert mine.schedule.late == ()  # the late deadline before the new due date is dropped
    assert [(e.scope, e.target, e.reason) for e in mine.exceptions] == [
        ("assessment", "hw/hw2", "illness")
    ]
    assert mine.to_json(TZ)["exceptions"][0]["body"] == {"due": "2024-02-10T23:59:00-06:00"}
    assert theirs.due == t("2024-02-05T23:59") and theirs.status == "practice only"
    assert theirs.schedule.late == ((t("2024-02-07T23:59"), 80),)
    assert not theirs.exceptions


def test_set_exception_and_publishing_extension(db: Store) -> None:
    def grant(c: Ctx) -> None:
        ci = instance_named(c, SP24)
        u = c.user(S0)
        for scope, target, body in (
            ("set", "Homework", {"due": t("2024-03-01T23:59")}),
            ("course_instance", "", {"publishing_extension_end": t("2024-06-01T00:00")}),
        ):
            c.session.add(
                StudentOverride(
                    course_instance_id=ci.id,
                    user_id=u.id,
                    scope=scope,
                    target=target,
                    body=body,
                    reason="accommodation",
                    created_by=PROF,
                    updated_at=AT,
                )
            )

    db.system(AT, grant)
    sc = course(db, S0, t("2024-02-08T12:00"))
    items = by_aid(sc)
    assert items["hw/hw1"].due == t("2024-03-01T23:59")
    assert items["hw/hw2"].due == t("2024-03-01T23:59")
    assert items["hw/hw2"].exceptions[0].scope == "set"
    assert not items["quizzes/quiz1"].exceptions
    assert [e.scope for e in sc.exceptions] == ["course_instance"]
    m = run(db, PROF, AT, lambda c: M.matrix(c, COURSE, SP24, t("2024-05-20T12:00")))
    assert [s.publishing_extension for s in m.students] == [True, False, False]
    assert [s.course_instance_access for s in m.students] == [True, False, False]


def test_password_in_an_exception_is_never_shown(db: Store) -> None:
    def grant(c: Ctx) -> None:
        c.session.add(
            StudentOverride(
                course_instance_id=instance_named(c, SP24).id,
                user_id=c.user(S1).id,
                scope="assessment",
                target="exams/inclass1",
                body={"password": "secret-owl", "time_limit_percent": 150},
                reason="DRC",
                created_by=PROF,
                updated_at=AT,
            )
        )

    db.system(AT, grant)
    data = course(db, S1, t("2024-03-01T12:00")).to_json()
    line = next(a for a in data["assessments"] if a["assessment"] == "exams/inclass1")
    assert "secret-owl" not in repr(data)
    assert line["exceptions"][0]["body"]["time_limit_percent"] == 150
    assert line["password_required"]


# -- one decision -------------------------------------------------------------------------------


def test_decide_one_has_the_decide_shape_and_agrees_with_the_files(db: Store) -> None:
    at = t("2024-01-24T20:00")
    for aid in ("hw/hw1", "hw/hw2", "exams/exam1", "quizzes/quiz2"):
        got = run(db, S0, at, lambda c, a=aid: D.decide_one(c, COURSE, SP24, S0, a))
        assert set(got) == {"at", "course_instance", "assessment"}
        files = coursegate.decide(
            {
                "at": "2024-01-24T20:00:00",
                "course": str(EXAMPLE_COURSE),
                "course_instance": SP24,
                "assessment": aid,
                "user": {"uid": S0},
            }
        ).to_json()
        assert got == files


def test_decide_one_sees_the_exception_and_exam_mode(db: Store) -> None:
    at = t("2024-02-08T12:00")
    mine = run(db, S2, at, lambda c: D.decide_one(c, COURSE, SP24, S2, "hw/hw2"))
    assert mine["assessment"]["credit"] == 100
    assert any("illness" in line for line in mine["assessment"]["explanation"])
    theirs = run(db, S0, at, lambda c: D.decide_one(c, COURSE, SP24, S0, "hw/hw2"))
    assert theirs["assessment"]["credit"] == 0

    def reserve(c: Ctx) -> None:
        c.session.add(
            ExamReservation(
                external_id="pt-1",
                user_id=c.user(S0).id,
                exam_uuid=EXAM2,
                access_start=t("2024-02-28T09:00"),
                access_end=t("2024-02-28T11:00"),
                created_at=AT,
            )
        )

    db.system(AT, reserve)
    during = t("2024-02-28T09:30")
    exam = run(
        db, S0, during, lambda c: D.decide_one(c, COURSE, SP24, S0, "exams/exam2", mode="Exam")
    )
    public = run(db, S0, during, lambda c: D.decide_one(c, COURSE, SP24, S0, "exams/exam2"))
    assert exam["assessment"]["can_start"] and not public["assessment"]["can_start"]
    assert exam["assessment"]["exam_access_end"] == "2024-02-28T11:00:00-06:00"
    with pytest.raises(Invalid):
        run(db, S0, during, lambda c: D.decide_one(c, COURSE, SP24, S0, "exams/exam2", mode="x"))


def test_not_enrolled_user_is_decided_as_not_enrolled(db: Store) -> None:
    def newcomer(c: Ctx) -> None:
        add_user(c, "new", "New Student", ensure_domain(c, "exampleuniversity").id, AT)

    db.system(AT, newcomer)
    before = run(
        db, "new", t("2024-01-20T12:00"),
        lambda c: D.decide_one(c, COURSE, SP24, "new", "hw/hw1"),
    )  # fmt: skip
    after = course(db, "new", t("2024-02-06T12:00"))
    assert before["course_instance"]["access"]  # self-enrollment is still open
    assert not after.enrolled and not after.access.access
    # Only what they could reach while self-enrollment was open, and all of it closed now.
    assert {a.status for a in after.assessments} == {"closed"}


def test_not_found(db: Store) -> None:
    with pytest.raises(NotFound):
        run(db, PROF, AT, lambda c: D.student_course(c, COURSE, "Fa99", S0))
    with pytest.raises(NotFound):
        run(db, PROF, AT, lambda c: D.decide_one(c, COURSE, SP24, S0, "hw/nope"))
    with pytest.raises(NotFound):
        run(db, PROF, AT, lambda c: D.student_course(c, COURSE, SP24, "ghost"))


# -- who may look -------------------------------------------------------------------------------


def test_a_student_may_not_look_at_another_student(db: Store) -> None:
    with pytest.raises(Refused, match="You can't view the access of s2 in ") as err:
        run(db, S0, AT, lambda c: D.student_course(c, COURSE, SP24, S2))
    with pytest.raises(Refused):
        run(db, S0, AT, lambda c: D.decide_one(c, COURSE, SP24, S2, "hw/hw2"))
    with pytest.raises(Refused):
        run(db, S0, AT, lambda c: M.matrix(c, COURSE, SP24))
    assert "s0 may not view the access of s2" in err.value.details


@pytest.mark.parametrize("ta", [OTHER_TA, OUTSIDER])
def test_staff_of_another_course_are_refused(db: Store, ta: str) -> None:
    with pytest.raises(Refused):
        run(db, ta, AT, lambda c: M.matrix(c, COURSE, SP24))
    with pytest.raises(Refused):
        run(db, ta, AT, lambda c: D.student_course(c, COURSE, SP24, S2))
    with pytest.raises(Refused):
        run(db, ta, AT, lambda c: D.decide_one(c, COURSE, SP24, S2, "hw/hw2"))


def test_staff_with_vst_and_viewing_as_a_student(db: Store) -> None:
    for who in (PROF, TA, SYSTEM):
        sc = course(db, who, t("2024-02-08T12:00"), S2)
        assert by_aid(sc)["hw/hw2"].due == t("2024-02-10T23:59")
    at = t("2024-02-08T12:00")
    sp24 = run(db, SYSTEM, at, lambda c: find_course_instance(c, COURSE, SP24).id)
    viewed = db.run(
        PROF, at, lambda c: D.student_course(c, COURSE, SP24, S2), acting_as=S2, acting_in=sp24
    )
    assert isinstance(viewed, D.StudentCourse) and viewed.uid == S2
    # Viewing as S2 elsewhere (or with no course instance named) is not being S2 here: S2
    # holds no vst, so nothing is shown.
    with pytest.raises(Refused):
        db.run(PROF, at, lambda c: D.student_course(c, COURSE, SP24, S2), acting_as=S2)


# -- the matrix ---------------------------------------------------------------------------------


def test_staff_see_the_matrix(db: Store) -> None:
    at = t("2024-02-08T12:00")
    m = run(db, TA, at, lambda c: M.matrix(c, COURSE, SP24, at))
    assert isinstance(m, M.CourseMatrix)
    assert [(s.uid, s.name) for s in m.students] == [
        (S0, "Student 0"),
        (S1, "Student 1"),
        (S2, "Student 2"),
    ]
    assert m.students[1].sections == ("lab-a",)
    assert m.students[1].label == "Student 1 (s1)"
    aids = [a.aid for a in m.assessments]
    assert len(aids) == 13 and "exams/exam2" in aids
    hw2 = aids.index("hw/hw2")
    assert m.cell(2, hw2).exception and not m.cell(0, hw2).exception
    assert (m.cell(2, hw2).credit, m.cell(0, hw2).credit) == (100, 0)
    assert m.cell(2, hw2).next_change == t("2024-02-10T23:59")
    assert m.row(2)[hw2] == m.cell(2, hw2)
    data = m.to_json()
    assert data["students"][2] == {
        "uid": S2,
        "name": "Student 2",
        "sections": [],
        "course_instance_access": True,
        "publishing_extension": False,
    }
    cell = data["cells"][2][hw2]
    assert cell["credit"] == 100 and cell["exception"] and cell["can_start"]
    assert cell["next_change"] == "2024-02-10T23:59:00-06:00"
    # Equal to the one-student decision.
    one = run(db, S2, at, lambda c: D.decide_one(c, COURSE, SP24, S2, "hw/hw2"))
    assert one["assessment"]["credit_text"] == cell["credit_text"]


def test_matrix_filters(db: Store) -> None:
    at = t("2024-04-23T14:30")  # lab-a's quiz3 window
    lab = run(db, PROF, at, lambda c: M.matrix(c, COURSE, SP24, at, sections=["lab-a"]))
    assert [s.uid for s in lab.students] == [S1]
    one = run(
        db, PROF, at,
        lambda c: M.matrix(c, COURSE, SP24, at, assessments=["quizzes/quiz3", "hw/hw1"]),
    )  # fmt: skip
    assert [a.aid for a in one.assessments] == ["quizzes/quiz3", "hw/hw1"]
    assert [one.cell(r, 0).can_start for r in range(3)] == [False, True, False]
    now = run(
        db, PROF, at,
        lambda c: M.matrix(c, COURSE, SP24, at, assessments=["quizzes/quiz3"], can_start_now=True),
    )  # fmt: skip
    assert [s.uid for s in now.students] == [S1]
    with pytest.raises(Invalid, match="lab-z"):
        run(db, PROF, at, lambda c: M.matrix(c, COURSE, SP24, at, sections=["lab-z"]))
    with pytest.raises(NotFound):
        run(db, PROF, at, lambda c: M.matrix(c, COURSE, SP24, at, assessments=["hw/nope"]))


def test_matrix_csv_export(db: Store) -> None:
    at = t("2024-02-08T12:00")
    m = run(db, PROF, at, lambda c: M.matrix(c, COURSE, SP24, at))
    rows = list(csv.DictReader(io.StringIO(m.to_csv())))
    assert list(rows[0])[:3] == ["uid", "name", "sections"]
    assert [(r["uid"], r["name"]) for r in rows] == [
        (S0, "Student 0"),
        (S1, "Student 1"),
        (S2, "Student 2"),
    ]
    assert rows[1]["sections"] == "lab-a"
    assert rows[2]["hw/hw2"] == "can start; 100% until 23:59, Sat, Feb 10; exception"
    assert rows[0]["hw/hw2"] == "can start; 0% (practice)"
    assert rows[0]["exams/exam2"] == "no access"


def test_csv_keeps_names_from_becoming_formulas(db: Store) -> None:
    def rename(c: Ctx) -> None:
        c.user(S0).name = "=HYPERLINK(1)"

    db.system(AT, rename)
    m = run(db, PROF, AT, lambda c: M.matrix(c, COURSE, SP24))
    rows = list(csv.DictReader(io.StringIO(m.to_csv())))
    assert rows[0]["name"] == "'=HYPERLINK(1)"
