"""Course sync: load a course directory into the store.

Everything is validated first; nothing is written unless every file is valid. Then one
transaction applies the differences: new and changed course instances and assessments, sections
named in the files, and assessments removed from the files are *retired* (never deleted: their
history and attempts stay). Running it twice changes nothing the second time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

from coursegate.core.instants import parse_date, zone
from coursegate.courses.loader import LoadedInstance, load_course
from coursegate.courses.problems import CourseError
from coursegate.services.authz import course_area, require
from coursegate.services.context import Ctx
from coursegate.services.course_state import (
    ASSESSMENT_ACCESS_KEYS,
    INSTANCE_ACCESS_KEYS,
    content_hash,
)
from coursegate.services.history import record
from coursegate.store.models import (
    AccessDate,
    Assessment,
    Course,
    CourseInstance,
    Domain,
    Section,
)


@dataclass
class Change:
    kind: str  # created | changed | retired | restored
    what: str
    detail: str = ""

    def render(self) -> str:
        return f"{self.what}: {self.kind}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class SyncReport:
    course: str
    changes: list[Change] = field(default_factory=list)
    impacts: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def render(self) -> str:
        head = f"course {self.course}: " + (
            f"{len(self.changes)} change(s)" if self.changes else "nothing to change"
        )
        if self.dry_run:
            head += " (dry run: nothing written)"
        lines = [head]
        lines += [f"  {c.render()}" for c in self.changes]
        lines += [f"  {i}" for i in self.impacts]
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "course": self.course,
            "dry_run": self.dry_run,
            "changes": [c.__dict__ for c in self.changes],
            "impacts": self.impacts,
            "warnings": self.warnings,
        }


def domain_name(institution: str | None) -> str:
    """The roles core's domain of a course: its institution, as a short name."""
    if not institution:
        return "local"
    return re.sub(r"[^a-z0-9]+", "", institution.lower()) or "local"


def ensure_domain(ctx: Ctx, name: str, title: str = "") -> Domain:
    d = ctx.session.scalars(select(Domain).where(Domain.name == name)).one_or_none()
    if d is None:
        d = Domain(name=name, title=title or name)
        ctx.session.add(d)
        ctx.session.flush()
    return d


def sync_course(ctx: Ctx, root: str | Path, *, dry_run: bool = False) -> SyncReport:
    """Validate ``root`` and apply it to the store in the caller's transaction.

    ``dry_run`` only marks the report: the caller rolls the transaction back.
    """
    loaded = load_course(root)
    if loaded.errors:
        raise CourseError(loaded.errors)
    name = loaded.name or Path(root).resolve().name
    report = SyncReport(name, dry_run=dry_run)
    report.warnings = [str(p) for p in loaded.warnings]
    s = ctx.session
    domain = ensure_domain(ctx, domain_name(loaded.institution), loaded.institution or "")
    course = s.scalars(select(Course).where(Course.name == name)).one_or_none()
    if course is None:
        if not ctx.is_system:
            from coursegate.roles import Area

            require(ctx, "ccc", Area.parse(f"/{domain.name}/"), f"create course {name}")
        course = Course(name=name, timezone=loaded.timezone)
        s.add(course)
        report.changes.append(Change("created", f"course {name}"))
    course.title = loaded.title
    course.timezone = loaded.timezone
    course.institution = loaded.institution
    course.source_path = str(Path(root))
    s.flush()
    for ci_id, inst in sorted(loaded.instances.items()):
        _sync_instance(ctx, report, course, domain.name, ci_id, inst)
    return report


def _sync_instance(
    ctx: Ctx, report: SyncReport, course: Course, domain: str, ci_id: str, inst: LoadedInstance
) -> None:
    s = ctx.session
    config = {k: inst.raw[k] for k in INSTANCE_ACCESS_KEYS if k in inst.raw}
    digest = content_hash(config)
    row = s.scalars(
        select(CourseInstance).where(
            CourseInstance.course_id == course.id, CourseInstance.short_name == ci_id
        )
    ).one_or_none()
    label = f"course instance {ci_id}"
    if row is None:
        row = CourseInstance(
            course_id=course.id, short_name=ci_id, timezone=inst.tz.key, config=config
        )
        row.course = course
        s.add(row)
        report.changes.append(Change("created", label))
        record(ctx, "sync.create", "course_instance", ci_id)
    else:
        require(ctx, "ere", course_area(row, domain), f"sync {label}")
        if row.content_hash != digest or row.retired_at is not None:
            report.changes.append(Change("changed", label, "access settings"))
            record(ctx, "sync.change", "course_instance", ci_id, course_instance_id=row.id)
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
    s.flush()
    _sync_sections(ctx, row, inst)
    _sync_assessments(ctx, report, row, inst)


def _sync_sections(ctx: Ctx, row: CourseInstance, inst: LoadedInstance) -> None:
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
    for n in sorted(names - existing):
        ctx.session.add(Section(course_instance_id=row.id, name=n, from_files=True))


def _assessment_payload(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: raw[k] for k in ASSESSMENT_ACCESS_KEYS if k in raw}


def _sync_assessments(
    ctx: Ctx, report: SyncReport, ci: CourseInstance, inst: LoadedInstance
) -> None:
    s = ctx.session
    existing = {
        a.aid: a
        for a in s.scalars(select(Assessment).where(Assessment.course_instance_id == ci.id))
    }
    for aid, src in sorted(inst.assessments.items()):
        raw = inst.assessment_raw[aid]
        access = _assessment_payload(raw)
        info = {
            "uuid": raw.get("uuid") if isinstance(raw.get("uuid"), str) else None,
            "title": str(raw.get("title", "")),
            "set_name": str(raw.get("set", "")),
            "number": str(raw.get("number", "")),
            "type": str(raw.get("type", "")),
        }
        digest = content_hash({"access": access, **info})
        row = existing.get(aid)
        label = f"{ci.short_name}/{aid}"
        if row is None:
            row = Assessment(
                course_instance_id=ci.id, aid=aid, form=src.config.form.value, access=access, **info
            )
            s.add(row)
            report.changes.append(Change("created", label))
            record(ctx, "sync.create", "assessment", label, course_instance_id=ci.id)
        elif row.content_hash == digest and row.retired_at is None:
            continue
        else:
            kind = "restored" if row.retired_at is not None else "changed"
            report.changes.append(Change(kind, label))
            record(
                ctx,
                f"sync.{kind[:-1] if kind.endswith('d') else kind}",
                "assessment",
                label,
                course_instance_id=ci.id,
            )
            row.form = src.config.form.value
            row.access = access
            for k, v in info.items():
                setattr(row, k, v)
            row.retired_at = None
        row.content_hash = digest
        s.flush()
        _write_access_dates(ctx, row, inst, raw)
    for aid, row in sorted(existing.items()):
        if aid not in inst.assessments and row.retired_at is None:
            row.retired_at = ctx.at
            label = f"{ci.short_name}/{aid}"
            report.changes.append(
                Change("retired", label, "removed from the files; history and attempts kept")
            )
            record(ctx, "sync.retire", "assessment", label, course_instance_id=ci.id)


def _write_access_dates(
    ctx: Ctx, row: Assessment, inst: LoadedInstance, raw: dict[str, Any]
) -> None:
    """Rebuild the normalised dates of one assessment (for calendars and listings)."""
    ctx.session.execute(delete(AccessDate).where(AccessDate.assessment_id == row.id))
    tz = inst.tz

    def add(
        element: str, labels: list[str], kind: str, text: Any, credit: float | None = None
    ) -> None:
        if not isinstance(text, str):
            return
        try:
            t, _ = parse_date(text, tz)
        except ValueError:
            return
        ctx.session.add(
            AccessDate(
                assessment_id=row.id, element=element, labels=labels, kind=kind, at=t, credit=credit
            )
        )

    acc = raw.get("accessControl")
    if isinstance(raw.get("allowAccess"), list):
        for i, rule in enumerate(raw["allowAccess"]):
            el = f"allowAccess[{i}]"
            add(el, [], "start", rule.get("startDate"), rule.get("credit"))
            add(el, [], "end", rule.get("endDate"), rule.get("credit"))
    elif isinstance(acc, list):
        for i, e in enumerate(acc):
            el = "defaults" if i == 0 else f"accessControl[{i}]"
            labels = list(e.get("labels") or [])
            dc = e.get("dateControl") or {}
            add(el, labels, "release", (dc.get("release") or {}).get("date"))
            due = dc.get("due") or {}
            add(el, labels, "due", due.get("date"), due.get("credit", 100))
            for d in dc.get("earlyDeadlines") or []:
                add(el, labels, "early", d.get("date"), d.get("credit"))
            for d in dc.get("lateDeadlines") or []:
                add(el, labels, "late", d.get("date"), d.get("credit"))
            for ss in dc.get("sessions") or []:
                add(el, labels, "session-start", ss.get("startDate"), ss.get("credit", 100))
                add(el, labels, "session-end", ss.get("endDate"))
    elif isinstance(acc, dict):
        bodies = [("defaults", [], acc)] + [
            (
                f"accessControlOverrides[{i}]",
                list(o.get("sections") or []),
                o.get("accessControl") or {},
            )
            for i, o in enumerate(raw.get("accessControlOverrides") or [])
        ]
        for el, labels, b in bodies:
            add(el, labels, "release", b.get("availableDate"))
            add(el, labels, "due", b.get("dueDate"), 100)
            for d in b.get("earlyDeadlines") or []:
                add(el, labels, "early", d.get("date"), d.get("credit"))
            for d in b.get("lateDeadlines") or []:
                add(el, labels, "late", d.get("date"), d.get("credit"))
            add(el, labels, "reveal", b.get("revealDate"))


__all__ = ["Change", "SyncReport", "domain_name", "ensure_domain", "sync_course", "zone"]
