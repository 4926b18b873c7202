"""``coursegate accounts outbox``: the messages sent about a course instance's accounts, and one
message whole (the operator's read of its secrets recorded in the history)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from coursegate.cli.accounts.env import AccountsEnv, emit, find_ci_id
from coursegate.cli.accounts.options import AtOpt, Course, DryOpt, Instance, JsonOpt


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
    from coursegate.services.accounts import service

    env = AccountsEnv(at)
    try:
        if show is not None:
            shown = env.run(
                lambda ctx: (service.outbox_message if dry_run else service.outbox_secrets)(
                    ctx, env.site, find_ci_id(ctx, course, instance), show
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
            emit(
                as_json,
                {**view.to_json(), "text": shown.text, "withheld": list(shown.withheld)},
                shown.text
                if shown.text is not None
                else f"{view.subject}: {view.status} (not kept)",
            )
            return
        views = env.run(
            lambda ctx: service.outbox(ctx, env.site, find_ci_id(ctx, course, instance)),
            dry_run=True,
        )
        emit(
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
