"""Speed of class accounts (issue 6, "Speed"): generating and assigning 500 accounts, and wiping
500 accounts, each under 30 s.

Prints the machine, then one line per figure with its target and PASS/MISS (the format of
:mod:`bench.bench_core`), on SQLite (a file in a temporary directory) and on PostgreSQL when
``COURSEGATE_BENCH_DATABASE_URL`` or ``COURSEGATE_TEST_DATABASE_URL`` is set:

1. **assign 500**: the demo world, a stem and an empty pool; the instructor (not the operator:
   every privilege check runs) assigns 500 pasted addresses — 500 accounts generated, each with
   a password (argon2id), an SSH key pair, a client certificate, the alias, the Student role and
   enrollment, the history and the queued credentials — committed; then the 500 messages are
   delivered into the Maildir outbox;
2. **wipe 500**: the instructor wipes the whole class, each account with a home of 12 files in
   3 directories: every step (sessions, instances, roles, files, password, keys, aliases,
   address, back to the pool), each committed with its progress.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from time import perf_counter

from bench.bench_core import Report, machine
from bench.bench_store import _pg_url, database
from coursegate.cli import demo_world as demo
from coursegate.services.accounts import service, wipe, wipe_request, wipe_steps
from coursegate.services.accounts.mail import deliver_pending
from coursegate.services.accounts.site import Site
from coursegate.services.common.context import SYSTEM, Ctx
from coursegate.services.common.places import find_course_instance
from coursegate.store.db import transaction

N = 500
TARGET_SECONDS = 30.0


def bench(report: Report, kind: str, tmp: Path) -> None:
    with database(kind, tmp) as factory:
        at = demo.demo_instant()
        with transaction(factory) as s:
            ctx = Ctx(s, SYSTEM, at)
            demo.seed(ctx)
            service.set_stem(ctx, demo.COURSE, "bn500")
            ci = find_course_instance(ctx, demo.COURSE, demo.INSTANCE).id
        root = tmp / f"{kind}-data"
        home = root / "home"
        home.mkdir(parents=True)
        site = Site(home_root=str(home), data_dir=root, mail_domain="users.example.edu")
        emails = "\n".join(f"Student {i} <student{i}@school.edu>" for i in range(N))

        t0 = perf_counter()
        with transaction(factory) as s:
            ctx = Ctx(s, demo.INSTRUCTOR.uid, at)
            done = service.assign(ctx, site, site.issuer(), ci, service.parse_list(emails))
        assigned = perf_counter() - t0
        t1 = perf_counter()
        delivery = deliver_pending(factory, site, at=at)
        delivered = perf_counter() - t1
        assert len(done.assigned) == N and len(done.generated) == N, done.render()[:300]
        assert len(delivery.sent) == N, delivery.failed[:3]
        total = assigned + delivered
        report.target(
            f"{kind}: generate and assign {N} accounts",
            f"{total:.1f} s (assign and commit {assigned:.1f} s = {assigned / N * 1000:.1f} ms"
            f" each; mail to the outbox {delivered:.1f} s)",
            f"< {TARGET_SECONDS:.0f} s",
            total < TARGET_SECONDS,
        )

        for line in done.assigned:
            for d in ("work", "work/lab1", ".config"):
                (home / line.account / d).mkdir(parents=True, exist_ok=True)
            for k in range(4):
                for d in ("work", "work/lab1", ".config"):
                    (home / line.account / d / f"f{k}.txt").write_text("x" * 200)
        t0 = perf_counter()
        with transaction(factory) as s:
            request = wipe_request.request_wipes(
                Ctx(s, demo.INSTRUCTOR.uid, at), course_instance_id=ci, whole_class=True
            )
        run = wipe.run_wipes(
            factory, site, at=at, actor=demo.INSTRUCTOR.uid, wipe_ids=request.wipe_ids
        )
        wiped = perf_counter() - t0
        assert run.ok and len(run.wiped) == N, run.render()[:300]
        assert all(not any((home / a).iterdir()) for a in run.wiped)
        report.target(
            f"{kind}: wipe {N} accounts ({len(wipe_steps.step_names(()))} steps, 15 entries in each"
            " home)",
            f"{wiped:.1f} s ({wiped / N * 1000:.1f} ms each)",
            f"< {TARGET_SECONDS:.0f} s",
            wiped < TARGET_SECONDS,
        )


def main() -> None:
    report = Report()
    for line in machine():
        print(line)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        kinds = ["sqlite"]
        if _pg_url():
            kinds.append("postgresql")
        for kind in kinds:
            bench(report, kind, tmp)
        if not _pg_url():
            print(
                "postgresql: skipped (set COURSEGATE_BENCH_DATABASE_URL or"
                " COURSEGATE_TEST_DATABASE_URL to a PostgreSQL database to measure it)"
            )
    print(
        f"targets: {report.passed} PASS, {len(report.missed)} MISS"
        + (f" ({', '.join(report.missed)})" if report.missed else "")
    )


if __name__ == "__main__":
    main()
