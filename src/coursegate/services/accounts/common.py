"""What the class-account use cases share: finding accounts, courses and stems; asking the
roles core who may act; where an account's mail goes; keys; locking.

Every function takes the caller's :class:`Ctx` and works in its transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select, update

from coursegate.core.model import canonical_uid
from coursegate.roles import Area
from coursegate.services.accounts import rules
from coursegate.services.accounts.credentials import Issued
from coursegate.services.common.authz import index_for, require
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Invalid, NotFound, Refused
from coursegate.services.common.places import (
    domain_name,
    ensure_domain,
    instance_area,
    instance_label,
)
from coursegate.services.people.signin import end_all_access
from coursegate.store.models import (
    AccountKey,
    AccountStem,
    ClassAccount,
    Course,
    CourseInstance,
    Domain,
    EmailAlias,
    RoleAssignmentRow,
    User,
)

STAFF_ROLES = ("cc", "in", "ta")
INSTRUCTOR_ROLES = ("cc", "in")


# -- finding ----------------------------------------------------------------------------------


def course_named(ctx: Ctx, name: str) -> Course:
    found = ctx.session.scalars(select(Course).where(Course.name == name.strip())).one_or_none()
    if found is None:
        raise NotFound(f"course: there is no course {name!r}", "course")
    return found


def course_domain(ctx: Ctx, course: Course) -> Domain:
    """The domain of a course's accounts (its institution's), created when missing."""
    return ensure_domain(ctx, domain_name(course.institution), course.institution or "")


def stems_of(ctx: Ctx, course_id: int) -> list[AccountStem]:
    return list(
        ctx.session.scalars(
            select(AccountStem).where(AccountStem.course_id == course_id).order_by(AccountStem.id)
        )
    )


@dataclass(frozen=True)
class Account:
    """A class account: its user row, its class-account row, and where it is assigned."""

    user: User
    row: ClassAccount
    stem: AccountStem
    ci: CourseInstance | None

    @property
    def uid(self) -> str:
        return self.user.uid


def account(
    ctx: Ctx, uid: str, *, ci: CourseInstance | None = None, field: str = "account"
) -> Account:
    """The class account ``uid``; with ``ci``, it must be assigned there (else NotFound, so a
    course's staff learn nothing about other courses' accounts)."""
    found = ctx.session.execute(
        select(User, ClassAccount, AccountStem)
        .join(ClassAccount, ClassAccount.user_id == User.id)
        .join(AccountStem, AccountStem.id == ClassAccount.stem_id)
        .where(User.uid == canonical_uid(uid))
    ).one_or_none()
    if found is None or (ci is not None and found[1].course_instance_id != ci.id):
        where = f" in {instance_label(ci)}" if ci is not None else ""
        raise NotFound(f"{field}: there is no class account {uid!r}{where}", field)
    user, row, stem = found
    assigned = (
        ctx.session.get(CourseInstance, row.course_instance_id)
        if row.course_instance_id is not None
        else None
    )
    return Account(user, row, stem, assigned)


def accounts_of(
    ctx: Ctx, ci: CourseInstance, *, states: Sequence[str] = ("assigned",)
) -> list[Account]:
    """The class accounts assigned to a course instance, by name."""
    rows = ctx.session.execute(
        select(User, ClassAccount, AccountStem)
        .join(ClassAccount, ClassAccount.user_id == User.id)
        .join(AccountStem, AccountStem.id == ClassAccount.stem_id)
        .where(ClassAccount.course_instance_id == ci.id, ClassAccount.state.in_(states))
        .order_by(User.uid)
    ).all()
    return [Account(u, r, s, ci) for u, r, s in rows]


# -- who may act ------------------------------------------------------------------------------


def require_admin(ctx: Ctx, course: Course, what: str) -> None:
    """Administrator actions (stems, generating ahead): ``mau`` (modify users' authentication)
    in the course's domain — a domain coordinator or the superuser — or the operator."""
    if ctx.is_system:
        return
    require(ctx, "mau", Area.of_domain(domain_name(course.institution)), what)


def actor_rank(ctx: Ctx, ci: CourseInstance) -> int:
    """The acting user's rank in the course instance (:func:`rules.rank_of`)."""
    if ctx.is_system:
        return rules.ADMIN_RANK
    uid = ctx.effective
    index = index_for(ctx, [uid])
    held = index.current_assignments(uid, ctx.at_datetime)
    area = instance_area(ci)
    in_course = [a.role for a in held if a.area.course_area == area]
    admin = any(a.role in ("su", "dc") for a in held)
    return rules.rank_of(in_course, administrator=admin)


def require_over(ctx: Ctx, acct: Account, privilege: str, what: str) -> CourseInstance:
    """The actor holds ``privilege`` in the account's course instance and outranks it
    (instructors over students and TAs, TAs over students). Returns the course instance."""
    ci = assigned_ci(acct)
    require(ctx, privilege, instance_area(ci), f"{what} in {instance_label(ci)}")
    why = rules.may_act_over(actor_rank(ctx, ci), acct.row.role)
    if why is not None:
        raise Refused(
            f"{ctx.effective} may not {what}: {acct.uid} is a {rules.ROLES[acct.row.role]} "
            f"account of {instance_label(ci)} and {why}",
            "account",
        )
    return ci


def assigned_ci(acct: Account) -> CourseInstance:
    if acct.row.state == "wiping":
        raise Invalid(
            f"account: {acct.uid} is being wiped; it returns to the pool when the wipe finishes",
            "account",
        )
    if acct.row.state != "assigned" or acct.ci is None:
        raise Invalid(
            f"account: {acct.uid} is not assigned to anyone (it is free in the pool of its course)",
            "account",
        )
    return acct.ci


# -- addresses --------------------------------------------------------------------------------


def address_of(ctx: Ctx, acct: Account) -> str | None:
    """Where the account's mail goes: the person's one authoritative address — the account's
    own, or else (a person with several accounts) that of the user it follows."""
    return _resolve(ctx, acct.user, acct.row)


def _resolve(ctx: Ctx, user: User, row: ClassAccount | None) -> str | None:
    if not rules.is_placeholder(user.email):
        return user.email
    if row is not None and row.mail_to_user_id is not None:
        holder = ctx.session.get(User, row.mail_to_user_id)
        if holder is not None and not rules.is_placeholder(holder.email):
            return holder.email
    return None


def forward_address(ctx: Ctx, alias: str) -> str | None:
    """Where mail to a class account's alias (``sc558aa@users.example.edu``) goes now."""
    user = ctx.session.scalars(
        select(User)
        .join(EmailAlias, EmailAlias.user_id == User.id)
        .where(EmailAlias.alias == alias.strip().lower())
    ).one_or_none()
    if user is None:
        return None
    return _resolve(ctx, user, ctx.session.get(ClassAccount, user.id))


# -- keys -------------------------------------------------------------------------------------


def flush_keys(ctx: Ctx, user_ids: Iterable[int]) -> int:
    """Revoke every live generated key and certificate of these users; returns how many."""
    ids = list(user_ids)
    if not ids:
        return 0
    result = ctx.session.execute(
        update(AccountKey)
        .where(
            AccountKey.user_id.in_(ids),
            AccountKey.revoked_at.is_(None),
            AccountKey.origin == "generated",
        )
        .values(revoked_at=ctx.at)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def store_keys(ctx: Ctx, user: User, issued: Issued) -> None:
    ctx.session.add_all(
        [
            AccountKey(
                user_id=user.id,
                kind="ssh",
                public=issued.ssh.public_line,
                fingerprint=issued.ssh.fingerprint,
                origin="generated",
                created_at=ctx.at,
            ),
            AccountKey(
                user_id=user.id,
                kind="cert",
                public=issued.cert.cert_pem,
                fingerprint=issued.cert.fingerprint,
                origin="generated",
                created_at=ctx.at,
            ),
        ]
    )


# -- locking ----------------------------------------------------------------------------------


def lock(ctx: Ctx, acct: Account, reason: str) -> bool:
    """Shut the account (status ``locked``), ending its sessions and tokens; False when it was
    locked already."""
    if acct.row.lock_reason is not None and acct.user.status == "locked":
        return False
    acct.row.status_before_lock = acct.user.status if acct.user.status != "locked" else "active"
    acct.row.lock_reason = reason
    acct.user.status = "locked"
    end_all_access(ctx, acct.user)
    return True


def unlock(ctx: Ctx, acct: Account) -> bool:
    """Open the account again (its status before the lock: active or frozen)."""
    if acct.row.lock_reason is None:
        return False
    acct.user.status = acct.row.status_before_lock or "active"
    acct.row.lock_reason = None
    acct.row.status_before_lock = None
    return True


# -- roles ------------------------------------------------------------------------------------


def live_roles(ctx: Ctx, user: User) -> list[RoleAssignmentRow]:
    """The user's role assignments in force now or starting later."""
    return list(
        ctx.session.scalars(
            select(RoleAssignmentRow).where(
                RoleAssignmentRow.user_id == user.id,
                or_(RoleAssignmentRow.end_at.is_(None), RoleAssignmentRow.end_at > ctx.at),
            )
        )
    )


def staff_of(ctx: Ctx, ci: CourseInstance, roles: Sequence[str], at: int) -> list[User]:
    """Users holding one of ``roles`` at the course instance (or a section of it) at ``at``."""
    area = instance_area(ci).path
    return list(
        ctx.session.scalars(
            select(User)
            .join(RoleAssignmentRow, RoleAssignmentRow.user_id == User.id)
            .where(
                RoleAssignmentRow.role.in_(list(roles)),
                or_(RoleAssignmentRow.area == area, RoleAssignmentRow.area.startswith(area + "/")),
                RoleAssignmentRow.in_force(at),
            )
            .order_by(User.uid)
            .distinct()
        )
    )


__all__ = [
    "Account",
    "account",
    "accounts_of",
    "actor_rank",
    "address_of",
    "course_domain",
    "course_named",
    "flush_keys",
    "forward_address",
    "live_roles",
    "lock",
    "require_admin",
    "require_over",
    "staff_of",
    "stems_of",
    "store_keys",
    "unlock",
]
