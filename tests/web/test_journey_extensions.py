"""The one-click extension in a real browser (Debian's Chromium, headless), on SQLite and —
with COURSEGATE_TEST_DATABASE_URL — PostgreSQL: an instructor opens the form from a matrix
cell's link, picks +2 days, sees the preview (asked for by htmx on the change), saves, and the
student's page shows the new due date. The screenshot of the form with its preview goes to
``shots / "extension-dialog.png"`` (docs/screenshots with COURSEGATE_SCREENSHOTS=1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_support import WIDER_THAN_SCREEN, Live, check_page, missing_browser, new_page, sign_in

from coursegate.cli import demo_world as demo

WHY = missing_browser()
pytestmark = pytest.mark.skipif(WHY is not None, reason=f"browser tests skipped: {WHY}")

CI = "/courses/CG 101/instances/Sp24"
STAFF = CI + "/staff"
ANA = demo.STUDENTS[0]


def test_an_instructor_extends_a_deadline_by_two_days_from_a_matrix_cell(
    browser: Any, live_any: Live, shots: Path
) -> None:
    live = live_any
    student = new_page(browser)
    sign_in(student, live, ANA.uid, ANA.password)
    student.goto(live.url(CI + "/assessments/hw/hw2"))
    assert "23:59, Mon, Feb 5" in student.locator("dl.facts").inner_text()

    staff = new_page(browser)
    sign_in(staff, live, demo.INSTRUCTOR.uid, demo.INSTRUCTOR.password)
    staff.goto(live.url(f"{STAFF}/extensions/new?uid={ANA.uid}&assessment=hw/hw2"))
    check_page(staff)
    assert staff.get_by_role("heading", name="New extension").is_visible()
    assert staff.get_by_label("Student (uid or name)").input_value() == (
        "Ana Alvarez (ana@example.edu)"
    )
    now = staff.locator("#deadline-now").inner_text()
    assert "deadline now: 23:59, Mon, Feb 5 at 100% credit" in now
    # Typing a date chooses "Until a date" (extensions.js); then +2 days is picked instead.
    staff.get_by_label("Until (in America/Chicago)").fill("2024-02-09T12:00")
    assert staff.get_by_label("Until a date").is_checked()
    staff.get_by_label("+2 days").check()
    preview = staff.locator("#preview")
    preview.get_by_text("With the extension").wait_for()  # htmx asked for it on the change
    text = preview.inner_text()
    assert "The extension: due 23:59, Wed, Feb 7." in text
    assert "Due 23:59, Mon, Feb 5; no time limit." in text
    assert "Due 23:59, Wed, Feb 7; no time limit." in text
    staff.get_by_label("Reason (required").fill("family emergency")
    check_page(staff)
    assert staff.evaluate(WIDER_THAN_SCREEN) <= 0
    staff.screenshot(path=str(shots / "extension-dialog.png"), full_page=True)
    staff.get_by_role("button", name="Save the extension").click()
    staff.wait_for_url("**/staff/students/ana@example.edu")
    assert staff.get_by_role("status").inner_text() == (
        "Extension saved for Ana Alvarez (ana@example.edu) on hw/hw2: due 23:59, Wed, Feb 7."
    )

    student.reload()
    assert "23:59, Wed, Feb 7" in student.locator("dl.facts").inner_text()
    assert "family emergency" in student.locator("main").inner_text()


def test_the_form_and_its_preview_fit_a_phone(browser: Any, live: Live) -> None:
    phone = new_page(browser, phone=True)
    sign_in(phone, live, demo.TA.uid, demo.TA.password)
    phone.goto(live.url(f"{STAFF}/extensions/new?uid={ANA.uid}&assessment=hw/hw2"))
    phone.get_by_label("+1 week").check()
    phone.locator("#preview").get_by_text("With the extension").wait_for()
    assert "Due 23:59, Mon, Feb 12" in phone.locator("#preview").inner_text()
    assert phone.evaluate(WIDER_THAN_SCREEN) <= 0
    check_page(phone)


def test_a_refused_preview_is_said_in_the_preview(browser: Any, live: Live) -> None:
    staff = new_page(browser)
    sign_in(staff, live, demo.TA.uid, demo.TA.password)
    staff.goto(live.url(f"{STAFF}/extensions/new?uid={ANA.uid}&assessment=hw/hw2"))
    staff.get_by_label("2× time").check()
    staff.locator("#preview").get_by_text("Not done:").wait_for()
    assert "has no time limit on this assessment" in staff.locator("#preview").inner_text()
    check_page(staff)
