"""kill -9 in the middle of a bulk extension: the database is exactly as before, and running it
again completes it.

The child grants one exception to every student in one transaction. ``PAUSE_ENV`` makes
:func:`grant_many` write a marker file once every row (and its history) is written inside the
transaction, then sleep before the caller commits; the test waits for the marker and sends
SIGKILL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select
from store_support import EXAMPLE_COURSE, Store, utc

from coursegate.services.access.exceptions import bulk as XB
from coursegate.services.common.context import Ctx
from coursegate.services.common.places import course_area, domain_name, ensure_domain
from coursegate.services.courses.sync import sync_course
from coursegate.store.models import (
    CourseInstance,
    Enrollment,
    RoleAssignmentRow,
    StudentOverride,
    User,
)

AT = utc(2024, 2, 8)
N = 400
TA = "ta"
FIELDS = {"due": "2024-02-10T23:59", "credit": 100}

CHILD = """
import sys
from coursegate.services.common.context import Ctx
from coursegate.services.access.exceptions.bulk import grant_many
from coursegate.store.db import make_engine, session_factory, transaction

url, schema, ci_id, uids_file, at, actor = sys.argv[1:7]
kwargs = {"connect_args": {"options": f"-csearch_path={schema}"}} if schema else {}
engine = make_engine(url, **kwargs)
with transaction(session_factory(engine)) as session:
    report = grant_many(
        Ctx(session, actor, int(at)), int(ci_id), "assessment", "hw/hw2",
        {"due": "2024-02-10T23:59", "credit": 100}, reason="snow day",
        uids=open(uids_file).read(),
    )
print(len(report.granted))
"""


def populate(c: Ctx) -> int:
    sync_course(c, EXAMPLE_COURSE)
    dom = ensure_domain(c, "exampleuniversity", "Example University")
    ci = c.session.scalars(select(CourseInstance).where(CourseInstance.short_name == "Sp24")).one()
    area = course_area(ci, domain_name(ci.course.institution)).path
    ta = User(uid=TA, name="Teaching Assistant", domain_id=dom.id, created_at=AT, email="ta@x.e")
    c.session.add(ta)
    c.session.flush()
    c.session.add(RoleAssignmentRow(user_id=ta.id, role="ta", area=area, created_at=AT))
    users = [
        User(uid=f"u{i:04d}", name=f"Student {i}", domain_id=dom.id, created_at=AT, email=None)
        for i in range(N)
    ]
    c.session.add_all(users)
    c.session.flush()
    c.session.add_all(
        Enrollment(course_instance_id=ci.id, user_id=u.id, status="joined", updated_at=AT)
        for u in users
    )
    return ci.id


def test_bulk_extension_killed_part_way_changes_nothing_and_rerun_completes(
    store: Store, tmp_path: Path
) -> None:
    ci_id = store.system(AT, populate)
    assert isinstance(ci_id, int)
    uids = "\n".join(f"u{i:04d}" for i in range(N))
    uids_file = tmp_path / "uids.txt"
    uids_file.write_text(uids)
    before = store.dump()
    marker = tmp_path / "written"
    env = {k: v for k, v in os.environ.items() if not k.startswith("COURSEGATE_")}
    env[XB.PAUSE_ENV] = str(marker)
    env["COURSEGATE_TEST_PAUSE_SECONDS"] = "120"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, store.url, store.schema or "", str(ci_id),
         str(uids_file), str(AT), TA],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() or not marker.read_text():
            assert child.poll() is None, child.stderr.read().decode()  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the bulk grant never got to writing"
            time.sleep(0.05)
        assert marker.read_text() == str(N)  # every row written, none committed
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert store.dump() == before

    def again(c: Ctx) -> XB.BulkReport:
        return XB.grant_many(c, ci_id, "assessment", "hw/hw2", FIELDS, reason="snow day", uids=uids)

    report = store.run(TA, AT, again)
    assert isinstance(report, XB.BulkReport) and len(report.granted) == N
    with store.factory() as s:
        rows = s.scalars(select(StudentOverride)).all()
    assert len(rows) == N and all(r.created_by == TA for r in rows)
    after = store.dump()
    rerun = store.run(TA, AT, again)
    assert isinstance(rerun, XB.BulkReport)
    assert (len(rerun.granted), len(rerun.unchanged)) == (0, N)
    assert store.dump() == after
