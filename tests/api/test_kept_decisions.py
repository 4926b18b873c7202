"""The kept way of ``POST /api/v1/decisions`` (an API token asking about itself, answered from
what the process keeps: coursegate.services.access.decisions.kept) — the same bytes and headers
as the general way, and every change committed elsewhere seen on the very next request:
revoking the token, freezing the account, an exception, a role, a sync, an attempt."""

from __future__ import annotations

import random
from typing import Any

import pytest
from api_support import COURSE, INSTANCE, World
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from coursegate.cli import demo_world as demo
from coursegate.services.access import attempts
from coursegate.services.access.decisions import kept
from coursegate.services.access.exceptions import granting as X
from coursegate.services.common.places import find_course_instance, instance_area
from coursegate.services.courses.enrollment import block
from coursegate.services.people.grants import grant_role
from coursegate.services.people.signin import create_token, revoke_token
from coursegate.store.models import ApiToken, DecisionVersion, User

ANA = demo.STUDENTS[0]
AIDS = ("hw/hw1", "hw/hw2", "quizzes/quiz1", "exams/exam1", "exams/final")
EXTENDABLE = ("hw/hw1", "hw/hw2", "quizzes/quiz1")


def _token(world: World, uid: str = ANA.uid) -> tuple[TestClient, int]:
    with world.ctx(uid) as ctx:
        new = create_token(ctx, "kept", ["read"])
        token_id = new.row.id
    c = TestClient(world.app, base_url="https://testserver")
    c.headers["Authorization"] = f"Bearer {new.token}"
    return c, token_id


def _ask(c: TestClient, aid: str | None = "hw/hw1", *, general: bool = False, **more: Any) -> Any:
    request: dict[str, Any] = {"course": COURSE, "course_instance": INSTANCE, **more}
    if aid is not None:
        request["assessment"] = aid
    # a query string sends the request the general way (the routes ignore it)
    return c.post("/api/v1/decisions" + ("?general=1" if general else ""), json=request)


def _kept_answers(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every answer the kept way gives from now on (to show it, not the general way, answered)."""
    seen: list[bytes] = []
    real = kept._answer

    async def spy(*args: Any) -> bytes | None:
        out = await real(*args)
        if out is not None:
            seen.append(out)
        return out

    monkeypatch.setattr(kept, "_answer", spy)
    return seen


def _warm(c: TestClient, aid: str = "hw/hw1") -> None:
    for _ in range(3):  # the general way fills what the kept way needs (and notes the token's use)
        assert _ask(c, aid).status_code == 200


def test_the_kept_way_answers_with_the_general_ways_bytes_and_headers(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    c, _ = _token(world)
    _warm(c)
    seen = _kept_answers(monkeypatch)
    for aid in (*AIDS, None):
        for extra in ({}, {"at": "2024-02-08T12:00:00"}, {"mode": "Exam"}):
            fast = _ask(c, aid, **extra)
            slow = _ask(c, aid, general=True, **extra)
            assert fast.status_code == slow.status_code == 200
            assert fast.content == slow.content
            skip = {"date", "content-length"}
            assert {k: v for k, v in fast.headers.items() if k not in skip} == {
                k: v for k, v in slow.headers.items() if k not in skip
            }
    assert len(seen) == 3 * (len(AIDS) + 1), "the kept way answered each of them"


def test_revoking_the_token_refuses_the_very_next_request(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    c, token_id = _token(world)
    _warm(c)
    seen = _kept_answers(monkeypatch)
    assert _ask(c).status_code == 200
    assert len(seen) == 1
    with world.ctx(ANA.uid) as ctx:
        revoke_token(ctx, token_id)
    r = _ask(c)
    assert r.status_code == 401, r.text
    assert len(seen) == 1


def test_a_frozen_account_or_an_expired_token_is_refused_at_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    c, token_id = _token(world)
    _warm(c)
    with world.ctx() as ctx:
        ctx.session.execute(
            text("UPDATE users SET status = 'frozen' WHERE uid = :u"), {"u": ANA.uid}
        )
    assert _ask(c).status_code == 401
    with world.ctx() as ctx:
        ctx.session.execute(
            text("UPDATE users SET status = 'active' WHERE uid = :u"), {"u": ANA.uid}
        )
        row = ctx.session.get(ApiToken, token_id)
        assert row is not None
        row.expires_at = world.clock.now + 1_000_000
    _warm(c)
    world.clock.now += 2_000_000  # the token expires between two requests: nothing is written
    assert _ask(c).status_code == 401


def test_a_change_committed_elsewhere_is_seen_on_the_next_request(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    c, _ = _token(world)
    late = {"at": "2024-02-08T12:00:00"}
    _warm(c)
    assert _ask(c, **late).json()["assessment"]["credit_text"] == "None"
    # an extension, granted through the service (its own transaction)
    with world.ctx(demo.INSTRUCTOR.uid) as ctx:
        ci = find_course_instance(ctx, COURSE, INSTANCE)
        X.grant(
            ctx, ci.id, ANA.uid, "assessment", "hw/hw1", {"due": "2024-02-15T23:59"}, reason="x"
        )
        area = instance_area(ci).path
    assert _ask(c, **late).json()["assessment"]["credit_text"] == "100% until 23:59, Thu, Feb 15"
    # then a course-staff role: decided as staff from the next request on
    with world.ctx() as ctx:
        grant_role(ctx, ANA.uid, "ta", area)
    staff = _ask(c, **late).json()["assessment"]
    assert staff == _ask(c, general=True, **late).json()["assessment"]
    # and blocking the enrollment
    with world.ctx(demo.INSTRUCTOR.uid) as ctx:
        block(ctx, find_course_instance(ctx, COURSE, INSTANCE).id, ANA.uid, reason="test")
    assert _ask(c).json() == _ask(c, general=True).json()


def test_an_attempt_is_read_with_every_request(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    c, _ = _token(world)
    _warm(c, "hw/hw1")
    seen = _kept_answers(monkeypatch)
    assert _ask(c, "hw/hw1").json()["assessment"]["complete"] is False
    with world.ctx(ANA.uid) as ctx:
        started = attempts.start(ctx, find_course_instance(ctx, COURSE, INSTANCE).id, "hw/hw1")
    with world.ctx(ANA.uid) as ctx:
        attempts.close(ctx, started.id)
    closed = _ask(c, "hw/hw1")
    assert closed.json()["assessment"]["complete"] is True
    assert closed.content == _ask(c, "hw/hw1", general=True).content
    assert len(seen) == 2, "both answered the kept way"


def test_every_table_a_decision_depends_on_raises_a_counter(world: World) -> None:
    """The triggers of migration 0007 are all there at the head revision (a migration that
    rebuilds a table on SQLite drops its triggers) and raise the right counter."""
    with world.ctx() as ctx:
        dialect = ctx.session.get_bind().dialect.name
        if dialect == "sqlite":
            names = set(
                ctx.session.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
            )
        else:
            names = set(
                ctx.session.scalars(
                    text(
                        "SELECT DISTINCT trigger_name FROM information_schema.triggers"
                        " WHERE trigger_schema = current_schema()"
                    )
                )
            )
        tables = [
            *("course_instances", "sections", "assessments", "access_dates", "enrollments"),
            *("section_memberships", "student_overrides", "users", "exam_reservations"),
            *("role_assignments", "api_tokens", "domains", "courses", "exam_networks"),
        ]
        for table in tables:
            assert any(n.startswith(f"dv_{table}") for n in names), table
        ana = ctx.session.scalars(select(User).where(User.uid == ANA.uid)).one()
        ci = find_course_instance(ctx, COURSE, INSTANCE)
        ana_id, ci_id = ana.id, ci.id

    def counter(ci_key: int, user: int) -> int:
        with world.ctx() as ctx:
            row = ctx.session.get(DecisionVersion, (ci_key, user))
            return 0 if row is None else row.version

    own, account, config = counter(ci_id, ana_id), counter(0, ana_id), counter(ci_id, 0)
    with world.ctx(demo.INSTRUCTOR.uid) as ctx:
        X.grant(
            ctx, ci_id, ANA.uid, "assessment", "hw/hw1", {"due": "2024-02-15T23:59"}, reason="x"
        )
    assert counter(ci_id, ana_id) > own
    assert (counter(0, ana_id), counter(ci_id, 0)) == (account, config)
    with world.ctx() as ctx:
        ctx.session.execute(text("UPDATE users SET name = 'Ana B.' WHERE id = :i"), {"i": ana_id})
    assert counter(0, ana_id) > account
    with world.ctx() as ctx:
        ctx.session.execute(
            text("UPDATE course_instances SET timezone = timezone WHERE id = :i"), {"i": ci_id}
        )
    assert counter(ci_id, 0) > config
    used = counter(0, ana_id)
    with world.ctx() as ctx:  # using a token changes nothing a decision depends on
        ctx.session.execute(text("UPDATE api_tokens SET last_used_at = 1"))
    assert counter(0, ana_id) == used


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(st.sampled_from(("grant", "ask", "revoke-all")), st.sampled_from(EXTENDABLE)),
        min_size=1,
        max_size=8,
    ),
    st.integers(0, 2**16),
)
def test_kept_and_general_agree_whatever_happens_in_between(
    world: World, steps: list[tuple[str, str]], seed: int
) -> None:
    """Property: interleaving exceptions granted and withdrawn elsewhere with requests, the kept
    way's answer is always the general way's."""
    rng = random.Random(seed)
    c, _ = _token(world)
    _warm(c)
    with world.ctx() as ctx:
        ci_id = find_course_instance(ctx, COURSE, INSTANCE).id
    for action, aid in steps:
        if action == "grant":
            day = rng.randint(1, 28)
            with world.ctx() as ctx:
                ctx.session.execute(
                    text("DELETE FROM student_overrides WHERE target = :t"), {"t": aid}
                )
            with world.ctx(demo.INSTRUCTOR.uid) as ctx:
                X.grant(
                    ctx,
                    ci_id,
                    ANA.uid,
                    "assessment",
                    aid,
                    {"due": f"2024-04-{day:02d}T23:59"},
                    reason="x",
                )
        elif action == "revoke-all":
            with world.ctx() as ctx:
                ctx.session.execute(text("DELETE FROM student_overrides"))
        at = f"2024-0{rng.randint(1, 5)}-{rng.randint(1, 28):02d}T12:00:00"
        # right after a change the general way answers (and keeps); the next one is kept
        first, kept_, slow = (
            _ask(c, aid, at=at),
            _ask(c, aid, at=at),
            _ask(c, aid, general=True, at=at),
        )
        assert first.status_code == kept_.status_code == slow.status_code
        assert first.content == kept_.content == slow.content


def test_an_address_on_a_testing_centre_network_goes_the_general_way(world: World) -> None:
    """Read as the general way reads it: an IPv4 address mapped into IPv6 is the IPv4 address
    (else the kept way would answer in Public mode a request that is in Exam mode)."""
    import asyncio

    from coursegate.services.access.exam_networks import add_network

    with world.ctx() as ctx:
        add_network(ctx, "Grainger lab", "10.0.0.0/8", domain=None)
    state = kept.Kept(world.engine)
    on = [
        asyncio.run(state.on_exam_network(a, catalogue=1))
        for a in ("10.1.2.3", "::ffff:10.1.2.3", "192.0.2.1", "not an address")
    ]
    assert on == [True, True, False, True]


def _ids(world: World, uid: str = ANA.uid) -> tuple[int, int]:
    with world.ctx() as ctx:
        ci_id = find_course_instance(ctx, COURSE, INSTANCE).id
        user = ctx.session.scalars(select(User).where(User.uid == uid)).one()
        return ci_id, user.id


def test_a_coalesced_read_answers_only_the_requests_that_arrived_before_it_was_sent(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: requests share one read of the counters, but a request that arrives while a
    read is in flight waits for the next one — the read in flight may predate a change committed
    just before the request (here: revoking a token raises its holder's counter)."""
    import asyncio

    if world.engine.dialect.name != "postgresql":
        pytest.skip("reads are coalesced on PostgreSQL (SQLite's are local and instant)")
    ci_id, user_id = _ids(world)
    reader = kept.Reader(world.engine)
    real = reader._pg_rows
    sent: list[tuple[Any, ...]] = []
    delivered = asyncio.Event()

    async def late(sql: str, args: tuple[Any, ...]) -> list[Any]:
        rows = await real(sql, args)  # read (sent and answered by the database) now...
        sent.append(args)
        if len(sent) == 1:
            await delivered.wait()  # ...but the first read's answer arrives late
        return rows

    monkeypatch.setattr(reader, "_pg_rows", late)

    def account(rows: list[Any]) -> int:
        return next((int(r[3]) for r in rows if r[0] == 0 and r[1:3] == (0, user_id)), 0)

    async def scenario() -> tuple[list[Any], list[list[Any]]]:
        first = asyncio.create_task(reader.now(ci_id, user_id, 0))
        while not sent:
            await asyncio.sleep(0.005)
        with world.ctx() as ctx:  # committed after the first read was sent
            ctx.session.execute(text("UPDATE users SET name = name WHERE id = :u"), {"u": user_id})
        later = [asyncio.create_task(reader.now(ci_id, user_id, 0)) for _ in range(5)]
        await asyncio.sleep(0.05)
        delivered.set()
        out = await first, [await t for t in later]
        for conn in reader._idle:
            await conn.close()
        return out

    before, after = asyncio.run(scenario())
    assert all(account(rows) > account(before) for rows in after), "the change is seen"
    assert len(sent) == 2, "the five requests that arrived meanwhile shared the second read"


def test_coalesced_reads_give_each_request_its_own_rows(world: World) -> None:
    """PostgreSQL: the rows of one read for many (course instance, user, assessment) are what
    each would have read alone."""
    import asyncio

    if world.engine.dialect.name != "postgresql":
        pytest.skip("reads are coalesced on PostgreSQL")
    with world.ctx(ANA.uid) as ctx:
        attempts.start(ctx, find_course_instance(ctx, COURSE, INSTANCE).id, "hw/hw1")
    reader = kept.Reader(world.engine)
    keys = []
    for student in demo.STUDENTS[:3]:
        ci_id, user_id = _ids(world, student.uid)
        with world.ctx() as ctx:
            aids = ctx.session.scalars(
                text("SELECT id FROM assessments WHERE course_instance_id = :c"), {"c": ci_id}
            ).all()
        keys += [(ci_id, user_id, aid) for aid in (0, *aids)]

    async def scenario() -> tuple[list[list[Any]], list[list[Any]]]:
        together = await asyncio.gather(*(reader.now(*k) for k in keys))
        alone = [await reader._pg_rows(reader._now_sql, (c, u, u, c, a)) for c, u, a in keys]
        for conn in reader._idle:
            await conn.close()
        return list(together), alone

    together, alone = asyncio.run(scenario())
    assert any(r[0] != 0 for rows in together for r in rows), "an attempt is among them"
    assert [sorted(map(tuple, r)) for r in together] == [sorted(map(tuple, r)) for r in alone]
