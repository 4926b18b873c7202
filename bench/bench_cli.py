"""Cold start of the command line (issue 16): ``decide``, ``timeline`` and ``validate`` each
started in a fresh interpreter, as a user types them (goal: at most 0.2 s).

Each command is run as the ``coursegate`` console script runs it (``from coursegate.cli.main
import main; main()``) in a subprocess, from the repository root, on the examples
(``examples/requests/exam1-start.json``, ``examples/course``); the wall time from start to exit
is measured, and the child's CPU time (user + system) beside it, which a busy machine disturbs
less. In the same run, interleaved with the commands, the references: the interpreter alone
(``python -c pass``), importing the command-line library (``python -c "import typer"``) and a
one-option Typer command (``typer.run`` of a function taking ``--name``: what any command of
this Typer costs before doing anything, parsing options included, which Typer does through
pydantic). ``coursegate --help`` is shown without a target.

Every case runs once first (unmeasured; it also writes the bytecode caches, as an installed
package has them, even when ``PYTHONDONTWRITEBYTECODE`` is set here); then ``RUNS`` rounds,
each running every case once. Each figure is the median of its runs (the minimum beside it);
the target is held against the median wall time.
"""

from __future__ import annotations

import importlib.util
import os
import resource
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
ONE_OPTION = "import typer\ndef hello(name: str = 'x') -> None:\n    print(name)\ntyper.run(hello)"

REFERENCES: list[tuple[str, list[str]]] = [
    ("python -c pass", ["-c", "pass"]),
    ('python -c "import typer"', ["-c", "import typer"]),
    ("a one-option Typer command", ["-c", ONE_OPTION, "--name", "y"]),
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


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run."""
    cpu0, t0 = _cpu_of_children(), perf_counter()
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, check=False)
    wall, cpu = perf_counter() - t0, _cpu_of_children() - cpu0
    if proc.returncode != 0:
        raise RuntimeError(
            f"{argv[2:]} exited {proc.returncode}: {proc.stderr.decode(errors='replace')[-400:]}"
        )
    return wall, cpu


def measure(runs: int = RUNS) -> dict[str, tuple[list[float], list[float]]]:
    """Wall and CPU seconds of every run of every case (references, commands, --help),
    interleaved round by round so that a slow moment of the machine falls on all alike."""
    env = _environment()
    cases = [(label, _argv(case, cli=False)) for label, case in REFERENCES]
    cases += [(label, _argv(case, cli=True)) for label, case in [*COMMANDS, HELP]]
    for _, argv in cases:
        _run_once(argv, env)
    times: dict[str, tuple[list[float], list[float]]] = {label: ([], []) for label, _ in cases}
    for _ in range(runs):
        for label, argv in cases:
            wall, cpu = _run_once(argv, env)
            times[label][0].append(wall)
            times[label][1].append(cpu)
    return times


def _figure(walls: list[float], cpus: list[float]) -> str:
    return (
        f"{statistics.median(walls) * 1000:.0f} ms (min {min(walls) * 1000:.0f};"
        f" CPU {statistics.median(cpus) * 1000:.0f} ms)"
    )


def main() -> None:
    report = Report()
    for line in machine():
        print(line)
    print(f"median of {RUNS} cold runs each (fresh interpreter), after one warm-up run")
    times = measure()
    start = statistics.median(times[REFERENCES[0][0]][0])
    floor = statistics.median(times[REFERENCES[-1][0]][0])
    for label, _ in REFERENCES:
        print(f"reference {label}: {_figure(*times[label])}")
    for label, case in COMMANDS:
        walls, cpus = times[label]
        s = statistics.median(walls)
        report.target(
            f"{label} (coursegate {' '.join(case)})",
            f"{_figure(walls, cpus)} = {s / TARGET_S:.2f} x target,"
            f" {s / start:.1f} x python -c pass, {s / floor:.2f} x a one-option Typer command",
            f"{TARGET_S:.1f} s",
            s <= TARGET_S,
        )
    report.info(f"{HELP[0]} (coursegate --help)", _figure(*times[HELP[0]]))
    print(
        f"targets: {report.passed} PASS, {len(report.missed)} MISS"
        + (f" ({', '.join(report.missed)})" if report.missed else "")
    )


if __name__ == "__main__":
    main()
