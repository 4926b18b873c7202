"""Authorization-matrix samples: creating, importing and reading users, correcting an email,
freezing and thawing. The routes are open to signed-in users; the users service checks the
privilege where it belongs (``mau`` in the domain for creating users and for acting on a
person's own account; ``vst`` over a student for reading their record)."""

from __future__ import annotations

from api_support import Sample

from coursegate.cli import demo_world as demo

BEN = demo.STUDENTS[1].uid
STAFF_OVER_BEN = frozenset({"ta", "instructor", "admin"})
ADMIN = frozenset({"admin"})

SAMPLES = [
    Sample(
        "POST",
        "/api/v1/users",
        "/api/v1/users",
        ADMIN,
        json={"uid": "matrix@example.edu", "name": "Matrix", "email": "matrix@example.edu"},
    ),
    Sample(
        "POST",
        "/api/v1/users/import",
        "/api/v1/users/import",
        ADMIN,
        json={"csv": "uid,name,email\nmatrix@example.edu,Matrix,matrix@example.edu\n"},
    ),
    # Ana (the student persona) may read only herself; Ben is the TA's and instructor's student.
    Sample("GET", "/api/v1/users/{uid}", f"/api/v1/users/{BEN}", STAFF_OVER_BEN),
    # Ben's own account (email, web access) is his, his domain coordinator's or an
    # administrator's: never his course's staff.
    Sample(
        "PUT",
        "/api/v1/users/{uid}/email",
        f"/api/v1/users/{BEN}/email",
        ADMIN,
        json={"email": "ben.brown@example.edu"},
    ),
    Sample("POST", "/api/v1/users/{uid}/freeze", f"/api/v1/users/{BEN}/freeze", ADMIN),
    Sample("POST", "/api/v1/users/{uid}/thaw", f"/api/v1/users/{BEN}/thaw", ADMIN),
]
