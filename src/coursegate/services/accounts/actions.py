"""What instructors and TAs do over class accounts: reset the password or keys, resend the
credentials, freeze, thaw, incompletes, correct the email, lock and unlock; staff keys."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from coursegate.core.instants import Instant, format_instant
from coursegate.services.accounts import common, rules
from coursegate.services.accounts.assign import issued_fields, queue_credentials, store_password
from coursegate.services.accounts.common import Account
from coursegate.services.accounts.credentials import (
    Issuer,
    check_public_key,
    generate_password,
)
from coursegate.services.accounts.service_base import MANAGE, OVER_ACCOUNT
from coursegate.services.accounts.site import Site
from coursegate.services.common.authz import require
from coursegate.services.common.conflicts import flush_or_conflict, translate_conflicts
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Invalid, NotFound, Refused
from coursegate.services.common.places import (
    course_instance_by_id,
    instance_area,
    instance_label,
)
from coursegate.services.history.log import record
from coursegate.services.people.signin import end_all_access, end_sessions
from coursegate.services.people.user_fields import normalise_email
from coursegate.store.models import (
    AccountKey,
    ClassAccount,
    CourseInstance,
    Credential,
    EmailAlias,
    User,
)

# -- actions over one account -----------------------------------------------------------------


@dataclass(frozen=True)
class Done:
    """What an action did, in a sentence, and whether it changed anything."""

    account: str
    action: str
    changed: bool
    message: str
    mail_to: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "action": self.action,
            "changed": self.changed,
            "message": self.message,
            "mail_to": self.mail_to,
        }


def _over(
    ctx: Ctx, uid: str, what: str, ci_id: int | None, privilege: str = OVER_ACCOUNT
) -> tuple[Account, CourseInstance]:
    ci = course_instance_by_id(ctx, ci_id) if ci_id is not None else None
    acct = common.account(ctx, uid, ci=ci)
    return acct, common.require_over(ctx, acct, privilege, f"{what} {acct.uid}")


@translate_conflicts
def reset_password(
    ctx: Ctx, site: Site, uid: str, *, course_instance_id: int | None = None, reason: str = ""
) -> Done:
    """A new generated password, mailed to the account's address; its sessions end."""
    acct, ci = _over(ctx, uid, "reset the password of", course_instance_id)
    password = generate_password()
    store_password(ctx, acct.user, password)
    ended = end_sessions(ctx, acct.user)
    to = common.address_of(ctx, acct)
    queued = queue_credentials(
        ctx, site, ci, acct, to, password=password, issued=None, what="given a new password"
    )
    record(
        ctx, "accounts.reset_password", "user", acct.uid,
        course_instance_id=ci.id, reason=reason, sessions_ended=ended,
        **issued_fields(None, password=True, mailed_to=to if queued else None),
    )  # fmt: skip
    flush_or_conflict(ctx)
    return Done(acct.uid, "reset-password", True, f"{acct.uid}: new password mailed to {to}", to)


@translate_conflicts
def reset_keys(
    ctx: Ctx,
    site: Site,
    issuer: Issuer,
    uid: str,
    *,
    course_instance_id: int | None = None,
    reason: str = "",
) -> Done:
    """Flush the account's SSH keys and certificates and mail new ones."""
    acct, ci = _over(ctx, uid, "reset the keys of", course_instance_id)
    flushed = common.flush_keys(ctx, [acct.user.id])
    issued = issuer.issue(
        acct.uid, ctx.at_datetime, email=rules.alias_for(acct.uid, site.mail_domain)
    )
    common.store_keys(ctx, acct.user, issued)
    to = common.address_of(ctx, acct)
    queued = queue_credentials(
        ctx, site, ci, acct, to, password=None, issued=issued, what="given new keys"
    )
    record(
        ctx, "accounts.reset_keys", "user", acct.uid,
        course_instance_id=ci.id, reason=reason, flushed=flushed,
        **issued_fields(issued, password=False, mailed_to=to if queued else None),
    )  # fmt: skip
    flush_or_conflict(ctx)
    return Done(
        acct.uid,
        "reset-keys",
        True,
        f"{acct.uid}: {flushed} key(s) flushed, new keys mailed to {to}",
        to,
    )


@translate_conflicts
def resend_credentials(
    ctx: Ctx,
    site: Site,
    issuer: Issuer,
    uid: str,
    *,
    course_instance_id: int | None = None,
    reason: str = "",
) -> Done:
    """Send the account's credentials again. Secrets are never kept, so they are issued anew:
    a new password, new SSH keys and a new certificate (the old ones stop working)."""
    acct, ci = _over(ctx, uid, "resend the credentials of", course_instance_id)
    password = generate_password()
    store_password(ctx, acct.user, password)
    flushed = common.flush_keys(ctx, [acct.user.id])
    issued = issuer.issue(
        acct.uid, ctx.at_datetime, email=rules.alias_for(acct.uid, site.mail_domain)
    )
    common.store_keys(ctx, acct.user, issued)
    to = common.address_of(ctx, acct)
    queued = queue_credentials(
        ctx, site, ci, acct, to, password=password, issued=issued, what="sent again"
    )
    record(
        ctx, "accounts.resend", "user", acct.uid,
        course_instance_id=ci.id, reason=reason, flushed=flushed,
        **issued_fields(issued, password=True, mailed_to=to if queued else None),
    )  # fmt: skip
    flush_or_conflict(ctx)
    return Done(acct.uid, "resend", True, f"{acct.uid}: new credentials mailed to {to}", to)


@translate_conflicts
def freeze(ctx: Ctx, uid: str, *, course_instance_id: int | None = None, reason: str = "") -> Done:
    """Stop the account's web access (active → frozen); its sessions end."""
    acct, ci = _over(ctx, uid, "freeze", course_instance_id)
    return _status(ctx, acct, ci, "frozen", "freeze", reason)


@translate_conflicts
def thaw(ctx: Ctx, uid: str, *, course_instance_id: int | None = None, reason: str = "") -> Done:
    """Give web access back (frozen → active). Failed sign-ins never freeze an account: they
    are throttled per client address (:mod:`coursegate.services.people.throttle`)."""
    acct, ci = _over(ctx, uid, "thaw", course_instance_id)
    return _status(ctx, acct, ci, "active", "thaw", reason)


def _status(
    ctx: Ctx, acct: Account, ci: CourseInstance, status: str, verb: str, reason: str
) -> Done:
    user = acct.user
    if user.status == "locked":
        raise Invalid(
            f"account: {user.uid} is locked ({acct.row.lock_reason or 'shut'}); unlock it or "
            "grant an incomplete first",
            "account",
        )
    if user.status == status:
        return Done(user.uid, verb, False, f"{user.uid} is already {status}")
    old = user.status
    user.status = status
    if status == "active":
        cred = ctx.session.get(Credential, user.id)
        if cred is not None:
            cred.failed_attempts = 0
    else:
        end_all_access(ctx, user)
    record(
        ctx, f"user.{verb}", "user", user.uid,
        course_instance_id=ci.id, reason=reason, old=old, new=status,
    )  # fmt: skip
    flush_or_conflict(ctx)
    return Done(user.uid, verb, True, f"{user.uid}: {old} -> {status}")


@translate_conflicts
def set_incomplete(
    ctx: Ctx,
    uid: str,
    *,
    granted: bool = True,
    course_instance_id: int | None = None,
    reason: str = "",
) -> Done:
    """Grant (or withdraw) an incomplete: the account is not locked at the end of the term (it
    is unlocked if the schedule locked it) and never wiped while the incomplete stands."""
    acct, ci = _over(
        ctx,
        uid,
        "grant an incomplete to" if granted else "withdraw the incomplete of",
        course_instance_id,
    )
    if acct.row.role != rules.STUDENT:
        raise Invalid(
            f"account: {acct.uid} is a TA's account; incompletes are for students", "account"
        )
    has = acct.row.incomplete_at is not None
    if has == granted:
        state = "has an incomplete" if has else "has no incomplete"
        return Done(acct.uid, "incomplete", False, f"{acct.uid} already {state}")
    unlocked = False
    if granted:
        acct.row.incomplete_at = ctx.at
        if acct.row.lock_reason == "term":
            unlocked = common.unlock(ctx, acct)
    else:
        acct.row.incomplete_at = None
    record(
        ctx, "accounts.incomplete" if granted else "accounts.incomplete.withdraw", "user",
        acct.uid, course_instance_id=ci.id, reason=reason, unlocked=unlocked,
    )  # fmt: skip
    flush_or_conflict(ctx)
    if granted:
        message = f"{acct.uid}: incomplete granted" + ("; unlocked" if unlocked else "")
    else:
        message = f"{acct.uid}: incomplete withdrawn; the term-end schedule applies again"
    return Done(acct.uid, "incomplete", True, message)


@translate_conflicts
def correct_email(
    ctx: Ctx, uid: str, new_email: str, *, course_instance_id: int | None = None, reason: str = ""
) -> Done:
    """Correct where the account's mail goes. The address stays one authoritative value: on
    the account itself when nobody else has it, otherwise the account's mail follows the user
    who has it (so a student in two courses corrects one address, once). Accounts whose mail
    followed this one keep following it."""
    acct, ci = _over(ctx, uid, "correct the email of", course_instance_id)
    try:
        email = normalise_email(new_email)
    except ValueError as error:
        raise Invalid(f"email: {error}", "email") from None
    if rules.is_placeholder(email):
        raise Invalid(f"email: {email} is a placeholder address, not a person's", "email")
    old = common.address_of(ctx, acct)
    if email == old:
        return Done(acct.uid, "email", False, f"{acct.uid} already forwards to {email}", email)
    alias_of = ctx.session.scalar(
        select(User.uid)
        .join(EmailAlias, EmailAlias.user_id == User.id)
        .where(EmailAlias.alias == email)
    )
    if alias_of is not None:
        raise Invalid(
            f"email: {email} is the forwarding alias of {alias_of}, not a person's address", "email"
        )
    owner = ctx.session.scalar(select(User).where(User.email == email))
    if owner is not None and owner.id != acct.user.id:
        # Someone else holds the address: this account's mail, and that of every account
        # following it, follows them (one address per person).
        for f in ctx.session.scalars(
            select(ClassAccount).where(ClassAccount.mail_to_user_id == acct.user.id)
        ):
            f.mail_to_user_id = owner.id
        acct.user.email = None
        acct.row.mail_to_user_id = owner.id
        follows: str | None = owner.uid
    else:
        acct.row.mail_to_user_id = None
        acct.user.email = email
        follows = None
    record(
        ctx, "user.email", "user", acct.uid,
        course_instance_id=ci.id, reason=reason, old=old, new=email, mail_follows=follows,
    )  # fmt: skip
    flush_or_conflict(ctx)
    extra = f" (the address of {follows})" if follows else ""
    return Done(acct.uid, "email", True, f"{acct.uid}: mail now goes to {email}{extra}", email)


# -- locking by hand --------------------------------------------------------------------------


@translate_conflicts
def lock_accounts(
    ctx: Ctx,
    course_instance_id: int,
    uids: Sequence[str] | None = None,
    *,
    unlock: bool = False,
    reason: str = "",
) -> list[Done]:
    """Lock (or unlock) accounts of a course instance now: the listed ones, or every student
    account. A locked account cannot sign in and its sessions and tokens end. Unlocking undoes
    a lock by hand or by the schedule (the schedule locks again if the term has ended)."""
    ci = course_instance_by_id(ctx, course_instance_id)
    label = instance_label(ci)
    verb = "unlock" if unlock else "lock"
    require(ctx, MANAGE, instance_area(ci), f"{verb} class accounts of {label}")
    if uids:
        targets = [common.account(ctx, uid, ci=ci) for uid in uids]
        rank = common.actor_rank(ctx, ci)
        for t in targets:
            common.assigned_ci(t)
            why = rules.may_act_over(rank, t.row.role)
            if why is not None:
                raise Refused(f"{ctx.effective} may not {verb} {t.uid}: {why}", "account")
    else:
        targets = [a for a in common.accounts_of(ctx, ci) if a.row.role == rules.STUDENT]
    out: list[Done] = []
    for t in targets:
        changed = common.unlock(ctx, t) if unlock else common.lock(ctx, t, "manual")
        if changed:
            record(ctx, f"accounts.{verb}", "user", t.uid, course_instance_id=ci.id,
                   reason=reason, by_hand=True)  # fmt: skip
        state = f"{verb}ed" if changed else f"already {'unlocked' if unlock else 'locked'}"
        out.append(Done(t.uid, verb, changed, f"{t.uid}: {state}"))
    flush_or_conflict(ctx)
    return out


# -- staff keys -------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyView:
    id: int
    uid: str
    kind: str
    fingerprint: str
    public: str
    origin: str
    created_at: Instant

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "uid": self.uid,
            "kind": self.kind,
            "fingerprint": self.fingerprint,
            "public": self.public if self.kind == "ssh" else None,
            "origin": self.origin,
            "created_at": format_instant(self.created_at, None),
        }


@translate_conflicts
def add_public_key(ctx: Ctx, uid: str, text: str) -> KeyView:
    """Register a public SSH key of a user (their own, or the operator's action): staff keys go
    into the authorized_keys export for their students' machines. Adding a key twice changes
    nothing."""
    user = ctx.user(uid)
    if not ctx.is_system and ctx.effective != user.uid:
        raise Refused(f"{ctx.effective} may add SSH keys only to their own account", "uid")
    if ctx.viewing_as:
        raise Refused("stop viewing as someone before adding SSH keys", "acting_as")
    try:
        line, fingerprint = check_public_key(text)
    except ValueError as error:
        raise Invalid(f"public_key: {error}", "public_key") from None
    same = ctx.session.scalars(
        select(AccountKey).where(
            AccountKey.user_id == user.id,
            AccountKey.fingerprint == fingerprint,
            AccountKey.revoked_at.is_(None),
        )
    ).first()
    if same is not None:
        return _key_view(same, user.uid)
    row = AccountKey(
        user_id=user.id,
        kind="ssh",
        public=line,
        fingerprint=fingerprint,
        origin="uploaded",
        created_at=ctx.at,
    )
    ctx.session.add(row)
    record(ctx, "accounts.key.add", "user", user.uid, fingerprint=fingerprint)
    flush_or_conflict(ctx)
    return _key_view(row, user.uid)


def keys_of(ctx: Ctx, uid: str) -> list[KeyView]:
    user = ctx.user(uid)
    if not ctx.is_system and ctx.effective != user.uid:
        raise Refused(f"{ctx.effective} may list only their own keys", "uid")
    rows = ctx.session.scalars(
        select(AccountKey)
        .where(AccountKey.user_id == user.id, AccountKey.revoked_at.is_(None))
        .order_by(AccountKey.id)
    )
    return [_key_view(r, user.uid) for r in rows]


@translate_conflicts
def remove_public_key(ctx: Ctx, uid: str, key_id: int) -> None:
    user = ctx.user(uid)
    if not ctx.is_system and ctx.effective != user.uid:
        raise Refused(f"{ctx.effective} may remove only their own keys", "uid")
    row = ctx.session.get(AccountKey, key_id)
    if row is None or row.user_id != user.id or row.revoked_at is not None:
        raise NotFound(f"key: {uid} has no key {key_id}", "key")
    row.revoked_at = ctx.at
    record(ctx, "accounts.key.remove", "user", user.uid, fingerprint=row.fingerprint)
    flush_or_conflict(ctx)


def _key_view(row: AccountKey, uid: str) -> KeyView:
    return KeyView(row.id, uid, row.kind, row.fingerprint, row.public, row.origin, row.created_at)


__all__ = [
    "Done",
    "KeyView",
    "add_public_key",
    "correct_email",
    "freeze",
    "keys_of",
    "lock_accounts",
    "remove_public_key",
    "resend_credentials",
    "reset_keys",
    "reset_password",
    "set_incomplete",
    "thaw",
]
