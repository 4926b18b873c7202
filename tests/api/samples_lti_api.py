"""Authorization-matrix samples for the LMS platforms API: administrators at the system level
only (``mau`` on ``/``), which no persona of the matrix holds — a domain coordinator may not
(the superuser may: tests/lti/test_lti_api.py and the escalation table)."""

from __future__ import annotations

from api_support import Sample

NOBODY: frozenset[str] = frozenset()
PLATFORM = {
    "name": "Canvas",
    "issuer": "https://canvas.instructure.com",
    "client_id": "1",
    "auth_url": "https://sso.canvaslms.com/api/lti/authorize_redirect",
    "token_url": "https://sso.canvaslms.com/login/oauth2/token",
    "jwks_url": "https://sso.canvaslms.com/api/lti/security/jwks",
    "domain": "exampleuniversity",
}

SAMPLES = [
    Sample("GET", "/api/v1/lti/platforms", "/api/v1/lti/platforms", NOBODY),
    Sample("POST", "/api/v1/lti/platforms", "/api/v1/lti/platforms", NOBODY, json=PLATFORM),
    Sample(
        "POST",
        "/api/v1/lti/platforms/{platform_id}/deployments",
        "/api/v1/lti/platforms/1/deployments",
        NOBODY,
        json={"deployment_id": "d-1"},
    ),
    Sample("POST", "/api/v1/lti/keys/rotate", "/api/v1/lti/keys/rotate", NOBODY),
]
