"""``coursegate sync`` and ``coursegate db``: through typer's runner on both databases, and once
as a real process on a fresh data directory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from store_support import EXAMPLE_COURSE, Store, utc
from typer.testing import CliRunner, Result

from coursegate.cli.main import app
from coursegate.store.models import Assessment, HistoryEntry

runner = CliRunner()


def cli_env(store: Store) -> dict[str, str | None]:
    """The environment that points the command line at the store's database (PostgreSQL: at
    its schema, through libpq's PGOPTIONS)."""
    env: dict[str, str | None] = {"COURSEGATE_DATABASE_URL": store.url}
    if store.schema is not None:
        env["PGOPTIONS"] = f"-csearch_path={store.schema}"
    return env


def invoke(store: Store, *args: str) -> Result:
    return runner.invoke(app, list(args), env=cli_env(store))


def counts(store: Store) -> tuple[int, int]:
    with store.factory() as s:
        a = s.scalar(select(func.count()).select_from(Assessment))
        h = s.scalar(select(func.count()).select_from(HistoryEntry))
        return int(a or 0), int(h or 0)


def test_sync_prints_changes_then_nothing(store: Store) -> None:
    res = invoke(store, "sync", str(EXAMPLE_COURSE), "--at", "2024-03-01T00:00:00Z")
    assert res.exit_code == 0, res.stdout
    assert res.stdout.startswith("course CG 101: ")
    assert "Sp24/hw/hw1: created" in res.stdout
    with store.factory() as s:
        actors = set(s.scalars(select(HistoryEntry.actor)))
        ats = set(s.scalars(select(HistoryEntry.at)))
    assert actors == {"system"} and ats == {utc(2024, 3, 1)}
    again = invoke(store, "sync", str(EXAMPLE_COURSE))
    assert again.exit_code == 0
    assert "nothing to change" in again.stdout
    as_json = invoke(store, "sync", str(EXAMPLE_COURSE), "--json")
    data = json.loads(as_json.stdout)
    assert data["course"] == "CG 101" and data["changes"] == [] and data["dry_run"] is False


def test_dry_run_prints_what_would_change_and_writes_nothing(store: Store, tmp_path: Path) -> None:
    course = tmp_path / "course"
    shutil.copytree(EXAMPLE_COURSE, course)
    assert invoke(store, "sync", str(course)).exit_code == 0
    shutil.rmtree(course / "courseInstances/Sp24/assessments/hw/hw2")
    before = counts(store)
    res = invoke(store, "sync", str(course), "--dry-run", "--json")
    assert res.exit_code == 0, res.stdout
    data = json.loads(res.stdout)
    assert data["dry_run"] is True
    assert [(c["kind"], c["what"]) for c in data["changes"]] == [("retired", "Sp24/hw/hw2")]
    assert counts(store) == before
    with store.factory() as s:
        assert (
            s.scalars(select(Assessment.retired_at).where(Assessment.aid == "hw/hw2")).one() is None
        )
    text = invoke(store, "sync", str(course), "--dry-run")
    assert "(dry run: nothing written)" in text.stdout


def test_bad_course_files_exit_2_and_change_nothing(store: Store, tmp_path: Path) -> None:
    course = tmp_path / "course"
    shutil.copytree(EXAMPLE_COURSE, course)
    assert invoke(store, "sync", str(course)).exit_code == 0
    before = counts(store)
    bad = course / "courseInstances/Sp24/assessments/hw/hw1/infoAssessment.json"
    data = json.loads(bad.read_text())
    data["accessControl"]["dueDate"] = "someday"
    bad.write_text(json.dumps(data))
    res = invoke(store, "sync", str(course))
    assert res.exit_code == 2
    errors = json.loads(res.stdout)["errors"]
    assert errors and all(set(e) == {"file", "path", "message"} for e in errors)
    assert errors[0]["file"] == str(bad)
    assert errors[0]["path"] == "$.accessControl.dueDate"
    assert "someday" in errors[0]["message"]
    assert counts(store) == before


def test_bad_arguments_exit_2(store: Store, tmp_path: Path) -> None:
    res = invoke(store, "sync", str(tmp_path / "missing"))
    assert res.exit_code == 2
    assert json.loads(res.stdout)["errors"][0]["message"] == "no such course directory"
    res = invoke(store, "sync", str(EXAMPLE_COURSE), "--at", "next tuesday")
    assert res.exit_code == 2
    assert json.loads(res.stdout)["errors"][0]["path"] == "--at"
    assert counts(store) == (0, 0)


def test_db_current_and_upgrade(store: Store) -> None:
    res = invoke(store, "db", "current")
    assert res.exit_code == 0 and "(up to date)" in res.stdout
    res = invoke(store, "db", "upgrade")
    assert res.exit_code == 0 and "(up to date)" in res.stdout


def test_help_says_the_operator_acts() -> None:
    res = runner.invoke(app, ["sync", "--help"])
    assert res.exit_code == 0 and "system actor" in res.stdout


def test_fresh_data_directory_as_a_process(tmp_path: Path) -> None:
    """A fresh machine: no database yet, no extra step before ``sync``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COURSEGATE_")}
    env["COURSEGATE_DATA_DIR"] = str(tmp_path / "data")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "coursegate.cli.main", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    current = run("db", "current")
    assert current.returncode == 0 and "no schema yet" in current.stdout
    dry = run("sync", str(EXAMPLE_COURSE), "--dry-run")
    assert dry.returncode == 2 and "coursegate db upgrade" in dry.stdout
    first = run("sync", str(EXAMPLE_COURSE))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Sp24/hw/hw1: created" in first.stdout
    assert (tmp_path / "data" / "coursegate.sqlite3").is_file()
    second = run("sync", str(EXAMPLE_COURSE))
    assert second.returncode == 0 and "nothing to change" in second.stdout
    assert "(up to date)" in run("db", "current").stdout


@pytest.mark.parametrize("command", [["db", "current"], ["sync", str(EXAMPLE_COURSE)]])
def test_unusable_database_exits_1(command: list[str], tmp_path: Path) -> None:
    url = "postgresql://nobody@127.0.0.1:1/none"
    res = runner.invoke(app, command, env={"COURSEGATE_DATABASE_URL": url})
    assert res.exit_code == 1
    error = json.loads(res.stdout)["errors"][0]
    assert error["message"].startswith("cannot use the database")


def test_percent_in_the_database_url(tmp_path: Path) -> None:
    data = tmp_path / "100%"
    res = runner.invoke(
        app,
        ["db", "upgrade"],
        env={"COURSEGATE_DATA_DIR": str(data), "COURSEGATE_DATABASE_URL": None},
    )
    assert res.exit_code == 0, res.exception
