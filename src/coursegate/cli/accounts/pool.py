"""``coursegate accounts stem|generate|assign|list``: the pool of class accounts — stems,
generating accounts ahead, assigning them to a course instance's addresses, and listing them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from coursegate.cli.accounts.env import AccountsEnv, emit, find_ci_id, read_input
from coursegate.cli.accounts.options import AtOpt, Course, DryOpt, Instance, JsonOpt, ReasonOpt
from coursegate.cli.errors import fail
from coursegate.courses.problems import Problem

if TYPE_CHECKING:
    from coursegate.services.common.context import Ctx


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
    from coursegate.services.accounts import service

    env = AccountsEnv(at)
    try:
        if course is not None and stem is not None:
            info = env.run(
                lambda ctx: service.set_stem(ctx, course, stem, reason=reason), dry_run=dry_run
            )
            emit(
                as_json,
                info.to_json(),
                f"stem {info.stem} of {info.course}\n{info.render()}",
                dry_run,
            )
            return
        infos = env.run(lambda ctx: service.list_stems(ctx, course), dry_run=True)
        emit(
            as_json,
            [i.to_json() for i in infos],
            "\n".join(i.render() for i in infos) or "no stems yet",
        )
    finally:
        env.close()


def generate_cmd(
    course: Course,
    count: Annotated[int, typer.Option("--count", "-n", help="How many accounts.")],
    at: AtOpt = None,
    dry_run: DryOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Generate accounts ahead (administrators), in order (aa, ab, ...), in the state of a wiped
    account: free, locked, no usable password, placeholder address."""
    from coursegate.services.accounts import service

    env = AccountsEnv(at)
    try:
        issuer = env.site.issuer(dry_run=dry_run)
        report = env.run(lambda ctx: service.generate(ctx, issuer, course, count), dry_run=dry_run)
        emit(as_json, report.to_json(), report.render(), dry_run)
    finally:
        env.close()


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
    from coursegate.services.accounts import service

    if (emails is None) == (csv_file is None):
        fail([Problem("command line", "--emails/--csv", "give exactly one of --emails or --csv")])
    text = read_input(emails or csv_file or "-", "list of addresses")
    env = AccountsEnv(at)
    try:
        issuer = env.site.issuer(dry_run=dry_run)

        def go(ctx: Ctx) -> service.AssignReport:
            entries = service.parse_list(text, csv=csv_file is not None)
            ci_id = find_ci_id(ctx, course, instance)
            return service.assign(ctx, env.site, issuer, ci_id, entries, role=role, reason=reason)

        report = env.run(go, dry_run=dry_run)
        delivered = env.deliver(dry_run)
        emit(
            as_json,
            report.to_json(),
            report.render() + (f"\n{delivered}" if delivered else ""),
            dry_run,
        )
    finally:
        env.close()


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
    from coursegate.services.accounts import service

    env = AccountsEnv(at)
    try:

        def go(ctx: Ctx) -> list[service.AccountLine]:
            ci_id = find_ci_id(ctx, course, instance) if instance is not None else None
            return service.list_accounts(ctx, env.site, course, ci_id)

        lines = env.run(go, dry_run=True)
        emit(
            as_json,
            [line.to_json() for line in lines],
            "\n".join(line.render() for line in lines) or "no class accounts",
        )
    finally:
        env.close()
