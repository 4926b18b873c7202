"""Testing-centre exam reservations: record and cancel, as a testing centre sends them.

A reservation gives one student access to one PrairieTest exam (``exam_uuid``) during
``[access_start, access_end)``; assessments that link that exam admit the student in Exam mode
during it (the decision core's rule). The testing centre names each reservation with its own
``external_id``: recording the same external id again updates that reservation (and restores it
if it was cancelled), never adds a second one; recording it unchanged writes nothing.

Who may: the system actor (the testing centre's integration, run by the operator), or a user
holding ``mrs`` (record and cancel exam reservations) in a course instance that links the exam —
one of its live assessments names the exam's uuid (legacy ``examUuid``, modern
``integrations.prairieTest.exams``, RFC ``prairieTest``).

Dates are instants, aware datetimes, or strings; a string without an offset is wall time in the
zone of the first course instance that links the exam (UTC when none does, which only the
system actor can meet). Every change writes one history entry.
"""

from __future__ import annotations

import uuid as uuid_module
from collections import defaultdict
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, cast, func, select

from coursegate.core.access_control import AccessPatch
from coursegate.core.engine import AssessmentConfig
from coursegate.core.instants import Instant, format_instant, format_wall, zone
from coursegate.services.access.exceptions.fields import read_when
from coursegate.services.access.students import find_user, person
from coursegate.services.access.view_permissions import VIEW_STUDENTS
from coursegate.services.common.authz import allowed, require
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Conflict, Invalid, NotFound, Refused
from coursegate.services.common.places import (
    course_instance_by_id,
    instance_area,
    instance_label,
)
from coursegate.services.courses.state import read_instance
from coursegate.services.history.log import record
from coursegate.store.db import insert_unless_exists
from coursegate.store.models import Assessment, CourseInstance, ExamReservation, User

RECORD_RESERVATIONS = "mrs"
"""Record and cancel exam reservations."""
"""Read students' reservations (with their access, exceptions and attempts)."""

_KIND = "exam_reservation"
_UTC = ZoneInfo("UTC")


@dataclass(frozen=True)
class ReservationView:
    """One reservation, with the student (uid and full name together)."""

    id: int
    external_id: str
    uid: str
    name: str
    exam_uuid: str
    access_start: Instant
    access_end: Instant
    cancelled_at: Instant | None
    created_at: Instant
    outcome: str
    """What this call did: ``created``, ``updated``, ``restored`` (a cancelled reservation
    recorded again), ``cancelled`` or ``unchanged``."""
    course_instances: tuple[str, ...] = ()
    """The course instances that link the exam."""
    timezone: str = "UTC"
    """The zone of the first course instance that links the exam (UTC when none does): the
    zone dates without an offset were read in, and the one to show them in."""

    @property
    def student(self) -> str:
        return person(self.uid, self.name)

    @property
    def active(self) -> bool:
        return self.cancelled_at is None

    def to_json(self, tz: tzinfo | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "external_id": self.external_id,
            "uid": self.uid,
            "name": self.name,
            "student": self.student,
            "exam_uuid": self.exam_uuid,
            "access_start": format_instant(self.access_start, tz),
            "access_end": format_instant(self.access_end, tz),
            "cancelled_at": None
            if self.cancelled_at is None
            else format_instant(self.cancelled_at, tz),
            "outcome": self.outcome,
            "course_instances": list(self.course_instances),
        }


def _view(
    row: ExamReservation, user: User, outcome: str, cis: list[CourseInstance]
) -> ReservationView:
    return ReservationView(
        id=row.id,
        external_id=row.external_id,
        uid=user.uid,
        name=user.name,
        exam_uuid=row.exam_uuid,
        access_start=row.access_start,
        access_end=row.access_end,
        cancelled_at=row.cancelled_at,
        created_at=row.created_at,
        outcome=outcome,
        course_instances=tuple(instance_label(ci) for ci in cis),
        timezone=cis[0].timezone if cis else "UTC",
    )


# -- which course instances link an exam ------------------------------------------------------


def exam_uuid_of(text: object) -> str:
    """The exam uuid in its canonical (lower-case) spelling; :class:`Invalid` if it is none."""
    try:
        return str(uuid_module.UUID(str(text).strip()))
    except ValueError:
        raise Invalid(
            f"exam_uuid: {text!r} is not a uuid (such as d7fcbf5c-a803-4d7e-94bf-68e68fa3dc85)",
            "exam_uuid",
        ) from None


def exam_uuids(config: AssessmentConfig) -> frozenset[str]:
    """Every PrairieTest exam an assessment's configuration links (lower case)."""
    found = {r.exam_uuid for r in config.legacy_rules if r.exam_uuid}
    if config.access is not None:
        a = config.access
        for patch in (a.defaults, *a.overrides, *a.set_defaults, *a.set_overrides):
            if isinstance(patch, AccessPatch) and isinstance(patch.exams, tuple):
                found.update(e.exam_uuid for e in patch.exams)
    return frozenset(u.lower() for u in found)


def linking_instances(ctx: Ctx, exam_uuid: str) -> list[CourseInstance]:
    """The live course instances with a live assessment that links ``exam_uuid``."""
    text = func.lower(cast(Assessment.access, String))
    candidates: dict[int, set[str]] = defaultdict(set)
    for ci_id, aid in ctx.session.execute(
        select(Assessment.course_instance_id, Assessment.aid).where(
            Assessment.retired_at.is_(None), text.contains(exam_uuid, autoescape=True)
        )
    ):
        candidates[ci_id].add(aid)
    out: list[CourseInstance] = []
    for ci_id in sorted(candidates):
        ci = ctx.session.get(CourseInstance, ci_id)
        if ci is None or ci.retired_at is not None:
            continue
        state = read_instance(ctx.session, ci)
        if any(
            exam_uuid in exam_uuids(src.config)
            for aid, src in state.assessments.items()
            if aid in candidates[ci_id]
        ):
            out.append(ci)
    return out


def _authorise(ctx: Ctx, exam_uuid: str, what: str) -> tuple[list[CourseInstance], int | None]:
    """The course instances linking the exam, and the one whose ``mrs`` allows ``what``."""
    cis = linking_instances(ctx, exam_uuid)
    if ctx.is_system:
        return cis, cis[0].id if cis else None
    if not cis:
        raise NotFound(
            f"exam_uuid: no course instance links the exam {exam_uuid} (no live assessment "
            "names it), so nobody but the system may record reservations for it",
            "exam_uuid",
        )
    reasons: list[str] = []
    for ci in cis:
        ok, why = allowed(ctx, RECORD_RESERVATIONS, instance_area(ci))
        if ok:
            return cis, ci.id
        reasons.append(f"in {instance_label(ci)}: {why}")
    raise Refused(
        f"{ctx.effective} may not {what}: it needs {RECORD_RESERVATIONS} (record and cancel "
        f"exam reservations) in a course instance that links the exam {exam_uuid}; "
        + "; ".join(reasons),
        "exam_uuid",
    )


def _external_id(text: object) -> str:
    value = text.strip() if isinstance(text, str) else ""
    if not value:
        raise Invalid(
            "external_id: give the testing centre's id for the reservation", "external_id"
        )
    if len(value) > 200:
        raise Invalid("external_id: must be at most 200 characters", "external_id")
    return value


def _find(ctx: Ctx, external_id: str) -> ExamReservation | None:
    return ctx.session.scalars(
        select(ExamReservation)
        .where(ExamReservation.external_id == external_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()


def _facts(row: ExamReservation) -> dict[str, Any]:
    return {
        "external_id": row.external_id,
        "exam_uuid": row.exam_uuid,
        "access_start": row.access_start,
        "access_end": row.access_end,
        "cancelled_at": row.cancelled_at,
    }


# -- record and cancel ------------------------------------------------------------------------


def record_reservation(
    ctx: Ctx,
    external_id: str,
    uid: str,
    exam_uuid: str,
    access_start: object,
    access_end: object,
) -> ReservationView:
    """Record what the testing centre sent; the same ``external_id`` again updates it."""
    ext = _external_id(external_id)
    exam = exam_uuid_of(exam_uuid)
    cis, ci_id = _authorise(ctx, exam, f"record reservations for the exam {exam}")
    user = find_user(ctx, uid)
    tz = zone(cis[0].timezone) if cis else _UTC
    start, _ = read_when(access_start, tz, "access_start")
    end, _ = read_when(access_end, tz, "access_end")
    if end <= start:
        raise Invalid(
            f"access_end: {format_wall(end, tz)} is not after access_start "
            f"{format_wall(start, tz)}",
            "access_end",
        )
    row = _find(ctx, ext)
    if row is None:
        row = ExamReservation(
            external_id=ext,
            user_id=user.id,
            exam_uuid=exam,
            access_start=start,
            access_end=end,
            created_at=ctx.at,
        )
        if insert_unless_exists(ctx.session, row):
            record(
                ctx,
                "reservation.record",
                _KIND,
                ext,
                course_instance_id=ci_id,
                uid=user.uid,
                after=_facts(row),
            )
            return _view(row, user, "created", cis)
        # Recorded at the same moment by another request: update that one instead.
        found = _find(ctx, ext)
        if found is None:  # pragma: no cover - the unique constraint said it exists
            raise Conflict(f"external_id: {ext!r} could not be recorded; try again", "external_id")
        row = found
    return _update(ctx, row, user, exam, start, end, cis, ci_id)


def _update(
    ctx: Ctx,
    row: ExamReservation,
    user: User,
    exam: str,
    start: Instant,
    end: Instant,
    cis: list[CourseInstance],
    ci_id: int | None,
) -> ReservationView:
    if row.user_id != user.id:
        owner = ctx.session.get(User, row.user_id)
        who = owner.uid if owner is not None else f"user {row.user_id}"
        raise Conflict(
            f"external_id: the reservation {row.external_id} is for {who}, not {user.uid}; a "
            "reservation never changes student (cancel it and record a new one)",
            "external_id",
        )
    if row.exam_uuid != exam:
        _authorise(ctx, row.exam_uuid, f"move reservations away from the exam {row.exam_uuid}")
    same = (row.exam_uuid, row.access_start, row.access_end) == (exam, start, end)
    if same and row.cancelled_at is None:
        return _view(row, user, "unchanged", cis)
    outcome = "restored" if row.cancelled_at is not None else "updated"
    before = _facts(row)
    row.exam_uuid, row.access_start, row.access_end = exam, start, end
    row.cancelled_at = None
    ctx.session.flush()
    record(
        ctx,
        "reservation.change",
        _KIND,
        row.external_id,
        course_instance_id=ci_id,
        uid=user.uid,
        before=before,
        after=_facts(row),
    )
    return _view(row, user, outcome, cis)


def cancel_reservation(ctx: Ctx, external_id: str, *, reason: str = "") -> ReservationView:
    """Cancel a reservation (the row stays, with ``cancelled_at``); cancelling twice changes
    nothing the second time."""
    ext = _external_id(external_id)
    row = _find(ctx, ext)
    if row is None:
        raise NotFound(f"external_id: there is no reservation {ext!r}", "external_id")
    cis, ci_id = _authorise(ctx, row.exam_uuid, f"cancel reservations for the exam {row.exam_uuid}")
    user = ctx.session.get(User, row.user_id)
    assert user is not None
    if row.cancelled_at is not None:
        return _view(row, user, "unchanged", cis)
    before = _facts(row)
    row.cancelled_at = ctx.at
    ctx.session.flush()
    record(
        ctx,
        "reservation.cancel",
        _KIND,
        ext,
        course_instance_id=ci_id,
        reason=reason.strip() if isinstance(reason, str) else "",
        uid=user.uid,
        before=before,
        after=_facts(row),
    )
    return _view(row, user, "cancelled", cis)


# -- reading ----------------------------------------------------------------------------------


def linked_exams(ctx: Ctx, ci: CourseInstance) -> frozenset[str]:
    """Every PrairieTest exam a course instance's live assessments link (lower case)."""
    state = read_instance(ctx.session, ci)
    found: set[str] = set()
    for src in state.assessments.values():
        found |= exam_uuids(src.config)
    return frozenset(found)


def list_reservations(
    ctx: Ctx,
    course_instance_id: int,
    *,
    uid: str | None = None,
    include_cancelled: bool = True,
) -> list[ReservationView]:
    """The reservations for the exams a course instance links, optionally of one student,
    earliest first. A student reads their own; anyone else needs ``vst`` there."""
    ci = course_instance_by_id(ctx, course_instance_id)
    wanted = None if uid is None else uid.strip()
    if wanted is None or not ctx.is_self(wanted, ci.id):
        whose = "every student's" if wanted is None else f"{wanted}'s"
        require(
            ctx,
            VIEW_STUDENTS,
            instance_area(ci),
            f"see {whose} exam reservations in {instance_label(ci)}",
        )
    user = None if wanted is None else find_user(ctx, wanted)
    exams = linked_exams(ctx, ci)
    if not exams:
        return []
    query = (
        select(ExamReservation, User)
        .join(User, User.id == ExamReservation.user_id)
        .where(ExamReservation.exam_uuid.in_(sorted(exams)))
    )
    if user is not None:
        query = query.where(ExamReservation.user_id == user.id)
    if not include_cancelled:
        query = query.where(ExamReservation.cancelled_at.is_(None))
    query = query.order_by(ExamReservation.access_start, ExamReservation.id)
    linking: dict[str, list[CourseInstance]] = {}
    out: list[ReservationView] = []
    for row, who in ctx.session.execute(query):
        if row.exam_uuid not in linking:
            linking[row.exam_uuid] = linking_instances(ctx, row.exam_uuid)
        out.append(_view(row, who, "", linking[row.exam_uuid]))
    return out


def get_reservation(ctx: Ctx, external_id: str) -> ReservationView:
    """One reservation by the testing centre's id: for its student, the system, or whoever
    holds ``mrs`` or ``vst`` in a course instance that links its exam."""
    ext = _external_id(external_id)
    row = ctx.session.scalars(
        select(ExamReservation).where(ExamReservation.external_id == ext)
    ).one_or_none()
    if row is None:
        raise NotFound(f"external_id: there is no reservation {ext!r}", "external_id")
    user = ctx.session.get(User, row.user_id)
    assert user is not None
    cis = linking_instances(ctx, row.exam_uuid)
    own = ctx.is_self(user.uid, None) or any(ctx.is_self(user.uid, c.id) for c in cis)
    if ctx.is_system or own:
        return _view(row, user, "", cis)
    reasons: list[str] = []
    for ci in cis:
        for privilege in (RECORD_RESERVATIONS, VIEW_STUDENTS):
            ok, why = allowed(ctx, privilege, instance_area(ci))
            if ok:
                return _view(row, user, "", cis)
            reasons.append(f"in {instance_label(ci)}: {why}")
    if not reasons:
        reasons.append(f"no course instance links the exam {row.exam_uuid}")
    raise Refused(
        f"{ctx.effective} may not see the reservation {ext}: it needs {RECORD_RESERVATIONS} or "
        f"{VIEW_STUDENTS} in a course instance that links the exam {row.exam_uuid}; "
        + "; ".join(reasons),
        "external_id",
    )


def reservation_in_force(ctx: Ctx, user: User) -> ExamReservation | None:
    """The student's reservation in force at ``ctx.at`` (not cancelled), if any: while one is,
    the student is in the testing centre, so their requests are decided in Exam mode."""
    return ctx.session.scalars(
        select(ExamReservation)
        .where(
            ExamReservation.user_id == user.id,
            ExamReservation.cancelled_at.is_(None),
            ExamReservation.access_start <= ctx.at,
            ExamReservation.access_end > ctx.at,
        )
        .order_by(ExamReservation.access_start, ExamReservation.id)
    ).first()


__all__ = [
    "RECORD_RESERVATIONS",
    "ReservationView",
    "cancel_reservation",
    "exam_uuid_of",
    "exam_uuids",
    "get_reservation",
    "linked_exams",
    "linking_instances",
    "list_reservations",
    "record_reservation",
    "reservation_in_force",
]
