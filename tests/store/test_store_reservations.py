"""Testing-centre reservations: record (the same external id again updates it), cancel, who
may, and what the decisions see."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import func, select
from store_support import EXAMPLE_COURSE, Store, utc

from coursegate.core.instants import Instant, parse_date, zone
from coursegate.services.access import reservations as R
from coursegate.services.access.decisions import student as D
from coursegate.services.common.context import SYSTEM, Ctx
from coursegate.services.common.errors import Conflict, Invalid, NotFound, Refused
from coursegate.services.common.places import course_area, domain_name, ensure_domain
from coursegate.services.courses.sync import sync_course
from coursegate.store.models import (
    CourseInstance,
    Enrollment,
    ExamReservation,
    HistoryEntry,
    RoleAssignmentRow,
    User,
)

AT = utc(2024, 2, 1)
TZ = zone("America/Chicago")
EXAM2 = "d7fcbf5c-a803-4d7e-94bf-68e68fa3dc85"  # Sp24 exams/exam2 (and the cheat sheet)
FA14_EXAM = "8a588871-9861-49a0-be1d-f058abbaf9e9"
UNLINKED = "00000000-1111-2222-3333-444444444444"
S0, S1 = "s0", "s1"
PROF, TA, PROCTOR, OTHER_PROCTOR = "prof", "ta", "proctor", "proctor-sp15"


def t(s: str) -> Instant:
    return parse_date(s, TZ)[0]


def populate(c: Ctx) -> None:
    sync_course(c, EXAMPLE_COURSE)
    dom = ensure_domain(c, "exampleuniversity", "Example University")
    ci = c.session.scalars(select(CourseInstance).where(CourseInstance.short_name == "Sp24")).one()
    sp15 = c.session.scalars(
        select(CourseInstance).where(CourseInstance.short_name == "Sp15")
    ).one()
    domain = domain_name(ci.course.institution)
    area = course_area(ci, domain).path
    for uid, role, where in (
        (S0, "st", area),
        (S1, "st", area),
        (PROF, "in", area),
        (TA, "ta", area),
        (PROCTOR, "ep", area),
        (OTHER_PROCTOR, "ep", course_area(sp15, domain).path),
    ):
        u = User(uid=uid, name=uid.upper(), domain_id=dom.id, created_at=AT, email=f"{uid}@x.edu")
        c.session.add(u)
        c.session.flush()
        c.session.add(RoleAssignmentRow(user_id=u.id, role=role, area=where, created_at=AT))
        if role == "st":
            c.session.add(
                Enrollment(course_instance_id=ci.id, user_id=u.id, status="joined", updated_at=AT)
            )


@pytest.fixture
def db(store: Store) -> Store:
    store.system(AT, populate)
    return store


def rec(db: Store, who: str, ext: str, uid: str, exam: str, start: Any, end: Any) -> Any:
    return db.run(who, AT, lambda c: R.record_reservation(c, ext, uid, exam, start, end))


def count(db: Store, model: Any) -> int:
    with db.factory() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def exam_access(db: Store, uid: str, at: Instant) -> bool:
    d = db.run(PROF, at, lambda c: D.decide_one(c, "CG 101", "Sp24", uid, "exams/exam2",
                                               mode="Exam"))  # fmt: skip
    assert isinstance(d, dict)
    return bool(d["assessment"]["access"])


def test_system_records_and_the_decision_sees_it(db: Store) -> None:
    inside = t("2024-02-27T10:30")
    assert not exam_access(db, S0, inside)
    v = rec(db, SYSTEM, "pt-1", S0, EXAM2, "2024-02-27T10:00", "2024-02-27T12:00")
    assert isinstance(v, R.ReservationView)
    assert (v.outcome, v.student, v.course_instances) == ("created", "S0 (s0)", ("CG 101 Sp24",))
    assert (v.access_start, v.access_end) == (t("2024-02-27T10:00"), t("2024-02-27T12:00"))
    assert exam_access(db, S0, inside)
    assert not exam_access(db, S1, inside)
    assert not exam_access(db, S0, t("2024-02-27T12:00"))


def test_same_external_id_updates_never_duplicates(db: Store) -> None:
    rec(db, SYSTEM, "pt-1", S0, EXAM2, "2024-02-27T10:00", "2024-02-27T12:00")
    v = rec(db, SYSTEM, "pt-1", S0, EXAM2, "2024-02-28T10:00Z", "2024-02-28T12:00Z")
    assert v.outcome == "updated" and v.access_start == utc(2024, 2, 28, 10)
    history = count(db, HistoryEntry)
    same = rec(db, SYSTEM, "pt-1", S0, EXAM2, utc(2024, 2, 28, 10), utc(2024, 2, 28, 12))
    assert same.outcome == "unchanged"
    assert count(db, ExamReservation) == 1 and count(db, HistoryEntry) == history
    with pytest.raises(Conflict) as err:
        rec(db, SYSTEM, "pt-1", S1, EXAM2, "2024-02-28T10:00Z", "2024-02-28T12:00Z")
    assert err.value.field == "external_id"


def test_cancel_then_record_again_restores(db: Store) -> None:
    inside = t("2024-02-27T10:30")
    rec(db, PROCTOR, "pt-1", S0, EXAM2, "2024-02-27T10:00", "2024-02-27T12:00")
    c = db.run(PROCTOR, AT, lambda c: R.cancel_reservation(c, "pt-1", reason="student ill"))
    assert isinstance(c, R.ReservationView)
    assert c.outcome == "cancelled" and c.cancelled_at == AT and not c.active
    assert not exam_access(db, S0, inside)
    again = db.run(PROCTOR, AT, lambda c: R.cancel_reservation(c, "pt-1"))
    assert again.outcome == "unchanged"  # type: ignore[attr-defined]
    back = rec(db, PROCTOR, "pt-1", S0, EXAM2, "2024-02-27T10:00", "2024-02-27T12:00")
    assert back.outcome == "restored" and back.active
    assert exam_access(db, S0, inside)
    with db.factory() as s:
        log = s.scalars(
            select(HistoryEntry)
            .where(HistoryEntry.subject_kind == "exam_reservation")
            .order_by(HistoryEntry.id)
        ).all()
    assert [(h.action, h.actor, h.subject, h.reason) for h in log] == [
        ("reservation.record", PROCTOR, "pt-1", ""),
        ("reservation.cancel", PROCTOR, "pt-1", "student ill"),
        ("reservation.change", PROCTOR, "pt-1", ""),
    ]
    assert all(h.course_instance_id is not None for h in log)
    with pytest.raises(NotFound):
        db.run(PROCTOR, AT, lambda c: R.cancel_reservation(c, "pt-404"))


@pytest.mark.parametrize("who", [S0, TA, OTHER_PROCTOR])
def test_only_mrs_in_a_linking_course_instance(db: Store, who: str) -> None:
    with pytest.raises(Refused) as err:
        rec(db, who, "pt-1", S0, EXAM2, "2024-02-27T10:00", "2024-02-27T12:00")
    assert "mrs" in err.value.message and err.value.field == "exam_uuid"
    assert count(db, ExamReservation) == 0
    rec(db, PROF, "pt-1", S0, EXAM2, "2024-02-27T10:00", "2024-02-27T12:00")
    with pytest.raises(Refused):
        db.run(who, AT, lambda c: R.cancel_reservation(c, "pt-1"))


def test_an_exam_of_another_course_instance_is_refused(db: Store) -> None:
    with pytest.raises(Refused):
        rec(db, PROCTOR, "pt-9", S0, FA14_EXAM, "2014-12-01T10:00", "2014-12-01T12:00")
    with pytest.raises(NotFound) as err:
        rec(db, PROCTOR, "pt-9", S0, UNLINKED, "2024-02-27T10:00Z", "2024-02-27T12:00Z")
    assert "no course instance links the exam" in err.value.message
    v = rec(db, SYSTEM, "pt-9", S0, UNLINKED, "2024-02-27T10:00", "2024-02-27T12:00")
    assert v.access_start == utc(2024, 2, 27, 10)  # nothing links it: read as UTC


@pytest.mark.parametrize(
    ("ext", "uid", "exam", "start", "end", "error", "field"),
    [
        ("pt-1", S0, "not-a-uuid", "2024-02-27T10:00", "2024-02-27T12:00", Invalid, "exam_uuid"),
        ("pt-1", S0, EXAM2, "2024-02-27T12:00", "2024-02-27T10:00", Invalid, "access_end"),
        ("pt-1", S0, EXAM2, "Feb 27", "2024-02-27T10:00", Invalid, "access_start"),
        ("pt-1", "ghost", EXAM2, "2024-02-27T10:00", "2024-02-27T12:00", NotFound, "uid"),
        (" ", S0, EXAM2, "2024-02-27T10:00", "2024-02-27T12:00", Invalid, "external_id"),
    ],
)
def test_bad_input_changes_nothing(
    db: Store, ext: str, uid: str, exam: str, start: str, end: str, error: type, field: str
) -> None:
    history = count(db, HistoryEntry)
    with pytest.raises(error) as err:
        rec(db, PROCTOR, ext, uid, exam, start, end)
    assert err.value.field == field
    assert err.value.message.startswith(f"{field}: ")
    assert count(db, ExamReservation) == 0 and count(db, HistoryEntry) == history


def test_uuid_spelling_is_normalised(db: Store) -> None:
    v = rec(db, PROCTOR, "pt-1", S0, EXAM2.upper(), "2024-02-27T10:00", "2024-02-27T12:00")
    assert v.exam_uuid == EXAM2


def test_simultaneous_records_of_one_reservation_make_one_row(db: Store) -> None:
    results: list[Any] = []
    barrier = threading.Barrier(4)

    def send() -> None:
        barrier.wait()
        results.append(rec(db, SYSTEM, "pt-7", S0, EXAM2, "2024-02-27T10:00", "2024-02-27T12:00"))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert sorted(r.outcome for r in results) == ["created", "unchanged", "unchanged", "unchanged"]
    assert count(db, ExamReservation) == 1
