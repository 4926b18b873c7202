"""Signing in and out, one's course instances, and stopping "view as"."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from coursegate.http.client import client_address, session_cookie
from coursegate.http.deps import CALLER, Caller
from coursegate.http.policy import public, signed_in
from coursegate.services.access.my_courses import may_in_domain, my_course_instances
from coursegate.services.common.errors import Invalid
from coursegate.services.people import signin
from coursegate.services.people.session_mode import holds_instructor_role, set_session_mode
from coursegate.services.people.throttle import Throttled
from coursegate.web.pages import FORM, Pages, redirect, render, safe_next, text

pages = Pages(tags=["pages"])


@pages.get("/", policy=public("the front door: one's courses, or the sign-in page"))
def home(c: Caller = CALLER) -> Response:
    return RedirectResponse("/courses" if c.signed_in else "/sign-in", status_code=303)


@pages.get("/sign-in", policy=public("signing in is how one stops being anonymous"))
def sign_in_page(request: Request, next: str = "", c: Caller = CALLER) -> Response:
    if c.signed_in and c.refusal is None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "sign_in.html", next=safe_next(next), uid="", error=None)


@pages.post("/sign-in", policy=public("signing in is how one stops being anonymous"))
def sign_in(request: Request, form: FormData = FORM, c: Caller = CALLER) -> Response:
    """Check the password (the same service as ``POST /api/v1/session``) and set the same
    session cookie. A failure is shown on the form and counted for this address and account;
    while they must wait the answer is 429 with ``Retry-After``."""
    uid = text(form, "uid")
    password = form.get("password")
    target = safe_next(text(form, "next"))
    if not uid or not isinstance(password, str) or not password:
        return render(
            request,
            "sign_in.html",
            status=422,
            next=target,
            uid=uid,
            error="give your email or user id, and your password",
        )
    outcome = signin.sign_in(
        c.ctx,
        uid,
        password,
        address=client_address(request),
        user_agent=request.headers.get("user-agent", ""),
    )
    if outcome.error is not None:
        e = outcome.error
        wait = {"Retry-After": str(e.retry_after)} if isinstance(e, Throttled) else None
        return render(
            request,
            "sign_in.html",
            status=e.status,
            headers=wait,
            next=target,
            uid=uid,
            error=e.message,
        )
    assert outcome.session is not None
    settings = request.app.state.settings
    response = redirect(request, target)
    response.headers.append(
        "set-cookie",
        session_cookie(
            settings.session_cookie, outcome.session.token, secure=settings.cookie_secure
        ),
    )
    return response


@pages.post("/sign-out", policy=signed_in("signing oneself out", in_view_as=True))
def sign_out(request: Request, c: Caller = CALLER) -> Response:
    if c.web_session is not None:
        signin.sign_out(c.ctx, c.web_session)
    settings = request.app.state.settings
    response = redirect(request, "/sign-in", "You are signed out.")
    response.headers.append(
        "set-cookie",
        session_cookie(settings.session_cookie, "", secure=settings.cookie_secure, max_age=0),
    )
    return response


@pages.get("/courses", policy=signed_in("one's own course instances"))
def courses(request: Request, c: Caller = CALLER) -> HTMLResponse:
    admin = may_in_domain(c.ctx, "mau")
    session = c.web_session
    return render(
        request,
        "courses.html",
        items=my_course_instances(c.ctx),
        admin=admin,
        accounts_admin=admin,
        preview=session is not None and holds_instructor_role(c.ctx, session.user_id),
        mode=(session.mode if session is not None else None) or "Public",
    )


@pages.post(
    "/session/mode",
    policy=signed_in("one's own browser session: an instructor previews Exam mode, and back"),
)
def session_mode(request: Request, form: FormData = FORM, c: Caller = CALLER) -> Response:
    """Switch one's own browser session to Exam mode (instructors, to preview what students in
    the testing centre see) or back (the same service as ``POST /api/v1/session/mode``)."""
    if c.web_session is None:
        raise Invalid("mode: only a browser session can be switched here", "mode")
    now = set_session_mode(c.ctx, c.web_session, text(form, "mode"))
    notice = (
        "Your session is in Exam mode: view as a student to see what they see in the testing"
        " centre."
        if now == "Exam"
        else "Your session is in Public mode again."
    )
    return redirect(request, "/courses", notice)


@pages.post("/view-as/stop", policy=signed_in("stopping one's own view-as", in_view_as=True))
def stop_view_as(request: Request, form: FormData = FORM, c: Caller = CALLER) -> Response:
    """Back to oneself (the same service as ``DELETE /api/v1/view-as``)."""
    if c.web_session is not None:
        signin.stop_view_as(c.ctx, c.web_session)
    request.state.viewing_as = None
    return redirect(request, safe_next(text(form, "next")), "You are yourself again.")
