"""Class-account fixtures: the demo world (example course synced, a user of every role) with a
home root and a data directory, on SQLite and, when ``COURSEGATE_TEST_DATABASE_URL`` is set,
on PostgreSQL."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ["COURSEGATE_TEST_CHEAP_HASHES"] = "1"
sys.path.insert(0, str(Path(__file__).parent))

from accounts_support import BACKENDS, PG_URL, AccWorld, build

from coursegate.store.db import make_engine
from coursegate.store.migrate import upgrade


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AccWorld]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'accounts.sqlite3'}"
        engine = make_engine(url)
        upgrade(engine)
        yield build(engine, url, None, tmp_path)
        engine.dispose()
        return
    assert PG_URL is not None
    schema = f"c_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    engine = make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    upgrade(engine)
    try:
        yield build(engine, PG_URL, schema, tmp_path)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()
