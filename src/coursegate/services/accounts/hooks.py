"""Site-specific wipe hooks: clean-up that only the site knows how to do (ending a student's
testbed experiments, removing their mailing-list subscriptions, ...).

A hook is a function ``hook(target: WipeTarget) -> str | None``. It runs as one step of the
resumable wipe procedure (after the account's sessions and tokens are ended, before its roles,
files and keys), once per account, and returns a sentence for the history log (or None). It
must be idempotent: a wipe killed while a hook ran runs the hook again. An exception stops that
account's wipe at the hook's step (the account is not reported wiped); the next run retries.

Register hooks as entry points of a site package::

    [project.entry-points."coursegate.wipe_hooks"]
    experiments = "mysite.hooks:end_experiments"

or, without packaging, in ``COURSEGATE_WIPE_HOOKS=experiments=mysite.hooks:end_experiments``.
Hooks run in name order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from coursegate.core.instants import Instant


@dataclass(frozen=True)
class WipeTarget:
    """What a hook is told about the account being wiped."""

    account: str
    """The class account (``sc558aa``)."""
    course_instance: str | None
    """``CG 101 Sp24``: the course instance it was assigned to (None if free)."""
    home: Path | None
    """``<home_root>/<account>`` (None when no home root is configured)."""
    at: Instant
    actor: str
    """Who runs the wipe (``system`` for the schedule)."""


Hook = Callable[[WipeTarget], "str | None"]


@dataclass(frozen=True)
class WipeHook:
    name: str
    run: Hook

    @property
    def step(self) -> str:
        return f"hook:{self.name}"


__all__ = ["Hook", "WipeHook", "WipeTarget"]
