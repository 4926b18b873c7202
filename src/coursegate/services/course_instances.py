"""Finding a course instance, its roles area and its name in messages (used by every service)."""

from __future__ import annotations

from sqlalchemy import select

from coursegate.roles import Area
from coursegate.services.authz import course_area
from coursegate.services.context import Ctx
from coursegate.services.errors import NotFound
from coursegate.services.sync import domain_name
from coursegate.store.models import Course, CourseInstance


def find_course_instance(ctx: Ctx, course: str, instance: str) -> CourseInstance:
    """The course instance ``instance`` (short name, e.g. ``Sp24``) of the course ``course``."""
    found = ctx.session.scalars(
        select(CourseInstance)
        .join(Course, Course.id == CourseInstance.course_id)
        .where(Course.name == course, CourseInstance.short_name == instance)
    ).one_or_none()
    if found is None:
        raise NotFound(
            f"course instance: there is no {instance!r} in course {course!r}", "course_instance"
        )
    return found


def course_instance_by_id(ctx: Ctx, course_instance_id: int) -> CourseInstance:
    found = ctx.session.get(CourseInstance, course_instance_id)
    if found is None:
        raise NotFound(
            f"course_instance_id: there is no course instance {course_instance_id}",
            "course_instance_id",
        )
    return found


def instance_area(ci: CourseInstance) -> Area:
    """The roles area of a course instance (``/<domain>/<course>.<instance>``)."""
    return course_area(ci, domain_name(ci.course.institution))


def instance_label(ci: CourseInstance) -> str:
    """``CG 101 Sp24``: how a course instance is named in messages."""
    return f"{ci.course.name} {ci.short_name}"
