"""Schemathesis against the OpenAPI document (bounded): no response with status 500 and no
response that breaks the documented schema, for every operation, as a student, an instructor
and an administrator (each with an API token of their own).

Each (operation, persona) is one pytest case; Hypothesis draws ``COURSEGATE_FUZZ_EXAMPLES``
requests for it (12 by default, derandomised so CI is repeatable; raise it for a longer search,
e.g. ``COURSEGATE_FUZZ_EXAMPLES=200``). Requests are schema-valid and schema-invalid (positive and
negative generation). Random values mostly name nothing, so in a third of the requests every
path parameter, query parameter and body field the fuzzer knows gets a real value, and in another
third some do: real objects of the demo world (``CG 101``/``Sp24``, demo users, sections, the
demo's exception, class accounts, a reservation, an attempt, mails, the persona's own tokens,
sessions and keys), assessments, roles, and dates and numbers that read (the calendar's ends,
daylight-saving oddities, huge and tiny points). The handlers behind the policy checks are
reached, not only the 404s.

The fuzzed world is shared by the whole module and the requests change it (that is the point);
the personas' own accounts are kept out of the real values of changing requests, so no persona
locks itself out halfway.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from api_support import CI_PATH, PERSONAS, World, body, build_world
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy import create_engine

from coursegate.cli import demo_world as demo
from coursegate.http.settings import Settings
from coursegate.server import create_app
from coursegate.store.db import session_factory
from databases import BACKENDS, migrated_database

EXAMPLES = int(os.environ.get("COURSEGATE_FUZZ_EXAMPLES", "12"))
FUZZ_PERSONAS = ("student", "instructor", "admin")
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


# -- the world: the demo, plus one of each kind of object a path can name ------------------------


CLASS_EMAILS = ("eve@student.example.edu", "finn@student.example.edu")
RESERVATION = "fuzz-slot"
SLOT = {
    "uid": demo.STUDENTS[1].uid,
    "exam_uuid": "d7fcbf5c-a803-4d7e-94bf-68e68fa3dc85",  # Sp24's exams/exam2 links it
    "access_start": "2024-02-27T10:00:00-06:00",
    "access_end": "2024-02-27T12:00:00-06:00",
}
SSH_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBpC2wrxXkItkN6lhsvbujT1lzuBvnxJXhKVTo552pRg fuzz@example"
)
ASSESSMENTS = ["hw/hw1", "hw/hw2", "exams/exam2"]
DATES = [
    "2024-02-08T23:59",
    "2024-02-27T10:00:00-06:00",
    "2024-03-10T02:30",  # does not exist in Chicago (the clocks jump)
    "2024-11-03T01:30",  # happens twice in Chicago
    "0001-01-02T00:00:00+00:00",  # the ends of what the API accepts
    "9999-12-30T00:00:00+00:00",
    "9999-12-29T23:59",
]
"""Dates that read, for every date field: usual ones, daylight-saving oddities and the ends of
the calendar (what later arithmetic, such as a wipe four weeks after a term, must survive)."""
DATE_FIELDS = (
    *("due", "release", "start", "end", "access_start", "access_end", "expires_at"),
    *("publishing_extension_end", "at", "from", "to"),
)
POINTS = [0, 8, 10, 1e300, 5e-324]


@dataclass
class Fuzzed:
    """The fuzzed world, the personas' API tokens, and the real values requests may name.

    Requests change the world: before an operation that follows a changing one, the objects are
    made again where they are gone and the real values read again; a persona whose token a
    request revoked gets a new one (signing in afresh: its browser sessions may be gone too)."""

    world: World
    schema: Any
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    real: dict[str, list[Any]] = field(default_factory=dict)
    own: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    stale: bool = True
    last: tuple[str, str] | None = None

    def token(self, persona: str) -> str:
        held = self.tokens.get(persona)
        if held is not None:
            auth = {"Authorization": f"Bearer {held['token']}"}
            if self.world.client().get("/api/v1/session", headers=auth).status_code == 200:
                return str(held["token"])
        user = PERSONAS[persona]
        r = self.world.sign_in(user.uid, user.password).post(
            "/api/v1/tokens", json={"name": "fuzz", "scopes": ["read", "write"]}
        )
        assert r.status_code == 201, r.text
        self.tokens[persona] = body(r)
        self.stale = True
        return str(self.tokens[persona]["token"])

    def api(self, persona: str) -> TestClient:
        """A client calling as ``persona`` with its fuzzing token."""
        c = TestClient(self.world.app, base_url="https://testserver")
        c.headers["Authorization"] = f"Bearer {self.token(persona)}"
        return c

    def values(self, method: str, path: str, persona: str) -> dict[str, list[Any]]:
        """The real values for a request of ``persona``: the world's, and the persona's own
        ids (sessions, tokens other than the fuzzing one, keys). One's own uid only for reading,
        so that no persona freezes itself or changes its own password."""
        if self.stale and self.last != (method, path):
            self._furnish()
            self.real = self._read()
            self.own = {p: self._read_own(p) for p in FUZZ_PERSONAS}
            self.stale = False
        values = dict(self.real)
        for key, choices in self.own[persona].items():
            if key != "uid":
                values[key] = choices
            elif method in SAFE:
                values["uid"] = [*values["uid"], *choices]
        self.last = (method, path)
        self.stale = self.stale or method not in SAFE
        return values

    def _furnish(self) -> None:
        """Class accounts, a reservation, an attempt and a key per persona (again, where a
        request removed them)."""
        admin, instructor = self.api("admin"), self.api("instructor")
        (self.world.data_dir / "home").mkdir(exist_ok=True)
        admin.post(f"/api/v1/courses/{demo.COURSE}/account-stems", json={"stem": demo.STEM})
        r = instructor.post(f"{CI_PATH}/accounts", json={"emails": "\n".join(CLASS_EMAILS)})
        assert r.status_code == 201, r.text
        r = instructor.put(f"/api/v1/reservations/{RESERVATION}", json=SLOT)
        assert r.status_code in (200, 201), r.text
        if not body(instructor.get(f"{CI_PATH}/attempts")):
            r = self.api("student").post(f"{CI_PATH}/attempts", json={"assessment": "hw/hw1"})
            assert r.status_code == 201, r.text
        for persona in FUZZ_PERSONAS:
            c = self.api(persona)
            if not body(c.get("/api/v1/ssh-keys")):
                r = c.post("/api/v1/ssh-keys", json={"public_key": SSH_KEY})
                assert r.status_code == 201, r.text

    def _read(self) -> dict[str, list[Any]]:
        mine = {PERSONAS[p].uid for p in FUZZ_PERSONAS}
        others = [u.uid for u in demo.EVERYONE if u.uid not in mine]
        instructor = self.api("instructor")
        accounts = [a["account"] for a in body(instructor.get(f"{CI_PATH}/accounts"))]
        mails = [m["id"] for m in body(instructor.get(f"{CI_PATH}/account-outbox"))]
        exceptions = [e["id"] for e in body(instructor.get(f"{CI_PATH}/exceptions"))]
        attempts = [a["id"] for a in body(instructor.get(f"{CI_PATH}/attempts"))]
        ben = demo.STUDENTS[1].uid
        link = body(instructor.get(f"{CI_PATH}/students/{ben}/calendar-link"))
        calendar = link["path"].rsplit("/", 1)[1].removesuffix(".ics")
        return {
            "course": [demo.COURSE],
            "instance": [demo.INSTANCE, demo.INSTANCE, demo.OTHER_INSTANCE],
            "uid": others + accounts,
            "uids": [" ".join(others[:3])],
            "section": ["lab-a", "lab-b", "extra-time", "drc"],
            "exception_id": exceptions,
            "attempt_id": attempts,
            "account": accounts,
            "accounts": [accounts],
            "mail_id": mails,
            "external_id": [RESERVATION],
            "domain": [demo.DOMAIN],
            "name": ["helper"],
            "token": [calendar],
            "target": ASSESSMENTS,
            "assessment": ASSESSMENTS,
            "exam_uuid": [SLOT["exam_uuid"]],
            "role": ["st", "ta", "in", "cc", "dg"],
            "stem": [demo.STEM],
            "sections": [["lab-a"], ["lab-b", "drc"]],
            "assessments": [ASSESSMENTS[:2]],
            **dict.fromkeys(DATE_FIELDS, DATES),
            "credit": [0, 100, 120, 200],
            "time_limit_minutes": [1, 60, 1_000_000],
            "time_limit_percent": [50, 150, 1000],
            **dict.fromkeys(("points", "max_points", "bonus_points"), POINTS),
            "version": [1, 2],
            "count": [1, 3],
            "scope": ["assessment", "set", "course_instance"],
            "reason": ["fuzzing"],
            "description": ["a section of the fuzzer"],
            "email": ["new@example.edu", "ben@example.edu"],
            "emails": ["\n".join(CLASS_EMAILS), "Zoe Zed <zoe@students.example.edu>"],
            "password": ["orchid", "a-new-password-1"],
            "public_key": [SSH_KEY],
            "csv": [
                "uid,name,email\nzed@example.edu,Zed Z,zed@example.edu\n",
                "uid,section\nben@example.edu,lab-a\ndan@example.edu,lab-b\n",
            ],
            "area": [None, f"/{demo.DOMAIN}/"],
        }

    def _read_own(self, persona: str) -> dict[str, list[Any]]:
        c = self.api(persona)
        fuzzing = self.tokens[persona]["id"]
        return {
            "session_id": [s["id"] for s in body(c.get("/api/v1/sessions"))],
            "token_id": [t["id"] for t in body(c.get("/api/v1/tokens")) if t["id"] != fuzzing],
            "key_id": [k["id"] for k in body(c.get("/api/v1/ssh-keys"))],
            "uid": [PERSONAS[persona].uid],
        }


def _operations() -> list[tuple[str, str]]:
    """Every operation: reading first, then changing, then deleting (so that the readers find
    the world as it was furnished)."""
    doc = create_app(Settings(secret_key="k"), engine=create_engine("sqlite://")).openapi()
    found = [(m.upper(), p) for p, ms in doc["paths"].items() for m in ms]
    order = {"GET": 0, "DELETE": 2}
    return sorted(found, key=lambda op: order.get(op[0], 1))


@pytest.fixture(scope="module", params=BACKENDS)
def fuzzed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Fuzzed]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    with migrated_database(request.param, tmp, "fuzz") as db:
        world = build_world(db.engine, session_factory(db.engine), tmp)
        yield Fuzzed(world, schemathesis.openapi.from_asgi("/api/openapi.json", world.app))


# -- real values in generated requests -------------------------------------------------------------


REAL, MIXED, GENERATED = "real", "mixed", "generated"


def _with_real(
    generated: dict[str, Any], real: dict[str, list[Any]], how: str
) -> st.SearchStrategy[dict[str, Any]]:
    """The generated values with every known one real (``REAL``), each known one either way
    (``MIXED``), or as generated."""

    def value(key: str, was: Any) -> st.SearchStrategy[Any]:
        choices = real.get(key)
        if not choices or how == GENERATED:
            return st.just(was)
        if how == REAL:
            return st.sampled_from(choices)
        return st.one_of(st.sampled_from(choices), st.just(was))

    return st.fixed_dictionaries({k: value(k, v) for k, v in generated.items()})


def _strategy(operation: Any, values: dict[str, list[Any]]) -> st.SearchStrategy[Any]:
    """Schemathesis's cases (positive and negative); then their path parameters, query and
    JSON body all real, in part, or as generated (:func:`_with_real`), a third of the time
    each."""

    def real_parts(case: Any) -> st.SearchStrategy[Any]:
        fields = case.body if isinstance(case.body, dict) else {}

        def parts(how: str) -> st.SearchStrategy[Any]:
            return st.tuples(
                _with_real(case.path_parameters or {}, values, how),
                _with_real(case.query or {}, values, how),
                _with_real(fields, values, how),
            )

        def apply(chosen: tuple[dict[str, Any], dict[str, Any], dict[str, Any]]) -> Any:
            path, query, new_fields = chosen
            if case.path_parameters:
                case.path_parameters = path
            if case.query:
                case.query = query
            if fields:
                case.body = new_fields
            return case

        return st.sampled_from([REAL, MIXED, GENERATED]).flatmap(parts).map(apply)

    modes = [operation.as_strategy(generation_mode=GenerationMode.POSITIVE)]
    if _negatable(operation):
        modes.append(operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    return st.one_of(*modes).flatmap(real_parts)


def _negatable(operation: Any) -> bool:
    """Negative generation needs something that can be wrong: a parameter or a body."""
    return bool(list(operation.iter_parameters())) or bool(operation.body)


@pytest.mark.parametrize("persona", FUZZ_PERSONAS)
@pytest.mark.parametrize(("method", "path"), _operations(), ids=str)
def test_no_server_error_and_responses_match_the_schema(
    fuzzed: Fuzzed, method: str, path: str, persona: str
) -> None:
    operation = fuzzed.schema[path][method]
    token = fuzzed.token(persona)

    @given(case=_strategy(operation, fuzzed.values(method, path, persona)))
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
