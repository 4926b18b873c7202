"""The matrix page and its CSV: every student × every assessment (columns in due-date order),
each cell the student's own state — their attempt and score, or what they may do now, and their
personal due date when it differs from the assessment's (★: an exception of their own) —
filtered by section, assessment, "can start now" and a name or uid, sorted by any column, in
pages of :data:`~coursegate.services.access.staff.matrix_view.PER_PAGE` rows. The CSV is what
the page shows, on every page: the same filters, order, columns and words (:func:`cell_words`).

Course staff who may grant exceptions (``gex``) get an "Extend…" link in every cell and row, to
the extension form (``{S}/extensions/new``)."""

from __future__ import annotations

import csv
import io
import re
import urllib.parse
from collections.abc import Mapping
from datetime import tzinfo
from typing import Any

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup, escape

from coursegate.http.deps import CALLER, Caller
from coursegate.http.policy import needs
from coursegate.services.access.decisions.matrix import _safe
from coursegate.services.access.staff.assessments import assessment_titles
from coursegate.services.access.staff.matrix_view import (
    PER_PAGE,
    SORT_SECTIONS,
    SORT_STUDENT,
    MatrixView,
    ViewCell,
    ViewColumn,
    matrix_view,
    now_word,
)
from coursegate.services.access.staff.people import sections_of
from coursegate.web.pages import Pages, ci_path, course_instance, pct, render, when
from coursegate.web.staff.frame import S, staff_common

pages = Pages(tags=["pages: course staff"])

WHY = "every student × every assessment: attempts, scores, due dates, what each may do now"


def cell_words(cell: ViewCell, tz: tzinfo) -> tuple[str, str]:
    """What a cell says, on the page and in the CSV: the state (``submitted 85%``, ``started
    40%``, ``can start 100%``, ``open 100%``, ``view only``, ``—``) and the student's own due
    date when it differs from the assessment's (``due 23:59, Mon, Feb 12``), then ★ for an
    exception of their own (empty when neither)."""
    a = cell.attempt
    if a is not None:
        state = f"{'submitted' if a.submitted else 'started'} {pct(a.score)}"
    else:
        word = now_word(cell.now)
        state = {
            "start": f"can start {pct(cell.now.credit)}",
            "submit": f"open {pct(cell.now.credit)}",
            "view": "view only",
            "none": "—",
        }[word]
    due = ""
    if cell.own_due:
        due = "no due date" if cell.due is None else f"due {when(cell.due, tz)}"
    if cell.exception:
        due = f"{due} ★".strip()
    return state, due


def _kind(cell: ViewCell) -> str:
    a = cell.attempt
    if a is not None:
        return "done" if a.submitted else "sub"
    return {"start": "start", "submit": "sub", "view": "view", "none": "no"}[now_word(cell.now)]


_STAR = '<span class="x" title="an exception of their own">★</span>'


def matrix_body(view: MatrixView, *, student_link: str, staff: str, can_extend: bool) -> Markup:
    """The rows of this page: a cell's words (:func:`cell_words`), its kind for colour, the ★
    with its meaning on hover, and the "Extend…" links for those who may
    grant. Each distinct cell is written once."""
    tz = view.tz
    memo: dict[tuple[object, ...], str] = {}
    quote = urllib.parse.quote
    form = escape(f"{staff}/extensions/new?uid=")
    tails = [f"&amp;assessment={quote(col.aid, safe='')}" for col in view.columns]
    out: list[str] = []
    for row in view.rows:
        s = row.student
        uid = escape(s.uid)
        parts = []
        to_form = f"{form}{quote(s.uid, safe='')}"
        for tail, cell in zip(tails, row.cells, strict=True):
            key = (id(cell.now), cell.attempt, cell.due, cell.own_due)
            html = memo.get(key)
            if html is None:
                state, due = cell_words(cell, tz)
                due_html = f'<span class="due">{escape(due)}</span>' if due else ""
                html = memo[key] = (
                    f'<td class="k-{_kind(cell)}"><span class="st">{escape(state)}</span>'
                    + due_html.replace("★", _STAR)
                )
            if can_extend:
                parts.append(f'{html} <a href="{to_form}{tail}">Extend…</a></td>')
            else:
                parts.append(f"{html}</td>")
        secs = escape(", ".join(s.sections))
        row_link = f' <a class="ext" href="{to_form}">Extend…</a>' if can_extend else ""
        label = escape(s.label)
        out.append(
            f'<tr><th scope="row"><a class="who" href="{student_link}{uid}" title="{label}">'
            f'{label}</a><span class="secs" title="{secs}">{secs}</span>{row_link}</th>'
            f"{''.join(parts)}</tr>"
        )
    return Markup("\n".join(out))


def _query(chosen: Mapping[str, Any], **changes: Any) -> str:
    """The page's address query: the filters and sort chosen, with ``changes`` (empty values
    left out)."""
    merged = {**chosen, **changes}
    pairs: list[tuple[str, str]] = []
    for key in ("q", "section", "assessment", "can_start", "sort", "desc", "page"):
        value = merged.get(key)
        values = value if isinstance(value, list) else [value]
        pairs += [(key, str(v)) for v in values if v not in (None, "", 1 if key == "page" else "")]
    if merged.get("sort") == SORT_STUDENT:
        pairs.remove(("sort", SORT_STUDENT))
    return urllib.parse.urlencode(pairs)


def page_numbers(page: int, pages: int) -> list[int | None]:
    """The pages to link (None: a gap): the first, the last, and three on each side."""
    near = {1, pages, *range(page - 3, page + 4)}
    out: list[int | None] = []
    for n in sorted(p for p in near if 1 <= p <= pages):
        if out and out[-1] is not None and n - (out[-1] or 0) > 1:
            out.append(None)
        out.append(n)
    return out


def _page_number(text: str) -> int:
    return int(text) if text.isdecimal() and len(text) < 7 else 1


def _view(
    c: Caller,
    course: str,
    instance: str,
    chosen: Mapping[str, Any],
    *,
    per_page: int,
) -> MatrixView:
    return matrix_view(
        c.ctx,
        course,
        instance,
        sections=[s for s in chosen["section"] if s] or None,
        assessments=[a for a in chosen["assessment"] if a] or None,
        can_start_now=chosen["can_start"] == "1",
        search=chosen["q"],
        sort=chosen["sort"] or SORT_STUDENT,
        descending=chosen["desc"] == "1",
        page=_page_number(chosen["page"]),
        per_page=per_page,
    )


def _chosen(
    section: list[str],
    assessment: list[str],
    can_start: str,
    q: str,
    sort: str,
    desc: str,
    page: str,
) -> dict[str, Any]:
    return {
        "section": section,
        "assessment": assessment,
        "can_start": can_start,
        "q": q,
        "sort": sort or SORT_STUDENT,
        "desc": desc if desc == "1" else "",
        "page": page,
    }


@pages.get(S + "/matrix", policy=needs("vst", why=WHY))
def matrix_page(
    request: Request,
    course: str,
    instance: str,
    section: list[str] = Query(default=[]),  # noqa: B008
    assessment: list[str] = Query(default=[]),  # noqa: B008
    can_start: str = "",
    q: str = "",
    sort: str = "",
    desc: str = "",
    page: str = "1",
    c: Caller = CALLER,
) -> HTMLResponse:
    ci = course_instance(c, course, instance)
    chosen = _chosen(section, assessment, can_start, q, sort, desc, page)
    view = _view(c, course, instance, chosen, per_page=PER_PAGE)
    common = staff_common(c, ci, "matrix")
    staff = ci_path(ci, "staff")
    return render(
        request,
        "staff_matrix.html",
        view=view,
        body=matrix_body(
            view,
            student_link=staff + "/students/",
            staff=staff,
            can_extend=bool(common["can"]["gex"]),
        ),
        section_items=[(s.name, f"{s.name} ({s.members})") for s in sections_of(c.ctx, ci)],
        everything=assessment_titles(c.ctx, ci),
        chosen=chosen,
        query=lambda **changes: _query(chosen, **changes),
        sort_link=lambda key: _query(
            chosen,
            sort=key,
            desc="1" if chosen["sort"] == key and not chosen["desc"] else "",
            page=1,
        ),
        aria_sort=lambda key: (
            ("descending" if chosen["desc"] else "ascending") if chosen["sort"] == key else None
        ),
        header_title=lambda col: _header_title(col, view.tz),
        page_numbers=page_numbers(view.page, view.pages),
        SORT_SECTIONS=SORT_SECTIONS,
        SORT_STUDENT=SORT_STUDENT,
        **common,
    )


def _header_title(col: ViewColumn, tz: tzinfo) -> str:
    due = "no due date" if col.due is None else f"due {when(col.due, tz)}"
    return f"{col.full_title}, {due}. Sort by it."


@pages.get(S + "/matrix.csv", policy=needs("vst", why=WHY))
def matrix_csv(
    course: str,
    instance: str,
    section: list[str] = Query(default=[]),  # noqa: B008
    assessment: list[str] = Query(default=[]),  # noqa: B008
    can_start: str = "",
    q: str = "",
    sort: str = "",
    desc: str = "",
    c: Caller = CALLER,
) -> Response:
    chosen = _chosen(section, assessment, can_start, q, sort, desc, "1")
    view = _view(c, course, instance, chosen, per_page=0)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{course}-{instance}-matrix.csv")
    return Response(
        to_csv(view),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


def to_csv(view: MatrixView) -> str:
    """One line per student, in the page's order: ``name``, ``uid``, ``sections``, then one
    column per assessment shown (its id, in the page's order) with the cell's words —
    ``state`` or ``state; due …`` (:func:`cell_words`)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["name", "uid", "sections", *(col.aid for col in view.columns)])
    memo: dict[tuple[object, ...], str] = {}
    for row in view.rows:
        s = row.student
        cells: list[str] = []
        for cell in row.cells:
            key = (id(cell.now), cell.attempt, cell.due, cell.own_due)
            text = memo.get(key)
            if text is None:
                text = memo[key] = "; ".join(p for p in cell_words(cell, view.tz) if p)
            cells.append(text)
        w.writerow([_safe(s.name), _safe(s.uid), _safe(", ".join(s.sections)), *cells])
    return out.getvalue()
