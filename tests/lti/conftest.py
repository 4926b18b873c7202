"""LTI fixtures: the demo world behind the tool (SQLite, and PostgreSQL when
``COURSEGATE_TEST_DATABASE_URL`` is set), a test LMS on loopback registered in it, and a
browser that goes through the OIDC login and launch over HTTP."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ["COURSEGATE_TEST_CHEAP_HASHES"] = "1"
sys.path.insert(0, str(Path(__file__).parents[1] / "api"))
sys.path.insert(0, str(Path(__file__).parent))

from api_support import World, build_world
from lti_platform import Platform, running
from lti_support import Lms, lms_for

from coursegate.store.db import session_factory
from databases import BACKENDS, migrated_database


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    with migrated_database(request.param, tmp_path, "lti") as db:
        yield build_world(db.engine, session_factory(db.engine), tmp_path)


@pytest.fixture
def lms(world: World) -> Iterator[Lms]:
    """A test LMS, running and registered (one deployment), with a learner, an instructor,
    a TA and a test student."""
    platform = Platform(now=lambda: world.clock.now // 1_000_000)
    # Roster syncs the page follows run at once, in the request's background task (no thread
    # to wait for); tests/lti/test_lti_roster_progress.py tries the server's thread too.
    world.app.state.lti_roster_runner = lambda job: job()
    with running(platform):
        yield lms_for(world, platform)
