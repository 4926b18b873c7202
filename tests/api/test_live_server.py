"""The server over a real socket: uvicorn in a thread with the demo world, and
``coursegate serve --workers 2`` as a separate process sharing one database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import uvicorn
from api_support import CI_PATH, World

from coursegate.cli import demo_world as demo

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live(world: World) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(world.app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_sign_in_view_as_and_sign_out_over_a_socket(live: str) -> None:
    with httpx.Client(base_url=live) as c:
        r = c.post("/api/v1/session", json={"uid": demo.TA.uid, "password": demo.TA.password})
        assert r.status_code == 200
        assert "HttpOnly" in r.headers["set-cookie"]
        # The cookie is Secure: a plain-HTTP client does not send it back, as browsers do not.
        csrf = r.json()["csrf_token"]
        cookie = r.cookies["coursegate_session"]
    with httpx.Client(base_url=live, headers={"X-CSRF-Token": csrf}) as c:
        c.cookies.set("coursegate_session", cookie)
        r = c.post(f"{CI_PATH}/view-as", json={"uid": demo.STUDENTS[0].uid})
        assert r.status_code == 200
        assert r.headers["x-coursegate-viewing-as"] == demo.STUDENTS[0].uid
        assert c.delete("/api/v1/view-as").status_code == 200
        assert c.delete("/api/v1/session").status_code == 204
        assert c.get("/api/v1/session").status_code == 401


def test_concurrent_requests_each_get_their_own_transaction(live: str) -> None:
    def who(person: demo.DemoUser) -> str:
        with httpx.Client(base_url=live) as c:
            r = c.post("/api/v1/session", json={"uid": person.uid, "password": person.password})
            assert r.status_code == 200, r.text
            c.cookies.set("coursegate_session", r.cookies["coursegate_session"])
            return str(c.get("/api/v1/session").json()["uid"])

    people = list(demo.EVERYONE) * 3
    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(who, people)) == [p.uid for p in people]


def test_coursegate_serve_with_two_workers(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "COURSEGATE_DATA_DIR": str(tmp_path / "data"),
        "COURSEGATE_COOKIE_SECURE": "false",
        "COURSEGATE_TEST_CHEAP_HASHES": "1",
    }
    env.pop("COURSEGATE_DATABASE_URL", None)
    cli = [sys.executable, "-m", "coursegate.cli.main"]
    setup = subprocess.run(
        [*cli, "demo", "--no-serve", "--course", str(ROOT / "examples" / "course")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert demo.INSTRUCTOR.password in setup.stdout
    port = free_port()
    proc = subprocess.Popen(
        [*cli, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/api/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "coursegate serve did not answer"
            time.sleep(0.2)
        r = httpx.post(
            f"{base}/api/v1/session",
            json={"uid": demo.INSTRUCTOR.uid, "password": demo.INSTRUCTOR.password},
        )
        assert r.status_code == 200
        doc = httpx.get(f"{base}/api/openapi.json").json()
        assert doc["info"]["title"] == "coursegate"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
