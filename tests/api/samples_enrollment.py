"""Authorization-matrix samples: sections, memberships, the roster, enrollments, invitations,
self-enrollment and the enrollment code."""

from __future__ import annotations

from api_support import CI_PATH, SIGNED_IN, Sample

from coursegate.cli import demo_world as demo

ANA, DAN = demo.STUDENTS[0].uid, demo.STUDENTS[3].uid
CI = "/api/v1/courses/{course}/instances/{instance}"
VIEWERS = frozenset({"ta", "instructor", "admin"})
MANAGERS = frozenset({"instructor", "admin"})
"""``men``: course coordinators, instructors and domain coordinators — not TAs."""

SAMPLES = [
    Sample("GET", f"{CI}/sections", f"{CI_PATH}/sections", VIEWERS),
    Sample("POST", f"{CI}/sections", f"{CI_PATH}/sections", MANAGERS, json={"name": "matrix"}),
    # Sections named in the course files are not renamed or deleted here (422 for managers).
    Sample(
        "PATCH",
        f"{CI}/sections/{{section}}",
        f"{CI_PATH}/sections/makeup",
        MANAGERS,
        json={"name": "make-up"},
    ),
    Sample("DELETE", f"{CI}/sections/{{section}}", f"{CI_PATH}/sections/makeup", MANAGERS),
    Sample(
        "PUT",
        f"{CI}/sections/{{section}}/members/{{uid}}",
        f"{CI_PATH}/sections/lab-a/members/{DAN}",
        MANAGERS,
    ),
    Sample(
        "DELETE",
        f"{CI}/sections/{{section}}/members/{{uid}}",
        f"{CI_PATH}/sections/lab-a/members/{ANA}",
        MANAGERS,
    ),
    Sample(
        "POST",
        f"{CI}/section-memberships/import",
        f"{CI_PATH}/section-memberships/import",
        MANAGERS,
        json={"csv": f"uid,section\n{DAN},lab-a\n"},
    ),
    Sample("GET", f"{CI}/enrollments", f"{CI_PATH}/enrollments", VIEWERS),
    Sample("POST", f"{CI}/enrollments", f"{CI_PATH}/enrollments", MANAGERS, json={"uid": DAN}),
    Sample(
        "POST",
        f"{CI}/invitations",
        f"{CI_PATH}/invitations",
        MANAGERS,
        json={"uid": demo.OTHER_INSTRUCTOR.uid},
    ),
    Sample(
        "POST",
        f"{CI}/enrollments/{{uid}}/block",
        f"{CI_PATH}/enrollments/{DAN}/block",
        MANAGERS,
        json={"reason": "matrix"},
    ),
    Sample(
        "POST",
        f"{CI}/enrollments/{{uid}}/unblock",
        f"{CI_PATH}/enrollments/{DAN}/unblock",
        MANAGERS,
        json={},
    ),
    # Anyone signed in may try; the service answers (no invitation: 422).
    Sample("POST", f"{CI}/invitation/accept", f"{CI_PATH}/invitation/accept", SIGNED_IN),
    # Anyone signed in may try; the decision core decides (Sp24 is open until Feb 1).
    Sample("POST", f"{CI}/self-enrollment", f"{CI_PATH}/self-enrollment", SIGNED_IN, json={}),
    Sample("GET", f"{CI}/enrollment-code", f"{CI_PATH}/enrollment-code", MANAGERS),
    Sample("PUT", f"{CI}/enrollment-code", f"{CI_PATH}/enrollment-code", MANAGERS, json={}),
]
