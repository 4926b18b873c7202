"""Read-only views of a course instance's assessments for the staff's pages: the assessment
list with its "published" marks (:mod:`~coursegate.services.access.staff.publishing`), their titles,
what the access-rule editor starts from, and a student's attempts.

Nothing here decides anything: the marks are read off the decision core's timelines, the rest
off the store, and every function asks the roles core first (``vst`` to look at students).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from coursegate.core.instants import Instant
from coursegate.courses.instance_settings import InstanceSettings
from coursegate.services.access.staff.publishing import (
    Publishing,
    assessment_publishing,
    instance_publishing,
)
from coursegate.services.access.view_permissions import require_view_all, require_view_student
from coursegate.services.common.context import Ctx
from coursegate.services.common.places import live_assessment
from coursegate.services.courses.state import read_instance
from coursegate.store.models import (
    Assessment,
    AssessmentInstance,
    CourseInstance,
    StudentOverride,
)

# -- the assessment list ----------------------------------------------------------------------


def assessment_titles(ctx: Ctx, ci: CourseInstance) -> list[tuple[str, str]]:
    """``(assessment id, "Set number: title")`` of every live assessment, in the list's order
    (set, number); needs ``vst``."""
    require_view_all(ctx, ci)
    state = read_instance(ctx.session, ci)
    items = sorted(
        state.assessments.values(),
        key=lambda s: (s.config.set_name, _natural(s.config.number), s.config.id),
    )
    return [
        (s.config.id, f"{s.config.set_name} {s.config.number}: {s.config.title}") for s in items
    ]


@dataclass(frozen=True)
class StaffAssessment:
    aid: str
    title: str
    set_name: str
    number: str
    form: str
    publishing: Publishing
    exceptions: int
    """Students' own exceptions for it (or its set)."""


@dataclass(frozen=True)
class StaffOverview:
    course: str
    instance: str
    long_name: str
    timezone: str
    publishing: Publishing
    assessments: tuple[StaffAssessment, ...]


def staff_overview(ctx: Ctx, ci: CourseInstance) -> StaffOverview:
    """The course instance's assessments with their published marks; needs ``vst``."""
    require_view_all(ctx, ci)
    state = read_instance(ctx.session, ci)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for scope, target, n in ctx.session.execute(
        select(StudentOverride.scope, StudentOverride.target, func.count())
        .where(StudentOverride.course_instance_id == ci.id)
        .group_by(StudentOverride.scope, StudentOverride.target)
    ).all():
        counts[(scope, target)] = int(n)
    items = []
    for aid, src in state.assessments.items():
        c = src.config
        items.append(
            StaffAssessment(
                aid,
                c.title,
                c.set_name,
                c.number,
                c.form.value,
                assessment_publishing(ci, state, c),
                counts[("assessment", aid)] + counts[("set", c.set_name)],
            )
        )
    items.sort(key=lambda a: (a.set_name, _natural(a.number), a.aid))
    return StaffOverview(
        ci.course.name,
        ci.short_name,
        ci.long_name,
        state.tz.key,
        instance_publishing(ci, state, ctx.at),
        tuple(items),
    )


def _natural(text: str) -> tuple[tuple[int, int | str], ...]:
    return tuple(
        (0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", text) if p != ""
    )


# -- the access-rule editor -------------------------------------------------------------------


@dataclass(frozen=True)
class EditorContext:
    """What the access-rule editor needs: the stored assessment, the course instance's
    settings (labels, set-wide rules) and zone, for checking as ``coursegate validate``."""

    row: Assessment
    settings: InstanceSettings
    tz: ZoneInfo
    stored: dict[str, Any]


def editor_context(ctx: Ctx, ci: CourseInstance, aid: str) -> EditorContext:
    """Needs ``vst`` (the routes ask for ``opa`` to edit)."""
    require_view_all(ctx, ci)
    row = live_assessment(ctx, ci, aid)
    state = read_instance(ctx.session, ci)
    return EditorContext(row, state.settings, state.tz, dict(row.access))


# -- a student's attempts ---------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    id: int
    aid: str
    open: bool
    started_at: Instant
    date_limit: Instant | None
    closed_at: Instant | None
    points: float
    max_points: float
    score_percent: float
    version: int


def attempts_of(ctx: Ctx, ci: CourseInstance, uid: str) -> dict[str, Attempt]:
    """The student's latest attempt at each assessment (the student, or ``vst``)."""
    require_view_student(ctx, ci, uid)
    user = ctx.user(uid)
    out: dict[str, Attempt] = {}
    for row, aid in ctx.session.execute(
        select(AssessmentInstance, Assessment.aid)
        .join(Assessment, Assessment.id == AssessmentInstance.assessment_id)
        .where(Assessment.course_instance_id == ci.id, AssessmentInstance.user_id == user.id)
        .order_by(AssessmentInstance.number)
    ).all():
        out[aid] = Attempt(
            row.id,
            aid,
            row.open,
            row.started_at,
            row.date_limit,
            row.closed_at,
            row.points,
            row.max_points,
            row.score_percent,
            row.version,
        )
    return out


__all__ = [
    "Attempt",
    "EditorContext",
    "StaffAssessment",
    "StaffOverview",
    "assessment_titles",
    "attempts_of",
    "editor_context",
    "staff_overview",
]
