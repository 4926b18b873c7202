"""An assessment's timeline drawn lane by lane for the staff's pages: one lane per group of
students its rules distinguish and one per student holding their own exception, each a run of
segments (credit, practice, view, listed, none) with the due date and the deadlines.

Nothing here decides: the lanes are read off the decision core's timelines for stand-in
students (:func:`~coursegate.services.access.staff.publishing.stand_ins`); needs ``vst``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import or_, select

from coursegate.core.decision import AssessmentDecision
from coursegate.core.engine import AssessmentConfig, CompiledCourseInstance
from coursegate.core.instants import Instant
from coursegate.core.timeline import Timeline
from coursegate.services.access.decisions.schedule import read_schedule
from coursegate.services.access.staff.publishing import (
    OPEN_INSTANCE,
    Publishing,
    assessment_publishing,
    instance_publishing,
    stand_ins,
)
from coursegate.services.access.view_permissions import require_view_all
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import NotFound
from coursegate.services.common.places import instance_label
from coursegate.services.courses.roster import load_roster
from coursegate.services.courses.state import read_instance
from coursegate.store.models import (
    CourseInstance,
    StudentOverride,
    User,
)


@dataclass(frozen=True)
class Segment:
    """``[start, end)`` of one lane: ``kind`` is credit, practice, view, listed or none."""

    start: Instant
    end: Instant
    kind: str
    credit: float
    text: str
    time_limit_minutes: int | None
    password_required: bool


@dataclass(frozen=True)
class Lane:
    name: str
    """``defaults``, ``accessControl[1]: lab-b``, or a student (uid and full name)."""
    kind: str
    """defaults | override | student"""
    segments: tuple[Segment, ...]
    due: Instant | None
    early: tuple[tuple[Instant, float], ...]
    late: tuple[tuple[Instant, float], ...]


@dataclass(frozen=True)
class AssessmentTimeline:
    aid: str
    title: str
    form: str
    lanes: tuple[Lane, ...]
    at: Instant
    course_instance: Publishing
    publishing: Publishing


def _segments(tl: Timeline[AssessmentDecision]) -> tuple[Segment, ...]:
    out: list[Segment] = []
    for a, b, d in tl.intervals():
        active = d.can_start or d.submittable
        if d.access and active and d.credit > 0:
            kind = "credit"
        elif d.access and active:
            kind = "practice"
        elif d.access:
            kind = "view"
        elif d.listed:
            kind = "listed"
        else:
            kind = "none"
        seg = Segment(
            a, b, kind, d.credit, d.credit_text, d.time_limit_minutes, d.password_required
        )
        last = out[-1] if out else None
        if last is not None and last.end == a and (last.kind, last.credit) == (kind, d.credit):
            out[-1] = replace(last, end=b)
        else:
            out.append(seg)
    return tuple(out)


def assessment_timeline(
    ctx: Ctx, ci: CourseInstance, aid: str, *, config: AssessmentConfig | None = None
) -> AssessmentTimeline:
    """One lane per group of students the rules distinguish (the defaults, each label
    override) and one per student holding their own exception for it. ``config`` draws the
    same for rules not yet synced (the editor's preview). Needs ``vst``."""
    require_view_all(ctx, ci)
    state = read_instance(ctx.session, ci)
    src = state.assessments.get(aid)
    if src is None:
        raise NotFound(f"assessment: {instance_label(ci)} has no assessment {aid!r}", "assessment")
    if config is None:
        config = src.config
    groups, people = stand_ins(config, ci.course.institution)
    names = [
        (groups[i][0], "defaults" if i == 0 else "override")
        if i < len(groups)
        else (f"allowAccess uids: {p.user.uid}", "override")
        for i, p in enumerate(people)
    ]
    holders = list(
        ctx.session.scalars(
            select(User.id)
            .join(StudentOverride, StudentOverride.user_id == User.id)
            .where(
                StudentOverride.course_instance_id == ci.id,
                or_(
                    (StudentOverride.scope == "assessment") & (StudentOverride.target == aid),
                    (StudentOverride.scope == "set") & (StudentOverride.target == config.set_name),
                ),
            )
            .distinct()
        )
    )
    if holders:
        for entry in load_roster(ctx.session, ci, state, user_ids=holders):
            people.append(replace(entry.student, instances={}))
            who = f"{entry.name} ({entry.uid})" if entry.name else entry.uid
            names.append((who, "student"))
    policy = state.settings.policy
    # What a student who has not started sees (the lanes), and what an attempt open at each
    # instant earns (the due date and deadlines, as students' lists read them).
    now = CompiledCourseInstance(policy, [config], people, state.tz)
    started = [replace(p, instances={aid: OPEN_INSTANCE}) for p in people]
    dated = CompiledCourseInstance(policy, [config], started, state.tz)
    lanes: list[Lane] = []
    for i, (name, kind) in enumerate(names):
        s = read_schedule(dated.timeline(i, 0))
        lanes.append(Lane(name, kind, _segments(now.timeline(i, 0)), s.due, s.early, s.late))
    return AssessmentTimeline(
        aid,
        config.title,
        config.form.value,
        tuple(lanes),
        ctx.at,
        instance_publishing(ci, state, ctx.at),
        assessment_publishing(ci, state, config),
    )


__all__ = ["AssessmentTimeline", "Lane", "Segment", "assessment_timeline"]
