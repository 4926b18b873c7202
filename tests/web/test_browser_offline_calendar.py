"""Browser journeys of issue 17, items 7 and 9: the API documentation works with no internet
(every request the page makes goes to this server, none is refused by its policy), and the
calendar's month view reads on a 375 px phone without sideways scrolling."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from browser_support import WIDER_THAN_SCREEN, Live, check_page, missing_browser, new_page, sign_in

from coursegate.cli import demo_world as demo

WHY = missing_browser()
pytestmark = pytest.mark.skipif(WHY is not None, reason=f"browser tests skipped: {WHY}")

CI = "/courses/CG 101/instances/Sp24"
ANA = demo.STUDENTS[0]


def test_the_api_documentation_loads_with_no_internet(browser: Any, live: Live) -> None:
    page = new_page(browser)
    here = urlsplit(live.url("/")).netloc
    elsewhere: list[str] = []

    def offline(route: Any) -> None:  # no internet: anything not this server fails
        if urlsplit(route.request.url).netloc == here:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", offline)
    page.goto(live.url("/api/docs"))
    page.get_by_text("/api/v1/decisions", exact=False).first.wait_for(timeout=15_000)
    assert page.locator(".swagger-ui .opblock").count() > 10  # the operations are listed
    assert elsewhere == []
    check_page(page)


def test_the_month_view_fits_a_phone(browser: Any, live: Live, shots: Path) -> None:
    page = new_page(browser, phone=True)
    sign_in(page, live, ANA.uid, ANA.password)
    page.goto(live.url(CI + "/calendar?view=month&month=2024-02"))
    grid = page.get_by_role("table", name="February 2024")
    assert "Binary numbers" in grid.inner_text()
    assert page.evaluate(WIDER_THAN_SCREEN) <= 0
    assert "Mon, Feb 5" in grid.inner_text()  # on a phone each day says its date
    caption = page.locator("table.month-grid caption").bounding_box()
    assert caption is not None and caption["height"] < 80  # on a line or two, not a column
    page.screenshot(path=str(shots / "student-calendar-month-phone.png"), full_page=True)
    page.get_by_role("link", name="Next month →").click()
    page.get_by_role("table", name="March 2024").wait_for()
    check_page(page)
    desk = new_page(browser)
    sign_in(desk, live, ANA.uid, ANA.password)
    desk.goto(live.url(CI + "/calendar"))
    desk.get_by_role("link", name="Month").click()
    assert desk.get_by_role("columnheader", name="Sunday").count() == 1
    assert desk.evaluate(WIDER_THAN_SCREEN) <= 0
    desk.screenshot(path=str(shots / "student-calendar-month.png"), full_page=True)
    check_page(desk)
