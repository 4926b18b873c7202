"""The fast path of ``RoleIndex`` (issue 16) gives exactly the answers of the algorithm it
replaced, kept as the oracle in ``oracle_allowed.py``, and of a plain statement of the rules.

Random users (people and class accounts), assignments (table roles and custom roles, in the
system, domains, courses and sections, with windows whose ends fall a microsecond apart),
questions (cumulative, a chosen role, viewing within a course) at random instants in several
time zones, and changes (grants, revocations, deletions, custom-role edits, a class account
reassigned) between them. Every answer is compared on its value, its sources, its
explanation and its decision under a few contexts: on an index that has answered nothing
(first-time questions on a fresh index), and on one long-lived index asked the whole sequence
(its memos, windows and invalidation on change).
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle_allowed import OracleIndex

from coursegate.roles import (
    Area,
    AreaKind,
    AuthKind,
    CheckContext,
    CoursePreferences,
    CustomRole,
    Level,
    Locks,
    Permission,
    ResourceVerdict,
    RoleAssignment,
    RoleIndex,
    RoleTable,
    SelectedRole,
    SessionState,
    Source,
    User,
    evaluate,
)
from coursegate.roles.permission import new_permission
from coursegate.roles.records import RoleRecords

TABLE = RoleTable.default()
BASE = datetime(2024, 1, 1, tzinfo=UTC)
ZONES = (UTC, ZoneInfo("America/Detroit"), ZoneInfo("Asia/Kolkata"))
HELPER = CustomRole("msu", "author", "helper", domain_privs="sma", course="bre&R:vgr&SCR:pch")
GRADER = CustomRole("msu", "author", "grader", course="vgr&R:mgr&SCR")
GRADER_EDITED = CustomRole("msu", "author", "grader", system="", course="vgr:opa&R:dcm&S")
CUSTOM = (HELPER, GRADER)

C1, C2, U1 = (Area.parse(p) for p in ("/msu/c1", "/msu/c2", "/umn/u1"))
COURSES = [C1, C2, U1]
SECTIONS = [Area.parse(p) for p in ("/msu/c1/s1", "/msu/c1/s2", "/umn/u1/s1")]
DOMAINS = [Area.parse(p) for p in ("/msu/", "/umn/")]
AREAS = [Area.system(), *DOMAINS, *COURSES, *SECTIONS, Area.parse("/usc/x9/s3")]
PRIVILEGES = [*sorted(TABLE.privileges), "zzz"]
UIDS = ("ann", "bob", "kid", "free")
USERS = (
    User("ann", "msu", AuthKind.KERBEROS),
    User("bob", "umn"),
    User("kid", "msu", class_account=True, class_course=C1),
    User("free", "msu", class_account=True),
    User("author", "msu"),
)


def _holdings() -> list[tuple[str, Area]]:
    """Every (role, area) a role may be held in, over the small world above."""
    pairs: list[tuple[str, Area]] = []
    for role in [*TABLE.roles, *(c.role_name for c in CUSTOM)]:
        if role == "cr":
            continue
        kinds = {kind.value for kind in TABLE.holding_kinds(role)}
        candidates = [Area.system()] if "system" in kinds else []
        candidates += DOMAINS if "domain" in kinds else []
        candidates += COURSES if "course" in kinds else []
        candidates += SECTIONS if "section" in kinds else []
        pairs.extend((role, area) for area in candidates)
    return pairs


HOLDINGS = _holdings()
# Half the records are held on one walk (/msu/c1/s1, /msu/c1, /msu/, /), so that answers often
# merge rows anchored at several of its places.
ONE_WALK = [(role, area) for role, area in HOLDINGS if area.contains(SECTIONS[0])]
# Instants on a coarse grid of hours, nudged by a microsecond, in one of several zones: window
# ends meet questions exactly, a microsecond before and a microsecond after.
instants = st.builds(
    lambda hours, nudge, zone: (BASE + timedelta(hours=hours, microseconds=nudge)).astimezone(zone),
    st.integers(0, 12),
    st.sampled_from((0, 0, 0, -1, 1)),
    st.sampled_from(ZONES),
)


@st.composite
def assignments(draw: st.DrawFn) -> RoleAssignment:
    role, area = draw(st.sampled_from(HOLDINGS) | st.sampled_from(ONE_WALK))
    uid = draw(st.sampled_from((*UIDS, "ann", "ann")))  # ann often holds several roles
    if draw(st.integers(0, 3)) == 0:  # a class account in its course, so that it counts
        uid, role, area = "kid", "st", draw(st.sampled_from([C1, SECTIONS[0]]))
    start = draw(st.none() | instants)
    end = draw(st.none() | instants)
    if start is not None and end is not None and end < start:
        start, end = end, start
    return RoleAssignment(uid, role, area, start, end)


@dataclass(frozen=True)
class Ask:
    """A question. Most are about a record held (``near``): its user, a privilege its role has
    at some level and an area around where it is held; the others are drawn from everything."""

    near: bool
    uid: str
    privilege: str
    area: Area
    at: datetime
    how: str  # "cumulative", "chosen" or "within"
    pick: int  # which record, which privilege, which nearby area, which chosen role or course


@dataclass(frozen=True)
class Change:
    kind: str  # "grant", "revoke", "delete", "edit", "reassign"
    pick: int
    grant: RoleAssignment
    at: datetime


asks = st.builds(
    Ask,
    st.sampled_from((True, True, True, False)),
    st.sampled_from((*UIDS, "author", "nobody")),
    st.sampled_from(PRIVILEGES),
    st.sampled_from(AREAS),
    instants,
    st.sampled_from(("cumulative", "cumulative", "cumulative", "chosen", "within")),
    st.integers(0, 1000),
)
changes = st.builds(
    Change,
    st.sampled_from(("grant", "revoke", "delete", "edit", "reassign")),
    st.integers(0, 20),
    assignments(),
    instants,
)
steps = st.lists(
    st.integers(0, 3).flatmap(lambda i: changes if i == 0 else asks), min_size=4, max_size=30
)


def _verdict(uid: str, privilege: str, area: Area, at: datetime) -> ResourceVerdict:
    return ResourceVerdict(len(privilege) % 2 == 0, f"{uid} {privilege} {area.path}")


CONTEXTS = (
    CheckContext(),
    CheckContext(
        target_auth=AuthKind.KERBEROS,
        course_preferences=CoursePreferences(denied_to_roles={"vgr": frozenset({"ta"})}),
        locks=Locks(),
        resource=_verdict,
        session=SessionState(True),
    ),
    CheckContext(course_preferences=CoursePreferences(), locks=Locks(resource_locked=True)),
)


@dataclass
class World:
    """The records as they now are, to build a fresh index from at any step."""

    held: list[RoleAssignment]
    users: dict[str, User]
    custom: dict[str, CustomRole]

    def index(self, cls: type[RoleRecords] = RoleIndex) -> RoleRecords:
        return cls(TABLE, self.users.values(), self.held, self.custom.values())


def _question(ask: Ask, world: World) -> tuple[str, str, Area]:
    """The user, privilege and area asked about."""
    if not ask.near or not world.held:
        return ask.uid, ask.privilege, ask.area
    record = world.held[ask.pick % len(world.held)]
    custom = world.custom.get(record.role)
    codes = sorted(
        code
        for level in Level
        for code in (
            custom.privileges_at(level) if custom is not None else TABLE.row(record.role, level)
        )
    ) or [ask.privilege]
    held = record.area
    nearby = [held, held.parent or held, held.domain_area or held, ask.area]
    if held.kind is AreaKind.COURSE:
        nearby.append(Area.of_section(held.domain, held.course, "s1"))
    return record.uid, codes[ask.pick % len(codes)], nearby[(ask.pick // 7) % len(nearby)]


def _ask(index: RoleRecords, ask: Ask, world: World) -> Permission:
    assert isinstance(index, RoleIndex | OracleIndex)
    uid, privilege, area = _question(ask, world)
    if ask.how == "chosen":
        mine = [a for a in world.held if a.uid == uid] or world.held
        chosen = mine[ask.pick % len(mine)] if mine else RoleAssignment("x", "st", C1)
        selected = SelectedRole(chosen.role, chosen.area)
        return index.allowed(uid, privilege, area, at=ask.at, selected=selected)
    if ask.how == "within":
        course = area.course_area or COURSES[ask.pick % len(COURSES)]
        return index.allowed_within_course(uid, privilege, area, at=ask.at, course=course)
    return index.allowed(uid, privilege, area, at=ask.at)


def _same(got: Permission, expected: Permission, at: datetime) -> None:
    assert got.value == expected.value
    assert got.sources == expected.sources
    assert (got.uid, got.privilege, got.area) == (expected.uid, expected.privilege, expected.area)
    assert got == expected
    assert got.explanation == expected.explanation
    for context in CONTEXTS:
        mine = evaluate(got, context, at=at, table=TABLE)
        theirs = evaluate(expected, context, at=at, table=TABLE)
        assert (mine.allowed, mine.explanation) == (theirs.allowed, theirs.explanation)


def _change(indexes: list[RoleRecords], change: Change, world: World) -> None:
    """Apply one change to every index and to the world."""
    held = world.held
    if change.kind == "grant":
        if indexes[0].assignment_problem(change.grant) is None:
            held.append(change.grant)
            for index in indexes:
                index.add_assignment(change.grant)
    elif change.kind == "delete" and held:
        victim = held[change.pick % len(held)]
        held[:] = [
            a
            for a in held
            if not (a.uid == victim.uid and a.role == victim.role and a.area == victim.area)
        ]
        for index in indexes:
            index.remove_assignments(victim.uid, victim.role, victim.area)
    elif change.kind == "revoke" and held:
        victim = held[change.pick % len(held)]
        end = change.at if victim.start is None or victim.start <= change.at else victim.start
        if victim.end is None or victim.end > end:
            revoked = replace(victim, end=end)
            held[held.index(victim)] = revoked
            for index in indexes:
                index.replace_assignment(victim, revoked)
    elif change.kind == "edit":
        edited = GRADER_EDITED if change.pick % 2 else GRADER
        for index in indexes:
            world.custom[edited.role_name] = index.define_custom_role(edited)
    elif change.kind == "reassign":
        kid = User("kid", "msu", class_account=True, class_course=COURSES[change.pick % 2])
        world.users["kid"] = kid
        for index in indexes:
            index.add_user(kid)


RELAXED = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@RELAXED
@given(st.lists(assignments(), max_size=10), steps)
def test_the_fast_path_answers_as_the_oracle(
    initial: list[RoleAssignment], sequence: list[Ask | Change]
) -> None:
    world = World(list(initial), {u.uid: u for u in USERS}, {c.role_name: c for c in CUSTOM})
    fast, oracle = world.index(), world.index(OracleIndex)
    for step in sequence:
        if isinstance(step, Change):
            _change([fast, oracle], step, world)
            continue
        expected = _ask(oracle, step, world)
        # the long-lived index, with whatever it remembers from earlier questions
        _same(_ask(fast, step, world), expected, step.at)
        # a first-time question on a fresh index (nothing remembered)
        _same(_ask(world.index(), step, world), expected, step.at)
        # the same question again, twice: asked again, it is kept; then it is remembered
        _same(_ask(fast, step, world), expected, step.at)
        _same(_ask(fast, step, world), expected, step.at)


def _reference(index: RoleIndex, uid: str, privilege: str, area: Area, at: datetime) -> str:
    """The cumulative permission, stated plainly: every role in force (not barred) whose row of
    a level reaches the area (system rows everywhere, domain rows in the domain, course rows at
    the course or section held and below it), merged as the table says."""
    letters: list[str] = []
    for held in index.current_assignments(uid, at):
        custom = index.custom_role(held.role)
        for level in Level:
            row = custom.privileges_at(level) if custom is not None else TABLE.row(held.role, level)
            if privilege not in row:
                continue
            if level is Level.DOMAIN and (not held.area.domain or area.domain != held.area.domain):
                continue
            if level is Level.COURSE and (not held.area.course or not held.area.contains(area)):
                continue
            letters.append(row[privilege])
    if not letters:
        return ""
    if "" in letters:
        return "F"
    return "".join(dict.fromkeys("".join(letters)))


@RELAXED
@given(
    st.lists(assignments(), max_size=12),
    st.lists(st.tuples(st.sampled_from(UIDS), st.sampled_from(PRIVILEGES)), min_size=1),
    st.sampled_from(AREAS),
    instants,
)
def test_first_time_answers_on_a_fresh_index_follow_the_plain_rules(
    held: list[RoleAssignment],
    questions: list[tuple[str, str]],
    area: Area,
    at: datetime,
) -> None:
    index = RoleIndex(TABLE, USERS, held, CUSTOM)
    for uid, privilege in questions:
        permission = index.allowed(uid, privilege, area, at=at)
        assert permission.value == _reference(index, uid, privilege, area, at)
        first = RoleIndex(TABLE, USERS, held, CUSTOM).allowed(uid, privilege, area, at=at)
        assert first == permission
        assert first.explanation == permission.explanation


def test_sources_come_in_the_order_of_the_walk_whatever_the_order_of_the_records() -> None:
    """bre from all four places at once: a section role, a course role, a domain row (in:d)
    and a system row (cc:s), recorded in the opposite order."""
    held = [
        RoleAssignment("ann", "cc", C1),
        RoleAssignment("ann", "in", C2),
        RoleAssignment("ann", "st", C1),
        RoleAssignment("ann", "ta", SECTIONS[0]),
        RoleAssignment("ann", "in", Area.parse("/msu/c3")),
    ]
    at = BASE
    fast = RoleIndex(TABLE, USERS, held, CUSTOM).allowed("ann", "bre", SECTIONS[0], at=at)
    oracle = OracleIndex(TABLE, USERS, held, CUSTOM).allowed("ann", "bre", SECTIONS[0], at=at)
    _same(fast, oracle, at)
    assert [(s.role, s.held_at.path, s.level.value) for s in fast.sources] == [
        ("ta", "/msu/c1/s1", "c"),
        ("st", "/msu/c1", "c"),
        ("in", "/msu/c2", "d"),
        ("in", "/msu/c3", "d"),
        ("cc", "/msu/c1", "s"),
    ]
    assert fast.value == "F"


@RELAXED
@given(
    st.lists(assignments(), min_size=1, max_size=8),
    st.lists(asks, min_size=1, max_size=3),
    st.lists(st.tuples(st.integers(0, 2), instants), min_size=3, max_size=40),
)
def test_remembered_answers_follow_the_clock(
    held: list[RoleAssignment], pool: list[Ask], clock: list[tuple[int, datetime]]
) -> None:
    """A few questions asked over and over as the clock jumps back and forth: once kept,
    an answer is given only while every role it depends on is as it was."""
    world = World(list(held), {u.uid: u for u in USERS}, {c.role_name: c for c in CUSTOM})
    fast, oracle = world.index(), world.index(OracleIndex)
    for which, at in clock:
        ask = replace(pool[which % len(pool)], at=at)
        _same(_ask(fast, ask, world), _ask(oracle, ask, world), at)


def test_a_permission_made_fast_is_a_permission() -> None:
    """new_permission fills a draft with Permission's slots, then gives it its class."""
    area = Area.parse("/msu/c1/s1")
    source = Source("st", C1, Level.COURSE, "RXL", None, BASE)
    made = new_permission("ann", "bre", area, "RXL", (source,), _LINES)
    plain = Permission("ann", "bre", area, "RXL", (source,), _LINES)
    assert type(made) is Permission
    assert made == plain
    assert hash(made) == hash(plain)
    assert repr(made) == repr(plain)
    assert made.explanation == ("because",)
    with pytest.raises(FrozenInstanceError):
        made.value = "F"  # type: ignore[misc]


class _Because:
    def explain(self, permission: Permission) -> tuple[str, ...]:
        return ("because",)


_LINES = _Because()
