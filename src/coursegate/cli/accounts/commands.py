"""``coursegate accounts ...``: class accounts on the command line.

Thin: open the database (``COURSEGATE_DATABASE_URL``, else the SQLite file under
``COURSEGATE_DATA_DIR``) and the site settings (``COURSEGATE_HOME_ROOT``,
``COURSEGATE_MAIL_DOMAIN``, ``COURSEGATE_SMTP_URL``, ``COURSEGATE_DATA_DIR``, or the
``[server]`` table of ``COURSEGATE_CONFIG``), call :mod:`coursegate.services.accounts`, print. The
command line acts as the operator (the ``system`` actor, recorded as such in the history).

Every command takes ``--at`` (the instant it acts at; default now), ``--dry-run`` (prints exactly
what would change and changes nothing: the work is done in a transaction that is rolled back, no
mail is delivered and no file deleted) and ``--json``. Bad input, or a refusal, exits with
status 2 and prints ``{"errors": [{"file", "path", "message"}]}``; a wipe left unfinished exits
with status 1 (run the command or ``run-schedule`` again to finish it).
"""

from __future__ import annotations

from collections.abc import Callable

import typer

from coursegate.cli.accounts import actions as accounts_actions_cmds
from coursegate.cli.accounts import export as accounts_export_cmds
from coursegate.cli.accounts import outbox as accounts_outbox_cmds
from coursegate.cli.accounts import pool as accounts_pool_cmds
from coursegate.cli.accounts import term as accounts_term_cmds
from coursegate.cli.accounts import wipe as accounts_wipe_cmds

app = typer.Typer(
    name="accounts",
    help="Class accounts: stems, assigning, the term-end lock and wipe, exports. The command "
    "line acts as the operator (the 'system' actor in the history).",
    no_args_is_help=True,
    add_completion=False,
)

COMMANDS: list[tuple[str, Callable[..., None]]] = [
    ("stem", accounts_pool_cmds.stem_cmd),
    ("generate", accounts_pool_cmds.generate_cmd),
    ("assign", accounts_pool_cmds.assign_cmd),
    ("list", accounts_pool_cmds.list_cmd),
    ("lock", accounts_term_cmds.lock_cmd),
    ("unlock", accounts_term_cmds.unlock_cmd),
    ("incomplete", accounts_term_cmds.incomplete_cmd),
    ("end-date", accounts_term_cmds.end_date_cmd),
    ("wipe", accounts_wipe_cmds.wipe_cmd),
    ("recycle", accounts_wipe_cmds.recycle_cmd),
    ("freeze", accounts_actions_cmds.freeze_cmd),
    ("thaw", accounts_actions_cmds.thaw_cmd),
    ("reset-password", accounts_actions_cmds.reset_password_cmd),
    ("reset-keys", accounts_actions_cmds.reset_keys_cmd),
    ("resend", accounts_actions_cmds.resend_cmd),
    ("email", accounts_actions_cmds.email_cmd),
    ("run-schedule", accounts_term_cmds.run_schedule_cmd),
    ("report", accounts_export_cmds.report_cmd),
    ("export-sudoers", accounts_export_cmds.export_sudoers_cmd),
    ("export-authorized-keys", accounts_export_cmds.export_keys_cmd),
    ("add-key", accounts_export_cmds.add_key_cmd),
    ("outbox", accounts_outbox_cmds.outbox_cmd),
]
"""Every command of the group and the function running it, in the order ``--help`` lists them."""


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="accounts")


__all__ = ["COMMANDS", "app", "register"]


def _add_commands() -> None:
    """Each command under its name, its docstring as help text with paragraphs on one line (the
    terminal wraps)."""
    from coursegate.cli.store_cmds import _paragraphs

    for name, callback in COMMANDS:
        app.command(name)(callback)
    for info in app.registered_commands:
        if info.callback is not None and info.help is None:
            info.help = _paragraphs(info.callback.__doc__)


_add_commands()
