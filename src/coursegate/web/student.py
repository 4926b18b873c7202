"""A student's pages: their assessments with status, credit, due dates and their exceptions;
one assessment (start with a password, the time left, submit, finish, what they may see
afterwards); their calendar link.

Everything is what :func:`coursegate.services.access.decisions.student.student_course` says for the
effective user (the student, or staff viewing as them); starting, submitting and finishing call
:mod:`coursegate.services.access.attempts`. Nothing here decides.
"""

from __future__ import annotations

import math
import re
import urllib.parse
from collections.abc import Callable, Iterator
from datetime import date, tzinfo
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute
from starlette.datastructures import FormData

from coursegate.core.instants import MINUTE, Instant, format_for_people, from_instant
from coursegate.http.deps import CALLER, Caller
from coursegate.http.modes import mode_of_request
from coursegate.http.policy import signed_in
from coursegate.http.schemas import RowId
from coursegate.services.access import attempts as instances
from coursegate.services.access.attempt_views import InstanceView
from coursegate.services.access.calendar import (
    CalendarEvent,
    calendar_link_token,
    events_of,
    month_weeks,
    upcoming,
)
from coursegate.services.access.decisions.student import OwnException, StudentCourse, student_course
from coursegate.services.access.my_courses import may
from coursegate.services.access.staff.assessments import Attempt, attempts_of
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Invalid, NotFound, ServiceError
from coursegate.store.models import CourseInstance
from coursegate.web.pages import (
    FORM,
    Pages,
    ci_path,
    course_instance,
    redirect,
    render,
    text,
    trying,
)

pages = Pages(tags=["pages: students"])

CI = "/courses/{course}/instances/{instance}"


def describe_exception(e: OwnException, tz: tzinfo) -> list[str]:
    """A student's exception in words: ``due 23:59, Sat, Feb 10``, ``credit 100%`` ..."""
    out: list[str] = []
    b = e.body
    for key, label in (("release", "opens"), ("due", "due"), ("publishing_extension_end", "")):
        v = b.get(key)
        if isinstance(v, int):
            words = format_for_people(v, tz)
            out.append(f"{label} {words}" if label else f"course access kept until {words}")
    if "credit" in b and b["credit"] is not None:
        out.append(f"credit {_num(b['credit'])}% until the due date")
    if b.get("time_limit_minutes") is not None:
        out.append(f"time limit {b['time_limit_minutes']} minutes")
    if b.get("time_limit_percent") is not None:
        out.append(f"time limit {_num(b['time_limit_percent'])}% of the usual")
    if "password" in b:
        out.append("no password needed" if b["password"] is None else "a password of your own")
    return out


def _num(x: Any) -> str:
    return f"{int(x)}" if isinstance(x, float) and x.is_integer() else f"{x}"


def exception_scope(e: OwnException) -> str:
    if e.scope == "set":
        return f"every {e.target} assessment"
    if e.scope == "course_instance":
        return "the whole course"
    return "this assessment"


def calendar_url(request: Request, ctx: Ctx, ci: CourseInstance, uid: str) -> str | None:
    """The personal calendar feed's secret link, from the API's calendar route (None when the
    server has no such route)."""
    token = calendar_link_token(ctx, ci.course.name, ci.short_name, uid, settings_secret(request))
    fill = {
        "course": ci.course.name,
        "instance": ci.short_name,
        "uid": uid,
        "token": token,
        "course_instance_id": str(ci.id),
    }
    for template, methods in _paths(request.app.routes, ""):
        if "GET" not in methods or "calendar" not in template or "{token" not in template:
            continue
        names = re.findall(r"{([a-z_]+)(?::[a-z]+)?}", template)
        if not set(names) <= set(fill):
            continue
        path = template
        for name in names:
            path = re.sub(
                r"{" + name + r"(?::[a-z]+)?}", urllib.parse.quote(fill[name], safe=""), path
            )
        return str(request.base_url).rstrip("/") + path
    return None


def settings_secret(request: Request) -> str:
    return str(request.app.state.settings.secret())


def _paths(routes: Any, prefix: str) -> Iterator[tuple[str, set[str]]]:
    """Every route's full path and methods (through included routers)."""
    for r in routes:
        inner = getattr(r, "original_router", None)
        if inner is not None:
            yield from _paths(inner.routes, prefix + r.include_context.prefix)
        elif isinstance(r, APIRoute):
            yield prefix + r.path, set(r.methods or ())


def _common(c: Caller, ci: CourseInstance) -> dict[str, Any]:
    return {
        "ci": ci,
        "ci_key": (ci.course.name, ci.short_name),
        "at": c.ctx.at,
        "staff": False,
        "describe_exception": describe_exception,
        "exception_scope": exception_scope,
    }


@pages.get(CI, policy=signed_in("one's own assessments (the service decides for the user)"))
def course_page(request: Request, course: str, instance: str, c: Caller = CALLER) -> Response:
    ci = course_instance(c, course, instance)
    sc = student_course(
        c.ctx, course, instance, c.ctx.effective, request_mode=mode_of_request(request, c)
    )
    if not sc.enrolled and c.ctx.acting_as is None and may(c.ctx, "vst", ci):
        return redirect(request, ci_path(ci, "staff"))
    return render(
        request,
        "student_course.html",
        sc=sc,
        tz=sc.tz,
        attempts=attempts_of(c.ctx, ci, c.ctx.effective),
        calendar=calendar_url(request, c.ctx, ci, c.ctx.effective),
        back_to=ci_path(ci, "staff/students", c.ctx.effective),
        **_common(c, ci),
    )


def _assessment_page(
    request: Request,
    c: Caller,
    ci: CourseInstance,
    aid: str,
    *,
    error: ServiceError | None = None,
    status: int = 200,
) -> HTMLResponse:
    sc = student_course(
        c.ctx,
        ci.course.name,
        ci.short_name,
        c.ctx.effective,
        request_mode=mode_of_request(request, c),
    )
    item = next((a for a in sc.assessments if a.aid == aid), None)
    if item is None:
        raise NotFound(
            f"{aid} is not in your list of assessments in {ci.course.name} {ci.short_name}",
            "assessment",
        )
    attempt = attempts_of(c.ctx, ci, c.ctx.effective).get(aid)
    return render(
        request,
        "student_assessment.html",
        status=status,
        a=item,
        sc=sc,
        tz=sc.tz,
        attempt=attempt,
        remaining=_remaining(attempt, c.ctx.at),
        error=error,
        back_to=ci_path(ci, "staff/students", c.ctx.effective),
        **_common(c, ci),
    )


def _remaining(attempt: Attempt | None, at: Instant) -> int | None:
    """Seconds left in an open timed attempt (0 when its time is up)."""
    if attempt is None or not attempt.open or attempt.date_limit is None:
        return None
    return max(0, math.floor((attempt.date_limit - at) / 1_000_000))


@pages.get(
    CI + "/assessments/{aid:path}",
    policy=signed_in("one's own assessment (the service decides for the user)"),
)
def assessment_page(
    request: Request, course: str, instance: str, aid: str, c: Caller = CALLER
) -> HTMLResponse:
    return _assessment_page(request, c, course_instance(c, course, instance), aid)


def _after(
    request: Request,
    c: Caller,
    ci: CourseInstance,
    aid: str,
    action: Callable[[], InstanceView],
    notice: Callable[[InstanceView], str],
) -> Response:
    done = trying(c, action)
    if isinstance(done, ServiceError):
        return _assessment_page(request, c, ci, aid, error=done, status=done.status)
    return redirect(request, ci_path(ci, "assessments", aid), notice(done))


@pages.post(
    CI + "/start/{aid:path}",
    policy=signed_in("one's own attempt (the decision's can_start and password are checked)"),
)
def start(
    request: Request,
    course: str,
    instance: str,
    aid: str,
    form: FormData = FORM,
    c: Caller = CALLER,
) -> Response:
    ci = course_instance(c, course, instance)
    password = form.get("password")
    given = password if isinstance(password, str) and password != "" else None

    def started(v: InstanceView) -> str:
        if not v.created:
            return "You already had this attempt open: here it is."
        if v.date_limit is not None:
            minutes = round((v.date_limit - v.started_at) / MINUTE)
            return f"Started. You have {minutes} minutes."
        return "Started."

    mode = mode_of_request(request, c)
    return _after(
        request,
        c,
        ci,
        aid,
        lambda: instances.start(c.ctx, ci.id, aid, password=given, request_mode=mode),
        started,
    )


def _number(form: FormData, name: str, *, required: bool) -> float | None:
    raw = text(form, name)
    if raw == "":
        if required:
            raise Invalid(f"{name}: give a number", name)
        return None
    try:
        return float(raw)
    except ValueError:
        raise Invalid(f"{name}: {raw!r} is not a number", name) from None


def _attempt_aid(c: Caller, ci: CourseInstance, form: FormData) -> str:
    """The assessment the form was on (only to show the page again)."""
    aid = text(form, "aid")
    if not aid:
        raise Invalid("aid: the form lost which assessment it was for; open it again", "aid")
    return aid


@pages.post(
    CI + "/attempts/{attempt_id}/submit",
    policy=signed_in("one's own attempt (the decision's submittable is checked)"),
)
def submit(
    request: Request,
    course: str,
    instance: str,
    attempt_id: RowId,
    form: FormData = FORM,
    c: Caller = CALLER,
) -> Response:
    """Submit points (in the demo the student types them; in production the question
    platform submits them through the API)."""
    ci = course_instance(c, course, instance)
    aid = _attempt_aid(c, ci, form)

    def action() -> InstanceView:
        points = _number(form, "points", required=True)
        assert points is not None
        top = _number(form, "max_points", required=False)
        return instances.submit(
            c.ctx,
            attempt_id,
            points,
            max_points=top,
            course_instance_id=ci.id,
            request_mode=mode_of_request(request, c),
        )

    def saved(v: InstanceView) -> str:
        return f"Submitted: {v.points:g} of {v.max_points:g} points at {v.credit or 0:g}% credit."

    return _after(request, c, ci, aid, action, saved)


@pages.post(
    CI + "/attempts/{attempt_id}/close",
    policy=signed_in("one's own attempt, or staff with mgr (checked by the service)"),
)
def close(
    request: Request,
    course: str,
    instance: str,
    attempt_id: RowId,
    form: FormData = FORM,
    c: Caller = CALLER,
) -> Response:
    ci = course_instance(c, course, instance)
    aid = _attempt_aid(c, ci, form)
    return _after(
        request,
        c,
        ci,
        aid,
        lambda: instances.close(
            c.ctx, attempt_id, reason="finished by the student", course_instance_id=ci.id
        ),
        lambda v: "Finished. Your attempt is closed.",
    )


@pages.get(CI + "/calendar", policy=signed_in("one's own calendar link"))
def calendar_page(
    request: Request,
    course: str,
    instance: str,
    view: str = "",
    month: str = "",
    past: str = "",
    c: Caller = CALLER,
) -> Response:
    """The student's dates: the coming ones (``?past=1``: all of them, the past too), or a
    month as a grid (``?view=month&month=2024-02``; default the current month)."""
    ci = course_instance(c, course, instance)
    sc = student_course(c.ctx, course, instance, c.ctx.effective)
    events = _events(sc)
    at = c.ctx.at
    show_past = past == "1"
    common = dict(
        sc=sc,
        tz=sc.tz,
        calendar=calendar_url(request, c.ctx, ci, c.ctx.effective),
        show_past=show_past,
        past_count=sum(1 for e in events if e.is_past(at)),
        clock=lambda t: f"{from_instant(t, sc.tz):%H:%M}",
        **_common(c, ci),
    )
    if view == "month" or month:
        year, number = _month(month, at, sc.tz)
        weeks = month_weeks(events, year, number, sc.tz)
        return render(
            request,
            "student_calendar.html",
            view="month",
            month_title=date(year, number, 1).strftime("%B %Y"),
            weeks=weeks,
            month_events=sum(len(d.events) for week in weeks for d in week),
            today=from_instant(at).astimezone(sc.tz).date(),
            prev_month=_month_key(year, number - 1),
            next_month=_month_key(year, number + 1),
            this_month=_month_key(*_month("", at, sc.tz)),
            events=[],
            **common,
        )
    return render(
        request,
        "student_calendar.html",
        view="list",
        events=events if show_past else upcoming(events, at),
        this_month=_month_key(*_month("", at, sc.tz)),
        **common,
    )


def _month(text: str, at: Instant, tz: tzinfo) -> tuple[int, int]:
    """``2024-02`` as (2024, 2); empty: the month of ``at`` in the course's zone."""
    if not text:
        today = from_instant(at).astimezone(tz).date()
        return today.year, today.month
    m = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if m is None or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1:
        raise Invalid(
            f"{text[:20]!r} is not a month: write it as year-month, e.g. 2024-02", "month"
        )
    return int(m.group(1)), int(m.group(2))


def _month_key(year: int, month: int) -> str:
    """``2024-02``; month 0 and 13 roll into the years around (clamped to years 1-9999)."""
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    year = min(max(year, 1), 9999)
    return f"{year:04d}-{month:02d}"


def _events(sc: StudentCourse) -> list[CalendarEvent]:
    """What the calendar holds, in date order (the feed is built by the same service)."""
    return events_of(sc)
