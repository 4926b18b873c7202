"""Authorization-matrix samples: exam reservations (by the testing centre's id, and a course
instance's list)."""

from __future__ import annotations

from api_support import CI_PATH, INSTRUCTORS, STAFF, Sample

from coursegate.cli import demo_world as demo

CI = "/api/v1/courses/{course}/instances/{instance}"
ANA = demo.STUDENTS[0].uid
ONE = "/api/v1/reservations/{external_id:path}"
SLOT = {
    "uid": ANA,
    "exam_uuid": "d7fcbf5c-a803-4d7e-94bf-68e68fa3dc85",  # Sp24's exams/exam2 links it
    "access_start": "2024-02-27T10:00:00-06:00",
    "access_end": "2024-02-27T12:00:00-06:00",
}
NONE_YET = frozenset({403, 404})
"""A fresh demo world holds no reservation: cancelling or reading one is 404 for everyone (the
exam, hence the course instance whose privilege counts, is known from the record only)."""

SAMPLES = [
    # mrs in a course instance linking the exam: instructors (in, cc) and domain coordinators.
    Sample("PUT", ONE, "/api/v1/reservations/pt-matrix", INSTRUCTORS, json=SLOT),
    Sample("DELETE", ONE, "/api/v1/reservations/pt-matrix", INSTRUCTORS, denied=NONE_YET),
    Sample("GET", ONE, "/api/v1/reservations/pt-matrix", STAFF, denied=NONE_YET),
    Sample("GET", f"{CI}/reservations", f"{CI_PATH}/reservations", STAFF),
    Sample(
        "GET",
        f"{CI}/reservations",
        f"{CI_PATH}/reservations?uid={ANA}",
        STAFF | {"student"},
    ),
]
