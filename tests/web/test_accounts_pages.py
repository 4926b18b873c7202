"""Class accounts' pages over HTTP: an administrator's stem and pool, an instructor assigning
from pasted addresses, actions over one account, recycling, the schedule and the metrics."""

from __future__ import annotations

import html
import importlib.util
import re
from typing import Any

import pytest
from api_support import World
from web_support import STAFF, PageClient, text_of

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("coursegate.services.accounts") is None,
    reason="the class-accounts package (coursegate.services.accounts) is not installed",
)
ACCOUNTS = STAFF + "/accounts"


def notice(page: str) -> str:
    m = re.search(r'<div class="notice" role="status">(.*?)</div>', page, re.S)
    return html.unescape(m.group(1).strip()) if m else ""


@pytest.fixture
def stem(world: World, pages: Any) -> PageClient:
    """CG 101 with the stem cgx (an administrator's action); returns the administrator."""
    (world.data_dir / "home").mkdir(exist_ok=True)
    admin: PageClient = pages("admin")
    r = admin.post("/admin/accounts/stem", {"course": "CG 101", "stem": "cgx"})
    assert notice(admin.follow(r).text) == "CG 101 has the stem cgx (676 accounts of room)."
    return admin


def test_assign_act_recycle_and_count(world: World, pages: Any, stem: PageClient) -> None:
    ins: PageClient = pages("instructor")
    pasted = "zoe@students.example.edu, Zoe Zed\nYann Yu <yann@students.example.edu>\n"
    r = ins.post(ACCOUNTS + "/assign", {"emails": pasted, "reason": "lab accounts"})
    said = notice(ins.follow(r).text)
    assert said.startswith("2 account(s) assigned; cgxaa → zoe@students.example.edu;")
    assert "cgxab → yann@students.example.edu" in said and "The credentials are mailed." in said
    page = text_of(ins.get(ACCOUNTS).text)
    assert "cgxaa (cgxaa@users.example.edu) Zoe Zed zoe@students.example.edu student" in page
    assert "Your class account for CG 101 Sp24: cgxab" in page  # the outbox
    # The same address again is reported, not given a second account.
    r = ins.post(ACCOUNTS + "/assign", {"emails": "zoe@students.example.edu"})
    assert notice(ins.follow(r).text) == (
        "0 account(s) assigned; zoe@students.example.edu already holds cgxaa (CG 101 Sp24)."
    )
    ta: PageClient = pages("ta")
    for action, words in (
        ("reset-password", "cgxaa: new password mailed to zoe@students.example.edu."),
        ("freeze", "cgxaa: active -> frozen."),
        ("thaw", "cgxaa: frozen -> active."),
        ("incomplete", "cgxaa: incomplete granted."),
    ):
        r = ta.post(ACCOUNTS + "/action", {"account": "cgxaa", "action": action})
        assert notice(ta.follow(r).text) == words
    r = ta.post(ACCOUNTS + "/recycle", {"accounts": "cgxab"})
    assert r.status_code == 403  # recycling needs men: instructors, not TAs
    r = ins.post(ACCOUNTS + "/recycle", {"accounts": "cgxab"})
    assert notice(ins.follow(r).text) == "Recycling cgxab: wiped, then back in the pool."
    page = text_of(ins.get(ACCOUNTS).text)
    assert "cgxab (" not in page and "cgxaa (" in page
    pool = text_of(stem.get("/admin/accounts?course=CG 101").text)
    assert "cgxab free, locked pool" in pool
    assert "CG 101 Sp24 2 2 0 1" in pool  # generated, assigned, re-assigned, wiped
    assert '<svg class="chart"' in stem.get("/admin/accounts").text
    # A recycled account never returns to the course instance it was used in: a new one.
    r = ins.post(ACCOUNTS + "/assign", {"emails": "xia@students.example.edu"})
    assert notice(ins.follow(r).text) == (
        "1 account(s) assigned; cgxac → xia@students.example.edu; 1 generated. "
        "The credentials are mailed."
    )


def test_a_bad_list_names_its_lines_and_assigns_nothing(pages: Any, stem: PageClient) -> None:
    ins: PageClient = pages("instructor")
    r = ins.post(ACCOUNTS + "/assign", {"emails": "ok@students.example.edu\nnot an address\n"})
    assert r.status_code == 422
    assert "line 2:" in text_of(r.text)
    assert "not an address" in r.text  # the pasted list stays in the form
    assert "No class accounts are assigned here." in ins.get(ACCOUNTS).text


def test_the_schedule_and_its_end_date(pages: Any, stem: PageClient) -> None:
    ins: PageClient = pages("instructor")
    page = text_of(ins.get(ACCOUNTS).text)
    assert "End date: 23:59, Fri, May 17 (course files)" in page
    r = ins.post(ACCOUNTS + "/end-date", {"end": "2024-06-01T23:59", "reason": "late exams"})
    ins.follow(r)
    assert "End date: 23:59, Sat, Jun 1 (moved)" in text_of(ins.get(ACCOUNTS).text)


def test_administration_is_for_administrators(pages: Any) -> None:
    assert pages("instructor").get("/admin/accounts").status_code == 403
    assert "Class accounts: stems, the pool" in pages("admin").get("/courses").text
    assert "/admin/accounts" not in pages("instructor").get("/courses").text
