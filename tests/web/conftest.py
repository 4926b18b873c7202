"""Page fixtures: the demo world behind the app (SQLite, and PostgreSQL when
``COURSEGATE_TEST_DATABASE_URL`` is set), and signed-in page clients."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ["COURSEGATE_TEST_CHEAP_HASHES"] = "1"
sys.path.insert(0, str(Path(__file__).parents[1] / "api"))
sys.path.insert(0, str(Path(__file__).parent))

from api_support import World, build_world
from web_support import PageClient

from coursegate.store.db import session_factory
from databases import BACKENDS, migrated_database


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    """The demo world (example course synced, a user of every role) behind a fresh app."""
    with migrated_database(request.param, tmp_path, "web") as db:
        yield build_world(db.engine, session_factory(db.engine), tmp_path)


@pytest.fixture
def pages(world: World) -> Any:
    """``pages("student")`` → a signed-in :class:`PageClient` (``pages()``: anonymous)."""

    def make(persona: str | None = None) -> PageClient:
        return PageClient(world, persona)

    return make
