"""Entry point of the `coursegate` command.

Every command group is imported when one of its commands runs (or shows its own ``--help``),
not before: ``coursegate decide`` loads neither the store (SQLAlchemy) nor the server. The root's
``--help`` lists :data:`COMMANDS` — each command's module and the first paragraph of its help —
without importing any of them; ``tests/test_cli_lazy.py`` holds that table to the commands'
own help.
"""

from __future__ import annotations

import gc
import importlib
import sys
from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING, Any

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup, TyperOption

if TYPE_CHECKING:
    from typer import _click

COMMANDS: dict[str, tuple[str, str]] = {
    "decide": (
        "coursegate.cli.access_cmds",
        "Decide one request and print the decision as JSON.",
    ),
    "timeline": (
        "coursegate.cli.access_cmds",
        "Every interval of the user's decision: what changes, when, and why.",
    ),
    "validate": (
        "coursegate.cli.access_cmds",
        "Check every course file; print each error and warning with file, JSON path and why.",
    ),
    "convert": (
        "coursegate.cli.access_cmds",
        "Convert legacy allowAccess to modern accessControl and prove the result equivalent.",
    ),
    "schema": (
        "coursegate.cli.access_cmds",
        "Write JSON Schemas of the course files for editors (infoAssessment.json, ...).",
    ),
    "serve": (
        "coursegate.cli.server_cmds",
        "Run the HTTP server (API under /api/v1, OpenAPI at /api/openapi.json, the pages at /)."
        "\nSettings come from COURSEGATE_* environment variables and the optional config file;"
        " run\n`coursegate db upgrade` first.",
    ),
    "demo": (
        "coursegate.cli.server_cmds",
        "Set up the embedded database with the example course and demo users of every role,"
        "\nprint the address and the sign-ins, and start the server. The demo's clock starts in"
        " the\nexample term (Jan 24, 2024, 20:00 Chicago) and runs on from there.",
    ),
    "demo-timelines": (
        "coursegate.cli.server_cmds",
        "Print, for a few students, every assessment's timeline straight from the decision core"
        "\n(no database): when it opens, for what credit, time limits, passwords, what stays"
        "\nvisible.",
    ),
    "sync": (
        "coursegate.cli.store_cmds",
        "Load a course directory into the database, in one transaction.",
    ),
    "db": (
        "coursegate.cli.store_cmds",
        "The database's schema (Alembic migrations). The database is COURSEGATE_DATABASE_URL,"
        " else the SQLite file in COURSEGATE_DATA_DIR (default ./.coursegate).",
    ),
    "accounts": (
        "coursegate.cli.accounts.commands",
        "Class accounts: stems, assigning, the term-end lock and wipe, exports. The command "
        "line acts as the operator (the 'system' actor in the history).",
    ),
    "exam-networks": (
        "coursegate.cli.exam_networks_cmd",
        "Testing-centre networks: requests from these CIDR ranges (IPv4 or IPv6, optionally "
        "within a window) are in Exam mode, for one domain's users or site-wide.",
    ),
    "lti": (
        "coursegate.cli.lti_cmd",
        "LMS platforms (LTI 1.3): register one, add a deployment, list them, rotate the "
        "tool's signing key, print the URLs to paste into the LMS.",
    ),
    "roles": (
        "coursegate.cli.roles_cmd",
        "Roles and privileges: what a user may do where and when (allowed), granting roles "
        "(assign), custom roles (define) and the privilege table (table). Requests are JSON "
        "files (or - for standard input); answers are JSON on standard output.",
    ),
}
"""Every command of the root, in the order ``--help`` lists them: the module whose
``register(app)`` adds it, and the first paragraph of its help (what the list shows)."""

QUICK = frozenset({"decide", "timeline", "validate"})
"""Commands that read a few files, print and exit: run from :func:`main`, they run without the
cyclic garbage collector. Most of their time is importing (pydantic, the course-file models, the
core): objects that all live until the exit, which the collector would walk while importing and
once more on the way out, for nothing (about 7 % of a cold start, ~15 ms). Every other command
— the server, the store — runs with it as usual."""


_value_type = TyperOption.display_type_rich


def _flag_type(self: TyperOption, ctx: _click.Context) -> str | None:
    """A flag's help shows no value type: ``--dry-run``, not ``--dry-run <bool>`` (which reads
    as if it took ``true``/``false``). Every other option shows its type as Typer does."""
    return None if self.is_flag else _value_type(self, ctx)


TyperOption.display_type_rich = _flag_type  # type: ignore[method-assign]


def load_command(name: str) -> _click.Command:
    """The command ``name`` as its module registers it (that module imported now)."""
    module = importlib.import_module(COMMANDS[name][0])
    one = typer.Typer()
    module.register(one)
    one.registered_commands = [c for c in one.registered_commands if c.name == name]
    one.registered_groups = [g for g in one.registered_groups if g.name == name]
    return typer.main.get_group(one).commands[name]


class _LazyCommands(MutableMapping[str, "_click.Command"]):
    """The root's commands by name: all of :data:`COMMANDS` are there, each built on first use."""

    def __init__(self) -> None:
        self._built: dict[str, _click.Command] = {}

    def __getitem__(self, name: str) -> _click.Command:
        if name not in self._built:
            if name not in COMMANDS:
                raise KeyError(name)
            self._built[name] = load_command(name)
        return self._built[name]

    def __setitem__(self, name: str, command: _click.Command) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._built[name]

    def __iter__(self) -> Iterator[str]:
        yield from COMMANDS
        yield from (name for name in self._built if name not in COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS) + sum(1 for name in self._built if name not in COMMANDS)


class LazyGroup(TyperGroup):
    """The root group: looking a command up imports its module; the root's help lists the
    commands from :data:`COMMANDS` and imports none."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        lazy = _LazyCommands()
        for name, command in self.commands.items():
            lazy[name] = command
        self.commands = lazy
        self._listing = False

    def list_commands(self, ctx: _click.Context) -> list[str]:
        return list(self.commands)  # the names only: TyperGroup's own walks the commands

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:
        if self._listing and cmd_name in COMMANDS:
            return TyperCommand(cmd_name, help=COMMANDS[cmd_name][1])
        return super().get_command(ctx, cmd_name)

    def format_help(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    name="coursegate",
    help="Decide, explain and enforce who may do what in a course, and when.",
    no_args_is_help=True,
    add_completion=False,
    cls=LazyGroup,
)


@app.callback()
def _root() -> None:
    # Typer builds a group (rather than a lone command) only for an app with a callback or
    # registered commands; the commands are in COMMANDS, so the root has this empty callback.
    pass


def main() -> None:
    quick = sys.argv[1:2] != [] and sys.argv[1] in QUICK
    if quick:
        gc.disable()  # for the rest of this short process (see QUICK)
    try:
        app()
    finally:
        if quick:
            gc.freeze()  # nor does the interpreter's last collection, on the way out, walk them


if __name__ == "__main__":
    main()
