"""API fixtures: the demo world on SQLite, and on PostgreSQL when
``COURSEGATE_TEST_DATABASE_URL`` is set (CI sets it)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ["COURSEGATE_TEST_CHEAP_HASHES"] = "1"
sys.path.insert(0, str(Path(__file__).parent))

from api_support import World, build_world

from coursegate.store.db import session_factory
from databases import BACKENDS, migrated_database


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    """The demo world (example course synced, a user of every role) behind a fresh app."""
    with migrated_database(request.param, tmp_path, "api") as db:
        yield build_world(db.engine, session_factory(db.engine), tmp_path)
