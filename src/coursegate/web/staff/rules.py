"""The access-rule editor's page: an assessment's ``accessControl`` checked as edited (the
simple mode — release, due dates, credit — the full form, or JSON) like ``coursegate validate``,
with its problems and a preview of the timeline.

Save shows the difference to the file first; confirmed, it writes the file and syncs
(:mod:`coursegate.services.courses.rules_files`) where the operator lets the server write
course files (``editor_writes``, ``editor_course_dirs``); elsewhere Download gives the file.
The course files in git stay the source of truth (docs/web.md): the server never commits."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from starlette.datastructures import FormData

from coursegate.courses.problems import CourseError, Problem
from coursegate.http.deps import CALLER, Caller
from coursegate.http.policy import needs
from coursegate.services.access.staff.assessments import EditorContext, editor_context
from coursegate.services.access.staff.publishing import publishing_of
from coursegate.services.access.staff.timeline_lanes import assessment_timeline
from coursegate.services.common.errors import Conflict
from coursegate.services.courses import rules_files as F
from coursegate.store.models import CourseInstance
from coursegate.web import editor as E
from coursegate.web import editor_simple as ES
from coursegate.web.pages import (
    FORM,
    Pages,
    course_instance,
    fragment,
    redirect,
    render,
    text,
    values,
)
from coursegate.web.staff.frame import S, staff_common
from coursegate.web.svg import timeline_svg

pages = Pages(tags=["pages: course staff"])

EDIT = "set assessment parameters: the access rules"
SAVE = "set assessment parameters: write the access rules into the course file and sync"


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
    simple: list[ES.SimpleElement] = field(default_factory=list)
    simple_loose: list[Problem] = field(default_factory=list)
    value: dict[str, Any] = field(default_factory=dict)

    @property
    def has_errors(self) -> bool:
        return bool(self.error) or any(p.severity == "error" for p in self.problems)


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
    simple = ES.simple_elements(ac) if modern and isinstance(ac, list) else []
    simple_loose = ES.attach_simple(simple, checked.problems) if simple else []
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
        simple=simple,
        simple_loose=simple_loose,
        value=value,
    )


def course_file_writes(request: Request) -> F.CourseFileWrites:
    settings = request.app.state.settings
    return F.CourseFileWrites(bool(settings.editor_writes), tuple(settings.editor_course_dirs))


def _view(requested: str, st: EditorState) -> str:
    """``simple`` (the default where the form applies) or ``full``."""
    if st.elements is None:
        return "full"
    return "full" if requested == "full" else "simple"


def _render_editor(
    request: Request,
    c: Caller,
    ci: CourseInstance,
    aid: str,
    st: EditorState,
    status: int = 200,
    *,
    view: str = "",
    confirm: dict[str, Any] | None = None,
) -> HTMLResponse:
    common = staff_common(c, ci, "staff")
    ci_pub, a_pub = publishing_of(c.ctx, ci, aid)
    target = F.rules_file(c.ctx, ci, aid, course_file_writes(request))
    data = {
        "st": st,
        "aid": aid,
        "file": E.file_of(ci.short_name, aid),
        "ci_pub": ci_pub,
        "a_pub": a_pub,
        "view": _view(view, st),
        "target": target,
        "confirm": confirm,
        **common,
    }
    if request.headers.get("hx-request") and confirm is None:
        return HTMLResponse(fragment("_rules_panel.html", oob=True, me=None, **data), status)
    return render(request, "staff_rules.html", status=status, **data)


@pages.get(S + "/rules/{aid:path}", policy=needs("opa", why=EDIT))
def rules(
    request: Request, course: str, instance: str, aid: str, view: str = "", c: Caller = CALLER
) -> HTMLResponse:
    ci = course_instance(c, course, instance)
    return _render_editor(request, c, ci, aid, _editor_state(c, ci, aid, None), view=view)


class _Unreadable(Exception):
    def __init__(self, message: str, json_text: str) -> None:
        super().__init__(message)
        self.json_text = json_text


def _posted_value(form: FormData, ctx: EditorContext, *, op: str = "check") -> dict[str, Any]:
    """The access keys as edited: in the simple mode (its fields over the posted JSON), as
    JSON, or in the full form (with the button's ``op`` applied)."""
    base = {k: v for k, v in ctx.stored.items() if k != "accessControl"}
    flat = values(form)
    if text(form, "view") == "simple" and op not in ("from-json", "check-json"):
        value = _json_of(form)
        ac = value.get("accessControl")
        if isinstance(ac, list):
            value = {**value, "accessControl": ES.apply_simple(ac, flat)}
        return value
    if op in ("from-json", "check-json") or text(form, "mode") == "json" or not flat.get("e0#"):
        return _json_of(form)
    try:
        elements = E.read_elements(flat)
    except E.FormError as exc:
        raise _Unreadable(f"{exc.path}: {exc}", "") from None
    return {**base, "accessControl": E.apply(elements, op)}


def _json_of(form: FormData) -> dict[str, Any]:
    raw = form.get("json")
    shown = raw if isinstance(raw, str) else ""
    try:
        parsed = E.load_json(shown)
    except ValueError as exc:
        raise _Unreadable(f"the JSON cannot be read: {exc}", shown) from None
    if not isinstance(parsed, dict):
        raise _Unreadable("the JSON must be an object {...}", shown)
    return parsed


def _edited(
    request: Request, c: Caller, ci: CourseInstance, aid: str, form: FormData, op: str = "check"
) -> EditorState | HTMLResponse:
    """The editor's state for what was posted, or the page saying it cannot be read (422)."""
    ctx = editor_context(c.ctx, ci, aid)
    try:
        value = _posted_value(form, ctx, op=op)
    except _Unreadable as exc:
        st = _editor_state(c, ci, aid, None, error=str(exc))
        if exc.json_text:
            st.json_text = exc.json_text
        return _render_editor(request, c, ci, aid, st, 422, view=text(form, "view"))
    return _editor_state(c, ci, aid, value)


@pages.post(S + "/rules/{aid:path}", policy=needs("opa", why=EDIT))
def rules_edit(
    request: Request,
    course: str,
    instance: str,
    aid: str,
    form: FormData = FORM,
    c: Caller = CALLER,
) -> HTMLResponse:
    """Check the rules as edited (simple mode, form or JSON), add or remove a row, or load JSON
    into the form. Nothing is saved here: Save (``rules-diff``, then ``rules-save``) writes."""
    ci = course_instance(c, course, instance)
    st = _edited(request, c, ci, aid, form, text(form, "op") or "check")
    if isinstance(st, HTMLResponse):
        return st
    return _render_editor(request, c, ci, aid, st, view=text(form, "view"))


def _refuse_errors(
    request: Request, c: Caller, ci: CourseInstance, aid: str, st: EditorState, view: str
) -> HTMLResponse | None:
    """The editor with the errors beside their fields (422), when the rules have any."""
    if st.has_errors:
        if not st.error:
            st.error = "the rules have errors (beside their fields): nothing was saved"
        return _render_editor(request, c, ci, aid, st, 422, view=view)
    return None


@pages.post(S + "/rules-diff/{aid:path}", policy=needs("opa", why=SAVE))
def rules_diff(
    request: Request,
    course: str,
    instance: str,
    aid: str,
    form: FormData = FORM,
    c: Caller = CALLER,
) -> HTMLResponse:
    """Save's first step: the rules are checked, and the difference they make to the file is
    shown with a button to confirm. Nothing is written."""
    ci = course_instance(c, course, instance)
    view = text(form, "view")
    st = _edited(request, c, ci, aid, form)
    if isinstance(st, HTMLResponse):
        return st
    return _confirm(request, c, ci, aid, st, view)


def _confirm(
    request: Request,
    c: Caller,
    ci: CourseInstance,
    aid: str,
    st: EditorState,
    view: str,
    *,
    error: str = "",
    status: int = 200,
) -> HTMLResponse:
    refused = _refuse_errors(request, c, ci, aid, st, view)
    if refused is not None:
        return refused
    target = F.rules_file(c.ctx, ci, aid, course_file_writes(request))
    stored = editor_context(c.ctx, ci, aid).stored
    if target.text is not None:
        old, new = target.text, F.with_access(target.text, st.value, {})
    else:  # the file is not at hand: the access keys, as the store has them
        old, new = E.access_json(stored) + "\n", E.access_json(st.value) + "\n"
    confirm = {
        "diff": F.unified_diff(old, new, target.shown),
        "base": F.digest(target.text) if target.text is not None else "",
        "whole_file": target.text is not None,
        "error": error,
    }
    return _render_editor(request, c, ci, aid, st, status, view=view, confirm=confirm)


@pages.post(S + "/rules-save/{aid:path}", policy=needs("opa", why=SAVE))
def rules_save(
    request: Request,
    course: str,
    instance: str,
    aid: str,
    form: FormData = FORM,
    c: Caller = CALLER,
) -> Response:
    """Save's second step: write the confirmed rules into the file and sync the course, all or
    nothing. A file changed since the difference was shown is not overwritten: the new
    difference is shown instead."""
    ci = course_instance(c, course, instance)
    view = text(form, "view")
    st = _edited(request, c, ci, aid, form, "check-json")
    if isinstance(st, HTMLResponse):
        return st
    refused = _refuse_errors(request, c, ci, aid, st, view)
    if refused is not None:
        return refused
    try:
        writes = course_file_writes(request)
        saved = F.save_rules(c.ctx, ci, aid, st.value, text(form, "base"), writes)
    except Conflict as exc:
        return _confirm(request, c, ci, aid, st, view, error=exc.message, status=409)
    except CourseError as exc:
        st.problems = tuple(exc.problems)
        st.loose = E.attach(st.nodes, st.problems) if st.nodes else list(st.problems)
        st.simple_loose = ES.attach_simple(st.simple, st.problems) if st.simple else []
        st.error = "the course did not validate with these rules: nothing was written"
        return _render_editor(request, c, ci, aid, st, 422, view=view)
    changed = len(saved.report.changes)
    notice = (
        f"Saved {saved.file} and synced the course ({changed} change(s)). The file is not"
        " committed: review it and commit it in git yourself."
    )
    back = request.url.path.replace("/staff/rules-save/", "/staff/rules/", 1)
    return redirect(request, back + (f"?view={view}" if view else ""), notice)


@pages.post(S + "/rules-download/{aid:path}", policy=needs("opa", why=EDIT))
def rules_download(
    request: Request,
    course: str,
    instance: str,
    aid: str,
    form: FormData = FORM,
    c: Caller = CALLER,
) -> Response:
    """The assessment's file with the rules as edited, to put in the course directory and
    commit (the whole file where the server can read it, else the access keys alone)."""
    ci = course_instance(c, course, instance)
    view = text(form, "view")
    st = _edited(request, c, ci, aid, form)
    if isinstance(st, HTMLResponse):
        return st
    refused = _refuse_errors(request, c, ci, aid, st, view)
    if refused is not None:
        return refused
    target = F.rules_file(c.ctx, ci, aid, course_file_writes(request))
    if target.text is not None:
        body, name = F.with_access(target.text, st.value, {}), "infoAssessment.json"
    else:
        body, name = json.dumps(st.value, indent=2, ensure_ascii=False) + "\n", "access.json"
    return Response(
        body.encode(),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
