"""``make bench``: every benchmark in turn, each under its own header.

``bench.bench_core`` (the decision core) and ``bench.bench_matrix`` (its matrix with
per-student extensions; the numpy reference only when numpy is installed) always run;
``bench.bench_roles`` (roles and privileges) and ``bench.bench_store`` (course sync and the
matrix from stored state, on SQLite and, with ``COURSEGATE_BENCH_DATABASE_URL`` or
``COURSEGATE_TEST_DATABASE_URL``, PostgreSQL) run when they can be imported.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable

BENCHMARKS = (
    ("bench.bench_core", "decision core: compiled timelines, single decisions, the matrix"),
    ("bench.bench_matrix", "the matrix with per-student extensions: 10,000 x 1,000, 2% of cells"),
    ("bench.bench_roles", "roles and privileges"),
    ("bench.bench_store", "the store: course sync, the matrix from stored state"),
    ("bench.bench_api", "the server: single and batch decisions over HTTP"),
    ("bench.bench_load", "the server under load: 1, 2 and 4 workers, mixed reads and writes"),
    ("bench.bench_accounts", "class accounts: generate, assign and wipe 500"),
    ("bench.bench_web", "the pages: the matrix page of 800 students x 60 assessments"),
    ("bench.bench_matrix_page", "the matrix page: 800 x 60 with attempts, paged, sorted, CSV"),
    ("bench.bench_cli", "the command line: cold decide, timeline and validate"),
    ("bench.bench_lti", "LTI 1.3: a launch (verify and session); a roster sync of 2,000"),
)


def _header(title: str) -> None:
    print()
    print(f"== {title} " + "=" * max(3, 74 - len(title)), flush=True)


def main() -> None:
    for module_name, title in BENCHMARKS:
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            if module_name in ("bench.bench_core", "bench.bench_matrix"):
                raise
            _header(f"{module_name}: skipped")
            print(f"not importable: {exc}")
            continue
        run: Callable[[], object] = module.main
        _header(f"{module_name}: {title}")
        t0 = time.perf_counter()
        run()
        print(f"({module_name} took {time.perf_counter() - t0:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
