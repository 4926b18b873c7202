"""Signing in: passwords, web sessions, personal API tokens, throttling failed sign-ins (per
client address and account, :mod:`coursegate.services.people.throttle`), and starting or stopping
"view as".

Secrets never reach the database: passwords are argon2id hashes, session and API tokens are
stored as SHA-256 digests (they are long random strings, so a fast hash is enough). Every
function takes the caller's :class:`Ctx` (and so its transaction and ``at``); none reads the
clock. Who may view as whom is the roles core's rule (:func:`coursegate.roles.view_as`); this
module only records the answer on the session.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from coursegate.core.instants import Instant
from coursegate.roles import view_as
from coursegate.services.common.authz import index_for, unassigned_class_account
from coursegate.services.common.context import Ctx, find_user
from coursegate.services.common.errors import Invalid, NotFound, Refused, ServiceError
from coursegate.services.common.places import (
    course_instance_by_id,
    instance_area,
    instance_label,
)
from coursegate.services.history import log as history
from coursegate.services.people import throttle
from coursegate.services.people.persons import refuse_in_view_as, require_over_account
from coursegate.store.models import ApiToken, CourseInstance, Credential, User, WebSession

LOCAL_ADDRESS = throttle.LOCAL
"""The client address of sign-ins made in-process (the command line, tests). Over HTTP the
caller passes the real one: failed sign-ins are throttled per (address, account as typed), and
never freeze or otherwise change the account."""

SECOND = 1_000_000
HOUR = 3600 * SECOND
SESSION_IDLE = 12 * HOUR
"""A session not used for this long ends."""
SESSION_MAX = 14 * 24 * HOUR
"""No session lasts longer than this, however active."""
MIN_PASSWORD = 10

SCOPES = ("read", "write")
"""``read``: GET requests only; ``write``: everything the user may do."""


def _hasher() -> PasswordHasher:
    """argon2id with the library's defaults (RFC 9106's low-memory profile). The test suite sets
    ``COURSEGATE_TEST_CHEAP_HASHES=1`` to use the library's cheapest profile: hundreds of
    sign-ins per test run would otherwise take minutes. Never set it in production."""
    if os.environ.get("COURSEGATE_TEST_CHEAP_HASHES") == "1":
        return PasswordHasher.from_parameters(profiles.CHEAPEST)
    return PasswordHasher()


_HASHER = _hasher()
_DUMMY_HASH = _HASHER.hash("coursegate: compared against when the user does not exist")


class SignInFailed(ServiceError):
    """Wrong user id or password (never says which), or web access is frozen."""

    code = "sign_in_failed"
    status = 401


class Unauthenticated(ServiceError):
    code = "unauthenticated"
    status = 401


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"a password needs at least {MIN_PASSWORD} characters", "password")


def set_password(
    ctx: Ctx,
    uid: str,
    password: str,
    *,
    reason: str = "",
    current_password: str | None = None,
    keep_session: int | None = None,
) -> None:
    """Set ``uid``'s password.

    * Oneself, with the current password (``current_password``): the other sessions end (the
      one in ``keep_session`` stays) and every API token is revoked.
    * Someone else's: only a domain coordinator of their domain or a superuser, over people
      whose roles are all below theirs, or the operator (:func:`require_over_account`); all
      of the user's sessions and tokens end. Course staff never set a person's password.
    * Never while viewing as someone.
    """
    user = ctx.user(uid)
    if ctx.is_system:
        by = "system"
    elif ctx.actor == user.uid:
        refuse_in_view_as(ctx, "change their password")
        cred = ctx.session.get(Credential, user.id)
        if (
            current_password is None
            or cred is None
            or not _verify(cred.password_hash, current_password)
        ):
            raise Refused(
                "give your current password (current_password) to change it; the one given "
                "is missing or wrong",
                "current_password",
            )
        by = "oneself"
    else:
        authority = require_over_account(ctx, user, f"set the password of {uid}")
        by = authority.basis or "administrator"
        keep_session = None
    check_password_strength(password)
    store_password(ctx, user, password)
    ended = end_sessions(ctx, user, keep_current=keep_session)
    revoked = end_tokens(ctx, user)
    history.record(
        ctx,
        "password.set",
        "user",
        uid,
        reason=reason,
        by=by,
        sessions_ended=ended,
        tokens_revoked=revoked,
    )


def store_password(ctx: Ctx, user: User, password: str) -> None:
    """Write the hash (no privilege check: for callers that already checked, and the demo)."""
    store_hash(ctx, user, hash_password(password))


def store_hash(ctx: Ctx, user: User, hashed: str) -> None:
    """Make ``hashed`` the user's password hash and forgive past failed sign-ins."""
    cred = ctx.session.get(Credential, user.id)
    if cred is None:
        ctx.session.add(
            Credential(user_id=user.id, password_hash=hashed, failed_attempts=0, changed_at=ctx.at)
        )
    else:
        cred.password_hash = hashed
        cred.failed_attempts = 0
        cred.changed_at = ctx.at


@dataclass(frozen=True)
class NewSession:
    token: str
    """The cookie value (shown once; only its digest is stored)."""
    csrf_token: str
    row: WebSession
    user: User


@dataclass(frozen=True)
class SignInOutcome:
    """The result of a sign-in attempt. A failure is returned, not raised, so the caller commits
    the failed-attempt count before answering."""

    session: NewSession | None
    error: SignInFailed | throttle.Throttled | None


def sign_in(
    ctx: Ctx,
    uid: str,
    password: str,
    *,
    address: str = LOCAL_ADDRESS,
    user_agent: str = "",
) -> SignInOutcome:
    """Check a password and open a session. ``uid`` is a user id (an email-shaped one in any
    case, :func:`coursegate.core.model.canonical_uid`) or, failing that, the user's email.

    Throttled first, per (client ``address``, account as typed): while the pair (or the
    address over every account) must wait, the answer is :class:`throttle.Throttled` and the
    password is not even checked — the same for an account that exists and one that does not.
    Then an unknown user, a wrong password, and a frozen or locked account with a wrong
    password get the same answer after the same work (a hash is verified: the user's, or a
    dummy one). Only the right password learns that the account is frozen or locked. A
    failure slows that pair down and is noted on the credential; it never freezes the
    account or ends its sessions or tokens."""
    wrong = SignInFailed("wrong user id or password", "password")
    if not throttle.account_key(uid):
        return SignInOutcome(None, wrong)  # a blank user id names no one: nothing to check
    attempt = throttle.begin(ctx, address, uid)
    if attempt.refusal is not None:
        return SignInOutcome(None, attempt.refusal)
    user = find_user(ctx.session, uid) or _by_email(ctx, uid)
    cred = None if user is None else ctx.session.get(Credential, user.id)
    if user is None or cred is None:
        _verify(_DUMMY_HASH, password)
        throttle.failed(ctx, attempt)
        return SignInOutcome(None, wrong)
    if not _verify(cred.password_hash, password):
        cred.failed_attempts += 1
        cred.last_failed_at = ctx.at
        throttle.failed(ctx, attempt)
        return SignInOutcome(None, wrong)
    throttle.succeeded(ctx, attempt)
    if user.status == "locked":
        return SignInOutcome(None, locked_error(user.uid))
    if user.status != "active":
        return SignInOutcome(None, frozen_error(user.uid))
    cred.failed_attempts = 0
    if _HASHER.check_needs_rehash(cred.password_hash):
        cred.password_hash = hash_password(password)
    session = open_session(ctx, user, via="password", user_agent=user_agent)
    history.record(ctx, "session.start", "user", user.uid, via="password")
    return SignInOutcome(session, None)


def _by_email(ctx: Ctx, typed: str) -> User | None:
    """The user whose authoritative email address (stored lower-case, unique) was typed in the
    sign-in form's "Email or user id" field, when no user id matched. Forwarding aliases do
    not count: they are addresses that forward, not the person's own; nor do class accounts,
    whose address is their current holder's — a recycled account is signed in to by its name."""
    email = typed.strip().lower()
    if "@" not in email:
        return None
    return ctx.session.scalars(
        select(User).where(User.email == email, User.class_account.is_(False))
    ).one_or_none()


def frozen_error(uid: str) -> SignInFailed:
    """Told only to someone who gave the account's right password."""
    return SignInFailed(
        f"the password is right, but web access for {uid} is frozen by an administrator; ask"
        " an administrator of your institution (its domain coordinator) to thaw it",
        "uid",
    )


def locked_error(uid: str) -> SignInFailed:
    """Told only to someone who gave the account's right password."""
    return SignInFailed(
        f"the password is right, but the account {uid} is locked (its term has ended); ask"
        " the course's instructor if you still need it",
        "uid",
    )


def _verify(hashed: str, password: str) -> bool:
    """Whether ``password`` matches ``hashed``. A hash that is no argon2 hash (an account with
    no usable password) costs the same work as a real one, so the time taken says nothing."""
    try:
        return _HASHER.verify(hashed, password)
    except VerifyMismatchError:
        return False
    except (VerificationError, InvalidHashError):
        with contextlib.suppress(VerifyMismatchError):
            _HASHER.verify(_DUMMY_HASH, password)
        return False


def open_session(ctx: Ctx, user: User, *, via: str, user_agent: str = "") -> NewSession:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    row = WebSession(
        token_hash=digest(token),
        user_id=user.id,
        csrf_token=csrf,
        via=via,
        created_at=ctx.at,
        last_seen_at=ctx.at,
        expires_at=ctx.at + SESSION_MAX,
        user_agent=user_agent[:300],
    )
    ctx.session.add(row)
    ctx.session.flush()
    return NewSession(token, csrf, row, user)


def sso_session(ctx: Ctx, uid: str, *, user_agent: str = "") -> NewSession:
    """A session for a user the single-sign-on proxy vouches for (they must exist here)."""
    user = find_user(ctx.session, uid)
    if user is None:
        raise SignInFailed(f"the single-sign-on user {uid!r} has no coursegate account", "uid")
    if user.status != "active":
        raise SignInFailed(f"the account {uid} is {user.status}", "uid")
    session = open_session(ctx, user, via="sso", user_agent=user_agent)
    history.record(ctx, "session.start", "user", uid, via="sso")
    return session


def live_session(ctx_session: Session, token: str, at: Instant) -> tuple[WebSession, User] | None:
    """The session a cookie names, if it is still valid at ``at`` and its user active."""
    row = ctx_session.scalars(
        select(WebSession).where(WebSession.token_hash == digest(token))
    ).one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    if at >= row.expires_at or at >= row.last_seen_at + SESSION_IDLE:
        return None
    user = ctx_session.get(User, row.user_id)
    if user is None or user.status != "active":
        return None
    if at - row.last_seen_at > 60 * SECOND:  # write at most once a minute per session
        row.last_seen_at = at
    return row, user


def csrf_ok(row: WebSession, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(row.csrf_token, presented)


def sign_out(ctx: Ctx, row: WebSession) -> None:
    row.revoked_at = ctx.at
    history.record(ctx, "session.end", "user", ctx.actor)


def end_sessions(ctx: Ctx, user: User, *, keep_current: int | None = None) -> int:
    """Revoke every live session of ``user`` (but ``keep_current``); returns how many."""
    q = update(WebSession).where(
        WebSession.user_id == user.id,
        WebSession.revoked_at.is_(None),
        WebSession.expires_at > ctx.at,
    )
    if keep_current is not None:
        q = q.where(WebSession.id != keep_current)
    result = ctx.session.execute(q.values(revoked_at=ctx.at))
    return int(getattr(result, "rowcount", 0) or 0)


def end_tokens(ctx: Ctx, user: User) -> int:
    """Revoke every API token of ``user``; returns how many."""
    result = ctx.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=ctx.at)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def end_all_access(ctx: Ctx, user: User) -> tuple[int, int]:
    """End ``user``'s sessions and API tokens (used by wipes and by locking an account)."""
    return end_sessions(ctx, user), end_tokens(ctx, user)


def sessions_of(ctx: Ctx) -> list[WebSession]:
    me = ctx.user(ctx.actor)
    return list(
        ctx.session.scalars(
            select(WebSession)
            .where(
                WebSession.user_id == me.id,
                WebSession.revoked_at.is_(None),
                WebSession.expires_at > ctx.at,
            )
            .order_by(WebSession.id)
        )
    )


def revoke_session(ctx: Ctx, session_id: int) -> None:
    """Sign out one of one's own sessions (a lost laptop)."""
    me = ctx.user(ctx.actor)
    row = ctx.session.get(WebSession, session_id)
    if row is None or row.user_id != me.id:
        raise NotFound(f"you have no session {session_id}", "session_id")
    if row.revoked_at is None:
        row.revoked_at = ctx.at
        history.record(ctx, "session.end", "user", ctx.actor, session_id=session_id)


# -- API tokens -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewToken:
    token: str
    """``cg_<random>``: shown once, never again."""
    row: ApiToken


TOKEN_PREFIX = "cg_"


def create_token(
    ctx: Ctx, name: str, scopes: Sequence[str], *, expires_at: Instant | None = None
) -> NewToken:
    """A personal token for scripts, acting with the creator's own privileges (never while
    viewing as someone), limited to ``scopes``."""
    if ctx.acting_as is not None:
        raise Refused("stop viewing as someone before creating an API token")
    name = name.strip()
    if not name:
        raise Invalid("give the token a name (what script uses it)", "name")
    bad = sorted(set(scopes) - set(SCOPES))
    if bad or not scopes:
        raise Invalid(
            f"scopes must be some of {', '.join(SCOPES)}"
            + (f", not {', '.join(bad)}" if bad else ""),
            "scopes",
        )
    if expires_at is not None and expires_at <= ctx.at:
        raise Invalid("the expiry must be in the future", "expires_at")
    me = ctx.user(ctx.actor)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=me.id,
        name=name,
        token_hash=digest(token),
        prefix=token[:10],
        scopes=sorted(set(scopes)),
        created_at=ctx.at,
        expires_at=expires_at,
    )
    ctx.session.add(row)
    ctx.session.flush()
    history.record(ctx, "token.create", "user", me.uid, token_id=row.id, scopes=row.scopes)
    return NewToken(token, row)


def tokens_of(ctx: Ctx) -> list[ApiToken]:
    me = ctx.user(ctx.actor)
    return list(
        ctx.session.scalars(select(ApiToken).where(ApiToken.user_id == me.id).order_by(ApiToken.id))
    )


def revoke_token(ctx: Ctx, token_id: int) -> ApiToken:
    me = ctx.user(ctx.actor)
    row = ctx.session.get(ApiToken, token_id)
    if row is None or row.user_id != me.id:
        raise NotFound(f"you have no API token {token_id}", "token_id")
    if row.revoked_at is None:
        row.revoked_at = ctx.at
        history.record(ctx, "token.revoke", "user", me.uid, token_id=token_id)
    return row


def token_principal(ctx_session: Session, token: str, at: Instant) -> tuple[ApiToken, User] | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = ctx_session.scalars(
        select(ApiToken).where(ApiToken.token_hash == digest(token))
    ).one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and at >= row.expires_at:
        return None
    user = ctx_session.get(User, row.user_id)
    if user is None or user.status != "active":
        return None
    if row.last_used_at is None or at - row.last_used_at > 60 * SECOND:
        row.last_used_at = at
    return row, user


# -- view as ----------------------------------------------------------------------------------


def start_view_as(ctx: Ctx, row: WebSession, target: str, course_instance_id: int) -> User:
    """Record on the session that its user now views ``course_instance_id`` as ``target``,
    if the roles core allows it (checked again on every request afterwards)."""
    if row.acting_as_user_id is not None:
        raise Refused("you are already viewing as someone; stop first", "uid")
    ci = course_instance_by_id(ctx, course_instance_id)
    target_user = ctx.user(target, "uid")
    standing = unassigned_class_account(ctx, target_user)
    if standing is not None:
        raise Refused(f"{ctx.actor} may not view as {target}: {standing}", "uid")
    index = index_for(ctx, [ctx.actor, target])
    answer = view_as(index, ctx.actor, target, instance_area(ci), at=ctx.at_datetime)
    if not answer.ok:
        raise Refused(answer.reason, "uid")
    row.acting_as_user_id = target_user.id
    row.acting_in = str(ci.id)
    history.record(
        ctx,
        "view_as.start",
        "user",
        target,
        course_instance_id=ci.id,
        course_instance=instance_label(ci),
    )
    return target_user


def view_as_in_force(ctx: Ctx, row: WebSession) -> str | None:
    """Whom the session views as, if the roles core still allows it at ``ctx.at``.

    Asked on every request: when the viewer's staff role has been revoked or has expired (or
    the viewed user's role changed), view-as ends here, is recorded, and the request goes on
    as the real user alone. ``ctx`` is the real user's."""
    if row.acting_as_user_id is None:
        return None
    target = ctx.session.get(User, row.acting_as_user_id)
    ci_id = int(row.acting_in) if row.acting_in and row.acting_in.isdigit() else None
    ci = ctx.session.get(CourseInstance, ci_id) if ci_id is not None else None
    if target is not None and ci is not None:
        index = index_for(ctx, [ctx.actor, target.uid])
        answer = view_as(index, ctx.actor, target.uid, instance_area(ci), at=ctx.at_datetime)
        if answer.ok:
            return target.uid
        why = answer.reason
    else:
        why = "the viewed user or course instance no longer exists"
    row.acting_as_user_id = None
    row.acting_in = None
    history.record(
        ctx,
        "view_as.end",
        "user",
        target.uid if target is not None else "",
        course_instance_id=ci.id if ci is not None else None,
        reason=f"view-as is no longer allowed: {why}",
    )
    return None


def stop_view_as(ctx: Ctx, row: WebSession) -> None:
    if row.acting_as_user_id is None:
        return
    target = ctx.session.get(User, row.acting_as_user_id)
    row.acting_as_user_id = None
    ci_id = int(row.acting_in) if row.acting_in else None
    row.acting_in = None
    history.record(
        ctx,
        "view_as.stop",
        "user",
        target.uid if target else "",
        course_instance_id=ci_id,
    )
