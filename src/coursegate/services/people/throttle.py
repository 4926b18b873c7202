"""Slowing down password guessing without touching anyone's account (issue 13, finding 5).

Failed sign-ins are counted per **(client address, account as typed)** — the user id with the
spaces at its ends removed, Unicode-normalised (NFKC) and case-folded, whether or not such a
user exists. The first :data:`FREE_FAILURES` failures of a pair cost nothing; after that the pair
waits 1 s, 2 s, 4 s … (at most :data:`MAX_DELAY`) before its next attempt is even checked. A
success resets the pair. Each address also has a looser cap over every account
(:data:`ADDRESS_MAX_FAILURES` failures in :data:`ADDRESS_WINDOW`, then it waits for the window to
end), so one address cannot spray one password over many accounts. An IPv6 client counts by its
/64 network (what one machine usually holds).

The account itself is never changed by failures: no freeze, no session or token ended. An
attacker's failures slow the attacker's own address, and the owner signs in from theirs.

State lives in the ``sign_in_throttle`` table (several servers share it); the row with
``account == ""`` is the address's count over every account. An attempt locks its pair's row
before the password is checked, so parallel requests for one pair are checked one at a time
(each sees the wait the previous failure set). Rows whose wait ended more than
:data:`FORGET_AFTER` ago count as forgotten and are deleted, a few at a time, by later failures
(never waiting for a row someone else holds). Time is ``ctx.at``; nothing here reads the clock.

Administrators (``mau`` in the person's domain, or at the system level) see the throttled pairs
and clear them (:func:`overview`, :func:`clear`).
"""

from __future__ import annotations

import ipaddress
import math
import unicodedata
from dataclasses import dataclass

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.orm import Session

from coursegate.core.instants import MINUTE, SECOND, Instant
from coursegate.roles import Area
from coursegate.services.common.authz import allowed, require
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Conflict, NotFound, Refused, ServiceError, count
from coursegate.services.history import log as history
from coursegate.store.db import insert_unless_exists
from coursegate.store.models import Domain, HistoryEntry, SignInThrottle, User

FREE_FAILURES = 3
"""Failures in a row of one (address, account) pair that cost no wait."""
FIRST_DELAY = 1 * SECOND
"""The wait after the first failure beyond the free ones; it doubles with each further one."""
MAX_DELAY = 15 * MINUTE
"""The longest wait of a pair."""
ADDRESS_MAX_FAILURES = 50
"""Failures from one address over every account within :data:`ADDRESS_WINDOW` after which the
address waits for the window to end."""
ADDRESS_WINDOW = 15 * MINUTE
FORGET_AFTER = 24 * 60 * MINUTE
"""A row whose wait ended this long ago is forgotten (its failures no longer count) and
deleted."""
CLEANUP_BATCH = 100
"""Forgotten rows deleted by one failed sign-in (a bound on the work one request does)."""
EVERY_ACCOUNT = ""
"""The ``account`` of an address's row over every account (a typed account is never empty)."""
LOCAL = "local"
"""The address of sign-ins made in-process (the command line, tests): not from the network."""
SHOWN = 500
"""At most this many rows on the administrators' page."""


class Throttled(ServiceError):
    """Too many failed sign-ins from this address (for this account): wait ``retry_after``
    seconds. The same answer whether the account exists or not."""

    code = "too_many_failed_sign_ins"
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, None)
        self.retry_after = retry_after


# -- keys -------------------------------------------------------------------------------------


def account_key(typed: str) -> str:
    """The account as typed, normalised: NFKC, case-folded, control characters dropped, the
    spaces at the ends removed, at most 200 characters. ``""`` for a blank user id."""
    text = unicodedata.normalize("NFKC", typed).casefold()
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cc")
    return text.strip()[:200]


def address_key(address: str) -> str:
    """The address failures are counted under: an IPv4 address as it is (an IPv4-mapped IPv6
    address as the IPv4 one), an IPv6 address as its /64 network, anything else (a test
    client's name) as given, at most 64 characters."""
    text = address.strip()
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        cleaned = "".join(ch for ch in text if ch.isprintable())
        return cleaned[:64] or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def delay_after(failures: int) -> Instant:
    """How long a pair waits after its ``failures``-th failure in a row: nothing for the free
    ones, then 1 s, 2 s, 4 s … up to :data:`MAX_DELAY`."""
    beyond = failures - FREE_FAILURES
    if beyond <= 0:
        return 0
    if beyond > 40:  # far past the cap; no need to compute 2**beyond
        return MAX_DELAY
    return int(min(FIRST_DELAY * 2 ** (beyond - 1), MAX_DELAY))


def seconds_until(until: Instant, at: Instant) -> int:
    """Whole seconds from ``at`` to ``until``, rounded up, at least 1 (``Retry-After``)."""
    return max(1, math.ceil((until - at) / SECOND))


def in_words(seconds: int) -> str:
    if seconds < 120:
        return count(seconds, "second")
    return count(math.ceil(seconds / 60), "minute")


# -- an attempt -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """A sign-in attempt: refused (``refusal``) or let through with its pair's row locked
    until the transaction ends (pass it to :func:`failed` or :func:`succeeded`)."""

    address: str
    account: str
    row: SignInThrottle | None
    refusal: Throttled | None = None


def begin(ctx: Ctx, address: str, typed: str) -> Attempt:
    """Whether an attempt from ``address`` for the account ``typed`` may be checked now.

    A throttled attempt is answered from a plain read (nothing is written, nothing locked).
    Otherwise the pair's row is created if need be and locked, and the wait read again under
    the lock (a parallel attempt may have failed meanwhile)."""
    addr, account = address_key(address), account_key(typed)
    if not account:
        raise ValueError("a blank user id is refused before it is throttled")
    refusal = _waiting(ctx, addr, account)
    if refusal is not None:
        return Attempt(addr, account, None, refusal)
    row = _locked(ctx, addr, account)
    if row.next_allowed_at > ctx.at:
        return Attempt(addr, account, None, _pair_refusal(row.next_allowed_at, ctx.at))
    return Attempt(addr, account, row)


def failed(ctx: Ctx, attempt: Attempt) -> None:
    """Count a failed attempt: the pair's wait grows, the address's count over every account
    grows; a few forgotten rows are deleted."""
    row = attempt.row
    assert row is not None, "only an attempt let through can fail"
    at = ctx.at
    if row.last_failure_at is None or _forgotten(row, at):
        row.failures = 0
        row.first_failure_at = at
    row.failures += 1
    row.last_failure_at = at
    row.next_allowed_at = at + delay_after(row.failures)
    whole = _locked(ctx, attempt.address, EVERY_ACCOUNT)
    if whole.first_failure_at is None or at - whole.first_failure_at >= ADDRESS_WINDOW:
        whole.failures = 0
        whole.first_failure_at = at
    whole.failures += 1
    whole.last_failure_at = at
    whole.next_allowed_at = (
        whole.first_failure_at + ADDRESS_WINDOW if whole.failures >= ADDRESS_MAX_FAILURES else at
    )
    _forget_old(ctx, attempt.address, attempt.account)


def succeeded(ctx: Ctx, attempt: Attempt) -> None:
    """The right password: the pair starts afresh (the address's count stays)."""
    if attempt.row is not None:
        ctx.session.delete(attempt.row)


def _waiting(ctx: Ctx, address: str, account: str) -> Throttled | None:
    at = ctx.at
    whole = ctx.session.get(SignInThrottle, (address, EVERY_ACCOUNT))
    pair = ctx.session.get(SignInThrottle, (address, account))
    pair_until = pair.next_allowed_at if pair is not None else at
    whole_until = whole.next_allowed_at if whole is not None else at
    if whole_until > at and whole_until >= pair_until:
        seconds = seconds_until(whole_until, at)
        return Throttled(
            f"too many failed sign-ins from this address; try again in {in_words(seconds)}",
            seconds,
        )
    if pair_until > at:
        return _pair_refusal(pair_until, at)
    return None


def _pair_refusal(until: Instant, at: Instant) -> Throttled:
    seconds = seconds_until(until, at)
    return Throttled(
        "too many failed sign-ins from this address for this account; try again in "
        f"{in_words(seconds)}",
        seconds,
    )


def _forgotten(row: SignInThrottle, at: Instant) -> bool:
    return row.next_allowed_at < at - FORGET_AFTER


def _locked(ctx: Ctx, address: str, account: str) -> SignInThrottle:
    """The row of ``(address, account)``, created if missing, locked until the transaction
    ends (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's write transactions take the whole
    database)."""
    q = (
        select(SignInThrottle)
        .where(SignInThrottle.address == address, SignInThrottle.account == account)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    for _ in range(3):
        row = ctx.session.scalars(q).one_or_none()
        if row is not None:
            return row
        fresh = SignInThrottle(address=address, account=account, failures=0, next_allowed_at=ctx.at)
        if insert_unless_exists(ctx.session, fresh):
            return fresh
    raise Conflict("many sign-ins at the same moment from this address; try again")


def _forget_old(ctx: Ctx, address: str, account: str) -> None:
    """Delete a few rows whose wait ended more than :data:`FORGET_AFTER` ago, skipping rows
    other requests hold (so this never waits, and never deadlocks), and this attempt's own."""
    mine = (SignInThrottle.address == address) & SignInThrottle.account.in_(
        [account, EVERY_ACCOUNT]
    )
    old = (
        select(SignInThrottle.address, SignInThrottle.account)
        .where(SignInThrottle.next_allowed_at < ctx.at - FORGET_AFTER, ~mine)
        .limit(CLEANUP_BATCH)
        .with_for_update(skip_locked=True)
    )
    ctx.session.execute(
        delete(SignInThrottle).where(
            tuple_(SignInThrottle.address, SignInThrottle.account).in_(old)
        ),
        execution_options={"synchronize_session": False},
    )


# -- administrators ---------------------------------------------------------------------------

ADMINISTER = "mau"
"""Modify users' authentication: a domain coordinator in their domain, a superuser anywhere."""


@dataclass(frozen=True)
class ThrottleView:
    """A throttled (address, account) pair, or an address over every account (``account``
    empty)."""

    address: str
    account: str
    failures: int
    last_failure_at: Instant | None
    until: Instant
    """When the wait ends."""
    uid: str | None
    """The user the typed account names, if one does."""


@dataclass(frozen=True)
class FrozenView:
    uid: str
    name: str
    domain: str
    frozen_at: Instant | None
    frozen_by: str
    reason: str


@dataclass(frozen=True)
class Overview:
    frozen: list[FrozenView]
    throttled: list[ThrottleView]
    domains: list[str]
    """The domains whose people the caller administers."""
    everywhere: bool
    """The caller administers the whole system (sees every address and typed name)."""


def administered_domains(ctx: Ctx) -> tuple[list[str], bool]:
    """The domains where the caller holds ``mau``, and whether they hold it at the system
    level; :class:`Refused` when neither."""
    everywhere, why = allowed(ctx, ADMINISTER, Area.system())
    names = list(ctx.session.scalars(select(Domain.name).order_by(Domain.name)))
    if everywhere:
        return names, True
    mine = [d for d in names if allowed(ctx, ADMINISTER, Area.of_domain(d))[0]]
    if not mine:
        raise Refused(
            f"{ctx.effective} may not see sign-ins: it needs {ADMINISTER} in a domain "
            f"(a domain coordinator) or at the system level; {why}"
        )
    return mine, False


def _users_named(session: Session, keys: set[str]) -> dict[str, tuple[str, str]]:
    """Typed account → (uid, domain) for the keys that name a user."""
    found: dict[str, tuple[str, str]] = {}
    if not keys:
        return found
    rows = session.execute(
        select(User.uid, Domain.name).join(Domain).where(func.lower(User.uid).in_(sorted(keys)))
    )
    for uid, domain in rows:
        key = account_key(uid)
        if key in keys:
            found[key] = (uid, domain)
    return found


def overview(ctx: Ctx) -> Overview:
    """What an administrator sees: the frozen accounts of their domains (who froze them, when
    and why) and the pairs waiting now whose typed account names someone of their domains.
    A system administrator also sees addresses over every account and names no one has."""
    domains, everywhere = administered_domains(ctx)
    frozen_users = list(
        ctx.session.execute(
            select(User.uid, User.name, Domain.name)
            .join(Domain)
            .where(User.status == "frozen", Domain.name.in_(domains))
            .order_by(User.uid)
            .limit(SHOWN)
        )
    )
    last: dict[str, HistoryEntry] = {}
    if frozen_users:
        for entry in ctx.session.scalars(
            select(HistoryEntry)
            .where(
                HistoryEntry.action.in_(("user.freeze", "user.frozen")),
                HistoryEntry.subject_kind == "user",
                HistoryEntry.subject.in_([u for u, _, _ in frozen_users]),
            )
            .order_by(HistoryEntry.at, HistoryEntry.id)
        ):
            last[entry.subject] = entry
    frozen = [
        FrozenView(
            uid,
            name,
            domain,
            last[uid].at if uid in last else None,
            last[uid].actor if uid in last else "",
            last[uid].reason if uid in last else "",
        )
        for uid, name, domain in frozen_users
    ]
    rows = list(
        ctx.session.scalars(
            select(SignInThrottle)
            .where(SignInThrottle.next_allowed_at > ctx.at)
            .order_by(SignInThrottle.next_allowed_at.desc(), SignInThrottle.address)
            .limit(SHOWN)
        )
    )
    named = _users_named(ctx.session, {r.account for r in rows if r.account})
    throttled: list[ThrottleView] = []
    for r in rows:
        who = named.get(r.account)
        if not everywhere and (who is None or who[1] not in domains):
            continue
        throttled.append(
            ThrottleView(
                r.address,
                r.account,
                r.failures,
                r.last_failure_at,
                r.next_allowed_at,
                who[0] if who is not None else None,
            )
        )
    return Overview(frozen, throttled, domains, everywhere)


def clear(ctx: Ctx, address: str, account: str, *, reason: str = "") -> str:
    """Forget the failures of ``(address, account)`` (``account`` empty: the address over every
    account): its next attempt is checked at once. Needs ``mau`` in the domain of the user the
    account names, or at the system level for an address over every account and for names no
    one has. Returns what was done, in words."""
    address, account = address.strip(), account_key(account)
    row = ctx.session.get(SignInThrottle, (address, account))
    who = _users_named(ctx.session, {account}).get(account) if account else None
    what = (
        f"clear the sign-in wait of {address} for {account}"
        if account
        else f"clear the sign-in wait of {address} over every account"
    )
    if who is not None:
        require(ctx, ADMINISTER, Area.of_domain(who[1]), what)
    else:
        require(ctx, ADMINISTER, Area.system(), what)
    if row is None:
        raise NotFound(f"there is no sign-in wait for {address} and {account or 'every account'}")
    failures = row.failures
    ctx.session.delete(row)
    ctx.session.flush()
    history.record(
        ctx,
        "sign_in.throttle_cleared",
        "user" if who is not None else "address",
        who[0] if who is not None else (account or address),
        reason=reason,
        address=address,
        account=account,
        failures=failures,
    )
    target = account or "every account"
    return f"Sign-ins from {address} for {target} are no longer held back ({failures} failed)."


__all__ = [
    "ADDRESS_MAX_FAILURES",
    "ADDRESS_WINDOW",
    "ADMINISTER",
    "FREE_FAILURES",
    "LOCAL",
    "MAX_DELAY",
    "Attempt",
    "Overview",
    "Throttled",
    "account_key",
    "address_key",
    "begin",
    "clear",
    "delay_after",
    "failed",
    "in_words",
    "overview",
    "seconds_until",
    "succeeded",
]
