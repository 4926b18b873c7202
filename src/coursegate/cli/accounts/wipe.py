"""``coursegate accounts wipe|recycle``: wiping class accounts and returning them to the pool
(a dry run prints the plan; a wipe left unfinished exits with status 1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from coursegate.cli.accounts.env import AccountsEnv, emit, find_ci_id
from coursegate.cli.accounts.options import AtOpt, Course, DryOpt, Instance, JsonOpt, ReasonOpt
from coursegate.cli.errors import fail
from coursegate.courses.problems import Problem

if TYPE_CHECKING:
    from coursegate.services.common.context import Ctx


def _wipe(env: AccountsEnv, request: Callable[[Ctx], Any], dry_run: bool, as_json: bool) -> None:
    from coursegate.services.accounts import wipe, wipe_request

    if dry_run:

        def plan(ctx: Ctx) -> tuple[Any, list[str]]:
            req = request(ctx)
            return req, wipe_request.plan(ctx, env.site, req)

        req, lines = env.run(plan, dry_run=True)
        emit(as_json, {**req.to_json(), "plan": lines}, "\n".join([req.render(), *lines]), True)
        return
    req = env.run(request, dry_run=False)
    try:
        run = wipe.run_wipes(
            env.factory, env.site, at=env.at, actor="system", wipe_ids=req.wipe_ids
        )
    except Exception as error:
        env.database_failure(error)
    emit(
        as_json,
        {**req.to_json(), "run": run.to_json()},
        "\n".join(part for part in (req.render(), run.render()) if part),
    )
    if not run.ok:
        raise typer.Exit(1)


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
    from coursegate.services.accounts import wipe_request

    if bool(accounts) == whole_class:
        fail([Problem("command line", "accounts", "name the accounts, or give --all (not both)")])
    env = AccountsEnv(at)
    try:
        _wipe(
            env,
            lambda ctx: wipe_request.request_wipes(
                ctx,
                uids=accounts or (),
                course_instance_id=find_ci_id(ctx, course, instance),
                whole_class=whole_class,
                reason="wipe",
                note=reason,
            ),
            dry_run,
            as_json,
        )
    finally:
        env.close()


def recycle_cmd(
    accounts: Annotated[list[str], typer.Argument(help="Accounts to recycle.")],
    reason: ReasonOpt = "",
    at: AtOpt = None,
    dry_run: DryOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Delete class accounts — which recycles them: they are wiped and return to the pool (a
    class account is never deleted)."""
    from coursegate.services.accounts import wipe_request

    env = AccountsEnv(at)
    try:
        _wipe(
            env,
            lambda ctx: wipe_request.request_wipes(
                ctx, uids=accounts, reason="recycle", note=reason
            ),
            dry_run,
            as_json,
        )
    finally:
        env.close()
