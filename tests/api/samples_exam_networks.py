"""Authorization-matrix samples: testing-centre networks (administrators) and an instructor's
own switch to Exam mode."""

from __future__ import annotations

from api_support import Sample

from coursegate.cli import demo_world as demo

ADMINS = frozenset({"admin"})
"""``mau`` in the university's domain: its domain coordinator (the superuser is not a persona
of this matrix; the escalation table tries them)."""
NETWORK = {"name": "Matrix lab", "cidr": "192.0.2.0/24", "domain": demo.DOMAIN}

SAMPLES = [
    Sample("POST", "/api/v1/exam-networks", "/api/v1/exam-networks", ADMINS, json=NETWORK),
    Sample("GET", "/api/v1/exam-networks", "/api/v1/exam-networks", ADMINS),
    Sample(
        "DELETE",
        "/api/v1/exam-networks/{network_id}",
        "/api/v1/exam-networks/1",
        ADMINS,
    ),
    # in or cc somewhere: the instructor of the course, and the one of another course
    Sample(
        "POST",
        "/api/v1/session/mode",
        "/api/v1/session/mode",
        frozenset({"instructor", "other_instructor"}),
        json={"mode": "Exam"},
    ),
]
