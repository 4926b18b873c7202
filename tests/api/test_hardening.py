"""Hardening: what the server keeps on disk is its own user's alone; every answer carries the
protective headers (a strict Content-Security-Policy for pages, a closed one for the rest); the
pages hold nothing inline the policy would refuse; and every request's input is checked at the
edge (control characters, lone surrogates, numbers beyond 64 bits, bodies beyond 16 MiB) — a 422
or 413 naming the problem, never a 500 from a database that refuses the value."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from api_support import CI_PATH, World, body
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from coursegate.http.schemas import MAX_BODY_BYTES
from coursegate.http.settings import Settings
from coursegate.server import create_app
from coursegate.server.app import API_CSP, PAGE_CSP
from coursegate.store.db import default_url, make_engine, private_dir
from coursegate.store.migrate import upgrade
from coursegate.web.pages import TEMPLATES


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The usual umask (022), under which files are made world-readable by default."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


# -- files ----------------------------------------------------------------------------------------


@pytest.mark.usefixtures("loose_umask")
def test_a_sqlite_database_and_its_wal_and_shm_files_are_the_owners_alone(tmp_path: Path) -> None:
    path = tmp_path / "cg.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
        with engine.connect() as conn:  # WAL mode: the -wal and -shm files exist while open
            conn.execute(text("SELECT 1"))
            files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
            assert all(f.exists() for f in files)
            assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        engine.dispose()


@pytest.mark.usefixtures("loose_umask")
def test_a_database_made_world_readable_before_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    upgrade(create_engine(f"sqlite:///{path}"))  # as an earlier version made it
    path.chmod(0o644)
    make_engine(f"sqlite:///{path}").dispose()
    assert mode(path) == 0o600


@pytest.mark.usefixtures("loose_umask")
def test_the_data_directory_is_the_owners_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    monkeypatch.delenv("COURSEGATE_DATABASE_URL", raising=False)
    monkeypatch.setenv("COURSEGATE_DATA_DIR", str(data))
    url = default_url()
    assert mode(data) == 0o700
    make_engine(url).dispose()
    assert mode(data / "coursegate.sqlite3") == 0o600
    data.chmod(0o755)  # made by an earlier version
    private_dir(data)
    assert mode(data) == 0o700


@pytest.mark.usefixtures("loose_umask")
def test_the_generated_secret_key_is_the_owners_alone(tmp_path: Path) -> None:
    settings = Settings(data_dir=str(tmp_path / "data"))
    key = settings.secret()
    assert mode(tmp_path / "data") == 0o700
    assert mode(tmp_path / "data" / "secret_key") == 0o600
    assert settings.secret() == key  # kept, not made again


# -- headers --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bare() -> TestClient:
    app = create_app(Settings(secret_key="k"), engine=create_engine("sqlite://"))
    return TestClient(app, base_url="https://testserver")


def test_pages_get_the_strict_policy_and_everything_else_a_closed_one(bare: TestClient) -> None:
    for path, policy in (
        ("/sign-in", PAGE_CSP),  # a page
        ("/no-such-page", PAGE_CSP),  # an error page
        ("/api/v1/health", API_CSP),  # JSON
        ("/api/v1/no-such-route", API_CSP),  # a JSON error
        ("/static/style.css", API_CSP),
        ("/static/htmx.min.js", API_CSP),
    ):
        r = bare.get(path)
        assert r.headers["content-security-policy"] == policy, path
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["referrer-policy"] == "same-origin", path
        assert r.headers["x-frame-options"] == "DENY", path
    assert "script-src 'self';" in PAGE_CSP and "'unsafe-inline'" not in PAGE_CSP
    assert "frame-ancestors 'none'" in PAGE_CSP


def test_the_api_documentation_page_loads_only_this_servers_files(bare: TestClient) -> None:
    """Offline and without inline script: Swagger UI from /static/swagger (issue 17, item 9)."""
    r = bare.get("/api/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    policy = r.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "https:" not in policy
    assert "frame-ancestors 'none'" in policy and "'unsafe-eval'" not in policy
    assert re.findall(rb"<script>(.*?)</script>", r.content, re.DOTALL) == []
    assert re.search(rb"https?://", r.content) is None
    for asset in re.findall(rb'(?:src|href)="([^"]+)"', r.content):
        assert asset.startswith(b"/static/swagger/"), asset
        got = bare.get(asset.decode())
        assert got.status_code == 200 and len(got.content) > 0, asset
    assert b'data-openapi-url="/api/openapi.json"' in r.content


INLINE = {
    "an inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "an event handler attribute": re.compile(r"<[^>]*\son[a-z]+\s*=", re.I),
    "a style attribute": re.compile(r"<[^>]*\sstyle\s*=", re.I),
    "a style element": re.compile(r"<style[\s>]", re.I),
    "htmx's hx-on (evaluated code)": re.compile(r"\s(data-)?hx-on", re.I),
    "a javascript: URL or js: value": re.compile(r"[\"'=]\s*(javascript|js):", re.I),
}


@pytest.mark.parametrize("template", sorted(TEMPLATES.glob("*.html")), ids=lambda p: p.name)
def test_templates_hold_nothing_the_policy_refuses(template: Path) -> None:
    html = template.read_text()
    found = [what for what, pattern in INLINE.items() if pattern.search(html)]
    assert found == [], f"{template.name}: {', '.join(found)} (move it to /static)"


# -- input at the edge ----------------------------------------------------------------------------

JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(
    ("char", "name"),
    [("\x00", "U+0000"), ("\x07", "U+0007"), ("\x7f", "U+007F"), ("\x85", "U+0085")],
)
def test_control_characters_are_refused_in_paths_queries_and_bodies(
    world: World, char: str, name: str
) -> None:
    c = world.client("instructor")
    for r, field in (
        (c.get(f"/api/v1/users/ana{quote(char)}@example.edu"), "uid"),
        (c.get(f"{CI_PATH}/history", params={"action": f"x{char}"}), "action"),
        (c.post(f"{CI_PATH}/sections", json={"name": f"lab{char}c"}), "name"),
        (c.post(f"{CI_PATH}/exceptions", json={"uid": "x", "reason": [f"r{char}"]}), "reason[0]"),
    ):
        assert r.status_code == 422, r.text
        error = body(r)["error"]
        assert error["code"] == "invalid" and error["field"] == field
        assert name in error["message"]


def test_tabs_and_line_ends_are_text_in_bodies(world: World) -> None:
    r = world.client("instructor").post(
        f"{CI_PATH}/sections", json={"name": "lab-c", "description": "two\tcolumns\r\nand lines"}
    )
    assert r.status_code == 201, r.text


def test_lone_surrogates_huge_numbers_nan_and_infinity_are_refused(world: World) -> None:
    c = world.client("instructor")
    for raw, field, says in (
        (rb'{"name": "lab-\ud800"}', "name", "surrogate"),
        (rb'{"name": {"\udfff": 1}}', "name.\\udfff", "surrogate"),
        (b'{"name": "lab-c", "n": 123456789012345678901234567890}', "n", "too large"),
        (b'{"name": "lab-c", "n": -9223372036854775809}', "n", "too large"),
        (b'{"name": "lab-c", "n": NaN}', "n", "finite"),
        (b'{"name": "lab-c", "n": [1, -Infinity]}', "n[1]", "finite"),
        (b'{"name": "lab-c", "n": 1e999}', "n", "finite"),
    ):
        r = c.post(f"{CI_PATH}/sections", content=raw, headers=JSON)
        assert r.status_code == 422, (raw, r.text)
        error = body(r)["error"]
        assert error["field"] == field and says in error["message"], (raw, error)


def test_a_body_over_the_limit_is_413_before_it_is_read(world: World) -> None:
    c = world.client("instructor")
    big = b"[" + b"1," * (MAX_BODY_BYTES // 2) + b"1]"
    r = c.post("/api/v1/decisions/batch", content=big, headers=JSON)
    assert r.status_code == 413 and body(r)["error"]["code"] == "too_large"
    streamed = c.post("/api/v1/decisions/batch", content=iter([big]), headers=JSON)
    assert streamed.status_code == 413 and body(streamed)["error"]["code"] == "too_large"


def test_a_page_form_with_a_control_character_gets_the_form_error_page(world: World) -> None:
    r = world.client("instructor").post(
        "/courses/CG 101/instances/Sp24/staff/sections",
        data={"csrf_token": world.client("instructor").headers["X-CSRF-Token"], "name": "a\x01"},
    )
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    assert "control characters such as U+0001 are not allowed" in r.text


def test_points_are_bounded_so_that_the_score_is_a_number(world: World) -> None:
    """Tiny maximum points with bonus points made the percentage infinite: answered as null,
    and PostgreSQL refused it in the history (a 500)."""
    c = world.client("student")
    r = c.post(f"{CI_PATH}/attempts", json={"assessment": "hw/hw1"})
    assert r.status_code == 201, r.text
    submissions = f"{CI_PATH}/attempts/{body(r)['id']}/submissions"
    for bad, field in (
        ({"points": 10, "bonus_points": 8, "max_points": 5e-324}, "max_points"),
        ({"points": 1e300, "max_points": 10}, "points"),
        ({"points": 1, "max_points": 10, "bonus_points": 1e10}, "bonus_points"),
    ):
        r = c.post(submissions, json=bad)
        assert r.status_code == 422 and body(r)["error"]["field"] == field, r.text
    r = c.post(submissions, json={"points": 10, "bonus_points": 8, "max_points": 0.000_001})
    assert r.status_code == 200 and body(r)["score_percent"] > 8e8, r.text  # a number, huge


def test_a_what_if_instant_at_the_calendars_ends_is_refused_not_a_server_error(
    world: World,
) -> None:
    """``X-Coursegate-At`` (tests and demos only) is read like every request date: an offset
    is needed and the instant must be inside the calendar (a far one used to answer 500)."""
    staff = world.client("instructor")
    for raw in ("9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2024-01-01T00:00"):
        r = staff.get(f"{CI_PATH}/matrix", headers={"X-Coursegate-At": raw})
        assert r.status_code == 422, (raw, r.status_code)
        assert body(r)["error"]["field"] == "x-coursegate-at"
