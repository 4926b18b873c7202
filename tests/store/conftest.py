"""Store fixtures: every store test runs on SQLite, and on PostgreSQL when
``COURSEGATE_TEST_DATABASE_URL`` is set (CI sets it)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from store_support import Store

from coursegate.store.db import session_factory
from databases import BACKENDS, migrated_database


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with migrated_database(request.param, tmp_path) as db:
        yield Store(db.engine, session_factory(db.engine), db.url, db.schema)
