"""Commands about the store: ``sync`` and ``db upgrade|current|uid-clashes``.

Thin: open the database (``COURSEGATE_DATABASE_URL``, else the SQLite file under
``COURSEGATE_DATA_DIR``), call :mod:`coursegate.services.courses.sync` /
:mod:`coursegate.store.migrate`, print. The command line acts as the operator: the ``system``
actor, recorded as such in the history. Bad course files exit with status 2 and print ``{"errors":
[{"file", "path", "message"}]}`` (on a terminal without ``--json``: the same as text, see
:mod:`coursegate.cli.errors`), like ``decide``; a database that cannot be used exits with status
1 in the same style.
"""

from __future__ import annotations

import inspect
import json
import time
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError

from coursegate.cli.errors import fail
from coursegate.core.instants import MICROS, DateError, Instant, parse_date, zone
from coursegate.courses.problems import CourseError, Problem
from coursegate.services.common.errors import ServiceError

OPERATOR = (
    "The command line acts as the operator (the system actor): every change is recorded in the"
    " history as done by 'system'."
)


def _shown(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _database_failure(engine: Engine, exc: Exception) -> NoReturn:
    if isinstance(exc, IntegrityError | StaleDataError):
        message = (
            "someone else changed the same rows at the same time and committed first; nothing"
            " was written: run the command again"
        )
    else:
        orig = getattr(exc, "orig", None) or exc
        message = f"cannot use the database: {str(orig).strip().splitlines()[0]}"
    fail([Problem(_shown(engine), "$", message)], code=1)


def _engine() -> Engine:
    from coursegate.store.db import make_engine

    return make_engine()


def _at(text: str | None) -> Instant:
    if text is None:
        return int(time.time() * MICROS)
    try:
        return parse_date(text, zone("UTC"))[0]
    except DateError as exc:
        fail([Problem("command line", "--at", str(exc))])


def sync_cmd(
    course_dir: Annotated[
        Path,
        typer.Argument(help="The course directory (with infoCourse.json).", show_default=False),
    ],
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Print what would change and whose decisions, then write nothing."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="The instant recorded for the changes (ISO 8601; without an offset, UTC)."
            " Default: now.",
        ),
    ] = None,
) -> None:
    """Load a course directory into the database, in one transaction.

    Every file is validated first; nothing is written unless all are valid. Assessments
    removed from the files are retired, never deleted. Running it twice changes nothing the
    second time. Prints what changed and whose decisions change because of it. The database
    schema is brought up to date first (not by --dry-run, which changes nothing at all).
    """
    from coursegate.services.courses.sync import run_sync
    from coursegate.store.db import session_factory
    from coursegate.store.migrate import current, head, upgrade

    instant = _at(at)
    engine = _engine()
    try:
        if dry_run:
            rev, latest = current(engine), head()
            if rev != latest:
                fail(
                    [
                        Problem(
                            _shown(engine),
                            "$",
                            (
                                "the database has no schema yet"
                                if rev is None
                                else f"the database schema is at revision {rev}, not {latest}"
                            )
                            + ": run `coursegate db upgrade` first (a dry run changes nothing,"
                            " not even the schema)",
                        )
                    ]
                )
        else:
            upgrade(engine)
        report = run_sync(session_factory(engine), course_dir, at=instant, dry_run=dry_run)
    except CourseError as exc:
        fail(exc.problems)
    except ServiceError as exc:
        fail([Problem(str(course_dir), exc.field or "$", exc.message)])
    except SQLAlchemyError as exc:
        _database_failure(engine, exc)
    finally:
        engine.dispose()
    if as_json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(report.render())


db_app = typer.Typer(
    name="db",
    help="The database's schema (Alembic migrations). The database is COURSEGATE_DATABASE_URL,"
    " else the SQLite file in COURSEGATE_DATA_DIR (default ./.coursegate).",
    no_args_is_help=True,
    add_completion=False,
)


@db_app.command("upgrade")
def db_upgrade_cmd() -> None:
    """Bring the database's schema up to date (creating it in an empty database)."""
    from coursegate.store.migrate import current, upgrade

    engine = _engine()
    try:
        upgrade(engine)
        rev = current(engine)
    except SQLAlchemyError as exc:
        _database_failure(engine, exc)
    finally:
        engine.dispose()
    print(f"{_shown(engine)}: schema at revision {rev} (up to date)")
    _print_uid_clashes(engine, hint=True)


def _print_uid_clashes(engine: Engine, *, hint: bool = False) -> int:
    """Print the user-id clashes (see :mod:`coursegate.store.canonical_uids`); how many."""
    from coursegate.store.canonical_uids import uid_clashes

    try:
        with engine.connect() as conn:
            clashes = uid_clashes(conn)
    except SQLAlchemyError as exc:
        _database_failure(engine, exc)
    finally:
        engine.dispose()
    if hint and clashes:
        print(
            f"{len(clashes)} user-id clash(es) left as they were: see `coursegate db uid-clashes`"
        )
    elif not hint:
        for clash in clashes:
            print(clash.sentence())
    return len(clashes)


@db_app.command("uid-clashes")
def db_uid_clashes_cmd() -> None:
    """List the users whose user ids are one email-shaped id but for upper/lower case (such as
    Ana@example.edu and ana@example.edu). Migration 0008 lower-cased every other email-shaped
    user id and left these untouched, merging nothing. Exits with status 1 while any remain."""
    engine = _engine()
    found = _print_uid_clashes(engine)
    if found:
        raise typer.Exit(1)
    print(f"{_shown(engine)}: no user-id clashes")


@db_app.command("current")
def db_current_cmd() -> None:
    """Print the database's schema revision, and whether it is up to date."""
    from coursegate.store.migrate import current, head

    engine = _engine()
    try:
        rev = current(engine)
    except SQLAlchemyError as exc:
        _database_failure(engine, exc)
    finally:
        engine.dispose()
    latest = head()
    if rev is None:
        print(f"{_shown(engine)}: no schema yet (run `coursegate db upgrade`; latest is {latest})")
    elif rev == latest:
        print(f"{_shown(engine)}: schema at revision {rev} (up to date)")
    else:
        print(f"{_shown(engine)}: schema at revision {rev}; latest is {latest}")


def _paragraphs(doc: str | None) -> str:
    """A docstring as help text: each paragraph on one line (the terminal wraps it)."""
    paras = inspect.cleandoc(doc or "").split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paras)


def register(app: typer.Typer) -> None:
    app.command("sync", help=_paragraphs(sync_cmd.__doc__) + "\n\n" + OPERATOR)(sync_cmd)
    app.add_typer(db_app, name="db")
