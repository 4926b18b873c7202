"""kill -9 in the middle of ``coursegate sync``: the database is exactly as before, and running
the sync again completes it.

The child is the real command (``python -m coursegate.cli.main sync``) on a generated course of
1,000 assessments. ``COURSEGATE_TEST_PAUSE_BEFORE_COMMIT`` makes it write a marker file once
every change is written inside its transaction and sleep before committing; the test waits for
the marker and sends SIGKILL.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from store_support import ROOT, Store, utc

from coursegate.services.common.places import ensure_domain
from coursegate.services.courses.sync import PAUSE_ENV, run_sync
from coursegate.store.models import (
    Assessment,
    CourseInstance,
    Enrollment,
    HistoryEntry,
    StudentOverride,
    User,
)

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bench_store import write_course

AT = utc(2024, 1, 10)
N = 1_000


def child_env(store: Store, marker: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COURSEGATE_")}
    env["COURSEGATE_DATABASE_URL"] = store.url
    if store.schema is not None:
        env["PGOPTIONS"] = f"-csearch_path={store.schema}"
    if marker is not None:
        env[PAUSE_ENV] = str(marker)
    return env


def sync_command(course: Path) -> list[str]:
    return [sys.executable, "-m", "coursegate.cli.main", "sync", str(course), "--json"]


def kill_inside_transaction(store: Store, course: Path, marker: Path) -> None:
    child = subprocess.Popen(
        sync_command(course),
        env=child_env(store, marker),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    try:
        while not marker.exists():
            if child.poll() is not None:
                out, err = child.communicate()
                pytest.fail(f"the sync ended before its commit point:\n{out}\n{err}")
            if time.monotonic() > deadline:
                pytest.fail("the sync never reached its commit point")
            time.sleep(0.05)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        assert child.stdout is not None and child.stderr is not None
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL


def rerun(store: Store, course: Path) -> dict[str, Any]:
    done = subprocess.run(
        sync_command(course),
        env=child_env(store, None),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def enroll(store: Store, students: int = 20) -> None:
    def add(c: Any) -> None:
        dom = ensure_domain(c, "exampleuniversity", "Example University")
        ci = c.session.scalars(select(CourseInstance)).one()
        for i in range(students):
            u = User(uid=f"s{i}@x.edu", name=f"S {i}", domain_id=dom.id, created_at=AT)
            c.session.add(u)
            c.session.flush()
            c.session.add(
                Enrollment(course_instance_id=ci.id, user_id=u.id, status="joined", updated_at=AT)
            )
            if i % 5 == 0:
                c.session.add(
                    StudentOverride(
                        course_instance_id=ci.id,
                        user_id=u.id,
                        scope="set",
                        target="Homework",
                        body={"time_limit_percent": 150},
                        created_by="ta",
                        updated_at=AT,
                    )
                )

    store.system(AT, add)


def rework(course: Path) -> tuple[set[str], set[str], set[str]]:
    """Move 300 due dates a day later, remove 50 assessments and add 50: (changed, removed,
    added) assessment ids."""
    rng = random.Random(7)
    base = course / "courseInstances" / "Sp24" / "assessments"
    aids = sorted(
        p.parent.relative_to(base).as_posix() for p in base.glob("**/infoAssessment.json")
    )
    modern = [a for a in aids if a.startswith("hw/")]
    changed = set(rng.sample(modern, 300))
    removed = set(rng.sample(sorted(set(aids) - changed), 50))
    for aid in changed:
        path = base / aid / "infoAssessment.json"
        data = json.loads(path.read_text())
        dc = data["accessControl"][0]["dateControl"]
        dc["release"]["date"] = dc["release"]["date"].replace("09:00:00", "10:00:00")
        path.write_text(json.dumps(data))
    for aid in removed:
        shutil.rmtree(base / aid)
    added = set()
    for k in range(50):
        aid = f"extra/x{k:03d}"
        (base / aid).mkdir(parents=True)
        (base / aid / "infoAssessment.json").write_text(
            json.dumps(
                {
                    "uuid": f"00000000-0000-4000-8000-{k:012d}",
                    "title": f"Extra {k}",
                    "set": "Homework",
                    "accessControl": [{}],
                }
            )
        )
        added.add(aid)
    return changed, removed, added


def live_aids(store: Store) -> set[str]:
    with store.factory() as s:
        return set(s.scalars(select(Assessment.aid).where(Assessment.retired_at.is_(None))))


def test_first_sync_killed_leaves_nothing_and_rerun_completes(store: Store, tmp_path: Path) -> None:
    course = write_course(tmp_path / "course", assessments=N)
    before = store.dump()
    kill_inside_transaction(store, course, tmp_path / "at-commit")
    assert store.dump() == before
    report = rerun(store, course)
    assert len(report["changes"]) == N + 2  # the course, its instance, every assessment
    assert len(live_aids(store)) == N
    assert rerun(store, course)["files_unchanged"] is True


def test_changing_sync_killed_leaves_everything_as_before_and_rerun_completes(
    store: Store, tmp_path: Path
) -> None:
    course = write_course(tmp_path / "course", assessments=N)
    run_sync(store.factory, course, at=AT)
    enroll(store)
    changed, removed, added = rework(course)
    before = store.dump()
    kill_inside_transaction(store, course, tmp_path / "at-commit")
    assert store.dump() == before, "a killed sync changed the database"

    report = rerun(store, course)
    kinds: dict[str, set[str]] = {}
    for c in report["changes"]:
        kinds.setdefault(c["kind"], set()).add(c["what"].removeprefix("Sp24/"))
    assert kinds == {"changed": changed, "retired": removed, "created": added}
    impacts = {i["what"].removeprefix("Sp24/"): i for i in report["impacts"]}
    assert set(impacts) == changed
    assert all(i["changes"] == [{"kinds": ["release"], "students": 20}] for i in impacts.values())
    assert live_aids(store) == {a for a in _file_aids(course)}
    with store.factory() as s:
        entries = s.scalar(
            select(func.count()).where(HistoryEntry.at != AT).select_from(HistoryEntry)
        )
    assert entries == len(changed) + len(removed) + len(added)
    assert rerun(store, course)["files_unchanged"] is True


def _file_aids(course: Path) -> set[str]:
    base = course / "courseInstances" / "Sp24" / "assessments"
    return {p.parent.relative_to(base).as_posix() for p in base.glob("**/infoAssessment.json")}
