"""Authorization-matrix samples: class accounts.

The demo world has no class accounts, so the per-account samples name ``sc558aa``, which does
not exist: the personas allowed by the route's policy get 404 (neither 401 nor 403), the others
the policy's 403. ``tests/api/test_accounts_api.py`` exercises the same routes on real
accounts, including the ranks (a TA never acts over a TA's account)."""

from __future__ import annotations

from api_support import CI_PATH, SIGNED_IN, Sample

MUS = frozenset({"ta", "instructor", "admin"})
"""``mus`` in CG 101 Sp24: its TA, its instructor, the domain coordinator."""
MEN = frozenset({"instructor", "admin"})
"""``men`` in CG 101 Sp24: its instructor, the domain coordinator."""
MAU = frozenset({"admin"})
"""``mau`` in the domain: the domain coordinator."""

CI = "/api/v1/courses/{course}/instances/{instance}"
ACCOUNT = CI + "/accounts/{account}"
ONE = f"{CI_PATH}/accounts/sc558aa"

SAMPLES = [
    Sample("GET", CI + "/accounts", f"{CI_PATH}/accounts", MUS),
    Sample(
        "POST",
        CI + "/accounts",
        f"{CI_PATH}/accounts",
        MEN,
        json={"emails": "matrix@school.edu\n"},
    ),
    Sample("POST", CI + "/accounts/lock", f"{CI_PATH}/accounts/lock", MEN, json={}),
    Sample("POST", CI + "/accounts/unlock", f"{CI_PATH}/accounts/unlock", MEN, json={}),
    Sample("POST", CI + "/accounts/wipe", f"{CI_PATH}/accounts/wipe", MEN, json={"all": True}),
    Sample("GET", CI + "/account-schedule", f"{CI_PATH}/account-schedule", MUS),
    Sample(
        "PUT",
        CI + "/account-schedule",
        f"{CI_PATH}/account-schedule",
        MEN,
        json={"end": "2024-05-31T23:59:00"},
    ),
    Sample("GET", CI + "/account-outbox", f"{CI_PATH}/account-outbox", MEN),
    Sample("GET", CI + "/account-outbox/{mail_id}", f"{CI_PATH}/account-outbox/999999", MEN),
    Sample("GET", ACCOUNT, ONE, MUS),
    Sample("DELETE", ACCOUNT, ONE, MEN),
    Sample("POST", ACCOUNT + "/reset-password", f"{ONE}/reset-password", MUS, json={}),
    Sample("POST", ACCOUNT + "/reset-keys", f"{ONE}/reset-keys", MUS, json={}),
    Sample("POST", ACCOUNT + "/resend", f"{ONE}/resend", MUS, json={}),
    Sample("POST", ACCOUNT + "/freeze", f"{ONE}/freeze", MUS, json={}),
    Sample("POST", ACCOUNT + "/thaw", f"{ONE}/thaw", MUS, json={}),
    Sample("PUT", ACCOUNT + "/email", f"{ONE}/email", MUS, json={"email": "a@school.edu"}),
    Sample("PUT", ACCOUNT + "/incomplete", f"{ONE}/incomplete", MUS, json={}),
    Sample("DELETE", ACCOUNT + "/incomplete", f"{ONE}/incomplete", MUS),
    Sample("GET", "/api/v1/account-stems", "/api/v1/account-stems", MAU),
    Sample(
        "POST",
        "/api/v1/courses/{course}/account-stems",
        "/api/v1/courses/CG 101/account-stems",
        MAU,
        json={"stem": "mx101"},
    ),
    Sample(
        "GET",
        "/api/v1/courses/{course}/account-pool",
        "/api/v1/courses/CG 101/account-pool",
        MAU,
    ),
    # No stem in the demo world: the administrator is told so (422), the others refused.
    Sample(
        "POST",
        "/api/v1/courses/{course}/account-pool",
        "/api/v1/courses/CG 101/account-pool",
        MAU,
        json={"count": 2},
    ),
    Sample("GET", "/api/v1/account-metrics", "/api/v1/account-metrics", MAU),
    Sample("GET", "/api/v1/ssh-keys", "/api/v1/ssh-keys", SIGNED_IN),
    Sample(
        "POST",
        "/api/v1/ssh-keys",
        "/api/v1/ssh-keys",
        SIGNED_IN,
        json={
            "public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDjeZ/DI1HtHnU+9CBgdSIYBTOkl"
            "GsNsGkZCJBzqnQmJ matrix"
        },
    ),
    # One's own keys only: a key id that is not one's own is 404 for everyone signed in.
    Sample("DELETE", "/api/v1/ssh-keys/{key_id}", "/api/v1/ssh-keys/999999", SIGNED_IN),
]
