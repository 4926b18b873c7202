"""Assessment instances (a student's attempt) as the services answer them, and reading them:
:class:`InstanceView` (one attempt, with the student), :func:`list_attempts` and
:func:`get_attempt` — the student's own, or anyone's with ``vst`` (view students' access,
exceptions and attempts) in the course instance. Changing attempts is
:mod:`coursegate.services.access.attempts`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from sqlalchemy import select

from coursegate.core.decision import AssessmentDecision
from coursegate.core.instants import MINUTE, Instant, format_instant
from coursegate.core.model import Mode
from coursegate.services.access.students import find_user, person
from coursegate.services.access.view_permissions import VIEW_STUDENTS
from coursegate.services.common.authz import require
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import NotFound
from coursegate.services.common.places import (
    course_instance_by_id,
    instance_area,
    instance_label,
)
from coursegate.store.models import (
    Assessment,
    AssessmentInstance,
    CourseInstance,
    User,
)


@dataclass(frozen=True)
class InstanceView:
    """One attempt, with the student (uid and full name together)."""

    id: int
    course_instance_id: int
    assessment: str
    uid: str
    name: str
    number: int
    open: bool
    started_at: Instant
    date_limit: Instant | None
    closed_at: Instant | None
    points: float
    max_points: float
    bonus_points: float
    score_percent: float
    version: int
    created: bool = False
    """``attempts.start`` created it (False: it returned the attempt that already existed)."""
    credit: float | None = None
    """``attempts.submit``: the credit in force when the points were submitted."""
    mode: str | None = None
    """``attempts.start`` and ``attempts.submit``: the mode the decision was made in."""
    decision: AssessmentDecision | None = None
    """``attempts.start``: the decision that allowed the start (for an attempt already open,
    the decision now, with it); ``attempts.submit``: the one that accepted the points."""

    @property
    def student(self) -> str:
        return person(self.uid, self.name)

    @property
    def time_limit_minutes(self) -> int | None:
        """The minutes the attempt was given (``date_limit`` − ``started_at``), if timed."""
        if self.date_limit is None:
            return None
        return int((self.date_limit - self.started_at) // MINUTE)

    def to_json(self, tz: tzinfo | None = None) -> dict[str, Any]:
        def when(t: Instant | None) -> str | None:
            return None if t is None else format_instant(t, tz)

        return {
            "id": self.id,
            "course_instance_id": self.course_instance_id,
            "assessment": self.assessment,
            "uid": self.uid,
            "name": self.name,
            "student": self.student,
            "number": self.number,
            "open": self.open,
            "started_at": when(self.started_at),
            "date_limit": when(self.date_limit),
            "closed_at": when(self.closed_at),
            "points": self.points,
            "max_points": self.max_points,
            "bonus_points": self.bonus_points,
            "score_percent": self.score_percent,
            "version": self.version,
            "created": self.created,
            "credit": self.credit,
            "time_limit_minutes": self.time_limit_minutes,
            "mode": self.mode,
            "decision": None if self.decision is None else self.decision.to_json(tz),
        }


def instance_view(
    row: AssessmentInstance,
    ci_id: int,
    aid: str,
    user: User,
    *,
    created: bool = False,
    credit: float | None = None,
    mode: Mode | None = None,
    decision: AssessmentDecision | None = None,
) -> InstanceView:
    return InstanceView(
        id=row.id,
        course_instance_id=ci_id,
        assessment=aid,
        uid=user.uid,
        name=user.name,
        number=row.number,
        open=row.open,
        started_at=row.started_at,
        date_limit=row.date_limit,
        closed_at=row.closed_at,
        points=row.points,
        max_points=row.max_points,
        bonus_points=row.bonus_points,
        score_percent=row.score_percent,
        version=row.version,
        created=created,
        credit=credit,
        mode=None if mode is None else mode.value,
        decision=decision,
    )


def load_instance(
    ctx: Ctx, instance_id: int, course_instance_id: int | None = None, *, lock: bool = True
) -> tuple[AssessmentInstance, Assessment, CourseInstance, User]:
    """The instance, locked for this transaction, with its assessment, course instance, user.
    With ``course_instance_id``, an instance of another course instance is not found."""
    query = select(AssessmentInstance).where(AssessmentInstance.id == instance_id)
    if lock:
        query = query.with_for_update()
    row = ctx.session.scalars(query.execution_options(populate_existing=True)).one_or_none()
    a = None if row is None else ctx.session.get(Assessment, row.assessment_id)
    if row is None or a is None or course_instance_id not in (None, a.course_instance_id):
        raise NotFound(f"instance_id: there is no assessment instance {instance_id}", "instance_id")
    user = ctx.session.get(User, row.user_id)
    assert user is not None
    return row, a, course_instance_by_id(ctx, a.course_instance_id), user


def _require_view(ctx: Ctx, ci: CourseInstance, uid: str | None, what: str) -> None:
    """A student reads their own attempts; anyone else needs ``vst`` in the course instance
    (while viewing as a student, only what that student may)."""
    if ctx.is_system or (uid is not None and ctx.is_self(uid, ci.id)):
        return
    require(ctx, VIEW_STUDENTS, instance_area(ci), f"{what} in {instance_label(ci)}")


def list_attempts(
    ctx: Ctx,
    course_instance_id: int,
    *,
    assessment: str | None = None,
    uid: str | None = None,
    open_only: bool = False,
) -> list[InstanceView]:
    """The attempts in a course instance, of one assessment and/or one student, oldest first.
    Without ``uid`` (every student's) it needs ``vst``; a student may list their own."""
    ci = course_instance_by_id(ctx, course_instance_id)
    wanted = None if uid is None else uid.strip()
    what = "see every student's attempts" if wanted is None else f"see {wanted}'s attempts"
    _require_view(ctx, ci, wanted, what)
    query = (
        select(AssessmentInstance, Assessment.aid, User)
        .join(Assessment, Assessment.id == AssessmentInstance.assessment_id)
        .join(User, User.id == AssessmentInstance.user_id)
        .where(Assessment.course_instance_id == ci.id)
    )
    if wanted is not None:
        query = query.where(User.id == find_user(ctx, wanted).id)
    if assessment is not None and assessment.strip():
        aid = assessment.strip()
        known = ctx.session.scalars(
            select(Assessment.id).where(
                Assessment.course_instance_id == ci.id, Assessment.aid == aid
            )
        ).first()
        if known is None:
            raise NotFound(
                f"assessment: {instance_label(ci)} has no assessment {aid!r}", "assessment"
            )
        query = query.where(Assessment.aid == aid)
    if open_only:
        query = query.where(AssessmentInstance.open.is_(True))
    query = query.order_by(AssessmentInstance.started_at, AssessmentInstance.id)
    return [instance_view(row, ci.id, aid, user) for row, aid, user in ctx.session.execute(query)]


def get_attempt(ctx: Ctx, course_instance_id: int, instance_id: int) -> InstanceView:
    """One attempt of a course instance: the student's own, or anyone's with ``vst``."""
    row, a, ci, user = load_instance(ctx, instance_id, course_instance_id, lock=False)
    _require_view(ctx, ci, user.uid, f"see {user.uid}'s attempt at {a.aid}")
    return instance_view(row, ci.id, a.aid, user)


__all__ = [
    "InstanceView",
    "get_attempt",
    "instance_view",
    "list_attempts",
    "load_instance",
]
