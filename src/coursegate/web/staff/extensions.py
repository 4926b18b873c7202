"""The one-click extension form: ``GET {S}/extensions/new`` (optionally ``?uid=``,
``?assessment=``, ``?section=``: the matrix links each cell and each student row here) opens it
filled in — the student, the assessment and their deadline now, from the decision core — with
presets (+1 day, +2 days, +1 week, until a date; 1.5×, 2× or another multiple of the time
limit); ``POST`` with ``action=preview`` shows the student's timeline before and after (a dry
run, nothing written; htmx asks for it on every change), ``action=save`` saves it through the
exceptions service (:mod:`coursegate.services.access.exceptions.extensions`).

People read "extension" here; underneath it is an exception (same model, same privilege
``gex``, same history), and the exceptions pages and API stay as they are.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from coursegate.core.exceptions import later_by_days
from coursegate.core.instants import Instant
from coursegate.http.deps import CALLER, Caller
from coursegate.http.policy import needs
from coursegate.services.access.exceptions import extensions as E
from coursegate.services.access.exceptions.fields import describe_target
from coursegate.services.access.exceptions.records import ExceptionView
from coursegate.services.access.staff.assessments import staff_overview
from coursegate.services.access.staff.people import sections_of
from coursegate.services.common.errors import ServiceError
from coursegate.services.common.places import course_zone
from coursegate.services.courses.roster_views import list_roster
from coursegate.store.models import CourseInstance, StudentOverride
from coursegate.web.pages import (
    FORM,
    Pages,
    ci_path,
    course_instance,
    redirect,
    render,
    text,
    trying,
    values,
)
from coursegate.web.staff.exceptions import fields_words
from coursegate.web.staff.frame import S, person, staff_common, uid_from

pages = Pages(tags=["pages: course staff"])

NEW = S + "/extensions/new"
WHO = ("student", "section", "uids")
DAY_LABELS = {"1d": "+1 day", "2d": "+2 days", "1w": "+1 week"}
TIME_LABELS = {"1.5": "1.5× time", "2": "2× time"}


def _ask(form: FormData) -> E.Ask:
    return E.Ask(
        deadline=text(form, "deadline"),
        until=text(form, "until"),
        time=text(form, "time"),
        multiplier=text(form, "multiplier"),
    )


def _page(
    request: Request,
    c: Caller,
    ci: CourseInstance,
    filled: dict[str, str],
    *,
    error: ServiceError | None = None,
    plan: E.Plan | None = None,
    status: int = 200,
    only_preview: bool = False,
) -> HTMLResponse:
    """The form, filled in; the student's deadline now when a student and an assessment are
    chosen (from the decision core); the preview of ``plan``; ``error`` beside its field."""
    common = staff_common(c, ci, "exceptions")
    tz = common["tz"]
    ov = staff_overview(c.ctx, ci)
    uid = uid_from(filled.get("uid", ""))
    aid = filled.get("assessment", "")
    now: E.Outlook | None = None
    existing: StudentOverride | None = None
    looked: ServiceError | None = None
    if filled.get("who", "student") == "student" and uid and aid:
        found = trying(c, lambda: E.outlook_now(c.ctx, ci, uid, aid))
        if isinstance(found, ServiceError):
            looked = found
        else:
            now, existing = found
    section = filled.get("section", "")
    group: list[tuple[Instant | None, int]] = []
    if filled.get("who") == "section" and section and aid:
        dues = trying(c, lambda: E.section_outlook(c.ctx, ci, section, aid))
        if isinstance(dues, ServiceError):
            looked = dues
        else:
            group = dues
    base = now.due if now is not None else group[0][0] if len(group) == 1 else None
    presets = {}
    if base is not None:
        presets = {k: later_by_days(base, d, tz) for k, d in E.DAYS.items()}
    roster = list_roster(c.ctx, ci.id)
    names = {r.uid: r.name for r in roster}
    if uid and "uid" in filled and uid in names:
        filled = {**filled, "uid": person(names[uid], uid)}
    data: dict[str, Any] = {
        "filled": filled,
        "error": error or looked,
        "plan": plan,
        "now": now,
        "existing": existing,
        "student": person(names.get(uid, ""), uid) if uid else "",
        "presets": presets,
        "group": group,
        "day_labels": DAY_LABELS,
        "time_labels": TIME_LABELS,
        "assessments": ov.assessments,
        "sections": sections_of(c.ctx, ci),
        "roster": roster,
        "fields_words": fields_words,
        "person": person,
        "describe_target": describe_target,
        **common,
    }
    if looked is not None and error is None:
        status = looked.status
    data["only_preview"] = only_preview
    template = "_extension_preview.html" if only_preview else "staff_extension.html"
    return render(request, template, status=status, **data)


@pages.get(NEW, policy=needs("vst", why="the extension form: a student's deadline now"))
def new_extension(
    request: Request,
    course: str,
    instance: str,
    uid: str = "",
    assessment: str = "",
    section: str = "",
    c: Caller = CALLER,
) -> HTMLResponse:
    """The form, pre-filled from the query (a matrix cell: ``uid`` and ``assessment``; a
    student row: ``uid``; a section: ``section``)."""
    ci = course_instance(c, course, instance)
    filled: dict[str, str] = {"who": "section" if section and not uid else "student"}
    if uid:
        filled["uid"] = uid
    if assessment:
        filled["assessment"] = assessment
    if section:
        filled["section"] = section
    return _page(request, c, ci, filled)


def _preview(c: Caller, ci: CourseInstance, form: FormData) -> E.Plan:
    who = text(form, "who") or "student"
    aid = text(form, "assessment")
    ask = _ask(form)
    if who == "student":
        return E.plan(c.ctx, ci.id, uid_from(text(form, "uid")), aid, ask)
    if who == "section":
        return E.plan_many(c.ctx, ci.id, aid, ask, section=text(form, "section"))
    return E.plan_many(c.ctx, ci.id, aid, ask, uids=E.resolve_pasted(c.ctx, ci, text(form, "uids")))


def _save(c: Caller, ci: CourseInstance, form: FormData) -> tuple[str, str]:
    """Save; the notice and where to go next."""
    who = text(form, "who") or "student"
    aid = text(form, "assessment")
    ask = _ask(form)
    reason = text(form, "reason")
    if who == "student":
        raw = text(form, "version")
        version = int(raw) if raw.isdigit() else None
        p, view = E.save(
            c.ctx, ci.id, uid_from(text(form, "uid")), aid, ask, reason=reason, version=version
        )
        return _said(view, p, ci), ci_path(ci, "staff/students", view.uid)
    if who == "section":
        p, report = E.save_many(
            c.ctx, ci.id, aid, ask, reason=reason, section=text(form, "section")
        )
    else:
        uids = E.resolve_pasted(c.ctx, ci, text(form, "uids"))
        p, report = E.save_many(c.ctx, ci.id, aid, ask, reason=reason, uids=uids)
    done = f"Extension granted to {len(report.granted)} student(s) for {p.aid}"
    if report.unchanged:
        done += f"; {len(report.unchanged)} already had it ({', '.join(report.unchanged)})"
    if report.warnings:
        done += f". Note: {'; '.join(report.warnings)}"
    return done + ".", ci_path(ci, "staff/exceptions") + f"?assessment={p.aid}"


def _said(view: ExceptionView, p: E.Plan, ci: CourseInstance) -> str:
    tz = course_zone(ci)
    verb = "changed" if p.existing is not None else "saved"
    notes = f" Note: {'; '.join(view.warnings)}" if view.warnings else ""
    return f"Extension {verb} for {view.student} on {p.aid}: {fields_words(p.fields, tz)}.{notes}"


@pages.post(NEW, policy=needs("gex", why="grant students' extensions"))
def preview_or_save(
    request: Request, course: str, instance: str, form: FormData = FORM, c: Caller = CALLER
) -> Response:
    """``action=preview``: the timeline before and after, nothing written (just the preview
    for htmx); ``action=save``: write it (one exception per student, with its history)."""
    ci = course_instance(c, course, instance)
    filled = values(form)
    htmx = request.headers.get("HX-Request") == "true"
    if text(form, "action") != "save":
        plan = trying(c, lambda: _preview(c, ci, form))
        if isinstance(plan, ServiceError):
            return _page(request, c, ci, filled, error=plan, status=plan.status, only_preview=htmx)
        return _page(request, c, ci, filled, plan=plan, only_preview=htmx)
    done = trying(c, lambda: _save(c, ci, form))
    if isinstance(done, ServiceError):
        return _page(request, c, ci, filled, error=done, status=done.status)
    notice, back = done
    return redirect(request, back, notice)
