"""Database engines and transactions.

The embedded default is one SQLite file under the data directory (``COURSEGATE_DATA_DIR``,
default ``./.coursegate``), in WAL mode with foreign keys on. Production uses PostgreSQL by URL
(``COURSEGATE_DATABASE_URL``, e.g. ``postgresql+psycopg://user@host/db``). Several coursegate
processes may share one PostgreSQL database: nothing here keeps state between transactions.

What the server keeps on disk is for its own user only: the data directory is ``0700`` and a
SQLite database file ``0600`` (SQLite gives its ``-wal``, ``-shm`` and ``-journal`` files the
mode of the database file). Files and directories made by an earlier version with wider modes
lose their group and other bits when an engine is made.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_DATA_DIR = ".coursegate"


def default_url() -> str:
    """``COURSEGATE_DATABASE_URL``, else the SQLite file in the data directory."""
    url = os.environ.get("COURSEGATE_DATABASE_URL")
    if url:
        return normalise_url(url)
    data = private_dir(os.environ.get("COURSEGATE_DATA_DIR", DEFAULT_DATA_DIR))
    return f"sqlite:///{data / 'coursegate.sqlite3'}"


def private_dir(path: str | Path) -> Path:
    """``path`` as a directory only its owner may enter (``0700``): made so if missing (missing
    parents with the usual mode), tightened if it is there with group or other bits."""
    path = Path(path)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    _owner_only(path)
    return path


def _owner_only(path: Path) -> None:
    """Drop the group and other bits of ``path`` (when they are set and the file is ours; a
    missing file, or someone else's, is left alone)."""
    with contextlib.suppress(OSError):
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            path.chmod(mode & 0o700)


SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def _private_sqlite_file(url: str) -> None:
    """Create the database file of a SQLite ``url`` as ``0600`` before SQLite opens it (an empty
    file is an empty database), so no other user may read it or the files SQLite makes beside
    it. In-memory databases and ``file:`` URIs are left alone."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.parent.is_dir():
        return  # SQLite says so when it opens the file
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    for suffix in SQLITE_COMPANIONS:
        _owner_only(path.with_name(path.name + suffix))


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
        _private_sqlite_file(url)
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
