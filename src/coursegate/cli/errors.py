"""How every ``coursegate`` command says what went wrong: one function, :func:`fail`.

One style for every command:

* **on a terminal** (standard output is a terminal and ``--json`` was not given): readable text on
  standard error, one block per problem — the file (or what it concerns: ``command line``, the
  database), the JSON path when there is one, and a sentence::

      ERROR   examples/requests/hw1.json  $.user.uid
              'uid' is missing

* **with ``--json``, or when standard output is not a terminal** (a script, a pipe): the public
  contract on standard output, ``{"errors": [{"file", "path", "message"}]}``.

Then the command exits with the status given (2 for bad input, 1 for a database that cannot be
used). Light on purpose: ``decide``, ``timeline`` and ``validate`` import it, and must not import
the store (``tests/test_cli_lazy.py``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Annotated, NoReturn

import typer
from typer._click.globals import get_current_context

from coursegate.courses.problems import Problem

JSON_PARAM = "as_json"
"""The name every command gives its ``--json`` option's parameter."""


ErrorsJsonOpt = Annotated[
    bool,
    typer.Option(
        "--json", help="Errors as JSON too, even on a terminal (the answer is always JSON)."
    ),
]
"""``--json`` of the commands whose answer is always JSON (``decide``, ``roles allowed`` ...):
it makes their errors JSON on a terminal too."""


def on_terminal() -> bool:
    """Whether standard output is a terminal (a person reads it)."""
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):  # replaced or closed
        return False


def json_asked() -> bool:
    """Whether the running command (or a group above it) was given ``--json``. (Typer runs the
    commands on its own copy of click, ``typer._click``: its context is the one to ask.)"""
    ctx = get_current_context(silent=True)
    while ctx is not None:
        if ctx.params.get(JSON_PARAM):
            return True
        ctx = ctx.parent
    return False


def wants_json() -> bool:
    """Errors as the JSON contract: asked for with ``--json``, or read by a program."""
    return json_asked() or not on_terminal()


def render_problem(p: Problem) -> str:
    """One problem as text: severity, file, JSON path (when it says more than ``$``), and the
    sentence on the next line (``coursegate validate`` prints its findings the same way)."""
    where = p.file if p.path in ("", "$") else f"{p.file}  {p.path}"
    return f"{p.severity.upper():7} {where}\n        {p.message}"


def fail(problems: Sequence[Problem], *, code: int = 2) -> NoReturn:
    """Print ``problems`` in the command's error style (see the module) and exit with ``code``."""
    if wants_json():
        print(json.dumps({"errors": [p.to_json() for p in problems]}, indent=2))
    else:
        typer.echo("\n".join(render_problem(p) for p in problems), err=True)
    raise typer.Exit(code)


def fail_one(file: str, message: str, *, path: str = "$", code: int = 2) -> NoReturn:
    """:func:`fail` with one problem."""
    fail([Problem(file, path, message)], code=code)


def settings_file() -> str:
    """What a settings error concerns: the configuration file (``COURSEGATE_CONFIG``) when there
    is one, else the environment variables."""
    import os

    config = os.environ.get("COURSEGATE_CONFIG")
    return config if config else "settings (the COURSEGATE_* environment variables)"
