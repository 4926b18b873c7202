"""Syncing a hostile course directory: refused with an error naming the file, and the database
exactly as before (the sync is one transaction that never starts writing).

Each case first syncs the example course, then turns a copy of it hostile — a link out of the
course, a device, a FIFO, a 3 GiB sparse file, a folder loop, too many entries, JSON nested
100,000 deep, duplicate keys, duplicate uuids, an undefined set, a credit written as text, an
impossible UTC offset — and syncs again, through the service and through ``coursegate sync``.

Every hostile copy also renames the course in infoCourse.json, so that sync's quick
"are the files exactly as last synced?" check stops before it reads any other file: that check
(``_unchanged`` in services/courses/sync.py) reads files itself, without the loader's limits; see
:func:`test_the_quick_unchanged_check_does_not_open_a_fifo`.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from store_support import EXAMPLE_COURSE, Store, utc
from typer.testing import CliRunner

from coursegate.cli.main import app
from coursegate.courses.problems import CourseError
from coursegate.courses.reading import FILES_ENV
from coursegate.services.courses.sync import sync_course

AT = utc(2024, 3, 1)
LATER = utc(2024, 3, 2)
SP24 = "courseInstances/Sp24"
HW1 = f"{SP24}/assessments/hw/hw1/infoAssessment.json"
HW2 = f"{SP24}/assessments/hw/hw2/infoAssessment.json"
needs_posix = pytest.mark.skipif(sys.platform == "win32", reason="POSIX links and FIFOs")


def edit(course: Path, rel: str, change: Callable[[dict[str, Any]], None]) -> None:
    path = course / rel
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def replace(course: Path, rel: str) -> Path:
    path = course / rel
    path.unlink()
    return path


# ------------------------------------------------------------------------ the hostile copies
# Each turns the copy hostile and returns the file (relative to the course) the error names.


def link_to_a_file_outside(course: Path) -> str:
    outside = course.parent / "outside.json"
    shutil.copy(course / HW1, outside)
    replace(course, HW1).symlink_to(outside)
    return HW1


def link_to_a_folder_outside(course: Path) -> str:
    shutil.copytree(course / f"{SP24}/assessments/hw", course.parent / "outside")
    link = course / f"{SP24}/assessments/more"
    link.symlink_to(course.parent / "outside", target_is_directory=True)
    return f"{SP24}/assessments/more"


def link_to_dev_zero(course: Path) -> str:
    replace(course, HW1).symlink_to("/dev/zero")
    return HW1


def fifo(course: Path) -> str:
    os.mkfifo(replace(course, HW1))
    return HW1


def sparse_3_gib(course: Path) -> str:
    with (course / HW1).open("r+b") as f:
        f.truncate(3 * 1024**3)
    return HW1


def folder_loop(course: Path) -> str:
    (course / f"{SP24}/assessments/hw/loop").symlink_to("..", target_is_directory=True)
    return f"{SP24}/assessments/hw/loop"


def deep_json(course: Path) -> str:
    (course / HW1).write_text("[" * 100_000 + "]" * 100_000)
    return HW1


def duplicate_key(course: Path) -> str:
    text = (course / HW1).read_text()
    (course / HW1).write_text(text.replace('"title":', '"title": "again", "title":', 1))
    return HW1


def duplicate_uuid(course: Path) -> str:
    uuid = json.loads((course / HW1).read_text())["uuid"]
    edit(course, HW2, lambda d: d.update(uuid=uuid))
    return HW2


def undefined_set(course: Path) -> str:
    edit(course, HW1, lambda d: d.update(set="Homwork"))
    return HW1


def credit_as_text(course: Path) -> str:
    rel = "courseInstances/Fa14/assessments/hw3/infoAssessment.json"
    edit(course, rel, lambda d: d["allowAccess"][0].update(credit="100"))
    return rel


def impossible_offset(course: Path) -> str:
    def change(d: dict[str, Any]) -> None:
        d["accessControl"][0]["dateControl"]["release"]["date"] = "2024-01-16T00:00:01+99:00"

    edit(course, HW2, change)
    return HW2


CASES: dict[str, tuple[Callable[[Path], str], str]] = {
    "link to a file outside": (link_to_a_file_outside, "outside the course directory"),
    "link to a folder outside": (link_to_a_folder_outside, "folder outside the course"),
    "link to /dev/zero": (link_to_dev_zero, "outside the course directory"),
    "FIFO": (fifo, "FIFO"),
    "3 GiB sparse file": (sparse_3_gib, "too large"),
    "folder loop": (folder_loop, "loop"),
    "JSON 100,000 deep": (deep_json, "nested more than 64 levels"),
    "duplicate key": (duplicate_key, "appears more than once"),
    "duplicate uuid": (duplicate_uuid, "also the uuid of assessment hw/hw1"),
    "undefined set": (undefined_set, "is not an assessment set"),
    "credit as text": (credit_as_text, "must be a number"),
    "impossible offset": (impossible_offset, "UTC offset +99:00"),
}
POSIX_ONLY = {"link to a file outside", "link to a folder outside", "link to /dev/zero", "FIFO"}
POSIX_ONLY |= {"folder loop"}


def hostile_copy(tmp_path: Path, case: str) -> tuple[Path, str, str]:
    if case in POSIX_ONLY and sys.platform == "win32":
        pytest.skip("POSIX links and FIFOs")
    if case == "link to /dev/zero" and not os.path.exists("/dev/zero"):
        pytest.skip("needs /dev/zero")
    course = tmp_path / "hostile" / "course"
    shutil.copytree(EXAMPLE_COURSE, course)
    make, needle = CASES[case]
    rel = make(course)
    edit(course, "infoCourse.json", lambda d: d.update(title="Renamed by the hostile copy"))
    return course, rel, needle


@pytest.mark.parametrize("case", list(CASES))
def test_a_hostile_course_is_refused_and_nothing_changes(
    store: Store, tmp_path: Path, case: str
) -> None:
    store.system(AT, lambda c: sync_course(c, EXAMPLE_COURSE))
    before = store.dump()
    course, rel, needle = hostile_copy(tmp_path, case)
    with pytest.raises(CourseError) as err:
        store.system(LATER, lambda c: sync_course(c, course))
    named = [p for p in err.value.problems if p.file == str(course / rel)]
    assert named and any(needle in p.message for p in named), err.value.problems
    assert all(p.severity == "error" for p in err.value.problems)
    assert store.dump() == before


def test_too_many_entries_is_refused_and_nothing_changes(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.system(AT, lambda c: sync_course(c, EXAMPLE_COURSE))
    before = store.dump()
    course = tmp_path / "course"
    shutil.copytree(EXAMPLE_COURSE, course)
    edit(course, "infoCourse.json", lambda d: d.update(title="Renamed"))
    for k in range(200):
        (course / f"{SP24}/assessments/empty/e{k:03d}").mkdir(parents=True)
    monkeypatch.setenv(FILES_ENV, "150")
    with pytest.raises(CourseError) as err:
        store.system(LATER, lambda c: sync_course(c, course))
    assert any("more than 150 files and folders" in p.message for p in err.value.problems)
    assert store.dump() == before
    monkeypatch.delenv(FILES_ENV)
    store.system(LATER, lambda c: sync_course(c, course))  # the default limit lets it through
    assert store.dump() != before


@pytest.mark.parametrize("case", ["link to a file outside", "FIFO", "JSON 100,000 deep"])
def test_the_command_reports_the_refusal_and_changes_nothing(
    store: Store, tmp_path: Path, case: str
) -> None:
    env: dict[str, str | None] = {"COURSEGATE_DATABASE_URL": store.url}
    if store.schema is not None:
        env["PGOPTIONS"] = f"-csearch_path={store.schema}"
    runner = CliRunner()
    ok = runner.invoke(app, ["sync", str(EXAMPLE_COURSE), "--at", "2024-03-01T00:00:00Z"], env=env)
    assert ok.exit_code == 0, ok.stdout
    before = store.dump()
    course, rel, needle = hostile_copy(tmp_path, case)
    res = runner.invoke(app, ["sync", str(course), "--at", "2024-03-02T00:00:00Z"], env=env)
    assert res.exit_code == 2, res.stdout
    errors = json.loads(res.stdout)["errors"]
    assert any(e["file"] == str(course / rel) and needle in e["message"] for e in errors)
    assert store.dump() == before


@needs_posix
def test_the_quick_unchanged_check_does_not_open_a_fifo(store: Store, tmp_path: Path) -> None:
    course = tmp_path / "course"
    shutil.copytree(EXAMPLE_COURSE, course)
    store.system(AT, lambda c: sync_course(c, course))
    before = store.dump()
    pipe = course / f"{SP24}/assessments/hw/hw9/infoAssessment.json"
    pipe.parent.mkdir()
    os.mkfifo(pipe)  # every other file is exactly as synced, so the quick check reads on
    outcome: list[BaseException | None] = []

    def sync() -> None:
        try:
            store.system(LATER, lambda c: sync_course(c, course))
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=sync, daemon=True)
    worker.start()
    worker.join(5)
    blocked = worker.is_alive()
    if blocked:  # release the reader: give the FIFO a writer that writes "{}" and goes away
        fd = os.open(pipe, os.O_WRONLY | os.O_NONBLOCK)
        os.write(fd, b"{}")
        os.close(fd)
        worker.join(60)
    assert store.dump() == before
    assert not blocked, "sync opened the FIFO and waited for a writer"
    assert isinstance(outcome[0], CourseError) and "FIFO" in str(outcome[0])
