"""The main journeys in a real browser: Debian's Chromium, headless, driven by Playwright,
against a real uvicorn server with the demo world. Skipped — saying why — when no Chromium is
installed (``.ci/run`` installs one).

Screenshots of the main pages go to ``docs/screenshots/`` when ``COURSEGATE_SCREENSHOTS=1``
(``make screenshots`` is not needed: ``COURSEGATE_SCREENSHOTS=1 .venv/bin/python -m pytest
tests/web/test_browser.py``), and to a temporary directory otherwise.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest
from browser_support import (
    WIDER_THAN_SCREEN,
    Live,
    check_page,
    missing_browser,
    new_page,
    sign_in,
)

from coursegate.cli import demo_world as demo
from coursegate.core.instants import parse_date, zone
from coursegate.server.app import PAGE_CSP

WHY = missing_browser()
pytestmark = pytest.mark.skipif(WHY is not None, reason=f"browser tests skipped: {WHY}")

CI = "/courses/CG 101/instances/Sp24"
STAFF = CI + "/staff"
TZ = zone("America/Chicago")
ANA, DAN = demo.STUDENTS[0], demo.STUDENTS[3]


def test_a_student_starts_and_submits_a_timed_assessment(
    browser: Any, live: Live, shots: Path
) -> None:
    live.world.clock.now = parse_date("2024-02-13T09:00", TZ)[0]
    page = new_page(browser)
    sign_in(page, live, ANA.uid, ANA.password)
    page.goto(live.url(CI))
    page.get_by_role("link", name="Exam 1: Exam 1").click()
    check_page(page)
    # Start with the keyboard: the button is focusable and shows its focus.
    start = page.get_by_role("button", name="Start Exam 1")
    start.focus()
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none")
    page.keyboard.press("Enter")
    page.wait_for_url("**/assessments/exams/exam1")
    assert page.get_by_role("status").inner_text() == "Started. You have 60 minutes."
    timer = page.locator("#timer .left")
    first = timer.inner_text()
    assert re.fullmatch(r"(60:00|59:5\d)", first), first
    page.wait_for_function(
        "t => document.querySelector('#timer .left').textContent !== t", arg=first
    )  # the remaining time counts down
    page.screenshot(path=str(shots / "student-timed-attempt.png"), full_page=True)
    page.get_by_label("Points scored").fill("17")
    page.get_by_label("Out of").fill("20")
    page.get_by_role("button", name="Submit answers").click()
    assert "Submitted: 17 of 20 points at 100% credit." in page.get_by_role("status").inner_text()
    page.get_by_role("button", name="Finish my attempt").click()
    body = page.locator("main").inner_text()
    assert "Finished" in body
    assert "Score: hidden" in body  # until Feb 20, as the rules say
    check_page(page)


def test_an_instructor_grants_an_extension_and_the_students_page_changes(
    browser: Any, live: Live, shots: Path
) -> None:
    student = new_page(browser)
    sign_in(student, live, ANA.uid, ANA.password)
    student.goto(live.url(CI + "/assessments/hw/hw2"))
    assert "23:59, Mon, Feb 5" in student.locator("dl.facts").inner_text()

    staff = new_page(browser)
    sign_in(staff, live, demo.INSTRUCTOR.uid, demo.INSTRUCTOR.password)
    staff.goto(live.url(STAFF + "/exceptions"))
    check_page(staff)
    staff.get_by_label("One student").check()
    staff.get_by_label("Student (uid and name)").fill(ANA.uid)
    staff.get_by_label("An assessment").check()
    staff.get_by_label("Assessment", exact=True).select_option("hw/hw2")
    staff.get_by_label("Due", exact=True).fill("2024-02-12T23:59")
    staff.get_by_label("Reason (required").fill("family emergency")
    staff.screenshot(path=str(shots / "staff-exceptions.png"), full_page=True)
    staff.get_by_role("button", name="Grant", exact=True).click()
    assert staff.get_by_role("status").inner_text() == (
        "Exception granted to Ana Alvarez (ana@example.edu) for hw/hw2."
    )
    row = staff.get_by_role("row", name=re.compile("Ana Alvarez"))
    assert "due 23:59, Mon, Feb 12" in row.inner_text()

    student.reload()
    assert "23:59, Mon, Feb 12" in student.locator("dl.facts").inner_text()
    assert "family emergency" in student.locator("main").inner_text()
    student.goto(live.url(CI))
    student.locator("summary", has_text="Your exception for Binary numbers").click()
    assert "due 23:59, Mon, Feb 12" in student.locator("details.exception[open]").inner_text()
    check_page(student)


def test_a_ta_views_as_a_student_and_cannot_reach_staff_pages(
    browser: Any, live: Live, shots: Path
) -> None:
    page = new_page(browser)
    sign_in(page, live, demo.TA.uid, demo.TA.password)
    page.goto(live.url(STAFF + "/roster"))
    page.get_by_role("link", name="Ana Alvarez (ana@example.edu)").click()
    page.get_by_role("button", name="View the course as Ana Alvarez").click()
    banner = page.get_by_role("region", name="Viewing as a student")
    assert "You are viewing the course as Ana Alvarez (ana@example.edu)." in banner.inner_text()
    assert page.get_by_role("link", name="Homework 1: Logic gates").is_visible()
    page.screenshot(path=str(shots / "view-as-banner.png"))
    response = page.goto(live.url(STAFF + "/matrix"))
    assert response is not None and response.status == 403
    assert page.get_by_role("heading", name="Not allowed").is_visible()
    assert banner.is_visible()
    banner.get_by_role("button", name="Stop viewing as ana@example.edu").click()
    page.wait_for_url("**/staff/matrix")  # back where the TA was, as themself
    assert page.get_by_role("status").inner_text() == "You are yourself again."
    assert page.get_by_role("region", name="Viewing as a student").count() == 0
    assert page.get_by_role("heading", name="Matrix").is_visible()


def test_the_rule_editor_checks_as_you_type(browser: Any, live: Live, shots: Path) -> None:
    page = new_page(browser)
    sign_in(page, live, demo.INSTRUCTOR.uid, demo.INSTRUCTOR.password)
    page.goto(live.url(STAFF + "/rules/hw/hw2?view=full"))
    check_page(page)
    assert "No errors and no warnings." in page.locator("#rules-problems").inner_text()
    due = page.locator("#f-e0-dateControl-due-date")

    def typed(text: str) -> None:
        """Type into the due date and wait for htmx's check to come back."""
        with page.expect_response(lambda r: r.request.method == "POST" and "/rules/" in r.url):
            due.fill(text)
        page.wait_for_timeout(100)  # the swap follows the response

    typed("2024-02-30T23:59:00")  # htmx asks the server, which answers with the validator's
    assert "ERROR" in page.locator("#rules-problems").inner_text()
    message = page.locator("#f-e0-dateControl-due-date-err").inner_text()
    assert "'2024-02-30T23:59:00' is not a real date or time" in message
    assert '"date": "2024-02-30T23:59:00"' in page.locator("#rules-json").input_value()
    assert page.locator("#f-e0-dateControl-due-date").get_attribute("aria-invalid") is None
    typed("2024-02-06T23:59:00")
    assert "Changed from the synced rules" in page.locator("#rules-problems").inner_text()
    assert "ERROR" not in page.locator("#rules-problems").inner_text()
    assert page.locator("#f-e0-dateControl-due-date-err").inner_text() == ""
    page.wait_for_selector("#rules-preview svg.timeline")  # the preview of the new rules
    page.screenshot(path=str(shots / "staff-rules-editor.png"), full_page=False)


def test_main_pages_for_the_docs_and_phones(browser: Any, live: Live, shots: Path) -> None:
    """Every main page: labelled fields, no script error, nothing wider than a 375 px phone
    but the matrix in its own scroll box; and the screenshots of docs/web.md."""
    desk = new_page(browser)
    sign_in(desk, live, demo.INSTRUCTOR.uid, demo.INSTRUCTOR.password)
    for name, path in (
        ("staff-assessments", STAFF),
        ("staff-assessment-timeline", STAFF + "/assessments/exams/practical"),
        ("staff-matrix", STAFF + "/matrix"),
        ("staff-student", STAFF + "/students/dan@example.edu"),
        ("staff-roster", STAFF + "/roster"),
        ("staff-roles", STAFF + "/roles"),
        ("staff-history", STAFF + "/history"),
    ):
        desk.goto(live.url(path))
        check_page(desk)
        desk.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    phone = new_page(browser, phone=True)
    sign_in(phone, live, DAN.uid, DAN.password)
    for name, path in (
        ("student-assessments-phone", CI),
        ("student-assessment-phone", CI + "/assessments/hw/hw2"),
        ("student-calendar-phone", CI + "/calendar"),
    ):
        phone.goto(live.url(path))
        check_page(phone)
        assert phone.evaluate(WIDER_THAN_SCREEN) <= 0, f"{path} scrolls sideways on a phone"
        phone.screenshot(path=str(shots / f"{name}.png"), full_page=name.endswith("-phone"))
    desk_student = new_page(browser)
    sign_in(desk_student, live, DAN.uid, DAN.password)
    desk_student.goto(live.url(CI))
    desk_student.locator("summary", has_text="Your exception for Binary numbers").click()
    desk_student.screenshot(path=str(shots / "student-assessments.png"), full_page=True)
    # The matrix's filters answer in place (htmx), and the address follows them.
    desk.goto(live.url(STAFF + "/matrix"))
    desk.evaluate("() => { window.notReloaded = true }")
    with desk.expect_response(lambda r: "/staff/matrix" in r.url):
        desk.get_by_label("lab-b (2)").check()
    desk.wait_for_function("() => document.querySelector('#matrix-area p').textContent"
                           ".includes('2 of 4 students')")  # fmt: skip
    assert desk.evaluate("() => window.notReloaded") is True
    assert "section=lab-b" in desk.url
    staff_phone = new_page(browser, phone=True)
    sign_in(staff_phone, live, demo.TA.uid, demo.TA.password)
    for path in (STAFF, STAFF + "/matrix", STAFF + "/exceptions", STAFF + "/roster"):
        staff_phone.goto(live.url(path))
        check_page(staff_phone)
        assert staff_phone.evaluate(WIDER_THAN_SCREEN) <= 0, f"{path} scrolls sideways"


@pytest.mark.skipif(
    importlib.util.find_spec("coursegate.services.accounts") is None,
    reason="the class-accounts package (coursegate.services.accounts) is not installed",
)
def test_an_instructor_assigns_class_accounts_and_recycles_one(
    browser: Any, live: Live, shots: Path
) -> None:
    (live.world.data_dir / "home").mkdir(exist_ok=True)
    admin = new_page(browser)
    sign_in(admin, live, demo.ADMIN.uid, demo.ADMIN.password)
    admin.get_by_role("link", name="Class accounts: stems, the pool and the metrics").click()
    admin.get_by_label("Stem (accounts are").fill("cgx")
    admin.get_by_role("button", name="Give the course this stem").click()
    assert admin.get_by_role("status").inner_text() == (
        "CG 101 has the stem cgx (676 accounts of room)."
    )

    page = new_page(browser)
    sign_in(page, live, demo.INSTRUCTOR.uid, demo.INSTRUCTOR.password)
    page.goto(live.url(STAFF))
    page.get_by_role("link", name="Class accounts").click()
    check_page(page)
    page.get_by_label("Email addresses, one a line").fill(
        "zoe@students.example.edu, Zoe Zed\nYann Yu <yann@students.example.edu>\n"
    )
    page.get_by_role("button", name="Assign and mail the credentials").click()
    said = page.get_by_role("status").inner_text()
    assert said.startswith("2 account(s) assigned; cgxaa → zoe@students.example.edu;")
    table = page.get_by_role("table").first
    assert "Zoe Zed" in table.inner_text() and "Yann Yu" in table.inner_text()
    page.get_by_role("button", name="Recycle cgxab").click()
    assert page.get_by_role("status").inner_text() == (
        "Recycling cgxab: wiped, then back in the pool."
    )
    # The wipe runs right after the request; the list shows it going, then gone.
    for _ in range(50):
        if "cgxab" not in page.locator("main table").first.inner_text():
            break
        page.wait_for_timeout(200)
        page.reload()
    assert "cgxab" not in page.locator("main table").first.inner_text()
    page.screenshot(path=str(shots / "staff-class-accounts.png"), full_page=True)
    admin.goto(live.url("/admin/accounts?course=CG 101"))
    assert admin.locator("svg.chart").is_visible()
    pool = admin.get_by_role("table").last.inner_text()
    assert re.search(r"cgxab\s+free, locked\s+pool", pool), pool
    admin.screenshot(path=str(shots / "admin-class-accounts.png"), full_page=True)
    check_page(admin)


def test_pages_keep_to_their_content_security_policy(browser: Any, live: Live) -> None:
    """Every page is sent with the strict policy and works under it: the scripts (htmx, the
    page script) run, nothing inline is refused. The watch itself is checked: an inline script
    slipped into the page is refused and reported."""
    page = new_page(browser)
    response = page.goto(live.url("/sign-in"))
    assert response is not None and response.headers["content-security-policy"] == PAGE_CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    sign_in(page, live, DAN.uid, DAN.password)
    page.goto(live.url(CI + "/calendar"))
    assert page.evaluate("() => typeof htmx") == "object"  # /static/htmx.min.js ran
    field = page.get_by_label("Your personal calendar link")
    field.focus()  # selects the whole link (app.js; it was an inline onfocus handler)
    selected = "e => e.value.length > 0 && e.selectionEnd - e.selectionStart === e.value.length"
    assert field.evaluate(selected) is True
    check_page(page)
    page.evaluate("""() => { const s = document.createElement("script");
                             s.textContent = "window.inlineRan = true";
                             document.head.append(s) }""")  # fmt: skip
    page.wait_for_timeout(100)  # the report of the refusal follows
    assert page.evaluate("() => window.inlineRan") is None
    assert any("script-src" in v for v in page.csp_violations), page.csp_violations
