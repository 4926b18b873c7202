"""Helpers for store tests (see conftest.py for the ``store`` fixture)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from coursegate.core.instants import Instant, to_instant
from coursegate.services.common.context import SYSTEM, Ctx
from coursegate.store.db import transaction
from coursegate.store.models import CourseInstance, User
from databases import every_row

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_COURSE = ROOT / "examples" / "course"


@dataclass
class Store:
    engine: Engine
    factory: sessionmaker[Session]
    url: str
    schema: str | None = None

    def run(
        self,
        actor: str,
        at: Instant,
        fn: Callable[[Ctx], object],
        acting_as: str | None = None,
        acting_in: int | None = None,
    ) -> object:
        """Run ``fn`` in one transaction as ``actor`` at ``at`` (viewing as ``acting_as`` in
        the course instance ``acting_in``, if given)."""
        with transaction(self.factory) as s:
            return fn(Ctx(s, actor, at, acting_as, acting_in))

    def system(self, at: Instant, fn: Callable[[Ctx], object]) -> object:
        return self.run(SYSTEM, at, fn)

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table, in a stable order."""
        return every_row(self.factory)


def utc(*args: int) -> Instant:
    return to_instant(datetime(*args, tzinfo=UTC))


def add_user(c: Ctx, uid: str, name: str, domain_id: int, at: Instant) -> User:
    """A user created directly in the store (tests that are not about creating users)."""
    u = User(uid=uid, name=name, domain_id=domain_id, created_at=at, email=f"{uid}@example.edu")
    c.session.add(u)
    c.session.flush()
    return u


def instance_named(c: Ctx, short: str) -> CourseInstance:
    """The synced course instance with this short name (``Sp24``)."""
    return c.session.scalars(select(CourseInstance).where(CourseInstance.short_name == short)).one()
