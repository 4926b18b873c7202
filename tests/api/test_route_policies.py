"""Every route declares who may call it, and the declarations hold.

1. Every route of the application (API and pages) has a declared policy: a route added without
   one fails here.
2. Every route has a sample request in a ``samples_*.py`` module (tests/api, tests/web).
3. The authorization matrix: each sample is sent as anonymous, a student, a TA, an instructor,
   an instructor of another course and an administrator, against a fresh demo world; the
   answers must match who the sample says may.
"""

from __future__ import annotations

import copy
import importlib.util
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from api_support import PERSONAS, SIGNED_IN, Sample, World
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Mount

from coursegate.http.policy import POLICIES
from coursegate.http.settings import Settings
from coursegate.server import create_app

HERE = Path(__file__).parent
SAMPLE_DIRS = (HERE, HERE.parent / "web")
ANONYMOUS_PAGE_STATUSES = frozenset({303})
"""Pages send anonymous visitors to the sign-in page instead of answering 401."""
UNDOCUMENTED = frozenset({"/api/openapi.json", "/api/docs", "/docs/oauth2-redirect"})
"""FastAPI's own documentation routes: public by nature, not declared through a policy."""
STATIC_MOUNTS = frozenset({"/static"})
"""Static files (CSS, the vendored htmx): public, nothing to decide."""


def _load_samples() -> list[Sample]:
    found: list[Sample] = []
    for folder in SAMPLE_DIRS:
        for path in sorted(folder.glob("samples_*.py")):
            name = f"_samples_{folder.name}_{path.stem}"
            spec = importlib.util.spec_from_file_location(name, path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            found.extend(module.SAMPLES)
    return found


SAMPLES = _load_samples()


def _app() -> FastAPI:
    from sqlalchemy import create_engine

    return create_app(Settings(secret_key="k"), engine=create_engine("sqlite://"))


def _flatten(routes: Iterable[Any], prefix: str = "") -> Iterator[Any]:
    """Every route of the application, through included routers (FastAPI keeps them nested)."""
    for r in routes:
        inner = getattr(r, "original_router", None)
        if inner is not None:
            yield from _flatten(inner.routes, prefix + r.include_context.prefix)
        elif isinstance(r, APIRoute):
            found = r
            if prefix:
                found = copy.copy(r)
                found.path = prefix + r.path
            yield found
        elif isinstance(r, Mount):
            assert r.path in STATIC_MOUNTS, f"unexpected mount {r.path}: declare a policy"
        else:
            assert getattr(r, "path", None) in UNDOCUMENTED, (
                f"a route added outside the policy routers: {getattr(r, 'path', r)!r}"
            )


def _routes(app: FastAPI) -> list[APIRoute]:
    return [r for r in _flatten(app.routes) if r.path not in UNDOCUMENTED]


def _keys(route: APIRoute) -> list[tuple[str, str]]:
    return [(m, route.path) for m in sorted(route.methods - {"HEAD"})]


def test_every_route_declares_a_policy() -> None:
    app = _app()
    missing = [f"{sorted(r.methods)} {r.path}" for r in _routes(app) if r.endpoint not in POLICIES]
    assert not missing, "routes without a declared policy: " + ", ".join(missing)
    assert len(_routes(app)) > 10


def test_every_policy_is_in_the_openapi_document() -> None:
    doc = _app().openapi()
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            assert "x-coursegate-policy" in op, (
                f"{method.upper()} {path} has no x-coursegate-policy"
            )


def test_every_route_has_a_sample_for_the_matrix() -> None:
    declared = {k for r in _routes(_app()) for k in _keys(r)}
    sampled = {(s.method, s.route) for s in SAMPLES}
    missing = sorted(declared - sampled)
    assert not missing, "routes without an authorization-matrix sample: " + ", ".join(
        f"{m} {p}" for m, p in missing
    )
    stale = sorted(sampled - declared)
    assert not stale, "samples of routes that do not exist: " + ", ".join(
        f"{m} {p}" for m, p in stale
    )


def test_samples_agree_with_declared_policies() -> None:
    """A public route lets anonymous in; a privilege route never lets a student or an
    instructor of another course in (the matrix would catch it too, but this names the
    mistake in the sample rather than in the code)."""
    policies = {k: POLICIES[r.endpoint] for r in _routes(_app()) for k in _keys(r)}
    for s in SAMPLES:
        policy = policies.get((s.method, s.route))
        if policy is None:
            continue
        if policy.kind == "public":
            assert "anonymous" in s.allowed, f"{s.method} {s.route} is public"
        else:
            assert "anonymous" not in s.allowed, f"{s.method} {s.route} needs a sign-in"
        if policy.kind == "privilege" and policy.on == "course_instance":
            assert "other_instructor" not in s.allowed, (
                f"{s.method} {s.route}: an instructor of another course holds no"
                f" {policy.privilege} here"
            )


def _send(world: World, persona: str, s: Sample) -> int:
    client = world.client(persona)
    r = client.request(
        s.method,
        s.path,
        json=s.json,
        headers=s.headers,
        follow_redirects=False,
    )
    return r.status_code


ORDER = ("anonymous", "other_instructor", "student", "ta", "instructor", "admin")
"""Refused personas first: an allowed change (a DELETE) must not hide a refusal."""


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: f"{s.method} {s.route}")
def test_authorization_matrix(world: World, sample: Sample) -> None:
    assert set(PERSONAS) | {"anonymous"} == set(ORDER)
    page = not sample.route.startswith("/api/")
    wrong: list[str] = []
    personas = sorted(ORDER, key=lambda p: (p in sample.allowed, ORDER.index(p)))
    for persona in personas:
        status = _send(world, persona, sample)
        if persona in sample.allowed:
            ok = status not in (401, 403) and status < 500
            want = "not 401/403/5xx"
        elif persona == "anonymous":
            expected = ANONYMOUS_PAGE_STATUSES if page else frozenset({401})
            ok = status in expected
            want = " or ".join(map(str, sorted(expected)))
        else:
            ok = status in sample.denied
            want = " or ".join(map(str, sorted(sample.denied)))
        if not ok:
            wrong.append(f"{persona}: got {status}, want {want}")
    assert not wrong, f"{sample.method} {sample.path}: " + "; ".join(wrong)
    assert sample.allowed <= SIGNED_IN | {"anonymous"}
