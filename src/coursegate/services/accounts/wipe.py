"""Wiping class accounts: a resumable procedure of idempotent steps.

A wipe is requested (:func:`~coursegate.services.accounts.wipe_request.request_wipes`, one
transaction: the account's state becomes ``wiping`` and an ``account_wipes`` row remembers it),
then run (:func:`run_wipes`, here): each step is applied to a chunk of accounts in one
transaction that also records the step as done, so a process killed at any point (``kill -9``)
leaves every step either done and recorded, or not done; the next run — any ``wipe``,
``recycle`` or ``run-schedule``, on any server — finishes it. An account is reported wiped
(state ``free``, back in the pool, counted in the metrics) only by the last step. The steps
(:mod:`~coursegate.services.accounts.wipe_steps`), in order:

1. ``access`` — lock the account, end its web sessions and API tokens;
2. ``hook:<name>`` — each site hook (:mod:`coursegate.services.accounts.hooks`), e.g. ending
   testbed experiments;
3. ``instances`` — close its open assessment instances;
4. ``roles`` — end its roles and enrollments and cancel its future exam reservations (the
   records and the history stay);
5. ``files`` — delete everything in ``<home root>/<account>``
   (:mod:`~coursegate.services.accounts.homes`);
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
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from coursegate.core.instants import Instant
from coursegate.services.accounts.credentials import Issuer
from coursegate.services.accounts.homes import UnsafeHome
from coursegate.services.accounts.hooks import WipeHook
from coursegate.services.accounts.site import Site
from coursegate.services.accounts.wipe_steps import (
    INDEPENDENT_STEPS,
    StepInput,
    step_function,
    step_names,
)
from coursegate.services.common.context import Ctx
from coursegate.services.history.log import record
from coursegate.store.db import transaction
from coursegate.store.models import AccountWipe, ClassAccount, Credential, User

CHUNK = 100
"""Accounts per transaction, for each step."""


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
    fn = step_function(name)
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
            with session.no_autoflush if name in INDEPENDENT_STEPS else contextlib.nullcontext():
                details = fn(ctx, StepInput(site, issuer, wipe, user, row, hook))
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


def unfinished(ctx: Ctx) -> list[int]:
    return list(
        ctx.session.scalars(
            select(AccountWipe.id).where(AccountWipe.finished_at.is_(None)).order_by(AccountWipe.id)
        )
    )


__all__ = ["CHUNK", "WipeRun", "run_wipes", "unfinished"]
