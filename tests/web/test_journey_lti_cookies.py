"""A launch from an LMS on another site, in the LMS's frame, in a real browser (issue 18):
when the browser blocks third-party cookies, coursegate's login page in the frame cannot keep
its cookie, so it offers a window of its own — and the whole launch completes there, signed
in; when the browser allows them, the frame completes by itself and offers nothing.

The LMS page is ``http://localhost:<port>`` and coursegate ``http://127.0.0.1:<port>``: two
sites, so coursegate's frame is third-party. coursegate sets its cookies as over HTTPS
(``cookie_secure``: SameSite=None; Secure), which Chromium keeps from loopback addresses.
Whether the browser blocks third-party cookies is its profile's setting
(``profile.cookie_controls_mode``, as chrome://settings/cookies sets it), written into the
profile before Chromium starts; each test asserts what the browser then does, not the flag."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import CHROMIUM_ARGS, CSP_REPORTER, Live, chromium, missing_browser

from databases import BACKENDS

sys.path.insert(0, str(Path(__file__).parents[1] / "lti"))

from lti_platform import Platform, running
from lti_support import lms_for

WHY = missing_browser()
pytestmark = pytest.mark.skipif(WHY is not None, reason=f"browser tests skipped: {WHY}")

LANDED = "has not connected this LMS course"
"""What the learner sees once signed in: the LMS course is not linked to a course yet."""


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(params=BACKENDS)
def live_secure(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Live]:
    """The demo world behind a real server whose cookies are as over HTTPS."""
    from browser_support import live_server

    with live_server(tmp_path, request.param, cookie_secure=True) as server:
        yield server


class Watched:
    """A browser (a Chromium profile of its own) and what went wrong in any of its pages,
    popups included: script errors and refusals of the Content-Security-Policy."""

    def __init__(self, playwright: Any, profile: Path, *, block_third_party: bool) -> None:
        (profile / "Default").mkdir(parents=True)
        mode = 1 if block_third_party else 0  # 1: block third-party cookies; 0: allow them
        prefs = {"profile": {"cookie_controls_mode": mode, "block_third_party_cookies": bool(mode)}}
        (profile / "Default" / "Preferences").write_text(json.dumps(prefs))
        self.context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=chromium(),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 860},
            device_scale_factor=1,
            locale="en-US",
        )
        self.js_errors: list[str] = []
        self.csp_violations: list[str] = []
        self.requests: list[str] = []
        self.context.add_init_script(CSP_REPORTER)
        self.context.on("weberror", lambda e: self.js_errors.append(str(e.error)))
        self.context.on("console", self._console)
        self.context.on("request", lambda r: self.requests.append(r.url))

    def _console(self, message: Any) -> None:
        text = message.text
        if "CSP violation" in text or "Content Security Policy" in text:
            self.csp_violations.append(text)

    def page(self) -> Any:
        return self.context.pages[0] if self.context.pages else self.context.new_page()

    def close(self) -> None:
        self.context.close()


def _lms(live: Live) -> Platform:
    return Platform(now=lambda: live.world.clock.now // 1_000_000, tool=live.base)


def test_blocked_third_party_cookies_launch_in_a_new_window(
    playwright: Any, live_secure: Live, shots: Path, tmp_path: Path
) -> None:
    live = live_secure
    platform = _lms(live)
    with running(platform, "localhost"):
        lms_for(live.world, platform)
        assert platform.base.startswith("http://localhost:")
        assert live.base.startswith("http://127.0.0.1:")
        browser = Watched(playwright, tmp_path / "blocking", block_third_party=True)
        try:
            page = browser.page()
            page.goto(platform.base + "/course/learner")
            frame = page.frame_locator("#tool")
            offer = frame.locator("#lti-new-window")
            offer.wait_for(state="visible", timeout=15_000)
            # The frame stays on coursegate's login: it did not go on to the LMS's sign-in.
            assert frame.locator("#lti-continue").is_hidden()
            assert frame.locator("#lti-wait").is_hidden()
            tool_frame = page.frame(url=lambda u: u.startswith(live.base))
            assert tool_frame is not None and "/lti/login?" in tool_frame.url
            assert not any(u.startswith(platform.base + "/auth") for u in browser.requests)
            assert browser.context.cookies(live.base) == []  # the browser kept none of ours
            page.screenshot(path=str(shots / "lti-launch-third-party-cookies-blocked.png"))

            with browser.context.expect_page() as opened:
                frame.locator("#lti-open").click()
            popup = opened.value
            # Through the LMS's sign-in, back to coursegate's launch: a page of its, past the login.
            popup.wait_for_url(
                lambda u: u.startswith(live.base) and "/lti/login" not in u, timeout=15_000
            )
            popup.wait_for_load_state()
            assert LANDED in popup.locator("main").inner_text(), popup.locator("main").inner_text()
            assert popup.url.startswith(live.base + "/lti/contexts/")
            assert "Computing" in popup.locator("h1").inner_text()
            # Signed in, in the window of its own: the session cookie is coursegate's, first-party.
            names = {c["name"] for c in browser.context.cookies(live.base)}
            assert live.world.app.state.settings.session_cookie in names
            assert sum(u.startswith(platform.base + "/auth") for u in browser.requests) == 1
            # The LMS's page still shows the offer (its frame is still third-party).
            assert offer.is_visible()
            assert browser.js_errors == []
            assert browser.csp_violations == []
        finally:
            browser.close()


def test_allowed_third_party_cookies_launch_in_the_frame(
    playwright: Any, live_secure: Live, tmp_path: Path
) -> None:
    live = live_secure
    platform = _lms(live)
    with running(platform, "localhost"):
        lms_for(live.world, platform)
        browser = Watched(playwright, tmp_path / "allowing", block_third_party=False)
        try:
            page = browser.page()
            page.goto(platform.base + "/course/learner")
            frame = page.frame_locator("#tool")
            frame.get_by_text(LANDED).wait_for(timeout=15_000)
            assert "Computing" in frame.locator("h1").inner_text()
            tool_frame = page.frame(url=lambda u: u.startswith(live.base))
            assert tool_frame is not None and "/lti/contexts/" in tool_frame.url
            assert len(browser.context.pages) == 1  # no window of its own
            assert browser.js_errors == []
            assert browser.csp_violations == []
        finally:
            browser.close()
