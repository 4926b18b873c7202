"""What every page shares: the routes (each with its policy, like the API's), templates,
the form's CSRF token, the signed-in identity shown in the header, notices after a change,
URLs, and error pages.

Pages sit on the API's machinery: :data:`~coursegate.http.deps.CALLER` gives the request's one
transaction and the caller, :class:`~coursegate.http.policy.Routes` checks the declared policy
before the handler. A page form posts its session's CSRF token as the hidden ``csrf_token``
field; :func:`form_data` (an async dependency listed before the policy) hands it to the caller
dependency as ``request.state.csrf_form``. htmx requests may send ``X-CSRF-Token`` instead.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any, TypeVar

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context
from starlette.datastructures import FormData

from coursegate.core.instants import (
    MAX_INSTANT,
    MIN_INSTANT,
    DateError,
    Instant,
    format_for_people,
    from_instant,
    zone,
)
from coursegate.http.deps import CALLER, SAFE_METHODS, Caller
from coursegate.http.policy import Policy, Routes
from coursegate.roles.table import parse_privilege_list
from coursegate.roles.wording import privilege_name, role_name
from coursegate.services.common.errors import ServiceError
from coursegate.services.common.places import find_course_instance
from coursegate.store.models import CourseInstance, User

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
FLASH_COOKIE = "coursegate_notice"
SIGN_IN = "/sign-in"

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


# -- the routes -------------------------------------------------------------------------------


async def form_data(request: Request) -> FormData:
    """The posted form (parsed once per request) — and its CSRF token for the caller."""
    if request.method in SAFE_METHODS:
        return FormData()
    kind = request.headers.get("content-type", "")
    if not kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return FormData()
    form = await request.form()
    token = form.get("csrf_token")
    if isinstance(token, str):
        request.state.csrf_form = token
    return form


FORM: Any = Depends(form_data)


@dataclass(frozen=True)
class Identity:
    """Who is signed in, captured at the start of the request (for the header of every page,
    error pages included, after the transaction has ended)."""

    uid: str
    name: str
    csrf: str
    acting_as: str | None = None
    acting_name: str = ""

    @property
    def who(self) -> str:
        return f"{self.name} ({self.uid})" if self.name else self.uid

    @property
    def acting_who(self) -> str:
        if self.acting_as is None:
            return ""
        return f"{self.acting_name} ({self.acting_as})" if self.acting_name else self.acting_as


def identity(request: Request, c: Caller = CALLER) -> None:
    """Remember who the page is for (runs before the policy check)."""
    if c.user is None:
        return
    acting_name = ""
    if c.ctx.acting_as is not None:
        from sqlalchemy import select

        found = c.ctx.session.scalars(select(User.name).where(User.uid == c.ctx.acting_as)).first()
        acting_name = found or ""
    csrf = c.web_session.csrf_token if c.web_session is not None else ""
    request.state.page_identity = Identity(
        c.user.uid, c.user.name, csrf, c.ctx.acting_as, acting_name
    )


class Pages(Routes):
    """Page routes: a policy each (checked before the handler, as for the API), the form's
    CSRF token read first, HTML answers, and no place in the OpenAPI document."""

    def route(self, method: str, path: str, *, policy: Policy, **kw: Any) -> Callable[[F], F]:
        deps = [FORM, Depends(identity), *kw.pop("dependencies", [])]
        kw.setdefault("include_in_schema", False)
        kw.setdefault("response_class", HTMLResponse)
        return super().route(method, path, policy=policy, dependencies=deps, **kw)


# -- templates --------------------------------------------------------------------------------


def when(t: Instant | None, tz: tzinfo, relative_to: Instant | None = None) -> str:
    """``23:59, Thu, Jan 25`` (the year when it differs from ``relative_to``'s): the one format
    of times for people, :func:`~coursegate.core.instants.format_for_people`."""
    if t is None or t <= MIN_INSTANT:
        return "—"
    if t >= MAX_INSTANT:
        return "no end"
    return format_for_people(t, tz, relative_to=relative_to)


def now_words(at: Instant, tz: tzinfo) -> str:
    """The page's "now", to the minute: its seconds never matter to the person reading."""
    return when(at - at % 60_000_000, tz)


@pass_context
def page_when(
    context: Context, t: Instant | None, tz: tzinfo, relative_to: Instant | None = None
) -> str:
    """:func:`when` in templates: the year shows when it differs from that of the page's
    ``at`` (its "now"), unless the template names another instant."""
    if relative_to is None:
        at = context.get("at")
        relative_to = at if isinstance(at, int) else None
    return when(t, tz, relative_to)


def zone_words(tz: tzinfo | str, at: Instant | None = None) -> str:
    """``America/Chicago (CST)``: the zone's name and its abbreviation at ``at`` (the page's
    now), for the one line per page that says which zone its times are in."""
    if isinstance(tz, str):
        try:
            found: tzinfo = zone(tz)
        except DateError:
            return tz
    else:
        found = tz
    name = str(found)
    if at is None or not MIN_INSTANT < at < MAX_INSTANT:
        return name
    short = from_instant(at, found).tzname()
    return f"{name} ({short})" if short and short != name else name


def pct(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{int(x)}%" if float(x).is_integer() else f"{x:g}%"


def credit(text: str) -> str:
    """A decision's ``credit_text`` for people: PrairieLearn's bare ``None`` (no credit, and
    none to come) reads "no credit"; everything else (``100% until 23:59, Mon, Jan 29``,
    ``opens 08:00, Mon, Feb 5 at 100%``) as it is."""
    return "no credit" if text in ("None", "") else text


def q(text: str) -> str:
    """A path segment (assessment ids keep their slashes)."""
    return urllib.parse.quote(text, safe="/")


ENV = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def privileges_words(text: str) -> str:
    """A privilege list in the table's format (``bre&R:vgr&SCR``) as names (``browse
    resources, view grades``); ``—`` when empty."""
    if not text:
        return "—"
    try:
        codes = parse_privilege_list(text)
    except ValueError:
        return text
    return ", ".join(privilege_name(code) for code in codes)


ENV.filters["pct"] = pct
ENV.filters["credit"] = credit
ENV.filters["q"] = q
ENV.filters["privilege"] = privilege_name
ENV.filters["privileges"] = privileges_words
ENV.filters["role"] = role_name
ENV.globals["when"] = page_when
ENV.globals["now_words"] = now_words
ENV.globals["zone_words"] = zone_words


def ci_path(ci: CourseInstance | tuple[str, str], *parts: str) -> str:
    """``/courses/CG%20101/instances/Sp24/...``."""
    course, instance = (ci.course.name, ci.short_name) if isinstance(ci, CourseInstance) else ci
    base = f"/courses/{q(course)}/instances/{q(instance)}"
    return "/".join([base, *(p.strip("/") for p in parts if p)]) if parts else base


ENV.globals["ci_path"] = ci_path


def _flash(request: Request) -> str:
    raw = request.cookies.get(FLASH_COOKIE, "")
    return urllib.parse.unquote(raw)[:500] if raw else ""


def render(
    request: Request,
    template: str,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    **data: Any,
) -> HTMLResponse:
    """A page: ``template`` with the identity, the notice left by the last change, and
    ``data``."""
    me: Identity | None = getattr(request.state, "page_identity", None)
    notice = _flash(request)
    html = ENV.get_template(template).render(me=me, notice=notice, path=request.url.path, **data)
    response = HTMLResponse(html, status_code=status, headers=dict(headers or {}))
    if notice:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def fragment(template: str, **data: Any) -> str:
    return ENV.get_template(template).render(**data)


def redirect(request: Request, url: str, notice: str = "") -> RedirectResponse:
    """303 to ``url`` (Post/Redirect/Get), leaving ``notice`` for the next page."""
    response = RedirectResponse(url, status_code=303)
    if notice:
        secure = bool(request.app.state.settings.cookie_secure)
        response.set_cookie(
            FLASH_COOKIE,
            urllib.parse.quote(notice[:500]),
            max_age=120,
            path="/",
            httponly=True,
            samesite="lax",
            secure=secure,
        )
    return response


def safe_next(target: str | None, default: str = "/courses") -> str:
    """Only a path on this site (never ``//elsewhere`` or ``https://...``)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


# -- forms ------------------------------------------------------------------------------------


def text(form: FormData, name: str, default: str = "") -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else default


def values(form: FormData) -> dict[str, str]:
    """The submitted fields (for filling a form in again), without the token."""
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


def trying(c: Caller, action: Callable[[], T]) -> T | ServiceError:
    """Run a service call in a savepoint: its error comes back (nothing it did is kept) for the
    page to show next to the form, and the rest of the request goes on."""
    try:
        with c.ctx.session.begin_nested():
            return action()
    except ServiceError as error:
        return error


def act_then_redirect(
    request: Request,
    c: Caller,
    action: Callable[[], str],
    *,
    back: str,
    again: Callable[[ServiceError], Response],
) -> Response:
    """The shape of every form post: run ``action`` (:func:`trying`); on success go to ``back``
    with its notice, on a refusal or bad input show the form ``again`` with the error."""
    done = trying(c, action)
    if isinstance(done, ServiceError):
        return again(done)
    return redirect(request, back, done)


# -- the course instance of a page ------------------------------------------------------------


def course_instance(c: Caller, course: str, instance: str) -> CourseInstance:
    return find_course_instance(c.ctx, course, instance)
