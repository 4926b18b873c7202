"""What the class-account use cases share: the privileges they ask for, the metrics events,
finding an open course instance."""

from __future__ import annotations

from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Invalid
from coursegate.services.common.places import (
    course_instance_by_id,
    instance_label,
)
from coursegate.store.models import (
    AccountEvent,
    CourseInstance,
)

MANAGE = "men"
"""Assigning, locking, wiping, the end date and the outbox: instructors (and coordinators)."""
OVER_ACCOUNT = "mus"
"""Actions over one account, and listing: instructors and TAs."""


def event(ctx: Ctx, kind: str, course_id: int, ci_id: int | None, user_id: int) -> None:
    ctx.session.add(
        AccountEvent(
            at=ctx.at,
            kind=kind,
            course_id=course_id,
            course_instance_id=ci_id,
            user_id=user_id,
            actor=ctx.actor,
        )
    )


def open_ci(ctx: Ctx, course_instance_id: int) -> CourseInstance:
    ci = course_instance_by_id(ctx, course_instance_id)
    if ci.retired_at is not None:
        raise Invalid(
            f"course_instance: {instance_label(ci)} is retired (removed from the course files); "
            "it gets no class accounts",
            "course_instance",
        )
    return ci


__all__ = [
    "MANAGE",
    "OVER_ACCOUNT",
    "event",
    "open_ci",
]
