"""Authorization-matrix samples for the administrators' sign-in page (run by
tests/api/test_route_policies.py): only administrators — ``mau`` in the domain (the demo's
domain coordinator) or at the system level. The matrix posts no form fields, so an allowed post
fails in its service with 422: the route let the persona in."""

from __future__ import annotations

from api_support import Sample

ADMINS = frozenset({"admin"})
"""Who administer people's sign-in (mau in the domain): the domain coordinator."""

SAMPLES = [
    Sample("GET", "/admin/sign-ins", "/admin/sign-ins", ADMINS),
    Sample("POST", "/admin/sign-ins/account", "/admin/sign-ins/account", ADMINS),
    Sample("POST", "/admin/sign-ins/throttle", "/admin/sign-ins/throttle", ADMINS),
]
