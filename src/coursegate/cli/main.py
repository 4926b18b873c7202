"""Entry point of the `coursegate` command: registers every command group."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="coursegate",
    help="Decide, explain and enforce who may do what in a course, and when.",
    no_args_is_help=True,
    add_completion=False,
)


def _register() -> None:
    from coursegate.cli import access_cmds

    access_cmds.register(app)
    from coursegate.cli import server_cmds

    server_cmds.register(app)
    try:
        store_cmds = importlib.import_module("coursegate.cli.store_cmds")
    except ImportError:  # pragma: no cover - added by the store issue
        pass
    else:
        store_cmds.register(app)
    importlib.import_module("coursegate.cli.accounts.commands").register(app)
    from coursegate.cli.exam_networks_cmd import app as exam_networks_app

    app.add_typer(exam_networks_app, name="exam-networks")
    try:
        from coursegate.cli.roles_cmd import app as roles_app
    except ImportError:  # pragma: no cover - the roles package is added by its own issue
        return
    app.add_typer(roles_app, name="roles")


_register()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
