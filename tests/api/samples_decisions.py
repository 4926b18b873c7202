"""Authorization-matrix samples: decisions (one, batch), the matrix, a student's assessments,
one's courses, and the calendar link and feed."""

from __future__ import annotations

from api_support import CI_PATH, COURSE, EVERYONE, INSTANCE, SIGNED_IN, STAFF, Sample

from coursegate.cli import demo_world as demo

ANA = demo.STUDENTS[0]
"""The ``student`` persona: asking about herself is allowed, about anyone else not."""
ABOUT_ANA = frozenset({"student", "ta", "instructor", "admin"})

SAMPLES = [
    # One decision about ana: herself and the staff of Sp24 (vst) may; the instructor of
    # another course instance may not.
    Sample(
        "POST",
        "/api/v1/decisions",
        "/api/v1/decisions",
        ABOUT_ANA,
        json={
            "course": COURSE,
            "course_instance": INSTANCE,
            "assessment": "hw/hw1",
            "user": {"uid": ANA.uid},
        },
    ),
    # A batch always answers 200: a refused item is an error item, not a refused batch.
    Sample(
        "POST",
        "/api/v1/decisions/batch",
        "/api/v1/decisions/batch",
        SIGNED_IN,
        json={
            "requests": [
                {"course": COURSE, "course_instance": INSTANCE, "assessment": "hw/hw1"},
                {"course": COURSE, "course_instance": INSTANCE, "user": {"uid": ANA.uid}},
            ]
        },
    ),
    Sample(
        "GET",
        "/api/v1/courses/{course}/instances/{instance}/matrix",
        f"{CI_PATH}/matrix",
        STAFF,
    ),
    Sample(
        "GET",
        "/api/v1/courses/{course}/instances/{instance}/students/{uid}/assessments",
        f"{CI_PATH}/students/{ANA.uid}/assessments",
        ABOUT_ANA,
    ),
    Sample("GET", "/api/v1/me/courses", "/api/v1/me/courses", SIGNED_IN),
    Sample(
        "GET",
        "/api/v1/courses/{course}/instances/{instance}/students/{uid}/calendar-link",
        f"{CI_PATH}/students/{ANA.uid}/calendar-link",
        ABOUT_ANA,
    ),
    # Public: the link is the credential. A made-up token is a 404 for everyone.
    Sample("GET", "/api/v1/calendar/{token}.ics", "/api/v1/calendar/1.1.not-a-token.ics", EVERYONE),
]
