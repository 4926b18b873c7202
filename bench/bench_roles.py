"""Benchmark of coursegate.roles: `allowed` checks per second, cold load, and pycasbin.

Run as ``python bench/bench_roles.py`` (or import it and call :func:`main`). Single process,
single thread: the figures are for one core. Targets (issue 3): at least 1,000,000 checks per
second for 20,000 users, 200 course instances and 80,000 assignments; cold load of 100,000
assignments under 0.5 s. The same checks go through pycasbin's RBAC-with-domains model, built in
memory, and the ratio is printed. Casbin answers a simpler question (no time windows, no
section -> course -> domain -> system walk, no conditions), so the ratio flatters casbin.
"""

from __future__ import annotations

import gc
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from coursegate.roles import Area, CustomRole, RoleAssignment, RoleIndex, RoleTable, User, walk
from coursegate.roles import areas as _areas

AT = datetime(2024, 10, 1, 12, tzinfo=UTC)
PRIVILEGES = ("bre", "vgr", "mgr", "pch", "pac", "cst", "sma", "srm", "opa", "las", "ain", "dch")
CUSTOM = CustomRole("msu", "author0", "grader", course="bre&R:vgr&SCR:mgr&SCR")
ROLE_WEIGHTS = (("st", 80), ("ta", 8), ("in", 4), ("cc", 1), (CUSTOM.role_name, 3), ("ep", 2))
DOMAINS = ("msu", "umn", "wscc", "usc")
CASBIN_MODEL = """
[request_definition]
r = sub, dom, act

[policy_definition]
p = sub, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && r.act == p.act
"""

Row = tuple[str, str, str, datetime | None, datetime | None]


def make_rows(users: int, courses: int, assignments: int, seed: int) -> tuple[list[str], list[Row]]:
    """Users (uid, domain) and raw assignment rows (uid, role, area text, start, end)."""
    rng = random.Random(seed)
    course_paths = [f"/{DOMAINS[i % len(DOMAINS)]}/c{i:04d}" for i in range(courses)]
    roles = [role for role, _w in ROLE_WEIGHTS]
    weights = [w for _r, w in ROLE_WEIGHTS]
    uids = [f"u{i:06d}" for i in range(users)]
    rows: list[Row] = []
    for i in range(assignments):
        uid = uids[i % users]
        role = rng.choices(roles, weights)[0]
        area = rng.choice(course_paths)
        if role in ("st", "ta") and rng.random() < 0.5:
            area += f"/s{rng.randrange(1, 6)}"
        start: datetime | None = None
        end: datetime | None = None
        if rng.random() < 0.25:
            start = AT + timedelta(days=rng.randrange(-200, 30))
            end = start + timedelta(days=rng.randrange(1, 240))
        rows.append((uid, role, area, start, end))
    rows.append(("author0", "cc", course_paths[0], None, None))
    return [*uids, "author0"], rows


def load(uids: list[str], rows: list[Row], table: RoleTable) -> RoleIndex:
    """Build an index from raw rows: parse areas, build records, validate, index by user."""
    users = [User(uid, "msu") for uid in uids]
    parse = Area.parse
    assignments = [
        RoleAssignment(uid, role, parse(area), start, end) for uid, role, area, start, end in rows
    ]
    return RoleIndex(table, users, assignments, [CUSTOM])


def make_requests(rows: list[Row], count: int, seed: int) -> list[tuple[str, str, Area]]:
    """Checks (uid, privilege, area): mostly where the user holds a role, some elsewhere."""
    rng = random.Random(seed)
    areas = sorted({row[2] for row in rows})
    requests = []
    for _ in range(count):
        uid, _role, area, _s, _e = rng.choice(rows)
        if rng.random() < 0.2:
            area = rng.choice(areas)
        requests.append((uid, rng.choice(PRIVILEGES), Area.parse(area)))
    return requests


def rate(run: Callable[[], int], minimum_seconds: float) -> float:
    """Calls per second of ``run`` (which returns how many calls it made), over at least
    ``minimum_seconds``."""
    calls = 0
    started = time.perf_counter()
    elapsed = 0.0
    while elapsed < minimum_seconds:
        calls += run()
        elapsed = time.perf_counter() - started
    return calls / elapsed


def bench_cold_load(table: RoleTable, repeats: int = 3) -> float:
    uids, rows = make_rows(25_000, 250, 100_000, seed=11)
    times = []
    for _ in range(repeats):
        _areas._parse.cache_clear()
        walk.cache_clear()
        gc.collect()
        started = time.perf_counter()
        index = load(uids, rows, table)
        times.append(time.perf_counter() - started)
        assert sum(1 for _ in index.all_assignments()) == len(rows)
    return statistics.median(times)


def bench_allowed(table: RoleTable) -> dict[str, float]:
    uids, rows = make_rows(20_000, 200, 80_000, seed=7)
    index = load(uids, rows, table)
    requests = make_requests(rows, 100_000, seed=8)
    check = index.allowed

    def one_pass() -> int:
        for uid, privilege, area in requests:
            check(uid, privilege, area, at=AT)
        return len(requests)

    started = time.perf_counter()
    one_pass()
    first = len(requests) / (time.perf_counter() - started)
    granted = sum(1 for uid, p, a in requests if check(uid, p, a, at=AT).granted)
    steady = rate(one_pass, 2.0)
    moments = [AT + timedelta(seconds=30 * i) for i in range(len(requests))]

    def moving_clock() -> int:
        for (uid, privilege, area), at in zip(requests, moments, strict=True):
            check(uid, privilege, area, at=at)
        return len(requests)

    moving = rate(moving_clock, 1.0)
    return {
        "first_pass_per_s": first,
        "steady_per_s": steady,
        "moving_clock_per_s": moving,
        "granted_share": granted / len(requests),
        "requests": float(len(requests)),
        "rows": float(len(rows)),
    }


def bench_casbin(budget_seconds: float = 3.0) -> dict[str, float] | None:
    try:
        import casbin
        from casbin import model as casbin_model
    except ImportError:
        return None
    table = RoleTable.default()
    _uids, rows = make_rows(20_000, 200, 80_000, seed=7)
    requests = make_requests(rows, 100_000, seed=8)
    started = time.perf_counter()
    model = casbin_model.Model()
    model.load_model_from_text(CASBIN_MODEL)
    enforcer = casbin.Enforcer(model)
    policies: set[tuple[str, str]] = set()
    for role, _w in ROLE_WEIGHTS:
        for level in table.levels_of("cr" if role.startswith("cr/") else role):
            row = CUSTOM.privileges_at(level) if role.startswith("cr/") else table.row(role, level)
            policies.update((role, code) for code in row)
    enforcer.add_policies([list(policy) for policy in sorted(policies)])
    enforcer.add_grouping_policies([[uid, role, area] for uid, role, area, _s, _e in rows])
    load_seconds = time.perf_counter() - started
    # Casbin builds each domain's role graph on first use: warm the domains we will ask about.
    sample = requests[:20_000]
    started = time.perf_counter()
    for area in sorted({a.path for _u, _p, a in sample}):
        enforcer.enforce("nobody", area, "bre")
    warm_seconds = time.perf_counter() - started
    position = 0

    def some() -> int:
        nonlocal position
        for _ in range(500):
            uid, privilege, area = sample[position % len(sample)]
            enforcer.enforce(uid, area.path, privilege)
            position += 1
        return 500

    steady = rate(some, budget_seconds)
    return {"load_s": load_seconds, "warm_s": warm_seconds, "steady_per_s": steady}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    return (
        f"{platform.platform()}; {os.cpu_count()} CPUs ({cpu}); "
        f"Python {platform.python_version()} ({platform.python_implementation()})"
    )


def main() -> dict[str, Any]:
    """Run the benchmark, print the figures and return them."""
    table = RoleTable.default()
    print("coursegate.roles benchmark (one process, one thread)")
    print(f"machine: {machine()}")
    cold = bench_cold_load(table)
    print(
        f"cold load of 100,000 assignments (25,000 users): {cold * 1000:.0f} ms "
        f"(target < 500 ms) {'OK' if cold < 0.5 else 'MISSED'}"
    )
    figures = bench_allowed(table)
    print(
        f"allowed checks, 20,000 users / 200 courses / {figures['rows']:,.0f} assignments, "
        f"{figures['requests']:,.0f} distinct checks ({figures['granted_share']:.0%} granted):"
    )
    print(f"  first pass (compiling per-user lookups): {figures['first_pass_per_s']:>12,.0f} /s")
    steady = figures["steady_per_s"]
    print(
        f"  steady state:                            {steady:>12,.0f} /s "
        f"(target >= 1,000,000) {'OK' if steady >= 1_000_000 else 'MISSED'}"
    )
    print(f"  clock moving 30 s per check (expiries):  {figures['moving_clock_per_s']:>12,.0f} /s")
    result: dict[str, Any] = {"machine": machine(), "cold_load_s": cold, **figures}
    casbin = bench_casbin()
    if casbin is None:
        print("pycasbin: not installed (pip install casbin) - comparison skipped")
    else:
        ratio = steady / casbin["steady_per_s"]
        print(
            f"pycasbin RBAC with domains, same checks: {casbin['steady_per_s']:,.0f} /s "
            f"(load {casbin['load_s']:.2f} s, first-use role graphs {casbin['warm_s']:.1f} s)"
        )
        print(f"  coursegate / pycasbin: {ratio:,.0f}x")
        result["casbin"] = casbin
        result["ratio"] = ratio
    return result


if __name__ == "__main__":
    main()
    sys.exit(0)
