"""API v1: a course instance's history log, filtered and a page at a time (``vhi``)."""

from __future__ import annotations

from typing import Any

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from coursegate.http.deps import CALLER, Caller
from coursegate.http.policy import Routes, needs
from coursegate.http.schemas import parse_instant
from coursegate.services.common.places import course_zone, find_course_instance
from coursegate.services.history import log as history

routes = Routes(prefix="/api/v1", tags=["history"])


class HistoryEntryOut(BaseModel):
    """One change: who did it (``actor``), as whom (``acting_as``: the same user unless the
    actor was viewing the course as a student), what, to what, when and why."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 42,
                    "at": "2024-02-06T10:00:00-06:00",
                    "actor": "instructor@example.edu",
                    "acting_as": "ana@example.edu",
                    "viewing_as": True,
                    "action": "instance.start",
                    "subject_kind": "assessment_instance",
                    "subject": "ana@example.edu quizzes/quiz1",
                    "reason": "",
                    "details": {"assessment": "quizzes/quiz1", "time_limit_minutes": 30},
                }
            ]
        }
    )
    id: int
    at: str
    actor: str = Field(description="the real user who acted")
    acting_as: str = Field(description="the effective user (differs while viewing as someone)")
    viewing_as: bool = Field(description="actor ≠ acting_as")
    action: str = Field(examples=["role.grant"])
    subject_kind: str = Field(examples=["role_assignment"])
    subject: str = Field(examples=["newta@example.edu"])
    reason: str
    details: dict[str, Any] = Field(description="what changed (old and new values)")


class HistoryPageOut(BaseModel):
    entries: list[HistoryEntryOut] = Field(description="newest first")
    next_cursor: str | None = Field(
        description="pass as cursor for the next (older) page; null on the last page"
    )


@routes.get(
    "/courses/{course}/instances/{instance}/history",
    policy=needs("vhi", why="view the history log of the course instance"),
    response_model=HistoryPageOut,
)
def course_history(
    course: str,
    instance: str,
    action: str | None = Query(
        None, max_length=100, examples=["role."], description="a prefix of the action"
    ),
    subject: str | None = Query(None, max_length=300, description="exactly this subject"),
    uid: str | None = Query(
        None,
        max_length=200,
        examples=["ana@example.edu"],
        description="entries about this user (the subject, or the user the details name)",
    ),
    actor: str | None = Query(
        None,
        max_length=200,
        examples=["instructor@example.edu"],
        description="entries done by this user or as this user",
    ),
    since: str | None = Query(
        None,
        alias="from",
        max_length=100,
        examples=["2024-01-24T00:00:00"],
        description="inclusive; ISO 8601, without an offset wall time in the course's zone",
    ),
    until: str | None = Query(
        None, alias="to", max_length=100, examples=["2024-01-25T00:00:00"], description="exclusive"
    ),
    limit: int = Query(history.DEFAULT_LIMIT, ge=1, le=history.MAX_LIMIT),
    cursor: str | None = Query(None, max_length=200, description="next_cursor of the last page"),
    c: Caller = CALLER,
) -> HistoryPageOut:
    """Who did what, as whom, when and why in this course instance, newest first. Filters
    combine; times are in the course's zone."""
    ci = find_course_instance(c.ctx, course, instance)
    tz = course_zone(ci)
    filters = history.HistoryFilter(
        action=action,
        subject=subject,
        uid=uid,
        actor=actor,
        since=None if not since else parse_instant(since, "from", tz),
        until=None if not until else parse_instant(until, "to", tz),
    )
    page = history.course_history(c.ctx, ci.id, filters, limit=limit, cursor=cursor)
    return HistoryPageOut(
        entries=[HistoryEntryOut.model_validate(e.to_json(tz)) for e in page.entries],
        next_cursor=page.next_cursor,
    )
