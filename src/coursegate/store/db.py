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
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import IntegrityError, OperationalError
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
        writer = _Writer()
        event.listen(engine, "begin", writer.begin)
        event.listen(engine, "commit", writer.end)
        event.listen(engine, "rollback", writer.end)
        # a connection given back or dropped in a transaction's middle gives its turn back too
        event.listen(engine, "checkin", writer.released)
        event.listen(engine, "invalidate", writer.released)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _no_pysqlite_transactions(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


class _Writer:
    """SQLite has one writer at a time. Threads of one process that want the write lock queue
    here, in order, and each starts its transaction the moment the previous one ends — rather
    than in SQLite's busy handler, which polls with sleeps of up to 100 ms and lets a waiter
    miss many turns under load. (Other processes still meet in SQLite's busy handler.) A
    transaction may begin in one thread and end in another (the web framework's dependencies
    do), so this is a plain lock, released by whichever thread ends it."""

    WAIT_SECONDS = 30.0
    """As long as SQLite's own busy timeout."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def begin(self, conn: Any) -> None:
        if not self.lock.acquire(timeout=self.WAIT_SECONDS):
            raise OperationalError(
                "BEGIN IMMEDIATE",
                None,
                Exception(f"database is locked: no turn to write within {self.WAIT_SECONDS} s"),
            )
        conn.info["coursegate_writer"] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self.end(conn)
            raise

    def end(self, conn: Any) -> None:
        if conn.info.pop("coursegate_writer", False):
            self.lock.release()

    def released(self, _dbapi_connection: Any, record: Any, *_: Any) -> None:
        info = getattr(record, "info", None)
        if info is not None and info.pop("coursegate_writer", False):
            self.lock.release()


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
