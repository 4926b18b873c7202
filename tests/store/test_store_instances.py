"""Assessment instances: start (can_start, password, time limit; two simultaneous starts make
one instance), submit points (submittable, credit, never decreasing), close, close_expired."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import func, select
from store_support import EXAMPLE_COURSE, Store, utc

from coursegate.core.instants import MINUTE, Instant, parse_date, zone
from coursegate.services.access import attempts as I
from coursegate.services.access.attempt_views import InstanceView
from coursegate.services.access.exceptions import granting as X
from coursegate.services.access.reservations import record_reservation
from coursegate.services.common.context import SYSTEM, Ctx
from coursegate.services.common.errors import Conflict, Invalid, NotFound, Refused
from coursegate.services.common.places import course_area, domain_name, ensure_domain
from coursegate.services.courses.sync import sync_course
from coursegate.store.db import transaction
from coursegate.store.models import (
    AssessmentInstance,
    CourseInstance,
    Enrollment,
    HistoryEntry,
    RoleAssignmentRow,
    User,
)

AT = utc(2024, 1, 10)
TZ = zone("America/Chicago")
S0, S1 = "s0", "s1"
PROF, TA, OUTSIDER = "prof", "ta", "ta-cs225"
EXAM2 = "d7fcbf5c-a803-4d7e-94bf-68e68fa3dc85"


def t(s: str) -> Instant:
    return parse_date(s, TZ)[0]


def populate(c: Ctx) -> dict[str, int]:
    sync_course(c, EXAMPLE_COURSE)
    dom = ensure_domain(c, "exampleuniversity", "Example University")
    ids: dict[str, int] = {}
    for short in ("Sp24", "Fa14"):
        ci = c.session.scalars(
            select(CourseInstance).where(CourseInstance.short_name == short)
        ).one()
        ids[short] = ci.id
    sp24 = c.session.get(CourseInstance, ids["Sp24"])
    fa14 = c.session.get(CourseInstance, ids["Fa14"])
    assert sp24 is not None and fa14 is not None
    domain = domain_name(sp24.course.institution)
    for uid, role in ((S0, "st"), (S1, "st"), (PROF, "in"), (TA, "ta"), (OUTSIDER, "ta")):
        u = User(uid=uid, name=f"Name {uid}", domain_id=dom.id, created_at=AT, email=f"{uid}@x.e")
        c.session.add(u)
        c.session.flush()
        for ci in (sp24, fa14):
            area = course_area(ci, domain).path
            if uid == OUTSIDER:
                area = "/exampleuniversity/CS_225.Sp24"
            c.session.add(RoleAssignmentRow(user_id=u.id, role=role, area=area, created_at=AT))
            if role == "st":
                c.session.add(
                    Enrollment(
                        course_instance_id=ci.id, user_id=u.id, status="joined", updated_at=AT
                    )
                )
    return ids


class World:
    def __init__(self, store: Store, ids: dict[str, int]) -> None:
        self.store = store
        self.ids = ids
        self.ci = ids["Sp24"]

    def run(self, who: str, at: Instant, fn: Any, acting_as: str | None = None) -> Any:
        return self.store.run(who, at, fn, acting_as)

    def start(self, who: str, aid: str, at: Instant, **kw: Any) -> Any:
        ci = kw.pop("ci", self.ci)
        acting_as = kw.pop("acting_as", None)
        return self.run(who, at, lambda c: I.start(c, ci, aid, **kw), acting_as)

    def submit(self, who: str, iid: int, at: Instant, points: float, **kw: Any) -> Any:
        return self.run(who, at, lambda c: I.submit(c, iid, points, **kw))

    def count(self, model: Any = AssessmentInstance) -> int:
        with self.store.factory() as s:
            return int(s.scalar(select(func.count()).select_from(model)) or 0)

    def history(self, action: str) -> list[HistoryEntry]:
        with self.store.factory() as s:
            return list(
                s.scalars(
                    select(HistoryEntry)
                    .where(HistoryEntry.action == action)
                    .order_by(HistoryEntry.id)
                )
            )


@pytest.fixture
def w(store: Store) -> World:
    ids = store.system(AT, populate)
    assert isinstance(ids, dict)
    return World(store, ids)


# -- start ------------------------------------------------------------------------------------


def test_start_sets_the_time_limit_and_starting_again_returns_it(w: World) -> None:
    at = t("2024-02-06T10:00")
    v = w.start(S0, "quizzes/quiz1", at)
    assert isinstance(v, InstanceView)
    assert (v.created, v.open, v.number, v.student) == (True, True, 1, "Name s0 (s0)")
    assert (v.started_at, v.date_limit) == (at, at + 30 * MINUTE)
    again = w.start(S0, "quizzes/quiz1", at + MINUTE)
    assert (again.id, again.created) == (v.id, False)
    assert w.count() == 1
    [h] = w.history("instance.start")
    assert (h.actor, h.acting_as, h.subject, h.details["time_limit_minutes"]) == (
        S0, S0, "s0 quizzes/quiz1", 30,
    )  # fmt: skip


def test_exception_time_limit_counts_when_starting(w: World) -> None:
    w.run(SYSTEM, AT, lambda c: X.grant(c, w.ci, S1, "set", "Quiz", {"time_limit_percent": 150},
                                       reason="DRC"))  # fmt: skip
    at = t("2024-02-06T10:00")
    v = w.start(S1, "quizzes/quiz1", at)
    assert v.date_limit == at + 45 * MINUTE


def test_cannot_start_before_release_or_after_the_last_deadline(w: World) -> None:
    with pytest.raises(Refused) as err:
        w.start(S0, "quizzes/quiz1", t("2024-02-01T10:00"))
    assert err.value.field == "assessment" and "cannot start quizzes/quiz1" in err.value.message
    with pytest.raises(Refused):
        w.start(S0, "quizzes/quiz1", t("2024-02-09T17:00"))
    with pytest.raises(NotFound):
        w.start(S0, "quizzes/quiz99", t("2024-02-06T10:00"))
    with pytest.raises(Invalid):
        w.start(S0, "quizzes/quiz1", t("2024-02-06T10:00"), mode="Remote")
    assert w.count() == 0


def test_password_and_time_limit_capped_by_the_end_of_access(w: World) -> None:
    at = t("2024-03-06T10:05")  # in-class exam: 10:00-10:50, 50 min, password orchid
    with pytest.raises(Refused) as err:
        w.start(S0, "exams/inclass1", at)
    assert err.value.field == "password" and "needs a password" in err.value.message
    with pytest.raises(Refused) as err2:
        w.start(S0, "exams/inclass1", at, password="tulip")
    assert "not the password" in err2.value.message
    v = w.start(S0, "exams/inclass1", at, password="orchid")
    assert v.date_limit == at + 44 * MINUTE  # 45 min left, less the 31 s grace
    # An exception's own password replaces the file's.
    w.run(SYSTEM, AT, lambda c: X.grant(c, w.ci, S1, "assessment", "exams/inclass1",
                                       {"password": "heron"}, reason="DRC room"))  # fmt: skip
    with pytest.raises(Refused):
        w.start(S1, "exams/inclass1", at, password="orchid")
    assert w.start(S1, "exams/inclass1", at, password="heron").created


def test_the_password_in_force_depends_on_the_slot(w: World) -> None:
    fa14 = w.ids["Fa14"]  # legacy quiz5: aspen 09:50-11:10, willow 12:00-13:10 on Dec 4
    with pytest.raises(Refused):
        w.start(S0, "quiz5", t("2014-12-04T12:30"), ci=fa14, password="aspen")
    v = w.start(S0, "quiz5", t("2014-12-04T12:30"), ci=fa14, password="willow")
    assert v.created and v.date_limit == t("2014-12-04T12:45")


def test_exam_mode_needs_a_reservation(w: World) -> None:
    at = t("2024-02-27T10:30")
    with pytest.raises(Refused):
        w.start(S0, "exams/exam2", at, mode="Exam")
    w.run(SYSTEM, AT, lambda c: record_reservation(c, "pt-1", S0, EXAM2, "2024-02-27T10:00",
                                                   "2024-02-27T12:00"))  # fmt: skip
    with pytest.raises(Refused):
        w.start(S0, "exams/exam2", at, mode="Public")  # Public mode: the exam is not there
    v = w.start(S0, "exams/exam2", at)  # by default the mode comes from the reservation
    assert v.created and v.date_limit is None  # PrairieTest manages the duration


def test_who_may_start(w: World) -> None:
    at = t("2024-02-06T10:00")
    for who in (S1, TA, PROF):
        with pytest.raises(Refused):
            w.start(who, "quizzes/quiz1", at, uid=S0)
    # Viewing as a student is for seeing: nobody starts an attempt for them meanwhile.
    for who in (OUTSIDER, PROF):
        with pytest.raises(Refused) as err:
            w.start(who, "quizzes/quiz1", at, acting_as=S0)
        assert "while viewing as" in err.value.message
    assert w.count() == 0
    v = w.start(S0, "quizzes/quiz1", at)
    assert v.uid == S0 and v.created
    [h] = w.history("instance.start")
    assert (h.actor, h.acting_as) == (S0, S0)


def test_two_simultaneous_starts_create_one_instance(w: World) -> None:
    """The first start is written but not committed when the second begins: on PostgreSQL the
    second insert waits on the unique constraint, fails, and returns the first's instance; on
    SQLite the second transaction waits for the first and finds it."""
    at = t("2024-02-06T10:00")
    second: list[Any] = []

    def other() -> None:
        second.append(w.start(S0, "quizzes/quiz1", at))

    with transaction(w.store.factory) as s:
        first = I.start(Ctx(s, S0, at), w.ci, "quizzes/quiz1")
        th = threading.Thread(target=other)
        th.start()
        time.sleep(0.5)
        assert th.is_alive()  # blocked behind the first transaction
    th.join(60)
    assert first.created and not second[0].created
    assert second[0].id == first.id
    assert w.count() == 1


def test_many_simultaneous_starts_create_one_instance(w: World) -> None:
    at = t("2024-02-06T10:00")
    results: list[Any] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def go() -> None:
        barrier.wait()
        try:
            results.append(w.start(S1, "quizzes/quiz1", at))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=go) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert not errors
    assert len({r.id for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert w.count() == 1 and len(w.history("instance.start")) == 1


# -- submit -----------------------------------------------------------------------------------


def test_points_become_a_score_at_the_credit_in_force_and_never_decrease(w: World) -> None:
    v = w.start(S0, "hw/hw2", t("2024-02-01T10:00"))  # 110% until Feb 4, 100% until Feb 5
    early = t("2024-02-02T10:00")
    a = w.submit(S0, v.id, early, 8, max_points=10)
    assert (a.credit, a.score_percent, a.points) == (110, 80, 8)
    b = w.submit(S0, v.id, early, 10)
    assert b.score_percent == 110
    late = t("2024-02-06T10:00")  # 80% until Feb 7
    c = w.submit(S0, v.id, late, 10)
    assert (c.credit, c.score_percent) == (80, 110)
    practice = t("2024-02-09T10:00")  # 0%: practice
    d = w.submit(S0, v.id, practice, 0)
    assert (d.credit, d.score_percent) == (0, 110)
    log = w.history("instance.submit")
    assert [(h.details["credit"], h.details["score_after"]) for h in log] == [
        (110, 80), (110, 110), (80, 110), (0, 110),
    ]  # fmt: skip


def test_late_credit_caps_the_score(w: World) -> None:
    v = w.start(S1, "hw/hw2", t("2024-02-06T10:00"))
    assert w.submit(S1, v.id, t("2024-02-06T11:00"), 10, max_points=10).score_percent == 80


def test_submit_checks_who_and_what(w: World) -> None:
    v = w.start(S0, "hw/hw2", t("2024-02-01T10:00"))
    at = t("2024-02-02T10:00")
    with pytest.raises(Invalid) as err:
        w.submit(S0, v.id, at, 5)
    assert err.value.field == "max_points"
    for bad in (-1, float("nan"), "5"):
        with pytest.raises(Invalid):
            w.submit(S0, v.id, at, bad, max_points=10)
    for who in (S1, TA, OUTSIDER):
        with pytest.raises(Refused):
            w.submit(who, v.id, at, 5, max_points=10)
    with pytest.raises(NotFound):
        w.submit(S0, 999_999, at, 5, max_points=10)
    assert w.submit(SYSTEM, v.id, at, 5, max_points=10).score_percent == 50  # an autograder
    with pytest.raises(Refused):  # not while viewing as the student
        w.run(PROF, at, lambda c: I.submit(c, v.id, 6), acting_as=S0)


def test_no_submission_after_the_time_limit_or_close(w: World) -> None:
    at = t("2024-02-06T10:00")
    v = w.start(S0, "quizzes/quiz1", at)
    w.submit(S0, v.id, at + 29 * MINUTE, 3, max_points=6)
    with pytest.raises(Refused) as err:
        w.submit(S0, v.id, at + 30 * MINUTE, 6)
    assert "time limit" in err.value.message
    u = w.start(S1, "quizzes/quiz1", at)
    closed = w.run(S1, at + MINUTE, lambda c: I.close(c, u.id))
    assert not closed.open and closed.closed_at == at + MINUTE
    with pytest.raises(Refused):
        w.submit(S1, u.id, at + 2 * MINUTE, 6, max_points=6)
    with pytest.raises(Conflict):
        w.start(S1, "quizzes/quiz1", at + 2 * MINUTE)


# -- close ------------------------------------------------------------------------------------


def test_close_by_student_instructor_or_system_not_others(w: World) -> None:
    at = t("2024-02-06T10:00")
    v = w.start(S0, "quizzes/quiz1", at)
    for who in (S1, OUTSIDER):
        with pytest.raises(Refused):
            w.run(who, at, lambda c: I.close(c, v.id))
    closed = w.run(PROF, at + MINUTE, lambda c: I.close(c, v.id, reason="fire alarm"))
    assert not closed.open
    again = w.run(S0, at + 2 * MINUTE, lambda c: I.close(c, v.id))
    assert again.closed_at == at + MINUTE
    [h] = w.history("instance.close")
    assert (h.actor, h.reason, h.details["automatic"]) == (PROF, "fire alarm", False)


def test_close_expired_closes_each_once(w: World) -> None:
    at = t("2024-02-06T10:00")
    a = w.start(S0, "quizzes/quiz1", at)
    b = w.start(S1, "quizzes/quiz1", at + 10 * MINUTE)
    c = w.start(S0, "hw/hw2", at)  # no time limit: never closed by the job
    with pytest.raises(Refused):
        w.run(PROF, at + 31 * MINUTE, I.close_expired)
    done = w.run(SYSTEM, at + 31 * MINUTE, I.close_expired)
    assert [(v.id, v.closed_at) for v in done] == [(a.id, at + 30 * MINUTE)]
    assert w.run(SYSTEM, at + 31 * MINUTE, I.close_expired) == []
    later = w.run(SYSTEM, at + 2 * 60 * MINUTE, I.close_expired)
    assert [v.id for v in later] == [b.id]
    assert w.run(SYSTEM, at + 3 * 60 * MINUTE, I.close_expired) == []
    log = w.history("instance.close")
    assert [(h.actor, h.details["instance_id"], h.details["automatic"]) for h in log] == [
        (SYSTEM, a.id, True),
        (SYSTEM, b.id, True),
    ]
    with w.store.factory() as s:
        still = s.get(AssessmentInstance, c.id)
        assert still is not None and still.open


def test_concurrent_close_expired_jobs_close_each_once(w: World) -> None:
    at = t("2024-02-06T10:00")
    for uid in (S0, S1):
        w.start(uid, "quizzes/quiz1", at)
    closed: list[Any] = []
    barrier = threading.Barrier(3)

    def job() -> None:
        barrier.wait()
        closed.extend(w.run(SYSTEM, at + 40 * MINUTE, I.close_expired))

    threads = [threading.Thread(target=job) for _ in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert len(closed) == 2 and len(w.history("instance.close")) == 2
