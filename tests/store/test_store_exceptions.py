"""Students' exceptions from the store: grant, change, remove, grant to many, list — who may,
what is checked, what history keeps, and concurrent edits."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import func, select, update
from store_support import EXAMPLE_COURSE, Store, add_user, instance_named, utc

from coursegate.core.instants import Instant, parse_date, zone
from coursegate.services.access.exceptions import bulk as XB
from coursegate.services.access.exceptions import granting as X
from coursegate.services.access.exceptions import listing as XL
from coursegate.services.access.exceptions import records as XR
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Conflict, Invalid, NotFound, Refused
from coursegate.services.common.places import course_area, domain_name, ensure_domain
from coursegate.services.courses.roster import compile_course_instance
from coursegate.services.courses.sync import sync_course
from coursegate.store.models import (
    CourseInstance,
    Enrollment,
    HistoryEntry,
    RoleAssignmentRow,
    Section,
    SectionMembership,
    StudentOverride,
)

AT = utc(2024, 1, 10)
TZ = zone("America/Chicago")
S0, S1, S2, GONE, NOBODY = "s0", "s1", "s2", "gone", "nobody"
PROF, TA, PROCTOR, OTHER_TA, OUTSIDER = "prof", "ta", "proctor", "ta-sp15", "ta-cs225"
REASON = "illness (note from the dean)"


def t(s: str) -> Instant:
    return parse_date(s, TZ)[0]


def populate(c: Ctx) -> dict[str, int]:
    """Sp24 with students s0, s1 (lab-a), s2, a removed student, a user enrolled nowhere; an
    instructor, a TA and a proctor of Sp24, a TA of Sp15 and a TA of another course. Fa14
    (legacy) has s0 too."""
    sync_course(c, EXAMPLE_COURSE)
    dom = ensure_domain(c, "exampleuniversity", "Example University")
    ci, fa14, sp15 = instance_named(c, "Sp24"), instance_named(c, "Fa14"), instance_named(c, "Sp15")
    area = course_area(ci, domain_name(ci.course.institution)).path
    lab_a = c.session.scalars(
        select(Section).where(Section.course_instance_id == ci.id, Section.name == "lab-a")
    ).one()
    for i, uid in enumerate((S0, S1, S2, GONE)):
        u = add_user(c, uid, f"Student {i}", dom.id, AT)
        status = "removed" if uid == GONE else "joined"
        c.session.add(
            Enrollment(course_instance_id=ci.id, user_id=u.id, status=status, updated_at=AT)
        )
        c.session.add(RoleAssignmentRow(user_id=u.id, role="st", area=area, created_at=AT))
        if uid == S0:
            c.session.add(
                Enrollment(course_instance_id=fa14.id, user_id=u.id, status="joined", updated_at=AT)
            )
        if uid == S1:
            c.session.add(SectionMembership(section_id=lab_a.id, user_id=u.id))
    add_user(c, NOBODY, "Nobody Enrolled", dom.id, AT)
    domain = domain_name(ci.course.institution)
    for uid, role, where in (
        (PROF, "in", area),
        (TA, "ta", area),
        (PROCTOR, "ep", area),
        (OTHER_TA, "ta", course_area(sp15, domain).path),
        (OUTSIDER, "ta", "/exampleuniversity/CS_225.Sp24"),
    ):
        u = add_user(c, uid, uid.upper(), dom.id, AT)
        c.session.add(RoleAssignmentRow(user_id=u.id, role=role, area=where, created_at=AT))
        if uid == PROF:
            fa = course_area(fa14, domain).path
            c.session.add(RoleAssignmentRow(user_id=u.id, role="in", area=fa, created_at=AT))
    return {"Sp24": ci.id, "Fa14": fa14.id, "Sp15": sp15.id}


class World:
    def __init__(self, store: Store, ids: dict[str, int]) -> None:
        self.store = store
        self.ids = ids
        self.ci = ids["Sp24"]

    def run(self, actor: str, fn: Any, at: Instant = AT, acting_as: str | None = None) -> Any:
        return self.store.run(actor, at, fn, acting_as)

    def grant(self, actor: str, uid: str, scope: str, target: str, **fields: Any) -> Any:
        reason = fields.pop("reason", REASON)
        ci = fields.pop("ci", self.ci)
        return self.run(actor, lambda c: X.grant(c, ci, uid, scope, target, fields, reason=reason))

    def counts(self) -> tuple[int, int]:
        with self.store.factory() as s:
            a = s.scalar(select(func.count()).select_from(StudentOverride))
            b = s.scalar(select(func.count()).select_from(HistoryEntry))
            return int(a or 0), int(b or 0)

    def decide(self, uid: str, aid: str, at: Instant, short: str = "Sp24") -> Any:
        with self.store.factory() as s:
            ci = s.get(CourseInstance, self.ids[short])
            assert ci is not None
            compiled, roster, _ = compile_course_instance(s, ci)
            i = [r.uid for r in roster].index(uid)
            return compiled.decide(i, compiled.assessment_index[aid], at)

    def decide_ci(self, uid: str, at: Instant) -> Any:
        with self.store.factory() as s:
            ci = s.get(CourseInstance, self.ci)
            assert ci is not None
            compiled, roster, _ = compile_course_instance(s, ci)
            return compiled.decide_course_instance([r.uid for r in roster].index(uid), at)


@pytest.fixture
def w(store: Store) -> World:
    ids = store.system(AT, populate)
    assert isinstance(ids, dict)
    return World(store, ids)


# -- granting changes the decision ------------------------------------------------------------


def test_ta_grants_an_extension_and_the_decision_changes(w: World) -> None:
    late = t("2024-02-08T12:00")  # hw2: after its last late deadline, practice only
    assert w.decide(S0, "hw/hw2", late).credit == 0
    v = w.grant(TA, S0, "assessment", "hw/hw2", due="2024-02-10T23:59")
    assert isinstance(v, XR.ExceptionView)
    assert (v.uid, v.name, v.student) == (S0, "Student 0", "Student 0 (s0)")
    assert v.fields == {"due": t("2024-02-10T23:59")}
    assert (v.reason, v.granted_by, v.granted_at, v.version) == (REASON, TA, AT, 1)
    d = w.decide(S0, "hw/hw2", late)
    assert d.credit == 100 and d.submittable
    assert any(REASON in line for line in d.explanation)
    assert w.decide(S2, "hw/hw2", late).credit == 0  # nobody else's decision moves
    assert w.decide(S0, "hw/hw2", t("2024-02-11T00:00")).credit == 0


def test_rfc_and_legacy_assessments_take_the_same_exception(w: World) -> None:
    # RFC hw1: due Jan 29, late until Feb 5 (50%), then practice.
    w.grant(PROF, S0, "assessment", "hw/hw1", due="2024-02-07T23:59", credit=100)
    assert w.decide(S0, "hw/hw1", t("2024-02-06T12:00")).credit == 100
    assert w.decide(S1, "hw/hw1", t("2024-02-06T12:00")).credit == 0
    # Legacy Fa14 hw3: 80% until Oct 25, then view only.
    w.grant(PROF, S0, "assessment", "hw3", ci=w.ids["Fa14"], due="2014-10-30T23:59:59")
    d = w.decide(S0, "hw3", t("2014-10-28T12:00"), "Fa14")
    assert d.credit == 100 and d.submittable


def test_set_exception_scales_every_quiz_time_limit(w: World) -> None:
    at = t("2024-02-06T10:00")
    assert w.decide(S0, "quizzes/quiz1", at).time_limit_minutes == 30
    v = w.grant(TA, S0, "set", "Quiz", time_limit_percent=200)
    assert v.fields == {"time_limit_percent": 200}
    assert w.decide(S0, "quizzes/quiz1", at).time_limit_minutes == 60
    listed = w.run(TA, lambda c: XL.assessment_exceptions(c, w.ci, "quizzes/quiz1"))
    assert [(e.student, e.scope, e.target) for e in listed] == [("Student 0 (s0)", "set", "Quiz")]


def test_time_limit_in_minutes_and_password(w: World) -> None:
    at = t("2024-02-06T10:00")
    w.grant(TA, S1, "assessment", "quizzes/quiz1", time_limit_minutes=45, password="tern")
    d = w.decide(S1, "quizzes/quiz1", at)
    assert d.time_limit_minutes == 45 and d.password_required
    v = w.grant(TA, S0, "assessment", "exams/inclass1", password="")  # "" = no password
    assert v.fields == {"password": None}
    class_time = t("2024-03-06T10:05")
    assert not w.decide(S0, "exams/inclass1", class_time).password_required
    assert w.decide(S2, "exams/inclass1", class_time).password_required
    with pytest.raises(Invalid) as err:  # a testing-centre exam has no dates to extend
        w.grant(TA, S0, "assessment", "exams/final", time_limit_minutes=300)
    assert "testing-centre reservations" in err.value.message


def test_publishing_extension_keeps_the_student_in(w: World) -> None:
    after_end = t("2024-05-25T12:00")
    assert not w.decide_ci(S0, after_end).access
    v = w.grant(PROF, S0, "course_instance", "", publishing_extension_end="2024-06-01T23:59:59")
    assert v.what == "the course instance"
    assert w.decide_ci(S0, after_end).access
    assert not w.decide_ci(S1, after_end).access


# -- dates ------------------------------------------------------------------------------------


def test_dates_wall_time_offsets_and_instants(w: World) -> None:
    a = w.grant(TA, S0, "assessment", "hw/hw2", due="2024-02-10T23:59:00")
    b = w.grant(TA, S1, "assessment", "hw/hw2", due="2024-02-11T05:59:00Z")
    c = w.grant(TA, S2, "assessment", "hw/hw2", due=t("2024-02-10T23:59:00"))
    assert a.fields["due"] == b.fields["due"] == c.fields["due"] == utc(2024, 2, 11, 5, 59)
    assert a.to_json(TZ)["fields"] == {"due": "2024-02-10T23:59:00-06:00"}


def test_daylight_saving_gap_is_a_warning(w: World) -> None:
    v = w.grant(TA, S0, "assessment", "exams/inclass1", due="2024-03-10T02:30:00")
    assert v.fields["due"] == t("2024-03-10T03:30:00")
    assert any("clocks go forward" in x for x in v.warnings)


def test_percentage_without_a_time_limit_is_a_warning(w: World) -> None:
    v = w.grant(TA, S0, "assessment", "hw/hw2", time_limit_percent=150)
    assert any("no effect" in x for x in v.warnings)


# -- change, remove, versions, history --------------------------------------------------------


def test_change_merges_removes_and_bumps_the_version(w: World) -> None:
    v = w.grant(TA, S0, "assessment", "hw/hw2", due="2024-02-10T23:59", time_limit_minutes=90)
    v2 = w.run(
        PROF,
        lambda c: X.change(
            c,
            v.id,
            {"due": "2024-02-12T23:59", "time_limit_minutes": None},
            version=1,
            reason="longer illness",
        ),
    )
    assert v2.fields == {"due": t("2024-02-12T23:59")}
    assert (v2.version, v2.reason, v2.granted_by, v2.changed_by) == (2, "longer illness", TA, PROF)
    with pytest.raises(Conflict) as err:
        w.run(TA, lambda c: X.change(c, v.id, {"credit": 90}, version=1, reason="x"))
    assert err.value.field == "version" and "version 2" in err.value.message
    same = w.run(
        TA, lambda c: X.change(c, v.id, {"due": "2024-02-12T23:59"}, version=2, reason="x")
    )
    assert same.version == 2  # nothing changed, nothing written
    with pytest.raises(Invalid) as e2:
        w.run(TA, lambda c: X.change(c, v.id, {"due": None}, version=2, reason="x"))
    assert "remove the exception" in e2.value.message
    with pytest.raises(Conflict):
        w.run(TA, lambda c: X.remove(c, v.id, version=1, reason="recovered"))
    gone = w.run(TA, lambda c: X.remove(c, v.id, version=2, reason="recovered"))
    assert gone.fields == {"due": t("2024-02-12T23:59")}
    assert w.decide(S0, "hw/hw2", t("2024-02-08T12:00")).credit == 0
    with pytest.raises(NotFound):
        w.run(TA, lambda c: XL.get_exception(c, v.id))
    with w.store.factory() as s:
        log = s.scalars(
            select(HistoryEntry)
            .where(HistoryEntry.subject_kind == "student_exception")
            .order_by(HistoryEntry.id)
        ).all()
    assert [(h.action, h.actor, h.acting_as, h.subject, h.reason) for h in log] == [
        ("exception.grant", TA, TA, S0, REASON),
        ("exception.change", PROF, PROF, S0, "longer illness"),
        ("exception.remove", TA, TA, S0, "recovered"),
    ]
    assert log[1].details["before"]["time_limit_minutes"] == 90
    assert log[2].details["after"] is None


def test_passwords_never_enter_the_history(w: World) -> None:
    w.grant(TA, S0, "assessment", "quizzes/quiz1", password="secret-word")
    with w.store.factory() as s:
        entry = s.scalars(
            select(HistoryEntry).where(HistoryEntry.action == "exception.grant")
        ).one()
    assert "secret-word" not in str(entry.details)


def test_concurrent_changes_one_wins_the_other_conflicts(w: World) -> None:
    v = w.grant(TA, S0, "assessment", "hw/hw2", due="2024-02-10T23:59")
    results: dict[str, object] = {}
    barrier = threading.Barrier(2)

    def edit(who: str, due: str) -> None:
        barrier.wait()
        try:
            results[who] = w.run(
                who, lambda c: X.change(c, v.id, {"due": due}, version=1, reason=who)
            )
        except Conflict as error:
            results[who] = error

    threads = [
        threading.Thread(target=edit, args=(TA, "2024-02-11T23:59")),
        threading.Thread(target=edit, args=(PROF, "2024-02-12T23:59")),
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    won = [k for k, r in results.items() if isinstance(r, XR.ExceptionView)]
    lost = [k for k, r in results.items() if isinstance(r, Conflict)]
    assert len(won) == 1 and len(lost) == 1, results
    final = w.run(TA, lambda c: XL.get_exception(c, v.id))
    assert final.version == 2 and final.reason == won[0]


def test_stale_row_in_the_session_is_a_conflict(w: World) -> None:
    """Someone else's write lands between loading and flushing: SQLAlchemy's StaleDataError
    becomes a Conflict."""
    v = w.grant(TA, S0, "assessment", "hw/hw2", due="2024-02-10T23:59")

    def edit(c: Ctx) -> None:
        row = c.session.get(StudentOverride, v.id)
        assert row is not None and row.version == 1
        c.session.execute(
            update(StudentOverride).where(StudentOverride.id == v.id).values(version=2)
        )
        X.change(c, v.id, {"due": "2024-02-12T23:59"}, version=1, reason="x")

    with pytest.raises(Conflict) as err:
        w.run(TA, edit)
    assert err.value.field == "version"


def test_acting_as_is_recorded(w: World) -> None:
    # The instructor views as the TA: the TA's privileges apply, both are recorded.
    w.run(
        PROF,
        lambda c: X.grant(c, w.ci, S0, "assessment", "hw/hw2", {"credit": 100}, reason="r"),
        acting_as=TA,
    )
    with w.store.factory() as s:
        h = s.scalars(select(HistoryEntry).where(HistoryEntry.action == "exception.grant")).one()
    assert (h.actor, h.acting_as) == (PROF, TA)


# -- who may ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", [S1, PROCTOR, OTHER_TA, OUTSIDER])
def test_students_proctors_and_other_courses_staff_may_not_grant(w: World, who: str) -> None:
    before = w.counts()
    with pytest.raises(Refused) as err:
        w.grant(who, S0, "assessment", "hw/hw2", due="2024-02-10T23:59")
    assert "grant exceptions" in err.value.message  # the privilege by its name
    assert who in err.value.details  # the roles core's reasoning names whom it checked
    assert w.counts() == before


def test_viewing_as_a_student_gives_no_staff_privilege(w: World) -> None:
    with pytest.raises(Refused):
        w.run(
            TA,
            lambda c: X.grant(c, w.ci, S0, "assessment", "hw/hw2", {"credit": 100}, reason="r"),
            acting_as=S1,
        )


def test_listing_needs_vst(w: World) -> None:
    v = w.grant(TA, S0, "assessment", "hw/hw2", due="2024-02-10T23:59")
    for who in (S0, OTHER_TA, OUTSIDER):
        with pytest.raises(Refused):
            w.run(who, lambda c: XL.student_exceptions(c, w.ci, S0))
        with pytest.raises(Refused):
            w.run(who, lambda c: XL.assessment_exceptions(c, w.ci, "hw/hw2"))
    mine = w.run(PROCTOR, lambda c: XL.student_exceptions(c, w.ci, S0))
    assert [e.id for e in mine] == [v.id]
    with pytest.raises(Refused):
        w.run(S0, lambda c: X.change(c, v.id, {"credit": 120}, version=1, reason="me"))


# -- bad input changes nothing ----------------------------------------------------------------


BAD: list[tuple[str, str, str, dict[str, Any], type[Exception], str, str]] = [
    (
        NOBODY,
        "assessment",
        "hw/hw2",
        {"due": "2024-02-10T23:59"},
        Invalid,
        "uid",
        "Nobody Enrolled (nobody) is not enrolled in CG 101 Sp24",
    ),
    (
        GONE,
        "assessment",
        "hw/hw2",
        {"due": "2024-02-10T23:59"},
        Invalid,
        "uid",
        "enrollment was removed",
    ),
    ("ghost", "assessment", "hw/hw2", {"due": "2024-02-10T23:59"}, NotFound, "uid", "ghost"),
    (
        S0,
        "assessment",
        "hw/hw9",
        {"due": "2024-02-10T23:59"},
        NotFound,
        "target",
        "no assessment 'hw/hw9'",
    ),
    (S0, "set", "Quizz", {"time_limit_percent": 150}, NotFound, "target", "sets: Exam,"),
    (
        S0,
        "assessment",
        "hw/hw2",
        {"time_limit_minutes": 0},
        Invalid,
        "time_limit_minutes",
        "greater than 0",
    ),
    (
        S0,
        "assessment",
        "hw/hw2",
        {"time_limit_minutes": 2.5},
        Invalid,
        "time_limit_minutes",
        "whole number",
    ),
    (
        S0,
        "assessment",
        "hw/hw2",
        {"time_limit_percent": 0},
        Invalid,
        "time_limit_percent",
        "more than 0",
    ),
    (
        S0,
        "assessment",
        "hw/hw2",
        {"time_limit_percent": 1001},
        Invalid,
        "time_limit_percent",
        "at most 1000",
    ),
    (
        S0,
        "assessment",
        "hw/hw2",
        {"time_limit_percent": 150, "time_limit_minutes": 60},
        Invalid,
        "time_limit_percent",
        "not both",
    ),
    (S0, "assessment", "hw/hw2", {"credit": 250}, Invalid, "credit", "between 0 and 200"),
    (S0, "assessment", "hw/hw2", {"credit": True}, Invalid, "credit", "a number"),
    (
        S0,
        "assessment",
        "hw/hw2",
        {"due_date": "2024-02-10T23:59"},
        Invalid,
        "due_date",
        "did you mean 'due'",
    ),
    (S0, "assessment", "hw/hw2", {"due": "2024-2-10"}, Invalid, "due", "is not a date"),
    (S0, "assessment", "hw/hw2", {}, Invalid, "fields", "at least one field"),
    (
        S0,
        "assessment",
        "hw/hw2",
        {"release": "2024-02-12T00:00", "due": "2024-02-10T23:59"},
        Invalid,
        "due",
        "is not after the release",
    ),
    (
        S0,
        "assessment",
        "hw/hw2",
        {"due": "2024-01-20T23:59"},
        Invalid,
        "due",
        "is not after the release",
    ),
    (
        S0,
        "assessment",
        "hw/hw2",
        {"credit": 90},
        Invalid,
        "credit",
        "early deadlines need a due credit of 100% or more",
    ),
    (
        S0,
        "assessment",
        "hw/hw2",
        {"publishing_extension_end": "2024-06-01T00:00"},
        Invalid,
        "publishing_extension_end",
        "does not go with an exception for an assessment",
    ),
    (
        S0,
        "course_instance",
        "",
        {"due": "2024-06-01T00:00"},
        Invalid,
        "due",
        "does not go with an exception for the course instance",
    ),
    (
        S0,
        "course_instance",
        "hw/hw2",
        {"publishing_extension_end": "2024-06-01T00:00"},
        Invalid,
        "target",
        "has no target",
    ),
    (
        S0,
        "course_instance",
        "",
        {"publishing_extension_end": "2024-05-01T00:00"},
        Invalid,
        "publishing_extension_end",
        "is not after the end of CG 101 Sp24",
    ),
    (S0, "semester", "", {"due": "2024-06-01T00:00"}, Invalid, "scope", "must be one of"),
]


@pytest.mark.parametrize(("uid", "scope", "target", "fields", "error", "field", "words"), BAD)
def test_bad_input_is_refused_with_a_clear_message_and_changes_nothing(
    w: World,
    uid: str,
    scope: str,
    target: str,
    fields: dict[str, Any],
    error: type[Exception],
    field: str,
    words: str,
) -> None:
    before = w.counts()
    with pytest.raises(error) as err:
        w.run(TA, lambda c: X.grant(c, w.ci, uid, scope, target, fields, reason=REASON))
    assert isinstance(err.value, Invalid | NotFound)
    assert err.value.field == field, err.value.message
    assert words in err.value.message, err.value.message
    assert err.value.message.startswith(f"{field}: "), err.value.message
    assert w.counts() == before


def test_a_reason_is_required(w: World) -> None:
    with pytest.raises(Invalid) as err:
        w.grant(TA, S0, "assessment", "hw/hw2", due="2024-02-10T23:59", reason="  ")
    assert err.value.field == "reason"


def test_granting_twice_is_a_conflict(w: World) -> None:
    w.grant(TA, S0, "assessment", "hw/hw2", due="2024-02-10T23:59")
    with pytest.raises(Conflict) as err:
        w.grant(PROF, S0, "assessment", "hw/hw2", due="2024-02-11T23:59")
    assert "change it instead" in err.value.message


def test_publishing_extension_needs_publishing_dates(w: World) -> None:
    with pytest.raises(Invalid) as err:
        w.grant(
            PROF,
            S0,
            "course_instance",
            "",
            ci=w.ids["Fa14"],
            publishing_extension_end="2015-01-10T23:59:59",
        )
    assert "allowAccess rules" in err.value.message


def test_the_result_is_checked_with_the_students_sections(w: World) -> None:
    # quiz3: lab-a students (s1) have it on Tuesday Apr 23 14:00; a due date on Monday is
    # fine for s0 (release Monday 14:00) but before s1's release.
    w.grant(TA, S0, "assessment", "quizzes/quiz3", due="2024-04-22T18:00")
    with pytest.raises(Invalid) as err:
        w.grant(TA, S1, "assessment", "quizzes/quiz3", due="2024-04-22T18:00")
    assert "Student 1 (s1)" in err.value.message and "not after the release" in err.value.message


# -- listing ----------------------------------------------------------------------------------


def test_listings_show_uid_and_name_fields_reason_and_who(w: World) -> None:
    w.grant(TA, S0, "course_instance", "", publishing_extension_end="2024-06-01T23:59:59")
    a = w.grant(TA, S0, "assessment", "quizzes/quiz1", time_limit_minutes=45)
    w.grant(PROF, S0, "set", "Quiz", time_limit_percent=150, reason="DRC letter")
    w.grant(PROF, S2, "assessment", "quizzes/quiz1", due="2024-02-10T17:00")
    w.run(
        PROF,
        lambda c: X.change(c, a.id, {"time_limit_minutes": 50}, version=1, reason="more"),
        at=AT + 1,
    )
    mine = w.run(TA, lambda c: XL.student_exceptions(c, w.ci, S0))
    assert [(e.scope, e.target) for e in mine] == [
        ("course_instance", ""),
        ("set", "Quiz"),
        ("assessment", "quizzes/quiz1"),
    ]
    quiz = w.run(TA, lambda c: XL.assessment_exceptions(c, w.ci, "quizzes/quiz1"))
    rows = [(e.student, e.scope, e.fields, e.reason, e.granted_by) for e in quiz]
    assert rows == [
        ("Student 0 (s0)", "assessment", {"time_limit_minutes": 50}, "more", TA),
        ("Student 0 (s0)", "set", {"time_limit_percent": 150}, "DRC letter", PROF),
        ("Student 2 (s2)", "assessment", {"due": t("2024-02-10T17:00")}, REASON, PROF),
    ]
    changed = quiz[0]
    assert (changed.granted_at, changed.changed_by, changed.changed_at) == (AT, PROF, AT + 1)
    j = changed.to_json(TZ)
    assert j["student"] == "Student 0 (s0)" and j["granted_at"] == "2024-01-09T18:00:00-06:00"


# -- many students at once --------------------------------------------------------------------


def test_bulk_grant_pasted_uids_all_or_nothing(w: World) -> None:
    before = w.counts()
    with pytest.raises(XB.BulkInvalid) as err:
        w.run(
            TA,
            lambda c: XB.grant_many(
                c,
                w.ci,
                "assessment",
                "hw/hw2",
                {"due": "2024-02-10T23:59"},
                reason=REASON,
                uids="s0, ghost\ns1;nobody gone s2",
            ),
        )
    assert sorted(p.uid for p in err.value.problems) == ["ghost", "gone", "nobody"]
    assert "3 students cannot get this exception; nothing was written" in err.value.message
    assert w.counts() == before
    report = w.run(
        TA,
        lambda c: XB.grant_many(
            c,
            w.ci,
            "assessment",
            "hw/hw2",
            {"due": "2024-02-10T23:59"},
            reason=REASON,
            uids=["s0", "s1", "s2", "s1"],
        ),
    )
    assert [v.student for v in report.granted] == [
        "Student 0 (s0)",
        "Student 1 (s1)",
        "Student 2 (s2)",
    ]
    assert w.counts() == (before[0] + 3, before[1] + 3)
    again = w.run(
        TA,
        lambda c: XB.grant_many(
            c,
            w.ci,
            "assessment",
            "hw/hw2",
            {"due": "2024-02-10T23:59"},
            reason=REASON,
            uids="s0 s1 s2",
        ),
    )
    assert (again.granted, len(again.unchanged)) == ([], 3)
    assert w.counts() == (before[0] + 3, before[1] + 3)
    with pytest.raises(XB.BulkInvalid) as err2:
        w.run(
            TA,
            lambda c: XB.grant_many(
                c,
                w.ci,
                "assessment",
                "hw/hw2",
                {"due": "2024-02-11T23:59"},
                reason=REASON,
                uids="s0",
            ),
        )
    assert "already has a different exception" in err2.value.message


def test_bulk_grant_to_a_section_checks_each_student(w: World) -> None:
    report = w.run(
        TA,
        lambda c: XB.grant_many(
            c,
            w.ci,
            "assessment",
            "quizzes/quiz3",
            {"time_limit_minutes": 60},
            reason="lab-a gets an hour",
            section="lab-a",
        ),
    )
    assert [v.uid for v in report.granted] == [S1]
    with pytest.raises(XB.BulkInvalid) as err:
        w.run(
            TA,
            lambda c: XB.grant_many(
                c,
                w.ci,
                "assessment",
                "quizzes/quiz3",
                {"due": "2024-04-22T18:00"},
                reason="x",
                uids=[S0, S1, S2],
            ),
        )
    assert [p.uid for p in err.value.problems] == [S1]
    with pytest.raises(NotFound):
        w.run(
            TA,
            lambda c: XB.grant_many(
                c, w.ci, "assessment", "hw/hw2", {"credit": 100}, reason="x", section="lab-z"
            ),
        )
    with pytest.raises(Refused):
        w.run(
            OUTSIDER,
            lambda c: XB.grant_many(
                c, w.ci, "assessment", "hw/hw2", {"credit": 100}, reason="x", uids="s0"
            ),
        )


def test_credit_alone_does_nothing_under_legacy_rules(w: World) -> None:
    v = w.grant(PROF, S0, "assessment", "hw3", ci=w.ids["Fa14"], credit=120)
    assert any("no effect" in x for x in v.warnings)
