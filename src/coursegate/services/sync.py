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
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from coursegate.core.decision import AssessmentDecision, CourseInstanceDecision
from coursegate.core.engine import CompiledCourseInstance, Student, policy_for
from coursegate.core.instants import DEFAULT_TIMEZONE, Instant, parse_date
from coursegate.core.timeline import Timeline
from coursegate.courses.loader import LoadedInstance, find_course_files, load_course, read_json
from coursegate.courses.normalise import AssessmentSource
from coursegate.courses.problems import CourseError
from coursegate.services.authz import course_area, require
from coursegate.services.context import SYSTEM, Ctx
from coursegate.services.course_state import (
    ASSESSMENT_ACCESS_KEYS,
    INSTANCE_ACCESS_KEYS,
    InstanceState,
    content_hash,
    read_instance,
)
from coursegate.services.history import record
from coursegate.services.roster import RosterEntry, load_roster
from coursegate.store.models import (
    AccessDate,
    Assessment,
    Course,
    CourseInstance,
    Domain,
    Enrollment,
    Section,
)

FINGERPRINT_VERSION = 3
"""Part of every stored fingerprint: raising it makes the next sync validate every file again
(do so when validation gets stricter)."""

PAUSE_ENV = "COURSEGATE_TEST_PAUSE_BEFORE_COMMIT"
"""Tests only: a file that :func:`run_sync` writes just before it commits, then it sleeps (for
``COURSEGATE_TEST_PAUSE_SECONDS``, default 60) so that a test can kill it mid-transaction."""

_CHUNK = 500
"""Ids per ``IN (...)`` list."""


# ---------------------------------------------------------------------------------- the report


@dataclass
class Change:
    kind: str  # created | changed | retired | restored
    what: str
    detail: str = ""

    def render(self) -> str:
        return f"{self.what}: {self.kind}" + (f" ({self.detail})" if self.detail else "")


KIND_WORDS: dict[str, tuple[str, str]] = {
    "access": ("access to the course instance", "changes"),
    "release": ("release", "moves"),
    "early": ("early deadlines", "change"),
    "due": ("due date", "moves"),
    "late": ("late deadlines", "change"),
    "time_limit": ("time limit", "changes"),
    "password": ("password", "changes"),
    "visibility": ("visibility", "changes"),
    "access_end": ("end of access", "moves"),
    "decisions": ("decisions", "change"),
}
"""Each kind of change: its noun and the verb for it alone."""
KIND_ORDER = tuple(KIND_WORDS)
DATE_KINDS = frozenset({"release", "early", "due", "late"})
SHOWN_INDIRECT = 10
"""Assessments listed one by one in the text report when only the course instance's settings
changed them (the JSON report lists every one)."""


def describe_kinds(kinds: Sequence[str]) -> str:
    """``("due",)`` → "due date moves"; several → "release, due date and late deadlines change"."""
    if not kinds:
        return KIND_WORDS["decisions"][0] + " " + KIND_WORDS["decisions"][1]
    if len(kinds) == 1:
        noun, verb = KIND_WORDS[kinds[0]]
        return f"{noun} {verb}"
    nouns = [KIND_WORDS[k][0] for k in kinds]
    return f"{', '.join(nouns[:-1])} and {nouns[-1]} change"


def _students(n: int) -> str:
    return f"{n:,} student" + ("" if n == 1 else "s")


@dataclass
class Impact:
    """Whose decisions one change alters."""

    what: str
    """``Sp24/hw/hw3``, or ``course instance Sp24``."""
    enrolled: int
    groups: list[tuple[tuple[str, ...], int]] = field(default_factory=list)
    """The kinds of change and how many students see each combination, most first."""
    kept: int = 0
    """Students with their own exceptions (extensions) whose decisions do not change."""
    exception_word: str = "exceptions"
    note: str = ""
    """Why an unchanged file is listed (the course instance's settings changed)."""

    @property
    def students_changed(self) -> int:
        return sum(n for _, n in self.groups)

    def render(self) -> str:
        head = self.what + (f" ({self.note})" if self.note else "") + ": "
        if self.enrolled == 0:
            return head + "no students are enrolled, so no decisions change"
        parts = [f"{describe_kinds(kinds)} for {_students(n)}" for kinds, n in self.groups]
        if not parts:
            parts = [f"no student's decisions change ({self.enrolled:,} enrolled)"]
        if self.kept:
            if self.kept == 1:
                word = "an exception" if self.exception_word == "exceptions" else "an extension"
                parts.append(f"1 student with {word} keeps theirs")
            else:
                parts.append(f"{self.kept:,} students with {self.exception_word} keep theirs")
        return head + "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "text": self.render(),
            "enrolled": self.enrolled,
            "students_changed": self.students_changed,
            "changes": [{"kinds": list(k), "students": n} for k, n in self.groups],
            "kept": self.kept,
        }


@dataclass
class SyncReport:
    course: str
    changes: list[Change] = field(default_factory=list)
    impacts: list[Impact] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False
    files_unchanged: bool = False
    """Every file was exactly as last synced (nothing was validated or written)."""

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def render(self) -> str:
        head = f"course {self.course}: " + (
            f"{len(self.changes)} change(s)" if self.changes else "nothing to change"
        )
        if self.files_unchanged:
            head += " (every file is as last synced)"
        if self.dry_run:
            head += " (dry run: nothing written)"
        lines = [head]
        lines += [f"  {c.render()}" for c in self.changes]
        if self.impacts:
            lines.append("whose decisions change:")
            indirect = [i for i in self.impacts if i.note]
            hidden = indirect[SHOWN_INDIRECT:]
            skip = {id(i) for i in hidden}
            lines += [f"  {i.render()}" for i in self.impacts if id(i) not in skip]
            if hidden:
                lines.append(
                    f"  ... and {len(hidden):,} more assessments whose decisions change through"
                    " the course instance's settings (--json lists them all)"
                )
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "course": self.course,
            "dry_run": self.dry_run,
            "files_unchanged": self.files_unchanged,
            "changes": [c.__dict__ for c in self.changes],
            "impacts": [i.to_json() for i in self.impacts],
            "warnings": self.warnings,
        }


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


# ------------------------------------------------------------------------------------ syncing


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
    s = ctx.session
    domain = ensure_domain(ctx, domain_name(loaded.institution), loaded.institution or "")
    course = s.scalars(select(Course).where(Course.name == name)).one_or_none()
    institution_changed = False
    if course is None:
        if not ctx.is_system:
            from coursegate.roles import Area

            require(ctx, "ccc", Area.parse(f"/{domain.name}/"), f"create course {name}")
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
    course.source_path = str(base)
    s.flush()
    for ci_id, inst in sorted(loaded.instances.items()):
        _sync_instance(ctx, report, course, domain.name, ci_id, inst, institution_changed)
    return report


@dataclass
class _Planned:
    """What sync will do with one assessment file."""

    aid: str
    raw: dict[str, Any]
    form: str
    access: dict[str, Any]
    info: dict[str, Any]
    digest: str
    row: Assessment | None
    kind: str  # created | restored | changed | same


def _plan(inst: LoadedInstance, existing: dict[str, Assessment]) -> list[_Planned]:
    out: list[_Planned] = []
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
        out.append(_Planned(aid, raw, form, access, info, assessment_fingerprint(raw), row, kind))
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
    watcher: _ImpactWatcher | None = None
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
        if settings_changed:
            report.changes.append(Change("changed", label, "access settings"))
            record(ctx, "sync.change", "course_instance", ci_id, course_instance_id=row.id)
            # Every assessment live before and after: set-wide rules, publishing, labels ...
            compare = [p.aid for p in plan if p.row is not None and p.row.retired_at is None]
        else:
            compare = [p.aid for p in plan if p.kind == "changed"]
        if settings_changed or compare:
            changed = {p.aid for p in plan if p.kind == "changed"}
            watcher = _ImpactWatcher.before(ctx, report, row, compare, settings_changed, changed)
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
    _sync_assessments(ctx, report, row, inst, plan, existing)
    if watcher is not None:
        s.flush()
        watcher.after()


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
    ctx.session.add_all(
        Section(course_instance_id=row.id, name=n, from_files=True)
        for n in sorted(names - existing)
    )


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i : i + _CHUNK]


def _sync_assessments(
    ctx: Ctx,
    report: SyncReport,
    ci: CourseInstance,
    inst: LoadedInstance,
    plan: list[_Planned],
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
    dates = [d for row, raw in rewritten for d in _access_dates(row.id, inst, raw)]
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


def _access_dates(
    assessment_id: int, inst: LoadedInstance, raw: dict[str, Any]
) -> list[dict[str, Any]]:
    """The normalised dates of one assessment (for calendars and listings), as rows."""
    tz = inst.tz
    out: list[dict[str, Any]] = []

    def add(
        element: str, labels: list[str], kind: str, text: Any, credit: float | None = None
    ) -> None:
        if not isinstance(text, str):
            return
        try:
            t, _ = parse_date(text, tz)
        except ValueError:
            return
        out.append(
            {
                "assessment_id": assessment_id,
                "element": element,
                "labels": labels,
                "kind": kind,
                "at": t,
                "credit": credit,
            }
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
    return out


# ----------------------------------------------------------------------- whose decisions change


@dataclass
class _Side:
    """One side (before or after) of a change, compiled for the enrolled students."""

    state: InstanceState
    roster: list[RosterEntry]
    compiled: CompiledCourseInstance

    @staticmethod
    def read(session: Session, ci: CourseInstance, aids: Sequence[str], everything: bool) -> _Side:
        state = read_instance(session, ci) if everything else read_instance(session, ci, only=aids)
        roster = load_roster(session, ci, state)
        configs = [state.assessments[a].config for a in aids if a in state.assessments]
        compiled = CompiledCourseInstance(
            state.settings.policy, configs, [r.student for r in roster], state.tz
        )
        return _Side(state, roster, compiled)


def _signature(tl: Timeline[Any]) -> tuple[tuple[Instant, tuple[object, ...]], ...]:
    """What a student can observe of a timeline: each maximal interval's start and decision."""
    return tuple((s, d.key()) for s, _, d in tl.intervals())


def _features(tl: Timeline[AssessmentDecision]) -> dict[str, object]:
    """A timeline's dates and settings, to name what kind of change it went through."""
    runs: list[list[Any]] = []  # [start, end, credit] while something can be submitted
    limits: set[int | None] = set()
    vis: list[tuple[bool, bool, bool]] = []
    release: Instant | None = None
    access_end: Instant | None = None
    for s, e, d in tl.intervals():
        if d.access:
            if release is None:
                release = s
            access_end = e
        credit = d.credit if d.submittable else None
        if credit and credit > 0:
            if runs and runs[-1][2] == credit and runs[-1][1] == s:
                runs[-1][1] = e
            else:
                runs.append([s, e, credit])
        if d.can_start:
            limits.add(d.time_limit_minutes)
        v = (d.listed, d.questions_visible, d.score_visible)
        if not vis or vis[-1] != v:
            vis.append(v)
    full = [r for r in runs if r[2] >= 100]
    return {
        "release": release,
        "early": tuple((r[1], r[2]) for r in runs if r[2] > 100),
        "due": full[-1][1] if full else None,
        "late": tuple((r[1], r[2]) for r in runs if r[2] < 100),
        "time_limit": frozenset(limits),
        "visibility": tuple(vis),
        "access_end": access_end,
    }


def _passwords(student: Student, src: AssessmentSource | None) -> frozenset[str | None]:
    if src is None:
        return frozenset()
    policy = policy_for(src.config, student.user, student.personal.get(src.config.id, ()))
    return frozenset(g.password for g in policy.grants if g.password is not None)


@dataclass
class _ImpactWatcher:
    """Compiles the enrolled students' decisions before a course instance changes and after,
    and adds an :class:`Impact` for each change."""

    ctx: Ctx
    report: SyncReport
    ci: CourseInstance
    aids: list[str]
    settings_changed: bool
    changed: set[str]
    enrolled: int
    old: _Side | None = None
    unreadable: bool = False

    @classmethod
    def before(
        cls,
        ctx: Ctx,
        report: SyncReport,
        ci: CourseInstance,
        aids: list[str],
        settings_changed: bool,
        changed: set[str],
    ) -> _ImpactWatcher:
        enrolled = int(
            ctx.session.scalar(
                select(func.count()).where(
                    Enrollment.course_instance_id == ci.id, Enrollment.status != "removed"
                )
            )
            or 0
        )
        w = cls(ctx, report, ci, aids, settings_changed, changed, enrolled)
        if enrolled:
            try:
                w.old = _Side.read(ctx.session, ci, aids, settings_changed)
            except CourseError as exc:
                report.warnings.append(
                    f"cannot tell whose decisions change in {ci.short_name}: the stored state"
                    f" does not read back ({exc})"
                )
                w.unreadable = True
        return w

    def after(self) -> None:
        if self.unreadable:
            return
        if self.old is None:
            self.report.impacts.append(Impact(self.ci.short_name, 0))
            return
        new = _Side.read(self.ctx.session, self.ci, self.aids, self.settings_changed)
        old = self.old
        pairs = _pair_students(old.roster, new.roster)
        if self.settings_changed:
            self.report.impacts.append(self._course_instance(old, new, pairs))
        for aid in self.aids:
            impact = self._assessment(old, new, pairs, aid)
            if impact is not None:
                self.report.impacts.append(impact)

    def _course_instance(self, old: _Side, new: _Side, pairs: list[tuple[int, int]]) -> Impact:
        sigs: dict[int, object] = {}

        def sig(tl: Timeline[CourseInstanceDecision]) -> object:
            k = id(tl)
            if k not in sigs:
                sigs[k] = _signature(tl)
            return sigs[k]

        changed = kept = 0
        for i, k in pairs:
            differs = sig(old.compiled.ci_timelines[i]) != sig(new.compiled.ci_timelines[k])
            changed += differs
            enr = new.roster[k].student.enrollment
            has_own = enr is not None and enr.publishing_extension_end is not None
            kept += has_own and not differs
        groups: list[tuple[tuple[str, ...], int]] = [(("access",), changed)] if changed else []
        return Impact(
            f"course instance {self.ci.short_name}", len(pairs), groups, kept, "extensions"
        )

    def _assessment(
        self, old: _Side, new: _Side, pairs: list[tuple[int, int]], aid: str
    ) -> Impact | None:
        jo = old.compiled.assessment_index.get(aid)
        jn = new.compiled.assessment_index.get(aid)
        if jo is None or jn is None:
            return None
        src_old, src_new = old.state.assessments.get(aid), new.state.assessments.get(aid)
        memo: dict[tuple[int, int], tuple[str, ...] | None] = {}
        feats: dict[int, dict[str, object]] = {}

        def features(tl: Timeline[AssessmentDecision]) -> dict[str, object]:
            k = id(tl)
            if k not in feats:
                feats[k] = _features(tl)
            return feats[k]

        groups: Counter[tuple[str, ...]] = Counter()
        kept = 0
        for i, k in pairs:
            a, b = old.compiled.timeline(i, jo), new.compiled.timeline(k, jn)
            key = (id(a), id(b))
            if key not in memo:
                kinds: list[str] = []
                if _signature(a) != _signature(b):
                    fa, fb = features(a), features(b)
                    kinds = [x for x in KIND_ORDER if x in fa and fa[x] != fb[x]]
                    if "access_end" in kinds and DATE_KINDS & set(kinds):
                        kinds.remove("access_end")  # it follows from the dates named
                    if not kinds:
                        kinds = ["decisions"]
                if _passwords(old.roster[i].student, src_old) != _passwords(
                    new.roster[k].student, src_new
                ):
                    kinds.append("password")
                ordered = tuple(x for x in KIND_ORDER if x in kinds)
                memo[key] = ordered or None
            kinds_t = memo[key]
            if kinds_t is None:
                own = aid in old.roster[i].student.personal or aid in new.roster[k].student.personal
                kept += own
            else:
                groups[kinds_t] += 1
        if aid not in self.changed and not groups:
            return None  # the file did not change and nobody's decisions did
        ordered_groups = sorted(groups.items(), key=lambda g: (-g[1], g[0]))
        note = "" if aid in self.changed else "through the course instance's settings"
        return Impact(f"{self.ci.short_name}/{aid}", len(pairs), ordered_groups, kept, note=note)


def _pair_students(old: list[RosterEntry], new: list[RosterEntry]) -> list[tuple[int, int]]:
    """(old index, new index) of every student on both rosters."""
    where = {r.user_id: k for k, r in enumerate(new)}
    return [(i, where[r.user_id]) for i, r in enumerate(old) if r.user_id in where]


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
    "Change",
    "Impact",
    "SyncReport",
    "assessment_fingerprint",
    "describe_kinds",
    "domain_name",
    "ensure_domain",
    "instance_fingerprint",
    "run_sync",
    "sync_course",
]
