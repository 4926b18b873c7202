"""The pages over HTTP (no browser): what each persona sees, the forms and what they change,
errors as pages, CSRF, view-as. On SQLite and, with COURSEGATE_TEST_DATABASE_URL, PostgreSQL."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path
from typing import Any

from api_support import World
from html_forms import form_fields
from web_support import CI, STAFF, PageClient, text_of

from coursegate.cli import demo_world as demo
from coursegate.core.instants import Instant, parse_date, zone
from coursegate.services.access.decisions.student import student_course
from coursegate.services.courses.sync import sync_course

Q = CI.replace(" ", "%20")
"""The course instance's path as the pages write it in links and forms."""
TZ = zone("America/Chicago")


def chicago(text: str) -> Instant:
    return parse_date(text, TZ)[0]


def notice(page: str) -> str:
    m = re.search(r'<div class="notice" role="status">(.*?)</div>', page, re.S)
    return html.unescape(m.group(1).strip()) if m else ""


# -- signing in, errors, CSRF -----------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in_and_come_back(pages: Any) -> None:
    anon: PageClient = pages()
    r = anon.get(STAFF + "/matrix?section=lab-a")
    assert r.status_code == 303
    assert r.headers["location"].startswith("/sign-in?next=")
    target = "/courses/CG%20101/instances/Sp24/staff/matrix?section=lab-a"
    assert r.headers["location"] == "/sign-in?next=" + target.replace("?", "%3F").replace(
        "=", "%3D"
    )
    r = anon.http.post(
        "/sign-in",
        data={"uid": demo.TA.uid, "password": demo.TA.password, "next": target},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == target
    assert "HttpOnly" in r.headers["set-cookie"] and "SameSite=Lax" in r.headers["set-cookie"]
    assert anon.get(target).status_code == 200


def test_a_wrong_password_is_said_on_the_form_and_counted(world: World, pages: Any) -> None:
    anon: PageClient = pages()
    r = anon.http.post("/sign-in", data={"uid": "ana@example.edu", "password": "nope-nope-1"})
    assert r.status_code == 401
    assert "wrong user id or password" in r.text
    assert 'value="ana@example.edu"' in r.text  # the user id stays in the field
    from sqlalchemy import select

    from coursegate.store.models import Credential, User

    with world.ctx() as ctx:
        uid = ctx.session.scalars(select(User.id).where(User.uid == "ana@example.edu")).one()
        assert ctx.session.get(Credential, uid).failed_attempts == 1  # type: ignore[union-attr]


def test_an_offsite_next_is_ignored(pages: Any) -> None:
    r = pages().http.post(
        "/sign-in",
        data={"uid": demo.TA.uid, "password": demo.TA.password, "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/courses"


def test_the_api_keeps_its_json_errors_and_pages_get_pages(pages: Any) -> None:
    anon: PageClient = pages()
    r = anon.get("/api/v1/session")
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"
    r = anon.get("/api/v1/no-such-route")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    ta = pages("ta")
    r = ta.get("/no-such-page")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "there is no such page" in r.text
    r = ta.get(STAFF + "/exceptions/not-a-number")
    assert r.status_code == 422 and "<h1>" in r.text


def test_forms_need_the_session_csrf_token(pages: Any) -> None:
    admin: PageClient = pages("admin")
    r = admin.http.post(STAFF + "/roster/account", data={"uid": "ben@example.edu"})
    assert r.status_code == 403 and "CSRF" in r.text
    r = admin.http.post(
        STAFF + "/roster/account",
        data={"uid": "ben@example.edu", "action": "freeze", "csrf_token": "forged"},
    )
    assert r.status_code == 403 and "CSRF" in r.text
    r = admin.post(STAFF + "/roster/account", {"uid": "ben@example.edu", "action": "freeze"})
    assert r.status_code == 303


def test_refused_staff_pages_say_why(pages: Any) -> None:
    r = pages("student").get(STAFF)
    assert r.status_code == 403
    assert (
        "You can't view students in CG 101, Spring 2024: that needs the “view students” "
        "privilege" in text_of(r.text)
    )
    assert "ana@example.edu may not" in r.text  # the roles core's reasoning, under Details
    r = pages("other_instructor").get(STAFF + "/matrix")
    assert r.status_code == 403
    r = pages("ta").get(STAFF + "/rules/hw/hw1")  # TAs do not set assessment parameters
    assert r.status_code == 403 and "opa" in r.text


# -- students ---------------------------------------------------------------------------------


def test_the_students_list_says_what_the_decisions_say(world: World, pages: Any) -> None:
    page = pages("student").get(CI)
    assert page.status_code == 200
    text = text_of(page.text)
    with world.ctx(demo.STUDENTS[0].uid) as ctx:
        sc = student_course(ctx, "CG 101", "Sp24", demo.STUDENTS[0].uid)
    assert sc.assessments
    for a in sc.assessments:
        assert f"{a.set_name} {a.number}: {a.title}" in text
        shown = a.credit_text if a.credit_text != "None" else "none"
        assert shown in text
    blocks = page.text.split('<li class="assessment ')
    block = text_of(next(b for b in blocks if "Logic gates" in b))
    assert "Homework 1: Logic gates" in block and "open" in block
    assert "120% until 23:59, Thu, Jan 25" in block  # credit now
    assert "Due 23:59, Mon, Jan 29" in block
    assert "Next change 23:59, Thu, Jan 25" in block
    assert "Early: 110% until 23:59, Sun, Jan 28" in block  # the deadlines icon
    assert "Late: 50% until 23:59, Mon, Feb 5" in block
    assert "Your exception" not in text


def test_a_student_sees_their_exception(pages: Any) -> None:
    text = text_of(pages("dan@example.edu").get(CI).text)
    assert "Your exception for Binary numbers" in text  # the icon's name
    assert "Your exception for this assessment: due 23:59, Sat, Feb 10 — illness (demo)" in text
    assert "Your exception" not in text_of(pages("student").get(CI).text)


def test_a_timed_attempt_start_time_left_submit_finish(world: World, pages: Any) -> None:
    world.clock.now = chicago("2024-02-13T09:00")
    ana: PageClient = pages("student")
    page = ana.get(CI + "/assessments/exams/exam1").text
    assert "Once you start you have" in page and "60 minutes" in page
    r = ana.post(f"{CI}/start/exams/exam1")
    page = ana.follow(r).text
    assert notice(page) == "Started. You have 60 minutes."
    assert 'data-remaining="3600"' in page and "Time left" in page
    world.clock.now += 10 * 60_000_000
    page = ana.get(CI + "/assessments/exams/exam1").text
    assert 'data-remaining="3000"' in page
    attempt = re.search(r'attempts/(\d+)/submit"', page)
    assert attempt is not None
    aid = attempt.group(1)
    r = ana.post(
        f"{CI}/attempts/{aid}/submit", {"aid": "exams/exam1", "points": "8", "max_points": "10"}
    )
    assert notice(ana.follow(r).text) == "Submitted: 8 of 10 points at 100% credit."
    r = ana.post(f"{CI}/attempts/{aid}/close", {"aid": "exams/exam1"})
    page = ana.follow(r).text
    assert "Finished" in notice(page)
    text = text_of(page)
    # Exam 1 hides the score until Feb 20 and the questions until Feb 22.
    assert "Score: hidden" in text and "Questions: hidden" in text
    assert "08:00, Tue, Feb 20: score become visible" in text
    world.clock.now = chicago("2024-02-21T12:00")
    ana = pages("student")  # days later: a new session
    text = text_of(ana.get(CI + "/assessments/exams/exam1").text)
    assert "Score: 80%" in text and "Questions: hidden" in text
    world.clock.now = chicago("2024-02-23T12:00")
    ana = pages("student")
    assert "Questions: you may review them" in text_of(
        ana.get(CI + "/assessments/exams/exam1").text
    )


def test_the_time_runs_out(world: World, pages: Any) -> None:
    world.clock.now = chicago("2024-02-13T09:00")
    ana: PageClient = pages("student")
    ana.post(f"{CI}/start/exams/exam1")
    world.clock.now = chicago("2024-02-13T10:01")
    page = ana.get(CI + "/assessments/exams/exam1").text
    assert "Your time is up." in page  # the attempt is still open in the store, but over
    assert "Submit answers" not in page and 'data-remaining="0"' in page
    assert "Score: hidden" in text_of(page)


def test_a_password_is_asked_for_and_checked(world: World, pages: Any) -> None:
    world.clock.now = chicago("2024-03-06T10:05")
    ana: PageClient = pages("student")
    page = ana.get(CI + "/assessments/exams/inclass1").text
    assert 'name="password"' in page and "Password for this assessment" in page
    r = ana.post(f"{CI}/start/exams/inclass1", {"password": "tulip"})
    assert r.status_code == 403
    assert "that is not the password for exams/inclass1 now" in r.text
    assert 'aria-invalid="true"' in r.text
    r = ana.post(f"{CI}/start/exams/inclass1", {"password": "orchid"})
    assert notice(ana.follow(r).text) == "Started. You have 44 minutes."


def test_the_calendar_link_opens_the_students_own_dates(world: World, pages: Any) -> None:
    dan: PageClient = pages("dan@example.edu")
    page = dan.get(CI + "/calendar").text
    m = re.search(r'id="calendar-url" type="text" readonly value="([^"]+)"', page)
    assert m is not None
    url = m.group(1)
    assert url.startswith("https://testserver/api/v1/calendar/")
    assert "Binary numbers hw2 due (100%)" in text_of(page)
    ics = pages().get(url.removeprefix("https://testserver"))
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    assert "SUMMARY:Binary numbers — hw2 due (100%)" in ics.text
    assert "DTSTART:20240211T055900Z" in ics.text  # Feb 10 23:59 Chicago: Dan's extension


# -- course staff -----------------------------------------------------------------------------


def _unpublish(world: World, tmp: Path) -> None:
    """hw1 with "published": false, as a sync of changed course files leaves it."""
    course = tmp / "course"
    shutil.copytree(demo.EXAMPLE_COURSE, course)
    hw1 = course / "courseInstances/Sp24/assessments/hw/hw1/infoAssessment.json"
    hw1.write_text(hw1.read_text().replace('"published": true', '"published": false'))
    with world.ctx() as ctx:
        sync_course(ctx, course)


def test_published_and_not_published_marks(world: World, pages: Any, tmp_path: Path) -> None:
    ins: PageClient = pages("instructor")
    assert "not published" not in ins.get(STAFF).text
    _unpublish(world, tmp_path)
    page = ins.get(STAFF).text
    row = re.search(r"<tr class=\"unpublished\">.*?</tr>", page, re.S)
    assert row is not None and "hw/hw1" in row.group(0) and "not published" in row.group(0)
    assert page.count('class="unpublished"') == 1
    page = ins.get(STAFF + "/assessments/hw/hw1").text
    text = text_of(page)
    assert "This assessment is not published: no student ever sees it." in text
    assert 'set "published": true' in text
    assert f'href="{Q}/staff/rules/hw/hw1"' in page  # the way to change it
    editor = text_of(ins.get(STAFF + "/rules/hw/hw1").text)
    assert "This assessment is not published: no student ever sees it." in editor
    ana_text = text_of(pages("student").get(CI).text)
    assert "Logic gates" not in ana_text


def test_an_unpublished_course_instance_says_so_on_every_page(
    world: World, pages: Any, tmp_path: Path
) -> None:
    course = tmp_path / "course"
    shutil.copytree(demo.EXAMPLE_COURSE, course)
    info = course / "courseInstances/Sp24/infoCourseInstance.json"
    text = info.read_text()
    dates = '"startDate": "2024-01-16T00:00:00", "endDate": "2024-05-17T23:59:59"'
    assert dates in text
    info.write_text(text.replace(dates, ""))  # publishing {}: not published
    with world.ctx() as ctx:
        sync_course(ctx, course)
    ins: PageClient = pages("instructor")
    said = "The course instance CG 101 Sp24 is not published: students never have access."
    for path in ("", "/assessments/quizzes/quiz1", "/rules/quizzes/quiz1"):
        text = text_of(ins.get(STAFF + path).text)
        assert said in text, path
        assert 'set "publishing": {"startDate": ..., "endDate": ...}' in text
    assert "No access to this course instance now." in text_of(pages("student").get(CI).text)


def test_the_assessment_page_draws_lanes_and_what_each_student_sees(pages: Any) -> None:
    page = pages("ta").get(STAFF + "/assessments/exams/practical").text
    svg = re.search(r"<svg class=\"timeline\".*?</svg>", page, re.S)
    assert svg is not None
    import xml.etree.ElementTree as ET

    root = ET.fromstring(svg.group(0))
    names = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "defaults" in names
    assert any("accessControl[1]" in n for n in names)  # extra-time: 135 minutes
    titles = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}title")]
    assert any("100% credit (135 min)" in t for t in titles)
    assert any("100% credit (180 min)" in t for t in titles)
    text = text_of(page)
    for who in ("Ana Alvarez (ana@example.edu)", "Ben Brown (ben@example.edu)"):
        assert who in text
    assert "no access; opens 08:00, Tue, Apr 16 at 100%" in text


def test_exceptions_granted_changed_and_removed_change_the_students_page(
    world: World, pages: Any
) -> None:
    ins: PageClient = pages("instructor")
    form = {
        "who": "student",
        "uid": "Ana Alvarez (ana@example.edu)",
        "scope": "assessment",
        "assessment": "hw/hw2",
        "due": "2024-02-12T23:59",
        "reason": "flu",
    }
    r = ins.post(STAFF + "/exceptions", form)
    assert notice(ins.follow(r).text) == (
        "Exception granted to Ana Alvarez (ana@example.edu) for hw/hw2."
    )
    ana: PageClient = pages("student")
    text = text_of(ana.get(CI + "/assessments/hw/hw2").text)
    assert "Due 23:59, Mon, Feb 12" in text and "Your exception" in text and "flu" in text
    listing = ins.get(STAFF + "/exceptions?uid=ana@example.edu").text
    xid = re.search(r"/staff/exceptions/(\d+)\"", listing)
    assert xid is not None
    edit = ins.get(f"{STAFF}/exceptions/{xid.group(1)}").text
    fields = form_fields(edit, f"{Q}/staff/exceptions/{xid.group(1)}")
    assert fields["due"] == "2024-02-12T23:59" and fields["version"] == "1"
    fields.update(due="2024-02-14T23:59", reason="longer flu", csrf_token=ins.csrf)
    r = ins.http.post(f"{STAFF}/exceptions/{xid.group(1)}", data=fields, follow_redirects=False)
    assert "Changed Ana Alvarez (ana@example.edu)'s exception" in notice(ins.follow(r).text)
    assert "Due 23:59, Wed, Feb 14" in text_of(ana.get(CI + "/assessments/hw/hw2").text)
    # A stale version is refused, and says so next to the form.
    r = ins.post(
        f"{STAFF}/exceptions/{xid.group(1)}/remove", {"version": "1", "reason": "recovered"}
    )
    assert r.status_code == 409 and "someone else changed" in r.text
    r = ins.post(
        f"{STAFF}/exceptions/{xid.group(1)}/remove", {"version": "2", "reason": "recovered"}
    )
    assert "Removed" in notice(ins.follow(r).text)
    assert "Due 23:59, Mon, Feb 5" in text_of(ana.get(CI + "/assessments/hw/hw2").text)


def test_bulk_exceptions_from_pasted_uids_and_a_section(world: World, pages: Any) -> None:
    ta: PageClient = pages("ta")
    base = {"scope": "set", "set": "Quiz", "time_limit_percent": "150", "reason": "DRC letters"}
    r = ta.post(
        STAFF + "/exceptions",
        {**base, "who": "uids", "uids": "ana@example.edu, ben@example.edu\nnobody@example.edu"},
    )
    assert r.status_code == 422
    assert "nobody@example.edu: there is no such user" in r.text
    assert "ana@example.edu, ben@example.edu" in r.text  # what was pasted stays in the form
    with world.ctx() as ctx:
        from sqlalchemy import func, select

        from coursegate.store.models import StudentOverride

        assert ctx.session.scalar(select(func.count()).select_from(StudentOverride)) == 1
    r = ta.post(
        STAFF + "/exceptions", {**base, "who": "uids", "uids": "ana@example.edu ben@example.edu"}
    )
    assert notice(ta.follow(r).text).startswith("Exception granted to 2 student(s)")
    r = ta.post(STAFF + "/exceptions", {**base, "who": "section", "section": "lab-b"})
    said = notice(ta.follow(r).text)
    assert said.startswith("Exception granted to 1 student(s); 1 already had it")
    assert "Ben Brown (ben@example.edu)" in said
    listing = text_of(ta.get(STAFF + "/exceptions").text)
    for who in ("Ana Alvarez (ana@example.edu)", "Ben Brown (ben@example.edu)",
                "Chloe Chen (chloe@example.edu)"):  # fmt: skip
        assert f"{who} the set Quiz time limit 150% of the usual DRC letters" in listing


def test_the_matrix_filters_and_exports_what_the_page_shows(world: World, pages: Any) -> None:
    ta: PageClient = pages("ta")
    page = ta.get(STAFF + "/matrix?section=lab-b&assessment=hw/hw1&assessment=hw/hw2").text
    text = text_of(page)
    assert "2 of 4 students × 2 assessments" in text
    assert "Ben Brown (ben@example.edu)" in text and "Ana Alvarez" not in text
    assert text.count("can start 120%") == 2
    csv = ta.get(STAFF + "/matrix.csv?section=lab-b")
    assert csv.headers["content-type"].startswith("text/csv")
    assert 'filename="CG_101-Sp24-matrix.csv"' in csv.headers["content-disposition"]
    assert csv.text.splitlines()[1].startswith('Ben Brown,ben@example.edu,"extra-time, lab-b",')
    page = ta.get(STAFF + "/matrix?q=chloe").text
    assert "1 of 4 students" in text_of(page)
    r = ta.get(STAFF + "/matrix?section=no-such")
    assert r.status_code == 422 and "has no section &#39;no-such&#39;" in r.text


def test_the_editor_round_trips_the_page_form_and_checks_like_validate(pages: Any) -> None:
    ins: PageClient = pages("instructor")
    action = f"{Q}/staff/rules/hw/hw2"
    page = ins.get(STAFF + "/rules/hw/hw2?view=full").text
    fields = form_fields(page, action)
    assert fields["e0.dateControl.due.date"] == "2024-02-05T23:59:00"
    stored = fields.pop("json")
    r = ins.http.post(STAFF + "/rules/hw/hw2", data=fields)
    assert r.status_code == 200
    assert form_fields(r.text, action)["json"] == stored  # the form gives back the same JSON
    assert "No errors and no warnings." in r.text and "Changed from" not in r.text
    # A due date before the release: the message of `coursegate validate`.
    fields["e0.dateControl.due.date"] = "2024-01-20T23:59:00"
    r = ins.http.post(STAFF + "/rules/hw/hw2", data=fields)
    assert "ERROR" in r.text
    assert "courseInstances/Sp24/assessments/hw/hw2/infoAssessment.json" in r.text
    assert 'aria-invalid="true"' in r.text
    # Adding a late deadline row, then loading JSON typed by hand.
    fields["e0.dateControl.due.date"] = "2024-02-05T23:59:00"
    r = ins.http.post(
        STAFF + "/rules/hw/hw2", data={**fields, "op": "add:e0.dateControl.lateDeadlines"}
    )
    assert "e0.dateControl.lateDeadlines.1#" in r.text
    r = ins.http.post(STAFF + "/rules/hw/hw2", data={**fields, "op": "from-json", "json": "{oops"})
    assert r.status_code == 422 and "the JSON cannot be read" in r.text


def test_view_as_shows_a_banner_closes_staff_pages_and_has_a_way_back(pages: Any) -> None:
    ta: PageClient = pages("ta")
    r = ta.post(STAFF + "/view-as", {"uid": "ana@example.edu"})
    assert r.headers["location"] == Q
    page = ta.follow(r)
    assert page.headers["x-coursegate-viewing-as"] == "ana@example.edu"
    assert "You are viewing the course as Ana Alvarez (ana@example.edu)." in text_of(page.text)
    assert "Logic gates" in page.text  # ana's list
    r = ta.get(STAFF)
    assert r.status_code == 403 and "Stop viewing as ana@example.edu" in r.text
    r = ta.post("/view-as/stop", {"next": STAFF})
    assert r.headers["location"] == Q + "/staff"
    assert ta.get(STAFF).status_code == 200


def test_roster_sections_roles_and_history(world: World, pages: Any) -> None:
    ins: PageClient = pages("instructor")
    r = ins.post(
        STAFF + "/roster", {"uids": "other@example.edu", "action": "invite", "reason": "auditing"}
    )
    assert notice(ins.follow(r).text) == "1 user(s) invited: other@example.edu."
    assert "Olga Other (other@example.edu)" in text_of(ins.get(STAFF + "/roster").text)
    r = ins.post(STAFF + "/sections", {"action": "create", "name": "lab-c", "description": "Fri"})
    assert notice(ins.follow(r).text) == "Section lab-c created."
    r = ins.post(
        STAFF + "/sections/members",
        {"action": "add", "section": "lab-c", "uids": "dan@example.edu"},
    )
    assert notice(ins.follow(r).text) == "1 student(s) added to lab-c."
    assert "Dan Diaz (dan@example.edu)" in ins.get(STAFF + "/sections").text
    r = ins.post(STAFF + "/sections", {"action": "delete", "name": "lab-a"})
    assert r.status_code == 422  # named in the course files
    r = ins.post(
        STAFF + "/roles/grant",
        {"uid": "other@example.edu", "role": "ep", "area": "/exampleuniversity/CG_101.Sp24"},
    )
    assert "other@example.edu is now Exam Proctor in CG 101, Spring 2024." in notice(
        ins.follow(r).text
    )
    roles = text_of(ins.get(STAFF + "/roles").text)
    assert "Olga Other (other@example.edu) Exam Proctor CG 101, Spring 2024" in roles
    r = ins.post(
        STAFF + "/roles/revoke",
        {"uid": "other@example.edu", "role": "ep", "area": "/exampleuniversity/CG_101.Sp24"},
    )
    assert "ends now" in notice(ins.follow(r).text)
    assert 'class="small">Revoke' in ins.get(STAFF + "/roles").text
    ta: PageClient = pages("ta")
    ta_roles = ta.get(STAFF + "/roles").text  # a TA grants nothing: no Revoke offered
    assert 'class="small">Revoke' not in ta_roles and "in force" in text_of(ta_roles)
    r = ta.post(
        STAFF + "/roles/grant",
        {"uid": "dan@example.edu", "role": "ta", "area": "/exampleuniversity/CG_101.Sp24"},
    )
    assert r.status_code == 403  # the roles core: a TA holds no cta
    assert "that needs the “grant the Teaching Assistant role” privilege" in text_of(r.text)
    history = text_of(ins.get(STAFF + "/history?action=enrollment").text)
    assert "enrollment.invite" in history and "auditing" in history
    assert "Ivy Instructor (instructor@example.edu)" in history
    assert "role.grant" not in history
    # "Who" finds what a person did and what was done to them (the actor here is the instructor,
    # the subject the invited student): one filter, the history service's.
    by_instructor = text_of(ins.get(STAFF + "/history?who=instructor@example.edu").text)
    assert "enrollment.invite" in by_instructor
    by_nobody = text_of(ins.get(STAFF + "/history?who=nobody@example.edu").text)
    assert "Nothing recorded for this filter" in by_nobody


def test_freezing_and_thawing_web_access(pages: Any) -> None:
    # A person's web access is an administrator's to freeze, never their course staff's: the
    # TA sees no button, and a forged post is refused.
    ta: PageClient = pages("ta")
    assert 'value="freeze"' not in ta.get(STAFF + "/roster").text
    r = ta.post(STAFF + "/roster/account", {"uid": "ben@example.edu", "action": "freeze"})
    assert r.status_code == 403
    admin: PageClient = pages("admin")
    assert 'value="freeze"' in admin.get(STAFF + "/roster").text
    r = admin.post(STAFF + "/roster/account", {"uid": "ben@example.edu", "action": "freeze"})
    assert notice(admin.follow(r).text) == "Web access of ben@example.edu is frozen."
    r = pages().http.post("/sign-in", data={"uid": "ben@example.edu", "password": "student-demo-2"})
    assert r.status_code == 401 and "frozen" in r.text
    admin.post(STAFF + "/roster/account", {"uid": "ben@example.edu", "action": "thaw"})
    pages("ben@example.edu")  # signs in again


def test_staff_are_sent_from_the_student_page_to_theirs(pages: Any) -> None:
    r = pages("instructor").get(CI)
    assert r.status_code == 303 and r.headers["location"] == Q + "/staff"
    r = pages("other_instructor").get(CI)
    assert r.status_code == 200 and "You are not enrolled" in r.text


def test_my_courses(pages: Any) -> None:
    text = text_of(pages("admin").get("/courses").text)
    assert "CG 101 Sp24" in text and "CG 101 Fa14" in text and "Course staff" in text
    text = text_of(pages("student").get("/courses").text)
    assert "CG 101 Sp24" in text and "Student (joined)" in text and "Fa14" not in text
