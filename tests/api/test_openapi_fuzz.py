"""Schemathesis against the OpenAPI document (bounded): no response with status 500 and no
response that breaks the documented schema, for every operation, as a signed-in instructor.

Each operation is one pytest case; Hypothesis draws ``COURSEGATE_FUZZ_EXAMPLES`` requests per
operation (12 by default, derandomised so CI is repeatable; raise it for a longer search).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from api_support import World, build_world
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy import create_engine

from coursegate.api import create_app
from coursegate.api.settings import Settings
from coursegate.store.db import make_engine, session_factory
from coursegate.store.migrate import upgrade

EXAMPLES = int(os.environ.get("COURSEGATE_FUZZ_EXAMPLES", "12"))


def _operations() -> list[tuple[str, str]]:
    doc = create_app(Settings(secret_key="k"), engine=create_engine("sqlite://")).openapi()
    return [(m.upper(), p) for p, ms in doc["paths"].items() for m in ms]


@pytest.fixture(scope="module")
def fuzz_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    engine = make_engine(f"sqlite:///{tmp / 'fuzz.sqlite3'}")
    upgrade(engine)
    yield build_world(engine, session_factory(engine), tmp)
    engine.dispose()


@pytest.fixture(scope="module")
def token(fuzz_world: World) -> str:
    c = fuzz_world.client("instructor")
    r = c.post("/api/v1/tokens", json={"name": "fuzz", "scopes": ["read", "write"]})
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


@pytest.fixture(scope="module")
def api_schema(fuzz_world: World) -> Any:
    return schemathesis.openapi.from_asgi("/api/openapi.json", fuzz_world.app)


@pytest.mark.parametrize(("method", "path"), _operations(), ids=str)
def test_no_server_error_and_responses_match_the_schema(
    api_schema: Any, token: str, method: str, path: str
) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        case.call_and_validate(
            headers={"Authorization": f"Bearer {token}"},
            checks=[not_a_server_error, response_schema_conformance],
        )

    run()
