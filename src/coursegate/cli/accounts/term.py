"""``coursegate accounts lock|unlock|incomplete|end-date|run-schedule``: the term end — locking,
incompletes, moving the end date, and running the term-end schedule."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from coursegate.cli.accounts.env import AccountsEnv, emit, find_ci_id
from coursegate.cli.accounts.options import (
    AccountArg,
    AtOpt,
    Course,
    DryOpt,
    Instance,
    JsonOpt,
    ReasonOpt,
)

if TYPE_CHECKING:
    from coursegate.services.common.context import Ctx


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
    from coursegate.services.accounts import service

    env = AccountsEnv(at)
    try:
        done = env.run(
            lambda ctx: service.lock_accounts(
                ctx,
                find_ci_id(ctx, course, instance),
                accounts or None,
                unlock=unlock,
                reason=reason,
            ),
            dry_run=dry_run,
        )
        emit(
            as_json,
            [d.to_json() for d in done],
            "\n".join(d.message for d in done) or "no student accounts",
            dry_run,
        )
    finally:
        env.close()


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
    from coursegate.services.accounts import service

    env = AccountsEnv(at)
    try:
        done = env.run(
            lambda ctx: service.set_incomplete(
                ctx,
                account,
                granted=not withdraw,
                course_instance_id=find_ci_id(ctx, course, instance),
                reason=reason,
            ),
            dry_run=dry_run,
        )
        emit(as_json, done.to_json(), done.message, dry_run)
    finally:
        env.close()


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
    from coursegate.core.instants import DateError, parse_date, zone
    from coursegate.services.accounts import service
    from coursegate.services.common.errors import Invalid

    env = AccountsEnv(at)
    try:

        def go(ctx: Ctx) -> service.TermView:
            ci_id = find_ci_id(ctx, course, instance)
            if date is None and not clear:
                return service.term_view(ctx, ci_id)
            end = None
            if date is not None:
                from coursegate.services.common.places import course_instance_by_id

                tz = zone(course_instance_by_id(ctx, ci_id).timezone)
                try:
                    end = parse_date(date, tz)[0]
                except DateError as error:
                    raise Invalid(f"date: {error}", "date") from None
            return service.set_end_date(ctx, ci_id, end, reason=reason)

        view = env.run(go, dry_run=dry_run or (date is None and not clear))
        emit(as_json, view.to_json(), view.render(), dry_run)
    finally:
        env.close()


def run_schedule_cmd(at: AtOpt = None, dry_run: DryOpt = False, as_json: JsonOpt = False) -> None:
    """Do what the term-end schedule says is due: finish interrupted wipes; lock student
    accounts on the end date (telling the instructors), remind two weeks later, wipe four weeks
    later (incompletes kept); deliver queued mail. Safe at any time, any number of times."""
    from coursegate.services.accounts.schedule import run_schedule

    env = AccountsEnv(at)
    try:
        env.ready(dry_run)
        try:
            report = run_schedule(env.factory, env.site, at=env.at, dry_run=dry_run)
        except Exception as error:
            env.database_failure(error)
        emit(as_json, report.to_json(), report.render())
        if not report.ok:
            raise typer.Exit(1)
    finally:
        env.close()
