"""A decision about oneself with an API token, answered from what this process keeps — one
query of the counters instead of the general way's transaction, ORM and framework.

``POST /api/v1/decisions`` is the request scripts and LMS-side tools send most. Its general way
(:func:`~coursegate.services.access.decisions.answers.answer_one` behind FastAPI) identifies the
token, looks the course instance up by name and reads the user's facts in a transaction, through
the ORM, each time. Here, what those give is kept per process, and each request reads one small
query (:func:`Reader.now`) on a connection of its own — on PostgreSQL, one read sent after the
request arrived serves every request waiting for one (a round trip for many, never an answer
read before the request came):

- the counters (:class:`~coursegate.store.models.DecisionVersion`) of the course instance's
  configuration, of the catalogue, and of the asking user (their facts in the course instance;
  their account, tokens, roles and reservations): database triggers raise them in the very
  transaction that changes any of those rows, whoever writes;
- the user's attempts at the course instance's assessments (read every time, as the general way
  does).

The answer is given here only when everything it rests on is kept *and* the counters say it is
still right: the token (revoking it, or freezing the account, raises the holder's counter, so
the next request reads the token again and is refused the general way), the course instance the
name meant, its compiled form, the user's row of it (or their facts read on their own) and their
course-staff roles. The stages are the general way's own (:class:`~coursegate.services.access.
decisions.answers.Stored`, ``build_input``, ``decide``, ``render``): the same answer, byte for
byte. Anything else — a cookie, another user asked about, a testing-centre address, an instructor's
Exam switch, an ``at`` header, a zone other than the course's, an error, nothing kept yet — and
:func:`answer` returns None: the request goes the general way, which also fills what is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from dataclasses import dataclass, replace
from typing import Any

import orjson
from sqlalchemy import Engine

from coursegate.core.instants import Instant
from coursegate.core.model import InstanceFacts
from coursegate.services.access.decisions.answers import (
    NotKept,
    Stored,
    build_input,
    decide,
    read_question,
    render,
)
from coursegate.services.access.decisions.cache import ATTEMPT, Signature, UsersNow, kept, named
from coursegate.services.access.exam_networks import parse_address
from coursegate.services.common.errors import ServiceError
from coursegate.services.people.signin import TOKEN_PREFIX, digest

_log = logging.getLogger("coursegate.api")
SECOND = 1_000_000
TOUCH_EVERY = 60 * SECOND
"""A token's ``last_used_at`` is written at most this often (as the general way does)."""
PG_CONNECTIONS = 4
"""PostgreSQL connections of the kept way per process (queries in flight at once)."""
PG_READS_IN_FLIGHT = 1
"""Coalesced reads of the counters (:meth:`Reader.now`) in flight at once per process on
PostgreSQL: the requests that arrive meanwhile wait, together, for the next one."""
MAX_KEPT = 50_000
"""Tokens and course-instance names kept per process before starting afresh."""


@dataclass(frozen=True, slots=True)
class Holder:
    """A live API token and its holder, at the holder's counter ``version``."""

    token_id: int
    user_id: int
    uid: str
    version: int
    expires_at: Instant | None
    mode: str | None
    last_used_at: Instant | None


class Reader:
    """One database connection of this process's own for the kept way (autocommit: each
    statement reads the latest committed state, and none takes a lock)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        self._conn: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle: list[Any] = []
        self._free: asyncio.Semaphore | None = None
        self._params: dict[str, Any] | None = None
        mark = "?" if self.sqlite else "%s"
        is_open = "ai.open" if self.sqlite else "CAST(ai.open AS INTEGER)"
        self._now_sql = (
            "SELECT 0, course_instance_id, user_id, version, 0 FROM decision_versions"
            f" WHERE course_instance_id IN (0, {mark}) AND user_id IN (0, {mark})"
            f" UNION ALL SELECT {ATTEMPT}, ai.assessment_id, ai.date_limit, ai.number,"
            f" {is_open} FROM assessment_instances ai JOIN assessments a"
            f" ON a.id = ai.assessment_id WHERE ai.user_id = {mark}"
            f" AND a.course_instance_id = {mark} AND ai.assessment_id = {mark}"
        )
        self._token_sql = (
            "SELECT t.id, t.user_id, t.expires_at, t.revoked_at, t.mode, t.last_used_at,"
            " u.uid, u.status, COALESCE((SELECT v.version FROM decision_versions v"
            " WHERE v.course_instance_id = 0 AND v.user_id = t.user_id), 0)"
            f" FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = {mark}"
        )
        self._networks_sql = "SELECT cidr FROM exam_networks WHERE removed_at IS NULL"
        # PostgreSQL: the same rows for many requests at once, each tagged with its request's
        # place in the read (the k-th (course instance, user, assessment) of the arrays)
        self._batch_sql = (
            "WITH q AS (SELECT * FROM unnest(%s::text::int[], %s::text::int[], %s::text::int[],"
            " %s::text::int[])"
            " AS q(k, ci, u, a))"
            " SELECT q.k, 0, v.course_instance_id, v.user_id, v.version, 0"
            " FROM q JOIN decision_versions v"
            " ON v.course_instance_id = ANY (ARRAY[0, q.ci]) AND v.user_id = ANY (ARRAY[0, q.u])"
            f" UNION ALL SELECT q.k, {ATTEMPT}, ai.assessment_id, ai.date_limit, ai.number,"
            " CAST(ai.open AS INTEGER) FROM q JOIN assessment_instances ai"
            " ON ai.user_id = q.u AND ai.assessment_id = q.a"
            " JOIN assessments a ON a.id = ai.assessment_id AND a.course_instance_id = q.ci"
        )
        self._waiting: list[tuple[tuple[int, int, int], asyncio.Future[list[Any]]]] = []
        """PostgreSQL: the requests that arrived since the last coalesced read was sent."""
        self._in_flight = 0
        self._senders: set[asyncio.Task[None]] = set()

    def _sqlite_rows(self, sql: str, args: tuple[Any, ...]) -> list[Any]:
        """SQLite answers in microseconds from the same process: no reason to leave the loop."""
        try:
            if self._conn is None:
                raw = self.engine.raw_connection()
                driver: Any = raw.driver_connection
                raw.detach()  # this process's own: never handed to anyone else by the pool
                self._conn = driver
            cur = self._conn.cursor()
            try:
                cur.execute(sql, args)
                return list(cur.fetchall())
            finally:
                cur.close()
        except Exception:
            self.close()  # a broken connection is made again on the next request
            raise

    def _on(self, loop: asyncio.AbstractEventLoop) -> asyncio.Semaphore:
        """The connections' semaphore on ``loop``; a new event loop (tests) starts afresh."""
        free = self._free
        if self._loop is not loop or free is None:
            for old in self._idle:
                with contextlib.suppress(Exception):
                    old.pgconn.finish()  # its loop is gone: closed without it
            self._loop, self._idle = loop, []
            free = self._free = asyncio.Semaphore(PG_CONNECTIONS)
            self._waiting, self._in_flight, self._senders = [], 0, set()
        return free

    async def _pg_rows(self, sql: str, args: tuple[Any, ...]) -> list[Any]:
        """PostgreSQL is a round trip away: the loop serves other requests meanwhile, on up to
        :data:`PG_CONNECTIONS` connections of this process's own."""
        import psycopg

        async with self._on(asyncio.get_running_loop()):
            if self._idle:
                conn = self._idle.pop()
            else:
                if self._params is None:
                    raw = self.engine.raw_connection()
                    try:
                        info: Any = raw.driver_connection.info  # type: ignore[union-attr]
                        params = dict(info.get_parameters())
                        if info.password:
                            params["password"] = info.password
                        self._params = params
                    finally:
                        raw.close()
                conn = await psycopg.AsyncConnection.connect(**self._params, autocommit=True)
                # The kept way's few statements are prepared once, and their one generic plan
                # serves every execution (PostgreSQL would otherwise plan the first few each
                # time, and again whenever a custom plan looks cheaper).
                await conn.execute("SET plan_cache_mode = force_generic_plan")
            try:
                cur = await conn.execute(sql, args, prepare=True)
                rows: list[Any] = await cur.fetchall()
            except Exception:
                with contextlib.suppress(Exception):
                    await conn.close()
                raise
            self._idle.append(conn)
            return rows

    async def _rows(self, sql: str, args: tuple[Any, ...]) -> list[Any]:
        if self.sqlite:
            return self._sqlite_rows(sql, args)
        return await self._pg_rows(sql, args)

    def data_version(self) -> int:
        """SQLite's count of commits by *other* connections (this one only reads): while it
        stays the same, so does everything this connection read."""
        return int(self._sqlite_rows("PRAGMA data_version", ())[0][0])

    async def now(self, ci_id: int, user_id: int, assessment_id: int) -> list[Any]:
        """The counters of ``ci_id``, the catalogue and the user, and the user's attempts at
        the assessment (its row id), read after this call began.

        On PostgreSQL the read is coalesced: the request waits for the next read *sent* after
        it arrived, and that one read answers every request waiting when it is sent — never one
        already in flight, whose answer may predate a change committed just before this request.
        A read leaves as soon as fewer than :data:`PG_READS_IN_FLIGHT` are in flight, so an
        idle server waits for one round trip, and a busy one sends one query for many requests.
        """
        if self.sqlite:
            return self._sqlite_rows(self._now_sql, (ci_id, user_id, user_id, ci_id, assessment_id))
        loop = asyncio.get_running_loop()
        self._on(loop)
        answer: asyncio.Future[list[Any]] = loop.create_future()
        self._waiting.append(((ci_id, user_id, assessment_id), answer))
        if self._in_flight < PG_READS_IN_FLIGHT:
            self._in_flight += 1
            sender = loop.create_task(self._send_waiting())
            self._senders.add(sender)
            sender.add_done_callback(self._senders.discard)
        return await answer

    async def _send_waiting(self) -> None:
        """Read for the requests waiting, until none is: each read takes those waiting *when it
        is sent* (a task starts on the loop's next turn, so the requests that arrived in this
        one go together)."""
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                # arrays as text (psycopg's dumping of a list costs more than the rest)
                args = tuple("{" + ",".join([str(k[i]) for k, _ in batch]) + "}" for i in range(3))
                args = ("{" + ",".join(map(str, range(len(batch)))) + "}", *args)
                try:
                    rows = await self._pg_rows(self._batch_sql, args)
                except Exception as e:
                    for _, answer in batch:
                        if not answer.done():
                            answer.set_exception(e)
                    continue
                each: list[list[Any]] = [[] for _ in batch]
                for r in rows:
                    each[r[0]].append(r[1:])
                for (_, answer), mine in zip(batch, each, strict=True):
                    if not answer.done():
                        answer.set_result(mine)
        finally:
            self._in_flight -= 1

    async def token(self, token: str) -> tuple[Any, ...] | None:
        rows = await self._rows(self._token_sql, (digest(token),))
        return tuple(rows[0]) if rows else None

    async def networks(self) -> list[str]:
        return [str(r[0]) for r in await self._rows(self._networks_sql, ())]

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()


class Kept:
    """What one application (one per server process) keeps between requests for the kept way:
    dropped, with its connection, when the application is."""

    def __init__(self, engine: Engine) -> None:
        self.reader = Reader(engine)
        self.bind = engine
        self.tokens: dict[str, Holder] = {}
        self.recent: dict[tuple[int, int, int], tuple[int, list[Any]]] = {}
        """SQLite: the last rows read for (course instance, user, assessment), with the
        database's ``data_version`` they were read at."""
        self.networks: tuple[int, list[Any]] | None = None

    async def holder(self, token: str, version: int | None, at: Instant) -> Holder | None:
        """The token's live holder: kept while the holder's counter is ``version`` (None: not
        read yet), read again otherwise."""
        found = self.tokens.get(token)
        if found is not None and (version is None or found.version == version):
            return found if found.expires_at is None or at < found.expires_at else None
        row = await self.reader.token(token)
        self.tokens.pop(token, None)
        if row is None:
            return None
        tid, user_id, expires_at, revoked_at, mode, last_used, uid, status, v = row
        if revoked_at is not None or status != "active":
            return None
        if expires_at is not None and at >= expires_at:
            return None
        if len(self.tokens) >= MAX_KEPT:
            self.tokens.clear()
        held = Holder(int(tid), int(user_id), str(uid), int(v), expires_at, mode, last_used)
        self.tokens[token] = held
        return held

    async def now(self, ci_id: int, user_id: int, assessment_id: int) -> list[Any]:
        """:meth:`Reader.now` — on SQLite read again only when another connection committed
        something since the last read of the same (course instance, user, assessment): the
        pragma is read before the rows, so rows are never older than the stamp they keep."""
        if not self.reader.sqlite:
            return await self.reader.now(ci_id, user_id, assessment_id)
        stamp = self.reader.data_version()
        key = (ci_id, user_id, assessment_id)
        hit = self.recent.get(key)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        rows = await self.reader.now(ci_id, user_id, assessment_id)
        if len(self.recent) >= MAX_KEPT:
            self.recent.clear()
        self.recent[key] = (stamp, rows)
        return rows

    async def on_exam_network(self, address: str, catalogue: int) -> bool:
        """Whether ``address`` is in any testing-centre network (of any domain, at any time:
        the general way then decides which, if any, puts the request in Exam mode)."""
        if self.networks is None or self.networks[0] != catalogue:
            nets = []
            for cidr in await self.reader.networks():
                try:
                    nets.append(ipaddress.ip_network(cidr))
                except ValueError:  # pragma: no cover - stored after checking
                    continue
            self.networks = (catalogue, nets)
        if not self.networks[1]:
            return False
        addr = parse_address(address)  # as network_for reads it (IPv4-mapped IPv6 included)
        if addr is None:
            return True  # the general way says what it makes of it
        return any(addr.version == n.version and addr in n for n in self.networks[1])


async def answer(
    kept_: Kept,
    token: str,
    body: bytes,
    at: Instant,
    address: str,
) -> bytes | None:
    """The JSON answer of ``POST /api/v1/decisions`` for a request carrying ``token``, or None
    when the general way must answer (see the module docstring)."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    try:
        raw = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(raw, dict):
        return None
    try:
        return await _answer(kept_, token, raw, at, address)
    except (ServiceError, NotKept):
        return None
    except Exception:  # the general way answers, and says what went wrong if it does too
        _log.warning("the kept way failed; answered the general way", exc_info=True)
        return None


async def _answer(
    kept_: Kept, token: str, raw: dict[str, Any], at: Instant, address: str
) -> bytes | None:
    holder = await kept_.holder(token, None, at)
    if holder is None or holder.mode is not None:
        return None
    if holder.last_used_at is None or at - holder.last_used_at > TOUCH_EVERY:
        # The general way writes when the token was last used (at most once a minute): a
        # write waits for the database's lock, which must never stall the event loop.
        kept_.tokens[token] = replace(holder, last_used_at=at)
        return None
    q = read_question(raw, holder.uid)
    found = named(kept_.bind, q.course, q.course_instance)
    if q.uid != holder.uid or found is None:
        return None
    ci_id, tz_name = found
    if q.timezone is not None and q.timezone != tz_name:
        return None
    base = kept(kept_.bind, ci_id, tz_name)
    if base is None:
        return None
    assessment_id = base.state.assessment_ids.get(q.assessment, 0) if q.assessment else 0
    rows = await kept_.now(ci_id, holder.user_id, assessment_id)
    counters = {(int(r[1]), int(r[2])): int(r[3]) for r in rows if r[0] == 0}
    u = holder.user_id
    if counters.get((0, u), 0) != holder.version:
        holder = await kept_.holder(token, counters.get((0, u), 0), at)
        if holder is None or holder.mode is not None or holder.uid != q.uid:
            return None
    catalogue = counters.get((0, 0), 0)
    if await kept_.on_exam_network(address, catalogue):
        return None
    if base.config[:2] != (counters.get((ci_id, 0), 0), catalogue):
        return None
    sig: Signature = (counters.get((ci_id, u), 0), counters.get((0, u), 0))
    roles = base.staff.get(u)
    if roles is None or roles[0] != sig:
        return None
    now = UsersNow(config=base.config, ids={holder.uid: u}, signatures={u: sig})
    now.roles[u] = roles[1]
    for r in sorted((r for r in rows if r[0] == ATTEMPT), key=lambda r: r[3]):
        now.attempts.setdefault(u, {})[int(r[1])] = InstanceFacts(bool(r[4]), r[2])
    stored = Stored.kept(at, base, now)
    when, tz, user = build_input(stored, q)
    out = render(stored, when, tz, decide(stored, user, when))
    return out
