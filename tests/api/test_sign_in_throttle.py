"""Failed sign-ins are throttled per (client address, account as typed) and never touch the
account (issue 13, finding 5: "anyone can lock anyone out").

Clients get their own socket address (``TestClient(client=...)``); the clock is the world's
settable clock, so waits pass by moving it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import argon2
import pytest
from api_support import World, body
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select

from coursegate.cli import demo_world as demo
from coursegate.core.instants import MINUTE, SECOND
from coursegate.http.settings import Settings
from coursegate.services.common.errors import NotFound, Refused
from coursegate.services.common.places import ensure_domain
from coursegate.services.people import signin, throttle
from coursegate.services.people.users import create_user, freeze_user
from coursegate.store.migrate import alembic_config
from coursegate.store.models import RoleAssignmentRow, SignInThrottle
from databases import BACKENDS, migrated_database

ANA, BEN, CHLOE, DAN = demo.STUDENTS[:4]
SESSION = "/api/v1/session"
ATTACKER = "203.0.113.66"
WRONG = "wrong-wrong-1"
OWNER = "198.51.100.7"


def at(world: World, address: str) -> TestClient:
    """An anonymous client whose socket address is ``address``."""
    return TestClient(world.app, base_url="https://testserver", client=(address, 40000))


def attempt(c: TestClient, uid: str, password: str) -> Any:
    return c.post(SESSION, json={"uid": uid, "password": password})


def wait(world: World, seconds: float) -> None:
    world.clock.now += int(seconds * SECOND)


def throttle_rows(world: World) -> dict[tuple[str, str], SignInThrottle]:
    with world.ctx() as ctx:
        return {(r.address, r.account): r for r in ctx.session.scalars(select(SignInThrottle))}


# -- the owner is never locked out --------------------------------------------------------------


def test_an_attackers_failures_never_stop_the_owner_nor_end_their_sessions(world: World) -> None:
    owner_browser = world.sign_in(ANA.uid, ANA.password)
    token = body(owner_browser.post("/api/v1/tokens", json={"name": "script"}))["token"]
    attacker = at(world, ATTACKER)
    statuses = [attempt(attacker, ANA.uid, f"guess-number-{n}").status_code for n in range(30)]
    assert statuses[:4] == [401] * 4 and set(statuses[4:]) == {429}
    # The account is untouched: active, its session and its API token still work ...
    with world.ctx() as ctx:
        assert ctx.user(ANA.uid).status == "active"
    assert body(owner_browser.get(SESSION))["uid"] == ANA.uid
    script = TestClient(world.app, base_url="https://testserver")
    assert script.get(SESSION, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    # ... and the owner signs in from their own address at once.
    r = attempt(at(world, OWNER), ANA.uid, ANA.password)
    assert r.status_code == 200, r.text
    # The attacker still waits.
    assert attempt(attacker, ANA.uid, ANA.password).status_code == 429


def test_failures_spread_over_many_addresses_never_freeze_the_account(world: World) -> None:
    for n in range(12):
        for _ in range(4):
            attempt(at(world, f"192.0.2.{n}"), BEN.uid, "not-his-password")
    with world.ctx() as ctx:
        assert ctx.user(BEN.uid).status == "active"
    assert attempt(at(world, OWNER), BEN.uid, BEN.password).status_code == 200


# -- one answer for unknown, wrong, frozen and locked -------------------------------------------


def test_unknown_wrong_frozen_and_locked_get_the_same_answer_after_the_same_work(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    with world.ctx() as ctx:
        freeze_user(ctx, CHLOE.uid, reason="shared her password")
        ctx.user(DAN.uid).status = "locked"
    verified: list[str] = []
    real_verify = argon2.PasswordHasher.verify

    def counting(self: argon2.PasswordHasher, hashed: Any, password: Any) -> bool:
        verified.append(str(hashed))
        return real_verify(self, hashed, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", counting)
    answers = []
    for n, uid in enumerate([ANA.uid, "nobody@example.edu", CHLOE.uid, DAN.uid]):
        verified.clear()
        r = attempt(at(world, f"192.0.2.{n}"), uid, "a-wrong-password")
        answers.append((r.status_code, body(r)))
        assert len(verified) == 1, f"{uid}: {len(verified)} hashes verified"
    assert len(set(map(repr, answers))) == 1, answers
    assert answers[0] == (
        401,
        {"error": {"code": "sign_in_failed", "message": "wrong user id or password",
                   "field": "password"}},
    )  # fmt: skip
    # Only the right password learns that the account is frozen or locked, and what to do.
    r = attempt(at(world, OWNER), CHLOE.uid, CHLOE.password)
    assert r.status_code == 401
    said = body(r)["error"]["message"]
    assert "frozen by an administrator" in said and "thaw" in said
    r = attempt(at(world, OWNER), DAN.uid, DAN.password)
    assert r.status_code == 401 and "is locked" in body(r)["error"]["message"]


def test_an_account_without_a_usable_password_costs_the_same_work(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pool accounts keep a hash that is no argon2 hash: checking it still verifies one."""
    with world.ctx() as ctx:
        from coursegate.store.models import Credential

        cred = ctx.session.get(Credential, ctx.user(BEN.uid).id)
        assert cred is not None
        cred.password_hash = "!randomised:no-usable-password"
    calls: list[int] = []
    real_verify = argon2.PasswordHasher.verify

    def counting(self: argon2.PasswordHasher, hashed: Any, password: Any) -> bool:
        calls.append(1)
        return real_verify(self, hashed, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", counting)
    r = attempt(at(world, OWNER), BEN.uid, "anything-at-all")
    assert r.status_code == 401 and body(r)["error"]["message"] == "wrong user id or password"
    assert len(calls) == 2  # the broken hash (refused at once), then the dummy one


# -- the delay -----------------------------------------------------------------------------------


def test_the_delay_grows_and_a_success_resets_the_pair(world: World) -> None:
    c = at(world, OWNER)
    statuses = [attempt(c, ANA.uid, WRONG).status_code for _ in range(throttle.FREE_FAILURES + 1)]
    assert statuses == [401] * (throttle.FREE_FAILURES + 1)  # the last one sets the first wait
    waits = []
    for _ in range(5):
        r = attempt(c, ANA.uid, WRONG)
        assert r.status_code == 429
        waits.append(int(r.headers["Retry-After"]))
        wait(world, waits[-1])
        assert attempt(c, ANA.uid, WRONG).status_code == 401
    assert waits == [1, 2, 4, 8, 16]
    # While the pair waits, even the right password is not checked.
    r = attempt(c, ANA.uid, ANA.password)
    assert r.status_code == 429 and r.headers["Retry-After"] == "32"
    assert body(r)["error"] == {
        "code": "too_many_failed_sign_ins",
        "message": "too many failed sign-ins from this address for this account; try again in"
        " 32 seconds",
        "field": None,
    }
    wait(world, 31)
    assert attempt(c, ANA.uid, ANA.password).status_code == 429
    wait(world, 1)
    assert attempt(c, ANA.uid, ANA.password).status_code == 200
    # A success starts the pair afresh: its free failures again, then the first wait.
    statuses = [attempt(c, ANA.uid, WRONG).status_code for _ in range(throttle.FREE_FAILURES + 2)]
    assert statuses == [401] * (throttle.FREE_FAILURES + 1) + [429]
    assert throttle_rows(world)[(OWNER, ANA.uid)].failures == throttle.FREE_FAILURES + 1


def test_parallel_attempts_for_one_pair_are_checked_one_at_a_time(world: World) -> None:
    """Parallel requests (several workers, several servers) do not multiply the guesses: each
    attempt locks its pair's row before the password is checked, so with the clock standing
    still only the free failures and the one that sets the first wait are checked."""
    from concurrent.futures import ThreadPoolExecutor

    from coursegate.services.common.context import Ctx
    from coursegate.store.db import transaction

    def one(n: int) -> int:
        with transaction(world.factory) as s:
            ctx = Ctx(s, "anonymous", world.clock.now)
            outcome = signin.sign_in(ctx, ANA.uid, f"guess-{n}", address=ATTACKER)
            assert outcome.error is not None
            return outcome.error.status

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(pool.map(one, range(24)))
    assert statuses == [401] * (throttle.FREE_FAILURES + 1) + [429] * (23 - throttle.FREE_FAILURES)
    assert throttle_rows(world)[(ATTACKER, ANA.uid)].failures == throttle.FREE_FAILURES + 1


def test_the_delay_schedule() -> None:
    seconds = [throttle.delay_after(n) // SECOND for n in range(1, 10)]
    assert seconds == [0, 0, 0, 1, 2, 4, 8, 16, 32]
    assert throttle.delay_after(14) == throttle.MAX_DELAY == 15 * MINUTE
    assert throttle.delay_after(10_000) == throttle.MAX_DELAY


def test_the_throttled_answer_is_the_same_for_an_account_that_exists_and_one_that_does_not(
    world: World,
) -> None:
    def run(uid: str, address: str) -> list[tuple[int, str, str | None]]:
        c = at(world, address)
        seen = []
        for _ in range(6):
            r = attempt(c, uid, WRONG)
            seen.append((r.status_code, body(r)["error"]["message"], r.headers.get("retry-after")))
        return seen

    real = run(ANA.uid, "192.0.2.1")
    unknown = run("nobody@example.edu", "192.0.2.2")
    assert real == unknown
    assert [s for s, _, _ in real] == [401, 401, 401, 401, 429, 429]


def test_the_typed_account_is_normalised(world: World) -> None:
    c = at(world, OWNER)
    for typed in ("ana@example.edu", " ANA@example.edu ", "Ana@Example.EDU", "ana@example.edu"):
        attempt(c, typed, WRONG)
    r = attempt(c, "ＡＮＡ@example.edu", WRONG)  # fullwidth letters: NFKC
    assert r.status_code == 429


def test_the_address_has_a_cap_over_every_account(world: World) -> None:
    sprayer = at(world, ATTACKER)
    for n in range(throttle.ADDRESS_MAX_FAILURES):
        r = attempt(sprayer, f"user{n}@example.edu", "Spring2024!")
        assert r.status_code == 401, (n, r.text)
    r = attempt(sprayer, ANA.uid, "Spring2024!")
    assert r.status_code == 429
    assert body(r)["error"]["message"].startswith("too many failed sign-ins from this address;")
    assert int(r.headers["Retry-After"]) == 15 * 60
    # Another address is not affected, and the owner's own sign-in works.
    assert attempt(at(world, OWNER), ANA.uid, ANA.password).status_code == 200
    wait(world, 15 * 60)
    assert attempt(sprayer, BEN.uid, "Spring2024!").status_code == 401


def test_an_ipv6_client_counts_by_its_64_network(world: World) -> None:
    for n in range(5):
        r = attempt(at(world, f"2001:db8:1:2::{n + 1:x}"), ANA.uid, WRONG)
    assert r.status_code == 429
    assert attempt(at(world, "2001:db8:1:3::1"), ANA.uid, ANA.password).status_code == 200
    assert throttle.address_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert throttle.address_key("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"


def test_the_sign_in_page_is_throttled_the_same_way(world: World) -> None:
    c = at(world, OWNER)
    for _ in range(4):
        r = c.post("/sign-in", data={"uid": ANA.uid, "password": WRONG})
        assert r.status_code == 401 and "wrong user id or password" in r.text
    r = c.post("/sign-in", data={"uid": ANA.uid, "password": ANA.password})
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"
    assert "too many failed sign-ins from this address for this account; try again in 1 second" in (
        r.text
    )
    wait(world, 1)
    r = c.post("/sign-in", data={"uid": ANA.uid, "password": ANA.password}, follow_redirects=False)
    assert r.status_code == 303


# -- the client address -------------------------------------------------------------------------


def test_the_forwarded_header_is_believed_only_from_a_trusted_proxy() -> None:
    off = Settings(trusted_proxies=("10.0.0.1", "10.0.0.2"))
    assert off.client_address("10.0.0.1", ["192.0.2.9"]) == "10.0.0.1"  # no header set
    on = dataclasses.replace(off, forwarded_header="X-Forwarded-For")
    assert on.client_address("203.0.113.5", ["192.0.2.9"]) == "203.0.113.5"  # untrusted peer
    assert on.client_address("10.0.0.1", ["192.0.2.9"]) == "192.0.2.9"
    # What the client wrote itself stays on the left; proxies append.
    assert on.client_address("10.0.0.1", ["1.1.1.1, 192.0.2.9, 10.0.0.2"]) == "192.0.2.9"
    assert on.client_address("10.0.0.1", ["1.1.1.1", "192.0.2.9:4711"]) == "192.0.2.9"
    assert on.client_address("10.0.0.1", ["[2001:db8::7]:443"]) == "2001:db8::7"
    assert on.client_address("10.0.0.1", ["192.0.2.9, not-an-address"]) == "10.0.0.1"
    assert on.client_address("10.0.0.1", []) == "10.0.0.1"
    assert on.client_address("10.0.0.1", ["10.0.0.2"]) == "10.0.0.2"
    loaded = Settings.load({"COURSEGATE_FORWARDED_HEADER": "X-Forwarded-For"})
    assert loaded.forwarded_header == "X-Forwarded-For"
    assert Settings().forwarded_header == ""


def test_a_client_cannot_escape_the_throttle_by_writing_the_header(world: World) -> None:
    world.app.state.settings = dataclasses.replace(
        world.app.state.settings, forwarded_header="X-Forwarded-For", trusted_proxies=("10.0.0.1",)
    )
    direct = at(world, ATTACKER)
    for n in range(5):
        r = direct.post(
            SESSION,
            json={"uid": ANA.uid, "password": WRONG},
            headers={"X-Forwarded-For": f"192.0.2.{n}"},
        )
    assert r.status_code == 429  # every try counted under the attacker's own address
    assert set(throttle_rows(world)) == {(ATTACKER, ANA.uid), (ATTACKER, "")}
    # Through the trusted proxy, the forwarded address is the client's.
    proxy = at(world, "10.0.0.1")
    for _ in range(5):
        r = proxy.post(
            SESSION,
            json={"uid": ANA.uid, "password": WRONG},
            headers={"X-Forwarded-For": "6.6.6.6, 192.0.2.200"},
        )
    assert r.status_code == 429
    assert ("192.0.2.200", ANA.uid) in throttle_rows(world)
    r = proxy.post(
        SESSION,
        json={"uid": ANA.uid, "password": ANA.password},
        headers={"X-Forwarded-For": OWNER},
    )
    assert r.status_code == 200, r.text


# -- the table stays small ----------------------------------------------------------------------


def test_rows_long_past_their_wait_are_forgotten_and_deleted(world: World) -> None:
    for n in range(3):
        attempt(at(world, f"192.0.2.{n}"), ANA.uid, WRONG)
    assert len(throttle_rows(world)) == 6  # three pairs, three addresses
    wait(world, throttle.FORGET_AFTER / SECOND + 1)
    # The old count no longer counts ...
    c = at(world, "192.0.2.0")
    for _ in range(throttle.FREE_FAILURES):
        assert attempt(c, ANA.uid, WRONG).status_code == 401
    rows = throttle_rows(world)
    assert rows[("192.0.2.0", ANA.uid)].failures == throttle.FREE_FAILURES
    # ... and the others' rows were deleted by these failures.
    assert set(rows) == {("192.0.2.0", ANA.uid), ("192.0.2.0", "")}


def test_a_blank_user_id_is_refused_without_a_row(world: World) -> None:
    r = attempt(at(world, OWNER), "   ", "x")
    assert r.status_code == 401 and body(r)["error"]["message"] == "wrong user id or password"
    assert throttle_rows(world) == {}


# -- administrators ------------------------------------------------------------------------------


def make_superuser(world: World) -> tuple[str, str]:
    """A superuser in a domain of their own (the demo has a domain coordinator only)."""
    uid, password = "root@other.example", "superuser-pass-1"
    with world.ctx() as ctx:
        ensure_domain(ctx, "otheruniversity", "Other University")
        user = create_user(ctx, uid, "Sam Super", uid, domain="otheruniversity", password=password)
        ctx.session.add(
            RoleAssignmentRow(
                user_id=user.id, role="su", area="/", created_by="system", created_at=ctx.at
            )
        )
    return uid, password


def test_administrators_see_and_clear_throttles_of_their_domain_only(world: World) -> None:
    for _ in range(5):
        attempt(at(world, ATTACKER), ANA.uid, WRONG)
        attempt(at(world, ATTACKER), "nobody@example.edu", WRONG)
    root, _ = make_superuser(world)
    with world.ctx(demo.ADMIN.uid) as ctx:
        seen = throttle.overview(ctx)
        assert not seen.everywhere and seen.domains == [demo.DOMAIN]
        # Four failures (the fifth try came while the pair waited: not checked, not counted).
        assert [(t.address, t.account, t.uid, t.failures) for t in seen.throttled] == [
            (ATTACKER, ANA.uid, ANA.uid, 4)
        ]
        # A name no one has, and the address over every account: the system's to clear.
        with pytest.raises(Refused):
            throttle.clear(ctx, ATTACKER, "nobody@example.edu")
    with world.ctx(root) as ctx:
        seen = throttle.overview(ctx)
        assert seen.everywhere
        assert {(t.account, t.uid) for t in seen.throttled} == {
            (ANA.uid, ANA.uid),
            ("nobody@example.edu", None),
        }
        said = throttle.clear(ctx, ATTACKER, "nobody@example.edu", reason="a test")
        assert said.startswith(f"Sign-ins from {ATTACKER} for nobody@example.edu")
    with world.ctx(demo.INSTRUCTOR.uid) as ctx, pytest.raises(Refused):
        throttle.overview(ctx)
    with world.ctx(demo.TA.uid) as ctx, pytest.raises(Refused):
        throttle.clear(ctx, ATTACKER, ANA.uid)
    with world.ctx(demo.ADMIN.uid) as ctx:
        throttle.clear(ctx, ATTACKER, " ANA@example.edu ")
        with pytest.raises(NotFound):
            throttle.clear(ctx, ATTACKER, ANA.uid)
    assert attempt(at(world, ATTACKER), ANA.uid, ANA.password).status_code == 200


def test_sign_ins_made_in_process_count_under_their_own_address(world: World) -> None:
    with world.ctx() as ctx:
        outcome = signin.sign_in(ctx, ANA.uid, WRONG)
        assert outcome.error is not None and outcome.error.status == 401
    assert set(throttle_rows(world)) == {
        (signin.LOCAL_ADDRESS, ANA.uid),
        (signin.LOCAL_ADDRESS, ""),
    }


# -- the migration -------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_migration_goes_down_and_up_again(backend: str, tmp_path: Path) -> None:
    from alembic import command

    with migrated_database(backend, tmp_path, "throttle") as db:
        engine = db.engine

        def tables() -> set[str]:
            with engine.connect() as conn:
                return set(inspect(conn).get_table_names())

        assert "sign_in_throttle" in tables()
        for revision, present in (("0004", False), ("head", True)):
            cfg = alembic_config(engine)
            with engine.begin() as conn:
                cfg.attributes["connection"] = conn
                if revision == "head":
                    command.upgrade(cfg, revision)
                else:
                    command.downgrade(cfg, revision)
            assert ("sign_in_throttle" in tables()) is present
