"""Wiping class accounts: a resumable procedure of idempotent steps.

A wipe is requested (:func:`request_wipes`, one transaction: the account's state becomes
``wiping`` and an ``account_wipes`` row remembers it), then run (:func:`run_wipes`): each step
is applied to a chunk of accounts in one transaction that also records the step as done, so a
process killed at any point (``kill -9``) leaves every step either done and recorded, or not
done; the next run — any ``wipe``, ``recycle`` or ``run-schedule``, on any server — finishes
it. An account is reported wiped (state ``free``, back in the pool, counted in the metrics)
only by the last step. The steps, in order:

1. ``access`` — lock the account, end its web sessions and API tokens;
2. ``hook:<name>`` — each site hook (:mod:`coursegate.accounts.hooks`), e.g. ending testbed
   experiments;
3. ``instances`` — close its open assessment instances;
4. ``roles`` — end its roles and enrollments and cancel its future exam reservations (the
   records and the history stay);
5. ``files`` — delete everything in ``<home root>/<account>`` (:func:`delete_home`);
6. ``password`` — randomise the password (no password matches it any more);
7. ``keys`` — flush its SSH keys and certificates and generate new ones, as for a new account
   (their private halves are thrown away);
8. ``aliases`` — remove its forwarding aliases;
9. ``email`` — restore the placeholder address and name (a person's address that other
   accounts' mail followed moves to one of those accounts);
10. ``finish`` — back to the pool: free, no course, no incomplete.

Every step writes a history entry with the acting user. Running a wipe twice does no harm: a
free account is "already wiped", a wipe in progress resumes.

Safety: files are deleted only under the configured home root, which must be an absolute,
existing directory other than ``/``; only names shaped like class accounts are joined to it; no
symbolic link is followed (a link is removed, never its target); no mounted file system inside a
home is crossed. The accounts of TAs and instructors are never wiped: an account holding any
role but Student (in force or to come) is refused, and so is any user who is not a class
account.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from coursegate.accounts import common, rules
from coursegate.accounts.common import Account
from coursegate.accounts.credentials import Issuer, randomised_password_hash
from coursegate.accounts.hooks import WipeHook, WipeTarget
from coursegate.accounts.site import Site
from coursegate.core.instants import Instant
from coursegate.services.authz import require
from coursegate.services.context import Ctx
from coursegate.services.course_instances import (
    course_instance_by_id,
    instance_area,
    instance_label,
)
from coursegate.services.errors import EveryProblem, Invalid, NotFound
from coursegate.services.history import record
from coursegate.services.signin import end_all_access
from coursegate.services.users import flush_or_conflict, translate_conflicts
from coursegate.store.db import transaction
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
REASONS = ("wipe", "recycle", "term-end")
CHUNK = 100


def step_names(hooks: Sequence[WipeHook]) -> list[str]:
    return [*BEFORE_HOOKS, *(h.step for h in hooks), *AFTER_HOOKS]


# -- the home directory -----------------------------------------------------------------------


class UnsafeHome(Exception):
    """Deleting would not be safe (or the home root is not usable): nothing was deleted."""


def home_root(setting: str) -> Path:
    """The configured home root, checked: set, absolute, without ``..``, an existing directory
    (resolved once), and not ``/``."""
    text = setting.strip()
    if not text:
        raise UnsafeHome(
            "home_root is not set: set COURSEGATE_HOME_ROOT to the directory holding the class "
            "accounts' home directories (an empty setting is never taken as a directory)"
        )
    path = Path(text)
    if not path.is_absolute():
        raise UnsafeHome(f"home_root must be an absolute path, not {text!r}")
    if ".." in path.parts:
        raise UnsafeHome(f"home_root must not contain '..': {text!r}")
    real = Path(os.path.realpath(path))
    if real.parent == real:
        raise UnsafeHome(f"home_root {text!r} is the root of the file system; refusing")
    if not real.is_dir():
        raise UnsafeHome(
            f"the home root {text} is not an existing directory (not mounted?); nothing deleted"
        )
    return real


def home_of(root: Path, uid: str) -> Path:
    if not rules.is_account_name(uid):
        raise UnsafeHome(f"{uid!r} is not shaped like a class account; its home is not touched")
    return root / uid


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def delete_home(root: Path, uid: str) -> int:
    """Delete everything in ``root/uid`` (the directory itself stays); returns how many entries
    were removed. Safe to run again (nothing left: 0). Symbolic links are removed, never
    followed; a file system mounted inside the home stops the deletion with an error."""
    path = home_of(root, uid)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return 0
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        os.unlink(path)  # the link itself (inside the root), never what it points to
        return 1
    top = os.open(path, _DIR_FLAGS)
    try:
        return _empty(top, os.fstat(top).st_dev, path)
    finally:
        os.close(top)


def _empty(top: int, device: int, path: Path) -> int:
    """Remove every entry below the directory open as ``top``, without recursion (a deep tree
    cannot exhaust the stack) and by directory descriptor (a path swapped for a link while we
    work is not followed: opening it fails)."""
    removed = 0
    stack: list[tuple[int, list[str], str | None]] = [(top, os.listdir(top), None)]
    try:
        while stack:
            fd, names, name_in_parent = stack[-1]
            if names:
                name = names.pop()
                st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                if stat.S_ISDIR(st.st_mode):
                    if st.st_dev != device:
                        raise UnsafeHome(
                            f"{path}: a file system is mounted inside the home ({name}); "
                            "unmount it, then wipe again"
                        )
                    sub = os.open(name, _DIR_FLAGS, dir_fd=fd)
                    stack.append((sub, os.listdir(sub), name))
                else:
                    os.unlink(name, dir_fd=fd)
                    removed += 1
                continue
            stack.pop()
            if name_in_parent is not None:
                os.close(fd)
                os.rmdir(name_in_parent, dir_fd=stack[-1][0])
                removed += 1
    finally:
        for fd, _, name_in_parent in stack:
            if name_in_parent is not None:
                os.close(fd)
    return removed


def count_home(root: Path, uid: str) -> int:
    """How many entries :func:`delete_home` would remove (for a dry run); links not followed."""
    path = home_of(root, uid)
    if not path.exists() and not path.is_symlink():
        return 0
    if path.is_symlink() or not path.is_dir():
        return 1
    total = 0
    for _, dirs, files in os.walk(path, followlinks=False):
        total += len(dirs) + len(files)
    return total


# -- requesting -------------------------------------------------------------------------------


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
    targets: list[Account] = []
    if whole_class:
        if ci is None:
            raise Invalid(
                "course_instance: a whole-class wipe names the course instance", "course_instance"
            )
        _require_wipe(ctx, ci)
        for a in common.accounts_of(ctx, ci, states=("assigned", "wiping")):
            if a.row.role != rules.STUDENT:
                report.skipped.append((a.uid, "a TA's account is never wiped with the class"))
            elif a.row.incomplete_at is not None and a.row.state == "assigned":
                report.skipped.append((a.uid, "has an incomplete (never wiped while it stands)"))
            else:
                targets.append(a)
    else:
        if not uids:
            raise Invalid("account: name the accounts to wipe (or the whole class)", "account")
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
    for acct in targets:
        if acct.row.state == "wiping":
            report.resumed.append(acct.uid)
            found = ctx.session.scalars(
                select(AccountWipe.id).where(
                    AccountWipe.user_id == acct.user.id, AccountWipe.finished_at.is_(None)
                )
            ).first()
            if found is not None:
                report.wipe_ids.append(found)
                continue
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
    flush_or_conflict(ctx)
    return report


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


# -- running ----------------------------------------------------------------------------------


@dataclass
class WipeRun:
    wiped: list[str] = field(default_factory=list)
    unfinished: list[tuple[str, str, list[str]]] = field(default_factory=list)
    """(account, the error that stopped it, the steps left)."""
    steps: int = 0

    @property
    def ok(self) -> bool:
        return not self.unfinished

    def to_json(self) -> dict[str, Any]:
        return {
            "wiped": self.wiped,
            "unfinished": [
                {"account": a, "error": e, "steps_left": left} for a, e, left in self.unfinished
            ],
            "steps": self.steps,
        }

    def render(self) -> str:
        lines = [f"  {a}: wiped (back in the pool)" for a in self.wiped]
        lines += [
            f"  {a}: NOT wiped yet; {len(left)} step(s) left ({', '.join(left)}): {e}"
            for a, e, left in self.unfinished
        ]
        return "\n".join(lines)


StepFn = Callable[[Ctx, "_Step"], dict[str, Any]]


@dataclass
class _Step:
    """One account at one step: what a step function gets."""

    site: Site
    issuer: Issuer
    wipe: AccountWipe
    user: User
    row: ClassAccount
    hook: WipeHook | None = None


def run_wipes(
    factory: sessionmaker[Session],
    site: Site,
    *,
    at: Instant,
    actor: str,
    wipe_ids: Sequence[int] | None = None,
    chunk: int = CHUNK,
) -> WipeRun:
    """Run (or finish) wipes: the given ones, or every unfinished one. Each step is applied to
    ``chunk`` accounts per transaction; an account whose step fails stops there (its error is
    kept on the wipe and in the history) while the others go on."""
    hooks = {h.step: h for h in site.hooks}
    names = step_names(site.hooks)
    issuer = site.issuer()
    run = WipeRun()
    with factory() as s:
        query = select(AccountWipe.id, AccountWipe.steps_done).where(
            AccountWipe.finished_at.is_(None)
        )
        if wipe_ids is not None:
            query = query.where(AccountWipe.id.in_(list(wipe_ids)))
        done: dict[int, list[str]] = {
            i: list(d) for i, d in s.execute(query.order_by(AccountWipe.id))
        }
    failed: dict[int, str] = {}
    gone: set[int] = set()
    counter: dict[str, int] = {}
    for name in names:
        todo = [i for i, d in done.items() if name not in d and i not in failed and i not in gone]
        # A hook acts outside the database: one account per transaction, so a failing account
        # never makes the hook run twice for the others.
        size = 1 if name in hooks else chunk
        for start in range(0, len(todo), size):
            part = todo[start : start + size]
            try:
                _apply(factory, site, issuer, name, hooks.get(name), part, at, actor, done, gone,
                       counter)  # fmt: skip
            except Exception:
                for wipe_id in part:  # find the failing account(s); the rest go on
                    try:
                        _apply(factory, site, issuer, name, hooks.get(name), [wipe_id], at, actor,
                               done, gone, counter)  # fmt: skip
                    except Exception as error:
                        failed[wipe_id] = f"step {name} failed: {_describe(error)}"
                        _record_failure(factory, wipe_id, name, failed[wipe_id], at, actor)
            run.steps += len(part)
    with factory() as s:
        rows = s.execute(
            select(
                AccountWipe.id,
                User.uid,
                AccountWipe.finished_at,
                AccountWipe.steps_done,
                AccountWipe.last_error,
            )
            .join(User, User.id == AccountWipe.user_id)
            .where(AccountWipe.id.in_(list(done)))
            .order_by(User.uid)
        ).all()
    for wipe_id, uid, finished, steps_done, last_error in rows:
        if finished is not None:
            run.wiped.append(uid)
        else:
            left = [n for n in names if n not in steps_done]
            run.unfinished.append(
                (uid, failed.get(wipe_id, last_error or "another process holds it"), left)
            )
    return run


def _describe(error: Exception) -> str:
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    return (
        f"{message}"
        if isinstance(error, UnsafeHome | OSError)
        else f"{type(error).__name__}: {message}"
    )


def _apply(
    factory: sessionmaker[Session],
    site: Site,
    issuer: Issuer,
    name: str,
    hook: WipeHook | None,
    wipe_ids: list[int],
    at: Instant,
    actor: str,
    done: dict[int, list[str]],
    gone: set[int],
    counter: dict[str, int],
) -> None:
    fn = _STEPS.get(name, _hook_step)
    with transaction(factory) as session:
        ctx = Ctx(session, actor, at)
        wipes = session.scalars(
            select(AccountWipe)
            .where(AccountWipe.id.in_(wipe_ids), AccountWipe.finished_at.is_(None))
            .order_by(AccountWipe.id)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        ).all()
        marked: dict[int, list[str]] = {}
        ids = [w.user_id for w in wipes]
        users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}
        rows = {
            r.user_id: r
            for r in session.scalars(select(ClassAccount).where(ClassAccount.user_id.in_(ids)))
        }
        if name == "password":
            list(session.scalars(select(Credential).where(Credential.user_id.in_(ids))))
        for wipe in wipes:
            if name in wipe.steps_done:
                marked[wipe.id] = list(wipe.steps_done)
                continue
            user, row = users[wipe.user_id], rows[wipe.user_id]
            # Each step touches its own account's rows only, so the chunk is written in one
            # flush at the end; the address step reads other accounts' rows, so it flushes.
            with session.no_autoflush if name in _INDEPENDENT else contextlib.nullcontext():
                details = fn(ctx, _Step(site, issuer, wipe, user, row, hook))
            wipe.steps_done = [*wipe.steps_done, name]
            wipe.last_error = ""
            marked[wipe.id] = list(wipe.steps_done)
            record(
                ctx, f"accounts.wipe.{name}", "user", user.uid,
                course_instance_id=wipe.course_instance_id, wipe_id=wipe.id, why=wipe.reason,
                requested_by=wipe.requested_by, **details,
            )  # fmt: skip
            counter[name] = counter.get(name, 0) + 1
            _maybe_pause(session, site, name, counter[name])
    for wipe_id in wipe_ids:
        if wipe_id in marked:
            done[wipe_id] = marked[wipe_id]
        else:
            gone.add(wipe_id)  # finished or held by another process: left to it


def _record_failure(
    factory: sessionmaker[Session], wipe_id: int, step: str, message: str, at: Instant, actor: str
) -> None:
    with transaction(factory) as session:
        wipe = session.get(AccountWipe, wipe_id)
        if wipe is None:
            return
        wipe.last_error = message[:2000]
        user = session.get(User, wipe.user_id)
        record(
            Ctx(session, actor, at), "accounts.wipe.failed", "user", user.uid if user else "",
            course_instance_id=wipe.course_instance_id, reason=message[:500], step=step,
            wipe_id=wipe_id,
        )  # fmt: skip


def _maybe_pause(session: Session, site: Site, step: str, n: int) -> None:
    """Tests only: ``COURSEGATE_TEST_WIPE_PAUSE=<step>:<n>:<marker>`` — after the n-th account's
    step, with its changes written but not committed, write the marker and sleep."""
    if not site.test_pause:
        return
    want_step, want_n, marker = site.test_pause.split(":", 2)
    if want_step != step or int(want_n) != n:
        return
    session.flush()
    Path(marker).write_text(str(os.getpid()))
    time.sleep(site.test_pause_seconds)


# -- the steps --------------------------------------------------------------------------------


def _access(ctx: Ctx, st: _Step) -> dict[str, Any]:
    st.user.status = "locked"
    st.row.lock_reason = "wipe"
    sessions, tokens = end_all_access(ctx, st.user)
    return {"sessions_ended": sessions, "tokens_ended": tokens}


def _hook_step(ctx: Ctx, st: _Step) -> dict[str, Any]:
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


def _instances(ctx: Ctx, st: _Step) -> dict[str, Any]:
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


def _roles(ctx: Ctx, st: _Step) -> dict[str, Any]:
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


def _files(ctx: Ctx, st: _Step) -> dict[str, Any]:
    root = home_root(st.site.home_root)
    removed = delete_home(root, st.user.uid)
    return {"home": str(home_of(root, st.user.uid)), "entries_removed": removed}


def _password(ctx: Ctx, st: _Step) -> dict[str, Any]:
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


def _keys(ctx: Ctx, st: _Step) -> dict[str, Any]:
    flushed = common.flush_keys(ctx, [st.user.id])
    issued = st.issuer.issue(st.user.uid, ctx.at_datetime)
    common.store_keys(ctx, st.user, issued)
    return {"keys_flushed": flushed, "ssh_fingerprint": issued.ssh.fingerprint}


def _aliases(ctx: Ctx, st: _Step) -> dict[str, Any]:
    aliases = list(
        ctx.session.scalars(select(EmailAlias.alias).where(EmailAlias.user_id == st.user.id))
    )
    ctx.session.execute(delete(EmailAlias).where(EmailAlias.user_id == st.user.id))
    return {"aliases_removed": aliases}


def _email(ctx: Ctx, st: _Step) -> dict[str, Any]:
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


def _finish(ctx: Ctx, st: _Step) -> dict[str, Any]:
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


_INDEPENDENT = frozenset(
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


# -- a dry run --------------------------------------------------------------------------------


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


def unfinished(ctx: Ctx) -> list[int]:
    return list(
        ctx.session.scalars(
            select(AccountWipe.id).where(AccountWipe.finished_at.is_(None)).order_by(AccountWipe.id)
        )
    )


__all__ = [
    "AFTER_HOOKS",
    "BEFORE_HOOKS",
    "RefusedWipe",
    "UnsafeHome",
    "WipeRequest",
    "WipeRun",
    "count_home",
    "delete_home",
    "home_of",
    "home_root",
    "plan",
    "request_wipes",
    "run_wipes",
    "step_names",
    "unfinished",
]
