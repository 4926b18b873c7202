"""``coursegate accounts ...``: class accounts on the command line.

Thin: open the database (``COURSEGATE_DATABASE_URL``, else the SQLite file under
``COURSEGATE_DATA_DIR``) and the site settings (``COURSEGATE_HOME_ROOT``,
``COURSEGATE_MAIL_DOMAIN``, ``COURSEGATE_SMTP_URL``, ``COURSEGATE_DATA_DIR``, or the
``[server]`` table of ``COURSEGATE_CONFIG``), call :mod:`coursegate.accounts`, print. The command
line acts as the operator (the ``system`` actor, recorded as such in the history).

Every command takes ``--at`` (the instant it acts at; default now), ``--dry-run`` (prints exactly
what would change and changes nothing: the work is done in a transaction that is rolled back, no
mail is delivered and no file deleted) and ``--json``. Bad input, or a refusal, exits with
status 2 and prints ``{"errors": [{"file", "path", "message"}]}``; a wipe left unfinished exits
with status 1 (run the command or ``run-schedule`` again to finish it).
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

from coursegate.cli.access_cmds import fail
from coursegate.courses.problems import Problem

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from coursegate.accounts.site import Site
    from coursegate.services.context import Ctx

T = TypeVar("T")

app = typer.Typer(
    name="accounts",
    help="Class accounts: stems, assigning, the term-end lock and wipe, exports. The command "
    "line acts as the operator (the 'system' actor in the history).",
    no_args_is_help=True,
    add_completion=False,
)

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


# -- plumbing ---------------------------------------------------------------------------------


class _Env:
    def __init__(self, at: str | None) -> None:
        from coursegate.accounts.site import Site
        from coursegate.api.settings import Settings
        from coursegate.cli.store_cmds import _at
        from coursegate.store.db import make_engine, session_factory

        try:
            settings = Settings.load()
            self.site: Site = Site.from_settings(settings)
        except (ValueError, OSError, ImportError, AttributeError) as error:
            fail([Problem("settings", "$", str(error))])
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
        print(json.dumps({"errors": [{"file": self.shown, "path": "$", "message": message}]}))
        raise typer.Exit(1)

    def run(self, fn: Callable[[Ctx], T], *, dry_run: bool) -> T:
        """``fn`` in one transaction as the operator: committed, or rolled back for a dry run
        (and on any error)."""
        from sqlalchemy.exc import SQLAlchemyError

        from coursegate.services.context import SYSTEM, Ctx

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
        from coursegate.accounts.mail import deliver_pending

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
    from coursegate.services.errors import EveryProblem, ServiceError

    if isinstance(error, EveryProblem):
        fail([Problem("command line", error.field or "$", p.render()) for p in error.problems])
    if isinstance(error, ServiceError):
        fail([Problem("command line", error.field or "$", error.message)])
    raise error


def _emit(as_json: bool, data: Any, text: str, dry_run: bool = False) -> None:
    if as_json:
        if isinstance(data, dict):
            data = {**data, "dry_run": dry_run}
        print(json.dumps(data, indent=2))
    else:
        if dry_run:
            text = "dry run: nothing was changed; this is what would change\n" + text
        print(text)


def _ci_id(ctx: Ctx, course: str, instance: str) -> int:
    from coursegate.services.course_instances import find_course_instance

    return find_course_instance(ctx, course, instance).id


def _read(source: str, what: str) -> str:
    if source == "-":
        return sys.stdin.read()
    try:
        return Path(source).read_text(encoding="utf-8")
    except OSError as error:
        fail([Problem(source, "$", f"cannot read the {what}: {error.strerror}")])


# -- stems and generating ---------------------------------------------------------------------


@app.command("stem")
def stem_cmd(
    course: Annotated[
        str | None, typer.Argument(help="The course (omit: list every stem).")
    ] = None,
    stem: Annotated[str | None, typer.Argument(help="The stem to give it, e.g. sc558.")] = None,
    reason: ReasonOpt = "",
    at: AtOpt = None,
    dry_run: DryOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Give a course its account stem (administrators), or list stems. Stems are unique and never
    reused; a course may get another stem when it needs more than 676 accounts."""
    from coursegate.accounts import service

    env = _Env(at)
    try:
        if course is not None and stem is not None:
            info = env.run(
                lambda ctx: service.set_stem(ctx, course, stem, reason=reason), dry_run=dry_run
            )
            _emit(
                as_json,
                info.to_json(),
                f"stem {info.stem} of {info.course}\n{info.render()}",
                dry_run,
            )
            return
        infos = env.run(lambda ctx: service.list_stems(ctx, course), dry_run=True)
        _emit(
            as_json,
            [i.to_json() for i in infos],
            "\n".join(i.render() for i in infos) or "no stems yet",
        )
    finally:
        env.close()


@app.command("generate")
def generate_cmd(
    course: Course,
    count: Annotated[int, typer.Option("--count", "-n", help="How many accounts.")],
    at: AtOpt = None,
    dry_run: DryOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Generate accounts ahead (administrators), in order (aa, ab, ...), in the state of a wiped
    account: free, locked, no usable password, placeholder address."""
    from coursegate.accounts import service

    env = _Env(at)
    try:
        issuer = env.site.issuer(dry_run=dry_run)
        report = env.run(lambda ctx: service.generate(ctx, issuer, course, count), dry_run=dry_run)
        _emit(as_json, report.to_json(), report.render(), dry_run)
    finally:
        env.close()


# -- assigning and listing --------------------------------------------------------------------


@app.command("assign")
def assign_cmd(
    course: Course,
    instance: Instance,
    emails: Annotated[
        str | None,
        typer.Option(
            "--emails",
            help="A file (or - for standard input) with one address a line: 'address', "
            "'address, Full Name' or 'Full Name <address>'.",
        ),
    ] = None,
    csv_file: Annotated[
        str | None,
        typer.Option("--csv", help="A CSV file with a header: email[,name]."),
    ] = None,
    role: Annotated[str, typer.Option("--role", help="st (students) or ta (TAs).")] = "st",
    reason: ReasonOpt = "",
    at: AtOpt = None,
    dry_run: DryOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Give each address a class account of the course instance, with a password, SSH keys, a
    client certificate, the forwarding alias and the Student (or TA) role; mail the credentials
    (SMTP, or the outbox). Addresses that already hold an account of the course are reported,
    not given a second one. More accounts are generated when the pool is short."""
    from coursegate.accounts import service

    if (emails is None) == (csv_file is None):
        fail([Problem("command line", "--emails/--csv", "give exactly one of --emails or --csv")])
    text = _read(emails or csv_file or "-", "list of addresses")
    env = _Env(at)
    try:
        issuer = env.site.issuer(dry_run=dry_run)

        def go(ctx: Ctx) -> service.AssignReport:
            entries = service.parse_list(text, csv=csv_file is not None)
            ci_id = _ci_id(ctx, course, instance)
            return service.assign(ctx, env.site, issuer, ci_id, entries, role=role, reason=reason)

        report = env.run(go, dry_run=dry_run)
        delivered = env.deliver(dry_run)
        _emit(
            as_json,
            report.to_json(),
            report.render() + (f"\n{delivered}" if delivered else ""),
            dry_run,
        )
    finally:
        env.close()


@app.command("list")
def list_cmd(
    course: Course,
    instance: Annotated[
        str | None, typer.Argument(help="The course instance (omit: every account of the course).")
    ] = None,
    at: AtOpt = None,
    dry_run: DryOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """The class accounts of a course instance, or every account of the course's stems."""
    from coursegate.accounts import service

    env = _Env(at)
    try:

        def go(ctx: Ctx) -> list[service.AccountLine]:
            ci_id = _ci_id(ctx, course, instance) if instance is not None else None
            return service.list_accounts(ctx, env.site, course, ci_id)

        lines = env.run(go, dry_run=True)
        _emit(
            as_json,
            [line.to_json() for line in lines],
            "\n".join(line.render() for line in lines) or "no class accounts",
        )
    finally:
        env.close()


# -- locking, incompletes, the end date -------------------------------------------------------


def _lock(
    course: str,
    instance: str,
    accounts: list[str] | None,
    unlock: bool,
    reason: str,
    at: str | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    from coursegate.accounts import service

    env = _Env(at)
    try:
        done = env.run(
            lambda ctx: service.lock_accounts(
                ctx, _ci_id(ctx, course, instance), accounts or None, unlock=unlock, reason=reason
            ),
            dry_run=dry_run,
        )
        _emit(
            as_json,
            [d.to_json() for d in done],
            "\n".join(d.message for d in done) or "no student accounts",
            dry_run,
        )
    finally:
        env.close()


@app.command("lock")
def lock_cmd(
    course: Course,
    instance: Instance,
    accounts: Annotated[
        list[str] | None, typer.Argument(help="Accounts (omit: every student's).")
    ] = None,
    reason: ReasonOpt = "",
    at: AtOpt = None,
    dry_run: DryOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Lock accounts now (no sign-in; sessions and tokens end). The schedule locks every student
    account on the end date by itself."""
    _lock(course, instance, accounts, False, reason, at, dry_run, as_json)


@app.command("unlock")
def unlock_cmd(
    course: Course,
    instance: Instance,
    accounts: Annotated[
        list[str] | None, typer.Argument(help="Accounts (omit: every student's).")
    ] = None,
    reason: ReasonOpt = "",
    at: AtOpt = None,
    dry_run: DryOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Unlock accounts locked by hand or by the schedule (after the end date the schedule locks
    them again: move the end date or grant incompletes instead)."""
    _lock(course, instance, accounts, True, reason, at, dry_run, as_json)


@app.command("incomplete")
def incomplete_cmd(
    course: Course,
    instance: Instance,
    account: AccountArg,
    withdraw: Annotated[bool, typer.Option("--withdraw", help="Withdraw the incomplete.")] = False,
    reason: ReasonOpt = "",
    at: AtOpt = None,
    dry_run: DryOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Grant a student an incomplete: their account is not locked at the end of the term (or is
    unlocked) and never wiped while it stands."""
    from coursegate.accounts import service

    env = _Env(at)
    try:
        done = env.run(
            lambda ctx: service.set_incomplete(
                ctx,
                account,
                granted=not withdraw,
                course_instance_id=_ci_id(ctx, course, instance),
                reason=reason,
            ),
            dry_run=dry_run,
        )
        _emit(as_json, done.to_json(), done.message, dry_run)
    finally:
        env.close()


@app.command("end-date")
def end_date_cmd(
    course: Course,
    instance: Instance,
    date: Annotated[
        str | None,
        typer.Argument(
            help="The new end date (ISO 8601; without an offset, wall time in the course "
            "instance's zone). Omit to show the schedule."
        ),
    ] = None,
    clear: Annotated[
        bool, typer.Option("--clear", help="Use the course files' publishing end again.")
    ] = False,
    reason: ReasonOpt = "",
    at: AtOpt = None,
    dry_run: DryOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Show where the course instance stands in the term-end schedule, or move its end date
    (moving it later postpones the lock, the reminder and the wipe)."""
    from coursegate.accounts import service
    from coursegate.core.instants import DateError, parse_date, zone
    from coursegate.services.errors import Invalid

    env = _Env(at)
    try:

        def go(ctx: Ctx) -> service.TermView:
            ci_id = _ci_id(ctx, course, instance)
            if date is None and not clear:
                return service.term_view(ctx, ci_id)
            end = None
            if date is not None:
                from coursegate.services.course_instances import course_instance_by_id

                tz = zone(course_instance_by_id(ctx, ci_id).timezone)
                try:
                    end = parse_date(date, tz)[0]
                except DateError as error:
                    raise Invalid(f"date: {error}", "date") from None
            return service.set_end_date(ctx, ci_id, end, reason=reason)

        view = env.run(go, dry_run=dry_run or (date is None and not clear))
        _emit(as_json, view.to_json(), view.render(), dry_run)
    finally:
        env.close()


# -- wiping -----------------------------------------------------------------------------------


def _wipe(env: _Env, request: Callable[[Ctx], Any], dry_run: bool, as_json: bool) -> None:
    from coursegate.accounts import wipe

    if dry_run:

        def plan(ctx: Ctx) -> tuple[Any, list[str]]:
            req = request(ctx)
            return req, wipe.plan(ctx, env.site, req)

        req, lines = env.run(plan, dry_run=True)
        _emit(as_json, {**req.to_json(), "plan": lines}, "\n".join([req.render(), *lines]), True)
        return
    req = env.run(request, dry_run=False)
    try:
        run = wipe.run_wipes(
            env.factory, env.site, at=env.at, actor="system", wipe_ids=req.wipe_ids
        )
    except Exception as error:
        env.database_failure(error)
    _emit(
        as_json,
        {**req.to_json(), "run": run.to_json()},
        "\n".join(part for part in (req.render(), run.render()) if part),
    )
    if not run.ok:
        raise typer.Exit(1)


@app.command("wipe")
def wipe_cmd(
    course: Course,
    instance: Instance,
    accounts: Annotated[list[str] | None, typer.Argument(help="Accounts to wipe.")] = None,
    whole_class: Annotated[
        bool, typer.Option("--all", help="Every student account (incompletes and TAs are kept).")
    ] = False,
    reason: ReasonOpt = "",
    at: AtOpt = None,
    dry_run: DryOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Wipe accounts (or the whole class) and return them to the pool: sessions and tokens
    ended, open assessments closed, roles and enrollments ended (history kept), home files
    deleted, password randomised, keys and certificates regenerated, aliases removed, the
    placeholder address restored, site hooks run. Resumable: a wipe killed part-way is finished
    by the next run."""
    from coursegate.accounts import wipe

    if bool(accounts) == whole_class:
        fail([Problem("command line", "accounts", "name the accounts, or give --all (not both)")])
    env = _Env(at)
    try:
        _wipe(
            env,
            lambda ctx: wipe.request_wipes(
                ctx,
                uids=accounts or (),
                course_instance_id=_ci_id(ctx, course, instance),
                whole_class=whole_class,
                reason="wipe",
                note=reason,
            ),
            dry_run,
            as_json,
        )
    finally:
        env.close()


@app.command("recycle")
def recycle_cmd(
    accounts: Annotated[list[str], typer.Argument(help="Accounts to recycle.")],
    reason: ReasonOpt = "",
    at: AtOpt = None,
    dry_run: DryOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Delete class accounts — which recycles them: they are wiped and return to the pool (a
    class account is never deleted)."""
    from coursegate.accounts import wipe

    env = _Env(at)
    try:
        _wipe(
            env,
            lambda ctx: wipe.request_wipes(ctx, uids=accounts, reason="recycle", note=reason),
            dry_run,
            as_json,
        )
    finally:
        env.close()


# -- one account ------------------------------------------------------------------------------


def _one(at: str | None, dry_run: bool, as_json: bool, action: Callable[[Ctx, _Env], Any]) -> None:
    env = _Env(at)
    try:
        done = env.run(lambda ctx: action(ctx, env), dry_run=dry_run)
        delivered = env.deliver(dry_run)
        _emit(
            as_json, done.to_json(), done.message + (f"\n{delivered}" if delivered else ""), dry_run
        )
    finally:
        env.close()


@app.command("freeze")
def freeze_cmd(
    account: AccountArg,
    reason: ReasonOpt = "",
    at: AtOpt = None,
    dry_run: DryOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Stop an account's web access (its sessions end)."""
    from coursegate.accounts import service

    _one(at, dry_run, as_json, lambda ctx, _: service.freeze(ctx, account, reason=reason))


@app.command("thaw")
def thaw_cmd(
    account: AccountArg,
    reason: ReasonOpt = "",
    at: AtOpt = None,
    dry_run: DryOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Give a frozen account its web access back."""
    from coursegate.accounts import service

    _one(at, dry_run, as_json, lambda ctx, _: service.thaw(ctx, account, reason=reason))


@app.command("reset-password")
def reset_password_cmd(
    account: AccountArg,
    reason: ReasonOpt = "",
    at: AtOpt = None,
    dry_run: DryOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Give an account a new generated password, mailed to its address."""
    from coursegate.accounts import service

    _one(
        at,
        dry_run,
        as_json,
        lambda ctx, env: service.reset_password(ctx, env.site, account, reason=reason),
    )


@app.command("reset-keys")
def reset_keys_cmd(
    account: AccountArg,
    reason: ReasonOpt = "",
    at: AtOpt = None,
    dry_run: DryOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Flush an account's SSH keys and certificates and mail new ones."""
    from coursegate.accounts import service

    _one(
        at,
        dry_run,
        as_json,
        lambda ctx, env: service.reset_keys(
            ctx, env.site, env.site.issuer(dry_run=dry_run), account, reason=reason
        ),
    )


@app.command("resend")
def resend_cmd(
    account: AccountArg,
    reason: ReasonOpt = "",
    at: AtOpt = None,
    dry_run: DryOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Send an account's credentials again (issued anew: secrets are never kept)."""
    from coursegate.accounts import service

    _one(
        at,
        dry_run,
        as_json,
        lambda ctx, env: service.resend_credentials(
            ctx, env.site, env.site.issuer(dry_run=dry_run), account, reason=reason
        ),
    )


@app.command("email")
def email_cmd(
    account: AccountArg,
    address: Annotated[str, typer.Argument(help="The student's correct address.")],
    reason: ReasonOpt = "",
    at: AtOpt = None,
    dry_run: DryOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Correct where an account's mail goes (the person's one authoritative address)."""
    from coursegate.accounts import service

    _one(
        at,
        dry_run,
        as_json,
        lambda ctx, _: service.correct_email(ctx, account, address, reason=reason),
    )


# -- the schedule -----------------------------------------------------------------------------


@app.command("run-schedule")
def run_schedule_cmd(at: AtOpt = None, dry_run: DryOpt = False, as_json: JsonOpt = False) -> None:
    """Do what the term-end schedule says is due: finish interrupted wipes; lock student
    accounts on the end date (telling the instructors), remind two weeks later, wipe four weeks
    later (incompletes kept); deliver queued mail. Safe at any time, any number of times."""
    from coursegate.accounts.schedule import run_schedule

    env = _Env(at)
    try:
        env.ready(dry_run)
        try:
            report = run_schedule(env.factory, env.site, at=env.at, dry_run=dry_run)
        except Exception as error:
            env.database_failure(error)
        _emit(as_json, report.to_json(), report.render())
        if not report.ok:
            raise typer.Exit(1)
    finally:
        env.close()


# -- metrics and exports ----------------------------------------------------------------------


@app.command("report")
def report_cmd(
    course: Annotated[str | None, typer.Option("--course", help="One course only.")] = None,
    csv_path: Annotated[Path, typer.Option("--csv", help="Where to write the CSV.")] = Path(
        "accounts-report.csv"
    ),
    at: AtOpt = None,
    dry_run: DryOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Accounts generated, assigned, re-assigned and wiped per course and term: a table, and a
    CSV file for the funders."""
    from coursegate.accounts import service

    env = _Env(at)
    try:
        rows = env.run(lambda ctx: service.metrics(ctx, course), dry_run=True)
    finally:
        env.close()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(service.MetricRow.FIELDS)
    for r in rows:
        writer.writerow([getattr(r, f) for f in service.MetricRow.FIELDS])
    totals = [sum(getattr(r, f) for r in rows) for f in service.MetricRow.FIELDS[2:]]
    head = (
        f"{'course':<16} {'term':<10} {'generated':>9} {'assigned':>9} {'reassigned':>10} "
        f"{'wiped':>6}"
    )
    lines = [head] + [
        f"{r.course:<16} {r.term:<10} {r.generated:>9} {r.assigned:>9} {r.reassigned:>10} "
        f"{r.wiped:>6}"
        for r in rows
    ]
    lines.append(f"{'total':<27} {totals[0]:>9} {totals[1]:>9} {totals[2]:>10} {totals[3]:>6}")
    if dry_run:
        lines.append(f"would write {csv_path} ({len(rows)} row(s))")
    else:
        try:
            csv_path.write_text(out.getvalue(), encoding="utf-8")
        except OSError as error:
            fail([Problem(str(csv_path), "$", f"cannot write the CSV: {error.strerror}")])
        lines.append(f"wrote {csv_path} ({len(rows)} row(s))")
    _emit(
        as_json,
        {"rows": [r.to_json() for r in rows], "csv": str(csv_path)},
        "\n".join(lines),
        dry_run,
    )


def _write_export(text: str, output: Path | None, dry_run: bool, as_json: bool) -> None:
    if output is None:
        if as_json:
            print(json.dumps({"text": text}))
        else:
            sys.stdout.write(text)
        return
    if dry_run:
        _emit(
            as_json,
            {"would_write": str(output), "text": text},
            f"would write {output}:\n{text}",
            True,
        )
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        fail([Problem(str(output), "$", f"cannot write: {error.strerror}")])
    _emit(as_json, {"wrote": str(output)}, f"wrote {output} ({len(text.splitlines())} lines)")


OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to this file (default: print).")
]


@app.command("export-sudoers")
def export_sudoers_cmd(
    output: OutputOpt = None, at: AtOpt = None, dry_run: DryOpt = False, as_json: JsonOpt = False
) -> None:
    """The sudoers include letting each course's instructors and TAs act as its student
    accounts (instructors also as its TAs' accounts) on a shared login host. Check it with
    `visudo -c -f FILE` before installing it."""
    from coursegate.accounts import exports

    env = _Env(at)
    try:
        text = env.run(exports.sudoers, dry_run=True)
    finally:
        env.close()
    _write_export(text, output, dry_run, as_json)


@app.command("export-authorized-keys")
def export_keys_cmd(
    course: Annotated[str | None, typer.Argument(help="The course (omit: every course).")] = None,
    instance: Annotated[str | None, typer.Argument(help="The course instance.")] = None,
    output: OutputOpt = None,
    at: AtOpt = None,
    dry_run: DryOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """authorized_keys lines with the public SSH keys of each course's instructors and TAs, for
    the machines of that course's students."""
    from coursegate.accounts import exports

    if (course is None) != (instance is None):
        fail(
            [Problem("command line", "course", "give both the course and the instance, or neither")]
        )
    env = _Env(at)
    try:

        def go(ctx: Ctx) -> str:
            from coursegate.services.course_instances import find_course_instance

            ci = find_course_instance(ctx, course, instance) if course and instance else None
            return exports.authorized_keys(ctx, ci)

        text = env.run(go, dry_run=True)
    finally:
        env.close()
    _write_export(text, output, dry_run, as_json)


@app.command("add-key")
def add_key_cmd(
    uid: Annotated[str, typer.Argument(help="The user (e.g. an instructor).")],
    key_file: Annotated[str, typer.Argument(help="The public key file (.pub), or -.")],
    at: AtOpt = None,
    dry_run: DryOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Register a staff member's public SSH key (for export-authorized-keys)."""
    from coursegate.accounts import service

    text = _read(key_file, "public key")
    env = _Env(at)
    try:
        view = env.run(lambda ctx: service.add_public_key(ctx, uid, text), dry_run=dry_run)
        _emit(as_json, view.to_json(), f"{uid}: key {view.fingerprint} registered", dry_run)
    finally:
        env.close()


@app.command("outbox")
def outbox_cmd(
    course: Course,
    instance: Instance,
    show: Annotated[
        int | None,
        typer.Option(
            "--show",
            help="Print this message exactly as it was sent, secrets included (recorded in the "
            "history as secret.read).",
        ),
    ] = None,
    at: AtOpt = None,
    dry_run: DryOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """The messages sent about a course instance's accounts (credentials, notices): to whom,
    when, which credentials, delivered or not. --show ID prints one whole, as its holder got
    it: only the operator reads the secrets a message carried (a password, a private key), and
    each such read is recorded in the history (secret.read, by the system). With --dry-run,
    --show prints the message with its secrets withheld and records nothing."""
    from coursegate.accounts import service

    env = _Env(at)
    try:
        if show is not None:
            shown = env.run(
                lambda ctx: (service.outbox_message if dry_run else service.outbox_secrets)(
                    ctx, env.site, _ci_id(ctx, course, instance), show
                ),
                dry_run=dry_run,
            )
            view = shown.view
            if shown.withheld:
                note = (
                    f"{len(shown.withheld)} secret(s) withheld (dry run: nothing recorded)"
                    if dry_run
                    else "this read of the message's secrets is recorded in the history "
                    "(secret.read)"
                )
                print(f"coursegate: message {view.id}: {note}", file=sys.stderr)
            _emit(
                as_json,
                {**view.to_json(), "text": shown.text, "withheld": list(shown.withheld)},
                shown.text
                if shown.text is not None
                else f"{view.subject}: {view.status} (not kept)",
            )
            return
        views = env.run(
            lambda ctx: service.outbox(ctx, env.site, _ci_id(ctx, course, instance)), dry_run=True
        )
        _emit(
            as_json,
            [v.to_json() for v in views],
            "\n".join(
                f"{v.id:>5} {v.status:<14} {v.kind:<12} {v.to:<32} {v.subject}"
                + (f"  [{', '.join(v.credentials)}]" if v.credentials else "")
                for v in views
            )
            or "no messages",
        )
    finally:
        env.close()


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="accounts")


__all__ = ["app", "register"]


def _one_line_help() -> None:
    """Each command's docstring as help text, paragraphs on one line (the terminal wraps)."""
    from coursegate.cli.store_cmds import _paragraphs

    for info in app.registered_commands:
        if info.callback is not None and info.help is None:
            info.help = _paragraphs(info.callback.__doc__)


_one_line_help()
