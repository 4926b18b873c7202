"""``coursegate accounts freeze|thaw|reset-password|reset-keys|resend|email``: the actions over
one class account, each printing what it did and delivering the mail it queued."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from coursegate.cli.accounts.env import AccountsEnv, emit
from coursegate.cli.accounts.options import AccountArg, AtOpt, DryOpt, JsonOpt, ReasonOpt

if TYPE_CHECKING:
    from coursegate.services.common.context import Ctx


def _one(
    at: str | None, dry_run: bool, as_json: bool, action: Callable[[Ctx, AccountsEnv], Any]
) -> None:
    env = AccountsEnv(at)
    try:
        done = env.run(lambda ctx: action(ctx, env), dry_run=dry_run)
        delivered = env.deliver(dry_run)
        emit(
            as_json, done.to_json(), done.message + (f"\n{delivered}" if delivered else ""), dry_run
        )
    finally:
        env.close()


def freeze_cmd(
    account: AccountArg,
    reason: ReasonOpt = "",
    at: AtOpt = None,
    dry_run: DryOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Stop an account's web access (its sessions end)."""
    from coursegate.services.accounts import service

    _one(at, dry_run, as_json, lambda ctx, _: service.freeze(ctx, account, reason=reason))


def thaw_cmd(
    account: AccountArg,
    reason: ReasonOpt = "",
    at: AtOpt = None,
    dry_run: DryOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Give a frozen account its web access back."""
    from coursegate.services.accounts import service

    _one(at, dry_run, as_json, lambda ctx, _: service.thaw(ctx, account, reason=reason))


def reset_password_cmd(
    account: AccountArg,
    reason: ReasonOpt = "",
    at: AtOpt = None,
    dry_run: DryOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Give an account a new generated password, mailed to its address."""
    from coursegate.services.accounts import service

    _one(
        at,
        dry_run,
        as_json,
        lambda ctx, env: service.reset_password(ctx, env.site, account, reason=reason),
    )


def reset_keys_cmd(
    account: AccountArg,
    reason: ReasonOpt = "",
    at: AtOpt = None,
    dry_run: DryOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Flush an account's SSH keys and certificates and mail new ones."""
    from coursegate.services.accounts import service

    _one(
        at,
        dry_run,
        as_json,
        lambda ctx, env: service.reset_keys(
            ctx, env.site, env.site.issuer(dry_run=dry_run), account, reason=reason
        ),
    )


def resend_cmd(
    account: AccountArg,
    reason: ReasonOpt = "",
    at: AtOpt = None,
    dry_run: DryOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Send an account's credentials again (issued anew: secrets are never kept)."""
    from coursegate.services.accounts import service

    _one(
        at,
        dry_run,
        as_json,
        lambda ctx, env: service.resend_credentials(
            ctx, env.site, env.site.issuer(dry_run=dry_run), account, reason=reason
        ),
    )


def email_cmd(
    account: AccountArg,
    address: Annotated[str, typer.Argument(help="The student's correct address.")],
    reason: ReasonOpt = "",
    at: AtOpt = None,
    dry_run: DryOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Correct where an account's mail goes (the person's one authoritative address)."""
    from coursegate.services.accounts import service

    _one(
        at,
        dry_run,
        as_json,
        lambda ctx, _: service.correct_email(ctx, account, address, reason=reason),
    )
