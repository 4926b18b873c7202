"""A real server and a real browser for the journeys: uvicorn on a free port of 127.0.0.1
serving the demo world (SQLite), and Debian's Chromium driven headless by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from api_support import World, build_world
from sqlalchemy import Engine

from coursegate.http.settings import Settings
from coursegate.server import create_app
from coursegate.store.db import session_factory
from databases import migrated_database

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def chromium() -> str | None:
    """The Chromium to drive: ``COURSEGATE_CHROMIUM``, Debian's ``/usr/bin/chromium``, or one
    on the PATH; None when there is none (the browser tests then skip, saying so)."""
    for candidate in (
        os.environ.get("COURSEGATE_CHROMIUM"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def missing_browser() -> str | None:
    """Why the browser tests cannot run here (None: they can)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed"
    if chromium() is None:
        return (
            "no Chromium browser found (looked for $COURSEGATE_CHROMIUM, /usr/bin/chromium and "
            "chromium on the PATH; .ci/run installs Debian's chromium package)"
        )
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Live:
    world: World
    base: str

    def url(self, path: str) -> str:
        return self.base + path.replace(" ", "%20")


@contextmanager
def live_server(
    tmp: Path, backend: str = "sqlite", *, cookie_secure: bool = False
) -> Iterator[Live]:
    """The demo world behind a real uvicorn server (plain HTTP on 127.0.0.1, so the session
    cookie is not marked Secure, as ``make demo`` does), on ``backend`` ("sqlite", or
    "postgresql" in a schema of its own when ``COURSEGATE_TEST_DATABASE_URL`` is set).
    ``cookie_secure``: the cookies as an HTTPS deployment sets them (Secure, and the LTI
    launch's SameSite=None), which Chromium keeps from http://127.0.0.1 too (loopback counts
    as a secure context)."""
    with (
        migrated_database(backend, tmp, "browser") as db,
        _serving(db.engine, tmp, cookie_secure=cookie_secure) as live,
    ):
        yield live


@contextmanager
def _serving(engine: Engine, tmp: Path, *, cookie_secure: bool = False) -> Iterator[Live]:
    world = build_world(engine, session_factory(engine), tmp)
    settings = Settings(
        cookie_secure=cookie_secure,
        data_dir=str(tmp),
        secret_key="browser-test-secret",
        home_root=str(tmp / "home"),
    )
    app = create_app(settings, engine=engine, clock=world.clock)
    world.app = app
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield Live(world, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def sign_in(page: Any, live: Live, uid: str, password: str) -> None:
    """Through the sign-in form, with the keyboard, as a person would."""
    page.goto(live.url("/sign-in"))
    page.get_by_label("Email or user id").fill(uid)
    page.get_by_label("Password").fill(password)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url("**/courses**")


UNLABELLED = """() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(e => e.type !== 'hidden' && !e.closest('[hidden]'))
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
               && !e.getAttribute('aria-labelledby'))
  .map(e => e.name || e.id || e.outerHTML.slice(0, 80))"""
"""Form fields without a label (every field must have one)."""

WIDER_THAN_SCREEN = """() => document.documentElement.scrollWidth - window.innerWidth"""

CSP_REPORTER = """document.addEventListener("securitypolicyviolation", (e) =>
  console.error(`CSP violation: ${e.violatedDirective} refused ${e.blockedURI || "inline"}`
                + ` at ${e.sourceFile || document.URL}:${e.lineNumber}`))"""
"""Each refusal of the Content-Security-Policy, told on the console (Chromium tells some of
them there itself: "Refused to ... because it violates the following Content Security Policy
directive")."""


def watch_csp(page: Any) -> list[str]:
    """The list the page's Content-Security-Policy refusals go to, from now on, across every
    document the page shows."""
    violations: list[str] = []
    page.add_init_script(CSP_REPORTER)

    def seen(message: Any) -> None:
        text = message.text
        if "CSP violation" in text or "Content Security Policy" in text:
            violations.append(text)

    page.on("console", seen)
    return violations


def new_page(browser: Any, *, phone: bool = False) -> Any:
    size = {"width": 375, "height": 740} if phone else {"width": 1280, "height": 860}
    context = browser.new_context(viewport=size, device_scale_factor=1, locale="en-US")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.js_errors = errors
    page.csp_violations = watch_csp(page)
    return page


def check_page(page: Any) -> None:
    """What every page must be: labelled fields, no script errors, nothing the
    Content-Security-Policy refused (since the page was opened)."""
    assert page.evaluate(UNLABELLED) == [], "form fields without a label"
    assert page.js_errors == []
    assert page.csp_violations == [], "the Content-Security-Policy refused something"
