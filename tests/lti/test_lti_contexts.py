"""An LMS course linked to a course instance by its instructor, and the roles a launch then
gives there at once (issue 18, parts 3 and 4)."""

from __future__ import annotations

from typing import Any

from lti_platform import INSTRUCTOR, LEARNER, TA, TEST_USER, Person
from lti_support import Lms
from sqlalchemy import select, update

from coursegate.cli import demo_world as demo
from coursegate.store.models import Domain, Enrollment, LtiPlatform, RoleAssignmentRow, User

CI_PAGE = "/courses/CG%20101/instances/Sp24"


def _match_email(lms: Lms) -> None:
    with lms.world.ctx() as ctx:
        ctx.session.execute(
            update(LtiPlatform).where(LtiPlatform.id == lms.platform_id).values(match_email=True)
        )


def _roles(lms: Lms, uid: str) -> set[tuple[str, str]]:
    with lms.world.ctx() as ctx:
        rows = ctx.session.execute(
            select(RoleAssignmentRow.role, RoleAssignmentRow.area)
            .join(User, User.id == RoleAssignmentRow.user_id)
            .where(User.uid == uid, RoleAssignmentRow.end_at.is_(None))
        )
        return {(r, a) for r, a in rows}


def _enrolled(lms: Lms, uid: str) -> bool:
    with lms.world.ctx() as ctx:
        return (
            ctx.session.scalar(
                select(Enrollment.status)
                .join(User, User.id == Enrollment.user_id)
                .where(User.uid == uid)
            )
            == "joined"
        )


def _link(lms: Lms, browser: Any = None) -> None:
    """The demo instructor launches (matched by email), sees the offer, links CG 101 Sp24."""
    _match_email(lms)
    lms.platform.people["ivy"] = Person("sub-ivy", "Ivy", demo.INSTRUCTOR.uid, [INSTRUCTOR])
    b = browser or lms.browser()
    r = lms.launch("ivy", browser=b)
    assert r.status_code == 303 and r.headers["location"].startswith("/lti/contexts/")
    b.cookies.update(r.cookies)
    page = b.get(r.headers["location"])
    assert page.status_code == 200 and "Which course instance" in page.text
    assert "CG 101" in page.text
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    ci_id = page.text.split('name="course_instance" value="')[1].split('"')[0]
    done = b.post(r.headers["location"], data={"csrf_token": token, "course_instance": ci_id})
    assert done.status_code == 303 and done.headers["location"] == CI_PAGE + "/staff"
    staff = b.get(CI_PAGE + "/staff").text
    assert "/lti/contexts/1/roster" in staff and "/lti/contexts/1/grades" in staff
    assert lms.history("lti.context_linked")[0]["context"] == "course-42"


def test_before_the_link_a_learner_is_told_and_nothing_is_given(lms: Lms) -> None:
    b = lms.browser()
    r = lms.launch("learner", browser=b)
    assert r.headers["location"].startswith("/lti/contexts/")
    b.cookies.update(r.cookies)
    page = b.get(r.headers["location"])
    assert "has not connected this LMS course" in page.text
    assert not _enrolled(lms, "lea@lms.example.edu")


def test_an_instructor_links_and_then_launches_land_with_their_roles(lms: Lms) -> None:
    _link(lms)
    r = lms.launch("learner")
    assert r.headers["location"] == CI_PAGE
    assert _enrolled(lms, "lea@lms.example.edu")
    assert any(role == "st" for role, _ in _roles(lms, "lea@lms.example.edu"))
    r = lms.launch("ta")
    assert r.headers["location"] == CI_PAGE + "/staff"
    assert any(role == "ta" for role, _ in _roles(lms, "tia@lms.example.edu"))
    assert not any(role == "in" for role, _ in _roles(lms, "tia@lms.example.edu"))
    # Again: nothing given twice.
    before = _roles(lms, "tia@lms.example.edu")
    lms.launch("ta")
    assert _roles(lms, "tia@lms.example.edu") == before


def test_the_test_student_is_never_enrolled(lms: Lms) -> None:
    _link(lms)
    lms.platform.people["test"] = Person("sub-test", "Test Student", "", [LEARNER, TEST_USER])
    b = lms.browser()
    r = lms.launch("test", browser=b)
    b.cookies.update(r.cookies)
    page = b.get(r.headers["location"])
    assert "test student" in page.text
    [launch] = [h for h in lms.history("lti.launch") if h["test_user"]]
    assert launch["enrolled"] is False and launch["granted"] == []


def test_only_the_offered_instructor_may_link_and_only_to_what_they_teach(lms: Lms) -> None:
    lms.platform.people["stranger"] = Person("sub-x", "X", "x@lms.example.edu", [INSTRUCTOR, TA])
    b = lms.browser()
    r = lms.launch("stranger", browser=b)  # a TA (the sub-role wins): no offer
    b.cookies.update(r.cookies)
    page = b.get(r.headers["location"])
    assert "has not connected" in page.text
    # An instructor the LMS names, but who teaches nothing here, cannot link anything.
    b2 = lms.browser()
    r2 = lms.launch("instructor", browser=b2)
    b2.cookies.update(r2.cookies)
    page2 = b2.get(r2.headers["location"])
    assert "You teach no course instance" in page2.text
    token = page2.text.split('name="csrf_token" value="')[1].split('"')[0]
    refused = b2.post(r2.headers["location"], data={"csrf_token": token, "course_instance": "1"})
    assert refused.status_code == 403
    assert "only to a course instance you teach" in refused.text


def test_a_link_to_one_assessment_opens_it_with_the_students_decision_first(lms: Lms) -> None:
    _link(lms)
    lms.platform.custom = {"assessment": "hw/hw2"}
    b = lms.browser()
    r = lms.launch("learner", browser=b)
    assert r.headers["location"] == CI_PAGE + "/assessments/hw/hw2"
    b.cookies.update(r.cookies)
    page = b.get(r.headers["location"])
    assert page.status_code == 200 and "Binary numbers" in page.text
    staff = lms.launch("ta")
    assert staff.headers["location"] == CI_PAGE + "/staff/assessments/hw/hw2"
    lms.platform.custom = {"assessment": "../../admin"}
    assert lms.launch("learner").headers["location"] == CI_PAGE


DEVELOPER = "http://purl.imsglobal.org/vocab/lis/v2/membership#ContentDeveloper"


def _allow_author(lms: Lms) -> None:
    with lms.world.ctx() as ctx:
        ctx.session.execute(
            update(LtiPlatform).where(LtiPlatform.id == lms.platform_id).values(allow_author=True)
        )


def test_a_content_developer_becomes_an_author_only_where_the_platform_may_say_so(
    lms: Lms,
) -> None:
    _link(lms)
    lms.platform.people["dev"] = Person("sub-dev", "Dev", "dev@lms.example.edu", [DEVELOPER])
    lms.launch("dev")
    [first] = [h for h in lms.history("lti.launch") if h["roles"] == [] and h["ignored_roles"]]
    assert first["ignored_roles"] == [DEVELOPER] and first["granted"] == []
    assert not _roles(lms, "dev@lms.example.edu")
    _allow_author(lms)
    lms.launch("dev")
    assert _roles(lms, "dev@lms.example.edu") == {("au", "/exampleuniversity/")}
    lms.launch("dev")  # nothing given twice
    assert len(_roles(lms, "dev@lms.example.edu")) == 1


def test_an_author_is_never_made_in_another_domain(lms: Lms) -> None:
    """The demo instructor (linked by email) belongs to another domain than the platform's."""
    _link(lms)
    _allow_author(lms)
    with lms.world.ctx() as ctx:
        elsewhere = Domain(name="elsewhere")
        ctx.session.add(elsewhere)
        ctx.session.flush()
        ctx.session.execute(
            update(LtiPlatform)
            .where(LtiPlatform.id == lms.platform_id)
            .values(domain_id=elsewhere.id)
        )
    lms.platform.people["ivy"] = Person(
        "sub-ivy", "Ivy", demo.INSTRUCTOR.uid, [INSTRUCTOR, DEVELOPER]
    )
    before = _roles(lms, demo.INSTRUCTOR.uid)
    r = lms.launch("ivy")
    assert r.status_code == 303, r.text  # the launch goes on, as the instructor
    assert not any(role == "au" for role, _ in _roles(lms, demo.INSTRUCTOR.uid) - before)
