"""Speed of the decision core (issue 2, section 4): compiled timelines against re-evaluation.

Prints the machine, then one line per figure with its target and PASS/MISS:

1. compile time of the issue's course instance (a) and of the big matrix (b);
2. single decisions on (a) through :meth:`CompiledCourseInstance.decide`: throughput in a tight
   loop over pre-generated random (student, assessment, instant) triples, and p50/p99 latency
   per call (``perf_counter_ns`` around each call, less the measured cost of the two timer
   calls);
3. the same through the naive path, :func:`decide_directly` (re-resolve the overrides and
   re-evaluate the rules at that one instant), and the ratio between the two;
4. :func:`decide_matrix` on (b) and (a), one student's row on (b), and, for honesty, the time to
   expand the whole factorised matrix of (b) into Python lists.

Everything runs in this one process on one core. ``gc.collect()`` runs before each timing.
"""

from __future__ import annotations

import gc
import os
import platform
import random
import statistics
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from time import perf_counter, perf_counter_ns

from bench import workload
from bench.workload import Workload
from coursegate.core.decision import AssessmentDecision
from coursegate.core.engine import CompiledCourseInstance, Facts, decide_directly, decide_matrix
from coursegate.core.instants import Instant, format_instant, to_instant

SINGLE_TARGET = 250_000
"""Single decisions per second on one core."""
P50_TARGET_US = 4.0
MATRIX_TARGET_MS = 50.0
ROW_TARGET_MS = 1.0

MIN_SECONDS = 1.0
"""At least this much timed work for each throughput figure."""
TRIPLES = 200_000
LATENCY_SAMPLE = 100_000
NAIVE_TRIPLES = 5_000
MATRIX_RUNS = 7
ROW_SAMPLE = 300

Triple = tuple[int, int, Instant]


# --------------------------------------------------------------------------------- output


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith(("model name", "Hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> list[str]:
    """What the figures were measured on."""
    cores = os.cpu_count() or 0
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = cores
    impl = platform.python_implementation()
    return [
        f"machine: {platform.platform()} ({platform.machine()})",
        f"cpu: {_cpu_model()}; {cores} logical cores, {usable} usable; measured on one core",
        f"python: {impl} {platform.python_version()} ({sys.executable})",
    ]


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


class Report:
    """Prints figures and remembers the targets that were missed."""

    def __init__(self) -> None:
        self.passed = 0
        self.missed: list[str] = []

    def target(self, label: str, value: str, target: str, ok: bool) -> None:
        print(f"{label}: {value} (target {target}) {_verdict(ok)}", flush=True)
        if ok:
            self.passed += 1
        else:
            self.missed.append(label)

    def info(self, label: str, value: str) -> None:
        print(f"{label}: {value} (no target)", flush=True)


# -------------------------------------------------------------------------------- timings


def _timer_overhead_ns(n: int = 200_000) -> int:
    """Median of two back-to-back ``perf_counter_ns`` calls (subtracted from each latency)."""
    ns = perf_counter_ns
    out = []
    for _ in range(n):
        a = ns()
        b = ns()
        out.append(b - a)
    return int(statistics.median(out))


def _pct(sorted_ns: Sequence[int], q: float) -> int:
    return sorted_ns[min(len(sorted_ns) - 1, int(q * len(sorted_ns)))]


def _compile(w: Workload) -> tuple[CompiledCourseInstance, float]:
    gc.collect()
    t0 = perf_counter()
    compiled = CompiledCourseInstance(w.ci, w.assessments, w.students, w.tz)
    return compiled, perf_counter() - t0


def _compiled_throughput(compiled: CompiledCourseInstance, triples: list[Triple]) -> float:
    """Decisions per second of ``compiled.decide`` in a tight loop (at least MIN_SECONDS)."""
    decide = compiled.decide
    done, elapsed = 0, 0.0
    gc.collect()
    while elapsed < MIN_SECONDS:
        t0 = perf_counter()
        for i, j, t in triples:
            decide(i, j, t)
        elapsed += perf_counter() - t0
        done += len(triples)
    return done / elapsed


def _compiled_latencies(compiled: CompiledCourseInstance, triples: list[Triple]) -> list[int]:
    decide = compiled.decide
    ns = perf_counter_ns
    out = []
    gc.collect()
    for i, j, t in triples:
        a = ns()
        decide(i, j, t)
        b = ns()
        out.append(b - a)
    out.sort()
    return out


NaiveCall = tuple[int, int, Instant, Facts]


def _naive_calls(w: Workload, triples: list[Triple]) -> list[NaiveCall]:
    """The naive path's arguments, built before timing (as a caller would already hold them)."""
    out = []
    for i, j, t in triples:
        s, a = w.students[i], w.assessments[j]
        facts = Facts(user=s.user, personal=s.personal.get(a.id, ()), enrollment=s.enrollment)
        out.append((i, j, t, facts))
    return out


def _naive_throughput(w: Workload, calls: list[NaiveCall]) -> float:
    ci, tz, assessments = w.ci, w.tz, w.assessments
    done, elapsed = 0, 0.0
    gc.collect()
    while elapsed < MIN_SECONDS:
        t0 = perf_counter()
        for _, j, t, facts in calls:
            decide_directly(ci, assessments[j], facts, t, tz)
        elapsed += perf_counter() - t0
        done += len(calls)
    return done / elapsed


def _naive_latencies(w: Workload, calls: list[NaiveCall]) -> list[int]:
    ci, tz, assessments = w.ci, w.tz, w.assessments
    ns = perf_counter_ns
    out = []
    gc.collect()
    for _, j, t, facts in calls:
        a = ns()
        decide_directly(ci, assessments[j], facts, t, tz)
        b = ns()
        out.append(b - a)
    out.sort()
    return out


def _observable(d: AssessmentDecision) -> tuple[object, ...]:
    """What both paths must agree on (the naive path has no look-ahead text or next_change)."""
    return tuple(x for n, x in enumerate(d.key()) if n != 5)  # 5: credit_text


def _agreement(w: Workload, compiled: CompiledCourseInstance, calls: list[NaiveCall]) -> int:
    """How many of the sampled decisions differ between the compiled and the naive path."""
    return sum(
        _observable(compiled.decide(i, j, t))
        != _observable(decide_directly(w.ci, w.assessments[j], facts, t, w.tz))
        for i, j, t, facts in calls
    )


def _median_ms(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median and best of ``runs`` timed calls, in ms."""
    times = []
    for _ in range(runs):
        gc.collect()
        t0 = perf_counter()
        fn()
        times.append((perf_counter() - t0) * 1e3)
    return statistics.median(times), min(times)


def _rows_ms(compiled: CompiledCourseInstance, at: Instant, students: list[int]) -> list[float]:
    row = compiled.row
    out = []
    gc.collect()
    for i in students:
        t0 = perf_counter()
        row(i, at)
        out.append((perf_counter() - t0) * 1e3)
    out.sort()
    return out


def _matrix_instant(w: Workload) -> Instant:
    """A fixed instant mid-term, 10:00 local on a Tuesday: most assessments released, many open."""
    return to_instant(datetime(2024, 3, 19, 10, 0, tzinfo=w.tz))


# ----------------------------------------------------------------------------------- main


def bench_issue(report: Report) -> None:
    """(a) the issue's course instance: compile, single decisions, naive path, matrix."""
    a = workload.issue()
    print(a.describe())
    compiled_a, secs = _compile(a)
    report.info(
        "compile (a)",
        f"{secs * 1e3:,.1f} ms, {compiled_a.compiled_timelines:,} timelines for"
        f" {len(a.students) * len(a.assessments):,} student × assessment cells",
    )

    overhead = _timer_overhead_ns()
    triples = workload.triples(a, TRIPLES)
    rate = _compiled_throughput(compiled_a, triples)
    report.target(
        "single decisions (a)",
        f"{rate:,.0f}/s over {TRIPLES:,} random (student, assessment, instant-in-term) triples",
        f"{SINGLE_TARGET:,}/s",
        rate >= SINGLE_TARGET,
    )
    lat = _compiled_latencies(compiled_a, triples[:LATENCY_SAMPLE])
    p50 = max(0, _pct(lat, 0.50) - overhead) / 1e3
    p99 = max(0, _pct(lat, 0.99) - overhead) / 1e3
    report.target(
        "single decision latency p50 (a)",
        f"{p50:.2f} µs, p99 {p99:.2f} µs (per call over {len(lat):,} calls, less the"
        f" timer's own {overhead} ns)",
        f"p50 < {P50_TARGET_US:g} µs",
        p50 < P50_TARGET_US,
    )

    calls = _naive_calls(a, triples[:NAIVE_TRIPLES])
    naive_rate = _naive_throughput(a, calls)
    naive_lat = _naive_latencies(a, calls)
    n50 = max(0, _pct(naive_lat, 0.50) - overhead) / 1e3
    n99 = max(0, _pct(naive_lat, 0.99) - overhead) / 1e3
    report.info(
        "naive decide_directly (a)",
        f"{naive_rate:,.0f}/s over {len(calls):,} of the same triples;"
        f" p50 {n50:.1f} µs, p99 {n99:.1f} µs",
    )
    report.info(
        "compiled / naive",
        f"{rate / naive_rate:,.0f}× the throughput (p50 {n50 / max(p50, 1e-9):,.0f}× faster)",
    )
    diff = _agreement(a, compiled_a, calls)
    report.target(
        "compiled vs naive agreement (a)",
        f"{len(calls) - diff:,} of {len(calls):,} sampled decisions equal"
        " (every observable field but the credit text)",
        "all equal",
        diff == 0,
    )

    at_a = _matrix_instant(a)
    med, best = _median_ms(lambda: decide_matrix(compiled_a, at_a), MATRIX_RUNS)
    report.info(
        "decide_matrix (a)",
        f"{med:.3f} ms median of {MATRIX_RUNS} (best {best:.3f}) for"
        f" {len(a.students):,} × {len(a.assessments):,} at {format_instant(at_a, a.tz)}",
    )


def bench_big(report: Report) -> None:
    """(b) the big matrix: compile, decide_matrix, one row, every cell materialised."""
    rng = random.Random(workload.SEED + 2)
    b = workload.big()
    print(b.describe())
    compiled_b, secs = _compile(b)
    report.info(
        "compile (b)",
        f"{secs:,.2f} s, {compiled_b.compiled_timelines:,} timelines for"
        f" {len(b.students) * len(b.assessments):,} student × assessment cells",
    )
    at_b = _matrix_instant(b)
    med, best = _median_ms(lambda: decide_matrix(compiled_b, at_b), MATRIX_RUNS)
    report.target(
        "decide_matrix (b)",
        f"{med:.2f} ms median of {MATRIX_RUNS} (best {best:.2f}) for"
        f" {len(b.students):,} × {len(b.assessments):,} at {format_instant(at_b, b.tz)},"
        " returned factorised",
        f"< {MATRIX_TARGET_MS:g} ms",
        med < MATRIX_TARGET_MS,
    )
    sample = [rng.randrange(len(b.students)) for _ in range(ROW_SAMPLE)]
    rows = _rows_ms(compiled_b, at_b, sample)
    row_med = statistics.median(rows)
    report.target(
        "one student's row (b)",
        f"{row_med:.3f} ms median, p99 {_pct(rows, 0.99):.3f} ms for"
        f" {len(b.assessments):,} assessments (compiled.row, {ROW_SAMPLE} random students)",
        f"< {ROW_TARGET_MS:g} ms",
        row_med < ROW_TARGET_MS,
    )

    matrix = decide_matrix(compiled_b, at_b)
    bad = sum(
        matrix.cell(i, j) != compiled_b.decide(i, j, at_b)
        for i, j in (
            (rng.randrange(len(b.students)), rng.randrange(len(b.assessments)))
            for _ in range(10_000)
        )
    )
    report.target(
        "matrix cells vs single decisions (b)",
        f"{10_000 - bad:,} of 10,000 random cells equal",
        "all equal",
        bad == 0,
    )
    gc.collect()
    t0 = perf_counter()
    cells = [matrix.row(i) for i in range(len(b.students))]
    secs = perf_counter() - t0
    n_cells = sum(len(r) for r in cells)
    report.info(
        "materialising every cell (b)",
        f"{secs:,.2f} s to expand all {n_cells:,} decisions into Python lists"
        " (decide_matrix itself returns them factorised, see above)",
    )
    del cells


def main() -> None:
    report = Report()
    for line in machine():
        print(line)
    bench_issue(report)
    bench_big(report)
    print(
        f"targets: {report.passed} PASS, {len(report.missed)} MISS"
        + (f" ({', '.join(report.missed)})" if report.missed else "")
    )


if __name__ == "__main__":
    main()
