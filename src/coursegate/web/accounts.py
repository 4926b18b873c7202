"""Class accounts' pages (issue 6), over :mod:`coursegate.services.accounts`: a course instance's
accounts (assign from pasted addresses, the term-end schedule and its end date, incompletes,
recycle, lock, freeze and thaw, password and key resets, the outbox) and, for administrators,
the pool (stems, generating ahead, every account) and the metrics as a chart.

Like the API, credentials are mailed and wipes run right after the request commits (a
background task); a recycled account shows "being wiped" until the wipe has finished.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import BackgroundTasks, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from starlette.datastructures import FormData

from coursegate.http.background import after_commit, site_of
from coursegate.http.deps import CALLER, Caller
from coursegate.http.policy import needs
from coursegate.http.schemas import parse_instant
from coursegate.services.accounts import rules, service, wipe_request
from coursegate.services.common.errors import Invalid, ServiceError
from coursegate.services.common.places import course_zone
from coursegate.services.people.uids import split_uids
from coursegate.store.models import Course, CourseInstance
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
from coursegate.web.staff.frame import staff_common
from coursegate.web.svg import bar_chart

pages = Pages(tags=["pages: class accounts"])


S = "/courses/{course}/instances/{instance}/staff/accounts"
ADMIN = "/admin/accounts"


# -- a course instance's accounts ---------------------------------------------------------


def _accounts_page(
    request: Request,
    c: Caller,
    ci: CourseInstance,
    *,
    error: ServiceError | None = None,
    filled: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    common = staff_common(c, ci, "accounts")
    site = site_of(request)
    lines = service.list_accounts(c.ctx, site, ci.course.name, ci.id)
    term = service.term_view(c.ctx, ci.id)
    outbox = service.outbox(c.ctx, site, ci.id) if common["can"]["men"] else []
    return render(
        request,
        "staff_accounts.html",
        status=status,
        lines=lines,
        term=term,
        outbox=outbox[:20],
        roles=rules.ROLES,
        error=error,
        filled=filled or {},
        **common,
    )


@pages.get(S, policy=needs("mus", why="the course instance's class accounts"))
def accounts(request: Request, course: str, instance: str, c: Caller = CALLER) -> HTMLResponse:
    return _accounts_page(request, c, course_instance(c, course, instance))


def _act(
    request: Request,
    c: Caller,
    ci: CourseInstance,
    form: FormData,
    action: Callable[[], str],
) -> Response:
    return act_then_redirect(
        request,
        c,
        action,
        back=ci_path(ci, "staff/accounts"),
        again=lambda e: _accounts_page(
            request, c, ci, error=e, filled=values(form), status=e.status
        ),
    )


@pages.post(
    S + "/assign",
    policy=needs("men", why="assign class accounts to students (or TAs)"),
)
def assign(
    request: Request,
    course: str,
    instance: str,
    tasks: BackgroundTasks,
    form: FormData = FORM,
    c: Caller = CALLER,
) -> Response:
    """Give each pasted address an account; the credentials are mailed after commit."""
    ci = course_instance(c, course, instance)
    site = site_of(request)

    def action() -> str:
        entries = service.parse_list(text(form, "emails"), csv=text(form, "csv") == "1")
        report = service.assign(
            c.ctx,
            site,
            site.issuer(),
            ci.id,
            entries,
            role=text(form, "role") or rules.STUDENT,
            reason=text(form, "reason"),
        )
        parts = [f"{len(report.assigned)} account(s) assigned"]
        parts += [f"{a.account} → {a.email}" for a in report.assigned]
        parts += [f"{email} already holds {held}" for _, email, held in report.already]
        if report.generated:
            parts.append(f"{len(report.generated)} generated")
        mailed = " The credentials are mailed." if report.assigned else ""
        return "; ".join(parts) + "." + mailed

    response = _act(request, c, ci, form, action)
    if response.status_code == 303:
        after_commit(request, tasks)
    return response


ACTIONS = ("reset-password", "reset-keys", "resend", "freeze", "thaw", "incomplete",
           "withdraw-incomplete")  # fmt: skip


@pages.post(
    S + "/action",
    policy=needs("mus", why="act over one class account (the service checks the rank)"),
)
def account_action(
    request: Request,
    course: str,
    instance: str,
    tasks: BackgroundTasks,
    form: FormData = FORM,
    c: Caller = CALLER,
) -> Response:
    ci = course_instance(c, course, instance)
    site = site_of(request)
    uid, what, why = text(form, "account"), text(form, "action"), text(form, "reason")

    def action() -> str:
        kw: dict[str, Any] = {"course_instance_id": ci.id, "reason": why}
        if what == "reset-password":
            done = service.reset_password(c.ctx, site, uid, **kw)
        elif what == "reset-keys":
            done = service.reset_keys(c.ctx, site, site.issuer(), uid, **kw)
        elif what == "resend":
            done = service.resend_credentials(c.ctx, site, site.issuer(), uid, **kw)
        elif what == "freeze":
            done = service.freeze(c.ctx, uid, **kw)
        elif what == "thaw":
            done = service.thaw(c.ctx, uid, **kw)
        elif what in ("incomplete", "withdraw-incomplete"):
            done = service.set_incomplete(c.ctx, uid, granted=what == "incomplete", **kw)
        else:
            raise Invalid(f"action: one of {', '.join(ACTIONS)}", "action")
        return done.message + "."

    response = _act(request, c, ci, form, action)
    if response.status_code == 303:
        after_commit(request, tasks)
    return response


@pages.post(
    S + "/recycle",
    policy=needs("men", why="recycle (wipe) class accounts of the course instance"),
)
def recycle(
    request: Request,
    course: str,
    instance: str,
    tasks: BackgroundTasks,
    form: FormData = FORM,
    c: Caller = CALLER,
) -> Response:
    """Wipe the accounts named (or the whole class) and return them to the pool; the wipe
    runs right after the request commits."""
    ci = course_instance(c, course, instance)
    started: list[int] = []

    def action() -> str:
        whole = text(form, "whole_class") == "1"
        req = wipe_request.request_wipes(
            c.ctx,
            uids=[] if whole else split_uids(text(form, "accounts")),
            course_instance_id=ci.id,
            whole_class=whole,
            reason="recycle",
            note=text(form, "reason"),
        )
        started[:] = req.wipe_ids
        names = ", ".join(req.started + req.resumed)
        said = [f"Recycling {names}: wiped, then back in the pool" if names else "Nothing to wipe"]
        if req.already_free:
            said.append(f"already in the pool: {', '.join(req.already_free)}")
        said += [f"{a} left alone: {why}" for a, why in req.skipped]
        return "; ".join(said) + "."

    response = _act(request, c, ci, form, action)
    if response.status_code == 303:
        after_commit(request, tasks, started, c.ctx.actor)
    return response


@pages.post(S + "/lock", policy=needs("men", why="lock or unlock class accounts"))
def lock(
    request: Request, course: str, instance: str, form: FormData = FORM, c: Caller = CALLER
) -> Response:
    ci = course_instance(c, course, instance)

    def action() -> str:
        uids = split_uids(text(form, "accounts"))
        done = service.lock_accounts(
            c.ctx,
            ci.id,
            uids or None,
            unlock=text(form, "action") == "unlock",
            reason=text(form, "reason"),
        )
        return "; ".join(d.message for d in done) or "no student accounts"

    return _act(request, c, ci, form, action)


@pages.post(
    S + "/end-date",
    policy=needs("men", why="move the end date the term-end schedule counts from"),
)
def end_date(
    request: Request, course: str, instance: str, form: FormData = FORM, c: Caller = CALLER
) -> Response:
    ci = course_instance(c, course, instance)

    def action() -> str:
        raw = text(form, "end")
        end = None if not raw else parse_instant(raw, "end", course_zone(ci))
        view = service.set_end_date(c.ctx, ci.id, end, reason=text(form, "reason"))
        return f"The schedule now counts from {view.to_json()['end'] or 'no end date'}."

    return _act(request, c, ci, form, action)


# -- administrators: the pool, stems, generating, metrics ----------------------------------


def _admin_page(
    request: Request,
    c: Caller,
    *,
    course: str = "",
    error: ServiceError | None = None,
    filled: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    from sqlalchemy import select

    stems = service.list_stems(c.ctx)
    rows = service.metrics(c.ctx)
    courses = list(c.ctx.session.scalars(select(Course.name).order_by(Course.name)))
    chosen = course or (stems[0].course if stems else "")
    pool = service.list_accounts(c.ctx, site_of(request), chosen) if chosen and stems else []
    series = [
        (
            f"{r.course} {r.term}",
            [
                ("generated", float(r.generated)),
                ("assigned", float(r.assigned)),
                ("re-assigned", float(r.reassigned)),
                ("wiped", float(r.wiped)),
            ],
        )
        for r in rows
    ]
    chart = Markup(bar_chart("Class accounts per course and term", series)) if rows else None
    return render(
        request,
        "admin_accounts.html",
        status=status,
        stems=stems,
        metrics=rows,
        chart=chart,
        courses=courses,
        chosen=chosen,
        pool=pool,
        error=error,
        filled=filled or {},
    )


@pages.get(
    ADMIN,
    policy=needs("mau", on="domain", why="administrators: stems, the pool and the metrics"),
)
def admin(request: Request, course: str = "", c: Caller = CALLER) -> HTMLResponse:
    return _admin_page(request, c, course=course)


@pages.post(
    ADMIN + "/stem",
    policy=needs("mau", on="domain", why="administrators set class-account stems"),
)
def stem(request: Request, form: FormData = FORM, c: Caller = CALLER) -> Response:
    def action() -> str:
        info = service.set_stem(
            c.ctx, text(form, "course"), text(form, "stem"), reason=text(form, "reason")
        )
        return f"{info.course} has the stem {info.stem} ({info.room} accounts of room)."

    return act_then_redirect(
        request,
        c,
        action,
        back=ADMIN,
        again=lambda e: _admin_page(request, c, error=e, filled=values(form), status=e.status),
    )


@pages.post(
    ADMIN + "/generate",
    policy=needs("mau", on="domain", why="administrators generate class accounts ahead"),
)
def generate(request: Request, form: FormData = FORM, c: Caller = CALLER) -> Response:
    course = text(form, "course")

    def action() -> str:
        raw = text(form, "count")
        if not raw.isdigit():
            raise Invalid("count: a whole number of accounts", "count")
        report = service.generate(c.ctx, site_of(request).issuer(), course, int(raw))
        return f"{len(report.accounts)} account(s) generated for {course}."

    return act_then_redirect(
        request,
        c,
        action,
        back=f"{ADMIN}?course={course}",
        again=lambda e: _admin_page(
            request, c, course=course, error=e, filled=values(form), status=e.status
        ),
    )
