"""The one-click extension form (staff/extensions/new) over HTTP: pre-filled from the matrix's
links, presets counted from the student's deadline now (also across a daylight-saving change
in the course's zone, America/Chicago), a preview that writes nothing, saving one exception
with its history, a section and a pasted list (all or nothing), bad input beside its field,
and who may. On SQLite and, with COURSEGATE_TEST_DATABASE_URL, PostgreSQL."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from api_support import World
from html_forms import form_fields
from sqlalchemy import func, select
from web_support import CI, STAFF, PageClient, text_of

from coursegate.cli import demo_world as demo
from coursegate.core.exceptions import later_by_days
from coursegate.core.instants import MINUTE, Instant, parse_date, zone
from coursegate.services.access.decisions.student import student_course
from coursegate.services.access.exceptions import granting as X
from coursegate.services.common.places import find_course_instance
from coursegate.store.models import HistoryEntry, StudentOverride
from coursegate.web.pages import when

NEW = STAFF + "/extensions/new"
Q = CI.replace(" ", "%20")
TZ = zone("America/Chicago")
ANA = "ana@example.edu"


def chicago(text: str) -> Instant:
    return parse_date(text, TZ)[0]


def notice(page: str) -> str:
    m = re.search(r'<div class="notice" role="status">(.*?)</div>', page, re.S)
    return html.unescape(m.group(1).strip()) if m else ""


def beside(page: str, field: str) -> str:
    """The message shown beside ``field`` (empty: none)."""
    m = re.search(rf'<p class="field-error" id="err-{field}">(.*?)</p>', page, re.S)
    return html.unescape(m.group(1)) if m else ""


def counts(world: World) -> tuple[int, int]:
    """(exceptions stored, history entries about exceptions)."""
    with world.ctx() as ctx:
        rows = ctx.session.scalar(select(func.count()).select_from(StudentOverride)) or 0
        log = ctx.session.scalar(
            select(func.count())
            .select_from(HistoryEntry)
            .where(HistoryEntry.action.like("exception.%"))
        )
        return rows, log or 0


def due_of(world: World, uid: str, aid: str) -> Instant | None:
    """The student's due date as the student's own page has it (the decision service)."""
    with world.ctx() as ctx:
        sc = student_course(ctx, "CG 101", "Sp24", uid)
        return next(a.due for a in sc.assessments if a.aid == aid)


def form(**kw: str) -> dict[str, str]:
    base = {"who": "student", "uid": ANA, "assessment": "hw/hw2", "action": "preview"}
    return {**base, **kw}


# -- pre-filled ---------------------------------------------------------------------------------


def test_a_matrix_cell_opens_the_form_filled_in_with_the_deadline_now(
    world: World, pages: Any
) -> None:
    ins: PageClient = pages("instructor")
    page = ins.get(f"{NEW}?uid={ANA}&assessment=hw/hw2").text
    fields = form_fields(page, f"{Q}/staff/extensions/new")
    assert fields["who"] == "student" and fields["uid"] == "Ana Alvarez (ana@example.edu)"
    assert fields["assessment"] == "hw/hw2"
    due = due_of(world, ANA, "hw/hw2")
    assert due == chicago("2024-02-05T23:59")
    text = text_of(page)
    assert f"Ana Alvarez (ana@example.edu)'s deadline now: {when(due, TZ)} at 100% credit" in text
    assert "+1 day → 23:59, Tue, Feb 6" in text
    assert "+2 days → 23:59, Wed, Feb 7" in text
    assert "+1 week → 23:59, Mon, Feb 12" in text
    # Dan's deadline is his extension's: the presets count from it, and saving changes it.
    text = text_of(ins.get(f"{NEW}?uid=dan@example.edu&assessment=hw/hw2").text)
    assert "deadline now: 23:59, Sat, Feb 10" in text and "+1 day → 23:59, Sun, Feb 11" in text
    assert "They already have an extension for it (due 23:59, Sat, Feb 10)" in text
    # A student row (uid only) and a section.
    fields = form_fields(ins.get(f"{NEW}?uid={ANA}").text, f"{Q}/staff/extensions/new")
    assert fields["uid"] == "Ana Alvarez (ana@example.edu)" and fields["assessment"] == ""
    fields = form_fields(ins.get(f"{NEW}?section=lab-b").text, f"{Q}/staff/extensions/new")
    assert fields["who"] == "section" and fields["section"] == "lab-b"
    text = text_of(ins.get(f"{NEW}?section=lab-b&assessment=hw/hw2").text)
    assert "The section lab-b's deadline now: 23:59, Mon, Feb 5 (2 students)." in text
    assert "+1 day → 23:59, Tue, Feb 6" in text
    r = ins.get(f"{NEW}?section=lab-z&assessment=hw/hw2")
    assert r.status_code == 404 and "has no section 'lab-z'" in beside(r.text, "section")


def test_a_students_page_links_to_the_form(pages: Any) -> None:
    page = pages("ta").get(f"{STAFF}/students/{ANA}").text
    links = set(re.findall(r'href="([^"]*extensions/new[^"]*)"', page))
    assert f"{Q}/staff/extensions/new?uid=ana%40example.edu" in links
    assert f"{Q}/staff/extensions/new?uid=ana%40example.edu&amp;assessment=hw/hw2" in links


def test_the_form_reveals_no_one_who_is_not_a_student_of_the_course(pages: Any) -> None:
    ta: PageClient = pages("ta")
    said = []
    for uid in ("nobody@example.edu", demo.INSTRUCTOR.uid, demo.SUPERUSER.uid):
        r = ta.get(f"{NEW}?uid={uid}&assessment=hw/hw2")
        assert r.status_code == 422
        said.append(beside(r.text, "uid").replace(uid, "X"))
    assert said == ["uid: X is not a student of CG 101 Sp24"] * 3


# -- presets ------------------------------------------------------------------------------------


def test_days_are_counted_on_the_courses_wall_clock_across_a_dst_change() -> None:
    before = chicago("2024-03-09T23:59")  # Saturday; clocks go forward at 02:00 on Sunday
    assert later_by_days(before, 1, TZ) == chicago("2024-03-10T23:59")
    assert later_by_days(before, 1, TZ) - before == 23 * 60 * MINUTE
    assert later_by_days(before, 7, TZ) - before == (7 * 24 - 1) * 60 * MINUTE
    autumn = chicago("2024-11-02T23:59")  # clocks go back at 02:00 on Sunday
    assert later_by_days(autumn, 2, TZ) - autumn == 49 * 60 * MINUTE
    # A time the change skips is read at the offset before the jump (as course files are).
    assert later_by_days(chicago("2024-03-09T02:30"), 1, TZ) == chicago("2024-03-10T02:30")


def test_presets_on_the_page_across_a_dst_change(world: World, pages: Any) -> None:
    with world.ctx(demo.INSTRUCTOR.uid) as ctx:
        ci = find_course_instance(ctx, "CG 101", "Sp24")
        X.grant(ctx, ci.id, ANA, "assessment", "hw/hw2", {"due": "2024-03-09T23:59"}, reason="r")
    ins: PageClient = pages("instructor")
    text = text_of(ins.get(f"{NEW}?uid={ANA}&assessment=hw/hw2").text)
    assert "deadline now: 23:59, Sat, Mar 9" in text
    assert "+1 day → 23:59, Sun, Mar 10" in text and "+1 week → 23:59, Sat, Mar 16" in text
    r = ins.post(NEW, form(deadline="1d"))
    assert r.status_code == 200
    assert "Due 23:59, Sun, Mar 10; no time limit." in text_of(r.text)


def test_time_presets_multiply_the_usual_time_limit(pages: Any) -> None:
    ins: PageClient = pages("instructor")
    quiz = {"assessment": "quizzes/quiz1"}
    text = text_of(ins.get(f"{NEW}?uid={ANA}&assessment=quizzes/quiz1").text)
    assert "time limit 30 min" in text
    for choice, minutes in (("1.5", 45), ("2", 60)):
        text = text_of(ins.post(NEW, form(time=choice, **quiz)).text)
        assert "Due 17:00, Fri, Feb 9; time limit 30 min." in text
        assert f"Due 17:00, Fri, Feb 9; time limit {minutes} min." in text
    text = text_of(ins.post(NEW, form(time="other", multiplier="3", **quiz)).text)
    assert "time limit 300% of the usual" in text and "time limit 90 min." in text
    # Both at once: two more days and twice the time.
    text = text_of(ins.post(NEW, form(deadline="2d", time="2", **quiz)).text)
    assert "Due 17:00, Sun, Feb 11; time limit 60 min." in text


# -- preview and save ---------------------------------------------------------------------------


def test_the_preview_shows_before_and_after_and_writes_nothing(world: World, pages: Any) -> None:
    ins: PageClient = pages("instructor")
    was = counts(world)
    r = ins.post(NEW, form(deadline="2d"))
    assert r.status_code == 200
    text = text_of(r.text)
    assert "Preview: hw/hw2 — Binary numbers nothing is saved yet" in text
    assert "The extension: due 23:59, Wed, Feb 7." in text
    now, after = text.split("Ana Alvarez (ana@example.edu) now", 1)[1].split("With the extension")
    assert "until 23:59, Wed, Feb 7: 80% credit (late)" in now and "Due 23:59, Mon, Feb 5" in now
    assert "until 23:59, Wed, Feb 7: 100% credit" in after and "Due 23:59, Wed, Feb 7" in after
    for side in (now, after):  # what they may still do once credit ends
        assert "After 23:59, Wed, Feb 7: practice only (submissions for no credit)" in side
    # htmx asks for the preview alone.
    r = ins.post(NEW, form(deadline="2d"), headers={"HX-Request": "true"})
    assert r.text.lstrip().startswith('<section id="preview"') and "<html" not in r.text
    r = ins.post(NEW, form(deadline="2d", uid="nobody"), headers={"HX-Request": "true"})
    assert r.status_code == 422 and "nobody is not a student of CG 101 Sp24" in r.text
    assert counts(world) == was
    assert due_of(world, ANA, "hw/hw2") == chicago("2024-02-05T23:59")


def test_save_writes_one_exception_and_its_history(world: World, pages: Any) -> None:
    ins: PageClient = pages("instructor")
    rows, log = counts(world)
    r = ins.post(NEW, form(deadline="2d", action="save", reason="flu"))
    assert r.status_code == 303
    assert r.headers["location"] == f"{Q}/staff/students/{ANA}"
    assert notice(ins.follow(r).text) == (
        "Extension saved for Ana Alvarez (ana@example.edu) on hw/hw2: due 23:59, Wed, Feb 7."
    )
    assert counts(world) == (rows + 1, log + 1)
    assert due_of(world, ANA, "hw/hw2") == chicago("2024-02-07T23:59")
    with world.ctx() as ctx:
        entry = ctx.session.scalars(
            select(HistoryEntry).where(HistoryEntry.action == "exception.grant")
        ).one()
        assert (entry.actor, entry.reason) == (demo.INSTRUCTOR.uid, "flu")
    ana: PageClient = pages("student")
    assert "Due 23:59, Wed, Feb 7" in text_of(ana.get(CI + "/assessments/hw/hw2").text)
    # Again: +1 day counts from the new deadline and changes the same exception.
    page = ins.get(f"{NEW}?uid={ANA}&assessment=hw/hw2").text
    fields = form_fields(page, f"{Q}/staff/extensions/new")
    fields.update(deadline="1d", action="save", reason="still ill", csrf_token=ins.csrf)
    r = ins.http.post(NEW, data=fields, follow_redirects=False)
    assert "Extension changed" in notice(ins.follow(r).text)
    assert counts(world) == (rows + 1, log + 2)
    assert due_of(world, ANA, "hw/hw2") == chicago("2024-02-08T23:59")
    # A form showing a version someone else has since changed saves nothing.
    fields.update(deadline="1w")
    r = ins.http.post(NEW, data=fields, follow_redirects=False)
    assert r.status_code == 409 and "someone else changed" in beside(r.text, "version")
    assert due_of(world, ANA, "hw/hw2") == chicago("2024-02-08T23:59")


def test_a_whole_section_gets_one_extension_each(world: World, pages: Any) -> None:
    ta: PageClient = pages("ta")
    rows, _ = counts(world)
    section = {"who": "section", "section": "lab-b", "deadline": "1d"}
    text = text_of(ta.post(NEW, form(**section)).text)
    assert "2 students get this extension" in text
    for who in ("Ben Brown (ben@example.edu)", "Chloe Chen (chloe@example.edu)"):
        assert f"{who} 23:59, Mon, Feb 5 23:59, Tue, Feb 6" in text
    assert counts(world)[0] == rows
    r = ta.post(NEW, form(**section, action="save", reason="lab flood"))
    assert notice(ta.follow(r).text) == "Extension granted to 2 student(s) for hw/hw2."
    assert counts(world)[0] == rows + 2
    assert due_of(world, "chloe@example.edu", "hw/hw2") == chicago("2024-02-06T23:59")


def test_a_pasted_list_of_emails_and_uids_is_all_or_nothing(world: World, pages: Any) -> None:
    with world.ctx() as ctx:
        ctx.user("ben@example.edu").email = "Ben.Brown@Example.edu"
    ta: PageClient = pages("ta")
    rows, log = counts(world)
    pasted = "ana@example.edu, ben.brown@example.edu\nnobody@example.edu\nchloe@example.edu"
    bulk = {"who": "uids", "uids": pasted, "deadline": "1w", "reason": "storm"}
    for action in ("preview", "save"):
        r = ta.post(NEW, form(**bulk, action=action))
        assert r.status_code == 422
        said = beside(r.text, "uids")
        assert said.startswith("1 student cannot get this extension")
        assert "nobody@example.edu: not a student of CG 101 Sp24" in said
        assert pasted in html.unescape(r.text)  # what was pasted stays in the field
    assert counts(world) == (rows, log)
    # Someone outside the course is said the same way, by what was pasted (no uid revealed).
    with world.ctx() as ctx:
        ctx.user(demo.INSTRUCTOR.uid).email = "Ivy@Example.edu"
    r = ta.post(NEW, form(**{**bulk, "uids": "ivy@example.edu, ana@example.edu"}))
    assert beside(r.text, "uids").endswith("ivy@example.edu: not a student of CG 101 Sp24")
    r = ta.post(
        NEW, form(**{**bulk, "uids": pasted.replace("nobody@example.edu", "")}, action="save")
    )
    assert notice(ta.follow(r).text) == "Extension granted to 3 student(s) for hw/hw2."
    assert counts(world) == (rows + 3, log + 3)
    assert due_of(world, "ben@example.edu", "hw/hw2") == chicago("2024-02-12T23:59")


def test_members_with_different_deadlines_need_a_date(world: World, pages: Any) -> None:
    ta: PageClient = pages("ta")
    pasted = {"who": "uids", "uids": "ana@example.edu dan@example.edu"}
    r = ta.post(NEW, form(**pasted, deadline="2d"))
    assert r.status_code == 422
    assert "different deadlines now (23:59, Mon, Feb 5, 23:59, Sat, Feb 10)" in beside(
        r.text, "deadline"
    )
    # Until a date after both: Dan already has an exception for hw/hw2, so he is listed.
    r = ta.post(NEW, form(**pasted, deadline="until", until="2024-02-14T23:59"))
    assert r.status_code == 422
    said = beside(r.text, "uids")
    assert said.startswith("1 student cannot get this extension; nothing was written: ")
    assert "dan@example.edu: Dan Diaz (dan@example.edu) already has a different exception" in said


# -- bad input ----------------------------------------------------------------------------------

BAD = [
    ({"deadline": ""}, "deadline", "choose a new deadline, more time, or both"),
    ({"deadline": "3d"}, "deadline", "choose +1 day, +2 days, +1 week or until a date"),
    ({"deadline": "until", "until": ""}, "until", "give the date the extension lasts until"),
    ({"deadline": "until", "until": "next week"}, "until", "until:"),
    (
        {"deadline": "until", "until": "2024-02-05T12:00"},
        "until",
        "12:00, Mon, Feb 5 is not after Ana Alvarez (ana@example.edu)'s current deadline "
        "(23:59, Mon, Feb 5)",
    ),
    ({"uid": "nobody@example.edu", "deadline": "1d"}, "uid", "is not a student of CG 101 Sp24"),
    ({"assessment": "hw/hw9", "deadline": "1d"}, "target", "has no assessment 'hw/hw9'"),
    ({"time": "2"}, "time", "has no time limit on this assessment"),
    ({"time": "other", "multiplier": "1"}, "multiplier", "a multiplier above 1"),
    ({"time": "other", "multiplier": "0.5"}, "multiplier", "a multiplier above 1"),
    ({"time": "other", "multiplier": "lots"}, "multiplier", "is not a number"),
    ({"who": "section", "section": "lab-z", "deadline": "1d"}, "section", "no section 'lab-z'"),
    ({"who": "uids", "uids": " ", "deadline": "1d"}, "uids", "paste the students'"),
]


@pytest.mark.parametrize(("change", "field", "message"), BAD, ids=[b[1] for b in BAD])
def test_bad_input_is_said_beside_its_field_and_changes_nothing(
    world: World, pages: Any, change: dict[str, str], field: str, message: str
) -> None:
    ins: PageClient = pages("instructor")
    was = counts(world)
    for action in ("preview", "save"):
        r = ins.post(NEW, form(**change, action=action, reason="because"))
        assert 400 <= r.status_code < 500, r.status_code
        assert message in beside(r.text, field), (field, beside(r.text, field), r.text[-3000:])
    assert counts(world) == was


def test_save_needs_a_reason(world: World, pages: Any) -> None:
    ins: PageClient = pages("instructor")
    r = ins.post(NEW, form(deadline="1d", action="save"))
    assert r.status_code == 422 and "say why" in beside(r.text, "reason")
    assert counts(world)[0] == 1


def test_an_extension_in_the_past_is_refused(world: World, pages: Any) -> None:
    world.clock.now = chicago("2024-02-20T12:00")
    ins: PageClient = pages("instructor")
    r = ins.post(NEW, form(deadline="until", until="2024-02-19T23:59"))
    assert "is already past (now: 12:00, Tue, Feb 20)" in beside(r.text, "until")


# -- who may ------------------------------------------------------------------------------------


def test_staff_without_gex_see_the_form_but_cannot_preview_or_save(
    world: World, pages: Any
) -> None:
    from coursegate.services.people import signin
    from coursegate.services.people.grants import grant_role
    from coursegate.services.people.users import create_user

    with world.ctx() as ctx:
        user = create_user(ctx, "proctor@example.edu", "Pat Proctor", "proctor@example.edu",
                           domain=demo.DOMAIN)  # fmt: skip
        signin.store_password(ctx, user, "proctor-pass-1")
        ci = find_course_instance(ctx, "CG 101", "Sp24")
        from coursegate.services.common.places import instance_area

        grant_role(ctx, user.uid, "ep", instance_area(ci).path, reason="exam proctor")
    pat = PageClient(world)
    r = pat.http.post("/sign-in", data={"uid": "proctor@example.edu", "password": "proctor-pass-1"},
                      follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    from web_support import token_of

    pat.csrf = token_of(pat.get("/courses").text)
    page = pat.get(f"{NEW}?uid={ANA}&assessment=hw/hw2")
    assert page.status_code == 200 and "deadline now: 23:59, Mon, Feb 5" in text_of(page.text)
    was = counts(world)
    for action in ("preview", "save"):
        r = pat.post(NEW, form(deadline="1d", action=action, reason="r"))
        assert r.status_code == 403
    assert counts(world) == was
    student: PageClient = pages("student")
    assert student.get(f"{NEW}?uid={ANA}").status_code == 403
