"""Every route declares who may call it, and the declaration is enforced before the handler.

A route is added through :class:`Routes` (``@routes.get(path, policy=...)``), which refuses a
route without a policy. The policy is one of:

* :func:`public` — anyone, signed in or not (signing in, the OpenAPI document, a calendar feed
  reached by its secret link); the reason is written down;
* :func:`signed_in` — any signed-in user; the service then decides on the object itself (a
  student reads their own assessments, staff with ``vst`` anyone's), through the roles core;

While the caller views as someone, every change is refused here (view-as is for seeing), but
for the few routes that end it (``in_view_as``) and POSTs that only read (``reads``).
* :func:`needs` — a privilege of the roles core (``gex``, ``vst``, ...) in the course instance
  named by the path (``{course}/{instance}``), in the caller's domain, or at the system level,
  checked by :func:`coursegate.services.common.authz.require` before the handler runs. The services
  check again: the route check is the first door, not the only one.

The policy is kept in :data:`POLICIES` by endpoint function and in the OpenAPI document
(``x-coursegate-policy``); ``tests/api/test_route_policies.py`` fails for a route without one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Request

from coursegate.http.deps import CALLER, SAFE_METHODS, Caller
from coursegate.roles import Area, AreaError
from coursegate.services.common.authz import require
from coursegate.services.common.errors import Invalid, Refused
from coursegate.services.common.places import find_course_instance, instance_area
from coursegate.services.people.persons import refuse_in_view_as
from coursegate.services.people.signin import Unauthenticated

Kind = Literal["public", "signed_in", "privilege"]
On = Literal["course_instance", "domain", "system"]


@dataclass(frozen=True)
class Policy:
    kind: Kind
    why: str
    privilege: str | None = None
    on: On | None = None
    reads: bool = False
    """A POST that changes nothing (asking for decisions): read-only API tokens may call it,
    and so may someone viewing as another user."""
    in_view_as: bool = False
    """A change one may make while viewing as someone: only ending it (stopping view-as,
    signing out). Every other change is refused in view-as: view-as is for seeing."""
    secret: bool = False
    """The route reveals a secret (a credential, an enrollment code, a calendar link): the
    escalation test then requires a row for it, as it does for every change."""

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "why": self.why}
        if self.privilege is not None:
            out["privilege"] = self.privilege
            out["on"] = self.on
        if self.secret:
            out["secret"] = True
        if self.in_view_as:
            out["in_view_as"] = True
        return out


def public(why: str) -> Policy:
    return Policy("public", why)


def signed_in(
    why: str, *, reads: bool = False, in_view_as: bool = False, secret: bool = False
) -> Policy:
    return Policy("signed_in", why, reads=reads, in_view_as=in_view_as, secret=secret)


def needs(privilege: str, on: On = "course_instance", *, why: str, secret: bool = False) -> Policy:
    return Policy("privilege", why, privilege, on, secret=secret)


POLICIES: dict[Callable[..., Any], Policy] = {}
"""The policy of every endpoint function (the route-coverage test reads it)."""


def enforce(policy: Policy) -> Callable[..., None]:
    """The dependency that checks ``policy`` before the handler."""

    def check(request: Request, caller: Caller = CALLER) -> None:
        if policy.kind == "public":
            return
        if caller.refusal is not None:
            raise caller.refusal
        if not caller.signed_in:
            raise Unauthenticated("sign in first (a session cookie or an API token)")
        token = caller.token
        if (
            token is not None
            and request.method not in SAFE_METHODS
            and not policy.reads
            and "write" not in token.scopes
        ):
            raise Refused("this API token may only read (its scopes: read)", "authorization")
        if request.method not in SAFE_METHODS and not (policy.reads or policy.in_view_as):
            refuse_in_view_as(caller.ctx, "make changes")
        if policy.kind == "signed_in":
            return
        assert policy.privilege is not None
        area = area_of(policy, request, caller)
        require(caller.ctx, policy.privilege, area, policy.why)

    return check


def area_of(policy: Policy, request: Request, caller: Caller) -> Area:
    if policy.on == "course_instance":
        params = request.path_params
        ci = find_course_instance(caller.ctx, params["course"], params["instance"])
        return instance_area(ci)
    if policy.on == "domain":
        domain = request.path_params.get("domain")
        if domain is None:
            domain = caller.ctx.user(caller.ctx.actor).domain.name
        try:
            return Area.of_domain(str(domain))
        except AreaError as exc:
            raise Invalid(f"domain: {exc}", "domain") from None
    return Area.system()


F = TypeVar("F", bound=Callable[..., Any])


class Routes:
    """An :class:`APIRouter` whose every route must declare its :class:`Policy`."""

    def __init__(self, prefix: str = "", tags: list[str] | None = None) -> None:
        self.router = APIRouter(prefix=prefix, tags=list(tags or []))

    def route(self, method: str, path: str, *, policy: Policy, **kw: Any) -> Callable[[F], F]:
        def add(fn: F) -> F:
            deps = [*kw.pop("dependencies", []), Depends(enforce(policy))]
            extra = dict(kw.pop("openapi_extra", None) or {})
            extra["x-coursegate-policy"] = policy.describe()
            self.router.add_api_route(
                path, fn, methods=[method], dependencies=deps, openapi_extra=extra, **kw
            )
            POLICIES[fn] = policy
            return fn

        return add

    def get(self, path: str, *, policy: Policy, **kw: Any) -> Callable[[F], F]:
        return self.route("GET", path, policy=policy, **kw)

    def post(self, path: str, *, policy: Policy, **kw: Any) -> Callable[[F], F]:
        return self.route("POST", path, policy=policy, **kw)

    def put(self, path: str, *, policy: Policy, **kw: Any) -> Callable[[F], F]:
        return self.route("PUT", path, policy=policy, **kw)

    def patch(self, path: str, *, policy: Policy, **kw: Any) -> Callable[[F], F]:
        return self.route("PATCH", path, policy=policy, **kw)

    def delete(self, path: str, *, policy: Policy, **kw: Any) -> Callable[[F], F]:
        return self.route("DELETE", path, policy=policy, **kw)
