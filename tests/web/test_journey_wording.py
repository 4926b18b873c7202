"""Journey (issue 17, items 3 and 8): a TA, who may not grant roles nor edit access rules, is
refused in one plain sentence — what, where, which privilege and who can give it — with the
roles core's codes only under "Details". Real browser, real server, SQLite and PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from browser_support import Live, check_page, missing_browser, new_page, sign_in

from coursegate.cli import demo_world as demo

WHY = missing_browser()
pytestmark = pytest.mark.skipif(WHY is not None, reason=f"browser tests skipped: {WHY}")

STAFF = "/courses/CG 101/instances/Sp24/staff"
CODE = re.compile(r"\b(cta|opa|vst|gex|men)\b|/exampleuniversity/")


def test_a_ta_is_refused_in_one_plain_sentence(browser: Any, live_any: Live, shots: Path) -> None:
    page = new_page(browser)
    sign_in(page, live_any, demo.TA.uid, demo.TA.password)
    page.goto(live_any.url(STAFF))
    page.get_by_role("link", name="Roles").click()
    page.wait_for_url("**/staff/roles")
    check_page(page)
    # The grant form starts empty: a role must be chosen.
    role = page.get_by_label("Role", exact=True)
    assert role.input_value() == ""
    assert role.evaluate("e => e.required") is True
    page.get_by_label("User (uid)").fill("ben@example.edu")
    page.get_by_role("button", name="Grant", exact=True).click()
    assert page.evaluate("() => document.querySelector('#r-role').validity.valueMissing")
    assert page.url.endswith("/staff/roles")  # the browser kept the form: nothing was sent
    role.select_option(label="Teaching Assistant")
    where = page.get_by_label("Where", exact=True)
    where.select_option(label="the whole course instance, CG 101, Spring 2024")
    page.get_by_role("button", name="Grant", exact=True).click()
    page.wait_for_load_state()
    alert = page.get_by_role("alert").first
    said = alert.inner_text()
    assert (
        "You can't grant the Teaching Assistant role in CG 101, Spring 2024: that needs the "
        "“grant the Teaching Assistant role” privilege, which a domain coordinator can give you."
    ) in said
    assert not CODE.search(said.split("Details")[0])
    page.screenshot(path=str(shots / "refusal-grant.png"), full_page=True)

    # Opening the access-rule editor by its address: the refusal page.
    page.goto(live_any.url(STAFF + "/rules/hw/hw1"))
    check_page(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Not allowed"
    sentence = page.get_by_role("alert").locator("p").first.inner_text()
    assert sentence == (
        "You can't set assessment parameters in CG 101, Spring 2024: that needs the “set "
        "assessment parameters” privilege, which a course coordinator of the course or a domain "
        "coordinator can give you."
    )
    assert sentence.count(". ") == 0  # one sentence
    details = page.locator("details").first
    assert not details.evaluate("e => e.open")
    assert not page.get_by_text("(opa)", exact=False).is_visible()
    details.locator("summary").click()
    assert "Set assessment parameters (opa)" in details.inner_text()
    page.screenshot(path=str(shots / "refusal.png"), full_page=True)
