"""kill -9 in the middle of a CSV import: the database is exactly as before, and rerunning the
import completes it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select
from store_support import Store

from coursegate.services.common.places import ensure_domain
from coursegate.services.people.user_import import import_users
from coursegate.store.models import HistoryEntry, User

AT = 1_704_900_000_000_000
N = 3000

# The child imports the file in one transaction, writes everything (flush), leaves a marker,
# then waits to be killed before it can commit.
CHILD = """
import os, sys, time
from coursegate.services.common.context import SYSTEM, Ctx
from coursegate.services.people.user_import import import_users
from coursegate.store.db import make_engine, session_factory, transaction

url, schema, csv_path, marker, at = sys.argv[1:6]
kwargs = {"connect_args": {"options": f"-csearch_path={schema}"}} if schema else {}
engine = make_engine(url, **kwargs)
with transaction(session_factory(engine)) as session:
    report = import_users(Ctx(session, SYSTEM, int(at)), open(csv_path).read(),
                          default_domain="crashu")
    session.flush()
    with open(marker, "w") as f:
        f.write(str(report.created))
    time.sleep(120)
"""


def counts(store: Store) -> tuple[int, int]:
    with store.factory() as s:
        users = s.scalar(select(func.count()).select_from(User))
        entries = s.scalar(select(func.count()).select_from(HistoryEntry))
        return int(users or 0), int(entries or 0)


def test_import_killed_part_way_leaves_nothing_and_rerun_completes(
    store: Store, tmp_path: Path
) -> None:
    store.system(AT, lambda c: ensure_domain(c, "crashu", "Crash University"))
    csv_path = tmp_path / "users.csv"
    rows = [f"u{i:05d},User {i},u{i:05d}@crash.edu" for i in range(N)]
    csv_path.write_text("uid,name,email\n" + "\n".join(rows) + "\n")
    before = counts(store)
    marker = tmp_path / "written"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, store.url, store.schema or "", str(csv_path),
         str(marker), str(AT)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() or not marker.read_text():  # opened, then written
            assert child.poll() is None, child.stderr.read().decode()  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the import never got to writing"
            time.sleep(0.05)
        assert marker.read_text() == str(N)  # every row was written, none committed
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert counts(store) == before

    text = csv_path.read_text()
    report = store.system(AT, lambda c: import_users(c, text, default_domain="crashu"))
    assert report.created == N  # type: ignore[attr-defined]
    assert counts(store) == (before[0] + N, before[1] + N)
    again = store.system(AT, lambda c: import_users(c, text, default_domain="crashu"))
    assert (again.created, again.unchanged) == (0, N)  # type: ignore[attr-defined]
    assert counts(store) == (before[0] + N, before[1] + N)
