"""Authorization-matrix samples: the history log (vhi)."""

from __future__ import annotations

from api_support import CI_PATH, STAFF, Sample

SAMPLES = [
    Sample(
        "GET",
        "/api/v1/courses/{course}/instances/{instance}/history",
        f"{CI_PATH}/history?action=role.&limit=5",
        STAFF,
    ),
]
