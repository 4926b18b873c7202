"""coursegate as an LTI 1.3 tool, over HTTP: the OIDC login (``/lti/login``), the launch
(``/lti/launch``), the tool's key set (``/lti/jwks``), Canvas's configuration JSON
(``/lti/config.json``), and the administrators' page that registers platforms
(``/admin/lti``). The rules are in :mod:`coursegate.lti`, the I/O in
:mod:`coursegate.services.lti`; see docs/lti.md.

A refused launch is a page that says what was wrong (for the administrator who set the
platform up), with status 400 (502 when the platform's key set cannot be read); it leaves no
user and no session behind: the launch runs in a savepoint that a refusal rolls back, and only
the refusal itself is written to the history.
"""

from __future__ import annotations

import functools
import re
from datetime import date
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import BackgroundTasks, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from coursegate.http.client import public_base_url, session_cookie
from coursegate.http.deps import CALLER, Caller
from coursegate.http.headers import PAGE_CSP
from coursegate.http.policy import needs, public, signed_in
from coursegate.lti.claims import LaunchRefused
from coursegate.services.common.errors import Invalid, ServiceError
from coursegate.services.courses.new_instance import NewInstance
from coursegate.services.lti import contexts, deep_linking, grades, keys, platforms, roster_runs
from coursegate.services.lti.launch import (
    LaunchOutcome,
    begin_login,
    complete_launch,
    record_refusal,
)
from coursegate.services.lti.platform_keys import PlatformKeys
from coursegate.services.lti.tokens import PlatformTokens
from coursegate.web.pages import (
    FORM,
    Pages,
    act_then_redirect,
    ci_path,
    redirect,
    render,
    text,
    trying,
)
from coursegate.web.staff.rules import course_file_writes

pages = Pages(tags=["pages: LMS (LTI 1.3)"])

BROWSER_COOKIE = "coursegate_lti_browser"
"""Binds a login to the browser that started it (the launch must come back to it)."""
ADMIN = "/admin/lti"


def base_url(request: Request) -> str:
    """This server's address as the LMS reaches it (:func:`public_base_url`)."""
    return public_base_url(request)


def platform_keys(request: Request) -> PlatformKeys:
    """The platforms' key sets this process keeps (made with the app)."""
    keys_: PlatformKeys = request.app.state.lti_platform_keys
    return keys_


def _browser_cookie(request: Request, value: str, *, max_age: int) -> str:
    """The login's cookie: sent back on the platform's cross-site POST, so SameSite=None and
    Secure (a browser refuses SameSite=None without Secure); on plain-http demos, Lax."""
    secure = bool(request.app.state.settings.cookie_secure)
    parts = [f"{BROWSER_COOKIE}={value}", "Path=/lti", "HttpOnly", f"Max-Age={max_age}"]
    parts += ["SameSite=None", "Secure"] if secure else ["SameSite=Lax"]
    return "; ".join(parts)


def _refused(request: Request, refusal: LaunchRefused) -> HTMLResponse:
    status = 502 if refusal.what == "jwks_unreachable" else 400
    return render(
        request,
        "lti_error.html",
        status=status,
        title="The launch from the LMS was refused",
        message=refusal.message,
        what=refusal.what,
    )


async def _params(request: Request, form: FormData) -> dict[str, str]:
    """The login's parameters: in the query (GET) or the form (POST), as the spec allows."""
    source: Any = form if request.method == "POST" else request.query_params
    names = ("iss", "login_hint", "target_link_uri", "lti_message_hint", "client_id")
    return {n: str(source.get(n, ""))[:2000] for n in names}


@pages.get("/lti/login", policy=public("an LMS starts a launch (OIDC third-party login)"))
@pages.post("/lti/login", policy=public("an LMS starts a launch (OIDC third-party login)"))
async def login(request: Request, form: FormData = FORM, c: Caller = CALLER) -> Response:
    p = await _params(request, form)
    try:
        start = begin_login(
            c.ctx,
            iss=p["iss"],
            login_hint=p["login_hint"],
            target_link_uri=p["target_link_uri"],
            launch_url=platforms.tool_urls(base_url(request)).launch,
            client_id=p["client_id"],
            lti_message_hint=p["lti_message_hint"],
            browser=request.cookies.get(BROWSER_COOKIE, ""),
        )
    except LaunchRefused as refusal:
        return _refused(request, refusal)
    request.state.frame_ancestors = platforms.frame_origins(c.ctx.session)
    again = "/lti/login?" + urlencode({k: v for k, v in p.items() if v})
    response = render(request, "lti_login.html", redirect_url=start.redirect_url, again=again)
    response.headers["cache-control"] = "no-store"
    response.headers.append("set-cookie", _browser_cookie(request, start.browser, max_age=600))
    return response


@pages.get(
    "/lti/cookie-check",
    policy=public("whether this browser kept the launch's cookie (framed by an LMS)"),
    response_class=JSONResponse,
)
def cookie_check(request: Request) -> JSONResponse:
    """``{"cookie": true}`` when the browser sent the login's cookie back: the framed launch
    can go on; otherwise the login page offers a new window (third-party cookies blocked)."""
    kept = bool(request.cookies.get(BROWSER_COOKIE))
    return JSONResponse({"cookie": kept}, headers={"cache-control": "no-store"})


@pages.post("/lti/launch", policy=public("an LMS launches coursegate (the OIDC id_token)"))
def launch(request: Request, form: FormData = FORM, c: Caller = CALLER) -> Response:
    state = text(form, "state")
    nested = c.ctx.session.begin_nested()
    try:
        outcome = complete_launch(
            c.ctx,
            id_token=text(form, "id_token"),
            state=state,
            browser=request.cookies.get(BROWSER_COOKIE, ""),
            keys=platform_keys(request),
            user_agent=request.headers.get("user-agent", ""),
        )
        nested.commit()
    except (LaunchRefused, ServiceError) as exc:
        request.state.frame_ancestors = platforms.frame_origins(c.ctx.session)
        nested.rollback()
        refusal = exc if isinstance(exc, LaunchRefused) else LaunchRefused("account", exc.message)
        record_refusal(c.ctx, refusal, state=state)
        return _refused(request, refusal)
    settings = request.app.state.settings
    request.state.frame_ancestors = platforms.frame_origins(c.ctx.session)
    response = RedirectResponse(landing(outcome), status_code=303)
    response.headers.append(
        "set-cookie",
        session_cookie(
            settings.session_cookie,
            outcome.session.token,
            secure=settings.cookie_secure,
            framed=True,
        ),
    )
    response.headers.append("set-cookie", _browser_cookie(request, "", max_age=0))
    return response


def landing(outcome: LaunchOutcome) -> str:
    """Where a launch lands: the linked course instance (its staff pages for staff) — or the
    one assessment a link names (custom parameter ``assessment``) — the page that links an LMS
    course (its instructor) or says it is not linked yet; one's courses when the launch names
    no LMS course."""
    context = outcome.context
    if context is None:
        return "/courses"
    if outcome.deep_link_id is not None:
        return f"/lti/deep-linking/{outcome.deep_link_id}"
    ci = context.course_instance
    if ci is None or outcome.membership.test_user:
        return f"/lti/contexts/{context.id}"
    aid = outcome.launch.custom.get("assessment", "").strip("/")
    parts = aid.split("/")
    if aid and ASSESSMENT_ID.fullmatch(aid) and not {".", ".."} & set(parts):  # one assessment
        if outcome.membership.is_staff:
            return ci_path(ci, "staff", "assessments", aid)
        return ci_path(ci, "assessments", aid)
    if outcome.membership.is_staff:
        return ci_path(ci, "staff")
    return ci_path(ci)


ASSESSMENT_ID = re.compile(r"[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*")
"""An assessment id as a link's custom parameter ``assessment`` names it (``hw/hw2``); the
assessment's page then says what the student may do with it, or why not and until when."""


@pages.get("/lti/contexts/{context_id}", policy=signed_in("an LMS course one launched from"))
def context_page(request: Request, context_id: int, c: Caller = CALLER) -> Response:
    view = contexts.context_view(c.ctx, context_id, course_file_writes(request))
    if view.linked is not None and not view.test_user:
        return RedirectResponse(ci_path(view.linked), status_code=303)
    return render(request, "lti_context.html", view=view, ci_path=ci_path, error=None, form={})


def _day(form: FormData, name: str) -> date:
    raw = text(form, name)
    try:
        return date.fromisoformat(raw)
    except ValueError:
        what = "first" if name == "first_day" else "last"
        raise Invalid(f"{name}: give the {what} day of the term as YYYY-MM-DD", name) from None


def _new_instance(form: FormData) -> NewInstance:
    raw = text(form, "template")
    if not raw.isdigit():
        raise Invalid("template: choose the course instance to start from", "template")
    return NewInstance(
        template_id=int(raw),
        short_name=text(form, "short_name").strip(),
        long_name=text(form, "long_name").strip(),
        first=_day(form, "first_day"),
        last=_day(form, "last_day"),
    )


@pages.post(
    "/lti/contexts/{context_id}",
    policy=signed_in("an instructor links the LMS course they launched from"),
)
def link(request: Request, context_id: int, form: FormData = FORM, c: Caller = CALLER) -> Response:
    raw = text(form, "course_instance")
    writes = course_file_writes(request)

    def act() -> str:
        if text(form, "action") == "create":
            row = contexts.create_and_link(c.ctx, context_id, _new_instance(form), writes)
            ci = row.course_instance
            made = f"{ci.short_name} ({ci.long_name})" if ci else "the course instance"
            return (
                f"Made {made} from your course instance and linked it: launches from "
                f"{row.title or row.context_id} now land here. Check its dates, then commit its "
                "files in git."
            )
        if not raw.isdigit():
            raise Invalid("course_instance: choose one of your course instances", "course_instance")
        row = contexts.link_context(c.ctx, context_id, int(raw))
        return f"Linked: launches from {row.title or row.context_id} now land here."

    def again(error: ServiceError) -> Response:
        view = contexts.context_view(c.ctx, context_id, writes)
        fields = ("template", "short_name", "long_name", "first_day", "last_day")
        return render(
            request,
            "lti_context.html",
            status=error.status,
            view=view,
            ci_path=ci_path,
            error=error,
            form={k: text(form, k) for k in fields},
        )

    done = trying(c, act)
    if isinstance(done, ServiceError):
        return again(done)
    view = contexts.context_view(c.ctx, context_id)
    target = ci_path(view.linked, "staff") if view.linked is not None else "/courses"
    return redirect(request, target, done)


def platform_tokens(request: Request) -> PlatformTokens:
    """The access tokens to platforms' services this process keeps (made with the app)."""
    tokens: PlatformTokens = request.app.state.lti_platform_tokens
    return tokens


ROSTER = "/lti/contexts/{context_id}/roster"
RUN = ROSTER + "/runs/{run_id}"


def roster_runner(request: Request) -> roster_runs.Runner:
    """How this process runs a roster sync in the background (made with the app: a thread of
    its own; tests replace it with one that runs it at once)."""
    runner: roster_runs.Runner = request.app.state.lti_roster_runner
    return runner


def _roster(
    request: Request, c: Caller, context_id: int, error: ServiceError | None = None
) -> HTMLResponse:
    """The roster page: the course's latest runs, and a dry run to start."""
    found = trying(c, lambda: roster_runs.recent_runs(c.ctx, context_id))
    if isinstance(found, ServiceError):
        return render(
            request, "lti_roster.html", status=found.status, runs=None, error=found, id=context_id
        )
    status = error.status if error else 200
    return render(request, "lti_roster.html", status=status, runs=found, error=error, id=context_id)


@pages.get(ROSTER, policy=signed_in("staff see the roster syncs from the LMS and start one"))
def roster_page(request: Request, context_id: int, c: Caller = CALLER) -> Response:
    return _roster(request, c, context_id)


@pages.post(ROSTER, policy=signed_in("staff sync the roster from the LMS (men in the course)"))
def roster_sync_now(
    request: Request,
    context_id: int,
    tasks: BackgroundTasks,
    form: FormData = FORM,
    c: Caller = CALLER,
) -> Response:
    """Start a run — ``action=dry_run``: what a sync would change; otherwise the sync — and
    follow it on its page; it runs once this request has committed."""
    action = text(form, "action") or "sync"

    def start() -> roster_runs.RunView:
        if action not in ("dry_run", "sync"):
            raise Invalid("action: choose to check the LMS's roster or to sync it", "action")
        return roster_runs.start_run(c.ctx, context_id, dry_run=action == "dry_run")

    done = trying(c, start)
    if isinstance(done, ServiceError):
        return _roster(request, c, context_id, done)
    app = request.app
    job = functools.partial(
        roster_runs.execute_run,
        app.state.sessions,
        platform_tokens(request),
        done.id,
        clock=app.state.clock,
    )
    tasks.add_task(roster_runner(request), job)
    return redirect(request, RUN.format(context_id=context_id, run_id=done.id))


@pages.get(
    RUN + ".json",
    policy=signed_in("staff follow a roster sync from the LMS (men in the course)"),
    response_class=JSONResponse,
)
def roster_run_json(context_id: int, run_id: int, c: Caller = CALLER) -> JSONResponse:
    """Where the run is (the run page's script asks every second or two)."""
    found = trying(c, lambda: roster_runs.read_run(c.ctx, context_id, run_id))
    if isinstance(found, ServiceError):
        body: dict[str, Any] = {"error": found.to_json()}
        return JSONResponse(body, status_code=found.status, headers={"cache-control": "no-store"})
    return JSONResponse(found.to_json(), headers={"cache-control": "no-store"})


@pages.get(RUN, policy=signed_in("staff follow a roster sync from the LMS (men in the course)"))
def roster_run_page(request: Request, context_id: int, run_id: int, c: Caller = CALLER) -> Response:
    """The run's progress while it runs (the page refreshes itself), then what it changed —
    or, for a dry run, would change."""
    found = trying(c, lambda: roster_runs.read_run(c.ctx, context_id, run_id))
    if isinstance(found, ServiceError):
        return render(
            request, "lti_roster_run.html", status=found.status, run=None, error=found,
            id=context_id,
        )  # fmt: skip
    response = render(request, "lti_roster_run.html", run=found, error=None, id=context_id)
    response.headers["cache-control"] = "no-store"
    return response


DEEP = "/lti/deep-linking/{request_id}"


def _deep(
    request: Request, c: Caller, request_id: int, error: ServiceError | None = None
) -> HTMLResponse:
    found = trying(c, lambda: deep_linking.choice(c.ctx, request_id))
    if isinstance(found, ServiceError):
        return render(
            request, "lti_deep_linking.html", status=found.status, error=found, choice=None,
            id=request_id,
        )  # fmt: skip
    return render(
        request, "lti_deep_linking.html", status=error.status if error else 200, error=error,
        choice=found, id=request_id,
    )  # fmt: skip


@pages.get(DEEP, policy=signed_in("staff choose assessments to add to the LMS (mgr)"))
def deep_page(request: Request, request_id: int, c: Caller = CALLER) -> HTMLResponse:
    return _deep(request, c, request_id)


@pages.post(DEEP, policy=signed_in("staff add assessments to the LMS as links (mgr)"))
def deep_answer(
    request: Request, request_id: int, form: FormData = FORM, c: Caller = CALLER
) -> Response:
    chosen = [str(v) for v in form.getlist("assessments")][:200]
    launch_url = platforms.tool_urls(base_url(request)).launch
    done = trying(c, lambda: deep_linking.answer(c.ctx, request_id, chosen, launch_url))
    if isinstance(done, ServiceError):
        return _deep(request, c, request_id, done)
    token, return_url = done
    framers = " ".join(platforms.frame_origins(c.ctx.session)) or "'none'"
    target = urlsplit(return_url)
    csp = PAGE_CSP.replace("form-action 'self'", f"form-action {target.scheme}://{target.netloc}")
    csp = csp.replace("frame-ancestors 'none'", f"frame-ancestors {framers}")
    return render(
        request,
        "lti_autopost.html",
        headers={"content-security-policy": csp, "x-frame-options": "SAMEORIGIN"},
        action=return_url,
        fields={"JWT": token},
    )


GRADES = "/lti/contexts/{context_id}/grades"


def _grades(
    request: Request, c: Caller, context_id: int, error: ServiceError | None = None
) -> HTMLResponse:
    found = trying(c, lambda: grades.outbox(c.ctx, context_id))
    if isinstance(found, ServiceError):
        shown = error or found  # a refused action says why it was refused, not why the page is
        return render(
            request, "lti_grades.html", status=shown.status, error=shown, context=None,
            scores=[], id=context_id,
        )  # fmt: skip
    context, scores = found
    return render(
        request, "lti_grades.html", status=error.status if error else 200, error=error,
        context=context, scores=scores, id=context_id,
    )  # fmt: skip


@pages.get(GRADES, policy=signed_in("staff see the scores sent to the LMS (vgr)"))
def grades_page(request: Request, context_id: int, c: Caller = CALLER) -> HTMLResponse:
    return _grades(request, c, context_id)


@pages.post(GRADES, policy=signed_in("staff send scores to the LMS's gradebook (mgr)"))
def grades_action(
    request: Request, context_id: int, form: FormData = FORM, c: Caller = CALLER
) -> Response:
    action = text(form, "action")
    tokens = platform_tokens(request)

    def act() -> str:
        if action == "columns":
            made = grades.create_line_items(c.ctx, context_id, tokens=tokens)
            return f"{made} gradebook column(s) made in the LMS."
        if action == "resend":
            return f"{grades.resend_failed(c.ctx, context_id)} failed score(s) will be sent again."
        if action == "send":
            done = grades.sync_grades(c.ctx, context_id, tokens=tokens)
            return (
                f"Sent {done.sent}; {done.waiting} waiting to be tried again; {done.failed} failed."
            )
        raise Invalid("action: choose what to do", "action")

    return act_then_redirect(
        request,
        c,
        act,
        back=GRADES.format(context_id=context_id),
        again=lambda e: _grades(request, c, context_id, e),
    )


@pages.get(
    "/lti/jwks",
    policy=public("the tool's public keys, which LMSs check its signatures with"),
    response_class=JSONResponse,
)
def jwks(c: Caller = CALLER) -> JSONResponse:
    return JSONResponse(keys.published(c.ctx), headers={"cache-control": "max-age=300"})


@pages.get(
    "/lti/config.json",
    policy=public("the tool's configuration, for LMSs that import one (Canvas)"),
    response_class=JSONResponse,
)
def config(request: Request) -> JSONResponse:
    return JSONResponse(platforms.canvas_config(base_url(request)))


# -- administrators: registering platforms -----------------------------------------------------

WHY = "administrators register LMS platforms (who may sign in through them)"


@pages.get(ADMIN, policy=needs("mau", on="system", why=WHY))
def admin_page(request: Request, c: Caller = CALLER) -> HTMLResponse:
    return _admin(request, c)


def _admin(
    request: Request,
    c: Caller,
    *,
    error: ServiceError | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    return render(
        request,
        "admin_lti.html",
        status=error.status if error else 200,
        platforms=platforms.platforms(c.ctx),
        urls=platforms.tool_urls(base_url(request)),
        error=error,
        form=form or {},
    )


@pages.post(ADMIN, policy=needs("mau", on="system", why=WHY))
def register(request: Request, form: FormData = FORM, c: Caller = CALLER) -> Response:
    fields = {
        k: text(form, k)
        for k in (
            "name", "issuer", "client_id", "auth_url", "token_url", "jwks_url", "domain",
            "deployment_ids",
        )
    }  # fmt: skip
    new = platforms.NewPlatform(
        name=fields["name"],
        issuer=fields["issuer"],
        client_id=fields["client_id"],
        auth_url=fields["auth_url"],
        token_url=fields["token_url"],
        jwks_url=fields["jwks_url"],
        domain=fields["domain"],
        deployment_ids=tuple(
            d.strip() for d in fields["deployment_ids"].replace(",", "\n").splitlines() if d.strip()
        ),
        match_email=text(form, "match_email") == "1",
        allow_administrator=text(form, "allow_administrator") == "1",
        allow_author=text(form, "allow_author") == "1",
    )

    def act() -> str:
        row = platforms.register_platform(c.ctx, new)
        return f"Registered {row.name}: paste the tool's URLs below into it."

    return act_then_redirect(
        request, c, act, back=ADMIN, again=lambda e: _admin(request, c, error=e, form=fields)
    )


@pages.post(ADMIN + "/rotate-key", policy=needs("mau", on="system", why=WHY))
def rotate_key(request: Request, c: Caller = CALLER) -> Response:
    def act() -> str:
        keys.rotate(c.ctx)
        return "A new key signs from now on; the old one stays published for a day."

    return act_then_redirect(
        request, c, act, back=ADMIN, again=lambda e: _admin(request, c, error=e)
    )
