"""Stems and the pool: setting a course's stem, generating accounts (ahead, or when an
assignment finds the pool short)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from coursegate.services.accounts import common, rules
from coursegate.services.accounts.common import Account
from coursegate.services.accounts.credentials import (
    Issuer,
    randomised_password_hash,
)
from coursegate.services.accounts.service_base import event
from coursegate.services.common.conflicts import flush_or_conflict, translate_conflicts
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Conflict, Invalid, Refused
from coursegate.services.history.log import record
from coursegate.services.people.csv_import import chunks
from coursegate.store.models import (
    AccountStem,
    ClassAccount,
    Course,
    CourseInstance,
    Credential,
    User,
)

# -- stems ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StemInfo:
    stem: str
    course: str
    generated: int
    free: int
    assigned: int
    wiping: int

    @property
    def room(self) -> int:
        return rules.PER_STEM - self.generated

    def to_json(self) -> dict[str, Any]:
        return {
            "stem": self.stem,
            "course": self.course,
            "generated": self.generated,
            "free": self.free,
            "assigned": self.assigned,
            "wiping": self.wiping,
            "room": self.room,
            "first": f"{self.stem}aa",
            "last": rules.account_name(self.stem, self.generated - 1) if self.generated else None,
        }

    def render(self) -> str:
        return (
            f"{self.stem:<8} {self.course:<16} {self.generated:>4} generated "
            f"({self.free} free, {self.assigned} assigned, {self.wiping} being wiped); "
            f"room for {self.room} more"
        )


@translate_conflicts
def set_stem(ctx: Ctx, course_name: str, stem_text: str, *, reason: str = "") -> StemInfo:
    """Give a course a stem (an administrator's action). A stem is unique and never reused;
    giving a course the stem it already has changes nothing. A course may get further stems
    when it needs more than 676 accounts."""
    course = common.course_named(ctx, course_name)
    try:
        stem = rules.check_stem(stem_text)
    except ValueError as error:
        raise Invalid(f"stem: {error}", "stem") from None
    common.require_admin(ctx, course, f"set the account stem of {course.name}")
    existing = ctx.session.scalars(
        select(AccountStem).where(AccountStem.stem == stem)
    ).one_or_none()
    if existing is not None:
        if existing.course_id == course.id:
            return _stem_info(ctx, existing, course)
        other = ctx.session.get(Course, existing.course_id)
        raise Conflict(
            f"stem: {stem} is the stem of {other.name if other else 'another course'}; stems are "
            "never reused, choose another",
            "stem",
        )
    clash = ctx.session.scalars(
        select(User.uid)
        .where(User.uid.like(f"{stem}__"), func.length(User.uid) == len(stem) + 2)
        .limit(3)
    ).all()
    clash = [uid for uid in clash if rules.is_account_name(uid)]
    if clash:
        raise Conflict(
            f"stem: users named like its accounts exist already ({', '.join(clash)}); choose "
            "another stem",
            "stem",
        )
    row = AccountStem(
        stem=stem, course_id=course.id, generated=0, created_at=ctx.at, created_by=ctx.actor
    )
    ctx.session.add(row)
    earlier = [s.stem for s in common.stems_of(ctx, course.id)]
    record(
        ctx, "accounts.stem", "course", course.name, reason=reason, stem=stem,
        earlier_stems=earlier,
    )  # fmt: skip
    flush_or_conflict(ctx)
    return _stem_info(ctx, row, course)


def _stem_info(ctx: Ctx, stem: AccountStem, course: Course) -> StemInfo:
    counts = Counter(
        ctx.session.scalars(select(ClassAccount.state).where(ClassAccount.stem_id == stem.id))
    )
    return StemInfo(
        stem.stem,
        course.name,
        stem.generated,
        counts.get("free", 0),
        counts.get("assigned", 0),
        counts.get("wiping", 0),
    )


def list_stems(ctx: Ctx, course_name: str | None = None) -> list[StemInfo]:
    """Every stem (of one course, or of all the courses whose domain the actor administers)."""
    query = select(AccountStem, Course).join(Course, Course.id == AccountStem.course_id)
    if course_name is not None:
        query = query.where(Course.name == common.course_named(ctx, course_name).name)
    out: list[StemInfo] = []
    for stem, course in ctx.session.execute(query.order_by(Course.name, AccountStem.id)):
        if not ctx.is_system:
            try:
                common.require_admin(ctx, course, "list the account stems")
            except Refused:
                if course_name is not None:
                    raise
                continue
        out.append(_stem_info(ctx, stem, course))
    return out


# -- generating -------------------------------------------------------------------------------


@dataclass
class GenerateReport:
    course: str
    accounts: list[str] = field(default_factory=list)

    def render(self) -> str:
        if not self.accounts:
            return f"{self.course}: no accounts generated"
        span = f"{self.accounts[0]}..{self.accounts[-1]}" if len(self.accounts) > 1 else ""
        return (
            f"{self.course}: generated {len(self.accounts)} account(s) {span}".rstrip()
            + " (free, ready to assign)\n"
            + "\n".join(f"  generated {a}" for a in self.accounts)
        )

    def to_json(self) -> dict[str, Any]:
        return {"course": self.course, "generated": self.accounts}


@translate_conflicts
def generate(ctx: Ctx, issuer: Issuer, course_name: str, count: int) -> GenerateReport:
    """Generate ``count`` accounts ahead (an administrator's action), in the state of a wiped
    account: free, locked, no usable password, placeholder address, fresh keys, no roles."""
    course = common.course_named(ctx, course_name)
    common.require_admin(ctx, course, f"generate class accounts of {course.name}")
    if not 1 <= count <= rules.PER_STEM * 10:
        raise Invalid(f"count: generate between 1 and {rules.PER_STEM * 10} accounts", "count")
    made = generate_accounts(ctx, issuer, course, count, None)
    flush_or_conflict(ctx)
    return GenerateReport(course.name, [a.uid for a in made])


def generate_accounts(
    ctx: Ctx, issuer: Issuer, course: Course, count: int, ci: CourseInstance | None
) -> list[Account]:
    stems = common.stems_of(ctx, course.id)
    plan = rules.accounts_to_generate(
        [rules.StemRoom(s.stem, s.generated) for s in stems], count, course.name
    )
    if plan.problem is not None:
        raise Invalid(f"count: {plan.problem}", "count")
    by_stem = {s.stem: s for s in stems}
    uids = [rules.account_name(stem, pos) for stem, pos in plan.accounts]
    taken = [
        uid
        for part in chunks(uids)
        for uid in ctx.session.scalars(select(User.uid).where(User.uid.in_(part)))
    ]
    if taken:
        raise Conflict(
            f"count: users named {', '.join(taken[:5])} exist already outside the class-account "
            "pool; an administrator renames them or gives the course another stem",
            "count",
        )
    domain = common.course_domain(ctx, course)
    users = [
        User(
            uid=uid,
            name=rules.PLACEHOLDER_NAME,
            email=rules.placeholder_email(uid),
            auth="internal",
            domain_id=domain.id,
            status="locked",
            class_account=True,
            class_course_instance_id=None,
            created_at=ctx.at,
        )
        for uid in uids
    ]
    ctx.session.add_all(users)
    ctx.session.flush()
    made: list[Account] = []
    for user, (stem_name, pos) in zip(users, plan.accounts, strict=True):
        stem = by_stem[stem_name]
        row = ClassAccount(
            user_id=user.id,
            stem_id=stem.id,
            position=pos,
            state="free",
            role="",
            course_instance_id=None,
            times_assigned=0,
        )
        ctx.session.add(row)
        ctx.session.add(
            Credential(
                user_id=user.id,
                password_hash=randomised_password_hash(),
                failed_attempts=0,
                changed_at=ctx.at,
            )
        )
        common.store_keys(ctx, user, issuer.issue(user.uid, ctx.at_datetime))
        event(ctx, "generated", course.id, ci.id if ci is not None else None, user.id)
        record(
            ctx, "accounts.generate", "user", user.uid,
            course_instance_id=ci.id if ci is not None else None, course=course.name,
            stem=stem.stem,
        )  # fmt: skip
        made.append(Account(user, row, stem, None))
    for stem in stems:
        planned = [pos for s, pos in plan.accounts if s == stem.stem]
        if planned:
            stem.generated = max(planned) + 1
    ctx.session.flush()
    return made


__all__ = [
    "GenerateReport",
    "StemInfo",
    "generate",
    "generate_accounts",
    "list_stems",
    "set_stem",
]
