"""Authorization-matrix samples: assessment instances (attempts)."""

from __future__ import annotations

from api_support import CI_PATH, SIGNED_IN, STAFF, Sample

from coursegate.cli import demo_world as demo

CI = "/api/v1/courses/{course}/instances/{instance}"
ANA = demo.STUDENTS[0].uid
NONE_YET = frozenset({403, 404})
"""A fresh demo world holds no attempt: reading, submitting or closing attempt 1 is 404."""

SAMPLES = [
    # On the demo evening hw1 is open to everyone who reaches Sp24, and the course instance
    # admits every user of the institution while self-enrollment is open: the decision core
    # lets each signed-in persona start their own attempt.
    Sample(
        "POST", f"{CI}/attempts", f"{CI_PATH}/attempts", SIGNED_IN, json={"assessment": "hw/hw1"}
    ),
    Sample("GET", f"{CI}/attempts", f"{CI_PATH}/attempts", STAFF),
    Sample("GET", f"{CI}/attempts", f"{CI_PATH}/attempts?uid={ANA}", STAFF | {"student"}),
    Sample("GET", f"{CI}/attempts/{{attempt_id}}", f"{CI_PATH}/attempts/1", STAFF, denied=NONE_YET),
    # Only the attempt's student submits; nobody here owns attempt 1.
    Sample(
        "POST",
        f"{CI}/attempts/{{attempt_id}}/submissions",
        f"{CI_PATH}/attempts/1/submissions",
        frozenset(),
        json={"points": 1, "max_points": 2},
        denied=NONE_YET,
    ),
    # The student's own, or mgr (the instructor).
    Sample(
        "POST",
        f"{CI}/attempts/{{attempt_id}}/close",
        f"{CI_PATH}/attempts/1/close",
        frozenset({"instructor"}),
        json={},
        denied=NONE_YET,
    ),
]
