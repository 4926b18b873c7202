"""The databases tests run on: SQLite always, PostgreSQL when ``COURSEGATE_TEST_DATABASE_URL``
is set (CI sets it). Each test gets a fresh, migrated database: a file for SQLite, a schema of
its own for PostgreSQL (dropped afterwards)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from coursegate.store.db import make_engine
from coursegate.store.migrate import upgrade
from coursegate.store.models import Base

PG_URL = os.environ.get("COURSEGATE_TEST_DATABASE_URL")
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            not PG_URL, reason="PostgreSQL tests need COURSEGATE_TEST_DATABASE_URL (CI sets it)"
        ),
    ),
]


@dataclass(frozen=True)
class TestDatabase:
    engine: Engine
    url: str
    schema: str | None
    """The PostgreSQL schema the engine works in (None on SQLite)."""


@contextmanager
def migrated_database(backend: str, tmp_path: Path, name: str = "test") -> Iterator[TestDatabase]:
    """A fresh database of ``backend`` ("sqlite" or "postgresql") with every migration
    applied."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / f'{name}.sqlite3'}"
        engine = make_engine(url)
        upgrade(engine)
        try:
            yield TestDatabase(engine, url, None)
        finally:
            engine.dispose()
        return
    assert PG_URL is not None
    schema = f"{name[:8]}_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    engine = make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        upgrade(engine)
        yield TestDatabase(engine, PG_URL, schema)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def every_row(factory: sessionmaker[Session]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order: compared before and after to prove a
    refused or killed change left the database exactly as it was."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with factory() as s:
        for table in Base.metadata.sorted_tables:
            rows = s.execute(select(table).order_by(*table.primary_key.columns)).all()
            out[table.name] = [tuple(r) for r in rows]
    return out
