"""What every ``coursegate accounts`` command stands on: the operator's environment (the site
settings and the database, one transaction per command, queued mail delivered after it), and how
results and failures are printed."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from coursegate.cli.errors import fail, settings_file
from coursegate.courses.problems import Problem

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from coursegate.services.accounts.site import Site
    from coursegate.services.common.context import Ctx


T = TypeVar("T")


class AccountsEnv:
    """One command's environment: the site settings, the database, the instant it acts at."""

    def __init__(self, at: str | None) -> None:
        from coursegate.cli.store_cmds import _at
        from coursegate.http.settings import Settings
        from coursegate.services.accounts.site import Site
        from coursegate.store.db import make_engine, session_factory

        try:
            settings = Settings.load()
            self.site: Site = Site.from_settings(settings)
        except (ValueError, OSError, ImportError, AttributeError) as error:
            fail([Problem(settings_file(), "$", str(error))])
        self.at = _at(at)
        self.engine = make_engine(settings.database_url)
        self.factory: sessionmaker[Session] = session_factory(self.engine)

    def ready(self, dry_run: bool) -> None:
        """Bring the schema up to date (a dry run only checks it)."""
        from coursegate.store.migrate import current, head, upgrade

        try:
            if dry_run:
                rev, latest = current(self.engine), head()
                if rev != latest:
                    fail(
                        [
                            Problem(
                                self.shown,
                                "$",
                                f"the database schema is at {rev or 'nothing'}, not {latest}: "
                                "run `coursegate db upgrade` first (a dry run changes nothing)",
                            )
                        ]
                    )
            else:
                upgrade(self.engine)
        except Exception as error:
            self.database_failure(error)

    @property
    def shown(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def database_failure(self, error: Exception) -> NoReturn:
        from sqlalchemy.exc import SQLAlchemyError

        if not isinstance(error, SQLAlchemyError):
            raise error
        orig = getattr(error, "orig", None) or error
        message = f"cannot use the database: {str(orig).strip().splitlines()[0]}"
        fail([Problem(self.shown, "$", message)], code=1)

    def run(self, fn: Callable[[Ctx], T], *, dry_run: bool) -> T:
        """``fn`` in one transaction as the operator: committed, or rolled back for a dry run
        (and on any error)."""
        from sqlalchemy.exc import SQLAlchemyError

        from coursegate.services.common.context import SYSTEM, Ctx

        self.ready(dry_run)
        try:
            with self.factory() as session:
                result = fn(Ctx(session, SYSTEM, self.at))
                if dry_run:
                    session.rollback()
                else:
                    session.commit()
                return result
        except SQLAlchemyError as error:
            self.database_failure(error)
        except Exception as error:
            _service_failure(error)

    def deliver(self, dry_run: bool) -> str:
        """Deliver the queued mail (after a commit); a line saying where it went."""
        if dry_run:
            return ""
        from coursegate.services.accounts.mail import deliver_pending

        done = deliver_pending(self.factory, self.site, at=self.at)
        if not done.sent and not done.failed:
            return ""
        line = f"mail: {len(done.sent)} message(s) delivered to {done.transport}"
        if done.failed:
            line += f"; {len(done.failed)} failed (kept, retried by run-schedule): " + "; ".join(
                done.failed
            )
        return line

    def close(self) -> None:
        self.engine.dispose()


def _service_failure(error: Exception) -> NoReturn:
    from coursegate.services.common.errors import EveryProblem, ServiceError

    if isinstance(error, EveryProblem):
        fail([Problem("command line", error.field or "$", p.render()) for p in error.problems])
    if isinstance(error, ServiceError):
        fail([Problem("command line", error.field or "$", error.message)])
    raise error


def emit(as_json: bool, data: Any, text: str, dry_run: bool = False) -> None:
    if as_json:
        if isinstance(data, dict):
            data = {**data, "dry_run": dry_run}
        print(json.dumps(data, indent=2))
    else:
        if dry_run:
            text = "dry run: nothing was changed; this is what would change\n" + text
        print(text)


def find_ci_id(ctx: Ctx, course: str, instance: str) -> int:
    from coursegate.services.common.places import find_course_instance

    return find_course_instance(ctx, course, instance).id


def read_input(source: str, what: str) -> str:
    if source == "-":
        return sys.stdin.read()
    try:
        return Path(source).read_text(encoding="utf-8")
    except OSError as error:
        fail([Problem(source, "$", f"cannot read the {what}: {error.strerror}")])
