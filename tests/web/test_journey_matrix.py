"""The matrix journey (issue 17, item 1) in a real browser, on SQLite and PostgreSQL: an
instructor opens the matrix, sorts by an assessment's column (both ways), sees a student's own
due date with the ★ of their exception, pages through the students, narrows the sections with
the searchable picker (the address keeps the sort), and exports the CSV, which says exactly
what the table shows. Saves ``matrix.png`` (docs/screenshots with ``make screenshots``)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from browser_support import Live, check_page, missing_browser, new_page, sign_in

import coursegate.web.staff.matrix as matrix_page
from coursegate.cli import demo_world as demo

WHY = missing_browser()
pytestmark = pytest.mark.skipif(WHY is not None, reason=f"browser tests skipped: {WHY}")

MATRIX = "/courses/CG 101/instances/Sp24/staff/matrix"

SHOWN = """() => Array.from(document.querySelectorAll('table.matrix tbody tr')).map(tr => [
  tr.querySelector('th a.who').textContent,
  tr.querySelector('th .secs').textContent,
  ...Array.from(tr.querySelectorAll('td')).map(td => {
    const st = td.querySelector('.st').textContent.trim();
    const due = td.querySelector('.due');
    return due ? st + '; ' + due.textContent.trim() : st;
  })])"""
"""The table's rows as the page shows them: the student, their sections, each cell's words."""

ROWS = "() => Array.from(document.querySelectorAll('table.matrix tbody th a.who')).map(a => a.textContent)"  # noqa: E501
ANA, BEN, CHLOE, DAN = (f"{u.name} ({u.uid})" for u in demo.STUDENTS)


def test_an_instructor_works_from_the_matrix(
    browser: Any, live_any: Live, shots: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = new_page(browser)
    sign_in(page, live_any, demo.INSTRUCTOR.uid, demo.INSTRUCTOR.password)
    page.goto(live_any.url(MATRIX))
    check_page(page)
    heading = page.locator("table.matrix thead th").first
    assert heading.evaluate("e => getComputedStyle(e).position") == "sticky"
    assert (
        page.locator("table.matrix tbody th").first.evaluate("e => getComputedStyle(e).position")
        == "sticky"
    )
    hw2 = page.get_by_role("link", name="hw2", exact=True)
    assert hw2.get_attribute("title") == (
        "Homework 2: Binary numbers (hw/hw2), due 23:59, Mon, Feb 5. Sort by it."
    )
    # Sort by hw2: Dan's own, later due date puts him last; again, and he comes first.
    hw2.click()
    page.wait_for_url("**sort=hw%2Fhw2")
    assert page.evaluate(ROWS)[-1] == DAN
    page.get_by_role("link", name="hw2", exact=True).click()
    page.wait_for_url("**sort=hw%2Fhw2&desc=1")
    assert page.evaluate(ROWS)[0] == DAN
    dan_hw2 = page.locator("table.matrix tbody tr").first.locator("td").nth(1)
    assert dan_hw2.locator(".due").inner_text() == "due 23:59, Sat, Feb 10 ★"
    assert dan_hw2.locator(".x").get_attribute("title") == "an exception of their own"
    extend = dan_hw2.get_by_role("link", name="Extend…")
    assert extend.get_attribute("href") == (
        "/courses/CG%20101/instances/Sp24/staff/extensions/new"
        "?uid=dan%40example.edu&assessment=hw%2Fhw2"
    )
    check_page(page)
    page.screenshot(path=str(shots / "matrix.png"), full_page=False)

    # Pages (two students a page here) keep the sort.
    monkeypatch.setattr(matrix_page, "PER_PAGE", 2)
    page.reload()
    assert page.evaluate(ROWS) == [DAN, ANA]
    page.get_by_role("navigation", name="Pages of the matrix").first.get_by_role(
        "link", name="Next →"
    ).click()
    page.wait_for_url("**sort=hw%2Fhw2&desc=1&page=2")
    assert page.evaluate(ROWS) == [BEN, CHLOE]
    assert "page 2 of 2" in page.locator("#matrix-area p").first.inner_text()

    # The section picker: typing narrows the checklist (without reloading anything); ticking
    # a section answers in place, keeping the sort, from the first page.
    page.evaluate("() => { window.notReloaded = true }")
    finder = page.get_by_label("Find a section")
    finder.fill("lab")
    assert page.get_by_label("lab-b (2)").is_visible()
    assert not page.get_by_label("extra-time (1)").is_visible()
    with page.expect_response(lambda r: "/staff/matrix" in r.url):
        page.get_by_label("lab-b (2)").check()
    page.wait_for_function(
        "() => document.querySelector('#matrix-area p').textContent.includes('2 of 4 students')"
    )
    assert page.evaluate("() => window.notReloaded") is True
    assert re.search(r"section=lab-b.*sort=hw%2Fhw2.*desc=1", page.url)
    assert page.evaluate(ROWS) == [BEN, CHLOE]
    check_page(page)

    # The CSV says what the table shows: same rows, order, columns and words.
    href = page.get_by_role("link", name="Export CSV").get_attribute("href")
    assert href is not None and "section=lab-b" in href and "sort=hw%2Fhw2" in href
    answer = page.request.get(live_any.base + href)
    assert answer.ok and answer.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(answer.text())))
    shown = page.evaluate(SHOWN)
    columns = page.locator("table.matrix thead th:not(:first-child) > a").all_inner_texts()
    assert [aid.rsplit("/", 1)[-1] for aid in lines[0][3:]] == columns
    assert [[f"{n} ({u})", s, *cells] for n, u, s, *cells in lines[1:]] == shown


ONE_LINE = """e => { const s = getComputedStyle(e);
  return e.getClientRects().length === 1 && s.whiteSpace === 'nowrap'
         && s.overflowWrap === 'normal' && s.wordBreak !== 'break-all' }"""
"""An element laid out on one line, allowed to break only between words."""


def test_staff_tables_never_break_a_word(browser: Any, live: Live) -> None:
    """Issue 17, item 11: a long uid is cut with an ellipsis (the whole of it on hover), in the
    roster and the matrix, on a desk and on a phone — never broken letter by letter."""
    from coursegate.services.common.places import find_course_instance
    from coursegate.services.people.users import create_user

    long_uid = "maximiliana.wolfeschlegelsteinhausen-bergerdorff@students.example.edu"
    with live.world.ctx() as ctx:
        user = create_user(ctx, long_uid, "Maximiliana Wolfeschlegelsteinhausen", long_uid,
                           domain=demo.DOMAIN)  # fmt: skip
        demo._enroll(ctx, find_course_instance(ctx, demo.COURSE, demo.INSTANCE), user, ())
    for phone in (False, True):
        page = new_page(browser, phone=phone)
        sign_in(page, live, demo.INSTRUCTOR.uid, demo.INSTRUCTOR.password)
        page.goto(live.url("/courses/CG 101/instances/Sp24/staff/roster"))
        email = page.locator(f'td span.trunc[title="{long_uid}"]')
        assert email.evaluate(ONE_LINE)
        assert email.evaluate("e => getComputedStyle(e).textOverflow") == "ellipsis"
        page.goto(live.url(MATRIX))
        who = page.locator("table.matrix a.who", has_text="Maximiliana")
        assert who.get_attribute("title") == f"Maximiliana Wolfeschlegelsteinhausen ({long_uid})"
        assert who.evaluate(ONE_LINE)
        check_page(page)
