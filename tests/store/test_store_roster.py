"""Decisions from stored state: the roster, exceptions and the compiled course instance."""

from __future__ import annotations

from sqlalchemy import select
from store_support import EXAMPLE_COURSE, Store, utc

from coursegate.core.instants import parse_date, zone
from coursegate.services.common.context import Ctx
from coursegate.services.common.places import ensure_domain
from coursegate.services.courses.roster import compile_course_instance
from coursegate.services.courses.sync import sync_course
from coursegate.store.models import (
    Course,
    CourseInstance,
    Enrollment,
    Section,
    SectionMembership,
    StudentOverride,
    User,
)

AT = utc(2024, 1, 10)
TZ = zone("America/Chicago")


def t(s: str) -> int:
    return parse_date(s, TZ)[0]


def setup(c: Ctx) -> None:
    sync_course(c, EXAMPLE_COURSE)
    dom = ensure_domain(c, "exampleuniversity", "Example University")
    ci = c.session.scalars(select(CourseInstance).where(CourseInstance.short_name == "Sp24")).one()
    lab_a = c.session.scalars(select(Section).where(Section.name == "lab-a")).one()
    for i in range(3):
        u = User(
            uid=f"s{i}@example.edu",
            name=f"Student {i}",
            domain_id=dom.id,
            created_at=AT,
            email=f"s{i}@example.edu",
        )
        c.session.add(u)
        c.session.flush()
        c.session.add(
            Enrollment(course_instance_id=ci.id, user_id=u.id, status="joined", updated_at=AT)
        )
        if i == 1:
            c.session.add(SectionMembership(section_id=lab_a.id, user_id=u.id))
        if i == 2:
            c.session.add(
                StudentOverride(
                    course_instance_id=ci.id,
                    user_id=u.id,
                    scope="assessment",
                    target="hw/hw2",
                    body={"due": t("2024-02-10T23:59")},
                    reason="illness",
                    created_by="ta",
                    updated_at=AT,
                )
            )


def test_compiled_from_store_sees_sections_and_exceptions(store: Store) -> None:
    store.system(AT, setup)
    with store.factory() as s:
        ci = s.scalars(
            select(CourseInstance).join(Course).where(CourseInstance.short_name == "Sp24")
        ).one()
        compiled, roster, _ = compile_course_instance(s, ci)
    assert [r.uid for r in roster] == ["s0@example.edu", "s1@example.edu", "s2@example.edu"]
    hw2 = compiled.assessment_index["hw/hw2"]
    at = t("2024-02-08T12:00")  # after hw2's last late deadline: practice only
    assert compiled.decide(0, hw2, at).credit == 0
    d = compiled.decide(2, hw2, at)
    assert d.credit == 100 and any("illness" in line for line in d.explanation)
    quiz3 = compiled.assessment_index["quizzes/quiz3"]
    lab_a_day = t("2024-04-23T14:30")
    assert compiled.decide(1, quiz3, lab_a_day).can_start
    assert not compiled.decide(0, quiz3, lab_a_day).can_start
