"""Writing a course instance's files into the store, once sync has planned them: the course
instance's row, the sections its files name, and its assessments (created, changed, restored or
retired, never deleted) with their access dates."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select

from coursegate.courses.loader import LoadedInstance
from coursegate.services.common.context import Ctx
from coursegate.services.courses.access_dates import access_date_rows
from coursegate.services.courses.sync_report import Change, SyncReport
from coursegate.services.history.log import record
from coursegate.store.models import (
    AccessDate,
    Assessment,
    CourseInstance,
    Section,
)

_CHUNK = 500
"""Ids per ``IN (...)`` list."""


@dataclass
class PlannedAssessment:
    """What sync will do with one assessment file."""

    aid: str
    raw: dict[str, Any]
    form: str
    access: dict[str, Any]
    info: dict[str, Any]
    digest: str
    row: Assessment | None
    kind: str  # created | restored | changed | same


def write_instance_row(
    row: CourseInstance, inst: LoadedInstance, config: dict[str, Any], digest: str
) -> None:
    """Set the course instance's row from its file (it is live again if it was retired)."""
    row.long_name = str(inst.raw.get("longName", ""))
    row.uuid = inst.raw.get("uuid") if isinstance(inst.raw.get("uuid"), str) else None
    row.timezone = inst.tz.key
    row.config = config
    row.content_hash = digest
    row.retired_at = None
    assert inst.settings is not None
    policy = inst.settings.policy
    row.access_form = policy.form
    pub = policy.publishing
    row.start_at = pub.start if pub is not None else None
    row.end_at = pub.end if pub is not None else None


def sync_sections(ctx: Ctx, row: CourseInstance, inst: LoadedInstance) -> None:
    names: set[str] = set()
    assert inst.settings is not None
    if inst.settings.labels:
        names |= set(inst.settings.labels)
    for io in inst.settings.policy.overrides:
        names |= set(io.sections)
    for src in inst.assessments.values():
        acc = src.config.access
        if acc is not None:
            for o in (*acc.overrides, *acc.set_overrides):
                names |= set(o.labels or ())
    existing = set(
        ctx.session.scalars(select(Section.name).where(Section.course_instance_id == row.id))
    )
    ctx.session.add_all(
        Section(course_instance_id=row.id, name=n, from_files=True)
        for n in sorted(names - existing)
    )


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i : i + _CHUNK]


def sync_assessments(
    ctx: Ctx,
    report: SyncReport,
    ci: CourseInstance,
    inst: LoadedInstance,
    plan: list[PlannedAssessment],
    existing: dict[str, Assessment],
) -> None:
    s = ctx.session
    rewritten: list[tuple[Assessment, dict[str, Any]]] = []
    old_ids: list[int] = []
    for p in plan:
        label = f"{ci.short_name}/{p.aid}"
        if p.kind == "same":
            assert p.row is not None
            if p.row.content_hash != p.digest:  # only parts outside access changed
                p.row.content_hash = p.digest
            continue
        if p.row is None:
            row = Assessment(
                course_instance_id=ci.id, aid=p.aid, form=p.form, access=p.access, **p.info
            )
            s.add(row)
            report.changes.append(Change("created", label))
            record(ctx, "sync.create", "assessment", label, course_instance_id=ci.id)
        else:
            row = p.row
            old_ids.append(row.id)
            report.changes.append(Change(p.kind, label))
            action = "sync.restore" if p.kind == "restored" else "sync.change"
            record(ctx, action, "assessment", label, course_instance_id=ci.id)
            row.form = p.form
            row.access = p.access
            for k, v in p.info.items():
                setattr(row, k, v)
            row.retired_at = None
        row.content_hash = p.digest
        rewritten.append((row, p.raw))
    s.flush()  # one batch of inserts; every row has its id from here on
    for ids in _chunks(old_ids):
        s.execute(delete(AccessDate).where(AccessDate.assessment_id.in_(ids)))
    dates = [d for row, raw in rewritten for d in access_date_rows(row.id, inst, raw)]
    if dates:  # Core executemany: one batch (the ORM would split rows by their None values)
        s.connection().execute(insert(AccessDate), dates)
    for aid, row in sorted(existing.items()):
        if aid not in inst.assessments and row.retired_at is None:
            row.retired_at = ctx.at
            label = f"{ci.short_name}/{aid}"
            report.changes.append(
                Change("retired", label, "removed from the files; history and attempts kept")
            )
            record(ctx, "sync.retire", "assessment", label, course_instance_id=ci.id)
