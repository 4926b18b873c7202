"""The command line: the public JSON contract, exit codes and the example course."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from coursegate.cli.main import app

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
runner = CliRunner()

HW = {
    "accessControl": [
        {
            "dateControl": {
                "release": {"date": "2024-03-14T00:01:00"},
                "due": {"date": "2024-03-21T23:59:00"},
            }
        }
    ]
}


def run(*args: str, stdin: str | None = None) -> tuple[int, Any]:
    res = runner.invoke(app, list(args), input=stdin)
    try:
        return res.exit_code, json.loads(res.stdout)
    except json.JSONDecodeError:
        return res.exit_code, res.stdout


def test_decide_from_stdin_has_the_contract_fields() -> None:
    req = {"at": "2024-03-15T10:00:00", "timezone": "America/Chicago", "assessment_config": HW}
    code, out = run("decide", "--request", "-", stdin=json.dumps(req))
    assert code == 0
    assert out["at"] == "2024-03-15T10:00:00-05:00"
    assert set(out["course_instance"]) >= {"access", "explanation"}
    assert set(out["assessment"]) == {
        "rules",
        "access",
        "listed",
        "can_start",
        "submittable",
        "credit",
        "credit_text",
        "time_limit_minutes",
        "password_required",
        "read_only",
        "complete",
        "questions_visible",
        "score_visible",
        "next_change",
        "exam_access_end",
        "explanation",
    }
    assert out["assessment"]["credit_text"] == "100% until 23:59, Thu, Mar 21"
    assert out["assessment"]["next_change"] == "2024-03-21T23:59:00-05:00"


def test_decide_with_a_course_directory(tmp_path: Path) -> None:
    req = EXAMPLES / "requests" / "hw1-early.json"
    code, out = run("decide", "--request", str(req))
    assert code == 0, out
    assert out["assessment"]["access"] is True and out["assessment"]["rules"] == "rfc"


def test_inline_configuration_defaults_to_utc() -> None:
    code, out = run(
        "decide",
        "-r",
        "-",
        stdin=json.dumps({"at": "2024-03-15T10:00:00", "assessment_config": HW}),
    )
    assert code == 0 and out["at"] == "2024-03-15T10:00:00+00:00"


@pytest.mark.parametrize(
    ("req", "path"),
    [
        ({"at": "soon"}, "$.at"),
        ({}, "$"),
        ({"at": "2024-01-01T00:00", "user": {"role": "Dean"}}, "$.user.role"),
        ({"at": "2024-01-01T00:00", "usr": {}}, "$"),
        (
            {"at": "2024-01-01T00:00", "course": "examples/course", "course_instance": "Nope"},
            "$.course_instance",
        ),
        (
            {"at": "2024-01-01T00:00", "assessment_config": {"allowAccess": [{"credt": 1}]}},
            "$.allowAccess[0]",
        ),
    ],
)
def test_bad_requests_exit_2_with_errors(
    req: dict[str, Any], path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    code, out = run("decide", "--request", "-", stdin=json.dumps(req))
    assert code == 2
    assert isinstance(out, dict) and out["errors"]
    assert {"file", "path", "message"} <= set(out["errors"][0])
    assert any(e["path"] == path for e in out["errors"]), out


def test_misspelt_request_key_suggests_the_right_one() -> None:
    code, out = run("decide", "-r", "-", stdin=json.dumps({"at": "2024-01-01T00:00", "usr": {}}))
    assert code == 2 and "did you mean 'user'" in out["errors"][0]["message"]


def test_invalid_course_file_exits_2_naming_the_file(tmp_path: Path) -> None:
    a = tmp_path / "c" / "courseInstances" / "X" / "assessments" / "hw"
    a.mkdir(parents=True)
    (tmp_path / "c" / "courseInstances" / "X" / "infoCourseInstance.json").write_text(
        json.dumps({"uuid": "5b0c2c0e-8f2b-4f0e-9a51-3d0f6f4c1a01"})
    )
    (a / "infoAssessment.json").write_text(
        json.dumps(
            {
                "uuid": "5b0c2c0e-8f2b-4f0e-9a51-3d0f6f4c1a02",
                "allowAccess": [{"startDate": "bad"}],
            }
        )
    )
    req = {"at": "2024-01-01T00:00", "course": str(tmp_path / "c"), "assessment": "hw"}
    code, out = run("decide", "-r", "-", stdin=json.dumps(req))
    assert code == 2
    (err,) = out["errors"]
    assert (
        err["file"].endswith("infoAssessment.json") and err["path"] == "$.allowAccess[0].startDate"
    )


def test_timeline_table_and_json() -> None:
    req = json.dumps(
        {"at": "2024-03-15T10:00:00", "timezone": "America/Chicago", "assessment_config": HW}
    )
    code, text = run("timeline", "-r", "-", stdin=req)
    assert code == 0 and "2024-03-14 00:01:00 CDT" in text and "why:" in text
    code, rows = run(
        "timeline",
        "-r",
        "-",
        "--json",
        "--from",
        "2024-03-01T00:00",
        "--to",
        "2024-04-01T00:00",
        stdin=req,
    )
    assert code == 0
    assert (
        rows[0]["from"] == "2024-03-01T00:00:00-06:00"
        and rows[-1]["to"] == "2024-04-01T00:00:00-05:00"
    )
    assert [r["decision"]["access"] for r in rows] == [False, True, True]


def test_validate_exit_codes(tmp_path: Path) -> None:
    code, text = run("validate", str(EXAMPLES / "course"))
    assert code == 0 and "0 error(s)" in text
    bad = tmp_path / "bad" / "courseInstances" / "X"
    bad.mkdir(parents=True)
    (bad / "infoCourseInstance.json").write_text(
        json.dumps(
            {
                "uuid": "5b0c2c0e-8f2b-4f0e-9a51-3d0f6f4c1a03",
                "publishing": {"startDate": "2024-01-01"},
            }
        )
    )
    code, out = run("validate", str(tmp_path / "bad"), "--json")
    assert code == 1 and "together" in out["errors"][0]["message"]
    (bad / "infoCourseInstance.json").write_text(json.dumps({}))
    code, out = run("validate", str(tmp_path / "bad"), "--json")
    assert code == 1 and "'uuid' is missing" in out["errors"][0]["message"]


def test_convert_reports_equivalence_and_differences(tmp_path: Path) -> None:
    f = tmp_path / "infoAssessment.json"
    f.write_text(
        json.dumps(
            {
                "title": "x",
                "allowAccess": [
                    {
                        "credit": 100,
                        "startDate": "2024-01-01T00:00:00",
                        "endDate": "2024-01-10T23:59:59",
                    },
                    {"credit": 0, "startDate": "2024-01-01T00:00:00"},
                ],
            }
        )
    )
    code, out = run("convert", str(f), "--json")
    assert code == 0, out
    assert out[0]["equivalent"] is True
    code, out = run("convert", str(f), "--write")
    assert code == 0 and "accessControl" in json.loads(f.read_text())
    g = tmp_path / "g.json"
    g.write_text(
        json.dumps(
            {
                "allowAccess": [
                    {
                        "credit": 100,
                        "startDate": "2024-01-01T00:00:00",
                        "endDate": "2024-01-10T23:59:59",
                    }
                ]
            }
        )
    )
    code, out = run("convert", str(g), "--json")
    assert code == 1 and out[0]["equivalent"] is False
    assert any("2024-01-11 00:00:00" in d and "no access" in d for d in out[0]["differences"])


def test_schema_writes_json_schemas(tmp_path: Path) -> None:
    code, _ = run("schema", "--out", str(tmp_path))
    assert code == 0
    s = json.loads((tmp_path / "infoAssessment.schema.json").read_text())
    assert "allowAccess" in s["properties"] and "$defs" in s


def test_example_requests_all_decide() -> None:
    for req in sorted((EXAMPLES / "requests").glob("*.json")):
        res = runner.invoke(app, ["decide", "--request", str(req)])
        assert res.exit_code == 0, (req.name, res.stdout)


def test_installed_command_runs_as_a_subprocess() -> None:
    req = json.dumps({"at": "2024-03-15T10:00:00", "assessment_config": HW})
    proc = subprocess.run(
        [sys.executable, "-m", "coursegate.cli.main", "decide", "--request", "-"],
        input=req,
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["assessment"]["access"] is True


def test_demo_prints_timelines() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "coursegate.cli.demo_timelines", str(EXAMPLES / "course")],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert "ben@example.edu" in proc.stdout and "shrinking" in proc.stdout
