"""The matrix page without a browser (issue 17, item 1), on SQLite and PostgreSQL: columns in
due-date order with their full titles on hover, each student's own state and due date (★ for
an exception), sorting by any column, paging that keeps the filters and the sort, the section
filter, the CSV equal to what the page shows, and "Extend…" links only for those who may grant
exceptions (``gex``)."""

from __future__ import annotations

import csv
import html
import io
import re
from typing import Any

import pytest
from api_support import World
from web_support import STAFF, PageClient, text_of

import coursegate.web.staff.matrix as matrix_page
from coursegate.cli import demo_world as demo
from coursegate.services.access.staff.matrix_view import cell_order, matrix_view
from coursegate.services.people.signin import store_password
from coursegate.services.people.users import create_user
from coursegate.store.models import RoleAssignmentRow

MATRIX = STAFF + "/matrix"
EXTEND = "/courses/CG%20101/instances/Sp24/staff/extensions/new"


def _strip(fragment: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", fragment))).strip()


def shown(page: str) -> tuple[list[str], list[tuple[str, str, list[str]]]]:
    """The page's columns (short names) and rows: (student label, sections, cells), each cell
    as the CSV writes it (``state`` or ``state; due …``)."""
    head = page.split("<thead>", 1)[1].split("</thead>", 1)[0]
    columns = re.findall(r'<th scope="col"[^>]*><a href="[^"]*" title="[^"]*">([^<]*)</a>', head)
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        label = _strip(re.search(r'<a class="who"[^>]*>(.*?)</a>', tr).group(1))  # type: ignore[union-attr]
        secs = _strip(re.search(r'<span class="secs"[^>]*>(.*?)</span>', tr).group(1))  # type: ignore[union-attr]
        cells = []
        for td in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S):
            state = _strip(re.search(r'<span class="st">(.*?)</span>', td).group(1))  # type: ignore[union-attr]
            due = re.search(r'<span class="due">(.*?)</span>(?: <a|$)', td, re.S)
            cells.append(state if due is None else f"{state}; {_strip(due.group(1))}")
        rows.append((label, secs, cells))
    return columns, rows


def names(page: str) -> list[str]:
    return [label for label, _, _ in shown(page)[1]]


ANA, BEN, CHLOE, DAN = (f"{u.name} ({u.uid})" for u in demo.STUDENTS)


def test_columns_come_in_due_date_order_with_the_full_title_on_hover(pages: Any) -> None:
    page = pages("instructor").get(MATRIX).text
    columns, _ = shown(page)
    assert columns[:4] == ["hw1", "hw2", "quiz1", "exam1"]
    assert columns[-3:] == ["exam2", "exam3", "final"]  # no due date: last
    assert 'title="Homework 1: Logic gates (hw/hw1), due 23:59, Mon, Jan 29. Sort by it."' in page
    assert "4 of 4 students × 13 assessments." in text_of(page)


def test_each_cell_is_the_students_own_state_and_due_date(world: World, pages: Any) -> None:
    page = pages("instructor").get(MATRIX).text
    _, rows = shown(page)
    by_name = {label: cells for label, _, cells in rows}
    # Dan's own exception moves his hw2 due date: shown, with the star (and its meaning).
    assert by_name[DAN][1] == "—; due 23:59, Sat, Feb 10 ★"
    assert by_name[ANA][1] == "—"  # the assessment's own date: not repeated in the cell
    assert 'title="an exception of their own">★</span>' in page
    assert by_name[ANA][0] == "can start 120%"
    # An attempt shows instead: submitted (closed) or started (open), with its score.
    with world.ctx() as ctx:
        from sqlalchemy import select

        from coursegate.store.models import Assessment, AssessmentInstance, User

        ana = ctx.session.scalars(select(User).where(User.uid == "ana@example.edu")).one()
        hw1 = ctx.session.scalars(select(Assessment).where(Assessment.aid == "hw/hw1")).one()
        ctx.session.add(
            AssessmentInstance(
                assessment_id=hw1.id, user_id=ana.id, number=1, open=False,
                started_at=ctx.at, closed_at=ctx.at, points=17, max_points=20,
                score_percent=85,
            )
        )  # fmt: skip
    _, rows = shown(pages("instructor").get(MATRIX).text)
    assert {label: cells for label, _, cells in rows}[ANA][0] == "submitted 85%"


def test_sorting_by_any_column_both_ways(pages: Any) -> None:
    ins: PageClient = pages("instructor")
    assert names(ins.get(MATRIX).text) == [ANA, BEN, CHLOE, DAN]
    assert names(ins.get(MATRIX + "?desc=1").text) == [DAN, CHLOE, BEN, ANA]
    assert names(ins.get(MATRIX + "?sort=sections").text)[0] == DAN  # no section first
    # By hw2: the same state, then the due date: Dan's later one last (first, descending).
    assert names(ins.get(MATRIX + "?sort=hw/hw2").text)[-1] == DAN
    page = ins.get(MATRIX + "?sort=hw/hw2&desc=1").text
    assert names(page)[0] == DAN
    heading = '<a href="/courses/CG%20101/instances/Sp24/staff/matrix?sort=hw%2Fhw2"'
    assert f'aria-sort="descending">{heading}' in page  # again: the other way
    r = ins.get(MATRIX + "?sort=nothing")
    assert r.status_code == 422 and "cannot be sorted by &#39;nothing&#39;" in r.text


def test_the_sort_order_of_a_cell() -> None:
    from coursegate.services.access.decisions.matrix import MatrixCell
    from coursegate.services.access.staff.matrix_view import Attempt, ViewCell

    now = MatrixCell(True, True, True, 100, "100%", None, False)
    none = ViewCell(now, None, 10, False)
    started = ViewCell(now, Attempt(False, 90), 10, False)
    low, high = (
        ViewCell(now, Attempt(True, 40), 10, False),
        ViewCell(now, Attempt(True, 80), 10, False),
    )
    ordered = sorted([high, started, low, none], key=cell_order)
    assert ordered == [none, started, low, high]


def test_pages_keep_the_filters_and_the_sort(pages: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matrix_page, "PER_PAGE", 2)
    ins: PageClient = pages("instructor")
    first = ins.get(MATRIX + "?sort=student&desc=1").text
    assert names(first) == [DAN, CHLOE]
    assert "4 of 4 students × 13 assessments; page 1 of 2." in text_of(first)
    nxt = re.search(r'<a href="([^"]*)" rel="next">', first).group(1)  # type: ignore[union-attr]
    assert html.unescape(nxt).endswith("/staff/matrix?desc=1&page=2")
    second = ins.get(html.unescape(nxt)).text
    assert names(second) == [BEN, ANA]
    assert 'aria-current="page">2<' in second
    filtered = ins.get(MATRIX + "?section=lab-b&section=lab-a&page=2").text
    assert names(filtered) == [CHLOE]
    prev = re.search(r'<a href="([^"]*)" rel="prev">', filtered).group(1)  # type: ignore[union-attr]
    assert "section=lab-b&amp;section=lab-a" in prev and "page" not in prev
    assert names(ins.get(MATRIX + "?page=99").text) == [CHLOE, DAN]  # past the end: the last
    assert names(ins.get(MATRIX + "?page=nonsense").text) == [ANA, BEN]


def test_the_section_filter_is_a_searchable_checklist(pages: Any) -> None:
    ins: PageClient = pages("instructor")
    page = ins.get(MATRIX + "?section=lab-b").text
    assert names(page) == [BEN, CHLOE]
    assert '<input type="checkbox" name="section" value="lab-b" checked> lab-b (2)' in page
    assert '<input type="checkbox" name="section" value="lab-a"> lab-a (1)' in page
    assert 'class="picker-filter" id="section-filter" aria-label="Find a section"' in page
    assert "<select" not in page.split('<div id="matrix-area">')[0].split("<form", 1)[1]
    assert '<script src="/static/matrix.js" defer></script>' in page
    r = ins.get(MATRIX + "?section=no-such")
    assert r.status_code == 422 and "has no section &#39;no-such&#39;" in r.text


@pytest.mark.parametrize(
    "query",
    ["", "?section=lab-b&sort=hw/hw2&desc=1", "?sort=sections", "?q=an&assessment=hw/hw2"],
)
def test_the_csv_is_exactly_what_the_page_shows(
    pages: Any, monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    monkeypatch.setattr(matrix_page, "PER_PAGE", 500)
    ins: PageClient = pages("instructor")
    columns, rows = shown(ins.get(MATRIX + query).text)
    r = ins.get(STAFF + "/matrix.csv" + query)
    assert r.headers["content-type"].startswith("text/csv")
    assert 'filename="CG_101-Sp24-matrix.csv"' in r.headers["content-disposition"]
    lines = list(csv.reader(io.StringIO(r.text)))
    assert [h.rsplit("/", 1)[-1] for h in lines[0][3:]] == columns
    assert len(lines) - 1 == len(rows) > 0
    for (label, secs, cells), line in zip(rows, lines[1:], strict=True):
        name, uid, sections, *words = line
        assert label == f"{name} ({uid})" and secs == sections
        assert words == cells


def test_extend_links_only_for_those_who_may_grant(world: World, pages: Any) -> None:
    page = pages("instructor").get(MATRIX).text
    cell = f"{EXTEND}?uid=dan%40example.edu&amp;assessment=hw%2Fhw2"
    assert f'<a href="{cell}">Extend…</a></td>' in page
    assert f'<a class="ext" href="{EXTEND}?uid=dan%40example.edu">Extend…</a></th>' in page
    assert page.count("Extend…</a>") == 4 * (13 + 1)
    assert pages("ta").get(MATRIX).text.count("Extend…</a>") == 4 * 14  # TAs hold gex
    # Course staff who see students but may not grant exceptions (an exam proctor: vst, no
    # gex) get the matrix without a single Extend link.
    with world.ctx() as ctx:
        from coursegate.services.common.places import find_course_instance, instance_area

        user = create_user(ctx, "proctor@example.edu", "Pat Proctor", "proctor@example.edu",
                           domain=demo.DOMAIN)  # fmt: skip
        store_password(ctx, user, "proctor-pass-1")
        ci = find_course_instance(ctx, demo.COURSE, demo.INSTANCE)
        ctx.session.add(
            RoleAssignmentRow(
                user_id=user.id,
                role="ep",
                area=instance_area(ci).path,
                created_by="test",
                created_at=ctx.at,
            )
        )
    proctor = world.sign_in("proctor@example.edu", "proctor-pass-1")
    page = proctor.get(MATRIX).text
    assert "4 of 4 students" in text_of(page)
    assert "Extend…" not in page and "extensions/new" not in page


def test_the_service_pages_and_counts(world: World) -> None:
    with world.ctx(demo.INSTRUCTOR.uid) as ctx:
        view = matrix_view(ctx, "CG 101", "Sp24", sort="student", page=2, per_page=3)
    assert (view.page, view.pages, view.matching, view.everyone) == (2, 2, 4, 4)
    assert [r.student.uid for r in view.rows] == ["dan@example.edu"]
    dan = view.rows[0]
    hw2 = [c.aid for c in view.columns].index("hw/hw2")
    assert dan.cells[hw2].exception and dan.cells[hw2].own_due


def test_every_due_date_is_the_one_the_students_own_page_shows(world: World) -> None:
    """The matrix reads each student's due date as their own pages do (no rule of its own):
    with an attempt open on an assessment, a section's dates, an exception, a time limit."""
    from sqlalchemy import select

    from coursegate.services.access.decisions.student import student_course
    from coursegate.store.models import Assessment, AssessmentInstance, User

    with world.ctx() as ctx:
        ben = ctx.session.scalars(select(User).where(User.uid == "ben@example.edu")).one()
        exam = ctx.session.scalars(select(Assessment).where(Assessment.aid == "exams/exam1")).one()
        ctx.session.add(
            AssessmentInstance(
                assessment_id=exam.id,
                user_id=ben.id,
                number=1,
                open=False,
                started_at=ctx.at,
                closed_at=ctx.at,
            )
        )
    with world.ctx(demo.INSTRUCTOR.uid) as ctx:
        view = matrix_view(ctx, "CG 101", "Sp24", per_page=0)
        compared = 0
        for row in view.rows:
            own = {
                a.aid: a.due
                for a in student_course(ctx, "CG 101", "Sp24", row.student.uid).assessments
            }
            for col, cell in zip(view.columns, row.cells, strict=True):
                assert cell.own_due == (cell.due != col.due)
                if col.aid in own:  # the student's list shows the assessments listed to them
                    assert cell.due == own[col.aid], (row.student.uid, col.aid)
                    compared += 1
    assert compared >= 4 * 10
