"""Enrollment: self-enrollment, invitations, blocking and the enrollment code (sections are
:mod:`~coursegate.services.courses.sections`, the roster
:mod:`~coursegate.services.courses.roster_views`).

An enrollment is ``invited``, ``joined``, ``blocked`` or ``removed`` (no longer enrolled).
Joining — enrolling oneself, or accepting an invitation — also gives the user the Student role
(``st``) at the course instance's area; blocking ends it (``end_at`` is set, the record stays).

Who may do what:

* self-enrollment: the user themselves, when the decision core's :func:`may_self_enroll` says
  so for the course instance's stored policy (enabled, before its date, same institution,
  enrollment code);
* invitations (users of any institution), blocking, unblocking and the enrollment code:
  ``men`` (manage enrollment) in the course instance.

Publishing extensions are the exceptions service's.
"""

from __future__ import annotations

import secrets

from sqlalchemy import func, or_, select

from coursegate.core.course_instance import may_self_enroll
from coursegate.core.model import EnrollmentFacts, Role, UserFacts
from coursegate.roles import AuthKind, RoleIndex
from coursegate.roles import User as RoleUser
from coursegate.services.common.authz import require, unassigned_class_account
from coursegate.services.common.conflicts import flush_or_conflict, translate_conflicts
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Invalid, Refused
from coursegate.services.common.places import (
    course_instance_by_id,
    instance_area,
    instance_label,
)
from coursegate.services.courses.state import read_instance
from coursegate.services.history.log import record
from coursegate.store.models import (
    CourseInstance,
    Enrollment,
    RoleAssignmentRow,
    User,
)

STUDENT = "st"
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


# -- finding things ---------------------------------------------------------------------------


def enrollment_of(ctx: Ctx, ci: CourseInstance, user: User) -> Enrollment | None:
    return ctx.session.scalars(
        select(Enrollment).where(
            Enrollment.course_instance_id == ci.id, Enrollment.user_id == user.id
        )
    ).one_or_none()


def _open_instance(ctx: Ctx, course_instance_id: int) -> CourseInstance:
    ci = course_instance_by_id(ctx, course_instance_id)
    if ci.retired_at is not None:
        raise Invalid(
            f"course_instance_id: {instance_label(ci)} is retired (removed from the course "
            "files); nobody enrolls in it",
            "course_instance_id",
        )
    return ci


def managed_instance(ctx: Ctx, course_instance_id: int, what: str) -> CourseInstance:
    """The course instance, once the actor's ``men`` there is confirmed."""
    ci = _open_instance(ctx, course_instance_id)
    require(ctx, "men", instance_area(ci), f"{what} in {instance_label(ci)}")
    return ci


# -- class accounts and the Student role ------------------------------------------------------


def class_account_refusal(ctx: Ctx, user: User, ci: CourseInstance) -> str | None:
    """Why ``user`` may not be a student of ``ci`` (a class account of another course), as the
    roles core words it; None when nothing stands in the way."""
    standing = unassigned_class_account(ctx, user)
    if standing is not None:  # free in its pool, recycled or being wiped
        return standing
    if not user.class_account:
        return None
    own = (
        ctx.session.get(CourseInstance, user.class_course_instance_id)
        if user.class_course_instance_id is not None
        else None
    )
    target = RoleUser(
        user.uid,
        user.domain.name,
        AuthKind(user.auth),
        class_account=True,
        class_course=instance_area(own) if own is not None else None,
    )
    return RoleIndex().class_account_problem(target, STUDENT, instance_area(ci))


def _refuse_class_account(ctx: Ctx, user: User, ci: CourseInstance) -> None:
    why = class_account_refusal(ctx, user, ci)
    if why is not None:
        raise Refused(f"{user.uid} may not be enrolled in {instance_label(ci)}: {why}", "uid")


def _give_student_role(ctx: Ctx, user: User, ci: CourseInstance) -> bool:
    """Add a Student role at the course instance from now on, unless one is in force or
    coming; True when added."""
    area = instance_area(ci).path
    live = ctx.session.scalar(
        select(func.count())
        .select_from(RoleAssignmentRow)
        .where(
            RoleAssignmentRow.user_id == user.id,
            RoleAssignmentRow.role == STUDENT,
            RoleAssignmentRow.area == area,
            or_(RoleAssignmentRow.end_at.is_(None), RoleAssignmentRow.end_at > ctx.at),
        )
    )
    if live:
        return False
    ctx.session.add(
        RoleAssignmentRow(
            user_id=user.id,
            role=STUDENT,
            area=area,
            start_at=ctx.at,
            end_at=None,
            created_by=ctx.actor,
            created_at=ctx.at,
        )
    )
    return True


def _end_student_roles(ctx: Ctx, user: User, ci: CourseInstance) -> int:
    """End every Student role of ``user`` in the course instance and its sections now (one
    that has not begun is closed at its start); the records stay. Returns how many."""
    area = instance_area(ci).path
    rows = ctx.session.scalars(
        select(RoleAssignmentRow).where(
            RoleAssignmentRow.user_id == user.id,
            RoleAssignmentRow.role == STUDENT,
            or_(RoleAssignmentRow.area == area, RoleAssignmentRow.area.startswith(area + "/")),
            or_(RoleAssignmentRow.end_at.is_(None), RoleAssignmentRow.end_at > ctx.at),
        )
    ).all()
    for row in rows:
        row.end_at = row.start_at if row.start_at is not None and row.start_at > ctx.at else ctx.at
    return len(rows)


def _had_student_role(ctx: Ctx, user: User, ci: CourseInstance) -> bool:
    return bool(
        ctx.session.scalar(
            select(func.count())
            .select_from(RoleAssignmentRow)
            .where(
                RoleAssignmentRow.user_id == user.id,
                RoleAssignmentRow.role == STUDENT,
                RoleAssignmentRow.area == instance_area(ci).path,
            )
        )
    )


def _set_status(ctx: Ctx, ci: CourseInstance, user: User, status: str) -> Enrollment:
    enrollment = enrollment_of(ctx, ci, user)
    if enrollment is None:
        enrollment = Enrollment(
            course_instance_id=ci.id, user_id=user.id, status=status, updated_at=ctx.at
        )
        ctx.session.add(enrollment)
    else:
        enrollment.status = status
        enrollment.updated_at = ctx.at
    return enrollment


# -- self-enrollment and invitations ----------------------------------------------------------


@translate_conflicts
def self_enroll(ctx: Ctx, course_instance_id: int, *, code: str | None = None) -> Enrollment:
    """Enroll the acting user in a course instance (or accept their invitation).

    Whether they may is the decision core's :func:`may_self_enroll`, with the course instance's
    stored policy and enrollment code. Enrolling again when already joined changes nothing.
    """
    ci = _open_instance(ctx, course_instance_id)
    user = _self(ctx, "enroll")
    _refuse_class_account(ctx, user, ci)
    enrollment = enrollment_of(ctx, ci, user)
    policy = read_instance(ctx.session, ci).settings.policy
    verdict = may_self_enroll(
        policy,
        UserFacts(uid=user.uid, role=Role.STUDENT, institution=user.domain.title),
        EnrollmentFacts(enrollment.status, enrollment.publishing_extension_end)
        if enrollment is not None
        else None,
        ctx.at,
        code=normalise_code(code) if code is not None else None,
        expected_code=ci.enrollment_code,
    )
    if not verdict.allowed:
        raise Refused(
            f"{user.uid} may not enroll in {instance_label(ci)}: {verdict.reason}",
            "code" if "code" in verdict.reason else "course_instance_id",
        )
    if enrollment is not None and enrollment.status == "joined":
        return enrollment
    return _join(ctx, ci, user, enrollment, "enrollment.self")


@translate_conflicts
def join_invitation(ctx: Ctx, course_instance_id: int) -> Enrollment:
    """Accept the acting user's invitation: invited → joined (with the Student role)."""
    ci = _open_instance(ctx, course_instance_id)
    user = _self(ctx, "accept an invitation")
    enrollment = enrollment_of(ctx, ci, user)
    if enrollment is None or enrollment.status != "invited":
        now = "not enrolled" if enrollment is None else enrollment.status
        raise Invalid(
            f"course_instance_id: {user.uid} has no invitation to {instance_label(ci)} "
            f"(their enrollment is {now})",
            "course_instance_id",
        )
    _refuse_class_account(ctx, user, ci)
    return _join(ctx, ci, user, enrollment, "enrollment.join")


def _self(ctx: Ctx, what: str) -> User:
    """The acting user, when they act for themselves as an active account."""
    if ctx.is_system:
        raise Refused(f"the system may not {what}: only a user enrolls themselves", "actor")
    if ctx.viewing_as:
        raise Refused(
            f"{ctx.actor} may not {what} while viewing as {ctx.acting_as}: only the user "
            "themselves enrolls",
            "acting_as",
        )
    user = ctx.user(ctx.actor, "actor")
    if user.status != "active":
        raise Refused(f"{user.uid} may not {what}: the account is {user.status}", "actor")
    return user


def _join(
    ctx: Ctx, ci: CourseInstance, user: User, enrollment: Enrollment | None, action: str
) -> Enrollment:
    old = enrollment.status if enrollment is not None else "none"
    enrollment = _set_status(ctx, ci, user, "joined")
    role_added = _give_student_role(ctx, user, ci)
    record(
        ctx, action, "enrollment", user.uid,
        course_instance_id=ci.id, old=old, new="joined", student_role_added=role_added,
    )  # fmt: skip
    flush_or_conflict(ctx)
    return enrollment


@translate_conflicts
def invite(ctx: Ctx, course_instance_id: int, uid: str, *, reason: str = "") -> Enrollment:
    """Invite a user of any institution; they join with :func:`join_invitation` (or by
    enrolling themselves). Inviting someone already invited or joined changes nothing."""
    ci = managed_instance(ctx, course_instance_id, f"invite {uid}")
    user = ctx.user(uid)
    _refuse_class_account(ctx, user, ci)
    enrollment = enrollment_of(ctx, ci, user)
    if enrollment is not None and enrollment.status in ("invited", "joined"):
        return enrollment
    old = enrollment.status if enrollment is not None else "none"
    if old == "blocked":
        raise Invalid(f"uid: {uid} is blocked from {instance_label(ci)}; unblock them first", "uid")
    enrollment = _set_status(ctx, ci, user, "invited")
    record(
        ctx, "enrollment.invite", "enrollment", uid,
        course_instance_id=ci.id, reason=reason, old=old, new="invited",
    )  # fmt: skip
    flush_or_conflict(ctx)
    return enrollment


@translate_conflicts
def enroll(ctx: Ctx, course_instance_id: int, uid: str, *, reason: str = "") -> Enrollment:
    """Enroll a user directly (staff with ``men``, class-account assignment, the operator):
    joined, with the Student role. Enrolling someone already joined changes nothing; a blocked
    user must be unblocked first."""
    ci = managed_instance(ctx, course_instance_id, f"enroll {uid}")
    user = ctx.user(uid)
    _refuse_class_account(ctx, user, ci)
    enrollment = enrollment_of(ctx, ci, user)
    if enrollment is not None and enrollment.status == "joined":
        return enrollment
    if enrollment is not None and enrollment.status == "blocked":
        raise Invalid(f"uid: {uid} is blocked from {instance_label(ci)}; unblock them first", "uid")
    return _join(ctx, ci, user, enrollment, "enrollment.enroll")


# -- blocking ---------------------------------------------------------------------------------


@translate_conflicts
def block(ctx: Ctx, course_instance_id: int, uid: str, *, reason: str = "") -> Enrollment:
    """Block a user from a course instance (enrolled or not): their Student role there ends
    now, and they may not enroll themselves again. Blocking twice changes nothing."""
    ci = managed_instance(ctx, course_instance_id, f"block {uid}")
    user = ctx.user(uid)
    enrollment = enrollment_of(ctx, ci, user)
    if enrollment is not None and enrollment.status == "blocked":
        return enrollment
    old = enrollment.status if enrollment is not None else "none"
    enrollment = _set_status(ctx, ci, user, "blocked")
    ended = _end_student_roles(ctx, user, ci)
    record(
        ctx, "enrollment.block", "enrollment", uid,
        course_instance_id=ci.id, reason=reason, old=old, new="blocked",
        student_roles_ended=ended,
    )  # fmt: skip
    flush_or_conflict(ctx)
    return enrollment


@translate_conflicts
def unblock(ctx: Ctx, course_instance_id: int, uid: str, *, reason: str = "") -> Enrollment:
    """Lift a block. A user who had joined before is joined again (with a new Student role);
    one who never had is simply no longer enrolled (``removed``) and may enroll or be invited.
    """
    ci = managed_instance(ctx, course_instance_id, f"unblock {uid}")
    user = ctx.user(uid)
    enrollment = enrollment_of(ctx, ci, user)
    if enrollment is None or enrollment.status != "blocked":
        now = "not enrolled" if enrollment is None else enrollment.status
        raise Invalid(f"uid: {uid} is not blocked from {instance_label(ci)} ({now})", "uid")
    rejoin = _had_student_role(ctx, user, ci) and class_account_refusal(ctx, user, ci) is None
    enrollment = _set_status(ctx, ci, user, "joined" if rejoin else "removed")
    role_added = _give_student_role(ctx, user, ci) if rejoin else False
    record(
        ctx, "enrollment.unblock", "enrollment", uid,
        course_instance_id=ci.id, reason=reason, old="blocked", new=enrollment.status,
        student_role_added=role_added,
    )  # fmt: skip
    flush_or_conflict(ctx)
    return enrollment


def enroll_new_users(
    ctx: Ctx, course_instance_id: int, users: list[User], *, reason: str = ""
) -> int:
    """Enroll users made in this transaction (an LMS roster sync's newcomers) at once: joined,
    with the Student role from now — what :func:`enroll` does, in one flush for all of them.
    Only for accounts this transaction made: they cannot be class accounts, blocked, or
    enrolled already. Returns how many."""
    ci = managed_instance(ctx, course_instance_id, "enroll the LMS's roster")
    area = instance_area(ci).path
    for user in users:
        ctx.session.add(
            Enrollment(
                course_instance_id=ci.id, user_id=user.id, status="joined", updated_at=ctx.at
            )
        )
        ctx.session.add(
            RoleAssignmentRow(
                user_id=user.id, role=STUDENT, area=area, start_at=ctx.at, end_at=None,
                created_by=ctx.actor, created_at=ctx.at,
            )
        )  # fmt: skip
        record(
            ctx, "enrollment.enroll", "enrollment", user.uid,
            course_instance_id=ci.id, reason=reason, old="none", new="joined",
            student_role_added=True,
        )  # fmt: skip
    flush_or_conflict(ctx)
    return len(users)


@translate_conflicts
def remove(ctx: Ctx, course_instance_id: int, uid: str, *, reason: str = "") -> Enrollment | None:
    """End a user's enrollment (they left the course: an LMS roster sync): ``removed``, their
    Student role ends now; nothing is deleted, and they may be enrolled again. Removing someone
    not enrolled changes nothing."""
    ci = managed_instance(ctx, course_instance_id, f"remove {uid}")
    user = ctx.user(uid)
    enrollment = enrollment_of(ctx, ci, user)
    if enrollment is None or enrollment.status in ("removed", "blocked"):
        return enrollment
    old = enrollment.status
    enrollment = _set_status(ctx, ci, user, "removed")
    ended = _end_student_roles(ctx, user, ci)
    record(
        ctx, "enrollment.remove", "enrollment", uid,
        course_instance_id=ci.id, reason=reason, old=old, new="removed",
        student_roles_ended=ended,
    )  # fmt: skip
    flush_or_conflict(ctx)
    return enrollment


# -- the enrollment code ----------------------------------------------------------------------


def normalise_code(code: str) -> str:
    """Enrollment codes are compared without case or surrounding spaces."""
    return code.strip().upper()


@translate_conflicts
def set_enrollment_code(ctx: Ctx, course_instance_id: int, code: str | None = None) -> str:
    """Set the code students give when the course instance's ``selfEnrollment`` asks for one
    (``useEnrollmentCode``); without ``code`` a new random one is made. Returns the code."""
    ci = managed_instance(ctx, course_instance_id, "set the enrollment code")
    if code is None:
        code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
    code = normalise_code(code)
    if not 4 <= len(code) <= 64 or not code.replace("-", "").isalnum():
        raise Invalid(
            f"code: an enrollment code has 4 to 64 letters, digits or '-'; {code!r} does not fit",
            "code",
        )
    ci.enrollment_code = code
    record(ctx, "enrollment.code", "course_instance", ci.short_name, course_instance_id=ci.id)
    flush_or_conflict(ctx)
    return code


def enrollment_code(ctx: Ctx, course_instance_id: int) -> str | None:
    """The current enrollment code (None when none is set); needs ``men``."""
    ci = course_instance_by_id(ctx, course_instance_id)
    require(ctx, "men", instance_area(ci), f"see the enrollment code of {instance_label(ci)}")
    return ci.enrollment_code


__all__ = [
    "block",
    "class_account_refusal",
    "enroll",
    "enrollment_code",
    "invite",
    "join_invitation",
    "self_enroll",
    "set_enrollment_code",
    "unblock",
]
