"""The steps of a class-account wipe, in order (:func:`step_names`): what each idempotent step
does to one account and what it records in the history (:mod:`coursegate.services.accounts.wipe`
runs them)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update

from coursegate.services.accounts import common, rules
from coursegate.services.accounts.credentials import Issuer, randomised_password_hash
from coursegate.services.accounts.homes import UnsafeHome, delete_home, home_of, home_root
from coursegate.services.accounts.hooks import WipeHook, WipeTarget
from coursegate.services.accounts.site import Site
from coursegate.services.common.context import Ctx
from coursegate.services.common.places import instance_label
from coursegate.services.people.signin import end_all_access
from coursegate.store.models import (
    AccountEvent,
    AccountStem,
    AccountWipe,
    AssessmentInstance,
    ClassAccount,
    CourseInstance,
    Credential,
    EmailAlias,
    Enrollment,
    ExamReservation,
    User,
)

BEFORE_HOOKS = ("access",)
AFTER_HOOKS = ("instances", "roles", "files", "password", "keys", "aliases", "email", "finish")


def step_names(hooks: Sequence[WipeHook]) -> list[str]:
    return [*BEFORE_HOOKS, *(h.step for h in hooks), *AFTER_HOOKS]


StepFn = Callable[[Ctx, "StepInput"], dict[str, Any]]


@dataclass
class StepInput:
    """One account at one step: what a step function gets."""

    site: Site
    issuer: Issuer
    wipe: AccountWipe
    user: User
    row: ClassAccount
    hook: WipeHook | None = None


def _access(ctx: Ctx, st: StepInput) -> dict[str, Any]:
    st.user.status = "locked"
    st.row.lock_reason = "wipe"
    sessions, tokens = end_all_access(ctx, st.user)
    return {"sessions_ended": sessions, "tokens_ended": tokens}


def _hook_step(ctx: Ctx, st: StepInput) -> dict[str, Any]:
    assert st.hook is not None
    ci = (
        ctx.session.get(CourseInstance, st.wipe.course_instance_id)
        if st.wipe.course_instance_id
        else None
    )
    home: Path | None = None
    if st.site.home_root.strip():
        try:
            home = home_of(home_root(st.site.home_root), st.user.uid)
        except UnsafeHome:
            home = None
    note = st.hook.run(
        WipeTarget(
            account=st.user.uid,
            course_instance=instance_label(ci) if ci is not None else None,
            home=home,
            at=ctx.at,
            actor=ctx.actor,
        )
    )
    return {"hook": st.hook.name, "note": note}


def _instances(ctx: Ctx, st: StepInput) -> dict[str, Any]:
    rows = ctx.session.scalars(
        select(AssessmentInstance).where(
            AssessmentInstance.user_id == st.user.id, AssessmentInstance.open.is_(True)
        )
    ).all()
    for r in rows:
        ended = r.date_limit is not None and r.date_limit <= ctx.at
        r.open = False
        r.closed_at = r.date_limit if ended and r.date_limit is not None else ctx.at
    return {"instances_closed": [r.id for r in rows]}


def _roles(ctx: Ctx, st: StepInput) -> dict[str, Any]:
    roles = common.live_roles(ctx, st.user)
    for r in roles:
        r.end_at = r.start_at if r.start_at is not None and r.start_at > ctx.at else ctx.at
    enrollments = ctx.session.scalars(
        select(Enrollment).where(
            Enrollment.user_id == st.user.id,
            Enrollment.status.in_(("invited", "joined", "blocked")),
        )
    ).all()
    for e in enrollments:
        e.status = "removed"
        e.updated_at = ctx.at
    cancelled = ctx.session.execute(
        update(ExamReservation)
        .where(
            ExamReservation.user_id == st.user.id,
            ExamReservation.cancelled_at.is_(None),
            ExamReservation.access_end > ctx.at,
        )
        .values(cancelled_at=ctx.at)
    )
    return {
        "roles_ended": sorted(f"{r.role} at {r.area}" for r in roles),
        "enrollments_removed": len(enrollments),
        "reservations_cancelled": int(getattr(cancelled, "rowcount", 0) or 0),
    }


def _files(ctx: Ctx, st: StepInput) -> dict[str, Any]:
    root = home_root(st.site.home_root)
    removed = delete_home(root, st.user.uid)
    return {"home": str(home_of(root, st.user.uid)), "entries_removed": removed}


def _password(ctx: Ctx, st: StepInput) -> dict[str, Any]:
    cred = ctx.session.get(Credential, st.user.id)
    if cred is None:
        ctx.session.add(
            Credential(
                user_id=st.user.id,
                password_hash=randomised_password_hash(),
                failed_attempts=0,
                changed_at=ctx.at,
            )
        )
    else:
        cred.password_hash = randomised_password_hash()
        cred.failed_attempts = 0
        cred.changed_at = ctx.at
    return {"password": "randomised"}


def _keys(ctx: Ctx, st: StepInput) -> dict[str, Any]:
    flushed = common.flush_keys(ctx, [st.user.id])
    issued = st.issuer.issue(st.user.uid, ctx.at_datetime)
    common.store_keys(ctx, st.user, issued)
    return {"keys_flushed": flushed, "ssh_fingerprint": issued.ssh.fingerprint}


def _aliases(ctx: Ctx, st: StepInput) -> dict[str, Any]:
    aliases = list(
        ctx.session.scalars(select(EmailAlias.alias).where(EmailAlias.user_id == st.user.id))
    )
    ctx.session.execute(delete(EmailAlias).where(EmailAlias.user_id == st.user.id))
    return {"aliases_removed": aliases}


def _email(ctx: Ctx, st: StepInput) -> dict[str, Any]:
    user = st.user
    address = None if rules.is_placeholder(user.email) else user.email
    followers = list(
        ctx.session.scalars(
            select(ClassAccount)
            .where(ClassAccount.mail_to_user_id == user.id)
            .order_by(ClassAccount.user_id)
        )
    )
    people = {
        u.id: u
        for u in ctx.session.scalars(
            select(User).where(User.id.in_([f.user_id for f in followers]))
        )
    }
    # Followers still assigned and without an address of their own may inherit it.
    live = [
        f
        for f in followers
        if f.state == "assigned" and rules.is_placeholder(people[f.user_id].email)
    ]
    for f in followers:
        if f not in live:
            f.mail_to_user_id = None
    moved_to: str | None = None
    user.email = rules.placeholder_email(user.uid)
    user.name = rules.PLACEHOLDER_NAME
    st.row.mail_to_user_id = None
    if address is not None and live:
        ctx.session.flush()  # the address is free before it moves (it is unique)
        heir = ctx.session.get(User, live[0].user_id)
        assert heir is not None
        heir.email = address
        live[0].mail_to_user_id = None
        for f in live[1:]:
            f.mail_to_user_id = heir.id
        moved_to = heir.uid
    return {"email": "placeholder restored", "address_moved_to": moved_to}


def _finish(ctx: Ctx, st: StepInput) -> dict[str, Any]:
    row, user = st.row, st.user
    stem = ctx.session.get(AccountStem, row.stem_id)
    assert stem is not None
    ci_id = st.wipe.course_instance_id
    row.state = "free"
    row.role = ""
    row.course_instance_id = None
    row.assigned_at = None
    row.incomplete_at = None
    row.lock_reason = None
    row.status_before_lock = None
    row.mail_to_user_id = None
    user.status = "locked"
    user.class_account = True
    user.class_course_instance_id = None
    st.wipe.finished_at = ctx.at
    ctx.session.add(
        AccountEvent(
            at=ctx.at,
            kind="wiped",
            course_id=stem.course_id,
            course_instance_id=ci_id,
            user_id=user.id,
            actor=ctx.actor,
        )
    )
    return {"state": "free"}


INDEPENDENT_STEPS = frozenset(
    {"access", "instances", "roles", "files", "password", "keys", "aliases", "finish"}
)
"""Steps whose queries never depend on another account's changes in the same transaction."""

_STEPS: dict[str, StepFn] = {
    "access": _access,
    "instances": _instances,
    "roles": _roles,
    "files": _files,
    "password": _password,
    "keys": _keys,
    "aliases": _aliases,
    "email": _email,
    "finish": _finish,
}


def step_function(name: str) -> StepFn:
    """The function doing step ``name`` (a ``hook:<name>`` step runs its site hook)."""
    return _STEPS.get(name, _hook_step)


__all__ = [
    "AFTER_HOOKS",
    "BEFORE_HOOKS",
    "INDEPENDENT_STEPS",
    "StepFn",
    "StepInput",
    "step_function",
    "step_names",
]
