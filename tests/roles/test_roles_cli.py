"""The public command-line contract of `coursegate roles` (issue 3)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from coursegate.cli.roles_cmd import app

runner = CliRunner()

ISSUE_EXAMPLE: dict[str, Any] = {
    "at": "2001-09-01T12:00:00Z",
    "users": [{"uid": "smith", "domain": "msu", "auth": "internal"}],
    "assignments": [{"uid": "smith", "role": "cc", "area": "/msu/c1", "start": None, "end": None}],
    "custom_roles": [
        {
            "name": "helproom",
            "author": "smith",
            "domain": "msu",
            "system": "",
            "domain_privs": "",
            "course": "bre&R:vgr&SCR",
        }
    ],
    "uid": "smith",
    "selected": None,
    "privilege": "vgr",
    "area": "/msu/c1",
}


def run(command: str, request: dict[str, Any] | str, tmp_path: Path) -> tuple[int, Any]:
    file = tmp_path / "request.json"
    file.write_text(request if isinstance(request, str) else json.dumps(request))
    result = runner.invoke(app, [command, "--request", str(file)])
    return result.exit_code, json.loads(result.stdout)


def with_changes(**changes: Any) -> dict[str, Any]:
    request = json.loads(json.dumps(ISSUE_EXAMPLE))
    request.update(changes)
    return request


# -- allowed --------------------------------------------------------------------------------------


def test_allowed_issue_example(tmp_path: Path) -> None:
    code, answer = run("allowed", ISSUE_EXAMPLE, tmp_path)
    assert code == 0
    assert set(answer) == {"permission", "explanation"}
    assert answer["permission"] == "F"
    assert answer["explanation"][1].startswith("Course Coordinator (cc) held at /msu/c1")


def test_allowed_from_standard_input() -> None:
    result = runner.invoke(app, ["allowed", "--request", "-"], input=json.dumps(ISSUE_EXAMPLE))
    assert result.exit_code == 0
    assert json.loads(result.stdout)["permission"] == "F"


def test_allowed_conditions_custom_role_and_chosen_role(tmp_path: Path) -> None:
    request = with_changes(
        users=[
            {"uid": "smith", "domain": "msu", "auth": "internal"},
            {"uid": "jones", "domain": "msu", "auth": "kerberos"},
        ],
        assignments=[
            {"uid": "smith", "role": "cc", "area": "/msu/c1"},
            {"uid": "jones", "role": "cr/msu/smith/helproom", "area": "/msu/c1/s1"},
            {"uid": "jones", "role": "st", "area": "/msu/c1/s1"},
        ],
        uid="jones",
        area="/msu/c1/s1",
    )
    code, answer = run("allowed", request, tmp_path)
    assert code == 0
    assert answer["permission"] == "SCR"
    chosen = dict(request, selected={"role": "st", "area": "/msu/c1/s1"})
    assert run("allowed", chosen, tmp_path)[1]["permission"] == ""
    cumulative_bre = dict(request, privilege="bre")
    assert run("allowed", cumulative_bre, tmp_path)[1]["permission"] == "RXL"
    smith_cst = dict(request, uid="smith", privilege="cst", area="/msu/c1")
    assert run("allowed", smith_cst, tmp_path)[1]["permission"] == "IK"
    at_course = dict(request, area="/msu/c1")
    answer = run("allowed", at_course, tmp_path)[1]
    assert answer["permission"] == ""
    assert any("ask at /msu/c1/s1" in line for line in answer["explanation"])


def test_allowed_with_context_adds_the_decision(tmp_path: Path) -> None:
    request = with_changes(
        users=[{"uid": "t", "domain": "msu", "auth": "internal"}],
        assignments=[{"uid": "t", "role": "ta", "area": "/msu/c1"}],
        uid="t",
        context={
            "course_preferences": {"deny_roles": {"vgr": ["ta"]}},
            "resource": {"allowed": True, "reason": "open"},
        },
    )
    code, answer = run("allowed", request, tmp_path)
    assert code == 0
    assert answer["permission"] == "CR"
    assert answer["decision"]["allowed"] is False
    assert any("deny vgr to Teaching Assistant (ta)" in r for r in answer["decision"]["reasons"])


def test_time_windows_in_requests(tmp_path: Path) -> None:
    request = with_changes(
        assignments=[
            {
                "uid": "smith",
                "role": "cc",
                "area": "/msu/c1",
                "start": "2001-07-01T00:00:00-04:00",
                "end": "2001-12-31T00:00:00-05:00",
            }
        ]
    )
    assert run("allowed", request, tmp_path)[1]["permission"] == "F"
    expired = dict(request, at="2001-12-31T05:00:00Z")
    assert run("allowed", expired, tmp_path)[1]["permission"] == ""
    just_before = dict(request, at="2001-12-31T04:59:59.999999Z")
    assert run("allowed", just_before, tmp_path)[1]["permission"] == "F"


# -- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "path", "words"),
    [
        ({"at": "2001-09-01T12:00:00"}, "$.at", "needs a timezone"),
        ({"at": None}, "$.at", ""),
        ({"area": "/msu"}, "$.area", "write /msu/"),
        ({"privilege": "vgx"}, "$.privilege", "'vgx' is not a privilege"),
        ({"uid": "ghost"}, "$.uid", "no user 'ghost'"),
        ({"selected": {"role": "cc", "area": "msu"}}, "$.selected.area", "does not start with '/'"),
        ({"colour": "red"}, "$.colour", "unknown field 'colour'"),
        (
            {"assignments": [{"uid": "smith", "role": "cc", "area": "/msu/c1/"}]},
            "$.assignments[0].area",
            "write /msu/c1",
        ),
        (
            {"assignments": [{"uid": "smith", "role": "st", "area": "/msu/"}]},
            "$.assignments[0].area",
            "held in a course or section",
        ),
        (
            {
                "assignments": [
                    {
                        "uid": "smith",
                        "role": "cc",
                        "area": "/msu/c1",
                        "start": "2002-01-01T00:00:00Z",
                        "end": "2001-01-01T00:00:00Z",
                    }
                ]
            },
            "$.assignments[0].end",
            "before the start",
        ),
        (
            {"users": [{"uid": "smith jones", "domain": "msu", "auth": "internal"}]},
            "$.users[0].uid",
            "not a valid user id",
        ),
        (
            {"users": [{"uid": "smith", "domain": "msu"}]},
            "$.users[0].auth",
            "this field is required",
        ),
        (
            {"users": [{"uid": "smith", "domain": "msu", "auth": "ldap"}]},
            "$.users[0].auth",
            "'internal', 'unix', 'kerberos' or 'external'",
        ),
        (
            {"custom_roles": [{"name": "h", "author": "smith", "domain": "msu", "course": "ere"}]},
            "$.custom_roles[0].course",
            "not in the custom-role template",
        ),
        (
            {
                "custom_roles": [
                    {"name": "h", "author": "smith", "domain": "msu", "course": "vgr&Q"}
                ]
            },
            "$.custom_roles[0].course",
            "unknown condition letter",
        ),
    ],
)
def test_bad_input_exits_2_with_json_paths(
    tmp_path: Path, changes: dict[str, Any], path: str, words: str
) -> None:
    code, answer = run("allowed", with_changes(**changes), tmp_path)
    assert code == 2
    errors = answer["errors"]
    assert any(e["path"] == path and words in e["message"] for e in errors), errors
    assert all(e["file"].endswith("request.json") for e in errors)


def test_not_json(tmp_path: Path) -> None:
    code, answer = run("allowed", "{not json", tmp_path)
    assert code == 2
    (error,) = answer["errors"]
    assert error["path"] == "$"
    assert error["message"].startswith("not valid JSON")
    code, answer = run("allowed", "[1, 2]", tmp_path)
    assert code == 2
    assert "must be a JSON object" in answer["errors"][0]["message"]


def test_missing_file() -> None:
    result = runner.invoke(app, ["allowed", "--request", "/nonexistent/request.json"])
    assert result.exit_code == 2
    (error,) = json.loads(result.stdout)["errors"]
    assert error == {
        "file": "/nonexistent/request.json",
        "path": "$",
        "message": "cannot read the request: No such file or directory",
    }


def test_stdin_errors_name_stdin() -> None:
    result = runner.invoke(app, ["allowed", "--request", "-"], input="{}")
    assert result.exit_code == 2
    errors = json.loads(result.stdout)["errors"]
    assert {e["file"] for e in errors} == {"<stdin>"}
    assert {e["path"] for e in errors} >= {"$.at", "$.uid", "$.privilege", "$.area"}


# -- assign ---------------------------------------------------------------------------------------

WORLD: dict[str, Any] = {
    "at": "2024-09-01T12:00:00Z",
    "users": [
        {"uid": "cora", "domain": "msu", "auth": "internal"},
        {"uid": "kim", "domain": "msu", "auth": "kerberos"},
        {"uid": "una", "domain": "msu", "auth": "unix"},
    ],
    "assignments": [{"uid": "cora", "role": "cc", "area": "/msu/c1"}],
    "courses": [{"area": "/msu/c1", "owner": "cora"}],
}


def test_assign_ok_and_refused(tmp_path: Path) -> None:
    grant = {"uid": "kim", "role": "st", "area": "/msu/c1/s1", "start": None, "end": None}
    code, answer = run("assign", dict(WORLD, actor="cora", grant=grant), tmp_path)
    assert code == 0
    assert answer["result"] == "ok"
    assert answer["reason"].startswith("granted Student (st) at /msu/c1/s1 to kim")
    code, answer = run("assign", dict(WORLD, actor="cora", grant=dict(grant, uid="una")), tmp_path)
    assert code == 0
    assert set(answer) == {"result", "reason"}
    assert answer["result"] == "refused"
    assert "the target user is UNIX authenticated" in answer["reason"]
    owner = dict(grant, role="cc", area="/msu/c1")
    assert run("assign", dict(WORLD, actor="cora", grant=owner), tmp_path)[1]["result"] == "ok"
    code, answer = run("assign", dict(WORLD, actor="kim", grant=owner), tmp_path)
    assert answer["result"] == "refused"
    assert "only the owner of /msu/c1" in answer["reason"]


def test_assign_bad_input(tmp_path: Path) -> None:
    grant = {"uid": "ghost", "role": "st", "area": "/msu/c1"}
    code, answer = run("assign", dict(WORLD, actor="nobody", grant=grant), tmp_path)
    assert code == 2
    paths = {e["path"] for e in answer["errors"]}
    assert paths == {"$.actor", "$.grant.uid"}


# -- define ---------------------------------------------------------------------------------------


def test_define_ok_and_refused(tmp_path: Path) -> None:
    role = {"name": "helproom", "author": "cora", "domain": "msu", "course": "bre&R:vgr&SCR"}
    code, answer = run("define", dict(WORLD, actor="cora", custom_role=role), tmp_path)
    assert (code, answer) == (0, {"result": "ok"})
    bad = dict(role, course="bre&R:mgr&SCRL")
    code, answer = run("define", dict(WORLD, actor="cora", custom_role=bad), tmp_path)
    assert code == 0
    assert answer["result"] == "refused"
    assert answer["refused"] == "c:mgr"
    assert "condition L" in answer["reason"]
    code, answer = run(
        "define", dict(WORLD, actor="kim", custom_role=dict(role, author="kim")), tmp_path
    )
    assert answer["refused"] == "mcr"


def test_define_bad_input(tmp_path: Path) -> None:
    role = {"name": "a/b", "author": "cora", "domain": "msu", "course": "bre&"}
    code, answer = run("define", dict(WORLD, actor="cora", custom_role=role), tmp_path)
    assert code == 2
    assert [e["path"] for e in answer["errors"]] == ["$.custom_role.course"]


# -- table ----------------------------------------------------------------------------------------


def test_table_in_plain_english() -> None:
    result = runner.invoke(app, ["table"])
    assert result.exit_code == 0
    text = result.stdout
    assert "Teaching Assistant (ta)" in text
    assert (
        "    vgr  View grades (according to course preferences, according to resource settings)"
        in text
    )
    assert (
        "    cst  Grant/revoke role of Student (Internally authenticated, Kerberos authenticated)"
        in text
    )
    for role in ("su", "dc", "cc", "in", "ta", "ep", "cr", "st", "ad", "li", "au", "ca", "dg"):
        assert f"({role})\n" in text


def test_table_as_json() -> None:
    result = runner.invoke(app, ["table", "--json"])
    roles = {r["role"]: r for r in json.loads(result.stdout)["roles"]}
    assert roles["st"]["levels"]["c"][0] == {
        "privilege": "bre",
        "name": "Browse resources",
        "permission": "RXL",
        "conditions": (
            "according to resource settings; according to user session state; unless locked"
        ),
    }


def test_table_extended_by_a_deployment_file(tmp_path: Path) -> None:
    roles_tab = tmp_path / "site.tab"
    roles_tab.write_text("gr:c vgr:xgr\n")
    plain = tmp_path / "siteplain.tab"
    plain.write_text("gr:Grader\nxgr:Export grades\n")
    result = runner.invoke(
        app, ["table", "--roles-tab", str(roles_tab), "--rolesplain-tab", str(plain)]
    )
    assert result.exit_code == 0
    assert "Grader (gr)" in result.stdout
    assert "xgr  Export grades" in result.stdout
    roles_tab.write_text("gr:c vgr&Q\n")
    result = runner.invoke(
        app, ["table", "--roles-tab", str(roles_tab), "--rolesplain-tab", str(plain)]
    )
    assert result.exit_code == 2
    (error,) = json.loads(result.stdout)["errors"]
    assert error["file"] == str(roles_tab)
    assert error["path"] == "line 1"
    assert "unknown condition letter" in error["message"]


def test_as_a_subprocess(tmp_path: Path) -> None:
    file = tmp_path / "request.json"
    file.write_text(json.dumps(ISSUE_EXAMPLE))
    # The public command: `coursegate roles allowed`, through the main entry point.
    completed = subprocess.run(
        [sys.executable, "-m", "coursegate.cli.main", "roles", "allowed", "--request", str(file)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["permission"] == "F"
    bad = subprocess.run(
        [sys.executable, "-m", "coursegate.cli.roles_cmd", "allowed", "--request", "-"],
        input='{"at": "yesterday"}',
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert bad.returncode == 2
    assert "$.at" in {e["path"] for e in json.loads(bad.stdout)["errors"]}
