"""The decision request: one format for the library, the command line and (later) HTTP.

``decide(request)`` reads the request (a dict or JSON text), loads the course files it names (or
the inline configuration), turns the rest into facts and calls the core. This module is the
imperative shell around :mod:`coursegate.core`: it reads files; the core does not.

The request and response formats are a public contract (see ``docs/decisions.md``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, ValidationError

from coursegate.core.course_instance import CourseInstancePolicy
from coursegate.core.decision import Decision
from coursegate.core.engine import AssessmentConfig, Facts, timelines
from coursegate.core.engine import decide as core_decide
from coursegate.core.instants import DateError, Instant, zone
from coursegate.core.model import (
    EnrollmentFacts,
    InstanceFacts,
    Mode,
    Reservation,
    Role,
    UserFacts,
)
from coursegate.courses.keys import ASSESSMENT_KEYS, INSTANCE_KEYS, check_top_level
from coursegate.courses.loader import LoadedCourse, find_course_files, load_course
from coursegate.courses.models import DateStr, keys_at
from coursegate.courses.normalise import (
    AssessmentSource,
    InstanceSettings,
    Reader,
    assessment_config,
    instance_policy,
    personal_overrides,
)
from coursegate.courses.problems import CourseError, Problem, from_validation_error
from coursegate.courses.reading import Limits, depth_exceeds, parse_json

REQUEST = "request"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UserModel(_Strict):
    uid: str = ""
    role: Literal["Student", "TA", "Instructor"] = "Student"
    sections: list[str] = []
    institution: str | None = None


class ReservationModel(_Strict):
    exam_uuid: str
    access_start: DateStr
    access_end: DateStr


class EnrollmentModel(_Strict):
    status: Literal["joined", "invited", "blocked", "removed", "none"] = "joined"
    publishing_extension_end: DateStr | None = None


class InstanceModel(_Strict):
    open: bool = True
    date_limit: DateStr | None = None


class DecisionRequestModel(_Strict):
    at: DateStr
    course: str | None = None
    course_instance: str | None = None
    assessment: str | None = None
    timezone: str | None = None
    course_instance_config: dict[str, Any] | None = None
    assessment_config: dict[str, Any] | None = None
    user: UserModel = UserModel()
    mode: Literal["Public", "Exam"] = "Public"
    reservations: list[ReservationModel] = []
    student_overrides: list[Any] = []
    enrollment: EnrollmentModel | None = None
    instance: InstanceModel | None = None


@dataclass(frozen=True)
class ResolvedRequest:
    """A request made ready for the core: policies, facts, the instant and the zone."""

    ci: CourseInstancePolicy
    assessment: AssessmentConfig | None
    facts: Facts
    at: Instant
    tz: tzinfo
    files_tz: tzinfo
    warnings: tuple[Problem, ...] = ()


_COURSE_CACHE: dict[tuple[str, tuple[tuple[str, int], ...]], LoadedCourse] = {}


def load_course_cached(root: str) -> LoadedCourse:
    """Load a course, re-reading it only when one of its JSON files changed (the files found
    as :func:`load_course` finds them, with the same limits)."""
    base = Path(root)
    if not base.is_dir():
        raise CourseError([Problem(str(base), "$", "no such course directory")])
    stamp = tuple(sorted((str(p), _mtime(p)) for p in find_course_files(base).paths()))
    key = (str(base.resolve()), stamp)
    hit = _COURSE_CACHE.get(key)
    if hit is None:
        if len(_COURSE_CACHE) > 16:
            _COURSE_CACHE.clear()
        hit = load_course(base)
        _COURSE_CACHE[key] = hit
    return hit


def _mtime(path: Path) -> int:
    """The file's modification time (-1 when there is none); never opens the file."""
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


def parse_request(request: dict[str, Any] | str | bytes) -> DecisionRequestModel:
    """Read a request: JSON text is held to the course files' limits (nesting depth, duplicate
    keys, only JSON numbers), and so is an already parsed request's nesting."""
    limits = Limits()
    if isinstance(request, str | bytes):
        parsed, problems = parse_json(request, REQUEST, limits)
        if problems:
            raise CourseError(problems)
        request = parsed
    elif depth_exceeds(request, limits.max_depth):
        raise CourseError(
            [Problem(REQUEST, "$", f"nested more than {limits.max_depth} levels deep")]
        )
    if not isinstance(request, dict):
        raise CourseError([Problem(REQUEST, "$", "the request must be a JSON object {...}")])
    try:
        return DecisionRequestModel.model_validate(request)
    except ValidationError as exc:
        raise CourseError(
            from_validation_error(exc, REQUEST, "$", lambda loc: keys_at(DecisionRequestModel, loc))
        ) from exc


def resolve(request: dict[str, Any] | str | bytes) -> ResolvedRequest:
    """Turn a request into the core's inputs; raises :class:`CourseError` with every problem."""
    req = parse_request(request)
    problems: list[Problem] = []
    if req.course is not None and req.course_instance_config is not None:
        problems.append(
            Problem(
                REQUEST,
                "$.course_instance_config",
                "give either a course directory (course) or inline course_instance_config",
            )
        )
    inst_settings: InstanceSettings | None = None
    source: AssessmentSource | None = None
    files_tz: ZoneInfo = zone("UTC")
    institution: str | None = None
    if req.course is not None:
        try:
            course = load_course_cached(req.course)
        except CourseError as exc:
            raise CourseError(
                [Problem(REQUEST, "$.course", p.message) for p in exc.problems]
            ) from exc
        institution = course.institution
        ci_id = req.course_instance
        if ci_id is None:
            if len(course.instances) == 1:
                ci_id = next(iter(course.instances))
            else:
                problems.append(
                    Problem(
                        REQUEST,
                        "$.course_instance",
                        "the course has several course instances; name one: "
                        + ", ".join(sorted(course.instances)),
                    )
                )
        if ci_id is not None:
            loaded = course.instances.get(ci_id)
            if loaded is None:
                problems.append(
                    Problem(
                        REQUEST,
                        "$.course_instance",
                        f"no course instance {ci_id!r} in {req.course} (there are: "
                        + ", ".join(sorted(course.instances))
                        + ")",
                    )
                )
            else:
                files_tz = loaded.tz
                if loaded.settings is None:
                    problems += [p for p in course.errors if p.file == loaded.file]
                inst_settings = loaded.settings
                if req.assessment is not None and req.assessment_config is None:
                    source = loaded.assessments.get(req.assessment)
                    if source is None:
                        if req.assessment in loaded.broken:
                            file = loaded.assessment_files[req.assessment]
                            problems += [p for p in course.errors if p.file == file]
                        else:
                            problems.append(
                                Problem(
                                    REQUEST,
                                    "$.assessment",
                                    f"no assessment {req.assessment!r} in course instance "
                                    f"{ci_id!r}",
                                )
                            )
    else:
        tz_name = req.timezone or (req.course_instance_config or {}).get("timezone") or "UTC"
        try:
            files_tz = zone(str(tz_name))
        except DateError as exc:
            problems.append(Problem(REQUEST, "$.timezone", str(exc)))
        if req.course_instance_config is not None:
            r = Reader("course_instance_config", files_tz)
            r.problems += check_top_level(
                req.course_instance_config, INSTANCE_KEYS, "course_instance_config"
            )
            inst_settings = instance_policy(r, req.course_instance_config, None)
            problems += r.problems
    if inst_settings is None and req.course is None:
        inst_settings = InstanceSettings(CourseInstancePolicy(), None, {})
    if req.assessment_config is not None:
        r = Reader("assessment_config", files_tz)
        r.problems += check_top_level(req.assessment_config, ASSESSMENT_KEYS, "assessment_config")
        source = assessment_config(
            r,
            req.assessment_config,
            req.assessment or "assessment",
            inst_settings or InstanceSettings(CourseInstancePolicy(), None, {}),
        )
        problems += r.problems
    tz: ZoneInfo = files_tz
    if req.timezone is not None:
        try:
            tz = zone(req.timezone)
        except DateError as exc:
            problems.append(Problem(REQUEST, "$.timezone", str(exc)))
    rr = Reader(REQUEST, tz)
    at = rr.date(req.at, "$.at")
    reservations = tuple(
        Reservation(
            x.exam_uuid,
            rr.date(x.access_start, f"$.reservations[{i}].access_start") or 0,
            rr.date(x.access_end, f"$.reservations[{i}].access_end") or 0,
        )
        for i, x in enumerate(req.reservations)
    )
    enrollment = None
    if req.enrollment is not None:
        enrollment = EnrollmentFacts(
            req.enrollment.status,
            rr.date(
                req.enrollment.publishing_extension_end, "$.enrollment.publishing_extension_end"
            ),
        )
    instance = None
    if req.instance is not None:
        instance = InstanceFacts(
            req.instance.open, rr.date(req.instance.date_limit, "$.instance.date_limit")
        )
    personal: tuple[Any, ...] = ()
    if req.student_overrides:
        if source is None:
            problems.append(
                Problem(REQUEST, "$.student_overrides", "student overrides need an assessment")
            )
        else:
            pr = Reader(REQUEST, files_tz)
            personal = (
                personal_overrides(pr, source, req.student_overrides, "$.student_overrides") or ()
            )
            problems += pr.problems
    problems += rr.problems
    errors = [p for p in problems if p.severity == "error"]
    if errors or at is None or inst_settings is None:
        raise CourseError(errors or [Problem(REQUEST, "$", "the request cannot be decided")])
    user = UserFacts(
        uid=req.user.uid,
        role=Role.parse(req.user.role),
        sections=frozenset(req.user.sections),
        institution=req.user.institution if req.user.institution is not None else institution,
    )
    facts = Facts(
        user=user,
        mode=Mode(req.mode),
        reservations=reservations,
        personal=personal,
        enrollment=enrollment,
        instance=instance,
    )
    return ResolvedRequest(
        ci=inst_settings.policy,
        assessment=None if source is None else source.config,
        facts=facts,
        at=at,
        tz=tz,
        files_tz=files_tz,
        warnings=tuple(p for p in problems if p.severity == "warning"),
    )


def decide(request: dict[str, Any] | str | bytes) -> Decision:
    """Decide a request (see the module docstring); raises :class:`CourseError` on bad input."""
    rr = resolve(request)
    return core_decide(rr.ci, rr.assessment, rr.facts, rr.at, rr.tz)


def request_timelines(request: dict[str, Any] | str | bytes) -> tuple[ResolvedRequest, Any, Any]:
    rr = resolve(request)
    ci_tl, tl = timelines(rr.ci, rr.assessment, rr.facts, rr.tz)
    return rr, ci_tl, tl


__all__ = [
    "DecisionRequestModel",
    "ResolvedRequest",
    "decide",
    "request_timelines",
    "resolve",
]
