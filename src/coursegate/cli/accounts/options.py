"""The options and arguments the ``coursegate accounts`` commands share: ``--at``,
``--dry-run``, ``--json``, ``--reason``, and the course, instance and account arguments."""

from __future__ import annotations

from typing import Annotated

import typer

AtOpt = Annotated[
    str | None,
    typer.Option(
        "--at", help="The instant to act at (ISO 8601; without an offset, UTC). Default: now."
    ),
]
DryOpt = Annotated[
    bool,
    typer.Option("--dry-run", help="Print exactly what would change; change nothing."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (for scripts).")]
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (kept in the history).")]
Course = Annotated[str, typer.Argument(help="The course's short name, e.g. 'CG 101'.")]
Instance = Annotated[str, typer.Argument(help="The course instance, e.g. Sp24.")]
AccountArg = Annotated[str, typer.Argument(help="The class account, e.g. sc558aa.")]
