"""LTI 1.3 launches (issue 18): the time of ``POST /lti/launch`` — the state checked, the
id_token's signature verified (RS256, joserfc) and its claims checked, the person linked, the
session opened and committed — through the application in this process, on SQLite.

Printed: the first launch of each of 200 learners (a user and an identity are made) and their
second launch (found again), p50 and p99 in milliseconds, against issue 18's target of 20 ms;
the signature and claims alone; and a first roster sync of 2,000 members (every one joins)
against the target of 10 s. The platform's key set is served from memory (no network),
so the figure is the tool's own work.
"""

from __future__ import annotations

import html
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bench.bench_core import machine
from coursegate.core.instants import MICROS
from coursegate.http.settings import Settings
from coursegate.lti.claims import Registration, check_launch
from coursegate.server import create_app
from coursegate.services.common.context import SYSTEM, Ctx
from coursegate.services.common.places import ensure_domain, find_course_instance
from coursegate.services.lti.platform_keys import PlatformKeys
from coursegate.services.lti.platforms import NewPlatform, register_platform
from coursegate.store.db import make_engine, session_factory, transaction
from coursegate.store.migrate import upgrade

LEARNERS = 200
TARGET_MS = 20.0
ISSUER = "https://lms.example.edu"
CLIENT = "bench-client"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
NOW = 1_707_000_000


def _claims(sub: str, nonce: str) -> dict[str, Any]:
    return {
        "iss": ISSUER,
        "aud": CLIENT,
        "sub": sub,
        "iat": NOW,
        "exp": NOW + 300,
        "nonce": nonce,
        "name": f"Learner {sub}",
        "email": f"{sub}@lms.example.edu",
        CLAIM + "message_type": "LtiResourceLinkRequest",
        CLAIM + "version": "1.3.0",
        CLAIM + "deployment_id": "d-1",
        CLAIM + "target_link_uri": "https://testserver/lti/launch",
        CLAIM + "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
        CLAIM + "resource_link": {"id": "rl-1"},
    }


def _continue(page: str) -> str:
    found = re.search(r'id="lti-continue" class="button" href="([^"]+)"', page)
    assert found is not None, page
    return html.unescape(found.group(1))


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered) * 1e3:6.2f} ms   p99 {p99 * 1e3:6.2f} ms"


def main() -> None:
    from fastapi.testclient import TestClient
    from joserfc import jwt
    from joserfc.jwk import RSAKey

    print("\n".join(machine()))
    key = RSAKey.generate_key(2048, parameters={"kid": "k1", "alg": "RS256"}, private=True)
    jwks = {"keys": [key.as_dict(private=False)]}
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        upgrade(engine)
        factory = session_factory(engine)
        with transaction(factory) as s:
            ctx = Ctx(s, SYSTEM, NOW * MICROS)
            ensure_domain(ctx, "uni", "University")
            register_platform(
                ctx,
                NewPlatform(
                    "Bench LMS",
                    ISSUER,
                    CLIENT,
                    ISSUER + "/auth",
                    ISSUER + "/token",
                    ISSUER + "/jwks",
                    "uni",
                    ("d-1",),
                ),
            )
        settings = Settings(cookie_secure=True, data_dir=tmp, secret_key="bench")
        app = create_app(settings, engine=engine, clock=lambda: NOW * MICROS)
        app.state.lti_platform_keys = PlatformKeys(fetch=lambda url: jwks)
        rounds: dict[str, list[float]] = {"first": [], "again": []}
        for name in ("first", "again"):
            for i in range(LEARNERS):
                browser = TestClient(app, base_url="https://testserver", follow_redirects=False)
                start = browser.get(
                    "/lti/login",
                    params={
                        "iss": ISSUER,
                        "login_hint": str(i),
                        "target_link_uri": "https://testserver/lti/launch",
                        "client_id": CLIENT,
                    },
                )
                q = {k: v[0] for k, v in parse_qs(urlsplit(_continue(start.text)).query).items()}
                token = jwt.encode({"alg": "RS256", "kid": "k1"}, _claims(f"s{i}", q["nonce"]), key)
                t0 = time.perf_counter()
                r = browser.post("/lti/launch", data={"id_token": token, "state": q["state"]})
                rounds[name].append(time.perf_counter() - t0)
                assert r.status_code == 303, r.text
        engine.dispose()
    registration = Registration(ISSUER, CLIENT, frozenset({"d-1"}))
    keyset = PlatformKeys(fetch=lambda url: jwks).key_set("x", "k1", 0)
    token = jwt.encode({"alg": "RS256", "kid": "k1"}, _claims("s", "n"), key)
    verify: list[float] = []
    for _ in range(LEARNERS):
        t0 = time.perf_counter()
        claims = jwt.decode(token, keyset, algorithms=["RS256"]).claims
        check_launch(claims, registration, nonce="n", at_seconds=NOW)
        verify.append(time.perf_counter() - t0)
    roster_seconds, summary = bench_roster()
    print(f"first launch (user made)  : {_ms(rounds['first'])}   target <= {TARGET_MS:g} ms")
    print(f"launch again (user found) : {_ms(rounds['again'])}   target <= {TARGET_MS:g} ms")
    print(f"signature + claims only   : {_ms(verify)}")
    print(
        f"roster sync of {ROSTER:,} members: {roster_seconds:.2f} s   target <= "
        f"{ROSTER_TARGET_S:g} s   ({summary})"
    )


ROSTER = 2_000
ROSTER_TARGET_S = 10.0


def bench_roster() -> tuple[float, str]:
    """A first sync of a 2,000-member LMS course (every member joins: 2,000 accounts, links,
    enrollments and Student roles), on SQLite, the LMS's pages (100 members each) from memory."""
    from coursegate.cli import demo_world as demo
    from coursegate.services.lti.roster_sync import sync_roster
    from coursegate.services.lti.tokens import PlatformTokens
    from coursegate.store.models import LtiContext

    learner = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
    members = [
        {"user_id": f"m{i}", "name": f"Member {i}", "email": f"m{i}@lms.example.edu",
         "roles": [learner], "status": "Active"}
        for i in range(ROSTER)
    ]  # fmt: skip

    def get(url: str, token: str) -> tuple[Any, str | None]:
        page = int(url.rsplit("=", 1)[1]) if "=" in url else 0
        nxt = f"{ISSUER}/nrps?page={page + 1}" if (page + 1) * 100 < ROSTER else None
        return {"members": members[page * 100 : (page + 1) * 100]}, nxt

    tokens = PlatformTokens(post=lambda url, form: {"access_token": "t", "expires_in": 3600})
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'roster.sqlite3'}")
        upgrade(engine)
        factory = session_factory(engine)
        at = demo.demo_instant()
        with transaction(factory) as s:
            ctx = Ctx(s, SYSTEM, at)
            demo.seed(ctx, Path("examples/course"))
            platform = register_platform(
                ctx,
                NewPlatform(
                    "Bench LMS", ISSUER, CLIENT, ISSUER + "/auth", ISSUER + "/token",
                    ISSUER + "/jwks", demo.DOMAIN, ("d-1",),
                ),
            )  # fmt: skip
            ci = find_course_instance(ctx, demo.COURSE, demo.INSTANCE)
            row = LtiContext(
                platform_id=platform.id, context_id="c", title="Bench", label="B",
                course_instance_id=ci.id, memberships_url=ISSUER + "/nrps", created_at=at,
            )  # fmt: skip
            s.add(row)
            s.flush()
            context_id = row.id
        t0 = time.perf_counter()
        with transaction(factory) as s:
            plan = sync_roster(
                Ctx(s, SYSTEM, at), context_id, tokens=tokens, dry_run=False, get=get
            )
        elapsed = time.perf_counter() - t0
        engine.dispose()
    return elapsed, plan.summary()


if __name__ == "__main__":
    main()
