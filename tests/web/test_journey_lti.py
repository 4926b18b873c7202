"""A launch from an LMS course page, in the LMS's frame, in a real browser (issue 18): the
LMS frames coursegate's login, the browser keeps the launch's cookie, the LMS auto-posts the
id_token into the frame, and coursegate's page shows in the frame — which it allows for the
registered platform only."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from browser_support import Live, missing_browser, new_page

sys.path.insert(0, str(Path(__file__).parents[1] / "lti"))

from lti_platform import Platform, running
from lti_support import lms_for

WHY = missing_browser()
pytestmark = pytest.mark.skipif(WHY is not None, reason=f"browser tests skipped: {WHY}")


def test_a_learner_launches_in_the_lms_frame(browser: Any, live_any: Live, shots: Path) -> None:
    live = live_any
    platform = Platform(now=lambda: live.world.clock.now // 1_000_000, tool=live.base)
    with running(platform):
        lms_for(live.world, platform)
        page = new_page(browser)
        page.goto(platform.base + "/course/learner")
        frame = page.frame_locator("#tool")
        heading = frame.locator("h1")
        heading.wait_for(timeout=15_000)
        frame.get_by_text("has not connected this LMS course").wait_for(timeout=15_000)
        assert "Computing" in heading.inner_text()
        assert page.js_errors == []
        assert page.csp_violations == []
        page.screenshot(path=str(shots / "lti-launch-in-frame.png"))
