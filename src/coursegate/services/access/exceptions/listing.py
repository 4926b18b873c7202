"""Reading students' exceptions: one by id, a student's, those that apply to an assessment, and
the filtered list of a course instance (where a student may list their own, password hidden)."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from coursegate.services.access.exceptions.checks import check_target
from coursegate.services.access.exceptions.fields import ASSESSMENT, COURSE_INSTANCE, SCOPES, SET
from coursegate.services.access.exceptions.records import (
    ExceptionView,
    history_entries,
    stored_exception,
    view_of,
)
from coursegate.services.access.students import find_user
from coursegate.services.access.view_permissions import VIEW_STUDENTS
from coursegate.services.common.authz import allowed, require
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Invalid, NotFound, Refused
from coursegate.services.common.places import course_instance_by_id, instance_area, instance_label
from coursegate.services.courses.state import read_instance
from coursegate.store.models import (
    CourseInstance,
    Section,
    SectionMembership,
    StudentOverride,
    User,
)

"""View students' access, exceptions and attempts."""


def _viewer(ctx: Ctx, ci: CourseInstance, what: str) -> None:
    require(ctx, VIEW_STUDENTS, instance_area(ci), f"{what} in {instance_label(ci)}")


def get_exception(
    ctx: Ctx, exception_id: int, course_instance_id: int | None = None
) -> ExceptionView:
    """One exception (with its current ``version``, for an editor); needs ``vst``."""
    row, ci, user = stored_exception(ctx, exception_id, course_instance_id)
    _viewer(ctx, ci, "view students' exceptions")
    return view_of(row, user, history_entries(ctx, ci.id, [user.uid]))


_SCOPE_ORDER = {COURSE_INSTANCE: 0, SET: 1, ASSESSMENT: 2}


def student_exceptions(ctx: Ctx, course_instance_id: int, uid: str) -> list[ExceptionView]:
    """Every exception of ``uid`` in the course instance: the course instance's first, then
    sets, then assessments. Needs ``vst``."""
    ci = course_instance_by_id(ctx, course_instance_id)
    _viewer(ctx, ci, "view students' exceptions")
    user = find_user(ctx, uid)
    rows = ctx.session.scalars(
        select(StudentOverride).where(
            StudentOverride.course_instance_id == ci.id, StudentOverride.user_id == user.id
        )
    ).all()
    log = history_entries(ctx, ci.id, [user.uid])
    views = [view_of(r, user, log) for r in rows]
    return sorted(views, key=lambda v: (_SCOPE_ORDER.get(v.scope, 3), v.target))


def assessment_exceptions(
    ctx: Ctx, course_instance_id: int, assessment: str
) -> list[ExceptionView]:
    """Every exception that applies to ``assessment``: the students' exceptions for it and for
    its set, by uid. Needs ``vst``."""
    ci = course_instance_by_id(ctx, course_instance_id)
    _viewer(ctx, ci, "view students' exceptions")
    state = read_instance(ctx.session, ci)
    aid = check_target(state, ci, ASSESSMENT, assessment)
    set_name = state.assessments[aid].config.set_name
    pairs = ctx.session.execute(
        select(StudentOverride, User)
        .join(User, User.id == StudentOverride.user_id)
        .where(
            StudentOverride.course_instance_id == ci.id,
            ((StudentOverride.scope == ASSESSMENT) & (StudentOverride.target == aid))
            | ((StudentOverride.scope == SET) & (StudentOverride.target == set_name)),
        )
        .order_by(User.uid, StudentOverride.scope)
    ).all()
    log = history_entries(ctx, ci.id, [u.uid for _, u in pairs])
    return [view_of(r, u, log) for r, u in pairs]


OWN_PASSWORD = "(set)"
"""What a student sees of their own exception's password (staff see the password itself)."""


def list_exceptions(
    ctx: Ctx,
    course_instance_id: int,
    *,
    uid: str | None = None,
    assessment: str | None = None,
    section: str | None = None,
    scope: str | None = None,
) -> list[ExceptionView]:
    """The exceptions of a course instance, by uid (then the course instance's, sets',
    assessments'), filtered: ``uid`` (that student's), ``assessment`` (those that apply to it:
    its own and its set's), ``section`` (those of the section's current members), ``scope``.

    Needs ``vst`` — except that a student may list their own (``uid`` = themselves): they then
    see their own password as ``(set)``, never in clear."""
    ci = course_instance_by_id(ctx, course_instance_id)
    own = False
    if uid is not None and ctx.is_self(uid, ci.id):
        own = not allowed(ctx, VIEW_STUDENTS, instance_area(ci))[0]
    if not own:
        hint = ""
        if uid is None and not ctx.is_system:
            hint = f" To see your own, ask for uid={ctx.effective}."
        try:
            _viewer(ctx, ci, "view students' exceptions")
        except Refused as refused:
            raise Refused(refused.message + hint, "uid", refused.details) from None
    query = (
        select(StudentOverride, User)
        .join(User, User.id == StudentOverride.user_id)
        .where(StudentOverride.course_instance_id == ci.id)
    )
    if uid is not None:
        query = query.where(User.id == find_user(ctx, uid).id)
    if scope is not None:
        if scope not in SCOPES:
            raise Invalid(f"scope: must be one of {', '.join(SCOPES)}, not {scope!r}", "scope")
        query = query.where(StudentOverride.scope == scope)
    if assessment is not None:
        state = read_instance(ctx.session, ci)
        aid = check_target(state, ci, ASSESSMENT, assessment)
        set_name = state.assessments[aid].config.set_name
        query = query.where(
            ((StudentOverride.scope == ASSESSMENT) & (StudentOverride.target == aid))
            | ((StudentOverride.scope == SET) & (StudentOverride.target == set_name))
        )
    if section is not None:
        sec = ctx.session.scalars(
            select(Section).where(Section.course_instance_id == ci.id, Section.name == section)
        ).one_or_none()
        if sec is None:
            raise NotFound(f"section: {instance_label(ci)} has no section {section!r}", "section")
        query = query.where(
            StudentOverride.user_id.in_(
                select(SectionMembership.user_id).where(SectionMembership.section_id == sec.id)
            )
        )
    pairs = ctx.session.execute(query).all()
    log = history_entries(ctx, ci.id, [u.uid for _, u in pairs])
    views = [view_of(r, u, log) for r, u in pairs]
    if own:
        views = [_masked(v) for v in views]
    return sorted(views, key=lambda v: (v.uid, _SCOPE_ORDER.get(v.scope, 3), v.target))


def _masked(view: ExceptionView) -> ExceptionView:
    if isinstance(view.fields.get("password"), str):
        return replace(view, fields={**view.fields, "password": OWN_PASSWORD})
    return view


__all__ = [
    "OWN_PASSWORD",
    "assessment_exceptions",
    "get_exception",
    "list_exceptions",
    "student_exceptions",
]
