"""SQLite's one writer at a time, queued in the process (store/db.py ``_Writer``): concurrent
writers all get their turn, in order and without SQLite's sleeping busy handler, and a
transaction that ends any way at all — commit, rollback, a connection dropped or handed back in
its middle, ended by another thread — gives its turn back."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import text

from coursegate.store.db import make_engine, session_factory, transaction


def _engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'w.sqlite3'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE n (k INTEGER)")
    return engine


def test_concurrent_writers_all_write_and_none_waits_for_a_poll(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    factory = session_factory(engine)
    waits: list[float] = []

    def write(k: int) -> None:
        for _ in range(20):
            t0 = time.perf_counter()
            with transaction(factory) as s:
                waits.append(time.perf_counter() - t0)
                s.execute(text("INSERT INTO n VALUES (:k)"), {"k": k})

    threads = [threading.Thread(target=write, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM n")).scalar() == 160
    # SQLite's busy handler sleeps 100 ms at a time once a waiter has waited a while; queued in
    # the process, a turn comes as soon as the previous writer commits.
    assert max(waits) < 5.0


def test_every_way_a_transaction_ends_gives_the_turn_back(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    conn = engine.connect()
    conn.begin()
    conn.invalidate()  # dropped in the middle
    with engine.connect() as c:  # given back to the pool in the middle
        c.begin()
        c.execute(text("SELECT 1"))
    session = session_factory(engine)()
    session.execute(text("SELECT 1"))
    session.close()  # a session closed without commit
    failed = threading.Event()

    def other_thread_ends(c: object) -> None:
        c.commit()  # type: ignore[attr-defined]

    c2 = engine.connect()
    c2.begin()
    t = threading.Thread(target=other_thread_ends, args=(c2,))
    t.start()
    t.join()
    c2.close()
    done = threading.Event()

    def write() -> None:
        try:
            with transaction(session_factory(engine)) as s:
                s.execute(text("INSERT INTO n VALUES (1)"))
            done.set()
        except Exception:
            failed.set()

    w = threading.Thread(target=write)
    w.start()
    w.join(timeout=10)
    assert done.is_set() and not failed.is_set()
