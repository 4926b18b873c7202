"""Students' exceptions as course staff handle them: every exception (or one student's), and
the forms to grant one (one student, a section, pasted uids), change one and remove one; also
an exception's fields in words and as form values."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from coursegate.core.instants import Instant, from_instant
from coursegate.http.deps import CALLER, Caller
from coursegate.http.policy import needs
from coursegate.http.schemas import RowId
from coursegate.services.access.decisions.student import OwnException
from coursegate.services.access.exceptions import bulk as XB
from coursegate.services.access.exceptions import fields as XF
from coursegate.services.access.exceptions import granting as X
from coursegate.services.access.exceptions import listing as XL
from coursegate.services.access.staff.assessments import staff_overview
from coursegate.services.access.staff.people import sections_of, students_with_exceptions
from coursegate.services.common.errors import Invalid, NotFound, ServiceError
from coursegate.services.courses.roster_views import list_roster
from coursegate.store.models import CourseInstance
from coursegate.web.pages import (
    FORM,
    Pages,
    act_then_redirect,
    ci_path,
    course_instance,
    render,
    text,
    values,
)
from coursegate.web.staff.frame import S, person, staff_common, uid_from
from coursegate.web.student import describe_exception

pages = Pages(tags=["pages: course staff"])


def wall(t: Instant, tz: tzinfo) -> str:
    """An instant as a ``datetime-local`` value in the course's zone."""
    dt = from_instant(t, tz)
    return dt.strftime("%Y-%m-%dT%H:%M:%S" if dt.second else "%Y-%m-%dT%H:%M")


def fields_words(fields: dict[str, Any], tz: tzinfo) -> str:
    """An exception's fields in words (the student's page says the same)."""
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
            out[name] = _number(raw, name) if name not in XF.DATE_FIELDS else raw
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
    views = [v for u in holders for v in XL.student_exceptions(c.ctx, ci.id, u)]
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
            report = XB.grant_many(
                c.ctx, ci.id, scope, target, fields, reason=reason, section=text(form, "section")
            )
        else:
            report = XB.grant_many(
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
    v = XL.get_exception(c.ctx, exception_id)
    if v.course_instance_id != ci.id:
        raise NotFound(f"exception_id: there is no exception {exception_id} here", "exception_id")
    common = staff_common(c, ci, "exceptions")
    tz = common["tz"]
    current = {
        k: (wall(val, tz) if k in XF.DATE_FIELDS and isinstance(val, int) else val)
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
