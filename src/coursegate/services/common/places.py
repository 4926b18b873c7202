"""Where a course instance sits: finding it, its domain, its roles area and its name in messages.

Every service asks here; nothing here checks a privilege or writes history.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from sqlalchemy import select

from coursegate.core.instants import (
    zone,
)
from coursegate.roles import Area, AreaKind
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import (
    NotFound,
)
from coursegate.store.models import (
    Assessment,
    Course,
    CourseInstance,
    Domain,
)


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


def domain_name(institution: str | None) -> str:
    """The roles core's domain of a course: its institution, as a short name."""
    if not institution:
        return "local"
    return re.sub(r"[^a-z0-9]+", "", institution.lower()) or "local"


def ensure_domain(ctx: Ctx, name: str, title: str = "") -> Domain:
    d = ctx.session.scalars(select(Domain).where(Domain.name == name)).one_or_none()
    if d is None:
        d = Domain(name=name, title=title or name)
        ctx.session.add(d)
        ctx.session.flush()
    return d


def course_area(ci: CourseInstance, domain: str) -> Area:
    """The roles core's area of a course instance: ``/<domain>/<course>.<instance>``."""
    return Area.parse(f"/{domain}/{area_name(ci)}")


def area_name(ci: CourseInstance) -> str:
    return f"{ci.course.name}.{ci.short_name}".replace("/", "_").replace(" ", "_")


def course_zone(ci: CourseInstance) -> ZoneInfo:
    """The course instance's zone (for :meth:`ExceptionView.to_json`)."""
    return zone(ci.timezone)


def instance_title(ci: CourseInstance) -> str:
    """``CG 101, Spring 2024``: a course instance as people name it (the course's name and the
    instance's long name, or its short name when it has none)."""
    return f"{ci.course.name}, {ci.long_name or ci.short_name}"


def instance_at(ctx: Ctx, area: Area) -> CourseInstance | None:
    """The course instance a course or section area lies in, if the store has it."""
    course = area.course_area
    if course is None:
        return None
    for ci in ctx.session.scalars(select(CourseInstance)):
        if area_name(ci) == course.course and domain_name(ci.course.institution) == area.domain:
            return ci
    return None


def place_of(ctx: Ctx, area: Area) -> str:
    """Where an area is, in words: ``CG 101, Spring 2024``, ``section drc of CG 101, Spring
    2024``, ``the domain Example University``, ``the whole system``; the area's path only when
    nothing in the store carries its name."""
    if area.kind is AreaKind.SYSTEM:
        return "the whole system"
    if area.kind is AreaKind.DOMAIN:
        title = ctx.session.scalars(select(Domain.title).where(Domain.name == area.domain)).first()
        return f"the domain {title or area.domain}"
    found = instance_at(ctx, area)
    name = instance_title(found) if found is not None else area.path
    return f"section {area.section} of {name}" if area.kind is AreaKind.SECTION else name


def live_assessment(ctx: Ctx, ci: CourseInstance, aid: str) -> Assessment:
    """The assessment ``aid`` of a course instance, unless it was retired (404 otherwise)."""
    row = ctx.session.scalars(
        select(Assessment).where(
            Assessment.course_instance_id == ci.id,
            Assessment.aid == aid,
            Assessment.retired_at.is_(None),
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"assessment: {instance_label(ci)} has no assessment {aid!r}", "assessment")
    return row
