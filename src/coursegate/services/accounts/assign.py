"""Assigning accounts to the addresses an instructor gives, with their credentials by mail."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select

from coursegate.services.accounts import common, mail, rules
from coursegate.services.accounts.common import Account
from coursegate.services.accounts.credentials import (
    Issued,
    Issuer,
    generate_password,
    hash_generated_password,
)
from coursegate.services.accounts.pool import generate_accounts
from coursegate.services.accounts.service_base import MANAGE, event, open_ci
from coursegate.services.accounts.site import Site
from coursegate.services.common.authz import require
from coursegate.services.common.conflicts import flush_or_conflict, translate_conflicts
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import EveryProblem, Invalid
from coursegate.services.common.places import (
    instance_area,
    instance_label,
)
from coursegate.services.courses import enrollment
from coursegate.services.history.log import record
from coursegate.services.people import grants as roles
from coursegate.services.people import signin
from coursegate.services.people.csv_import import BadCsv, chunks, read_csv
from coursegate.services.people.user_fields import normalise_email
from coursegate.store.models import (
    AccountMail,
    AccountStem,
    ClassAccount,
    Course,
    CourseInstance,
    Credential,
    EmailAlias,
    Enrollment,
    RoleAssignmentRow,
    User,
)

# -- assigning --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One address of the instructor's list, with the line it came from."""

    line: int
    email: str
    name: str


@dataclass(frozen=True)
class ListProblem:
    line: int
    message: str

    def render(self) -> str:
        return f"line {self.line}: {self.message}"


class BadList(EveryProblem[ListProblem]):
    """A list of addresses with bad lines: all are listed, and nothing was written."""

    def __init__(self, problems: Sequence[ListProblem]) -> None:
        super().__init__(problems, f"the list has {len(problems)} bad line(s)", "emails")


_ANGLE = re.compile(r"^\s*(?P<name>[^<]*?)\s*<(?P<email>[^>]+)>\s*$")


def parse_list(text: str, *, csv: bool = False) -> list[Entry]:
    """The addresses of a pasted list (one a line: ``address``, ``address, Full Name`` or
    ``Full Name <address>``; blank lines and lines starting with ``#`` are skipped) or of a CSV
    file with a header (``email`` and optionally ``name``). Every address is checked; a bad
    line or a repeated address is an error that names the line (nothing is assigned)."""
    raw: list[tuple[int, str, str]] = []
    if csv:
        try:
            rows = read_csv(text, ("email",), ("name",))
        except BadCsv as error:
            raise BadList(
                [ListProblem(p.line, f"{p.column}: {p.message}") for p in error.problems]
            ) from None
        raw = [(line, row["email"], row.get("name", "")) for line, row in rows]
    else:
        for number, line in enumerate(text.splitlines(), start=1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            m = _ANGLE.match(stripped)
            if m is not None:
                raw.append((number, m["email"], m["name"].strip().strip('"')))
                continue
            parts = re.split(r"[,;\t]", stripped, maxsplit=1)
            address = parts[0]
            name = parts[1].strip() if len(parts) > 1 else ""
            raw.append((number, address, name))
    problems: list[ListProblem] = []
    entries: list[Entry] = []
    first: dict[str, int] = {}
    for number, address, name in raw:
        try:
            email = normalise_email(address)
        except ValueError as error:
            problems.append(ListProblem(number, str(error)))
            continue
        if rules.is_placeholder(email):
            problems.append(
                ListProblem(number, f"{email} is the placeholder of an unassigned account")
            )
            continue
        if email in first:
            problems.append(ListProblem(number, f"{email} repeats line {first[email]}"))
            continue
        first[email] = number
        entries.append(Entry(number, email, name.strip()[:200]))
    if problems:
        raise BadList(problems)
    if not entries:
        raise Invalid("emails: the list has no addresses; give one a line", "emails")
    return entries


@dataclass(frozen=True)
class AssignedLine:
    line: int
    account: str
    email: str
    name: str
    reassigned: bool
    """The account had been assigned before (a recycled account)."""
    mail_follows: str | None
    """The user whose address the account's mail follows, when the address is theirs."""

    def render(self, alias: str) -> str:
        follows = f" (the address of {self.mail_follows})" if self.mail_follows else ""
        again = ", recycled" if self.reassigned else ""
        return f"  line {self.line}: {self.account} -> {self.email}{follows}{again}; alias {alias}"


@dataclass
class AssignReport:
    course_instance: str
    role: str
    mail_domain: str
    assigned: list[AssignedLine] = field(default_factory=list)
    already: list[tuple[int, str, str]] = field(default_factory=list)
    """(line, address, the account it holds)."""
    generated: list[str] = field(default_factory=list)

    def render(self) -> str:
        what = rules.ROLES[self.role]
        lines = [
            f"{self.course_instance}: {len(self.assigned)} {what} account(s) assigned, "
            f"{len(self.already)} address(es) already hold one, "
            f"{len(self.generated)} account(s) generated"
        ]
        lines += [f"  generated {a}" for a in self.generated]
        lines += [a.render(rules.alias_for(a.account, self.mail_domain)) for a in self.assigned]
        lines += [
            f"  line {n}: {email} already holds {held}; not assigned again"
            for n, email, held in self.already
        ]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "course_instance": self.course_instance,
            "role": self.role,
            "assigned": [
                {
                    "line": a.line,
                    "account": a.account,
                    "email": a.email,
                    "name": a.name,
                    "alias": rules.alias_for(a.account, self.mail_domain),
                    "reassigned": a.reassigned,
                    "mail_follows": a.mail_follows,
                }
                for a in self.assigned
            ],
            "already": [
                {"line": n, "email": email, "account": held} for n, email, held in self.already
            ],
            "generated": self.generated,
        }


@translate_conflicts
def assign(
    ctx: Ctx,
    site: Site,
    issuer: Issuer,
    course_instance_id: int,
    entries: Sequence[Entry],
    *,
    role: str = rules.STUDENT,
    reason: str = "",
) -> AssignReport:
    """Give each address a free account of the course (generating more when the pool is
    short) with a new password, SSH keys, a client certificate, the forwarding alias and the
    Student (or TA) role; queue the credentials to the address. An address already holding an
    account of this course is reported, not given a second one."""
    if role not in rules.ROLES:
        raise Invalid(f"role: assign students (st) or TAs (ta), not {role!r}", "role")
    ci = open_ci(ctx, course_instance_id)
    label = instance_label(ci)
    require(ctx, MANAGE, instance_area(ci), f"assign class accounts in {label}")
    course = ci.course
    if not common.stems_of(ctx, course.id):
        raise Invalid(
            f"course: {course.name} has no account stem yet; an administrator sets one first "
            "(coursegate accounts stem)",
            "course",
        )
    report = AssignReport(label, role, site.mail_domain)
    holders = _holders(ctx, course, entries)
    fresh: list[tuple[Entry, int | None]] = []
    for e in entries:
        held = holders.get(e.email)
        if held is not None and held[1] is not None:
            report.already.append((e.line, e.email, held[1]))
        else:
            fresh.append((e, held[0] if held is not None else None))
    if not fresh:
        return report
    pool = _free_accounts(ctx, course, ci, len(fresh))
    if len(pool) < len(fresh):
        made = generate_accounts(ctx, issuer, course, len(fresh) - len(pool), ci)
        report.generated = [a.uid for a in made]
        pool += made
    pool = pool[: len(fresh)]
    ids = [a.user.id for a in pool]
    alias_taken = set(
        ctx.session.scalars(select(EmailAlias.user_id).where(EmailAlias.user_id.in_(ids)))
    )
    # Loaded once for all (the loop then finds them in the session: no query per account).
    list(ctx.session.scalars(select(Credential).where(Credential.user_id.in_(ids))))
    common.flush_keys(ctx, ids)
    for (entry, owner_id), acct in zip(fresh, pool, strict=True):
        report.assigned.append(
            _assign_one(ctx, site, issuer, ci, acct, entry, owner_id, role, reason, alias_taken)
        )
    flush_or_conflict(ctx)
    return report


def _holders(
    ctx: Ctx, course: Course, entries: Sequence[Entry]
) -> dict[str, tuple[int, str | None]]:
    """For each address already known: (the user holding it, the class account of this course
    it already has, or None). A forwarding alias in the list is an error (it is nobody's own
    address), except the alias of an account this course already gave that person."""
    emails = [e.email for e in entries]
    owner: dict[str, int] = {}
    aliases: dict[str, int] = {}
    for part in chunks(emails):
        for email, user_id in ctx.session.execute(
            select(User.email, User.id).where(User.email.in_(part))
        ):
            if email is not None:
                owner[email] = user_id
        for alias, user_id in ctx.session.execute(
            select(EmailAlias.alias, EmailAlias.user_id).where(EmailAlias.alias.in_(part))
        ):
            aliases[alias] = user_id
    if not owner and not aliases:
        return {}
    stem_ids = [s.id for s in common.stems_of(ctx, course.id)]
    people = list({*owner.values(), *aliases.values()})
    held: dict[int, str] = {}
    for user_id, mail_to, uid, ci_id in ctx.session.execute(
        select(
            ClassAccount.user_id,
            ClassAccount.mail_to_user_id,
            User.uid,
            ClassAccount.course_instance_id,
        )
        .join(User, User.id == ClassAccount.user_id)
        .where(
            ClassAccount.stem_id.in_(stem_ids),
            ClassAccount.state == "assigned",
            or_(ClassAccount.user_id.in_(people), ClassAccount.mail_to_user_id.in_(people)),
        )
    ):
        where = ctx.session.get(CourseInstance, ci_id) if ci_id is not None else None
        label = f"{uid} ({instance_label(where)})" if where is not None else uid
        held[user_id] = label
        if mail_to is not None:
            held[mail_to] = label
    problems: list[ListProblem] = []
    found: dict[str, tuple[int, str | None]] = {}
    for e in entries:
        if e.email in aliases:
            alias_user = aliases[e.email]
            if alias_user in held:
                found[e.email] = (alias_user, held[alias_user])
            else:
                alias_of = ctx.session.get(User, alias_user)
                problems.append(
                    ListProblem(
                        e.line,
                        f"{e.email} is the forwarding alias of "
                        f"{alias_of.uid if alias_of else 'an account'}, not a person's address",
                    )
                )
        elif e.email in owner:
            found[e.email] = (owner[e.email], held.get(owner[e.email]))
    if problems:
        raise BadList(problems)
    return found


def _free_accounts(ctx: Ctx, course: Course, ci: CourseInstance, wanted: int) -> list[Account]:
    """Free accounts of the course, in stem and suffix order, that were never used in this
    course instance (a recycled account never meets its former holder's work there)."""
    area = instance_area(ci).path
    used_here = (
        select(Enrollment.user_id)
        .where(Enrollment.course_instance_id == ci.id)
        .union(
            select(RoleAssignmentRow.user_id).where(
                or_(RoleAssignmentRow.area == area, RoleAssignmentRow.area.startswith(area + "/"))
            )
        )
    )
    rows = ctx.session.execute(
        select(User, ClassAccount, AccountStem)
        .join(ClassAccount, ClassAccount.user_id == User.id)
        .join(AccountStem, AccountStem.id == ClassAccount.stem_id)
        .where(
            AccountStem.course_id == course.id,
            ClassAccount.state == "free",
            ClassAccount.user_id.not_in(used_here),
        )
        .order_by(AccountStem.id, ClassAccount.position)
        .limit(wanted)
    ).all()
    return [Account(u, r, s, None) for u, r, s in rows]


def _assign_one(
    ctx: Ctx,
    site: Site,
    issuer: Issuer,
    ci: CourseInstance,
    acct: Account,
    entry: Entry,
    owner_id: int | None,
    role: str,
    reason: str,
    alias_taken: set[int],
) -> AssignedLine:
    user, row = acct.user, acct.row
    follows: str | None = None
    holder: User | None = None
    if owner_id is None:
        user.email = entry.email
        row.mail_to_user_id = None
    else:
        user.email = None
        row.mail_to_user_id = owner_id
        holder = ctx.session.get(User, owner_id)
        follows = holder.uid if holder is not None else None
    user.name = entry.name or (holder.name if holder is not None else "") or entry.email
    user.status = "active"
    user.class_account = role == rules.STUDENT
    user.class_course_instance_id = ci.id if role == rules.STUDENT else None
    reassigned = row.times_assigned > 0
    row.state = "assigned"
    row.role = role
    row.course_instance_id = ci.id
    row.assigned_at = ctx.at
    row.times_assigned += 1
    row.incomplete_at = None
    row.lock_reason = None
    row.status_before_lock = None
    password = generate_password()
    store_password(ctx, user, password)
    issued = issuer.issue(
        user.uid, ctx.at_datetime, email=rules.alias_for(user.uid, site.mail_domain)
    )
    common.store_keys(ctx, user, issued)
    alias = rules.alias_for(user.uid, site.mail_domain)
    if user.id not in alias_taken:
        ctx.session.add(EmailAlias(user_id=user.id, alias=alias))
    if role == rules.STUDENT:
        enrollment.enroll(ctx, ci.id, user.uid, reason=reason or "class account assigned")
    else:
        roles.grant_role(
            ctx, user.uid, rules.TA, instance_area(ci).path,
            reason=reason or "class account assigned",
        )  # fmt: skip
    event(ctx, "reassigned" if reassigned else "assigned", acct.stem.course_id, ci.id, user.id)
    queued = queue_credentials(
        ctx, site, ci, acct, entry.email, password=password, issued=issued, what="assigned"
    )
    record(
        ctx, "accounts.assign", "user", user.uid,
        course_instance_id=ci.id, reason=reason, role=role, email=entry.email,
        mail_follows=follows, reassigned=reassigned,
        **issued_fields(issued, password=True, mailed_to=entry.email if queued else None),
    )  # fmt: skip
    return AssignedLine(entry.line, user.uid, entry.email, user.name, reassigned, follows)


def store_password(ctx: Ctx, user: User, password: str) -> None:
    """A generated password, hashed with the light parameters fit for random passwords."""
    signin.store_hash(ctx, user, hash_generated_password(password))


def issued_fields(
    issued: Issued | None, *, password: bool, mailed_to: str | None
) -> dict[str, Any]:
    """What a history entry says about credentials issued: which kinds, the public keys'
    fingerprints, where they were mailed — never a secret's value (those go to the holder,
    once, in the mail)."""
    kinds = ([mail.PASSWORD] if password else []) + (
        [mail.SSH_KEY, mail.CERTIFICATE] if issued is not None else []
    )
    fields: dict[str, Any] = {"issued": kinds, "mailed_to": mailed_to}
    if issued is not None:
        fields["ssh_fingerprint"] = issued.ssh.fingerprint
        fields["certificate_fingerprint"] = issued.cert.fingerprint
    return fields


def queue_credentials(
    ctx: Ctx,
    site: Site,
    ci: CourseInstance,
    acct: Account,
    to: str | None,
    *,
    password: str | None,
    issued: Issued | None,
    what: str,
) -> AccountMail | None:
    uid = acct.uid
    label = instance_label(ci)
    alias = rules.alias_for(uid, site.mail_domain)
    lines = [
        f"Hello {acct.user.name},",
        "",
        f"Your class account for {label} ({ci.long_name or ci.short_name}) was {what}.",
        "",
        f"  user id:   {uid}   (sign in with the user id, never with an email address)",
    ]
    if password is not None:
        lines.append(f"  password:  {password}   (choose your own after signing in)")
    lines.append(f"  mail:      {alias} forwards to {to}")
    attachments: list[mail.Attachment] = []
    if issued is not None:
        lines += [
            "",
            "Attached: your SSH key pair and your client certificate. Keep the private key",
            f"({uid}_ed25519) and the certificate key ({uid}.key.pem) to yourself.",
            f"  SSH key fingerprint:    {issued.ssh.fingerprint}",
            f"  certificate (SHA-256):  {issued.cert.fingerprint}",
        ]
        attachments = [
            mail.Attachment(f"{uid}_ed25519", issued.ssh.private_openssh),
            mail.Attachment(f"{uid}_ed25519.pub", issued.ssh.public_line + "\n", "text/plain"),
            mail.Attachment(f"{uid}.pem", issued.cert.cert_pem, "application/x-pem-file"),
            mail.Attachment(f"{uid}.key.pem", issued.cert.key_pem, "application/x-pem-file"),
        ]
    lines += [
        "",
        "The account belongs to the course: at the end of the term it is locked, and four",
        "weeks later wiped (files, keys and mail forwarding removed). Keep copies of your work.",
    ]
    return mail.queue(
        ctx,
        site,
        kind="credentials",
        to=to,
        subject=f"Your class account for {label}: {uid}",
        body="\n".join(lines) + "\n",
        course_instance_id=ci.id,
        course=label,
        account=uid,
        attachments=attachments,
    )


__all__ = [
    "_ANGLE",
    "AssignReport",
    "AssignedLine",
    "BadList",
    "Entry",
    "ListProblem",
    "assign",
    "issued_fields",
    "parse_list",
    "queue_credentials",
    "store_password",
]
