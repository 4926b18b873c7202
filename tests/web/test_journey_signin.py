"""Issue 17, item 5, in a real browser on SQLite and PostgreSQL: a student types their email
address in the case their address book shows it and is signed in as their one account."""

from __future__ import annotations

from typing import Any

import pytest
from browser_support import Live, check_page, missing_browser, new_page, sign_in

from coursegate.cli import demo_world as demo

WHY = missing_browser()
pytestmark = pytest.mark.skipif(WHY is not None, reason=f"browser tests skipped: {WHY}")

ANA = demo.STUDENTS[0]


def test_a_student_signs_in_with_their_email_in_mixed_case(browser: Any, live_any: Live) -> None:
    assert ANA.uid == "ana@example.edu"
    page = new_page(browser)
    page.goto(live_any.url("/sign-in"))
    check_page(page)
    assert page.get_by_label("Email or user id").is_visible()
    # a wrong password first: the same answer whatever the case, the field keeps what was typed
    page.get_by_label("Email or user id").fill("Ana@Example.EDU")
    page.get_by_label("Password").fill("not-her-password")
    page.get_by_label("Password").press("Enter")
    assert "wrong user id or password" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("Email or user id").input_value() == "Ana@Example.EDU"
    sign_in(page, live_any, "Ana@Example.EDU", ANA.password)
    body = page.locator("body").inner_text()
    assert "ana@example.edu" in body or ANA.name in body
    assert "Ana@Example.EDU" not in body  # one account, shown by its one id
    check_page(page)
    page.context.close()
