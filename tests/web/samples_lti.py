"""Authorization-matrix samples for the LTI routes (run by tests/api/test_route_policies.py).
The login, launch, key set and configuration are public (an LMS and a browser that is not
signed in yet call them; the launch proves who it is with the platform's signature). The
platforms page is for administrators at the system level (``mau`` on ``/``): registering an
LMS decides who may sign in through it, which no persona of the demo holds — a domain
coordinator may not."""

from __future__ import annotations

from api_support import EVERYONE, SIGNED_IN, Sample

NOBODY: frozenset[str] = frozenset()

SAMPLES = [
    Sample("GET", "/lti/login", "/lti/login", EVERYONE),
    Sample("POST", "/lti/login", "/lti/login", EVERYONE),
    Sample("POST", "/lti/launch", "/lti/launch", EVERYONE),
    Sample("GET", "/lti/jwks", "/lti/jwks", EVERYONE),
    Sample("GET", "/lti/cookie-check", "/lti/cookie-check", EVERYONE),
    Sample("GET", "/lti/config.json", "/lti/config.json", EVERYONE),
    Sample("GET", "/lti/contexts/{context_id}", "/lti/contexts/1", SIGNED_IN),
    Sample("POST", "/lti/contexts/{context_id}", "/lti/contexts/1", SIGNED_IN),
    Sample("GET", "/lti/contexts/{context_id}/roster", "/lti/contexts/1/roster", SIGNED_IN),
    Sample("POST", "/lti/contexts/{context_id}/roster", "/lti/contexts/1/roster", SIGNED_IN),
    Sample(
        "GET",
        "/lti/contexts/{context_id}/roster/runs/{run_id}",
        "/lti/contexts/1/roster/runs/1",
        SIGNED_IN,
    ),
    Sample(
        "GET",
        "/lti/contexts/{context_id}/roster/runs/{run_id}.json",
        "/lti/contexts/1/roster/runs/1.json",
        SIGNED_IN,
    ),
    Sample("GET", "/lti/contexts/{context_id}/grades", "/lti/contexts/1/grades", SIGNED_IN),
    Sample("POST", "/lti/contexts/{context_id}/grades", "/lti/contexts/1/grades", SIGNED_IN),
    Sample("GET", "/lti/deep-linking/{request_id}", "/lti/deep-linking/1", SIGNED_IN),
    Sample("POST", "/lti/deep-linking/{request_id}", "/lti/deep-linking/1", SIGNED_IN),
    Sample("GET", "/admin/lti", "/admin/lti", NOBODY),
    Sample("POST", "/admin/lti", "/admin/lti", NOBODY),
    Sample("POST", "/admin/lti/rotate-key", "/admin/lti/rotate-key", NOBODY),
]
