"""Authorization-matrix samples: signing in, sessions, tokens, passwords, view-as."""

from __future__ import annotations

from api_support import CI_PATH, EVERYONE, SIGNED_IN, Sample

from coursegate.cli import demo_world as demo

ANA = demo.STUDENTS[0]
BEN = demo.STUDENTS[1]

SAMPLES = [
    Sample("GET", "/api/v1/health", "/api/v1/health", EVERYONE),
    Sample(
        "POST",
        "/api/v1/session",
        "/api/v1/session",
        EVERYONE,
        json={"uid": demo.TA.uid, "password": demo.TA.password},
    ),
    Sample("GET", "/api/v1/session", "/api/v1/session", SIGNED_IN),
    Sample("DELETE", "/api/v1/session", "/api/v1/session", SIGNED_IN),
    Sample("GET", "/api/v1/sessions", "/api/v1/sessions", SIGNED_IN),
    # Someone else's (or no) session id: one's own list only, so 404 for everyone signed in.
    Sample("DELETE", "/api/v1/sessions/{session_id}", "/api/v1/sessions/999999", SIGNED_IN),
    Sample("POST", "/api/v1/tokens", "/api/v1/tokens", SIGNED_IN, json={"name": "matrix"}),
    Sample("GET", "/api/v1/tokens", "/api/v1/tokens", SIGNED_IN),
    Sample("DELETE", "/api/v1/tokens/{token_id}", "/api/v1/tokens/999999", SIGNED_IN),
    # Setting a student's password: ana sets ben's here. Only ben (with his current password),
    # his domain coordinator or a superuser may — never course staff.
    Sample(
        "PUT",
        "/api/v1/users/{uid}/password",
        f"/api/v1/users/{BEN.uid}/password",
        frozenset({"admin"}),
        json={"password": "a-new-password-1"},
    ),
    Sample(
        "POST",
        "/api/v1/courses/{course}/instances/{instance}/view-as",
        f"{CI_PATH}/view-as",
        frozenset({"ta", "instructor"}),
        json={"uid": BEN.uid},
    ),
    Sample("DELETE", "/api/v1/view-as", "/api/v1/view-as", SIGNED_IN),
]
