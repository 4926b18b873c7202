"""A user's fields, checked and normalised (uid, full name, email, authentication kind, domain),
and the stored things a new user must not clash with (known domains, email owners)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import func, select

from coursegate.core.model import canonical_uid
from coursegate.roles import AuthKind
from coursegate.roles.model import check_uid
from coursegate.services.common.context import Ctx
from coursegate.store.models import (
    Domain,
    EmailAlias,
    User,
)

_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)


def normalise_email(text: str) -> str:
    """An email address as stored: stripped and lower-case; :class:`ValueError` if malformed."""
    email = text.strip().lower()
    if not email:
        raise ValueError("the email address is empty; every user has one")
    if len(email) > 320:
        raise ValueError(f"{email[:40]!r}... is longer than 320 characters")
    if not _EMAIL.fullmatch(email):
        raise ValueError(f"{text.strip()!r} is not an email address; write it as name@example.edu")
    return email


def check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ValueError("the full name is empty; give the name people know the user by")
    if len(name) > 200:
        raise ValueError("the full name is longer than 200 characters")
    return name


def check_auth(auth: str) -> str:
    try:
        return AuthKind((auth.strip() or "internal").lower()).value
    except ValueError:
        kinds = ", ".join(k.value for k in AuthKind)
        raise ValueError(f"{auth!r} is not an authentication kind; use one of {kinds}") from None


@dataclass(frozen=True)
class NewUser:
    uid: str
    name: str
    email: str
    auth: str
    domain: str


def check_new_user(
    uid: str, name: str, email: str, auth: str, domain: str, domains: Iterable[str]
) -> tuple[NewUser | None, list[tuple[str, str]]]:
    """The user's fields, checked and normalised, or ``(None, [(field, problem), ...])``."""
    problems: list[tuple[str, str]] = []
    values: dict[str, str] = {}
    checks: tuple[tuple[str, Callable[[], str]], ...] = (
        ("uid", lambda: _checked_uid(uid)),
        ("name", lambda: check_name(name)),
        ("email", lambda: normalise_email(email)),
        ("auth", lambda: check_auth(auth)),
        ("domain", lambda: _checked_domain(domain, domains)),
    )
    for column, check in checks:
        try:
            values[column] = check()
        except ValueError as error:
            problems.append((column, str(error)))
    if problems:
        return None, problems
    return NewUser(**values), []


def _checked_uid(uid: str) -> str:
    uid = canonical_uid(uid)
    check_uid(uid)
    return uid


def uid_owner(ctx: Ctx, uid: str) -> str | None:
    """The stored user id that ``uid`` (canonical) would be the same user as, if any: equal,
    or — for an email-shaped id — equal but for case (a clash migration 0008 left alone)."""
    if "@" not in uid:
        return ctx.session.scalar(select(User.uid).where(User.uid == uid))
    return ctx.session.scalar(
        select(User.uid).where(func.lower(User.uid) == uid).order_by(User.uid != uid).limit(1)
    )


def uid_taken(uid: str, typed: str, owner: str) -> str:
    """The sentence refusing a new user ``uid`` (typed as ``typed``) that ``owner`` has."""
    if owner == typed.strip():
        return f"there is already a user {owner!r}"
    return (
        f"there is already a user {owner!r}, and {typed.strip()!r} is the same user id: user"
        " ids that are email addresses do not depend on upper or lower case"
    )


def _checked_domain(domain: str, domains: Iterable[str]) -> str:
    domain = domain.strip()
    known = set(domains)
    if domain not in known:
        listed = ", ".join(sorted(known)) or "none yet"
        raise ValueError(f"there is no domain {domain!r} (known domains: {listed})")
    return domain


def domain_ids(ctx: Ctx) -> dict[str, int]:
    return {d.name: d.id for d in ctx.session.scalars(select(Domain))}


def email_owner(ctx: Ctx, email: str) -> str | None:
    """The uid whose address or forwarding alias ``email`` is, if any."""
    owner = ctx.session.scalar(select(User.uid).where(User.email == email))
    if owner is not None:
        return owner
    return ctx.session.scalar(
        select(User.uid)
        .join(EmailAlias, EmailAlias.user_id == User.id)
        .where(EmailAlias.alias == email)
    )


__all__ = [
    "check_new_user",
]
