"""The CLI's text output never shows Python's ``None`` (issue 17, item 3): an absent value is
"—" or a sentence ("no credit"). JSON output keeps its contract (``"credit_text": "None"`` is
PrairieLearn's value, and ``null`` is JSON's)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coursegate.cli.demo_timelines import main as demo_timelines
from coursegate.cli.main import app

ROOT = Path(__file__).resolve().parents[1]
REQUESTS = sorted((ROOT / "examples" / "requests").glob("*.json"))
NONE = re.compile(r"\bNone\b")
runner = CliRunner()


def test_there_are_example_requests() -> None:
    assert len(REQUESTS) >= 10


@pytest.mark.parametrize("request_file", REQUESTS, ids=lambda p: p.stem)
def test_the_timeline_table_never_prints_none(request_file: Path) -> None:
    res = runner.invoke(app, ["timeline", "-r", str(request_file)])
    assert res.exit_code == 0, res.output
    assert not NONE.search(res.stdout), res.stdout


def test_a_stretch_without_credit_says_no_credit() -> None:
    res = runner.invoke(app, ["timeline", "-r", str(REQUESTS[0])])
    lines = [line for line in res.stdout.splitlines() if "can start" in line or "cannot" in line]
    assert any("no credit" in line for line in lines), res.stdout


def test_the_demo_timelines_never_print_none(capsys: pytest.CaptureFixture[str]) -> None:
    assert demo_timelines([str(ROOT / "examples" / "course")]) == 0
    out = capsys.readouterr().out
    assert "ben@example.edu" in out and not NONE.search(out)
