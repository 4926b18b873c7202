"""Compiled course instances kept between requests — and never used after they went stale.

Compiling a course instance from the store (800 students × 60 assessments: reading the roster,
their sections, exceptions and reservations, then :class:`CompiledCourseInstance`) takes tens of
milliseconds; a decision on a compiled one is a look-up. This module keeps the compiled form in
the process and checks, on **every** request, that the database still holds what the answer
depends on. Several server processes (workers, machines) may share one database: each keeps its
own copy and each sees a change committed by any other on its very next request.

**What is checked.** A student's row of a compiled course instance is their own decision: it
depends on the course instance's configuration and on that student's facts, nothing else (the
core only shares work between students whose facts are alike). Every committed change to those
raises a counter in the same transaction — database triggers do it, whoever writes
(:class:`~coursegate.store.models.DecisionVersion`, migration 0007). So each request reads, in
one query (:func:`read_users`), for the users it asks about: the counters of the course
instance's configuration and of the catalogue, each user's counters (their enrollment, sections
and exceptions here; their account, reservations and roles anywhere), their enrollment and
account rows — and compares the counters with those the compiled form was built from.

A changed configuration (a sync) and the course instance is compiled again. A changed *user*
does not cost a compilation: their row of the compiled form is simply not used any more, and
they are decided on their own from their facts read afresh, kept with the entry under their
new counters (:meth:`CompiledState.patched`) — so instructors granting extensions while
students ask does not recompile the course instance on every extension.

A compiled course instance is kept only when every counter read *before* compiling equals the
one read *after* (nothing was committed in between), so what it holds is exactly what its
counters say.

**Attempts and roles are read per request, not cached.** Students start and submit attempts
all the time; the compiled form is built as if nobody had started anything, and each decision
adds the student's own attempt (read by the same query), compiling that one cell on its own —
once per slot of the compiled form and kind of attempt (:meth:`CompiledState.cell`). Exam mode
is handled the same way. Course-staff roles (instructors, TAs) come with the same query.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    bindparam,
    cast,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from coursegate.core.decision import AssessmentDecision
from coursegate.core.engine import CompiledCourseInstance, Facts, Student, timelines
from coursegate.core.instants import Instant, zone
from coursegate.core.model import InstanceFacts, Mode
from coursegate.core.timeline import Timeline
from coursegate.services.common.places import instance_area
from coursegate.services.courses.roster import RosterEntry, compile_course_instance
from coursegate.services.courses.state import InstanceState
from coursegate.store.models import (
    Assessment,
    AssessmentInstance,
    CourseInstance,
    DecisionVersion,
    Enrollment,
    RoleAssignmentRow,
    User,
)

MAX_ENTRIES = 32
"""Compiled course instances kept per process (least recently used go first)."""
MAX_PATCHES = 20_000
"""Users decided on their own (changed since the compilation) kept per entry."""
MAX_CELLS = 100_000
"""Cells compiled on their own (attempts, Exam mode) kept per entry before starting afresh."""
STAFF_ROLE_CODES = ("cc", "in", "ta")
"""The course roles read with the users
(:data:`coursegate.services.access.decisions.answers.STAFF_ROLES` says what each decides as)."""
_CHUNK = 2_000
"""Users per query (each part of the union repeats the list)."""

ENROLLMENT, ACCOUNT, VERSION, ROLE, ATTEMPT = range(1, 6)
_NONE = cast(null(), BigInteger)
"""An empty column of a row (one object: every part of the union names it alike)."""


def _facts_query(who_kind: str) -> Any:
    """The one query of :func:`read_users`, for ``who_kind``: ``everyone`` with an enrollment
    in the course instance, ``one`` user (``:uid``) or ``many`` (``:uids``). Rows are
    ``(kind, user id, a, b, c, text)``."""
    ci_id = bindparam("ci_id", type_=Integer)
    everyone = who_kind == "everyone"
    if everyone:
        who: Any = select(Enrollment.user_id).where(Enrollment.course_instance_id == ci_id)
    elif who_kind == "one":
        who = select(User.id).where(User.uid == bindparam("uid", type_=String))
    else:
        who = select(User.id).where(User.uid.in_(bindparam("uids", expanding=True)))
    parts = _user_rows(ci_id, who)
    if not everyone:
        parts += _per_request_rows(ci_id, who)
    return union_all(*parts)


def _kind(k: int) -> Any:
    return literal(k, Integer)


def _user_rows(ci_id: Any, who: Any) -> list[Any]:
    """The users' enrollment and account, and the counters of the configuration, the catalogue
    and each user (:class:`~coursegate.store.models.DecisionVersion`; ``a`` is the course
    instance the counter is kept for, 0 for every one)."""
    big = BigInteger
    none = _NONE
    return [
        select(
            _kind(ENROLLMENT),
            Enrollment.user_id,
            none,
            none,
            none,
            Enrollment.status,
        ).where(Enrollment.course_instance_id == ci_id, Enrollment.user_id.in_(who)),
        select(
            _kind(ACCOUNT),
            User.id,
            none,
            none,
            none,
            User.uid,
        ).where(User.id.in_(who)),
        select(
            _kind(VERSION),
            cast(DecisionVersion.user_id, big),
            cast(DecisionVersion.course_instance_id, big),
            cast(DecisionVersion.version, big),
            none,
            literal(""),
        ).where(
            DecisionVersion.course_instance_id.in_((0, ci_id)),
            or_(DecisionVersion.user_id == 0, DecisionVersion.user_id.in_(who)),
        ),
    ]


def _per_request_rows(ci_id: Any, who: Any) -> list[Any]:
    """What is read per request and never cached: the users' course-staff roles in the course
    instance or one of its areas (``:area``, ``:within``), and their attempts."""
    big = BigInteger
    none = _NONE
    return [
        select(
            _kind(ROLE),
            RoleAssignmentRow.user_id,
            cast(RoleAssignmentRow.start_at, big),
            cast(RoleAssignmentRow.end_at, big),
            none,
            RoleAssignmentRow.role,
        ).where(
            RoleAssignmentRow.user_id.in_(who),
            or_(*(RoleAssignmentRow.role == code for code in STAFF_ROLE_CODES)),
            or_(
                RoleAssignmentRow.area == bindparam("area", type_=String),
                RoleAssignmentRow.area.like(bindparam("within", type_=String), escape="!"),
            ),
        ),
        select(
            _kind(ATTEMPT),
            AssessmentInstance.user_id,
            cast(AssessmentInstance.assessment_id, big),
            cast(AssessmentInstance.date_limit, big),
            cast(AssessmentInstance.number * 2 + cast(AssessmentInstance.open, Integer), big),
            literal(""),
        )
        .join(Assessment, Assessment.id == AssessmentInstance.assessment_id)
        .where(Assessment.course_instance_id == ci_id, AssessmentInstance.user_id.in_(who)),
    ]


@functools.cache
def _query(who_kind: str) -> Any:
    return _facts_query(who_kind)


_PREPARED: dict[str, tuple[str, Any]] = {}


def _read_one(session: Session, params: dict[str, Any]) -> list[Any]:
    """The query for one user (most requests), compiled once per dialect and handed to the
    driver as is: SQLAlchemy's per-execution work on a union of selects costs more than the
    database does."""
    conn = session.connection()
    dialect = conn.dialect
    hit = _PREPARED.get(dialect.name)
    if hit is None:
        compiled = _query("one").compile(dialect=dialect)
        hit = _PREPARED[dialect.name] = (str(compiled), compiled)
    sql, compiled = hit
    values = compiled.construct_params(params)
    names = compiled.positiontup
    args: Any = tuple(values[k] for k in names) if names else values
    return list(conn.exec_driver_sql(sql, args).all())


Signature = tuple[int, int]
"""A user's counters: of their facts in the course instance, and of their account."""
Config = tuple[Any, ...]
Role = tuple[str, Instant | None, Instant | None]
"""A course-staff role: code, start, end."""


@dataclass
class UsersNow:
    """What the store holds now about the users of a request (see the module docstring)."""

    config: Config
    ids: dict[str, int] = field(default_factory=dict)
    """uid → user id, for the users that exist."""
    signatures: dict[int, Signature] = field(default_factory=dict)
    enrolled: set[int] = field(default_factory=set)
    """Users whose enrollment is not ``removed`` (the compiled form's students)."""
    roles: dict[int, list[Role]] = field(default_factory=dict)
    """Course-staff roles held in the course instance or one of its sections."""
    attempts: dict[int, dict[int, InstanceFacts]] = field(default_factory=dict)
    """User id → assessment row id → their latest attempt."""


def _area_patterns(ci: CourseInstance) -> tuple[str, str]:
    area = instance_area(ci).path
    within = area.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "/%"
    return area, within


def configuration(ci: CourseInstance, counters: dict[tuple[int, int], int]) -> Config:
    """What a compiled form of ``ci`` was built from: the counters of its configuration and of
    the catalogue, its content and its zone."""
    return (counters.get((ci.id, 0), 0), counters.get((0, 0), 0), ci.content_hash, ci.timezone)


def signature(ci_id: int, user_id: int, counters: dict[tuple[int, int], int]) -> Signature:
    return (counters.get((ci_id, user_id), 0), counters.get((0, user_id), 0))


def _collect(ci: CourseInstance, rows: Iterable[Sequence[Any]]) -> UsersNow:
    now = UsersNow(config=())
    counters: dict[tuple[int, int], int] = {}
    tries: list[tuple[int, int, int, Instant | None, bool]] = []
    users: set[int] = set()
    for kind, user_id, a, b, c, text in rows:
        if kind == VERSION:
            counters[(int(a), int(user_id))] = int(b)
        elif kind == ROLE:
            now.roles.setdefault(user_id, []).append((str(text), a, b))
        elif kind == ATTEMPT:
            tries.append((user_id, int(c) // 2, a, b, bool(int(c) % 2)))
        elif kind == ACCOUNT:
            now.ids[str(text)] = user_id
            users.add(user_id)
        elif kind == ENROLLMENT:
            users.add(user_id)
            if text != "removed":
                now.enrolled.add(user_id)
    now.config = configuration(ci, counters)
    now.signatures = {u: signature(ci.id, u, counters) for u in users}
    for user_id, _number, assessment_id, date_limit, is_open in sorted(tries, key=lambda t: t[1]):
        now.attempts.setdefault(user_id, {})[assessment_id] = InstanceFacts(is_open, date_limit)
    return now


def read_users(session: Session, ci: CourseInstance, uids: Iterable[str]) -> UsersNow:
    """The configuration of ``ci`` and everything about these users a decision depends on,
    their course-staff roles and attempts — in one query per 2,000 users."""
    names = sorted(set(uids))
    area, within = _area_patterns(ci)
    if len(names) == 1:
        one = {"ci_id": ci.id, "uid": names[0], "area": area, "within": within}
        return _collect(ci, _read_one(session, one))
    query = _query("many")
    rows: list[Any] = []
    for start in range(0, max(len(names), 1), _CHUNK):
        chunk = names[start : start + _CHUNK]
        part = session.execute(
            query, {"ci_id": ci.id, "uids": chunk, "area": area, "within": within}
        ).all()
        # the configuration's and the catalogue's counters come with every chunk
        rows += part if start == 0 else [r for r in part if r[0] != VERSION or r[1] != 0]
    return _collect(ci, rows)


def read_everyone(session: Session, ci: CourseInstance) -> UsersNow:
    """:func:`read_users` for every user with an enrollment (for compiling), without roles and
    attempts."""
    query = _query("everyone")
    return _collect(ci, session.execute(query, {"ci_id": ci.id}).all())


@dataclass
class CompiledState:
    """A course instance compiled for its enrolled students (without attempts), and what it
    was compiled from."""

    config: Config
    signatures: dict[int, Signature]
    compiled: CompiledCourseInstance
    roster: list[RosterEntry]
    state: InstanceState
    row_of_user: dict[int, int]
    """User id → the student's row in :attr:`compiled`."""
    ci_id: int
    tz_name: str
    """The zone it was compiled in."""
    memo: dict[int, tuple[object, bytes]] = field(default_factory=dict)
    """Serialised JSON of decisions, by ``id``: each with the decision itself, which keeps it
    alive (so its id cannot be reused while it is here)."""
    cells: dict[tuple[int, Mode, InstanceFacts | None], Timeline[AssessmentDecision]] = field(
        default_factory=dict
    )

    patches: dict[int, tuple[Signature, Student]] = field(default_factory=dict)
    """Users whose facts changed since (or who were enrolled after) the compilation: their
    facts as read afresh, under the counters they were read at (:meth:`patched`)."""
    staff: dict[int, tuple[Signature, list[Role]]] = field(default_factory=dict)
    """Users' course-staff roles here, under the counters they were read at (roles raise the
    user's counter): what a request answered from kept state alone needs
    (:mod:`coursegate.services.access.decisions.kept`)."""

    def holds(self, now: UsersNow) -> bool:
        """Whether this compiled form is still right: the same configuration. (A user whose
        own facts changed is decided without their row: :meth:`row`.)"""
        return now.config == self.config

    def row(self, user_id: int, now: Signature | None) -> int | None:
        """The user's row of the compiled form, if it still holds what their facts are now."""
        found = self.row_of_user.get(user_id)
        if found is None or self.signatures.get(user_id, (0, 0)) != now:
            return None
        return found

    def patched(self, user_id: int, now: Signature | None) -> Student | None:
        """The user as read on their own at these counters, if that was kept."""
        found = self.patches.get(user_id)
        return found[1] if found is not None and found[0] == now else None

    def keep_patch(self, user_id: int, now: Signature, student: Student) -> None:
        if len(self.patches) >= MAX_PATCHES:
            self.patches.clear()
        self.patches[user_id] = (now, student)

    def keep_roles(self, user_id: int, now: Signature, roles: list[Role]) -> None:
        if len(self.staff) >= MAX_PATCHES:
            self.staff.clear()
        self.staff[user_id] = (now, roles)

    def cell(
        self, row: int, j: int, mode: Mode, attempt: InstanceFacts | None
    ) -> Timeline[AssessmentDecision]:
        """Student ``row``'s timeline of assessment ``j`` with their own attempt, or in
        ``mode`` (the compiled form assumes no attempt, Public mode). Students the core put in
        the same slot share everything the rules can see, so the timeline is compiled once per
        slot, mode and attempt (closed attempts are alike) and kept with the entry."""
        shared = self.compiled.timeline(row, j)
        key = (id(shared), mode, attempt)
        found = self.cells.get(key)
        if found is None:
            student = self.roster[row].student
            config = self.compiled.assessments[j]
            facts = Facts(
                user=student.user,
                mode=mode,
                reservations=student.reservations,
                personal=student.personal.get(config.id, ()),
                enrollment=student.enrollment,
                instance=attempt,
            )
            _, tl = timelines(self.state.settings.policy, config, facts, self.compiled.tz)
            assert tl is not None
            if len(self.cells) >= MAX_CELLS:
                self.cells.clear()
            found = self.cells[key] = tl
        return found


_LOCK = threading.Lock()
_ENTRIES: OrderedDict[tuple[object, int, str], CompiledState] = OrderedDict()
_BUILDING: dict[tuple[object, int, str], threading.Lock] = {}


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    unstable: int = 0
    """Compiled while someone committed a change: used for that request, not kept."""


STATS = CacheStats()


def compiled_state(
    session: Session, ci: CourseInstance, now: UsersNow, tz: str | None = None
) -> CompiledState:
    """``ci`` compiled for its students in the zone ``tz`` (default: the course instance's),
    from this process's cache when its configuration did not change since (``now``: what
    :func:`read_users` read in this transaction)."""
    tz_name = tz or ci.timezone
    key = (session.get_bind(), ci.id, tz_name)  # one process may use several databases (tests)
    hit = _lookup(key, now)
    if hit is not None:
        return hit
    # One thread compiles; the others of this process wait for it and use its result if it
    # holds for them (instead of all compiling the same course instance at once).
    with _LOCK:
        if key not in _BUILDING and len(_BUILDING) >= 4 * MAX_ENTRIES:
            _BUILDING.clear()  # locks being held stay valid; only forgotten ones go
        building = _BUILDING.setdefault(key, threading.Lock())
    with building:
        hit = _lookup(key, now)
        if hit is not None:
            return hit
        return _build(session, ci, key, tz_name)


def kept(bind: object, ci_id: int, tz_name: str) -> CompiledState | None:
    """The compiled form this process keeps of a course instance, whatever its configuration
    counters (the caller compares them)."""
    with _LOCK:
        return _ENTRIES.get((bind, ci_id, tz_name))


_NAMES: dict[tuple[object, str, str | None], tuple[int, str]] = {}


def remember_name(bind: object, course: str, instance: str | None, ci: CourseInstance) -> None:
    """The course instance a request's names meant (for the kept way, which trusts it only
    while the catalogue's counter, read with every request, is the one its entry was built
    at)."""
    with _LOCK:
        if len(_NAMES) >= 4 * MAX_PATCHES:
            _NAMES.clear()
        _NAMES[(bind, course, instance)] = (ci.id, ci.timezone)


def named(bind: object, course: str, instance: str | None) -> tuple[int, str] | None:
    """The course instance id and zone those names meant when a request last named them."""
    return _NAMES.get((bind, course, instance))


def _lookup(key: tuple[object, int, str], now: UsersNow) -> CompiledState | None:
    with _LOCK:
        hit = _ENTRIES.get(key)
        if hit is not None and hit.holds(now):
            _ENTRIES.move_to_end(key)
            STATS.hits += 1
            return hit
    return None


def _build(
    session: Session, ci: CourseInstance, key: tuple[object, int, str], tz_name: str
) -> CompiledState:
    before = read_everyone(session, ci)
    compiled, roster, state = compile_course_instance(session, ci, attempts=False)
    if tz_name != ci.timezone:
        configs = [src.config for _, src in sorted(state.assessments.items())]
        compiled = CompiledCourseInstance(
            state.settings.policy, configs, [r.student for r in roster], zone(tz_name)
        )
    entry = CompiledState(
        before.config,
        before.signatures,
        compiled,
        roster,
        state,
        {r.user_id: i for i, r in enumerate(roster)},
        ci.id,
        tz_name,
    )
    after = read_everyone(session, ci)
    with _LOCK:
        if after.config == before.config and after.signatures == before.signatures:
            STATS.misses += 1
            _ENTRIES[key] = entry
            _ENTRIES.move_to_end(key)
            while len(_ENTRIES) > MAX_ENTRIES:
                _ENTRIES.popitem(last=False)
        else:
            STATS.unstable += 1
    return entry


def clear() -> None:
    """Forget every compiled course instance (tests and benchmarks)."""
    with _LOCK:
        _ENTRIES.clear()
