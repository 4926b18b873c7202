"""Class-account fixtures: the demo world (example course synced, a user of every role) with a
home root and a data directory, on SQLite and, when ``COURSEGATE_TEST_DATABASE_URL`` is set,
on PostgreSQL."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ["COURSEGATE_TEST_CHEAP_HASHES"] = "1"
sys.path.insert(0, str(Path(__file__).parent))

from accounts_support import AccWorld, build

from databases import BACKENDS, migrated_database


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AccWorld]:
    with migrated_database(request.param, tmp_path, "accounts") as db:
        yield build(db.engine, db.url, db.schema, tmp_path)
