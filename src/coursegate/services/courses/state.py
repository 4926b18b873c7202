"""A course instance's configuration as the core needs it, read back from the store.

The store keeps the access keys of each file exactly as validated; they are read back through
the same validator as the files (:mod:`coursegate.courses.instance_settings`), so a decision from
the store and a decision from the files can never disagree. Results are cached by content hash,
which is safe across processes: the same hash is the same content.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from coursegate.core.instants import zone
from coursegate.courses.assessments import AssessmentSource, assessment_config
from coursegate.courses.instance_settings import InstanceSettings, instance_policy
from coursegate.courses.problems import CourseError
from coursegate.courses.reader import Reader
from coursegate.store.models import Assessment, CourseInstance

INSTANCE_ACCESS_KEYS = (
    "timezone", "allowAccess", "accessControl", "accessControlOverrides", "publishing",
    "selfEnrollment", "studentLabels", "setAccessControl",
)  # fmt: skip
ASSESSMENT_ACCESS_KEYS = ("allowAccess", "accessControl", "accessControlOverrides")
ASSESSMENT_INFO_KEYS = ("uuid", "title", "set", "number", "type")


def content_hash(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class InstanceState:
    """One course instance: its zone, its settings and its live (not retired) assessments."""

    row_id: int
    tz: ZoneInfo
    settings: InstanceSettings
    assessments: dict[str, AssessmentSource]
    assessment_ids: dict[str, int]


_CACHE: dict[tuple[int, str, tuple[tuple[str, str], ...]], InstanceState] = {}


def read_instance(
    session: Session, ci: CourseInstance, *, only: Iterable[str] | None = None
) -> InstanceState:
    """The course instance's state (all live assessments, or ``only`` these); raises
    :class:`CourseError` if stored data is invalid."""
    rows = session.scalars(
        select(Assessment).where(
            Assessment.course_instance_id == ci.id, Assessment.retired_at.is_(None)
        )
    ).all()
    if only is not None:
        wanted = set(only)
        rows = [a for a in rows if a.aid in wanted]
    key = (ci.id, ci.content_hash, tuple(sorted((a.aid, a.content_hash) for a in rows)))
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    tz = zone(ci.timezone)
    r = Reader(f"stored course instance {ci.short_name}", tz)
    settings = instance_policy(r, ci.config, ci.course.institution)
    assessments: dict[str, AssessmentSource] = {}
    for a in rows:
        ar = Reader(f"stored assessment {a.aid}", tz)
        data = {"title": a.title, "set": a.set_name, "number": a.number, **a.access}
        src = assessment_config(ar, data, a.aid, settings)
        r.problems += ar.problems
        if src is not None:
            assessments[a.aid] = src
    if not r.ok:
        raise CourseError(r.problems)
    state = InstanceState(ci.id, tz, settings, assessments, {a.aid: a.id for a in rows})
    if len(_CACHE) > 256:
        _CACHE.clear()
    _CACHE[key] = state
    return state
