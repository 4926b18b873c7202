"""Helpers for API tests: the demo world in a database, an app with a settable clock, and a
signed-in HTTP client per persona (see conftest.py for the fixtures)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from coursegate.cli import demo_world as demo
from coursegate.core.instants import Instant
from coursegate.http.settings import Settings
from coursegate.server import create_app
from coursegate.services.common.context import SYSTEM, Ctx
from coursegate.store.db import transaction

COURSE, INSTANCE = demo.COURSE, demo.INSTANCE
CI_PATH = f"/api/v1/courses/{COURSE}/instances/{INSTANCE}"
PERSONAS = {
    "student": demo.STUDENTS[0],
    "ta": demo.TA,
    "instructor": demo.INSTRUCTOR,
    "other_instructor": demo.OTHER_INSTRUCTOR,
    "admin": demo.ADMIN,
}
"""Signed-in personas of the authorization matrix (plus ``anonymous``)."""


@dataclass
class Clock:
    now: Instant

    def __call__(self) -> Instant:
        return self.now


@dataclass
class World:
    """The demo world behind a running app."""

    app: FastAPI
    engine: Engine
    factory: sessionmaker[Session]
    clock: Clock
    data_dir: Path
    clients: dict[str, TestClient] = field(default_factory=dict)

    def client(self, persona: str = "anonymous") -> TestClient:
        """A client signed in as ``persona`` (a key of PERSONAS, a demo uid, or anonymous).
        Changes carry the CSRF token automatically."""
        if persona in self.clients:
            return self.clients[persona]
        c = TestClient(self.app, base_url="https://testserver")
        if persona != "anonymous":
            user = PERSONAS.get(persona) or next(u for u in demo.EVERYONE if u.uid == persona)
            r = c.post("/api/v1/session", json={"uid": user.uid, "password": user.password})
            assert r.status_code == 200, r.text
            c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        self.clients[persona] = c
        return c

    def sign_in(self, uid: str, password: str) -> TestClient:
        """A fresh client signed in with these credentials (not cached)."""
        c = TestClient(self.app, base_url="https://testserver")
        r = c.post("/api/v1/session", json={"uid": uid, "password": password})
        assert r.status_code == 200, r.text
        c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        return c

    @contextmanager
    def ctx(self, actor: str = SYSTEM) -> Iterator[Ctx]:
        """A transaction in the same database, as ``actor`` (default: the operator)."""
        with transaction(self.factory) as s:
            yield Ctx(s, actor, self.clock.now)


def build_world(engine: Engine, factory: sessionmaker[Session], data_dir: Path) -> World:
    clock = Clock(demo.demo_instant())
    with transaction(factory) as s:
        demo.seed(Ctx(s, SYSTEM, clock.now))
    settings = Settings(
        cookie_secure=True,
        data_dir=str(data_dir),
        secret_key="test-secret",
        allow_at_header=True,
        home_root=str(data_dir / "home"),
    )
    app = create_app(settings, engine=engine, clock=clock)
    return World(app, engine, factory, clock, data_dir)


def body(response: Any) -> Any:
    """The JSON of a response, with the status in the assertion message when it is not."""
    try:
        return response.json()
    except ValueError:
        raise AssertionError(f"{response.status_code}: {response.text[:500]}") from None


STAFF = frozenset({"ta", "instructor", "admin"})
INSTRUCTORS = frozenset({"instructor", "admin"})
SIGNED_IN = frozenset({"student", "ta", "instructor", "other_instructor", "admin"})
EVERYONE = SIGNED_IN | {"anonymous"}


@dataclass(frozen=True)
class Sample:
    """One route of the authorization matrix: a request that exercises it, and who may.

    ``route`` is the route's path template as FastAPI knows it (``/api/v1/courses/{course}/
    instances/{instance}/exceptions``); ``path`` the concrete path to call. ``allowed`` are the
    personas (keys of PERSONAS, or ``anonymous``) that must get neither 401 nor 403 (nor 5xx);
    every other signed-in persona must get a status in ``denied`` (403 by default; 404 when the
    service hides what the caller may not see), and ``anonymous`` 401.
    """

    method: str
    route: str
    path: str
    allowed: frozenset[str]
    json: Any = None
    denied: frozenset[int] = frozenset({403})
    headers: dict[str, str] | None = None
