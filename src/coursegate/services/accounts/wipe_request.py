"""Requesting class-account wipes: who may be wiped, the refusals, starting (or resuming) each
account's ``account_wipes`` row; and, for a dry run, what running them would do
(:mod:`coursegate.services.accounts.wipe` runs them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from coursegate.services.accounts import common, rules
from coursegate.services.accounts.common import Account
from coursegate.services.accounts.homes import UnsafeHome, count_home, home_of, home_root
from coursegate.services.accounts.site import Site
from coursegate.services.accounts.wipe_steps import step_names
from coursegate.services.common.authz import require
from coursegate.services.common.conflicts import flush_or_conflict, translate_conflicts
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import EveryProblem, Invalid, NotFound
from coursegate.services.common.places import course_instance_by_id, instance_area, instance_label
from coursegate.services.history.log import record
from coursegate.store.models import AccountWipe, CourseInstance, User

REASONS = ("wipe", "recycle", "term-end")


@dataclass(frozen=True)
class WipeProblem:
    account: str
    message: str

    def render(self) -> str:
        return f"{self.account}: {self.message}"


class RefusedWipe(EveryProblem[WipeProblem]):
    def __init__(self, problems: Sequence[WipeProblem]) -> None:
        super().__init__(problems, f"{len(problems)} account(s) may not be wiped", "account")


@dataclass
class WipeRequest:
    reason: str
    started: list[str] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)
    already_free: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """(account, why) — left alone by a whole-class wipe (incompletes, TAs)."""
    wipe_ids: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "started": self.started,
            "resumed": self.resumed,
            "already_free": self.already_free,
            "skipped": [{"account": a, "why": w} for a, w in self.skipped],
        }

    def render(self) -> str:
        lines = [f"  {a}: wipe started ({self.reason})" for a in self.started]
        lines += [f"  {a}: an unfinished wipe resumes" for a in self.resumed]
        lines += [
            f"  {a}: already wiped (free in the pool); nothing to do" for a in self.already_free
        ]
        lines += [f"  {a}: left alone: {why}" for a, why in self.skipped]
        return "\n".join(lines)


@translate_conflicts
def request_wipes(
    ctx: Ctx,
    *,
    uids: Sequence[str] = (),
    course_instance_id: int | None = None,
    whole_class: bool = False,
    reason: str = "wipe",
    note: str = "",
    lenient: bool = False,
) -> WipeRequest:
    """Start wiping the named accounts (of ``course_instance_id`` when given), or every student
    account of the course instance (``whole_class``: incompletes and TAs are left alone and
    reported). Needs ``men`` in the accounts' course instance (the operator needs nothing).
    All or nothing: a named account that may not be wiped (a TA's or instructor's, one with
    an incomplete, not a class account) is an error and nothing starts — unless ``lenient``
    (the schedule), which leaves such accounts alone and reports them as skipped."""
    if reason not in REASONS:
        raise Invalid(f"reason: one of {', '.join(REASONS)}", "reason")
    ci = course_instance_by_id(ctx, course_instance_id) if course_instance_id is not None else None
    report = WipeRequest(reason)
    if whole_class:
        targets = _whole_class(ctx, ci, report)
    else:
        targets = _named(ctx, uids, ci, report, lenient=lenient)
    for acct in targets:
        _start(ctx, acct, report, reason=reason, note=note)
    flush_or_conflict(ctx)
    return report


def _whole_class(ctx: Ctx, ci: CourseInstance | None, report: WipeRequest) -> list[Account]:
    """Every student account of ``ci`` to wipe; TAs' accounts and incompletes are reported as
    skipped."""
    if ci is None:
        raise Invalid(
            "course_instance: a whole-class wipe names the course instance", "course_instance"
        )
    _require_wipe(ctx, ci)
    targets: list[Account] = []
    for a in common.accounts_of(ctx, ci, states=("assigned", "wiping")):
        if a.row.role != rules.STUDENT:
            report.skipped.append((a.uid, "a TA's account is never wiped with the class"))
        elif a.row.incomplete_at is not None and a.row.state == "assigned":
            report.skipped.append((a.uid, "has an incomplete (never wiped while it stands)"))
        else:
            targets.append(a)
    return targets


def _named(
    ctx: Ctx,
    uids: Sequence[str],
    ci: CourseInstance | None,
    report: WipeRequest,
    *,
    lenient: bool,
) -> list[Account]:
    """The named accounts to wipe (free ones are reported as already wiped); any that may not be
    wiped refuse the whole request, or are reported as skipped when ``lenient``."""
    if not uids:
        raise Invalid("account: name the accounts to wipe (or the whole class)", "account")
    targets: list[Account] = []
    problems: list[WipeProblem] = []
    checked: set[int] = set()
    for uid in dict.fromkeys(u.strip() for u in uids):
        try:
            acct = common.account(ctx, uid, ci=ci)
        except NotFound as error:
            problems.append(WipeProblem(uid, error.message.removeprefix("account: ")))
            continue
        if acct.row.state == "free":
            report.already_free.append(acct.uid)
            continue
        if acct.ci is not None and acct.ci.id not in checked:
            _require_wipe(ctx, acct.ci)
            checked.add(acct.ci.id)
        why = _why_not(ctx, acct)
        if why is not None:
            problems.append(WipeProblem(acct.uid, why))
            continue
        targets.append(acct)
    if problems and not lenient:
        raise RefusedWipe(problems)
    report.skipped += [(p.account, p.message) for p in problems]
    return targets


def _start(ctx: Ctx, acct: Account, report: WipeRequest, *, reason: str, note: str) -> None:
    """Start wiping ``acct`` (an unfinished wipe of it resumes instead) and record it."""
    if acct.row.state == "wiping":
        report.resumed.append(acct.uid)
        found = ctx.session.scalars(
            select(AccountWipe.id).where(
                AccountWipe.user_id == acct.user.id, AccountWipe.finished_at.is_(None)
            )
        ).first()
        if found is not None:
            report.wipe_ids.append(found)
            return
    else:
        report.started.append(acct.uid)
    wipe = AccountWipe(
        user_id=acct.user.id,
        course_instance_id=acct.row.course_instance_id,
        reason=reason,
        requested_at=ctx.at,
        requested_by=ctx.actor,
        steps_done=[],
        last_error="",
    )
    ctx.session.add(wipe)
    acct.row.state = "wiping"
    ctx.session.flush()
    report.wipe_ids.append(wipe.id)
    record(
        ctx, "accounts.wipe.request", "user", acct.uid,
        course_instance_id=acct.row.course_instance_id, reason=note, why=reason,
        wipe_id=wipe.id,
    )  # fmt: skip


def _require_wipe(ctx: Ctx, ci: CourseInstance) -> None:
    require(ctx, "men", instance_area(ci), f"wipe class accounts of {instance_label(ci)}")


def _why_not(ctx: Ctx, acct: Account) -> str | None:
    """Why a named account may not be wiped now (None: it may)."""
    others = [r for r in common.live_roles(ctx, acct.user) if r.role != rules.STUDENT]
    if others:
        held = ", ".join(sorted({f"{r.role} at {r.area}" for r in others}))
        return (
            f"holds {held}; the accounts of TAs and instructors are never wiped (end that role "
            "first)"
        )
    if acct.row.state == "assigned" and acct.row.incomplete_at is not None:
        return "has an incomplete; withdraw it first (incompletes are never wiped)"
    if acct.ci is not None and acct.row.state == "assigned":
        why = rules.may_act_over(common.actor_rank(ctx, acct.ci), acct.row.role)
        if why is not None:
            return why
    return None


def plan(ctx: Ctx, site: Site, request: WipeRequest) -> list[str]:
    """What running the requested wipes would do, account by account (nothing is changed; the
    caller rolls the request back)."""
    names = step_names(site.hooks)
    lines: list[str] = []
    try:
        root: Path | None = home_root(site.home_root)
        root_problem = ""
    except UnsafeHome as error:
        root, root_problem = None, str(error)
    if not request.wipe_ids:
        return lines
    rows = ctx.session.execute(
        select(AccountWipe, User)
        .join(User, User.id == AccountWipe.user_id)
        .where(AccountWipe.id.in_(request.wipe_ids))
        .order_by(User.uid)
    ).all()
    for wipe, user in rows:
        left = [n for n in names if n not in wipe.steps_done]
        files = (
            f"delete {count_home(root, user.uid)} entr(ies) in {home_of(root, user.uid)}"
            if root is not None
            else f"the files step would FAIL: {root_problem}"
        )
        lines.append(f"  {user.uid}: would run {', '.join(left)}; {files}")
    return lines


__all__ = ["RefusedWipe", "WipeRequest", "plan", "request_wipes"]
