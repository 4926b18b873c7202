"""The matrix page and its CSV: every student × every assessment, now (what each may do, for
what credit, and who holds their own exception), filtered by section, assessment, "can start
now" and a name or uid."""

from __future__ import annotations

import re

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup, escape

from coursegate.http.deps import CALLER, Caller
from coursegate.http.policy import needs
from coursegate.services.access.calendar import short_name
from coursegate.services.access.decisions.matrix import CourseMatrix, MatrixCell, matrix
from coursegate.services.access.staff.assessments import assessment_titles
from coursegate.services.access.staff.people import sections_of
from coursegate.store.models import CourseInstance
from coursegate.web.pages import (
    Pages,
    ci_path,
    course_instance,
    render,
)
from coursegate.web.staff.frame import S, staff_common

pages = Pages(tags=["pages: course staff"])


def _cell_html(cell: MatrixCell) -> str:
    if cell.can_start:
        kind, word = "start", "start"
    elif cell.access and cell.submittable:
        kind, word = "sub", "open"
    elif cell.access:
        kind, word = "view", "view"
    else:
        kind, word = "no", "—"
    credit = f" {cell.credit:g}%" if cell.credit > 0 else (" 0%" if cell.submittable else "")
    mark = '<span class="x" title="own exception">†</span>' if cell.exception else ""
    return f'<td class="k-{kind}">{word}{credit}{mark}</td>'


def matrix_body(m: CourseMatrix, rows: list[int], link: str) -> Markup:
    """The table body, built once per distinct cell (the matrix is factorised): 800 × 60 in a
    few milliseconds."""
    memo: dict[int, str] = {}
    out: list[str] = []
    for r in rows:
        s = m.students[r]
        cells = m.row(r)
        parts = []
        for cell in cells:
            key = id(cell)
            html = memo.get(key)
            if html is None:
                html = memo[key] = _cell_html(cell)
            parts.append(html)
        secs = escape(", ".join(s.sections))
        out.append(
            f'<tr><th scope="row"><a href="{link}{escape(s.uid)}">{escape(s.label)}</a>'
            f'<span class="secs">{secs}</span></th>{"".join(parts)}</tr>'
        )
    return Markup("\n".join(out))


def _matrix(
    c: Caller,
    course: str,
    instance: str,
    section: list[str],
    assessment: list[str],
    can_start: str,
) -> CourseMatrix:
    return matrix(
        c.ctx,
        course,
        instance,
        sections=[s for s in section if s] or None,
        assessments=[a for a in assessment if a] or None,
        can_start_now=can_start == "1",
    )


@pages.get(S + "/matrix", policy=needs("vst", why="every student × every assessment, now"))
def matrix_page(
    request: Request,
    course: str,
    instance: str,
    section: list[str] = Query(default=[]),  # noqa: B008
    assessment: list[str] = Query(default=[]),  # noqa: B008
    can_start: str = "",
    q: str = "",
    c: Caller = CALLER,
) -> HTMLResponse:
    ci = course_instance(c, course, instance)
    m = _matrix(c, course, instance, section, assessment, can_start)
    needle = q.strip().lower()
    rows = [
        r
        for r, s in enumerate(m.students)
        if not needle or needle in s.uid.lower() or needle in s.name.lower()
    ]
    everything = matrix_columns(c, ci)
    return render(
        request,
        "staff_matrix.html",
        mx=m,
        body=matrix_body(m, rows, ci_path(ci, "staff/students") + "/"),
        shown=len(rows),
        sections=sections_of(c.ctx, ci),
        columns=everything,
        chosen={"section": section, "assessment": assessment, "can_start": can_start, "q": q},
        query=str(request.url.query),
        short_name=short_name,
        **staff_common(c, ci, "matrix"),
    )


def matrix_columns(c: Caller, ci: CourseInstance) -> list[tuple[str, str]]:
    return assessment_titles(c.ctx, ci)


@pages.get(S + "/matrix.csv", policy=needs("vst", why="every student × every assessment, now"))
def matrix_csv(
    course: str,
    instance: str,
    section: list[str] = Query(default=[]),  # noqa: B008
    assessment: list[str] = Query(default=[]),  # noqa: B008
    can_start: str = "",
    c: Caller = CALLER,
) -> Response:
    m = _matrix(c, course, instance, section, assessment, can_start)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{course}-{instance}-matrix.csv")
    return Response(
        m.to_csv(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )
