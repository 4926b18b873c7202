"""Issue 17, item 6, in a real browser on SQLite and PostgreSQL: an instructor moves a due date
in the rule editor's simple mode, sees the difference to the course file, saves — the file is
written and the course synced — and the student's page shows the new date."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from browser_support import Live, check_page, missing_browser, new_page, sign_in

from coursegate.cli import demo_world as demo
from coursegate.core.instants import parse_date, zone
from coursegate.services.courses.sync import sync_course
from coursegate.web.pages import when

WHY = missing_browser()
pytestmark = pytest.mark.skipif(WHY is not None, reason=f"browser tests skipped: {WHY}")

CI = "/courses/CG 101/instances/Sp24"
TZ = zone("America/Chicago")
FILE = "courseInstances/Sp24/assessments/hw/hw2/infoAssessment.json"
ANA = demo.STUDENTS[0]


def _writable_course(live: Live, tmp_path: Path) -> Path:
    """The example course in a git working tree, synced from there, the server allowed to
    write into it."""
    root = tmp_path / "course"
    shutil.copytree(demo.EXAMPLE_COURSE, root)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    with live.world.ctx() as ctx:
        sync_course(ctx, root)
    app = live.world.app
    app.state.settings = replace(
        app.state.settings, editor_writes=True, editor_course_dirs=(str(root),)
    )
    return root


def _hw2_due(page: Any, live: Live) -> str:
    page.goto(live.url(CI))
    item = page.locator("li.assessment", has=page.locator('a[href$="assessments/hw/hw2"]'))
    return str(item.locator("dt:text-is('Due') + dd").inner_text())


def test_an_instructor_moves_a_due_date_and_the_student_sees_it(
    browser: Any, live_any: Live, tmp_path: Path, shots: Path
) -> None:
    root = _writable_course(live_any, tmp_path)
    old = when(parse_date("2024-02-05T23:59:00", TZ)[0], TZ)
    new = when(parse_date("2024-02-06T18:00:00", TZ)[0], TZ)
    student = new_page(browser)
    sign_in(student, live_any, ANA.uid, ANA.password)
    assert old in _hw2_due(student, live_any)

    page = new_page(browser)
    sign_in(page, live_any, demo.INSTRUCTOR.uid, demo.INSTRUCTOR.password)
    page.goto(live_any.url(CI + "/staff/rules/hw/hw2"))
    check_page(page)
    assert page.get_by_text("Simple editor").first.is_visible()
    assert page.get_by_role("link", name="Full editor (every rule)").is_visible()
    page.get_by_label("Due date").first.fill("2024-02-06T18:00:00")
    page.screenshot(path=str(shots / "staff-rules-simple.png"), full_page=True)
    page.get_by_role("button", name="Save…").click()
    page.wait_for_selector("#rules-diff")
    check_page(page)
    diff = page.locator("#rules-diff").inner_text()
    assert '-        "due": { "date": "2024-02-05T23:59:00", "credit": 100 },' in diff
    assert '+        "due": { "date": "2024-02-06T18:00:00", "credit": 100 },' in diff
    assert '"2024-02-06T18:00:00"' not in (root / FILE).read_text()  # nothing written yet
    page.screenshot(path=str(shots / "staff-rules-save-diff.png"), full_page=False)
    page.get_by_role("button", name="Save to the file and sync").click()
    page.wait_for_url("**/staff/rules/hw/hw2**")
    notice = page.get_by_role("status").inner_text()
    assert f"Saved {FILE} and synced the course" in notice and "commit it in git" in notice
    assert '"due": { "date": "2024-02-06T18:00:00", "credit": 100 }' in (root / FILE).read_text()
    assert page.get_by_label("Due date").first.input_value() == "2024-02-06T18:00:00"

    due = _hw2_due(student, live_any)
    assert new in due and old not in due
    page.context.close()
    student.context.close()
