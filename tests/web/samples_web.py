"""Authorization-matrix samples for the pages (run by tests/api/test_route_policies.py).

Pages answer anonymous visitors with 303 to the sign-in page (instead of the API's 401) and
refused personas with a 403 page. The matrix posts no form fields, so a change that reaches its
service fails there (422, or 404 for an unknown object): that still shows the route let the
persona in. The demo world has one exception (Dan's, id 1) and no attempts (id 999999 is
unknown to everyone).
"""

from __future__ import annotations

import importlib.util

from api_support import EVERYONE, SIGNED_IN, Sample

STAFF = frozenset({"ta", "instructor", "admin"})
"""Staff who view students (vst): TA, instructor and the domain's administrator."""
ENROLLERS = frozenset({"instructor", "admin"})
"""Who manage enrollment (men): instructors and the domain coordinator, not TAs."""
VIEWERS_AS = frozenset({"ta", "instructor"})
"""Who may view as a student (ain): course roles only."""
EDITORS = frozenset({"instructor"})
"""Who set assessment parameters (opa): course coordinators and instructors."""

CI = "/courses/{course}/instances/{instance}"
P = "/courses/CG 101/instances/Sp24"

SAMPLES = [
    Sample("GET", "/", "/", EVERYONE),
    Sample("GET", "/sign-in", "/sign-in", EVERYONE),
    Sample("POST", "/sign-in", "/sign-in", EVERYONE),
    Sample("POST", "/sign-out", "/sign-out", SIGNED_IN),
    Sample("GET", "/courses", "/courses", SIGNED_IN),
    Sample("POST", "/view-as/stop", "/view-as/stop", SIGNED_IN),
    # an instructor role (in or cc) somewhere: the course's instructor and another course's
    Sample("POST", "/session/mode", "/session/mode", frozenset({"instructor", "other_instructor"})),
    # A student's own pages: any signed-in user sees what the decisions give them (someone
    # not enrolled sees what they would until they enroll, staff are sent to staff pages).
    Sample("GET", CI, P, SIGNED_IN),
    Sample("GET", CI + "/assessments/{aid:path}", P + "/assessments/hw/hw1", SIGNED_IN),
    Sample("POST", CI + "/start/{aid:path}", P + "/start/hw/hw1", SIGNED_IN),
    Sample("POST", CI + "/attempts/{attempt_id}/submit", P + "/attempts/999999/submit", SIGNED_IN),
    Sample("POST", CI + "/attempts/{attempt_id}/close", P + "/attempts/999999/close", SIGNED_IN),
    Sample("GET", CI + "/calendar", P + "/calendar", SIGNED_IN),
    # Course staff.
    Sample("GET", CI + "/staff", P + "/staff", STAFF),
    Sample("GET", CI + "/staff/assessments/{aid:path}", P + "/staff/assessments/hw/hw2", STAFF),
    Sample("GET", CI + "/staff/rules/{aid:path}", P + "/staff/rules/hw/hw2", EDITORS),
    Sample("POST", CI + "/staff/rules/{aid:path}", P + "/staff/rules/hw/hw2", EDITORS),
    Sample("POST", CI + "/staff/rules-diff/{aid:path}", P + "/staff/rules-diff/hw/hw2", EDITORS),
    Sample("POST", CI + "/staff/rules-save/{aid:path}", P + "/staff/rules-save/hw/hw2", EDITORS),
    Sample(
        "POST", CI + "/staff/rules-download/{aid:path}", P + "/staff/rules-download/hw/hw2", EDITORS
    ),
    Sample("GET", CI + "/staff/matrix", P + "/staff/matrix", STAFF),
    Sample("GET", CI + "/staff/matrix.csv", P + "/staff/matrix.csv", STAFF),
    Sample("GET", CI + "/staff/exceptions", P + "/staff/exceptions", STAFF),
    Sample("POST", CI + "/staff/exceptions", P + "/staff/exceptions", STAFF),
    Sample("GET", CI + "/staff/exceptions/{exception_id}", P + "/staff/exceptions/1", STAFF),
    Sample("POST", CI + "/staff/exceptions/{exception_id}", P + "/staff/exceptions/1", STAFF),
    Sample(
        "POST",
        CI + "/staff/exceptions/{exception_id}/remove",
        P + "/staff/exceptions/1/remove",
        STAFF,
    ),
    Sample("GET", CI + "/staff/extensions/new", P + "/staff/extensions/new", STAFF),
    Sample("POST", CI + "/staff/extensions/new", P + "/staff/extensions/new", STAFF),
    Sample("GET", CI + "/staff/students/{uid}", P + "/staff/students/ben@example.edu", STAFF),
    Sample("POST", CI + "/staff/view-as", P + "/staff/view-as", VIEWERS_AS),
    Sample("GET", CI + "/staff/roster", P + "/staff/roster", STAFF),
    Sample("POST", CI + "/staff/roster", P + "/staff/roster", ENROLLERS),
    Sample("POST", CI + "/staff/roster/code", P + "/staff/roster/code", ENROLLERS),
    # Freezing web access acts on a person's own account: administrators only (mau).
    Sample("POST", CI + "/staff/roster/account", P + "/staff/roster/account", frozenset({"admin"})),
    Sample("GET", CI + "/staff/sections", P + "/staff/sections", STAFF),
    Sample("POST", CI + "/staff/sections", P + "/staff/sections", ENROLLERS),
    Sample("POST", CI + "/staff/sections/members", P + "/staff/sections/members", ENROLLERS),
    Sample("GET", CI + "/staff/roles", P + "/staff/roles", STAFF),
    Sample("POST", CI + "/staff/roles/grant", P + "/staff/roles/grant", STAFF),
    Sample("POST", CI + "/staff/roles/revoke", P + "/staff/roles/revoke", STAFF),
    Sample("POST", CI + "/staff/roles/custom", P + "/staff/roles/custom", STAFF),
    Sample("GET", CI + "/staff/history", P + "/staff/history", STAFF),
]

if importlib.util.find_spec("coursegate.services.accounts") is not None:
    A = CI + "/staff/accounts"
    PA = P + "/staff/accounts"
    ADMINS = frozenset({"admin"})
    """Who administer class accounts (mau in the domain): the domain coordinator."""
    SAMPLES += [
        Sample("GET", A, PA, STAFF),
        Sample("POST", A + "/assign", PA + "/assign", ENROLLERS),
        Sample("POST", A + "/action", PA + "/action", STAFF),
        Sample("POST", A + "/recycle", PA + "/recycle", ENROLLERS),
        Sample("POST", A + "/lock", PA + "/lock", ENROLLERS),
        Sample("POST", A + "/end-date", PA + "/end-date", ENROLLERS),
        Sample("GET", "/admin/accounts", "/admin/accounts", ADMINS),
        Sample("POST", "/admin/accounts/stem", "/admin/accounts/stem", ADMINS),
        Sample("POST", "/admin/accounts/generate", "/admin/accounts/generate", ADMINS),
    ]
