"""Course sync: load a course directory into the store, and say whose decisions change.

Everything is validated first; nothing is written unless every file is valid. Then one
transaction applies the differences: new and changed course instances and assessments, sections
named in the files, and assessments removed from the files are *retired* (never deleted: their
history and attempts stay). Running it twice changes nothing the second time.

**Whose decisions change.** For every changed assessment (every assessment, when the course
instance's own settings change) the enrolled students' decisions are compiled from the stored
state before the change and after it, and every student's timeline is compared. The report
names the kind of change when it can tell (release, early deadlines, due date, late deadlines,
time limit, password, visibility), counts the students whose timelines change, and the students
with their own exceptions whose timelines do not ("3 students with exceptions keep theirs").

**Unchanged files.** Each stored row keeps a fingerprint of the file it came from (its whole
content, plus the zone and institution it was read with). When every file of the course is
exactly as last synced, nothing would be written, so sync says so without validating again;
``coursegate validate`` checks the files at any time.

This module plans the sync and fingerprints the files; the rows are written by
:mod:`~coursegate.services.courses.sync_writes`, decisions compared by
:mod:`~coursegate.services.courses.sync_impact`, and the report is
:mod:`~coursegate.services.courses.sync_report`.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from coursegate.core.instants import DEFAULT_TIMEZONE, Instant
from coursegate.courses.loader import (
    LoadedCourse,
    LoadedInstance,
    find_course_files,
    load_course,
    read_json,
)
from coursegate.courses.problems import CourseError
from coursegate.roles import Area
from coursegate.services.common.authz import require
from coursegate.services.common.context import SYSTEM, Ctx
from coursegate.services.common.places import course_area, domain_name, ensure_domain
from coursegate.services.courses.state import (
    ASSESSMENT_ACCESS_KEYS,
    INSTANCE_ACCESS_KEYS,
    content_hash,
)
from coursegate.services.courses.sync_impact import ImpactWatcher
from coursegate.services.courses.sync_report import Change, SyncReport
from coursegate.services.courses.sync_writes import (
    PlannedAssessment,
    sync_assessments,
    sync_sections,
    write_instance_row,
)
from coursegate.services.history.log import record
from coursegate.store.models import (
    Assessment,
    Course,
    CourseInstance,
)

FINGERPRINT_VERSION = 4
"""Part of every stored fingerprint: raising it makes the next sync validate every file again
(do so when validation gets stricter)."""

PAUSE_ENV = "COURSEGATE_TEST_PAUSE_BEFORE_COMMIT"
"""Tests only: a file that :func:`run_sync` writes just before it commits, then it sleeps (for
``COURSEGATE_TEST_PAUSE_SECONDS``, default 60) so that a test can kill it mid-transaction."""


# ------------------------------------------------------------------------------- fingerprints


def instance_fingerprint(raw: dict[str, Any], tz: str, institution: str | None) -> str:
    """A course instance's stored hash: its whole file and what it was read with."""
    return content_hash(
        {"v": FINGERPRINT_VERSION, "file": raw, "timezone": tz, "institution": institution}
    )


def assessment_fingerprint(raw: dict[str, Any]) -> str:
    """An assessment's stored hash: its whole file (its course instance's hash covers the rest)."""
    return content_hash({"v": FINGERPRINT_VERSION, "file": raw})


def _read_object(path: Path, root: Path) -> dict[str, Any] | None:
    """A course file's object, read with the loader's limits (links must stay inside
    ``root``, regular files only, size and depth capped); None when it is refused or not an
    object — the full sync then reports why."""
    data, problems = read_json(path, str(path), root=root)
    if problems or not isinstance(data, dict):
        return None
    return data


def _unchanged(ctx: Ctx, root: Path, dry_run: bool) -> SyncReport | None:
    """The report of a sync with nothing to do when every file is exactly as last synced (walked
    as :func:`~coursegate.courses.loader.load_course` walks them); None when anything differs."""
    if not root.is_dir():
        return None
    files = find_course_files(root)
    if files.problems:
        return None
    data = _read_object(files.course, root)
    if data is None:
        return None
    name = str(data.get("name", "")) or root.resolve().name
    s = ctx.session
    course = s.scalars(select(Course).where(Course.name == name)).one_or_none()
    inst = data.get("institution")
    institution = inst if isinstance(inst, str) else None
    course_tz = data.get("timezone", DEFAULT_TIMEZONE)
    if (
        course is None
        or course.title != str(data.get("title", ""))
        or course.timezone != course_tz
        or course.institution != institution
        or course.source_path != str(root)
    ):
        return None
    rows = {
        r.short_name: r
        for r in s.scalars(select(CourseInstance).where(CourseInstance.course_id == course.id))
    }
    live: dict[int, dict[str, str]] = {r.id: {} for r in rows.values()}
    for ci_id, aid, digest in s.execute(
        select(Assessment.course_instance_id, Assessment.aid, Assessment.content_hash).where(
            Assessment.course_instance_id.in_(list(live)), Assessment.retired_at.is_(None)
        )
    ):
        live[ci_id][aid] = digest
    seen: list[CourseInstance] = []
    for found in files.instances:
        row = rows.get(found.id)
        raw = _read_object(found.file, root)
        if row is None or raw is None or row.retired_at is not None:
            return None
        tz = raw.get("timezone", course_tz)
        if not isinstance(tz, str) or row.content_hash != instance_fingerprint(
            raw, tz, institution
        ):
            return None
        stored = live[row.id]
        if len(found.assessments) != len(stored):
            return None
        for aid, a_file in found.assessments:
            a_raw = _read_object(a_file, root)
            if a_raw is None or stored.get(aid) != assessment_fingerprint(a_raw):
                return None
        seen.append(row)
    if not seen:
        return None
    domain = domain_name(course.institution)
    for row in seen:
        require(ctx, "ere", course_area(row, domain), f"sync course instance {row.short_name}")
    return SyncReport(name, dry_run=dry_run, files_unchanged=True)


def files_as_synced(ctx: Ctx, root: str | Path) -> bool:
    """Whether every file of the course in ``root`` is exactly as last synced (a sync would
    change nothing), judged by the stored fingerprints alone."""
    return _unchanged(ctx, Path(root), dry_run=True) is not None


# ------------------------------------------------------------------------------------ syncing


def sync_course(ctx: Ctx, root: str | Path, *, dry_run: bool = False) -> SyncReport:
    """Validate ``root`` and apply it to the store in the caller's transaction.

    ``dry_run`` only marks the report: the caller rolls the transaction back (see
    :func:`run_sync`). Raises :class:`CourseError` (nothing written) when any file is invalid.
    """
    base = Path(root)
    quick = _unchanged(ctx, base, dry_run)
    if quick is not None:
        return quick
    loaded = load_course(base)
    if loaded.errors:
        raise CourseError(loaded.errors)
    name = loaded.name or base.resolve().name
    report = SyncReport(name, dry_run=dry_run)
    report.warnings = [str(p) for p in loaded.warnings]
    domain = ensure_domain(ctx, domain_name(loaded.institution), loaded.institution or "")
    course, institution_changed = _sync_course_row(ctx, report, loaded, name, domain.name)
    course.source_path = str(base)
    ctx.session.flush()
    for ci_id, inst in sorted(loaded.instances.items()):
        _sync_instance(ctx, report, course, domain.name, ci_id, inst, institution_changed)
    return report


def _sync_course_row(
    ctx: Ctx, report: SyncReport, loaded: LoadedCourse, name: str, domain: str
) -> tuple[Course, bool]:
    """The course's row, created (with ``ccc`` in its domain) or updated from its file; and
    whether its institution changed (every course instance's decisions may then change)."""
    s = ctx.session
    course = s.scalars(select(Course).where(Course.name == name)).one_or_none()
    institution_changed = False
    if course is None:
        if not ctx.is_system:
            require(ctx, "ccc", Area.parse(f"/{domain}/"), f"create course {name}")
        course = Course(name=name, timezone=loaded.timezone)
        s.add(course)
        report.changes.append(Change("created", f"course {name}"))
    else:
        what = [
            w
            for w, old, new in (
                ("title", course.title, loaded.title),
                ("time zone", course.timezone, loaded.timezone),
                ("institution", course.institution, loaded.institution),
            )
            if old != new
        ]
        if what:
            report.changes.append(Change("changed", f"course {name}", ", ".join(what)))
            record(ctx, "sync.change", "course", name, fields=what)
        institution_changed = course.institution != loaded.institution
    course.title = loaded.title
    course.timezone = loaded.timezone
    course.institution = loaded.institution
    return course, institution_changed


def _plan(inst: LoadedInstance, existing: dict[str, Assessment]) -> list[PlannedAssessment]:
    """What to do with each assessment file, compared with the stored rows ``existing``."""
    out: list[PlannedAssessment] = []
    for aid, src in sorted(inst.assessments.items()):
        raw = inst.assessment_raw[aid]
        access = {k: raw[k] for k in ASSESSMENT_ACCESS_KEYS if k in raw}
        info = {
            "uuid": raw.get("uuid") if isinstance(raw.get("uuid"), str) else None,
            "title": str(raw.get("title", "")),
            "set_name": str(raw.get("set", "")),
            "number": str(raw.get("number", "")),
            "type": str(raw.get("type", "")),
        }
        form = src.config.form.value
        row = existing.get(aid)
        if row is None:
            kind = "created"
        elif row.retired_at is not None:
            kind = "restored"
        elif (
            row.form != form
            or row.access != access
            or any(getattr(row, k) != v for k, v in info.items())
        ):
            kind = "changed"
        else:
            kind = "same"
        digest = assessment_fingerprint(raw)
        out.append(PlannedAssessment(aid, raw, form, access, info, digest, row, kind))
    return out


def _sync_instance(
    ctx: Ctx,
    report: SyncReport,
    course: Course,
    domain: str,
    ci_id: str,
    inst: LoadedInstance,
    institution_changed: bool,
) -> None:
    """Apply one course instance's files; when its settings or assessments change, its enrolled
    students' decisions are compared before and after."""
    s = ctx.session
    config = {k: inst.raw[k] for k in INSTANCE_ACCESS_KEYS if k in inst.raw}
    digest = instance_fingerprint(inst.raw, inst.tz.key, course.institution)
    row = s.scalars(
        select(CourseInstance).where(
            CourseInstance.course_id == course.id, CourseInstance.short_name == ci_id
        )
    ).one_or_none()
    label = f"course instance {ci_id}"
    existing: dict[str, Assessment] = {}
    watcher: ImpactWatcher | None = None
    if row is None:
        row = CourseInstance(
            course_id=course.id, short_name=ci_id, timezone=inst.tz.key, config=config
        )
        row.course = course
        s.add(row)
        report.changes.append(Change("created", label))
        record(ctx, "sync.create", "course_instance", ci_id)
        plan = _plan(inst, existing)
    else:
        require(ctx, "ere", course_area(row, domain), f"sync {label}")
        existing = {
            a.aid: a
            for a in s.scalars(select(Assessment).where(Assessment.course_instance_id == row.id))
        }
        plan = _plan(inst, existing)
        settings_changed = (
            row.config != config
            or row.timezone != inst.tz.key
            or row.retired_at is not None
            or institution_changed
        )
        watcher = _watch_changes(ctx, report, row, plan, settings_changed)
    write_instance_row(row, inst, config, digest)
    s.flush()
    sync_sections(ctx, row, inst)
    sync_assessments(ctx, report, row, inst, plan, existing)
    if watcher is not None:
        s.flush()
        watcher.after()


def _watch_changes(
    ctx: Ctx,
    report: SyncReport,
    row: CourseInstance,
    plan: list[PlannedAssessment],
    settings_changed: bool,
) -> ImpactWatcher | None:
    """Report a change of the course instance's settings, and start comparing the decisions of
    the assessments it may change (every live one when the settings change, else the changed
    ones); None when nothing can change."""
    if settings_changed:
        label = f"course instance {row.short_name}"
        report.changes.append(Change("changed", label, "access settings"))
        record(ctx, "sync.change", "course_instance", row.short_name, course_instance_id=row.id)
        # Every assessment live before and after: set-wide rules, publishing, labels ...
        compare = [p.aid for p in plan if p.row is not None and p.row.retired_at is None]
    else:
        compare = [p.aid for p in plan if p.kind == "changed"]
    if not (settings_changed or compare):
        return None
    changed = {p.aid for p in plan if p.kind == "changed"}
    return ImpactWatcher.before(ctx, report, row, compare, settings_changed, changed)


# --------------------------------------------------------------------------------- transactions


def run_sync(
    factory: sessionmaker[Session],
    root: str | Path,
    *,
    at: Instant,
    dry_run: bool = False,
    actor: str = SYSTEM,
) -> SyncReport:
    """One sync in a transaction of its own: committed when it succeeds, rolled back with
    ``dry_run``; any error (or the process dying) rolls everything back."""
    with factory() as session:  # closing the session rolls back whatever was not committed
        report = sync_course(Ctx(session, actor, at), root, dry_run=dry_run)
        if dry_run:
            session.rollback()
        else:
            if os.environ.get(PAUSE_ENV):
                session.flush()  # every change written inside the transaction, not yet committed
                _pause_for_tests()
            session.commit()
        return report


def _pause_for_tests() -> None:
    marker = os.environ.get(PAUSE_ENV)
    if not marker:
        return
    Path(marker).write_text(str(os.getpid()))
    time.sleep(float(os.environ.get("COURSEGATE_TEST_PAUSE_SECONDS", "60")))


__all__ = [
    "assessment_fingerprint",
    "instance_fingerprint",
    "run_sync",
    "sync_course",
]
