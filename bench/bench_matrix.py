"""The matrix with per-student extensions (issue 16, target 3): workload (c).

(c) is the big matrix of ``bench_core`` (10,000 students × 1,000 assessments) with 2 % of its
cells carrying a student's exception, a later due date (:func:`bench.workload.extensions`).
Prints, each with its target and PASS/MISS:

1. the compile: wall-clock median of ``COMPILE_RUNS`` compiles (and their CPU time, which the
   other work on a shared machine disturbs less), and its memory: the ``tracemalloc`` peak of a
   separate compile (every Python allocation made while compiling, the result included), with
   the RSS growth of the first compile beside it;
2. :func:`decide_matrix` at a fixed instant: median of ``MATRIX_RUNS``;
3. a numpy reference on the same cells at the same instant, and the ratio: the change points of
   every distinct timeline (:meth:`Timeline.pieces`: a countdown's minutes included) in one flat
   array, each timeline's
   interval found at once (``np.add.reduceat`` over ``starts <= t``), then the decision of all
   10,000,000 cells gathered into a dense 10,000 × 1,000 array of decision ids. Building its
   arrays is not timed. numpy is imported here only; without it the reference is skipped;
4. agreement: sampled cells of the matrix against single decisions, against the naive path
   (:func:`decide_directly`, every observable field but the credit text) and against the
   numpy reference.
"""

from __future__ import annotations

import gc
import random
import statistics
import tracemalloc
from collections.abc import Callable
from datetime import datetime
from time import perf_counter, process_time
from typing import Any

from bench import workload
from bench.bench_core import Report, machine
from bench.workload import Workload
from coursegate.core.decision import AssessmentDecision
from coursegate.core.engine import CompiledCourseInstance, Facts, decide_directly, decide_matrix
from coursegate.core.instants import Instant, format_instant, to_instant

COMPILE_TARGET_S = 2.0
MEMORY_TARGET_MB = 200.0
COMPILE_RUNS = 3
MATRIX_RUNS = 7
SAMPLE = 10_000
NAIVE_SAMPLE = 2_000


def _at(w: Workload) -> Instant:
    """Mid-term, 10:00 local on a Tuesday (as ``bench_core``)."""
    return to_instant(datetime(2024, 3, 19, 10, 0, tzinfo=w.tz))


def _rss_mb() -> float:
    try:
        with open("/proc/self/status", encoding="utf-8") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _compile(w: Workload) -> tuple[CompiledCourseInstance, float, float]:
    """One compile: the result, wall seconds and CPU seconds."""
    gc.collect()
    t0, c0 = perf_counter(), process_time()
    compiled = CompiledCourseInstance(w.ci, w.assessments, w.students, w.tz)
    return compiled, perf_counter() - t0, process_time() - c0


def _peak_mb(w: Workload) -> tuple[float, float]:
    """tracemalloc's peak while compiling, and what the result still holds, in MB."""
    gc.collect()
    tracemalloc.start()
    compiled = CompiledCourseInstance(w.ci, w.assessments, w.students, w.tz)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del compiled
    return peak / 2**20, current / 2**20


def _median_ms(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        gc.collect()
        t0 = perf_counter()
        fn()
        times.append((perf_counter() - t0) * 1e3)
    return statistics.median(times), min(times)


class _Reference:
    """The numpy reference's arrays (built untimed) and its evaluation at an instant."""

    def __init__(self, np: Any, compiled: CompiledCourseInstance) -> None:
        self.np = np
        self.ids: dict[AssessmentDecision, int] = {}
        starts: list[int] = []
        values: list[int] = []
        offsets: list[int] = []
        first_of_column: list[int] = []
        n_students = len(compiled.students)
        for j in range(len(compiled.assessments)):
            first_of_column.append(len(offsets))
            timelines, _ = compiled.column(j)
            for tl in timelines:
                offsets.append(len(starts))
                for a, d in tl.pieces():
                    starts.append(a)
                    values.append(self.ids.setdefault(d, len(self.ids)))
        self.starts = np.array(starts, dtype=np.int64)
        self.values = np.array(values, dtype=np.int32)
        self.offsets = np.array(offsets, dtype=np.int64)
        cells = np.empty((n_students, len(compiled.assessments)), dtype=np.int32)
        for j in range(len(compiled.assessments)):
            _, idx = compiled.column(j)
            col = np.full(n_students, first_of_column[j] + idx.default, dtype=np.int32)
            if idx.special:
                rows = np.fromiter(idx.special.keys(), dtype=np.int64, count=len(idx.special))
                ks = np.fromiter(idx.special.values(), dtype=np.int32, count=len(idx.special))
                col[rows] = first_of_column[j] + ks
            cells[:, j] = col
        self.cells = cells
        """Each cell's timeline (dense): what a per-cell array representation holds."""

    def evaluate(self, t: Instant) -> Any:
        """Every cell's decision id at ``t``: a dense students × assessments array."""
        np = self.np
        counts = np.add.reduceat((self.starts <= t).astype(np.int32), self.offsets)
        now = self.values[self.offsets + counts - 1]
        return now[self.cells]


def _observable(d: AssessmentDecision) -> tuple[object, ...]:
    return tuple(x for n, x in enumerate(d.key()) if n != 5)  # 5: credit_text


def _naive_differences(w: Workload, compiled: CompiledCourseInstance, at: Instant) -> int:
    """Sampled cells, half of them with an extension, against the naive path."""
    rng = random.Random(workload.SEED + 5)
    by_id = {a.id: j for j, a in enumerate(w.assessments)}
    own = [(i, by_id[aid]) for i, s in enumerate(w.students) for aid in s.personal]
    cells = rng.sample(own, NAIVE_SAMPLE // 2) + [
        (rng.randrange(len(w.students)), rng.randrange(len(w.assessments)))
        for _ in range(NAIVE_SAMPLE // 2)
    ]
    bad = 0
    for i, j in cells:
        s, a = w.students[i], w.assessments[j]
        facts = Facts(user=s.user, personal=s.personal.get(a.id, ()), enrollment=s.enrollment)
        direct = decide_directly(w.ci, a, facts, at, w.tz)
        bad += _observable(compiled.decide(i, j, at)) != _observable(direct)
    return bad


def bench_extensions(report: Report) -> None:
    """(c) compile, memory, decide_matrix and the numpy reference, and agreement."""
    w = workload.extensions()
    print(w.describe())
    cells = workload.extension_cells(w)
    rss0 = _rss_mb()
    compiled, wall, cpu = _compile(w)
    rss = _rss_mb() - rss0
    walls, cpus = [wall], [cpu]
    for _ in range(COMPILE_RUNS - 1):
        del compiled
        compiled, wall, cpu = _compile(w)
        walls.append(wall)
        cpus.append(cpu)
    n_cells = len(w.students) * len(w.assessments)
    report.info(
        "extensions (c)",
        f"{cells:,} of {n_cells:,} cells ({cells / n_cells:.1%}) carry a student's own"
        f" override; {compiled.compiled_timelines:,} distinct timelines",
    )
    med = statistics.median(walls)
    report.target(
        "compile (c)",
        f"{med:.2f} s median of {COMPILE_RUNS} (best {min(walls):.2f} s; CPU time median"
        f" {statistics.median(cpus):.2f} s)",
        f"≤ {COMPILE_TARGET_S:g} s",
        med <= COMPILE_TARGET_S,
    )
    del compiled
    peak, kept = _peak_mb(w)
    report.target(
        "compile memory (c)",
        f"{peak:,.0f} MB tracemalloc peak ({kept:,.0f} MB still held by the result;"
        f" RSS grew {rss:,.0f} MB over the first compile)",
        f"≤ {MEMORY_TARGET_MB:g} MB",
        peak <= MEMORY_TARGET_MB,
    )
    compiled, _, _ = _compile(w)
    at = _at(w)
    med_ms, best_ms = _median_ms(lambda: decide_matrix(compiled, at), MATRIX_RUNS)
    _reference(report, compiled, at, med_ms, best_ms)
    _agreement(report, w, compiled, at)


def _reference(
    report: Report, compiled: CompiledCourseInstance, at: Instant, med_ms: float, best_ms: float
) -> None:
    """decide_matrix's figure, against the numpy reference when numpy is there."""
    shape = f"{len(compiled.students):,} × {len(compiled.assessments):,}"
    what = (
        f"{med_ms:.2f} ms median of {MATRIX_RUNS} (best {best_ms:.2f}) for {shape} at"
        f" {format_instant(at, compiled.tz)}, returned factorised"
    )
    try:
        import numpy as np
    except ImportError:
        report.info("decide_matrix (c)", what)
        print("numpy not installed: reference skipped", flush=True)
        return
    ref = _Reference(np, compiled)
    ref_ms, ref_best = _median_ms(lambda: ref.evaluate(at), MATRIX_RUNS)
    report.info(
        "numpy dense reference (c)",
        f"{ref_ms:.2f} ms median of {MATRIX_RUNS} (best {ref_best:.2f}) for {shape} (numpy"
        f" {np.__version__}; {len(ref.starts):,} change points of"
        f" {len(ref.offsets):,} timelines, then a dense gather of every cell)",
    )
    report.target(
        "decide_matrix (c)",
        f"{what}; {med_ms / ref_ms:.2f}× the numpy reference",
        "≤ the numpy reference",
        med_ms <= ref_ms,
    )
    dense = ref.evaluate(at)
    matrix = decide_matrix(compiled, at)
    rng = random.Random(workload.SEED + 6)
    n, m = len(compiled.students), len(compiled.assessments)
    sample = [(rng.randrange(n), rng.randrange(m)) for _ in range(SAMPLE)]
    bad = sum(int(dense[i, j]) != ref.ids.get(matrix.cell(i, j), -1) for i, j in sample)
    report.target(
        "numpy reference vs matrix (c)",
        f"{SAMPLE - bad:,} of {SAMPLE:,} random cells equal",
        "all equal",
        bad == 0,
    )


def _agreement(report: Report, w: Workload, compiled: CompiledCourseInstance, at: Instant) -> None:
    matrix = decide_matrix(compiled, at)
    rng = random.Random(workload.SEED + 7)
    n, m = len(w.students), len(w.assessments)
    sample = [(rng.randrange(n), rng.randrange(m)) for _ in range(SAMPLE)]
    bad = sum(matrix.cell(i, j) != compiled.decide(i, j, at) for i, j in sample)
    report.target(
        "matrix cells vs single decisions (c)",
        f"{SAMPLE - bad:,} of {SAMPLE:,} random cells equal",
        "all equal",
        bad == 0,
    )
    bad = _naive_differences(w, compiled, at)
    report.target(
        "compiled vs naive agreement (c)",
        f"{NAIVE_SAMPLE - bad:,} of {NAIVE_SAMPLE:,} sampled cells equal, half of them with an"
        " extension (every observable field but the credit text)",
        "all equal",
        bad == 0,
    )


def main() -> None:
    report = Report()
    for line in machine():
        print(line)
    bench_extensions(report)
    print(
        f"targets: {report.passed} PASS, {len(report.missed)} MISS"
        + (f" ({', '.join(report.missed)})" if report.missed else "")
    )


if __name__ == "__main__":
    main()
