"""Cold start of the command line (issue 16): ``decide``, ``timeline`` and ``validate`` each
started in a fresh interpreter, as a user types them (goal: at most 0.2 s).

Each command is run as the ``coursegate`` console script runs it (``from coursegate.cli.main
import main; main()``) in a subprocess, from the repository root, on the examples
(``examples/requests/exam1-start.json``, ``examples/course``); the wall time from start to exit
is measured. Beside them, in the same run and interleaved with them, the references: the
interpreter alone (``python -c pass``), the command-line library (``python -c "import typer"``)
and the library (``python -c "import coursegate"``). ``coursegate --help`` is shown without a
target.

Every case runs once first (unmeasured; it also writes the bytecode caches, as an installed
package has them, even when ``PYTHONDONTWRITEBYTECODE`` is set here); then ``RUNS`` rounds,
each running every case once, and each figure is the median of its runs.
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import subprocess
import sys
from pathlib import Path
from time import perf_counter

from bench.bench_core import Report, machine

TARGET_S = 0.2
RUNS = 7
ROOT = Path(__file__).resolve().parents[1]
REQUEST = "examples/requests/exam1-start.json"
COURSE = "examples/course"
CONSOLE_SCRIPT = (
    "import sys; from coursegate.cli.main import main; sys.argv[0] = 'coursegate'; main()"
)

REFERENCES: list[tuple[str, list[str]]] = [
    ("python -c pass", ["-c", "pass"]),
    ('python -c "import typer"', ["-c", "import typer"]),
    ('python -c "import coursegate"', ["-c", "import coursegate"]),
]
COMMANDS: list[tuple[str, list[str]]] = [
    ("cold decide", ["decide", "--request", REQUEST]),
    ("cold timeline", ["timeline", "--request", REQUEST]),
    ("cold validate", ["validate", COURSE]),
]
HELP = ("cold --help", ["--help"])


def _environment() -> dict[str, str]:
    """This process's environment, with the coursegate it imports first on the path and
    bytecode caches allowed."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    spec = importlib.util.find_spec("coursegate")
    if spec is not None and spec.origin is not None:
        src = str(Path(spec.origin).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    return env


def _argv(case: list[str], *, cli: bool) -> list[str]:
    return [sys.executable, "-c", CONSOLE_SCRIPT, *case] if cli else [sys.executable, *case]


def _run_once(argv: list[str], env: dict[str, str]) -> float:
    t0 = perf_counter()
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, check=False)
    elapsed = perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(
            f"{argv[2:]} exited {proc.returncode}: {proc.stderr.decode(errors='replace')[-400:]}"
        )
    return elapsed


def measure(runs: int = RUNS) -> dict[str, float]:
    """Median seconds of every case (references, commands, --help), interleaved round by round
    so that a slow moment of the machine falls on all of them alike."""
    env = _environment()
    cases = [(label, _argv(case, cli=False)) for label, case in REFERENCES]
    cases += [(label, _argv(case, cli=True)) for label, case in [*COMMANDS, HELP]]
    for _, argv in cases:
        _run_once(argv, env)
    times: dict[str, list[float]] = {label: [] for label, _ in cases}
    for _ in range(runs):
        for label, argv in cases:
            times[label].append(_run_once(argv, env))
    return {label: statistics.median(ts) for label, ts in times.items()}


def main() -> None:
    report = Report()
    for line in machine():
        print(line)
    print(f"median of {RUNS} cold runs each (fresh interpreter), after one warm-up run")
    medians = measure()
    start = medians[REFERENCES[0][0]]
    for label, _ in REFERENCES:
        print(f"reference {label}: {medians[label] * 1000:.0f} ms")
    for label, case in COMMANDS:
        s = medians[label]
        report.target(
            f"{label} (coursegate {' '.join(case)})",
            f"{s * 1000:.0f} ms = {s / TARGET_S:.2f} x target, {s / start:.1f} x python -c pass",
            f"{TARGET_S:.1f} s",
            s <= TARGET_S,
        )
    report.info(f"{HELP[0]} (coursegate --help)", f"{medians[HELP[0]] * 1000:.0f} ms")
    print(
        f"targets: {report.passed} PASS, {len(report.missed)} MISS"
        + (f" ({', '.join(report.missed)})" if report.missed else "")
    )


if __name__ == "__main__":
    main()
