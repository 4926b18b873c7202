"""The rule editor's Save (issue 17, item 6): the difference first, then the file written and
the course synced, all or nothing; Download where the server may not write; the simple mode;
refused to those who do not set assessment parameters. SQLite, and PostgreSQL with
COURSEGATE_TEST_DATABASE_URL."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from api_support import World
from html_forms import form_fields
from sqlalchemy import select
from web_support import CI, STAFF, PageClient, text_of

from coursegate.cli import demo_world as demo
from coursegate.courses.problems import CourseError, Problem
from coursegate.services.courses import rules_files
from coursegate.services.courses.sync import sync_course
from coursegate.store.models import Assessment, HistoryEntry

Q = CI.replace(" ", "%20")
ACTION = f"{Q}/staff/rules/hw/hw2"
FILE = "courseInstances/Sp24/assessments/hw/hw2/infoAssessment.json"
DUE = "e0.dateControl.due.date"


def _git(course: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(course), *args], check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def course(world: World, tmp_path: Path) -> Path:
    """The example course copied into a git working tree, synced from there, and the server
    allowed to write into it."""
    root = tmp_path / "course"
    shutil.copytree(demo.EXAMPLE_COURSE, root)
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@x", "commit", "-qm", "course")
    with world.ctx() as ctx:
        sync_course(ctx, root)
    writes(world, True, root)
    return root


def writes(world: World, on: bool, root: Path | None) -> None:
    settings = world.app.state.settings
    world.app.state.settings = replace(
        settings, editor_writes=on, editor_course_dirs=(str(root),) if root else ()
    )


def stored_due(world: World) -> str:
    with world.ctx() as ctx:
        row = ctx.session.scalars(
            select(Assessment).where(Assessment.aid == "hw/hw2", Assessment.retired_at.is_(None))
        ).one()
        return str(row.access["accessControl"][0]["dateControl"]["due"]["date"])


def diff_of(page: str) -> str:
    m = re.search(r'<pre class="diff"[^>]*>(.*?)</pre>', page, re.S)
    assert m, "no difference shown"
    return html.unescape(re.sub(r"<[^>]+>", "", m.group(1)))


def simple_form(ins: PageClient) -> dict[str, str]:
    page = ins.get(STAFF + "/rules/hw/hw2")
    assert page.status_code == 200
    return form_fields(page.text, ACTION)


def test_the_editor_opens_simple_with_the_full_editor_one_click_away(
    pages: Any, course: Path
) -> None:
    ins: PageClient = pages("instructor")
    page = ins.get(STAFF + "/rules/hw/hw2").text
    fields = form_fields(page, ACTION)
    assert fields["view"] == "simple" and fields[DUE] == "2024-02-05T23:59:00"
    assert "e0.dateControl.durationMinutes" not in fields  # only release, due dates, credit
    assert 'href="?view=full"' in page and "Save…" in text_of(page)
    full = ins.get(STAFF + "/rules/hw/hw2?view=full").text
    assert "e0.dateControl.password" in form_fields(full, ACTION)
    assert "In the file" in text_of(full)  # the old "Write" drop-down, now saying what it does


def test_save_shows_the_difference_then_writes_the_file_and_syncs(
    world: World, pages: Any, course: Path
) -> None:
    ins: PageClient = pages("instructor")
    before = (course / FILE).read_text()
    fields = simple_form(ins)
    fields[DUE] = "2024-02-07T23:59:00"
    r = ins.post(STAFF + "/rules-diff/hw/hw2", fields)
    assert r.status_code == 200, r.text[:2000]
    diff = diff_of(r.text)
    changed = [x for x in diff.splitlines()[2:] if x[:1] in "+-"]
    assert changed == [  # one line: the rest of the file keeps its formatting
        '-        "due": { "date": "2024-02-05T23:59:00", "credit": 100 },',
        '+        "due": { "date": "2024-02-07T23:59:00", "credit": 100 },',
    ], diff
    assert diff.startswith(f"--- a/{FILE}\n+++ b/{FILE}\n")
    assert "does not commit" in r.text
    assert (course / FILE).read_text() == before  # the difference writes nothing
    assert stored_due(world) == "2024-02-05T23:59:00"
    confirm = form_fields(r.text, ACTION)
    assert confirm["base"] and json.loads(confirm["json"])["accessControl"]
    r = ins.post(STAFF + "/rules-save/hw/hw2", confirm)
    assert r.status_code == 303, r.text[:2000]
    page = text_of(ins.follow(r).text)
    assert f"Saved {FILE} and synced the course" in page and "commit it in git yourself" in page
    after = (course / FILE).read_text()
    assert after == before.replace(
        '"due": { "date": "2024-02-05T23:59:00"', '"due": { "date": "2024-02-07T23:59:00"'
    )
    old, new = json.loads(before), json.loads(after)
    assert list(old) == list(new)  # every key kept, in its order
    assert {k: v for k, v in old.items() if k != "accessControl"} == {
        k: v for k, v in new.items() if k != "accessControl"
    }
    assert stored_due(world) == "2024-02-07T23:59:00"  # synced
    assert _git(course, "status", "--porcelain").strip() == f"M {FILE}"  # not committed
    with world.ctx() as ctx:
        entry = ctx.session.scalars(
            select(HistoryEntry).where(HistoryEntry.action == "rules.save")
        ).one()
        assert entry.actor == demo.INSTRUCTOR.uid and entry.details["file"] == FILE


def test_invalid_rules_write_nothing_and_are_said_beside_the_field(
    world: World, pages: Any, course: Path
) -> None:
    ins: PageClient = pages("instructor")
    before = (course / FILE).read_text()
    fields = simple_form(ins)
    fields[DUE] = "2024-02-30T23:59:00"
    r = ins.post(STAFF + "/rules-diff/hw/hw2", fields)
    assert r.status_code == 422
    m = re.search(r'id="s-e0-dateControl-due-date-err">([^<]*)<', r.text)
    assert m and "is not a real date or time" in m.group(1)
    assert 'aria-invalid="true"' in r.text and "rules-confirm" not in r.text
    # the confirm step posted directly, with bad JSON or bad rules: nothing either
    bad = json.loads(form_fields(r.text, ACTION)["json"])
    assert bad["accessControl"][0]["dateControl"]["due"]["date"] == "2024-02-30T23:59:00"
    r = ins.post(STAFF + "/rules-save/hw/hw2", {"json": json.dumps(bad), "base": "x"})
    assert r.status_code == 422 and "nothing was saved" in text_of(r.text)
    r = ins.post(STAFF + "/rules-save/hw/hw2", {"json": "{oops", "base": "x"})
    assert r.status_code == 422 and "the JSON cannot be read" in text_of(r.text)
    assert (course / FILE).read_text() == before
    assert stored_due(world) == "2024-02-05T23:59:00"


def test_a_failed_sync_puts_the_file_back_and_writes_nothing(
    world: World, pages: Any, course: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ins: PageClient = pages("instructor")
    before = (course / FILE).read_text()
    fields = simple_form(ins)
    fields[DUE] = "2024-02-06T12:00:00"
    confirm = form_fields(ins.post(STAFF + "/rules-diff/hw/hw2", fields).text, ACTION)
    seen: list[str] = []

    def failing(ctx: Any, root: Path) -> Any:
        seen.append((Path(root) / FILE).read_text())  # the new file was in place
        raise CourseError([Problem(FILE, "$.accessControl[0].dateControl.due.date", "no")])

    monkeypatch.setattr(rules_files, "sync_course", failing)
    r = ins.post(STAFF + "/rules-save/hw/hw2", confirm)
    assert r.status_code == 422
    assert "the course did not validate with these rules: nothing was written" in text_of(r.text)
    assert seen and "2024-02-06T12:00:00" in seen[0]
    assert (course / FILE).read_text() == before
    assert stored_due(world) == "2024-02-05T23:59:00"
    assert _git(course, "status", "--porcelain").strip() == ""
    assert not list((course / FILE).parent.glob(".infoAssessment-*"))  # no temporary file left


def test_a_file_changed_since_the_difference_is_not_overwritten(
    world: World, pages: Any, course: Path
) -> None:
    ins: PageClient = pages("instructor")
    fields = simple_form(ins)
    fields[DUE] = "2024-02-06T18:00:00"
    confirm = form_fields(ins.post(STAFF + "/rules-diff/hw/hw2", fields).text, ACTION)
    theirs = (course / FILE).read_text() + "\n"
    (course / FILE).write_text(theirs)  # someone pulled or edited meanwhile
    r = ins.post(STAFF + "/rules-save/hw/hw2", confirm)
    assert r.status_code == 409
    assert "changed since you saw the difference" in text_of(r.text)
    assert (course / FILE).read_text() == theirs
    assert form_fields(r.text, ACTION)["base"] != confirm["base"]  # the new difference


def test_with_the_setting_off_the_editor_offers_the_file_to_download(
    world: World, pages: Any, course: Path
) -> None:
    writes(world, False, course)
    ins: PageClient = pages("instructor")
    before = (course / FILE).read_text()
    page = ins.get(STAFF + "/rules/hw/hw2").text
    assert "Download the file" in text_of(page) and "Save…" not in text_of(page)
    assert "editor_writes is off" in text_of(page)
    fields = form_fields(page, ACTION)
    fields[DUE] = "2024-02-07T23:59:00"
    r = ins.post(STAFF + "/rules-download/hw/hw2", fields)
    assert r.status_code == 200
    assert r.headers["content-disposition"] == 'attachment; filename="infoAssessment.json"'
    got = json.loads(r.content)
    assert got["accessControl"][0]["dateControl"]["due"]["date"] == "2024-02-07T23:59:00"
    assert got["title"] == json.loads(before)["title"]  # the whole file
    r = ins.post(STAFF + "/rules-save/hw/hw2", {"json": json.dumps({}), "base": ""})
    assert r.status_code in (403, 422)
    confirm = {"json": json.dumps({"accessControl": got["accessControl"]}), "base": "x"}
    r = ins.post(STAFF + "/rules-save/hw/hw2", confirm)
    assert r.status_code == 403 and "editor_writes is off" in text_of(r.text)
    assert (course / FILE).read_text() == before and stored_due(world) == "2024-02-05T23:59:00"


def test_a_course_directory_that_is_no_git_tree_is_not_written(
    world: World, pages: Any, course: Path
) -> None:
    shutil.rmtree(course / ".git")
    page = text_of(pages("instructor").get(STAFF + "/rules/hw/hw2").text)
    assert "is not a git working tree" in page and "Download the file" in page


def test_a_ta_may_neither_see_the_editor_nor_save(world: World, pages: Any, course: Path) -> None:
    ta: PageClient = pages("ta")
    before = (course / FILE).read_text()
    assert ta.get(STAFF + "/rules/hw/hw2").status_code == 403
    ins_fields = simple_form(pages("instructor"))
    ins_fields[DUE] = "2024-02-07T23:59:00"
    for route in ("rules-diff", "rules-save", "rules-download"):
        r = ta.post(STAFF + f"/{route}/hw/hw2", {**ins_fields, "base": "x"})
        assert r.status_code == 403, route
    assert (course / FILE).read_text() == before and stored_due(world) == "2024-02-05T23:59:00"
