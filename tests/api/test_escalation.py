"""The escalation matrix: who may do what, to whom — every route that changes something or
reveals a secret, tried by every persona, also while viewing as someone.

One table (:data:`ESCALATION`) declares, for each such route, its **target** (whose thing it
touches) and **who may** — every other persona must be refused. The requests are the routes'
authorization samples (``samples_*.py``), aimed at a student of the course (Ben) or at the
course itself unless a row says otherwise. Adding a route that writes (any method but GET), or
a GET route whose policy says it reveals a secret, without a row here fails
:func:`test_every_writing_or_secret_route_has_a_row`.

Personas (codes used in the table):

====  =============================================================================
A     anonymous
S     a student of the course (Ana)
T     a TA of the course
I     an instructor (and course coordinator) of the course
O     an instructor of another course instance only
D     a domain coordinator of the university's domain
R     a superuser (root: the whole system)
IS    the instructor, viewing the course as Ana
IT    the instructor, viewing the course as the TA
TS    the TA, viewing the course as Ana
====  =============================================================================

Refused means 401 for anonymous (pages: a redirect to the sign-in page), and 403 or 404 for
everyone signed in (404 where the service hides what the caller may not see). Allowed means
anything but 401/403 and never a server error.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass

import pytest
from api_support import CI_PATH, Sample, World
from fastapi.testclient import TestClient
from test_route_policies import SAMPLES as ALL_SAMPLES
from test_route_policies import _app
from test_route_policies import _routes as all_routes

from coursegate.cli import demo_world as demo
from coursegate.http.policy import POLICIES, Policy

CODES = ("A", "S", "T", "I", "O", "D", "R", "IS", "IT", "TS")


@dataclass(frozen=True)
class Row:
    target: str
    """Whose thing the route touches: ``self`` (the caller's own), ``person`` (someone's own
    account), ``course`` (what the course owns: enrollments, exceptions, sections, roles,
    attempts, reservations, its class accounts), ``domain``, ``system``, ``public``."""
    may: str
    """The persona codes allowed (space-separated); everyone else is refused."""
    request: Sample | None = None
    """A request other than the route's authorization sample (e.g. aimed at an
    administrator, to prove course staff cannot reach them)."""

    @property
    def allowed(self) -> frozenset[str]:
        return frozenset(self.may.split())


CI = "/api/v1/courses/{course}/instances/{instance}"
P = "/courses/{course}/instances/{instance}"

ESCALATION: dict[tuple[str, str], Row] = {
    # -- public ----------------------------------------------------------------------------------
    ("DELETE", "/api/v1/session"): Row("public", "S T I O D R IS IT TS"),
    ("POST", "/api/v1/session"): Row("public", "A S T I O D R IS IT TS"),
    ("POST", "/sign-in"): Row("public", "A S T I O D R IS IT TS"),
    # -- self ------------------------------------------------------------------------------------
    ("DELETE", "/api/v1/sessions/{session_id}"): Row("self", "S T I O D R"),
    ("DELETE", "/api/v1/ssh-keys/{key_id}"): Row("self", "S T I O D R"),
    ("DELETE", "/api/v1/tokens/{token_id}"): Row("self", "S T I O D R"),
    ("DELETE", "/api/v1/view-as"): Row("self", "S T I O D R IS IT TS"),
    ("POST", CI + "/attempts"): Row("self", "S T I O D R"),
    ("POST", CI + "/attempts/{attempt_id}/close"): Row("self", "I"),
    ("POST", CI + "/attempts/{attempt_id}/submissions"): Row("self", ""),
    ("POST", CI + "/invitation/accept"): Row("self", "S T I O D R"),
    ("POST", CI + "/self-enrollment"): Row("self", "S T I O D R"),
    ("POST", "/api/v1/ssh-keys"): Row("self", "S T I O D R"),
    ("POST", "/api/v1/tokens"): Row("self", "S T I O D R"),
    ("POST", P + "/attempts/{attempt_id}/close"): Row("self", "S T I O D R"),
    ("POST", P + "/attempts/{attempt_id}/submit"): Row("self", "S T I O D R"),
    ("POST", P + "/start/{aid:path}"): Row("self", "S T I O D R"),
    ("POST", "/sign-out"): Row("self", "S T I O D R IS IT TS"),
    ("POST", "/api/v1/session/mode"): Row("self", "I O"),
    ("POST", "/session/mode"): Row("self", "I O"),
    ("POST", "/view-as/stop"): Row("self", "S T I O D R IS IT TS"),
    # -- person ----------------------------------------------------------------------------------
    ("POST", "/api/v1/users/{uid}/freeze"): Row("person", "D R"),
    ("POST", "/api/v1/users/{uid}/thaw"): Row("person", "D R"),
    ("PUT", "/api/v1/users/{uid}/email"): Row("person", "D R"),
    ("PUT", "/api/v1/users/{uid}/password"): Row("person", "D R"),
    # -- domain ----------------------------------------------------------------------------------
    ("POST", "/api/v1/domains/{domain}/roles"): Row("domain", "D"),
    ("POST", "/api/v1/domains/{domain}/roles/revocations"): Row("domain", "D"),
    ("POST", "/api/v1/users"): Row("domain", "D R"),
    ("POST", "/api/v1/users/import"): Row("domain", "D R"),
    ("PUT", "/api/v1/custom-roles/{name}"): Row("domain", "I"),
    ("POST", "/api/v1/exam-networks"): Row("domain", "D R"),
    ("DELETE", "/api/v1/exam-networks/{network_id}"): Row("domain", "D R"),
    # -- system ----------------------------------------------------------------------------------
    ("POST", "/admin/accounts/generate"): Row("system", "D R"),
    ("POST", "/admin/accounts/stem"): Row("system", "D R"),
    ("POST", "/api/v1/courses/{course}/account-pool"): Row("system", "D R"),
    ("POST", "/api/v1/courses/{course}/account-stems"): Row("system", "D R"),
    # -- secrets the course holds: read by the course's staff (and the student their own) ----
    ("GET", CI + "/enrollment-code"): Row("course", "I D"),
    ("GET", CI + "/account-outbox/{mail_id}"): Row("course", "I D"),
    ("GET", CI + "/exceptions"): Row("course", "S T I D IS IT TS"),
    ("GET", CI + "/exceptions/{exception_id}"): Row("course", "T I D IT"),
    ("GET", CI + "/students/{uid}/calendar-link"): Row("person", "S T I D IS IT TS"),
    # -- the administrators' sign-in page: web freezes and throttles -------------------------
    ("POST", "/admin/sign-ins/account"): Row("person", "D R"),
    ("POST", "/admin/sign-ins/throttle"): Row("system", "D R"),
    # -- LMS platforms (LTI): registering one decides who may sign in through it -------------
    ("POST", "/admin/lti"): Row("system", "R"),
    ("POST", "/api/v1/lti/platforms"): Row("system", "R"),
    ("POST", "/api/v1/lti/platforms/{platform_id}/deployments"): Row("system", "R"),
    ("POST", "/api/v1/lti/keys/rotate"): Row("system", "R"),
    ("POST", "/admin/lti/rotate-key"): Row("system", "R"),
    ("POST", "/lti/login"): Row("public", "A S T I O D R IS IT TS"),
    ("POST", "/lti/launch"): Row("public", "A S T I O D R IS IT TS"),
    ("POST", "/lti/contexts/{context_id}"): Row("self", "S T I O D R"),
    # the roster sync checks men in the linked course instance (tests/lti/test_lti_roster.py);
    # here, with no linked LMS course, everyone signed in is told there is none (404)
    ("POST", "/lti/contexts/{context_id}/roster"): Row("course", "S T I O D R"),
    # a roster sync's run (its page and its progress, the names and addresses of the LMS's
    # members) is shown only to those with men there (tests/lti/test_lti_roster_progress.py)
    ("GET", "/lti/contexts/{context_id}/roster/runs/{run_id}"): Row("course", "S T I O D R"),
    ("GET", "/lti/contexts/{context_id}/roster/runs/{run_id}.json"): Row("course", "S T I O D R"),
    # scores to the LMS check mgr in the linked course instance (tests/lti/test_lti_grades.py)
    ("POST", "/lti/contexts/{context_id}/grades"): Row("course", "S T I O D R"),
    # deep linking answers only the caller's own request, with mgr (test_lti_deep_linking.py)
    ("POST", "/lti/deep-linking/{request_id}"): Row("self", "S T I O D R"),
    # -- course ----------------------------------------------------------------------------------
    ("DELETE", CI + "/accounts/{account}"): Row("course", "I D"),
    ("DELETE", CI + "/accounts/{account}/incomplete"): Row("course", "T I D"),
    ("DELETE", CI + "/exceptions/{exception_id}"): Row("course", "T I D"),
    ("DELETE", CI + "/sections/{section}"): Row("course", "I D"),
    ("DELETE", CI + "/sections/{section}/exceptions"): Row("course", "T I D"),
    ("DELETE", CI + "/sections/{section}/members/{uid}"): Row("course", "I D"),
    ("DELETE", "/api/v1/reservations/{external_id:path}"): Row("course", "I D"),
    ("PATCH", CI + "/exceptions/{exception_id}"): Row("course", "T I D"),
    ("PATCH", CI + "/sections/{section}"): Row("course", "I D"),
    ("PATCH", CI + "/sections/{section}/exceptions"): Row("course", "T I D"),
    ("POST", CI + "/accounts"): Row("course", "I D"),
    ("POST", CI + "/accounts/lock"): Row("course", "I D"),
    ("POST", CI + "/accounts/unlock"): Row("course", "I D"),
    ("POST", CI + "/accounts/wipe"): Row("course", "I D"),
    ("POST", CI + "/accounts/{account}/freeze"): Row("course", "T I D"),
    ("POST", CI + "/accounts/{account}/resend"): Row("course", "T I D"),
    ("POST", CI + "/accounts/{account}/reset-keys"): Row("course", "T I D"),
    ("POST", CI + "/accounts/{account}/reset-password"): Row("course", "T I D"),
    ("POST", CI + "/accounts/{account}/thaw"): Row("course", "T I D"),
    ("POST", CI + "/enrollments"): Row("course", "I D"),
    ("POST", CI + "/enrollments/{uid}/block"): Row("course", "I D"),
    ("POST", CI + "/enrollments/{uid}/unblock"): Row("course", "I D"),
    ("POST", CI + "/exceptions"): Row("course", "T I D"),
    ("POST", CI + "/exceptions/bulk"): Row("course", "T I D"),
    ("POST", CI + "/invitations"): Row("course", "I D"),
    ("POST", CI + "/roles"): Row("course", "I D"),
    ("POST", CI + "/roles/revocations"): Row("course", "I D"),
    ("POST", CI + "/section-memberships/import"): Row("course", "I D"),
    ("POST", CI + "/sections"): Row("course", "I D"),
    ("POST", CI + "/sections/{section}/exceptions"): Row("course", "T I D"),
    ("POST", CI + "/view-as"): Row("course", "T I"),
    ("POST", "/api/v1/decisions"): Row("course", "S T I D IS IT TS"),
    ("POST", "/api/v1/decisions/batch"): Row("course", "S T I O D R IS IT TS"),
    ("POST", P + "/staff/accounts/action"): Row("course", "T I D"),
    ("POST", P + "/staff/accounts/assign"): Row("course", "I D"),
    ("POST", P + "/staff/accounts/end-date"): Row("course", "I D"),
    ("POST", P + "/staff/accounts/lock"): Row("course", "I D"),
    ("POST", P + "/staff/accounts/recycle"): Row("course", "I D"),
    ("POST", P + "/staff/exceptions"): Row("course", "T I D"),
    ("POST", P + "/staff/extensions/new"): Row("course", "T I D"),
    ("POST", P + "/staff/exceptions/{exception_id}"): Row("course", "T I D"),
    ("POST", P + "/staff/exceptions/{exception_id}/remove"): Row("course", "T I D"),
    ("POST", P + "/staff/roles/custom"): Row("course", "T I D"),
    ("POST", P + "/staff/roles/grant"): Row("course", "T I D"),
    ("POST", P + "/staff/roles/revoke"): Row("course", "T I D"),
    ("POST", P + "/staff/roster"): Row("course", "I D"),
    ("POST", P + "/staff/roster/account"): Row("person", "D"),
    ("POST", P + "/staff/roster/code"): Row("course", "I D"),
    ("POST", P + "/staff/rules/{aid:path}"): Row("course", "I"),
    ("POST", P + "/staff/rules-diff/{aid:path}"): Row("course", "I"),
    ("POST", P + "/staff/rules-save/{aid:path}"): Row("course", "I"),
    ("POST", P + "/staff/rules-download/{aid:path}"): Row("course", "I"),
    ("POST", P + "/staff/sections"): Row("course", "I D"),
    ("POST", P + "/staff/sections/members"): Row("course", "I D"),
    ("POST", P + "/staff/view-as"): Row("course", "T I"),
    ("PUT", CI + "/account-schedule"): Row("course", "I D"),
    ("PUT", CI + "/accounts/{account}/email"): Row("course", "T I D"),
    ("PUT", CI + "/accounts/{account}/incomplete"): Row("course", "T I D"),
    ("PUT", CI + "/enrollment-code"): Row("course", "I D"),
    ("PUT", CI + "/sections/{section}/members/{uid}"): Row("course", "I D"),
    ("PUT", "/api/v1/reservations/{external_id:path}"): Row("course", "I D"),
}
"""The one table: every route that changes something or reveals a secret."""


SAMPLES: dict[tuple[str, str], Sample] = {(s.method, s.route): s for s in ALL_SAMPLES}
"""The routes' authorization samples (``samples_*.py``), by (method, route)."""


def _routes() -> dict[tuple[str, str], Policy]:
    out: dict[tuple[str, str], Policy] = {}
    for r in all_routes(_app()):
        for m in sorted(r.methods - {"HEAD"}):
            out[(m, r.path)] = POLICIES[r.endpoint]
    return out


def _needs_row(method: str, policy: Policy) -> bool:
    return method != "GET" or policy.secret


def test_every_writing_or_secret_route_has_a_row() -> None:
    routes = _routes()
    missing = sorted(k for k, p in routes.items() if _needs_row(k[0], p) and k not in ESCALATION)
    assert not missing, "routes without a row in ESCALATION: " + ", ".join(
        f"{m} {r}" for m, r in missing
    )
    stale = sorted(k for k in ESCALATION if k not in routes)
    assert not stale, "rows of routes that do not exist: " + ", ".join(f"{m} {r}" for m, r in stale)
    for key, row in ESCALATION.items():
        assert row.allowed <= set(CODES), f"{key}: unknown persona in {row.may!r}"


# -- the personas ------------------------------------------------------------------------------

ANA = demo.STUDENTS[0]


def _client(world: World, code: str) -> TestClient:
    if code == "A":
        return TestClient(world.app, base_url="https://testserver")
    plain = {
        "S": ANA,
        "T": demo.TA,
        "I": demo.INSTRUCTOR,
        "O": demo.OTHER_INSTRUCTOR,
        "D": demo.ADMIN,
        "R": demo.SUPERUSER,
    }
    if code in plain:
        user = plain[code]
        return world.sign_in(user.uid, user.password)
    real, target = {"IS": (demo.INSTRUCTOR, ANA), "IT": (demo.INSTRUCTOR, demo.TA)}.get(
        code, (demo.TA, ANA)
    )
    c = world.sign_in(real.uid, real.password)
    r = c.post(f"{CI_PATH}/view-as", json={"uid": target.uid})
    assert r.status_code == 200, f"{code}: view-as failed: {r.status_code} {r.text}"
    return c


ORDER = ("A", "O", "S", "IS", "IT", "TS", "T", "I", "D", "R")
"""Refused personas first: an allowed change (a DELETE) must not hide a refusal."""


def _status(world: World, code: str, s: Sample) -> int:
    c = _client(world, code)
    r = c.request(s.method, s.path, json=s.json, headers=s.headers, follow_redirects=False)
    return r.status_code


ROWS = sorted(ESCALATION.items())


@pytest.mark.parametrize(("key", "row"), ROWS, ids=[f"{m} {r}" for (m, r), _ in ROWS])
def test_escalation_matrix(world: World, key: tuple[str, str], row: Row) -> None:
    sample = row.request or SAMPLES.get(key)
    assert sample is not None, f"{key}: no authorization sample and no request in the row"
    page = not key[1].startswith("/api/")
    wrong: list[str] = []
    for code in sorted(CODES, key=lambda c: (c in row.allowed, ORDER.index(c))):
        status = _status(world, code, copy.copy(sample))
        if code in row.allowed:
            ok = status not in (401, 403) and status < 500
        elif code == "A":
            ok = status in ({303} if page else {401})
        else:
            ok = status in (403, 404)
        if not ok:
            wrong.append(f"{code}: {status}")
    assert not wrong, f"{key[0]} {sample.path} ({row.target}; may: {row.may}): " + ", ".join(wrong)


if os.environ.get("COURSEGATE_OBSERVE_ESCALATION") == "1":
    OBSERVE = sorted(k for k, p in _routes().items() if _needs_row(k[0], p) and k in SAMPLES)

    @pytest.mark.parametrize("key", OBSERVE, ids=[f"{m} {r}" for m, r in OBSERVE])
    def test_observe(world: World, key: tuple[str, str]) -> None:
        """A tool for filling the table, not a check: which personas the code lets through
        now, on a fresh world per route. Run with ``COURSEGATE_OBSERVE_ESCALATION=1
        pytest tests/api/test_escalation.py -k observe -s``."""
        codes = []
        for code in sorted(CODES, key=ORDER.index):
            status = _status(world, code, SAMPLES[key])
            if status not in (401, 403, 404) and not (code == "A" and status == 303):
                codes.append(code if status < 500 else f"{code}!{status}")
        print(f"\nOBSERVED {key[0]:6} {key[1]:80} {' '.join(codes)}")
