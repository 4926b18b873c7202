"""The command line as a person meets it (issue 17, item 10, and the demo of item 9): one error
style (text on a terminal, the JSON contract with --json or in a script) naming the file,
convert's summary line, schema's directory and VS Code hint, flags that look like flags, and a
taken port said in one line."""

from __future__ import annotations

import json
import os
import pty
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from coursegate.cli import errors
from coursegate.cli.main import app

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "examples" / "course"
HW4 = COURSE / "courseInstances" / "Fa14" / "assessments" / "hw4" / "infoAssessment.json"
runner = CliRunner()


def invoke(*args: str, stdin: str | None = None) -> Any:
    return runner.invoke(app, list(args), input=stdin)


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if standard output were a terminal."""
    monkeypatch.setattr(errors, "on_terminal", lambda: True)


# -- one error style ---------------------------------------------------------------------------


def test_on_a_terminal_an_error_is_text_naming_the_file(terminal: None, tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    res = invoke("decide", "--request", str(missing))
    assert res.exit_code == 2
    assert res.stdout == ""
    assert res.stderr.startswith(f"ERROR   {missing}\n")
    assert "cannot read the request file" in res.stderr and "{" not in res.stderr


def test_with_json_the_same_error_is_the_json_contract(terminal: None, tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    res = invoke("timeline", "--request", str(missing), "--json")
    assert res.exit_code == 2
    (err,) = json.loads(res.stdout)["errors"]
    assert err["file"] == str(missing) and err["path"] == "$"


@pytest.mark.parametrize("command", [["decide"], ["roles", "allowed"]])
def test_commands_that_answer_in_json_take_json_for_errors_too(
    terminal: None, tmp_path: Path, command: list[str]
) -> None:
    res = invoke(*command, "--request", str(tmp_path / "r.json"), "--json")
    assert res.exit_code == 2 and res.stderr == ""
    assert json.loads(res.stdout)["errors"][0]["file"] == str(tmp_path / "r.json")


def test_in_a_script_errors_stay_the_json_contract(tmp_path: Path) -> None:
    res = invoke("validate", str(tmp_path / "no-course"))
    assert res.exit_code == 2
    assert json.loads(res.stdout)["errors"][0]["file"] == str(tmp_path / "no-course")


def test_a_bad_request_file_is_named_not_called_request(tmp_path: Path) -> None:
    bad = tmp_path / "hw1.json"
    bad.write_text("{")
    res = invoke("decide", "-r", str(bad))
    assert res.exit_code == 2
    (err,) = json.loads(res.stdout)["errors"]
    assert err["file"] == str(bad) and "not valid JSON" in err["message"]
    res = invoke("decide", "-r", "-", stdin='{"at": "2024-01-01T00:00", "usr": {}}')
    assert {e["file"] for e in json.loads(res.stdout)["errors"]} == {"<stdin>"}


def test_roles_errors_take_the_same_style(terminal: None, tmp_path: Path) -> None:
    res = invoke("roles", "allowed", "--request", str(tmp_path / "r.json"))
    assert res.exit_code == 2 and res.stderr.startswith(f"ERROR   {tmp_path / 'r.json'}\n")


def test_on_a_real_terminal_the_error_is_text(tmp_path: Path) -> None:
    """End to end, with a pseudo-terminal for standard output (no monkeypatching)."""
    leader, follower = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run(
        [sys.executable, "-m", "coursegate.cli.main", "decide", "-r", str(tmp_path / "x.json")],
        stdout=follower,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
        timeout=60,
    )
    os.close(follower)
    os.close(leader)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"ERROR   {tmp_path / 'x.json'}\n"), proc.stderr
    assert "Traceback" not in proc.stderr


# -- convert, schema, flags --------------------------------------------------------------------


def test_convert_ends_with_a_summary_line() -> None:
    res = invoke("convert", str(COURSE))
    assert res.exit_code == 1  # the legacy exams need review
    assert res.stdout.rstrip().splitlines()[-1] == "5 files: 1 equivalent, 4 need review"


def test_the_example_course_has_a_legacy_file_that_converts_provably() -> None:
    res = invoke("convert", str(HW4))
    assert res.exit_code == 0
    assert f"== {HW4}: equivalent" in res.stdout
    assert res.stdout.rstrip().splitlines()[-1] == "1 file: 1 equivalent"
    (report,) = json.loads(invoke("convert", str(HW4), "--json").stdout)
    assert report["equivalent"] is True and report["differences"] == []


def test_schema_writes_to_the_directory_named_and_says_how_to_use_it(tmp_path: Path) -> None:
    for args in (["--out", str(tmp_path / "a")], [str(tmp_path / "b")]):
        res = invoke("schema", *args)
        assert res.exit_code == 0, res.stdout
        where = Path(args[-1])
        assert (where / "infoAssessment.schema.json").is_file()
        assert str(where / "infoCourse.schema.json") in res.stdout
        hint = res.stdout[res.stdout.index("{") :]
        entries = json.loads(hint)["json.schemas"]
        by_match = {e["fileMatch"][0]: e["url"] for e in entries}
        assert by_match["**/infoAssessment.json"] == (where / "infoAssessment.schema.json").as_uri()
        assert set(by_match) == {
            "**/infoCourse.json",
            "**/infoCourseInstance.json",
            "**/infoAssessment.json",
        }
        assert "VS Code settings" in res.stdout  # file:// URLs: tmp_path is not under the cwd


def test_schema_into_a_directory_it_cannot_write_says_so(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    res = invoke("schema", "--out", str(blocker / "sub"))
    assert res.exit_code == 2
    (err,) = json.loads(res.stdout)["errors"]
    assert err["file"] == str(blocker / "sub") and "cannot write the schemas" in err["message"]


@pytest.mark.parametrize(
    ("command", "flag"),
    [(["sync"], "--dry-run"), (["accounts", "lock"], "--dry-run"), (["convert"], "--write")],
)
def test_flags_look_like_flags_in_the_help(command: list[str], flag: str) -> None:
    res = invoke(*command, "--help")
    assert res.exit_code == 0
    assert flag in res.stdout and "<bool>" not in res.stdout
    assert "<str>" in res.stdout or "<path>" in res.stdout  # options with values still say so


# -- the demo on a taken port ------------------------------------------------------------------


def test_a_taken_port_gives_a_one_line_hint(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COURSEGATE_DATA_DIR": str(tmp_path)}
        proc = subprocess.run(
            [sys.executable, "-m", "coursegate.cli.main", "demo", "--port", str(port)],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            check=False,
            timeout=120,
        )
    assert proc.returncode == 1
    assert proc.stderr == (
        f"Port {port} is in use; try make demo PORT={port + 1}"
        f" (or coursegate demo --port {port + 1})\n"
    )
    assert proc.stdout == "" and not (tmp_path / "coursegate.sqlite3").exists()


def test_make_demo_passes_the_port_through() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "PORT ?= 8000" in makefile and "coursegate demo --port $(PORT)" in makefile
