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


# -- the browser journeys: a real server and Debian's Chromium ---------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from browser_support import CHROMIUM_ARGS, chromium
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Any]:
    """The demo world behind a real server, on SQLite."""
    from browser_support import live_server

    with live_server(tmp_path) as server:
        yield server


@pytest.fixture(params=BACKENDS)
def live_any(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """The demo world behind a real server, on SQLite and (when set) PostgreSQL: for the
    journeys the issue asks to see on both."""
    from browser_support import live_server

    with live_server(tmp_path, request.param) as server:
        yield server


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where a journey saves its screenshots: docs/screenshots when
    ``COURSEGATE_SCREENSHOTS=1`` (``make screenshots``), else the test's own directory."""
    from browser_support import SCREENSHOTS

    if os.environ.get("COURSEGATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS
    return tmp_path
