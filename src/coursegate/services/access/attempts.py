"""Assessment instances (a student's attempt): start, submit points, close, and close
automatically when the time limit ends.

Every check is the decision core's, from stored state (the roster: enrollment, sections,
exceptions, reservations and the attempt itself):

* **start** — the student themselves, or course staff viewing as them (the roles core re-checks
  that they still may). The decision's ``can_start`` must be true; when ``password_required``,
  the password must be the one in force now (the winning rule's, session's or exception's);
  ``date_limit`` is now plus the decision's ``time_limit_minutes`` (already capped by the end
  of access). One attempt per student and assessment: starting again returns the open attempt.
  Two simultaneous starts create one instance: the insert relies on the unique constraint and,
  when it fails, reads and returns the attempt the other request created.
* **submit** — the student (or staff viewing as them), or the system actor (an autograder).
  The decision at that instant, with the attempt, must be ``submittable``; the credit at that
  instant turns the points into a percentage with :func:`coursegate.core.credit.score`, which
  never lowers the stored score. The instance row is locked while it is updated, so concurrent
  submissions are applied one after the other.
* **close** — the student (or staff viewing as them), the system actor, or staff holding
  ``mgr`` (modify grades) in the course instance; closing a closed attempt changes nothing.
* **mode** — ``start`` and ``submit`` take the server's mode (``Public`` or ``Exam``); with
  ``mode=None`` it is the request's mode as the HTTP layer found it (``request_mode``: a
  testing-centre network, or an instructor's own switch) or, failing that, read from the
  store: Exam while the student has a testing-centre reservation in force
  (:func:`coursegate.services.access.exam_mode.resolve`), Public otherwise. The HTTP API always
  uses that, so a client cannot claim to be in the testing centre; the decision's explanation
  then begins with why the mode is Exam.
* **reading** — :mod:`~coursegate.services.access.attempt_views` (``list_attempts``,
  ``get_attempt``): the student's own, or anyone's with ``vst`` (view students' access,
  exceptions and attempts) in the course instance.
* :func:`close_expired` — the system actor's job: closes every open attempt whose time limit
  has ended (``closed_at`` = the limit). Safe to run at any time, any number of times, and in
  several processes at once (rows another run holds are skipped).

Every change writes one history entry.
"""

from __future__ import annotations

import hmac
import math
from dataclasses import replace

from sqlalchemy import select

from coursegate.core.credit import score
from coursegate.core.decision import AssessmentDecision
from coursegate.core.engine import (
    AssessmentConfig,
    Facts,
    Student,
    decide,
    password_in_force,
)
from coursegate.core.instants import MINUTE, Instant
from coursegate.core.model import InstanceFacts, Mode
from coursegate.services.access.attempt_views import InstanceView, instance_view, load_instance
from coursegate.services.access.exam_mode import RequestMode, explained, resolve
from coursegate.services.access.students import find_user, person
from coursegate.services.common.authz import require
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Conflict, Invalid, NotFound, Refused
from coursegate.services.common.places import (
    course_instance_by_id,
    course_zone,
    instance_area,
    instance_label,
)
from coursegate.services.courses.roster import student_for
from coursegate.services.courses.state import InstanceState, read_instance
from coursegate.services.history.log import record
from coursegate.services.people.persons import refuse_in_view_as
from coursegate.store.db import insert_unless_exists
from coursegate.store.models import (
    Assessment,
    AssessmentInstance,
    CourseInstance,
    User,
)

MODIFY_GRADES = "mgr"
_KIND = "assessment_instance"


# -- who, what, and the decision --------------------------------------------------------------


def _mode(mode: str) -> Mode:
    try:
        return Mode(mode)
    except ValueError:
        raise Invalid(f"mode: must be 'Public' or 'Exam', not {mode!r}", "mode") from None


def _server_mode(
    ctx: Ctx, user: User, chosen: Mode | None, given: RequestMode | None, ci: CourseInstance
) -> RequestMode:
    """The mode to decide in: ``chosen`` (a caller that knows it), else the request's
    (``given``) or the store's (a reservation in force)."""
    if chosen is not None:
        return RequestMode(chosen, None, "given")
    return resolve(ctx, user, given, course_zone(ci))


def _require_self(ctx: Ctx, user: User, what: str) -> None:
    """Only the student acts on their attempt, and never someone viewing as them."""
    refuse_in_view_as(ctx, what)
    if ctx.effective != user.uid:
        raise Refused(
            f"{ctx.effective} may not {what} for {user.uid}: only the student themselves may",
            "uid",
        )


def _assessment(ctx: Ctx, state: InstanceState, ci: CourseInstance, aid: str) -> AssessmentConfig:
    src = state.assessments.get(aid)
    if src is None:
        retired = ctx.session.scalars(
            select(Assessment.id).where(
                Assessment.course_instance_id == ci.id, Assessment.aid == aid
            )
        ).first()
        if retired is not None:
            raise Invalid(
                f"assessment: {aid} has been retired (removed from the course files)",
                "assessment",
            )
        raise NotFound(
            f"assessment: {instance_label(ci)} has no assessment {aid!r} (assessments: "
            f"{', '.join(sorted(state.assessments)) or 'none'})",
            "assessment",
        )
    return src.config


def _decision(
    state: InstanceState,
    config: AssessmentConfig,
    student: Student,
    mode: Mode,
    instance: InstanceFacts | None,
    at: Instant,
) -> tuple[AssessmentDecision, Facts]:
    facts = Facts(
        user=student.user,
        mode=mode,
        reservations=student.reservations,
        personal=student.personal.get(config.id, ()),
        enrollment=student.enrollment,
        instance=instance,
    )
    d = decide(state.settings.policy, config, facts, at, state.tz).assessment
    assert d is not None
    return d, facts


def _existing(ctx: Ctx, assessment_id: int, user_id: int) -> AssessmentInstance | None:
    return ctx.session.scalars(
        select(AssessmentInstance)
        .where(
            AssessmentInstance.assessment_id == assessment_id,
            AssessmentInstance.user_id == user_id,
        )
        .order_by(AssessmentInstance.number.desc())
        .execution_options(populate_existing=True)
    ).first()


# -- start ------------------------------------------------------------------------------------


def start(
    ctx: Ctx,
    course_instance_id: int,
    assessment: str,
    *,
    uid: str | None = None,
    password: str | None = None,
    mode: str | None = None,
    request_mode: RequestMode | None = None,
) -> InstanceView:
    """Start ``uid``'s (default: the effective user's) attempt at ``assessment``, or return the
    open one they already have (``created`` False). ``mode=None``: the request's mode
    (``request_mode``, found by the HTTP layer) or the store's (a reservation in force)."""
    chosen = None if mode is None else _mode(mode)
    ci = course_instance_by_id(ctx, course_instance_id)
    user = find_user(ctx, uid or ctx.effective)
    _require_self(ctx, user, f"start {assessment}")
    why = _server_mode(ctx, user, chosen, request_mode, ci)
    server_mode = why.mode
    state = read_instance(ctx.session, ci)
    config = _assessment(ctx, state, ci, assessment)
    aid = config.id
    assessment_id = state.assessment_ids[aid]
    existing = _existing(ctx, assessment_id, user.id)
    student = student_for(ctx.session, ci, state, user)
    if existing is not None:
        _resume(existing, aid, user, ctx.at)
        return _with_decision(ctx, existing, ci, aid, user, state, config, student, why)
    d, facts = _decision(state, config, student, server_mode, None, ctx.at)
    d = explained(d, why)
    who = person(user.uid, user.name)
    if not d.can_start:
        raise Refused(f"{who} cannot start {aid} now: " + "; ".join(d.explanation), "assessment")
    if d.password_required:
        expected = password_in_force(config, facts, ctx.at)
        if not password:
            raise Refused(f"password: {aid} needs a password to start now", "password")
        if expected is None or not hmac.compare_digest(password.encode(), expected.encode()):
            raise Refused(f"password: that is not the password for {aid} now", "password")
    limit = d.time_limit_minutes
    row = AssessmentInstance(
        assessment_id=assessment_id,
        user_id=user.id,
        number=1,
        open=True,
        date_limit=None if limit is None else ctx.at + limit * MINUTE,
        started_at=ctx.at,
    )
    if not insert_unless_exists(ctx.session, row):
        # Another request started it at the same moment: theirs is the one.
        again = _existing(ctx, assessment_id, user.id)
        if again is None:  # pragma: no cover - the unique constraint said it exists
            raise Conflict(f"assessment: {aid} could not be started; try again", "assessment")
        return _with_decision(ctx, again, ci, aid, user, state, config, student, why)
    record(
        ctx,
        "instance.start",
        _KIND,
        f"{user.uid} {aid}",
        course_instance_id=ci.id,
        instance_id=row.id,
        uid=user.uid,
        assessment=aid,
        mode=server_mode.value,
        mode_source=why.source,
        time_limit_minutes=limit,
        date_limit=row.date_limit,
        credit=d.credit,
    )
    return instance_view(row, ci.id, aid, user, created=True, mode=server_mode, decision=d)


def _with_decision(
    ctx: Ctx,
    row: AssessmentInstance,
    ci: CourseInstance,
    aid: str,
    user: User,
    state: InstanceState,
    config: AssessmentConfig,
    student: Student,
    why: RequestMode,
) -> InstanceView:
    """An attempt that was already open, with the decision now (the attempt included)."""
    facts = InstanceFacts(row.open, row.date_limit)
    student = replace(student, instances={**student.instances, aid: facts})
    d, _ = _decision(state, config, student, why.mode, facts, ctx.at)
    return instance_view(row, ci.id, aid, user, mode=why.mode, decision=explained(d, why))


def _resume(row: AssessmentInstance, aid: str, user: User, at: Instant) -> None:
    """An open attempt is returned; a closed or timed-out one is a :class:`Conflict`."""
    if row.open and (row.date_limit is None or at < row.date_limit):
        return
    state = "closed" if not row.open else "past its time limit"
    raise Conflict(
        f"assessment: {person(user.uid, user.name)} already has an attempt at {aid}, and it is "
        f"{state}; an assessment has one attempt per student",
        "assessment",
    )


# -- submit and close -------------------------------------------------------------------------


MAX_POINTS = 1_000_000_000
"""Points, maximum points and bonus points are at most this, and a maximum at least
:data:`MIN_MAX_POINTS`: the percentage they make (points ÷ maximum × credit) is then always a
finite number that every database stores."""
MIN_MAX_POINTS = 0.000_001


def _points(value: object, name: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(f"{name}: must be a number, not {value!r}", name)
    x = float(value)
    if not math.isfinite(x) or x > MAX_POINTS:
        raise Invalid(f"{name}: must be a number up to {MAX_POINTS:,}, not {value!r}", name)
    if positive and x <= 0:
        raise Invalid(f"{name}: must be more than 0, not {x:g}", name)
    if x < 0:
        raise Invalid(f"{name}: must not be negative, not {x:g}", name)
    return x


def submit(
    ctx: Ctx,
    instance_id: int,
    points: float,
    *,
    max_points: float | None = None,
    bonus_points: float | None = None,
    mode: str | None = None,
    course_instance_id: int | None = None,
    request_mode: RequestMode | None = None,
) -> InstanceView:
    """Record the attempt's ``points`` (out of ``max_points``, with ``bonus_points`` on top;
    both default to what the instance holds). The score never decreases. ``mode=None``: the
    request's mode (``request_mode``) or the store's, as for :func:`start`;
    ``course_instance_id``: the attempt must be one of that course instance."""
    chosen = None if mode is None else _mode(mode)
    row, a, ci, user = load_instance(ctx, instance_id, course_instance_id)
    if not ctx.is_system:
        _require_self(ctx, user, f"submit answers to {a.aid}")
    why = _server_mode(ctx, user, chosen, request_mode, ci)
    server_mode = why.mode
    got = _points(points, "points")
    top = _points(row.max_points if max_points is None else max_points, "max_points")
    if top <= 0:
        raise Invalid(
            "max_points: the instance has no maximum yet; give max_points (more than 0)",
            "max_points",
        )
    if top < MIN_MAX_POINTS:
        raise Invalid(f"max_points: must be at least {MIN_MAX_POINTS:g}, not {top:g}", "max_points")
    bonus = _points(row.bonus_points if bonus_points is None else bonus_points, "bonus_points")
    state = read_instance(ctx.session, ci)
    config = _assessment(ctx, state, ci, a.aid)
    student = student_for(ctx.session, ci, state, user)
    facts = InstanceFacts(row.open, row.date_limit)
    student = replace(student, instances={**student.instances, a.aid: facts})
    d, _ = _decision(state, config, student, server_mode, facts, ctx.at)
    d = explained(d, why)
    if not d.submittable:
        raise Refused(
            f"{a.aid} does not accept answers from {person(user.uid, user.name)} now: "
            + "; ".join(d.explanation),
            "instance_id",
        )
    before = row.score_percent
    after = score(got, top, bonus, d.credit, before)
    row.points, row.max_points, row.bonus_points = got, top, bonus
    row.score_percent = after
    ctx.session.flush()
    record(
        ctx,
        "instance.submit",
        _KIND,
        f"{user.uid} {a.aid}",
        course_instance_id=ci.id,
        instance_id=row.id,
        uid=user.uid,
        assessment=a.aid,
        points=got,
        max_points=top,
        bonus_points=bonus,
        credit=d.credit,
        score_before=before,
        score_after=after,
    )
    return instance_view(row, ci.id, a.aid, user, credit=d.credit, mode=server_mode, decision=d)


def close(
    ctx: Ctx, instance_id: int, *, reason: str = "", course_instance_id: int | None = None
) -> InstanceView:
    """Close an attempt: the student's (or staff viewing as them), the system's, or staff with
    ``mgr`` in the course instance. Closing a closed attempt changes nothing.
    ``course_instance_id``: the attempt must be one of that course instance."""
    row, a, ci, user = load_instance(ctx, instance_id, course_instance_id)
    if ctx.is_system:
        pass
    elif ctx.is_self(user.uid, ci.id):
        _require_self(ctx, user, f"close the attempt at {a.aid}")
    else:
        require(
            ctx,
            MODIFY_GRADES,
            instance_area(ci),
            f"close {user.uid}'s attempt at {a.aid} in {instance_label(ci)}",
        )
    if not row.open:
        return instance_view(row, ci.id, a.aid, user)
    _close(ctx, row, ci, a, user, reason.strip() if isinstance(reason, str) else "", False)
    return instance_view(row, ci.id, a.aid, user)


def _close(
    ctx: Ctx,
    row: AssessmentInstance,
    ci: CourseInstance,
    a: Assessment,
    user: User,
    reason: str,
    automatic: bool,
) -> None:
    ended = row.date_limit is not None and row.date_limit <= ctx.at
    row.open = False
    row.closed_at = row.date_limit if ended and row.date_limit is not None else ctx.at
    ctx.session.flush()
    record(
        ctx,
        "instance.close",
        _KIND,
        f"{user.uid} {a.aid}",
        course_instance_id=ci.id,
        reason=reason,
        instance_id=row.id,
        uid=user.uid,
        assessment=a.aid,
        closed_at=row.closed_at,
        automatic=automatic,
    )


def close_expired(ctx: Ctx) -> list[InstanceView]:
    """Close every open attempt whose time limit has ended by ``ctx.at`` (the system's job)."""
    if not ctx.is_system:
        raise Refused(
            f"{ctx.effective} may not close expired attempts: it is the system's scheduled job"
        )
    rows = ctx.session.scalars(
        select(AssessmentInstance)
        .where(
            AssessmentInstance.open.is_(True),
            AssessmentInstance.date_limit.is_not(None),
            AssessmentInstance.date_limit <= ctx.at,
        )
        .order_by(AssessmentInstance.id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).all()
    out: list[InstanceView] = []
    for row in rows:
        a = ctx.session.get(Assessment, row.assessment_id)
        user = ctx.session.get(User, row.user_id)
        assert a is not None and user is not None
        ci = course_instance_by_id(ctx, a.course_instance_id)
        _close(ctx, row, ci, a, user, "the time limit ended", True)
        out.append(instance_view(row, a.course_instance_id, a.aid, user))
    return out


__all__ = [
    "MODIFY_GRADES",
    "close",
    "close_expired",
    "start",
    "submit",
]
