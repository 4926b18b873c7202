"""Property tests: chosen roles never exceed cumulative privileges, revoking never adds one, and
the compiled, cached lookup always agrees with a freshly built one."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coursegate.roles import (
    Area,
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
    User,
    evaluate,
)

TABLE = RoleTable.default()
BASE = datetime(2024, 1, 1, tzinfo=UTC)
HELPER = CustomRole("msu", "author", "helper", domain_privs="sma", course="bre&R:vgr&SCR:pch")

COURSE_AREAS = [Area.parse(p) for p in ("/msu/c1", "/msu/c2", "/umn/u1")]
SECTION_AREAS = [Area.parse(p) for p in ("/msu/c1/s1", "/msu/c1/s2")]
DOMAIN_AREAS = [Area.parse(p) for p in ("/msu/", "/umn/")]
CHECK_AREAS = [Area.system(), *DOMAIN_AREAS, *COURSE_AREAS, *SECTION_AREAS]
PRIVILEGES = sorted(TABLE.privileges)


def _holdings() -> list[tuple[str, Area]]:
    """Every (role, area) a role may be held in, over a small world."""
    pairs: list[tuple[str, Area]] = []
    for role in [*TABLE.roles, HELPER.role_name]:
        if role == "cr":
            continue
        kinds = {kind.value for kind in TABLE.holding_kinds(role)}
        candidates = [Area.system()] if "system" in kinds else []
        if "domain" in kinds:
            candidates += DOMAIN_AREAS
        if "course" in kinds:
            candidates += COURSE_AREAS
        if "section" in kinds:
            candidates += SECTION_AREAS
        pairs.extend((role, area) for area in candidates)
    return pairs


HOLDINGS = _holdings()
moments = st.integers(min_value=0, max_value=40).map(lambda days: BASE + timedelta(days=days))


@st.composite
def assignments(draw: st.DrawFn) -> RoleAssignment:
    role, area = draw(st.sampled_from(HOLDINGS))
    start = draw(st.none() | moments)
    end = draw(st.none() | moments)
    if start is not None and end is not None and end < start:
        start, end = end, start
    return RoleAssignment("u", role, area, start, end)


def _build(held: list[RoleAssignment]) -> RoleIndex:
    return RoleIndex(
        TABLE,
        [User("u", "msu", AuthKind.KERBEROS), User("author", "msu")],
        held,
        [HELPER],
    )


def _verdict(ok: bool) -> object:
    def rule(uid: str, privilege: str, area: Area, at: datetime) -> ResourceVerdict:
        return ResourceVerdict(ok, "drawn")

    return rule


contexts = st.builds(
    CheckContext,
    target_auth=st.none() | st.sampled_from(list(AuthKind)),
    course_preferences=st.none()
    | st.just(CoursePreferences())
    | st.just(CoursePreferences(denied_to_roles={"vgr": frozenset({"ta"})})),
    locks=st.none() | st.just(Locks()) | st.just(Locks(resource_locked=True)),
    resource=st.none() | st.sampled_from([True, False]).map(_verdict),
    session=st.none() | st.builds(SessionState, st.booleans()),
)

RELAXED = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@RELAXED
@given(st.lists(assignments(), min_size=1, max_size=6), moments, contexts)
def test_a_chosen_role_never_has_more_than_cumulative(
    held: list[RoleAssignment], at: datetime, context: CheckContext
) -> None:
    index = _build(held)
    for chosen in {SelectedRole(a.role, a.area) for a in held}:
        for area in CHECK_AREAS:
            for privilege in PRIVILEGES:
                one = index.allowed("u", privilege, area, at=at, selected=chosen)
                every = index.allowed("u", privilege, area, at=at)
                if not one.granted:
                    continue
                assert every.granted, (chosen, privilege, area)
                assert set(one.sources) <= set(every.sources)
                if evaluate(one, context, at=at, table=TABLE).allowed:
                    assert evaluate(every, context, at=at, table=TABLE).allowed


@RELAXED
@given(
    st.lists(assignments(), min_size=1, max_size=6),
    st.data(),
    moments,
    st.lists(moments, min_size=1, max_size=4),
    contexts,
)
def test_revoking_never_adds_a_privilege(
    held: list[RoleAssignment],
    data: st.DataObject,
    revoked_at: datetime,
    checks: list[datetime],
    context: CheckContext,
) -> None:
    index = _build(held)
    victim = data.draw(st.sampled_from(held))
    before = {
        (privilege, area.path, at): index.allowed("u", privilege, area, at=at)
        for at in checks
        for area in CHECK_AREAS
        for privilege in PRIVILEGES
    }
    end = revoked_at if victim.start is None or victim.start <= revoked_at else victim.start
    if victim.end is None or victim.end > end:
        index.replace_assignment(victim, replace(victim, end=end))
    for (privilege, path, at), earlier in before.items():
        later = index.allowed("u", privilege, Area.parse(path), at=at)
        if later.granted:
            assert earlier.granted
            assert _grants(later) <= _grants(earlier)
            if evaluate(later, context, at=at, table=TABLE).allowed:
                assert evaluate(earlier, context, at=at, table=TABLE).allowed


@RELAXED
@given(
    st.lists(assignments(), max_size=6),
    st.lists(
        st.tuples(moments, st.sampled_from(CHECK_AREAS), st.sampled_from(PRIVILEGES)),
        min_size=1,
        max_size=25,
    ),
)
def test_the_cached_lookup_agrees_with_a_fresh_one(
    held: list[RoleAssignment], questions: list[tuple[datetime, Area, str]]
) -> None:
    index = _build(held)
    for at, area, privilege in questions:  # in drawn order: times jump back and forth
        cached = index.allowed("u", privilege, area, at=at)
        fresh = _build(held).allowed("u", privilege, area, at=at)
        assert cached.value == fresh.value
        assert cached.sources == fresh.sources
        expected = any(a.is_current(at) and _reaches(index, a, privilege, area) for a in held)
        assert cached.granted is expected


def _grants(permission: Permission) -> set[tuple[str, str, str, str]]:
    """What the sources give, without their windows (revoking changes a window's end)."""
    return {
        (source.role, source.held_at.path, source.level.value, source.conditions)
        for source in permission.sources
    }


def _reaches(index: RoleIndex, held: RoleAssignment, privilege: str, area: Area) -> bool:
    """An independent statement of the walk: a level's privileges reach the areas below the
    place they are anchored (system at /, domain at /dom/, course rows at the held area)."""
    custom = index.custom_role(held.role)
    for level_code, anchor in (("s", "/"), ("d", f"/{held.area.domain}/"), ("c", held.area.path)):
        level = Level(level_code)
        rows = custom.privileges_at(level) if custom is not None else TABLE.row(held.role, level)
        if privilege not in rows:
            continue
        if level is Level.DOMAIN and not held.area.domain:
            continue
        if level is Level.COURSE and not held.area.course:
            continue
        if area.path == anchor or area.path.startswith(anchor.rstrip("/") + "/") or anchor == "/":
            return True
    return False
