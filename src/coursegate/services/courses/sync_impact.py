"""Whose decisions a sync changes: the enrolled students' decisions are compiled from the stored
state before a course instance changes and after, every student's timeline is compared, and each
change gets an :class:`~coursegate.services.courses.sync_report.Impact` naming its kinds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coursegate.core.decision import AssessmentDecision, CourseInstanceDecision
from coursegate.core.engine import CompiledCourseInstance, Student, policy_for
from coursegate.core.instants import Instant
from coursegate.core.timeline import Timeline
from coursegate.courses.assessments import AssessmentSource
from coursegate.courses.problems import CourseError
from coursegate.services.common.context import Ctx
from coursegate.services.courses.roster import RosterEntry, load_roster
from coursegate.services.courses.state import (
    InstanceState,
    read_instance,
)
from coursegate.services.courses.sync_report import DATE_KINDS, KIND_ORDER, Impact, SyncReport
from coursegate.store.models import (
    CourseInstance,
    Enrollment,
)


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
class ImpactWatcher:
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
    ) -> ImpactWatcher:
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
