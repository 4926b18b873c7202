"""The server under load (issue 16), started the way users start it: ``coursegate serve
--workers N`` on ``127.0.0.1``, against the store :mod:`bench.bench_api` seeds (800 students × 60
assessments, closed attempts, 32 students with API tokens, an instructor).

1. **single decisions** — ``POST /api/v1/decisions``, each one of the 32 students asking about
   themself (their token) on a random assessment, now; 16 keep-alive connections for a fixed
   time; 1, 2 and 4 workers. Beside each: the **reference**, a bare Starlette endpoint that
   parses the same JSON body and answers from a dict, under the same uvicorn with the same
   workers, loaded the same way in the same run. Figures: decisions/s, p50, p99, failed
   requests, and the ratio to the reference.
2. **mixed load** — an open-loop client at a fixed rate (latency measured from when each request
   was *due*, so a stall counts against every request it delays): 80 % decisions, 20 % writes by
   the instructor (a new exception for a student, or blocking / unblocking an enrollment). On
   SQLite with 1 worker and on PostgreSQL with 4. Figures: p50, p99, max and failures, for
   reads and writes.

The load comes from ``wrk`` (C) when it is installed, otherwise from a Python asyncio client
that competes with the server for the same cores (said so in the output). Everything is bounded
in time and stops by itself; servers are stopped with their whole process group. PostgreSQL runs
when ``COURSEGATE_BENCH_DATABASE_URL`` or ``COURSEGATE_TEST_DATABASE_URL`` is set.

One part alone: ``python -m bench.bench_load --store postgresql --part single --workers 1``
(each option repeatable; ``--help``).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import orjson

from bench import bench_api as api
from bench.bench_core import Report, machine

SINGLE_TARGET = 5_000
"""Single decisions per second per worker (the issue's goal), at p99 ≤ 20 ms."""
P99_TARGET_MS = 20.0
REFERENCE_RATIO = 0.3
CONNECTIONS = 16
WORKER_COUNTS = (1, 2, 4)
SINGLE_SECONDS = 5
WARM_SECONDS = 4
WARM_CONNECTIONS = 64
MIXED_RATE = 200
"""Requests per second of the mixed load."""
MIXED_SECONDS = 10
MIXED_WRITE_SHARE = 0.2
MIXED_P99_TARGET_MS = 50.0
REFERENCE_APP = "bench.reference_app:app"


@dataclass
class Running:
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def started(argv: list[str], env: dict[str, str], tmp: Path, ready: str) -> Iterator[Running]:
    """A server process (its own process group), once ``ready`` answers; stopped on exit."""
    port = api.free_port()
    log = tmp / f"server-{port}.log"
    argv = [a.replace("{port}", str(port)) for a in argv]
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited: {log.read_text()[-2000:]}")
            with suppress(OSError):
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", ready)
                if c.getresponse().status < 500:
                    c.close()
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not answer within 60 s")
            time.sleep(0.2)
        yield Running(port, proc)
    finally:
        if proc.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def coursegate_serve(url: str, tmp: Path, workers: int) -> AbstractContextManager[Running]:
    script = Path(sys.executable).parent / "coursegate"
    argv = [str(script), "serve", "--host", "127.0.0.1", "--port", "{port}"]
    argv += ["--workers", str(workers)]
    return started(argv, api._server_env(url, tmp), tmp, "/api/v1/health")


def reference_serve(tmp: Path, workers: int) -> AbstractContextManager[Running]:
    argv = [sys.executable, "-m", "uvicorn", REFERENCE_APP, "--host", "127.0.0.1"]
    argv += ["--port", "{port}", "--workers", str(workers), "--log-level", "warning"]
    argv += ["--no-access-log", "--no-server-header"]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parent.parent), *sys.path])
    return started(argv, env, tmp, "/health")


def reference_requests(n: int = 997) -> list[tuple[str, bytes]]:
    """Bodies like the decision requests', asking the reference's dict."""
    rng = random.Random(11)
    return [
        ("x", orjson.dumps({"course": "BENCH 102", "key": rng.randrange(1000)})) for _ in range(n)
    ]


def load(srv: Running, reqs: list[tuple[str, bytes]], tmp: Path, path: str) -> api.LoadResult:
    """``reqs`` at :data:`CONNECTIONS` connections for :data:`SINGLE_SECONDS`."""
    api.CONNECTIONS = CONNECTIONS
    target = api.Server(srv.port, srv.proc, tmp / "unused.log")
    if shutil.which("wrk"):
        return api.run_wrk(target, reqs, SINGLE_SECONDS, tmp, path)
    result = api.run_python_client(target, reqs, SINGLE_SECONDS, path)
    result.notes.append("wrk is not installed (apt-get install wrk): used the Python client")
    return result


def warm(srv: Running, seeded: api.Seeded, reqs: list[tuple[str, bytes]], tmp: Path) -> None:
    """Every worker compiles the course instance and keeps what the kept way needs before
    anything is measured: the requests once in order, then :data:`WARM_SECONDS` of load on
    :data:`WARM_CONNECTIONS` connections (the kernel hands connections to workers unevenly; with
    many, every worker gets some). Steady state is what a running server serves."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=120)
    for token, body in reqs:
        status, data = api.post(conn, "/api/v1/decisions", body, token)
        assert status == 200, data[:300]
    conn.close()
    saved = api.CONNECTIONS
    try:
        api.CONNECTIONS = WARM_CONNECTIONS
        target = api.Server(srv.port, srv.proc, tmp / "unused.log")
        if shutil.which("wrk"):
            api.run_wrk(target, reqs, WARM_SECONDS, tmp)
        else:
            api.run_python_client(target, reqs, WARM_SECONDS)
    finally:
        api.CONNECTIONS = saved


def bench_single(
    report: Report,
    kind: str,
    url: str,
    seeded: api.Seeded,
    tmp: Path,
    worker_counts: tuple[int, ...] = WORKER_COUNTS,
) -> None:
    reqs = api.single_requests(seeded)
    for workers in worker_counts:
        with reference_serve(tmp, workers) as ref_srv:
            load(ref_srv, reference_requests(), tmp, "/d")  # warm-up
            ref = load(ref_srv, reference_requests(), tmp, "/d")
        with coursegate_serve(url, tmp, workers) as srv:
            warm(srv, seeded, reqs, tmp)
            got = load(srv, reqs, tmp, "/api/v1/decisions")
        for note in got.notes:
            print(note)
        ratio = got.rate / ref.rate if ref.rate else 0.0
        per_worker = got.rate / workers
        report.target(
            f"single decisions, {workers} worker{'s' if workers > 1 else ''} ({kind})",
            f"{got.rate:,.0f}/s ({per_worker:,.0f}/s per worker), p50 {got.p50_ms:.2f} ms,"
            f" p99 {got.p99_ms:.2f} ms, {got.errors} failed",
            f">= {SINGLE_TARGET:,}/s per worker, p99 <= {P99_TARGET_MS:.0f} ms, none failed",
            per_worker >= SINGLE_TARGET and got.p99_ms <= P99_TARGET_MS and got.errors == 0,
        )
        report.target(
            f"  vs the bare Starlette dict endpoint, {workers} worker(s) ({kind})",
            f"{ref.rate:,.0f}/s (p99 {ref.p99_ms:.2f} ms): ratio {ratio:.2f}",
            f">= {REFERENCE_RATIO}",
            ratio >= REFERENCE_RATIO,
        )


# ----------------------------------------------------------------------------- mixed load


@dataclass
class Mixed:
    reads: list[float]
    writes: list[float]
    failed: list[str]
    seconds: float


def _writes(seeded: api.Seeded) -> list[tuple[str, str, bytes]]:
    """(method, path, body) of the instructor's writes, alternately: a new exception (one per
    student and assessment, never twice) and blocking a student's enrollment (each student once:
    an open-loop client may deliver two writes about one student in either order)."""
    rng = random.Random(21)
    ci = f"/api/v1/courses/{api.COURSE.replace(' ', '%20')}/instances/{api.INSTANCE}"
    pairs = [(s, a) for s in seeded.students[300:] for a in seeded.assessments[:6]]
    rng.shuffle(pairs)
    blocked = [s for s in seeded.students[:300] if s not in {u for u, _ in seeded.self_tokens}]
    out: list[tuple[str, str, bytes]] = []
    for k in range(min(2 * len(blocked), MIXED_RATE * MIXED_SECONDS)):
        if k % 2:
            body = orjson.dumps({"reason": "benchmark"})
            out.append(("POST", f"{ci}/enrollments/{blocked[k // 2]}/block", body))
        else:
            uid, aid = pairs[k // 2]
            body = orjson.dumps(
                {"uid": uid, "target": aid, "time_limit_percent": 150, "reason": "benchmark"}
            )
            out.append(("POST", f"{ci}/exceptions", body))
    return out


def _raw(method: str, path: str, token: str, body: bytes) -> bytes:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def _mixed(port: int, seeded: api.Seeded) -> Mixed:
    rng = random.Random(31)
    reads = api.single_requests(seeded, n=2000)
    writes = _writes(seeded)
    total = MIXED_RATE * MIXED_SECONDS
    plan: list[tuple[bool, bytes]] = []
    wi = ri = 0
    for _ in range(total):
        if rng.random() < MIXED_WRITE_SHARE:
            method, path, body = writes[wi]
            wi += 1
            plan.append((True, _raw(method, path, seeded.staff_token, body)))
        else:
            token, body = reads[ri % len(reads)]
            ri += 1
            plan.append((False, _raw("POST", "/api/v1/decisions", token, body)))
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(64):
        pool.put_nowait(await asyncio.open_connection("127.0.0.1", port))
    result = Mixed([], [], [], 0.0)
    start = time.perf_counter() + 0.05

    async def one(k: int, write: bool, raw: bytes) -> None:
        due = start + k / MIXED_RATE
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        reader, writer = await pool.get()
        try:
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for h in head.split(b"\r\n"):
                if h[:15].lower() == b"content-length:":
                    length = int(h[15:])
            data = await reader.readexactly(length)
        finally:
            pool.put_nowait((reader, writer))
        (result.writes if write else result.reads).append((time.perf_counter() - due) * 1e3)
        status = head.split(b" ", 2)[1]
        if not status.startswith(b"2"):
            result.failed.append(f"{status.decode()} {data[:200].decode(errors='replace')}")

    await asyncio.gather(*(one(k, w, r) for k, (w, r) in enumerate(plan)))
    result.seconds = time.perf_counter() - start
    while not pool.empty():
        _, writer = pool.get_nowait()
        writer.close()
    return result


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_mixed(report: Report, kind: str, url: str, seeded: api.Seeded, tmp: Path) -> None:
    workers = 1 if kind == "sqlite" else 4
    with coursegate_serve(url, tmp, workers) as srv:
        warm(srv, seeded, api.single_requests(seeded), tmp)
        got = asyncio.run(_mixed(srv.port, seeded))
    both = got.reads + got.writes
    p99 = _pct(both, 0.99)
    report.target(
        f"mixed load at {MIXED_RATE}/s, {workers} worker(s) ({kind})",
        f"{len(both):,} requests in {got.seconds:.1f} s: p50 {_pct(both, 0.5):.1f} ms,"
        f" p99 {p99:.1f} ms, max {max(both, default=0):.1f} ms, {len(got.failed)} failed",
        f"p99 <= {MIXED_P99_TARGET_MS:.0f} ms, none failed",
        p99 <= MIXED_P99_TARGET_MS and not got.failed,
    )
    report.info(
        f"  decisions / writes ({kind})",
        f"{len(got.reads):,} at p99 {_pct(got.reads, 0.99):.1f} ms / {len(got.writes):,} at"
        f" p99 {_pct(got.writes, 0.99):.1f} ms",
    )
    for line in got.failed[:3]:
        print(f"  failed: {line}")


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_load",
        description="The server under load (issue 16). Without options: every figure.",
    )
    parser.add_argument(
        "--store",
        choices=("sqlite", "postgresql"),
        action="append",
        help="only this store (repeatable; default: SQLite, and PostgreSQL when its URL is set)",
    )
    parser.add_argument(
        "--part",
        choices=("single", "mixed"),
        action="append",
        help="only single decisions or only the mixed load (repeatable; default: both)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        action="append",
        help=f"single decisions with this many workers only (repeatable; default {WORKER_COUNTS})",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Every figure; ``argv`` (the command line's, when run on its own) chooses fewer."""
    args = _arguments(argv or [])
    for line in machine():
        print(line)
    report = Report()
    kinds = args.store or ["sqlite"] + (["postgresql"] if api._pg_url() else [])
    if "postgresql" not in kinds and not args.store:
        print("PostgreSQL: skipped (set COURSEGATE_BENCH_DATABASE_URL or ..._TEST_DATABASE_URL)")
    if "postgresql" in kinds and not api._pg_url():
        raise SystemExit("--store postgresql needs COURSEGATE_BENCH_DATABASE_URL or ..._TEST_...")
    parts = args.part or ["single", "mixed"]
    worker_counts = tuple(args.workers or WORKER_COUNTS)
    for kind in kinds:
        with tempfile.TemporaryDirectory(prefix="coursegate-load-") as d:
            tmp = Path(d)
            with api.database(kind, tmp) as (url, factory):
                seeded = api.seed(url, factory, tmp)
                if "single" in parts:
                    bench_single(report, kind, url, seeded, tmp, worker_counts)
                if "mixed" in parts:
                    bench_mixed(report, kind, url, seeded, tmp)


if __name__ == "__main__":
    main(sys.argv[1:])
