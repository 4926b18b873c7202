"""Administrators' sign-in page: the accounts whose web access is frozen (an administrator's
policy: freeze and thaw here) and the (address, account) pairs whose sign-ins wait now after
failures (clear one here). Over :mod:`coursegate.services.people.throttle` and the users service's
``freeze_user`` / ``thaw_user``; only administrators (``mau`` in a domain, or at the system
level) see or use it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from coursegate.core.instants import SECOND
from coursegate.http.deps import CALLER, Caller
from coursegate.http.policy import needs
from coursegate.services.common.errors import Invalid, ServiceError
from coursegate.services.people import throttle
from coursegate.services.people.users import freeze_user, thaw_user
from coursegate.web.pages import FORM, Pages, act_then_redirect, render, text, values

pages = Pages(tags=["pages: administration"])

SIGN_INS = "/admin/sign-ins"
LIMITS = {
    "free": throttle.FREE_FAILURES,
    "longest": throttle.in_words(throttle.MAX_DELAY // SECOND),
    "address": throttle.ADDRESS_MAX_FAILURES,
    "window": throttle.in_words(throttle.ADDRESS_WINDOW // SECOND),
}


def _page(
    request: Request,
    c: Caller,
    *,
    error: ServiceError | None = None,
    filled: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    seen = throttle.overview(c.ctx)
    return render(
        request,
        "admin_sign_ins.html",
        status=status,
        seen=seen,
        at=c.ctx.at,
        tz=UTC,
        limits=LIMITS,
        wait=lambda until: throttle.in_words(throttle.seconds_until(until, c.ctx.at)),
        error=error,
        filled=filled or {},
    )


def _act(request: Request, c: Caller, form: FormData, action: Callable[[], str]) -> Response:
    return act_then_redirect(
        request,
        c,
        action,
        back=SIGN_INS,
        again=lambda e: _page(request, c, error=e, filled=values(form), status=e.status),
    )


@pages.get(
    SIGN_INS,
    policy=needs("mau", on="domain", why="administrators: frozen accounts and sign-in waits"),
)
def sign_ins(request: Request, c: Caller = CALLER) -> HTMLResponse:
    return _page(request, c)


@pages.post(
    SIGN_INS + "/account",
    policy=needs("mau", on="domain", why="administrators freeze and thaw web access"),
)
def account(request: Request, form: FormData = FORM, c: Caller = CALLER) -> Response:
    """Freeze (its sessions and tokens end) or thaw one account's web access."""
    uid, what, why = text(form, "uid"), text(form, "action"), text(form, "reason")

    def action() -> str:
        if not uid:
            raise Invalid("give the user id of the account", "uid")
        if what == "freeze":
            freeze_user(c.ctx, uid, reason=why)
            return f"Web access of {uid} is frozen; their sessions and API tokens have ended."
        if what == "thaw":
            thaw_user(c.ctx, uid, reason=why)
            return f"Web access of {uid} is thawed; they may sign in again."
        raise Invalid("action: freeze or thaw", "action")

    return _act(request, c, form, action)


@pages.post(
    SIGN_INS + "/throttle",
    policy=needs("mau", on="domain", why="administrators clear a sign-in wait"),
)
def clear_throttle(request: Request, form: FormData = FORM, c: Caller = CALLER) -> Response:
    """Forget one (address, account) pair's failures: its next attempt is checked at once."""
    address, account_typed = text(form, "address"), form.get("account", "")

    def action() -> str:
        if not address:
            raise Invalid("give the address whose wait to clear", "address")
        typed = account_typed if isinstance(account_typed, str) else ""
        return throttle.clear(c.ctx, address, typed, reason=text(form, "reason"))

    return _act(request, c, form, action)
