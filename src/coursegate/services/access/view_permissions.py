"""Who may look at students' decisions, always asked of the roles core through
:func:`authz.require`: a student may see their own (the effective user is the student, also
while staff "view as" them); anyone else needs ``vst`` on the course instance, so a student
asking about another student, or the TA of another course, is refused."""

from __future__ import annotations

from coursegate.services.common.authz import require
from coursegate.services.common.context import Ctx
from coursegate.services.common.places import instance_area, instance_label
from coursegate.store.models import CourseInstance

VIEW_STUDENTS = "vst"
"""View students' access, exceptions and attempts."""


def require_view_student(ctx: Ctx, ci: CourseInstance, uid: str) -> None:
    """A student may see their own decisions (staff viewing as them: within that course
    instance only); anyone else needs ``vst`` on the instance."""
    if ctx.is_self(uid, ci.id):
        return
    require(
        ctx, VIEW_STUDENTS, instance_area(ci), f"view the access of {uid} in {instance_label(ci)}"
    )


def require_view_all(ctx: Ctx, ci: CourseInstance) -> None:
    """Every student's decisions in ``ci`` at once (the matrix, staff views): ``vst``."""
    require(
        ctx,
        VIEW_STUDENTS,
        instance_area(ci),
        f"view every student's access in {instance_label(ci)}",
    )
