"""Course staff's pages: the assessment list with published marks, one assessment (its timeline
picture, what each student sees now, its exceptions), the access-rule editor, the matrix (and
its CSV), exceptions (grant, change, remove; one student, a section, pasted uids), one student
as staff see them, and starting "view as".

Every answer comes from the services (:mod:`coursegate.services.decisions`,
:mod:`~coursegate.services.exceptions`, :mod:`~coursegate.services.staff_views`, ...), which ask
the roles core again; the routes' policies are the first door.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup, escape
from starlette.datastructures import FormData

from coursegate.api.deps import CALLER, Caller
from coursegate.api.policy import needs
from coursegate.api.schemas import RowId
from coursegate.core.instants import Instant, from_instant
from coursegate.services import exceptions as X
from coursegate.services import signin
from coursegate.services.calendar import short_name
from coursegate.services.decisions import CourseMatrix, MatrixCell, matrix, student_course
from coursegate.services.enrollment import list_roster
from coursegate.services.errors import Invalid, ServiceError
from coursegate.services.staff_views import (
    assessment_timeline,
    assessment_titles,
    attempts_of,
    editor_context,
    may,
    publishing_of,
    sections_of,
    staff_overview,
    students_with_exceptions,
)
from coursegate.store.models import CourseInstance
from coursegate.web import editor as E
from coursegate.web.pages import (
    FORM,
    Pages,
    act_then_redirect,
    ci_path,
    course_instance,
    redirect,
    render,
    text,
    values,
)
from coursegate.web.student import describe_exception, exception_scope
from coursegate.web.svg import segment_rows, timeline_svg

pages = Pages(tags=["pages: course staff"])

CI = "/courses/{course}/instances/{instance}"
S = CI + "/staff"


def staff_common(c: Caller, ci: CourseInstance, here: str) -> dict[str, Any]:
    """What every staff page shows: the course instance's navigation (links the user may
    follow), the course's zone, now."""
    from coursegate.services.exceptions import course_zone

    out: dict[str, Any] = {
        "ci": ci,
        "ci_key": (ci.course.name, ci.short_name),
        "tz": course_zone(ci),
        "at": c.ctx.at,
        "here": here,
        "staff": True,
        "can": {p: may(c.ctx, p, ci) for p in ("gex", "men", "mus", "ain", "opa", "vhi", "mcr")},
    }
    out["accounts"] = _accounts_available() and out["can"]["mus"]
    return out


def _accounts_available() -> bool:
    from coursegate.web.accounts import available

    return available()


def person(name: str, uid: str) -> str:
    """Full name and uid together: ``Ana Alvarez (ana@example.edu)``."""
    return f"{name} ({uid})" if name else uid


_UID_IN_LABEL = re.compile(r"\(([^()\s]+)\)\s*$")


def uid_from(text_: str) -> str:
    """A uid typed alone, or picked as ``Full Name (uid)``."""
    m = _UID_IN_LABEL.search(text_)
    return m.group(1) if m else text_.strip()


# -- the assessment list ----------------------------------------------------------------------


@pages.get(S, policy=needs("vst", why="course staff: the assessments and their published marks"))
def overview(request: Request, course: str, instance: str, c: Caller = CALLER) -> HTMLResponse:
    ci = course_instance(c, course, instance)
    return render(
        request,
        "staff_overview.html",
        ov=staff_overview(c.ctx, ci),
        short_name=short_name,
        **staff_common(c, ci, "staff"),
    )


# -- one assessment ---------------------------------------------------------------------------


@pages.get(
    S + "/assessments/{aid:path}",
    policy=needs("vst", why="course staff: an assessment's timeline and what students see"),
)
def assessment(
    request: Request, course: str, instance: str, aid: str, c: Caller = CALLER
) -> HTMLResponse:
    ci = course_instance(c, course, instance)
    common = staff_common(c, ci, "staff")
    tl = assessment_timeline(c.ctx, ci, aid)
    m = matrix(c.ctx, course, instance, assessments=[aid])
    ctx = editor_context(c.ctx, ci, aid)
    rows = [(s, m.cell(r, 0)) for r, s in enumerate(m.students)]
    return render(
        request,
        "staff_assessment.html",
        tl=tl,
        picture=Markup(timeline_svg(tl, common["tz"])),
        picture_rows=segment_rows(tl, common["tz"]),
        rows=rows,
        exceptions=X.assessment_exceptions(c.ctx, ci.id, aid),
        fields_words=fields_words,
        access=E.access_json(ctx.stored),
        row=ctx.row,
        **common,
    )


# -- the access-rule editor -------------------------------------------------------------------


@dataclass
class EditorState:
    elements: list[Any] | None
    """The modern list (None: another form, edited as JSON only)."""
    json_text: str
    problems: tuple[Any, ...]
    loose: list[Any]
    nodes: list[E.Node]
    changed: bool
    error: str = ""
    preview: Markup | None = None


def _editor_state(
    c: Caller, ci: CourseInstance, aid: str, access: dict[str, Any] | None, *, error: str = ""
) -> EditorState:
    ctx = editor_context(c.ctx, ci, aid)
    value = ctx.stored if access is None else access
    checked = E.check(value, ctx.row, ci.short_name, ctx.settings, ctx.tz)
    ac = value.get("accessControl")
    modern = isinstance(ac, list) and "allowAccess" not in value
    nodes = E.build_elements(ac) if modern and isinstance(ac, list) else []
    loose = E.attach(nodes, checked.problems) if nodes else list(checked.problems)
    preview = None
    if checked.source is not None and value != ctx.stored:
        tl = assessment_timeline(c.ctx, ci, aid, config=checked.source.config)
        preview = Markup(timeline_svg(tl, ctx.tz))
    return EditorState(
        elements=ac if modern and isinstance(ac, list) else None,
        json_text=E.access_json(value),
        problems=checked.problems,
        loose=loose,
        nodes=nodes,
        changed=value != ctx.stored,
        error=error,
        preview=preview,
    )


def _render_editor(
    request: Request, c: Caller, ci: CourseInstance, aid: str, st: EditorState, status: int = 200
) -> HTMLResponse:
    common = staff_common(c, ci, "staff")
    ci_pub, a_pub = publishing_of(c.ctx, ci, aid)
    data = {
        "st": st,
        "aid": aid,
        "file": E.file_of(ci.short_name, aid),
        "ci_pub": ci_pub,
        "a_pub": a_pub,
        **common,
    }
    if request.headers.get("hx-request"):
        from coursegate.web.pages import fragment

        return HTMLResponse(fragment("_rules_panel.html", oob=True, me=None, **data), status)
    return render(request, "staff_rules.html", status=status, **data)


@pages.get(
    S + "/rules/{aid:path}",
    policy=needs("opa", why="set assessment parameters: the access rules"),
)
def rules(
    request: Request, course: str, instance: str, aid: str, c: Caller = CALLER
) -> HTMLResponse:
    ci = course_instance(c, course, instance)
    return _render_editor(request, c, ci, aid, _editor_state(c, ci, aid, None))


@pages.post(
    S + "/rules/{aid:path}",
    policy=needs("opa", why="set assessment parameters: the access rules"),
)
def rules_edit(
    request: Request,
    course: str,
    instance: str,
    aid: str,
    form: FormData = FORM,
    c: Caller = CALLER,
) -> HTMLResponse:
    """Check the rules as edited (form or JSON), add or remove a row, or load JSON into the
    form. Nothing is saved: the course files in git are the source of truth (docs/web.md)."""
    ci = course_instance(c, course, instance)
    flat = values(form)
    op = text(form, "op") or "check"
    ctx = editor_context(c.ctx, ci, aid)
    base = {k: v for k, v in ctx.stored.items() if k != "accessControl"}
    if op in ("from-json", "check-json") or text(form, "mode") == "json":
        raw = form.get("json")
        try:
            parsed = E.load_json(raw) if isinstance(raw, str) else None
        except ValueError as exc:
            st = _editor_state(c, ci, aid, None, error=f"the JSON cannot be read: {exc}")
            st.json_text = str(form.get("json") or "")
            return _render_editor(request, c, ci, aid, st, 422)
        if not isinstance(parsed, dict):
            st = _editor_state(c, ci, aid, None, error="the JSON must be an object {...}")
            st.json_text = str(form.get("json") or "")
            return _render_editor(request, c, ci, aid, st, 422)
        return _render_editor(request, c, ci, aid, _editor_state(c, ci, aid, parsed))
    try:
        elements = E.read_elements(flat)
    except E.FormError as exc:
        st = _editor_state(c, ci, aid, None, error=f"{exc.path}: {exc}")
        return _render_editor(request, c, ci, aid, st, 422)
    elements = E.apply(elements, op)
    return _render_editor(
        request, c, ci, aid, _editor_state(c, ci, aid, {**base, "accessControl": elements})
    )


# -- the matrix -------------------------------------------------------------------------------


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


# -- exceptions -------------------------------------------------------------------------------


def wall(t: Instant, tz: tzinfo) -> str:
    """An instant as a ``datetime-local`` value in the course's zone."""
    dt = from_instant(t, tz)
    return dt.strftime("%Y-%m-%dT%H:%M:%S" if dt.second else "%Y-%m-%dT%H:%M")


def fields_words(fields: dict[str, Any], tz: tzinfo) -> str:
    """An exception's fields in words (the student's page says the same)."""
    from coursegate.services.decisions import OwnException

    return ", ".join(describe_exception(OwnException("", "", fields, ""), tz))


FIELDS = ("release", "due", "credit", "time_limit_minutes", "time_limit_percent")


def _number(raw: str, name: str) -> float | int:
    try:
        return int(raw) if raw.lstrip("-").isdigit() else float(raw)
    except ValueError:
        raise Invalid(f"{name}: {raw!r} is not a number", name) from None


def read_exception_fields(form: FormData, *, change: bool = False) -> dict[str, Any]:
    """The fields filled in; when changing, a ticked "remove" removes that field (None)."""
    out: dict[str, Any] = {}
    for name in (*FIELDS, "publishing_extension_end"):
        raw = text(form, name)
        if change and text(form, f"remove_{name}") == "1":
            out[name] = None
        elif raw:
            out[name] = _number(raw, name) if name not in X.DATE_FIELDS else raw
    if text(form, "no_password") == "1":
        out["password"] = ""
    elif isinstance(form.get("password"), str) and form.get("password"):
        out["password"] = form.get("password")
    elif change and text(form, "remove_password") == "1":
        out["password"] = None
    return out


def _scope(form: FormData) -> tuple[str, str]:
    scope = text(form, "scope") or "assessment"
    target = {
        "assessment": text(form, "assessment"),
        "set": text(form, "set"),
        "course_instance": "",
    }.get(scope, "")
    return scope, target


def _exceptions_page(
    request: Request,
    c: Caller,
    ci: CourseInstance,
    *,
    uid: str = "",
    error: ServiceError | None = None,
    filled: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    common = staff_common(c, ci, "exceptions")
    holders = students_with_exceptions(c.ctx, ci)
    if uid:
        holders = [u for u in holders if u == uid]
    views = [v for u in holders for v in X.student_exceptions(c.ctx, ci.id, u)]
    ov = staff_overview(c.ctx, ci)
    sets = sorted({a.set_name for a in ov.assessments if a.set_name})
    return render(
        request,
        "staff_exceptions.html",
        status=status,
        views=views,
        roster=list_roster(c.ctx, ci.id),
        assessments=ov.assessments,
        sets=sets,
        sections=sections_of(c.ctx, ci),
        uid=uid,
        error=error,
        filled=filled or {},
        fields_words=fields_words,
        person=person,
        **common,
    )


@pages.get(S + "/exceptions", policy=needs("vst", why="students' exceptions"))
def exceptions_page(
    request: Request,
    course: str,
    instance: str,
    uid: str = "",
    assessment: str = "",
    c: Caller = CALLER,
) -> HTMLResponse:
    """Every exception (or one student's), and the form to grant one (``assessment``
    chosen in it when given)."""
    ci = course_instance(c, course, instance)
    filled = {"assessment": assessment} if assessment else {}
    if uid:
        filled["uid"] = uid
    return _exceptions_page(request, c, ci, uid=uid, filled=filled)


@pages.post(S + "/exceptions", policy=needs("gex", why="grant students' exceptions"))
def grant(
    request: Request, course: str, instance: str, form: FormData = FORM, c: Caller = CALLER
) -> Response:
    """Grant one exception to one student, every student of a section, or pasted uids."""
    ci = course_instance(c, course, instance)
    who = text(form, "who") or "student"
    reason = text(form, "reason")

    def action() -> str:
        scope, target = _scope(form)
        fields = read_exception_fields(form)
        if who == "student":
            uid = uid_from(text(form, "uid"))
            if not uid:
                raise Invalid("uid: choose the student (uid or name)", "uid")
            v = X.grant(c.ctx, ci.id, uid, scope, target, fields, reason=reason)
            notes = f" Note: {'; '.join(v.warnings)}" if v.warnings else ""
            return f"Exception granted to {v.student} for {v.what}.{notes}"
        if who == "section":
            report = X.grant_many(
                c.ctx, ci.id, scope, target, fields, reason=reason, section=text(form, "section")
            )
        else:
            report = X.grant_many(
                c.ctx, ci.id, scope, target, fields, reason=reason, uids=text(form, "uids")
            )
        done = f"Exception granted to {len(report.granted)} student(s)"
        if report.unchanged:
            done += f"; {len(report.unchanged)} already had it ({', '.join(report.unchanged)})"
        if report.warnings:
            done += f". Note: {'; '.join(report.warnings)}"
        return done + "."

    return act_then_redirect(
        request,
        c,
        action,
        back=ci_path(ci, "staff/exceptions"),
        again=lambda e: _exceptions_page(
            request, c, ci, error=e, filled=values(form), status=e.status
        ),
    )


@pages.get(S + "/exceptions/{exception_id}", policy=needs("vst", why="students' exceptions"))
def exception_page(
    request: Request, course: str, instance: str, exception_id: RowId, c: Caller = CALLER
) -> HTMLResponse:
    ci = course_instance(c, course, instance)
    return _exception_page(request, c, ci, exception_id)


def _exception_page(
    request: Request,
    c: Caller,
    ci: CourseInstance,
    exception_id: RowId,
    *,
    error: ServiceError | None = None,
    status: int = 200,
) -> HTMLResponse:
    v = X.get_exception(c.ctx, exception_id)
    if v.course_instance_id != ci.id:
        from coursegate.services.errors import NotFound

        raise NotFound(f"exception_id: there is no exception {exception_id} here", "exception_id")
    common = staff_common(c, ci, "exceptions")
    tz = common["tz"]
    current = {
        k: (wall(val, tz) if k in X.DATE_FIELDS and isinstance(val, int) else val)
        for k, val in v.fields.items()
    }
    return render(
        request,
        "staff_exception.html",
        status=status,
        v=v,
        current=current,
        error=error,
        fields_words=fields_words,
        **common,
    )


@pages.post(
    S + "/exceptions/{exception_id}", policy=needs("gex", why="change students' exceptions")
)
def change(
    request: Request,
    course: str,
    instance: str,
    exception_id: RowId,
    form: FormData = FORM,
    c: Caller = CALLER,
) -> Response:
    ci = course_instance(c, course, instance)

    def action() -> str:
        version = _version(form)
        v = X.change(
            c.ctx,
            exception_id,
            read_exception_fields(form, change=True),
            version=version,
            reason=text(form, "reason"),
        )
        return f"Changed {v.student}'s exception for {v.what}."

    return act_then_redirect(
        request,
        c,
        action,
        back=ci_path(ci, "staff/exceptions"),
        again=lambda e: _exception_page(request, c, ci, exception_id, error=e, status=e.status),
    )


def _version(form: FormData) -> int:
    raw = text(form, "version")
    if not raw.isdigit():
        raise Invalid("version: the form lost the version it showed; open it again", "version")
    return int(raw)


@pages.post(
    S + "/exceptions/{exception_id}/remove",
    policy=needs("gex", why="remove students' exceptions"),
)
def remove(
    request: Request,
    course: str,
    instance: str,
    exception_id: RowId,
    form: FormData = FORM,
    c: Caller = CALLER,
) -> Response:
    ci = course_instance(c, course, instance)

    def action() -> str:
        v = X.remove(c.ctx, exception_id, version=_version(form), reason=text(form, "reason"))
        return f"Removed {v.student}'s exception for {v.what}."

    return act_then_redirect(
        request,
        c,
        action,
        back=ci_path(ci, "staff/exceptions"),
        again=lambda e: _exception_page(request, c, ci, exception_id, error=e, status=e.status),
    )


# -- one student, as staff see them -----------------------------------------------------------


@pages.get(
    S + "/students/{uid}",
    policy=needs("vst", why="what one student sees, their exceptions and attempts"),
)
def student(
    request: Request, course: str, instance: str, uid: str, c: Caller = CALLER
) -> HTMLResponse:
    ci = course_instance(c, course, instance)
    sc = student_course(c.ctx, course, instance, uid)
    line = next((r for r in list_roster(c.ctx, ci.id) if r.uid == uid), None)
    return render(
        request,
        "staff_student.html",
        sc=sc,
        line=line,
        exceptions=X.student_exceptions(c.ctx, ci.id, uid),
        attempts=attempts_of(c.ctx, ci, uid),
        fields_words=fields_words,
        describe_exception=describe_exception,
        exception_scope=exception_scope,
        status_of=c.ctx.user(uid).status,
        **staff_common(c, ci, "roster"),
    )


@pages.post(
    S + "/view-as", policy=needs("ain", why="view the course as one of its students or TAs")
)
def view_as(
    request: Request, course: str, instance: str, form: FormData = FORM, c: Caller = CALLER
) -> Response:
    """See the course as the student sees it (the same service as the API's view-as): every
    page then says so, with a way back."""
    ci = course_instance(c, course, instance)
    uid = uid_from(text(form, "uid"))
    if c.web_session is None:
        raise Invalid("view-as needs a signed-in browser session", "uid")
    signin.start_view_as(c.ctx, c.web_session, uid, ci.id)
    request.state.viewing_as = uid
    return redirect(request, ci_path(ci), f"You are now viewing the course as {uid}.")
