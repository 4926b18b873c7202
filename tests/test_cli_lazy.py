"""The command line imports a command group only when one of its commands runs (issue 16):
``decide``, ``timeline`` and ``validate`` start without the store or the server, and the lazy
root says and does exactly what the root with every group registered up front did."""

from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
import typer.main
from typer.testing import CliRunner

from coursegate.cli.main import COMMANDS, QUICK, app, load_command

ROOT = Path(__file__).resolve().parents[1]
REQUEST = str(ROOT / "examples" / "requests" / "exam1-start.json")
COURSE = str(ROOT / "examples" / "course")
HEAVY = ("sqlalchemy", "alembic", "fastapi", "starlette", "uvicorn", "argon2", "jinja2")

PROBE = """
import contextlib, gc, io, json, sys
from coursegate.cli.main import main
sys.argv = ["coursegate", *sys.argv[1:]]
code = 0
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main()
    except SystemExit as exc:
        code = exc.code
tops = sorted({name.split(".")[0] for name in sys.modules})
groups = sorted(name for name in sys.modules if name.startswith("coursegate.cli."))
print(json.dumps({"code": code, "tops": tops, "groups": groups, "gc": gc.isenabled()}))
"""


def _probe(*args: str) -> dict[str, object]:
    """Run the command in a fresh interpreter; its exit code and what it imported."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    out: dict[str, object] = json.loads(proc.stdout.splitlines()[-1])
    return out


@pytest.mark.parametrize(
    "args",
    [
        ["decide", "--request", REQUEST],
        ["timeline", "--request", REQUEST, "--json"],
        ["validate", COURSE],
    ],
    ids=["decide", "timeline", "validate"],
)
def test_access_commands_leave_out_the_store_and_the_server(args: list[str]) -> None:
    seen = _probe(*args)
    assert seen["code"] == 0
    tops = seen["tops"]
    assert isinstance(tops, list)
    assert [name for name in (*HEAVY, "rich") if name in tops] == []
    assert seen["groups"] == [  # and the one error style, as light as they are
        "coursegate.cli.access_cmds",
        "coursegate.cli.errors",
        "coursegate.cli.main",
    ]
    assert seen["gc"] is False  # a quick command: no cycle collection until it exits


def test_the_root_help_imports_no_command_group_and_no_models() -> None:
    seen = _probe("--help")
    assert seen["code"] == 0
    assert seen["groups"] == ["coursegate.cli.main"]
    assert seen["gc"] is True
    tops = seen["tops"]
    assert isinstance(tops, list)
    assert [name for name in (*HEAVY, "pydantic") if name in tops] == []


def test_the_package_imports_its_entry_points_on_first_use() -> None:
    code = (
        "import sys, coursegate; before = 'pydantic' in sys.modules; "
        "from coursegate import decide, score, Decision, CourseError; "
        "print(before, decide.__module__, score.__module__, 'decide' in dir(coursegate))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert proc.stdout.split() == [
        "False",
        "coursegate.services.access.decisions.request",
        "coursegate.core.credit",
        "True",
    ]
    with pytest.raises(AttributeError, match="no attribute 'nosuch'"):
        importlib.import_module("coursegate").nosuch  # noqa: B018


def _modules() -> list[str]:
    return list(dict.fromkeys(module for module, _ in COMMANDS.values()))


def test_the_table_lists_what_each_module_registers() -> None:
    assert COMMANDS.keys() >= QUICK
    for module in _modules():
        one = typer.Typer()
        importlib.import_module(module).register(one)
        names = [c.name for c in one.registered_commands] + [g.name for g in one.registered_groups]
        assert names == [name for name, (mod, _) in COMMANDS.items() if mod == module]


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_table_shows_each_commands_own_help(name: str) -> None:
    command = load_command(name)
    assert command.name == name
    assert command.help is not None and command.short_help is None
    assert not command.hidden and not command.deprecated
    assert inspect.cleandoc(command.help).split("\n\n")[0] == COMMANDS[name][1]


def _eager() -> typer.Typer:
    """The root as it was: every command group registered up front."""
    eager = typer.Typer(
        name="coursegate",
        help="Decide, explain and enforce who may do what in a course, and when.",
        no_args_is_help=True,
        add_completion=False,
    )
    for module in _modules():
        importlib.import_module(module).register(eager)
    return eager


@pytest.mark.parametrize(
    "args",
    [["--help"], [], ["decid"], ["accounts"], ["db", "--help"], ["decide", "--bogus"]],
    ids=["help", "no-args", "typo", "group", "group-help", "bad-option"],
)
def test_the_lazy_root_answers_as_the_eager_one(args: list[str]) -> None:
    runner = CliRunner()
    lazy, eager = runner.invoke(app, args), runner.invoke(_eager(), args)
    assert (lazy.exit_code, lazy.stdout, lazy.stderr) == (
        eager.exit_code,
        eager.stdout,
        eager.stderr,
    )
    assert lazy.output


def test_the_lazy_root_knows_every_command_and_no_other() -> None:
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    ctx = typer.Context(group)
    assert group.list_commands(ctx) == list(group.commands) == list(COMMANDS)
    assert group.get_command(ctx, "nosuch") is None
    decide = group.get_command(ctx, "decide")
    assert decide is not None and decide is group.get_command(ctx, "decide")
