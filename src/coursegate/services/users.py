"""Users: create, import from CSV, correct an email, freeze and thaw.

Users are identified by their user id (never by an email address) and have one authoritative
email address. Forwarding aliases (``email_aliases``) point at the user, not at an address, so
they follow a corrected email without being touched.

Who may do what (always asked of the roles core through :func:`authz.require`):

* creating or importing users needs ``mau`` (modify users' authentication) in the users'
  domain — a domain coordinator — or the system actor (the operator);
* correcting an email, freezing and thawing act on a person's own account: the person, a
  domain coordinator of their domain or a superuser, over people whose roles are all below
  theirs (:func:`coursegate.roles.over_account`), or the system actor — never course staff,
  and never while viewing as someone;
* reading a record: also staff of a course where the person now holds a role below theirs.

This module also holds the small helpers the other account, enrollment and role services share:
reading a CSV file with line numbers, flushing with conflicts translated, and the roles area of
a course instance.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import ParamSpec, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from coursegate.roles import Area, AuthKind
from coursegate.roles.model import check_uid
from coursegate.services.authz import require
from coursegate.services.context import Ctx
from coursegate.services.course_instances import instance_area, instance_label
from coursegate.services.errors import Conflict, EveryProblem, Invalid, NotFound, count
from coursegate.services.history import record
from coursegate.services.persons import require_over_account, require_see_person
from coursegate.services.signin import end_all_access
from coursegate.store.models import (
    CourseInstance,
    Credential,
    Domain,
    EmailAlias,
    User,
)

ENROLLED = ("invited", "joined", "blocked")
"""Enrollment statuses that make a course instance "the user's course"."""

_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)
P = ParamSpec("P")
R = TypeVar("R")
_CHUNK = 500
"""Rows per ``IN (...)`` query (SQLite limits the number of parameters)."""


# -- shared helpers ---------------------------------------------------------------------------


_TABLE_WORDS = {
    "enrollments": "this enrollment",
    "users": "this user",
    "sections": "this section",
    "section_memberships": "these section memberships",
    "role_assignments": "these roles",
    "custom_roles": "this custom role",
}


def _conflict(error: Exception) -> Conflict:
    text = str(error)
    named = [table for table in _TABLE_WORDS if table in text]
    what = _TABLE_WORDS[max(named, key=len)] if named else "it"
    if isinstance(error, StaleDataError):
        return Conflict(
            f"someone else changed {what} since it was loaded; load it again and retry",
            "version",
        )
    return Conflict(
        f"someone else created or changed {what} at the same time; load it again and retry"
    )


def translate_conflicts(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn a concurrent edit found while writing into :class:`Conflict`.

    ``version`` columns make SQLAlchemy raise ``StaleDataError`` when someone else changed the
    row since it was loaded (whether the write happens at an explicit or an automatic flush);
    a unique constraint fails when someone else created the same thing first.
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (StaleDataError, IntegrityError) as error:
            raise _conflict(error) from None

    return wrapper


def flush_or_conflict(ctx: Ctx) -> None:
    """Write the pending changes now, inside the use case, so a concurrent edit surfaces as
    :class:`Conflict` there rather than at the caller's commit."""
    try:
        ctx.session.flush()
    except (StaleDataError, IntegrityError) as error:
        raise _conflict(error) from None


@dataclass(frozen=True)
class CsvProblem:
    """One bad cell or row of a CSV file: its line number (1 = the header), column and why."""

    line: int
    column: str
    message: str

    def render(self) -> str:
        return f"line {self.line}, {self.column}: {self.message}"


class BadCsv(EveryProblem[CsvProblem]):
    """A CSV file with bad rows: all of them are listed, and nothing was written."""

    def __init__(self, problems: Sequence[CsvProblem], what: str = "the CSV file") -> None:
        super().__init__(problems, f"{what} has {count(len(problems), 'problem')}", "csv")


@dataclass
class ImportReport:
    """What an import did: rows that created something, and rows already in the store."""

    created: int = 0
    unchanged: int = 0
    lines: list[str] = field(default_factory=list)
    """One line per created row, for the command line."""


def read_csv(
    text: str, required: Sequence[str], optional: Sequence[str] = ()
) -> list[tuple[int, dict[str, str]]]:
    """The rows of a CSV file with a header line, as ``(line number, {column: value})``.

    Values are stripped; empty lines are skipped. Raises :class:`BadCsv` when the header lacks a
    required column, names an unknown one, or a row has more cells than the header.
    """
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise BadCsv([CsvProblem(1, "header", "the file is empty")]) from None
    except csv.Error as error:
        raise BadCsv([CsvProblem(1, "header", f"not readable as CSV: {error}")]) from None
    known = (*required, *optional)
    problems = [
        CsvProblem(1, "header", f"the column {name!r} is missing")
        for name in required
        if name not in header
    ]
    problems += [
        CsvProblem(1, "header", f"{name!r} is not a column; use {', '.join(known)}")
        for name in header
        if name not in known
    ]
    if problems:
        raise BadCsv(problems)
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > len(header):
                problems.append(
                    CsvProblem(line, "row", f"{len(cells)} cells but the header has {len(header)}")
                )
                continue
            values = {
                name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(header)
            }
            rows.append((line, values))
    except csv.Error as error:
        problems.append(CsvProblem(reader.line_num, "row", f"not readable as CSV: {error}"))
    if problems:
        raise BadCsv(problems)
    return rows


def chunks(items: Sequence[str], size: int = _CHUNK) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# -- checking fields --------------------------------------------------------------------------


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
    uid = uid.strip()
    check_uid(uid)
    return uid


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


# -- creating users ---------------------------------------------------------------------------


def require_create_in(ctx: Ctx, domain: str) -> None:
    """Creating users needs ``mau`` in their domain (a domain coordinator) or the system."""
    if ctx.is_system:
        return
    require(ctx, "mau", Area.of_domain(domain), f"create users in the domain {domain}")


@translate_conflicts
def create_user(
    ctx: Ctx,
    uid: str,
    name: str,
    email: str,
    *,
    domain: str,
    auth: str = "internal",
    class_course_instance_id: int | None = None,
    password: str | None = None,
) -> User:
    """Create one user; ``class_course_instance_id`` makes it a class account of that course
    instance (it may then be enrolled there only). ``password`` (internal accounts only) is
    their first password, stored as an argon2id hash and never in the history."""
    from coursegate.services import signin  # signin imports this module

    domains = domain_ids(ctx)
    new, problems = check_new_user(uid, name, email, auth, domain, domains)
    if new is None:
        raise Invalid("; ".join(f"{f}: {m}" for f, m in problems), problems[0][0])
    require_create_in(ctx, new.domain)
    if password is not None:
        if new.auth != "internal":
            raise Invalid(
                f"password: {new.auth} accounts sign in elsewhere; only internal accounts have "
                "a coursegate password",
                "password",
            )
        signin.check_password_strength(password)
    if ctx.session.scalar(select(User.id).where(User.uid == new.uid)) is not None:
        raise Conflict(f"uid: there is already a user {new.uid!r}", "uid")
    owner = email_owner(ctx, new.email)
    if owner is not None:
        raise Conflict(f"email: {new.email} already belongs to {owner}", "email")
    if (
        class_course_instance_id is not None
        and ctx.session.get(CourseInstance, class_course_instance_id) is None
    ):
        raise NotFound(
            f"class_course_instance_id: there is no course instance {class_course_instance_id}",
            "class_course_instance_id",
        )
    user = _add_user(ctx, new, domains[new.domain], via="create")
    if class_course_instance_id is not None:
        user.class_account = True
        user.class_course_instance_id = class_course_instance_id
    flush_or_conflict(ctx)
    if password is not None:
        signin.store_password(ctx, user, password)
        flush_or_conflict(ctx)
    return user


def _add_user(ctx: Ctx, new: NewUser, domain_id: int, *, via: str) -> User:
    user = User(
        uid=new.uid,
        name=new.name,
        email=new.email,
        auth=new.auth,
        domain_id=domain_id,
        status="active",
        class_account=False,
        created_at=ctx.at,
    )
    ctx.session.add(user)
    record(
        ctx, "user.create", "user", new.uid,
        name=new.name, email=new.email, auth=new.auth, domain=new.domain, via=via,
    )  # fmt: skip
    return user


USER_COLUMNS = ("uid", "name", "email")
USER_OPTIONAL = ("auth", "domain")


@translate_conflicts
def import_users(ctx: Ctx, csv_text: str, *, default_domain: str) -> ImportReport:
    """Create the users of a CSV file (``uid,name,email[,auth][,domain]`` with a header line).

    Needs ``mau`` in every domain the file names (checked before any row is compared with the
    stored users). All or nothing: every bad row is reported with its line and column
    (:class:`BadCsv`) and nothing is written. A row whose user already exists with the same
    fields is left alone, so importing the same file again changes nothing; a row that
    contradicts a stored user is an error (emails are corrected with :func:`correct_email`,
    which records the change).
    """
    rows = read_csv(csv_text, USER_COLUMNS, USER_OPTIONAL)
    domains = domain_ids(ctx)
    checked, problems = _check_rows(rows, default_domain, domains)
    # Before comparing rows with stored users: the answers would tell anyone who may not
    # create users there the names and addresses of existing ones.
    for domain in sorted({n.domain for _, n in checked}):
        require_create_in(ctx, domain)
    existing = _existing_users(ctx, [n.uid for _, n in checked])
    taken = _taken_emails(ctx, [n.email for _, n in checked])
    fresh: list[NewUser] = []
    for line, new in checked:
        stored = existing.get(new.uid)
        if stored is None:
            owner = taken.get(new.email)
            if owner is not None:
                problems.append(CsvProblem(line, "email", f"{new.email} belongs to {owner}"))
            else:
                fresh.append(new)
            continue
        problems += [
            CsvProblem(line, column, message) for column, message in _differences(stored, new)
        ]
    if problems:
        raise BadCsv(sorted(problems, key=lambda p: p.line))
    report = ImportReport(unchanged=len(checked) - len(fresh))
    for new in fresh:
        _add_user(ctx, new, domains[new.domain], via="csv")
        report.created += 1
        report.lines.append(f"created {new.uid} ({new.name}) <{new.email}>")
    flush_or_conflict(ctx)
    return report


def _check_rows(
    rows: list[tuple[int, dict[str, str]]], default_domain: str, domains: dict[str, int]
) -> tuple[list[tuple[int, NewUser]], list[CsvProblem]]:
    """Each row's fields checked, and the file's own duplicates found."""
    checked: list[tuple[int, NewUser]] = []
    problems: list[CsvProblem] = []
    first_uid: dict[str, int] = {}
    first_email: dict[str, int] = {}
    for line, row in rows:
        new, bad = check_new_user(
            row["uid"], row["name"], row["email"], row.get("auth", ""),
            row.get("domain") or default_domain, domains,
        )  # fmt: skip
        problems += [CsvProblem(line, column, message) for column, message in bad]
        if new is None:
            continue
        if new.uid in first_uid:
            problems.append(
                CsvProblem(
                    line, "uid", f"{new.uid} is listed twice (first on line {first_uid[new.uid]})"
                )
            )
            continue
        if new.email in first_email:
            problems.append(
                CsvProblem(
                    line,
                    "email",
                    f"{new.email} is listed twice (first on line "
                    f"{first_email[new.email]}); every user has their own address",
                )
            )
            continue
        first_uid[new.uid] = line
        first_email[new.email] = line
        checked.append((line, new))
    return checked, problems


def _existing_users(ctx: Ctx, uids: list[str]) -> dict[str, tuple[User, str]]:
    found: dict[str, tuple[User, str]] = {}
    for part in chunks(uids):
        for user, domain in ctx.session.execute(
            select(User, Domain.name).join(Domain).where(User.uid.in_(part))
        ):
            found[user.uid] = (user, domain)
    return found


def _taken_emails(ctx: Ctx, emails: list[str]) -> dict[str, str]:
    """Which of ``emails`` already belong to a user (as address or alias), and to whom."""
    taken: dict[str, str] = {}
    for part in chunks(emails):
        for email, uid in ctx.session.execute(
            select(User.email, User.uid).where(User.email.in_(part))
        ):
            if email is not None:
                taken[email] = uid
        for alias, uid in ctx.session.execute(
            select(EmailAlias.alias, User.uid)
            .join(User, User.id == EmailAlias.user_id)
            .where(EmailAlias.alias.in_(part))
        ):
            taken[alias] = uid
    return taken


def _differences(stored: tuple[User, str], new: NewUser) -> list[tuple[str, str]]:
    user, domain = stored
    pairs = (
        ("name", user.name, new.name),
        ("email", user.email, new.email),
        ("auth", user.auth, new.auth),
        ("domain", domain, new.domain),
    )
    return [
        (column, f"{new.uid} already exists with {column} {old!r}, not {wanted!r}; "
         + ("correct an email with the email correction, which keeps the history"
            if column == "email" else "a file import does not change existing users"))
        for column, old, wanted in pairs
        if old != wanted
    ]  # fmt: skip


# -- one user's record ------------------------------------------------------------------------


def get_user(ctx: Ctx, uid: str) -> User:
    """One user's record: the user themselves (the real user: whom one views as is not
    oneself), whoever may act on their account (their domain coordinator, an administrator),
    staff of a course where the user now holds a role below theirs (``vst``), or the system.
    An invitation or a block puts no one under anyone."""
    user = ctx.user(uid)
    require_see_person(ctx, user)
    return user


# -- correcting an email ----------------------------------------------------------------------


@translate_conflicts
def correct_email(ctx: Ctx, uid: str, new_email: str, *, reason: str = "") -> User:
    """Replace ``uid``'s authoritative email. Their forwarding aliases point at the user, so
    they follow. History keeps the old and the new address."""
    user = ctx.user(uid)
    try:
        email = normalise_email(new_email)
    except ValueError as error:
        raise Invalid(f"email: {error}", "email") from None
    authority = require_over_account(ctx, user, f"correct the email of {uid}")
    if email == user.email:
        return user
    owner = email_owner(ctx, email)
    if owner is not None:
        raise Conflict(f"email: {email} already belongs to {owner}", "email")
    old = user.email
    user.email = email
    record(
        ctx, "user.email", "user", uid,
        reason=reason, old=old, new=email, authority=authority.basis,
    )  # fmt: skip
    flush_or_conflict(ctx)
    return user


# -- freezing and thawing ---------------------------------------------------------------------


@translate_conflicts
def freeze_user(ctx: Ctx, uid: str, *, reason: str = "") -> User:
    """Stop ``uid``'s access (status active → frozen): their signed-in sessions and API tokens
    end now, so after a thaw they sign in again and make new tokens (whoever may have used
    them meanwhile is out for good). Freezing a frozen user changes nothing."""
    return _set_status(ctx, uid, "frozen", reason, "freeze")


@translate_conflicts
def thaw_user(ctx: Ctx, uid: str, *, reason: str = "") -> User:
    """Give a frozen user their access back (status frozen → active)."""
    return _set_status(ctx, uid, "active", reason, "thaw")


def _set_status(ctx: Ctx, uid: str, status: str, reason: str, verb: str) -> User:
    user = ctx.user(uid)
    authority = require_over_account(ctx, user, f"{verb} the web access of {uid}")
    if user.status == "locked":
        raise Invalid(
            f"status: {uid} is locked (the account is shut); a locked account is neither "
            "frozen nor thawed",
            "status",
        )
    if user.status == status:
        return user
    old = user.status
    user.status = status
    ended: dict[str, int] = {}
    if status == "active":
        # Thawing starts the count of failed sign-ins afresh (shown to administrators).
        cred = ctx.session.get(Credential, user.id)
        if cred is not None:
            cred.failed_attempts = 0
    else:
        sessions, tokens = end_all_access(ctx, user)
        counts = {"sessions_ended": sessions, "tokens_revoked": tokens}
        ended = {k: n for k, n in counts.items() if n}  # the history says what ended, if any
    record(
        ctx, f"user.{verb}", "user", uid,
        reason=reason, old=old, new=status, authority=authority.basis, **ended,
    )  # fmt: skip
    flush_or_conflict(ctx)
    return user


__all__ = [
    "ENROLLED",
    "BadCsv",
    "CsvProblem",
    "ImportReport",
    "check_new_user",
    "chunks",
    "correct_email",
    "create_user",
    "flush_or_conflict",
    "freeze_user",
    "get_user",
    "import_users",
    "instance_area",
    "instance_label",
    "read_csv",
    "thaw_user",
    "translate_conflicts",
]
