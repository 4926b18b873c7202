"""Importing users from a CSV file (``uid,name,email[,auth][,domain]``): all or nothing, and
importing the same file again changes nothing."""

from __future__ import annotations

from sqlalchemy import select

from coursegate.services.common.conflicts import flush_or_conflict, translate_conflicts
from coursegate.services.common.context import Ctx
from coursegate.services.people.csv_import import BadCsv, CsvProblem, ImportReport, chunks, read_csv
from coursegate.services.people.user_fields import NewUser, check_new_user, domain_ids
from coursegate.services.people.users import add_user, require_create_in
from coursegate.store.models import (
    Domain,
    EmailAlias,
    User,
)

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
        add_user(ctx, new, domains[new.domain], via="csv")
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


__all__ = [
    "import_users",
]
