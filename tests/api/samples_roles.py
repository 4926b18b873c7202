"""Authorization-matrix samples: who holds what, grants and revocations (course instance and
domain forms), custom roles."""

from __future__ import annotations

from api_support import CI_PATH, SIGNED_IN, STAFF, Sample

from coursegate.cli import demo_world as demo

CI = "/api/v1/courses/{course}/instances/{instance}"
DAN = demo.STUDENTS[3].uid
ANA = demo.STUDENTS[0].uid
DOMAIN = f"/api/v1/domains/{demo.DOMAIN}/roles"

SAMPLES = [
    Sample("GET", f"{CI}/roles", f"{CI_PATH}/roles", STAFF),
    # Granting a TA role needs cta (course coordinators; domain coordinators on the user's
    # domain). The instructor grants it (201); the administrator then finds it held (409).
    Sample(
        "POST",
        f"{CI}/roles",
        f"{CI_PATH}/roles",
        frozenset({"instructor", "admin"}),
        json={"uid": DAN, "role": "ta", "reason": "matrix"},
    ),
    # Revoking the demo TA's role: the instructor ends it (200), the administrator then finds
    # nothing left to end (409); the TA may not revoke it (no cta).
    Sample(
        "POST",
        f"{CI}/roles/revocations",
        f"{CI_PATH}/roles/revocations",
        frozenset({"instructor", "admin"}),
        json={"uid": demo.TA.uid, "role": "ta", "reason": "matrix"},
    ),
    Sample("GET", "/api/v1/domains/{domain}/roles", DOMAIN, frozenset({"admin"})),
    Sample(
        "POST",
        "/api/v1/domains/{domain}/roles",
        DOMAIN,
        frozenset({"admin"}),
        json={"uid": ANA, "role": "dg"},
    ),
    # Ana never held dg: the administrator (who may revoke it) gets 409, everyone else 403.
    Sample(
        "POST",
        "/api/v1/domains/{domain}/roles/revocations",
        f"{DOMAIN}/revocations",
        frozenset({"admin"}),
        json={"uid": ANA, "role": "dg"},
    ),
    Sample("GET", "/api/v1/custom-roles", "/api/v1/custom-roles", SIGNED_IN),
    # mcr: course coordinators hold it system wide; a domain coordinator does not.
    Sample(
        "PUT",
        "/api/v1/custom-roles/{name}",
        "/api/v1/custom-roles/grader",
        frozenset({"instructor"}),
        json={"course": "bre&R:vgr&SCR"},
    ),
]
