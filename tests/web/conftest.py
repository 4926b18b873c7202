"""Page fixtures: the demo world behind the app (SQLite, and PostgreSQL when
``COURSEGATE_TEST_DATABASE_URL`` is set), and signed-in page clients."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ["COURSEGATE_TEST_CHEAP_HASHES"] = "1"
sys.path.insert(0, str(Path(__file__).parents[1] / "api"))
sys.path.insert(0, str(Path(__file__).parent))

from api_support import BACKENDS, PG_URL, World, build_world
from web_support import PageClient

from coursegate.store.db import make_engine, session_factory
from coursegate.store.migrate import upgrade


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    """The demo world (example course synced, a user of every role) behind a fresh app."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'web.sqlite3'}")
        upgrade(engine)
        yield build_world(engine, session_factory(engine), tmp_path)
        engine.dispose()
        return
    assert PG_URL is not None
    schema = f"w_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    engine = make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    upgrade(engine)
    try:
        yield build_world(engine, session_factory(engine), tmp_path)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture
def pages(world: World) -> Any:
    """``pages("student")`` → a signed-in :class:`PageClient` (``pages()``: anonymous)."""

    def make(persona: str | None = None) -> PageClient:
        return PageClient(world, persona)

    return make
