"""A new LMS course's first instructor launch makes its course instance from a template, with
the LMS course's dates (issue 18, part 4): the files written into the course's git working
tree, synced, the instructor given the Instructor role there, and the LMS course linked."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from lti_platform import INSTRUCTOR, Person
from lti_support import Lms
from sqlalchemy import select, update

from coursegate.cli import demo_world as demo
from coursegate.courses.problems import CourseError, Problem
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Refused
from coursegate.services.common.places import instance_area
from coursegate.services.courses.new_instance import NewInstance, create_from_template
from coursegate.services.courses.rules_files import CourseFileWrites
from coursegate.services.courses.sync import sync_course
from coursegate.store.models import CourseInstance, LtiContext, LtiPlatform, RoleAssignmentRow, User

NEW = "Fa24"
WHERE = "/courses/CG%20101/instances/Fa24/staff"


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def course(lms: Lms, tmp_path: Path) -> Path:
    """The example course in a git working tree, synced from there; the server may write it."""
    root = tmp_path / "course"
    shutil.copytree(demo.EXAMPLE_COURSE, root)
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@x", "commit", "-qm", "course")
    with lms.world.ctx() as ctx:
        sync_course(ctx, root)
    app = lms.world.app
    app.state.settings = replace(
        app.state.settings, editor_writes=True, editor_course_dirs=(str(root),)
    )
    return root


def _offer(lms: Lms, custom: dict[str, str]) -> tuple[Any, str, str]:
    """The demo instructor's first launch from the LMS course: the browser, the page's address
    and its text."""
    with lms.world.ctx() as ctx:
        ctx.session.execute(
            update(LtiPlatform).where(LtiPlatform.id == lms.platform_id).values(match_email=True)
        )
    lms.platform.people["ivy"] = Person("sub-ivy", "Ivy", demo.INSTRUCTOR.uid, [INSTRUCTOR])
    lms.platform.custom.update(custom)
    b = lms.browser()
    r = lms.launch("ivy", browser=b)
    assert r.status_code == 303, r.text
    b.cookies.update(r.cookies)
    where = r.headers["location"]
    page = b.get(where)
    assert page.status_code == 200
    return b, where, page.text


def _form(page: str, **given: str) -> dict[str, str]:
    token = page.split('name="csrf_token" value="')[1].split('"', maxsplit=1)[0]
    template = page.split('<select id="nt-template" name="template">')[1]
    sp24 = template.split('">CG 101 Spring 2024')[0].rsplit('value="', 1)[1]
    return {"csrf_token": token, "action": "create", "template": sp24, **given}


DATES = {"course_start": "2024-08-26 05:00:00 UTC", "course_end": "2024-12-13T23:00:00Z"}


def test_the_first_launch_offers_a_new_term_with_the_lms_dates_and_makes_it(
    lms: Lms, course: Path
) -> None:
    b, where, page = _offer(lms, DATES)
    assert 'value="2024-08-26"' in page and 'value="2024-12-13"' in page
    assert 'value="Fa24"' in page  # the suggested short name
    done = b.post(
        where,
        data=_form(
            page, short_name=NEW, long_name="Fall 2024", first_day="2024-08-26",
            last_day="2024-12-13",
        ),
    )  # fmt: skip
    assert done.status_code == 303, done.text
    assert done.headers["location"] == WHERE
    made = course / "courseInstances" / NEW
    info = json.loads((made / "infoCourseInstance.json").read_text())
    assert info["longName"] == "Fall 2024"
    assert info["publishing"] == {
        "startDate": "2024-08-26T00:00:00",
        "endDate": "2024-12-13T23:59:59",
    }
    template = json.loads((course / "courseInstances/Sp24/infoCourseInstance.json").read_text())
    assert info["uuid"] != template["uuid"]
    # Jan 16 → Aug 26 is 223 days: 32 weeks (224 days); Friday 17:00 stays Friday 17:00.
    quiz = json.loads((made / "assessments/quizzes/quiz1/infoAssessment.json").read_text())
    assert quiz["accessControl"][0]["dateControl"]["due"]["date"] == "2024-09-20T17:00:00"
    # Written, not committed; the template untouched.
    status = _git(course, "status", "--porcelain").split("\n")
    assert status[0] == f"?? courseInstances/{NEW}/" and _git(course, "diff").strip() == ""
    with lms.world.ctx() as ctx:
        ci = ctx.session.scalars(
            select(CourseInstance).where(CourseInstance.short_name == NEW)
        ).one()
        context = ctx.session.scalars(select(LtiContext)).one()
        assert context.course_instance_id == ci.id
        given = ctx.session.execute(
            select(RoleAssignmentRow.role, RoleAssignmentRow.end_at)
            .join(User, User.id == RoleAssignmentRow.user_id)
            .where(
                User.uid == demo.INSTRUCTOR.uid, RoleAssignmentRow.area == instance_area(ci).path
            )
        ).all()
        assert [tuple(r) for r in given] == [("in", None)]
    [made_entry] = lms.history("course_instance.made_from_template")
    assert made_entry["weeks"] == 32 and made_entry["template"].endswith("Sp24")
    # Students launching from the LMS course now land in the new course instance.
    r = lms.launch("learner")
    assert r.headers["location"] == WHERE.removesuffix("/staff")


def test_a_sync_that_fails_leaves_no_file_and_no_instance(lms: Lms, course: Path) -> None:
    def failing(ctx: Any, root: Path) -> Any:
        sync_course(ctx, root)  # the new course instance is in the store now...
        raise CourseError([Problem(f"courseInstances/{NEW}/infoCourseInstance.json", "x", "no")])

    with lms.world.ctx() as ctx:
        sp24 = ctx.session.scalars(
            select(CourseInstance).where(CourseInstance.short_name == "Sp24")
        ).one()
        as_instructor = Ctx(ctx.session, demo.INSTRUCTOR.uid, ctx.at)
        new = NewInstance(sp24.id, NEW, "Fall 2024", date(2024, 8, 26), date(2024, 12, 13))
        with pytest.raises(CourseError):
            create_from_template(as_instructor, new, _writes(course), sync=failing)
        # ...and gone again with the savepoint; the directory is removed.
        assert not ctx.session.scalars(
            select(CourseInstance).where(CourseInstance.short_name == NEW)
        ).all()
    assert not (course / "courseInstances" / NEW).exists()
    assert not [p for p in (course / "courseInstances").iterdir() if p.name.startswith(".new-")]
    assert _git(course, "status", "--porcelain").strip() == ""


def _writes(root: Path) -> CourseFileWrites:
    return CourseFileWrites(True, (str(root),))


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ({"short_name": "Sp24"}, "already has a course instance"),
        ({"short_name": "../etc"}, "cannot name a course instance"),
        ({"last_day": "2024-08-01"}, "is before the first day"),
        ({"first_day": "26/08/2024"}, "first day of the term as YYYY-MM-DD"),
        ({"first_day": "9999-12-01", "last_day": "9999-12-31"}, "between 2000 and 2099"),
    ],
)
def test_bad_input_is_said_and_writes_nothing(
    lms: Lms, course: Path, given: dict[str, str], said: str
) -> None:
    b, where, page = _offer(lms, DATES)
    fields = {
        "short_name": NEW, "long_name": "Fall 2024", "first_day": "2024-08-26",
        "last_day": "2024-12-13", **given,
    }  # fmt: skip
    done = b.post(where, data=_form(page, **fields))
    assert done.status_code in (400, 409, 422) and said in done.text.replace("&#39;", "'")
    assert sorted(p.name for p in (course / "courseInstances").iterdir()) == [
        "Fa14",
        "Sp15",
        "Sp24",
    ]


def test_without_the_setting_the_page_says_why_and_a_post_is_refused(
    lms: Lms, course: Path
) -> None:
    app = lms.world.app
    app.state.settings = replace(app.state.settings, editor_writes=False)
    b, where, page = _offer(lms, {})
    assert "editor_writes is off" in page
    assert "The LMS did not send" not in page  # no form at all
    done = b.post(
        where,
        data={
            "csrf_token": page.split('name="csrf_token" value="')[1].split('"')[0],
            "action": "create", "template": "1", "short_name": NEW, "long_name": "Fall 2024",
            "first_day": "2024-08-26", "last_day": "2024-12-13",
        },
    )  # fmt: skip
    assert done.status_code == 403 and "editor_writes is off" in done.text
    assert not (course / "courseInstances" / NEW).exists()


def test_viewing_as_a_student_makes_nothing(lms: Lms, course: Path) -> None:
    with lms.world.ctx() as ctx:
        sp24 = ctx.session.scalars(
            select(CourseInstance).where(CourseInstance.short_name == "Sp24")
        ).one()
        viewing = Ctx(ctx.session, demo.INSTRUCTOR.uid, ctx.at, demo.STUDENTS[0].uid, sp24.id)
        new = NewInstance(sp24.id, NEW, "Fall 2024", date(2024, 8, 26), date(2024, 12, 13))
        with pytest.raises(Refused, match="while viewing as"):
            create_from_template(viewing, new, _writes(course))
    assert not (course / "courseInstances" / NEW).exists()


def test_a_ta_may_not_make_one_from_their_course(lms: Lms, course: Path) -> None:
    with lms.world.ctx() as ctx:
        sp24 = ctx.session.scalars(
            select(CourseInstance).where(CourseInstance.short_name == "Sp24")
        ).one()
        ta = Ctx(ctx.session, demo.TA.uid, ctx.at)
        new = NewInstance(sp24.id, NEW, "Fall 2024", date(2024, 8, 26), date(2024, 12, 13))
        with pytest.raises(Refused, match="make a course instance from CG 101"):
            create_from_template(ta, new, _writes(course))
    assert not (course / "courseInstances" / NEW).exists()
