"""The access-rule editor's page: an assessment's ``accessControl`` checked as edited (form or
JSON) like ``coursegate validate``, with its problems and a preview of the timeline; nothing is
saved (the course files in git are the source of truth, docs/web.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from starlette.datastructures import FormData

from coursegate.http.deps import CALLER, Caller
from coursegate.http.policy import needs
from coursegate.services.access.staff.assessments import editor_context
from coursegate.services.access.staff.publishing import publishing_of
from coursegate.services.access.staff.timeline_lanes import assessment_timeline
from coursegate.store.models import CourseInstance
from coursegate.web import editor as E
from coursegate.web.pages import (
    FORM,
    Pages,
    course_instance,
    fragment,
    render,
    text,
    values,
)
from coursegate.web.staff.frame import S, staff_common
from coursegate.web.svg import timeline_svg

pages = Pages(tags=["pages: course staff"])


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
