"""Database engines and transactions.

The embedded default is one SQLite file under the data directory (``COURSEGATE_DATA_DIR``,
default ``./.coursegate``), in WAL mode with foreign keys on. Production uses PostgreSQL by URL
(``COURSEGATE_DATABASE_URL``, e.g. ``postgresql+psycopg://user@host/db``). Several coursegate
processes may share one PostgreSQL database: nothing here keeps state between transactions.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_DATA_DIR = ".coursegate"


def default_url() -> str:
    """``COURSEGATE_DATABASE_URL``, else the SQLite file in the data directory."""
    url = os.environ.get("COURSEGATE_DATABASE_URL")
    if url:
        return normalise_url(url)
    data = Path(os.environ.get("COURSEGATE_DATA_DIR", DEFAULT_DATA_DIR))
    data.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{data / 'coursegate.sqlite3'}"


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use the psycopg 3 driver for them."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine for ``url`` (default: :func:`default_url`), with SQLite set up properly."""
    url = normalise_url(url) if url else default_url()
    if url.startswith("sqlite"):
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        # Let SQLAlchemy, not pysqlite, begin transactions, so BEGIN IMMEDIATE takes the
        # write lock at the start of a write transaction (no lost updates between processes).
        event.listen(engine, "connect", _no_pysqlite_transactions)
        event.listen(engine, "begin", _begin_immediate)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _no_pysqlite_transactions(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def _begin_immediate(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def insert_unless_exists(session: Session, row: object) -> bool:
    """Insert ``row`` in a savepoint; False (and nothing inserted) when a unique constraint says
    another request already inserted the same thing — the caller then reads that one."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return False
    return True


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: committed if the block finishes, rolled back (nothing changed) if not."""
    with factory() as session, session.begin():
        yield session
