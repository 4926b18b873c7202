"""Authorization-matrix samples: students' exceptions (per student, bulk, per section)."""

from __future__ import annotations

from api_support import CI_PATH, Sample

from coursegate.cli import demo_world as demo

ANA, DAN = demo.STUDENTS[0].uid, demo.STUDENTS[3].uid
CI = "/api/v1/courses/{course}/instances/{instance}"
STAFF = frozenset({"ta", "instructor", "admin"})
DANS = 1
"""The id of the demo's one exception (Dan's extension on hw/hw2) in a fresh demo world."""
GRANT = {"target": "hw/hw1", "due": "2024-02-08T23:59", "reason": "matrix"}

SAMPLES = [
    Sample("GET", f"{CI}/exceptions", f"{CI_PATH}/exceptions", STAFF),
    # A student lists their own.
    Sample("GET", f"{CI}/exceptions", f"{CI_PATH}/exceptions?uid={ANA}", STAFF | {"student"}),
    Sample("POST", f"{CI}/exceptions", f"{CI_PATH}/exceptions", STAFF, json={"uid": ANA, **GRANT}),
    Sample(
        "POST",
        f"{CI}/exceptions/bulk",
        f"{CI_PATH}/exceptions/bulk",
        STAFF,
        json={"uids": f"{ANA} {DAN}", **GRANT},
    ),
    Sample("GET", f"{CI}/exceptions/{{exception_id}}", f"{CI_PATH}/exceptions/{DANS}", STAFF),
    Sample(
        "PATCH",
        f"{CI}/exceptions/{{exception_id}}",
        f"{CI_PATH}/exceptions/{DANS}",
        STAFF,
        json={"version": 1, "due": "2024-02-11T23:59", "reason": "matrix"},
    ),
    Sample(
        "DELETE",
        f"{CI}/exceptions/{{exception_id}}",
        f"{CI_PATH}/exceptions/{DANS}?version=1&reason=matrix",
        STAFF,
    ),
    Sample(
        "POST",
        f"{CI}/sections/{{section}}/exceptions",
        f"{CI_PATH}/sections/lab-b/exceptions",
        STAFF,
        json=GRANT,
    ),
    Sample(
        "PATCH",
        f"{CI}/sections/{{section}}/exceptions",
        f"{CI_PATH}/sections/lab-b/exceptions",
        STAFF,
        json={"target": "hw/hw2", "credit": 100, "reason": "matrix"},
    ),
    Sample(
        "DELETE",
        f"{CI}/sections/{{section}}/exceptions",
        f"{CI_PATH}/sections/lab-b/exceptions?target=hw/hw2&reason=matrix",
        STAFF,
    ),
]
