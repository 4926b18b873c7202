"""The decision request from course files: the format the library and the command line share.

A request travels one way, each stage visited once:

1. **parse** — :func:`parse_request`: the JSON, held to the course files' limits, into
   :class:`DecisionRequestModel`;
2. **load the course** — :func:`load_request_course`: the course directory (cached by file
   modification times) or the inline configuration, validated by :mod:`coursegate.courses`;
3. **build the core's input** — :func:`build_input`: the instant, the zone and the user's facts;
4. **decide** — :func:`coursegate.core.engine.decide` (:func:`decide` here);
5. **render** — :meth:`~coursegate.core.decision.Decision.to_json`, by the caller.

Decisions from the store (the HTTP API and the pages) travel the same five stages in
:mod:`coursegate.services.access.decisions.answers`, with the store in place of the files. This
module is the imperative shell around :mod:`coursegate.core`: it reads files; the core does not. The
request and response formats are a public contract (see ``docs/decisions.md``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
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
from coursegate.courses.assessments import AssessmentSource, assessment_config, personal_overrides
from coursegate.courses.instance_settings import InstanceSettings, instance_policy
from coursegate.courses.keys import ASSESSMENT_KEYS, INSTANCE_KEYS, check_top_level
from coursegate.courses.loader import LoadedCourse, LoadedInstance, find_course_files, load_course
from coursegate.courses.models import DateStr, keys_at
from coursegate.courses.problems import CourseError, Problem, from_validation_error
from coursegate.courses.reader import Reader
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


@dataclass
class _Course:
    """Stage 2's result: what the request's course says — the course instance's settings, the
    assessment's configuration, the zone of the files and the institution."""

    settings: InstanceSettings | None = None
    source: AssessmentSource | None = None
    files_tz: ZoneInfo = field(default_factory=lambda: zone("UTC"))
    institution: str | None = None


def resolve(request: dict[str, Any] | str | bytes) -> ResolvedRequest:
    """Turn a request into the core's inputs; raises :class:`CourseError` with every problem.

    Stages 1–3 of the one path (see the module docstring): parse, load the course, build the
    core's input. Problems are collected in that order and reported together.
    """
    req = parse_request(request)
    problems: list[Problem] = []
    course = load_request_course(req, problems)
    tz, at, facts = build_input(req, course, problems)
    errors = [p for p in problems if p.severity == "error"]
    if errors or at is None or facts is None or course.settings is None:
        raise CourseError(errors or [Problem(REQUEST, "$", "the request cannot be decided")])
    return ResolvedRequest(
        ci=course.settings.policy,
        assessment=None if course.source is None else course.source.config,
        facts=facts,
        at=at,
        tz=tz,
        files_tz=course.files_tz,
        warnings=tuple(p for p in problems if p.severity == "warning"),
    )


# -- stage 2: load the course (a directory, cached, or the inline configuration) ---------------


def load_request_course(req: DecisionRequestModel, problems: list[Problem]) -> _Course:
    """The course the request names: a course directory, or inline configuration."""
    if req.course is not None and req.course_instance_config is not None:
        problems.append(
            Problem(
                REQUEST,
                "$.course_instance_config",
                "give either a course directory (course) or inline course_instance_config",
            )
        )
    if req.course is not None:
        course = _from_directory(req, req.course, problems)
    else:
        course = _inline_instance(req, problems)
        if course.settings is None:
            course.settings = InstanceSettings(CourseInstancePolicy(), None, {})
    if req.assessment_config is not None:
        r = Reader("assessment_config", course.files_tz)
        r.problems += check_top_level(req.assessment_config, ASSESSMENT_KEYS, "assessment_config")
        course.source = assessment_config(
            r,
            req.assessment_config,
            req.assessment or "assessment",
            course.settings or InstanceSettings(CourseInstancePolicy(), None, {}),
        )
        problems += r.problems
    return course


def _from_directory(req: DecisionRequestModel, root: str, problems: list[Problem]) -> _Course:
    try:
        loaded_course = load_course_cached(root)
    except CourseError as exc:
        raise CourseError([Problem(REQUEST, "$.course", p.message) for p in exc.problems]) from exc
    course = _Course(institution=loaded_course.institution)
    ci_id = _instance_id(req, loaded_course, problems)
    if ci_id is None:
        return course
    loaded = loaded_course.instances.get(ci_id)
    if loaded is None:
        problems.append(
            Problem(
                REQUEST,
                "$.course_instance",
                f"no course instance {ci_id!r} in {root} (there are: "
                + ", ".join(sorted(loaded_course.instances))
                + ")",
            )
        )
        return course
    course.files_tz = loaded.tz
    if loaded.settings is None:
        problems += [p for p in loaded_course.errors if p.file == loaded.file]
    course.settings = loaded.settings
    if req.assessment is not None and req.assessment_config is None:
        course.source = loaded.assessments.get(req.assessment)
        if course.source is None:
            problems += _missing_assessment(req.assessment, ci_id, loaded, loaded_course)
    return course


def _instance_id(
    req: DecisionRequestModel, course: LoadedCourse, problems: list[Problem]
) -> str | None:
    """The course instance the request names, or the course's only one."""
    if req.course_instance is not None:
        return req.course_instance
    if len(course.instances) == 1:
        return next(iter(course.instances))
    problems.append(
        Problem(
            REQUEST,
            "$.course_instance",
            "the course has several course instances; name one: "
            + ", ".join(sorted(course.instances)),
        )
    )
    return None


def _missing_assessment(
    aid: str, ci_id: str, loaded: LoadedInstance, course: LoadedCourse
) -> list[Problem]:
    """Why an assessment is not there: its file's own problems, or that there is no such one."""
    if aid in loaded.broken:
        file = loaded.assessment_files[aid]
        return [p for p in course.errors if p.file == file]
    return [Problem(REQUEST, "$.assessment", f"no assessment {aid!r} in course instance {ci_id!r}")]


def _inline_instance(req: DecisionRequestModel, problems: list[Problem]) -> _Course:
    course = _Course()
    tz_name = req.timezone or (req.course_instance_config or {}).get("timezone") or "UTC"
    try:
        course.files_tz = zone(str(tz_name))
    except DateError as exc:
        problems.append(Problem(REQUEST, "$.timezone", str(exc)))
    if req.course_instance_config is not None:
        r = Reader("course_instance_config", course.files_tz)
        r.problems += check_top_level(
            req.course_instance_config, INSTANCE_KEYS, "course_instance_config"
        )
        course.settings = instance_policy(r, req.course_instance_config, None)
        problems += r.problems
    return course


# -- stage 3: build the core's input (facts and the instant) ----------------------------------


def build_input(
    req: DecisionRequestModel, course: _Course, problems: list[Problem]
) -> tuple[ZoneInfo, Instant | None, Facts | None]:
    """The zone answers are given in, the instant asked about, and the user's facts."""
    tz: ZoneInfo = course.files_tz
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
    personal = _personal_overrides(req, course, problems)
    problems += rr.problems
    user = UserFacts(
        uid=req.user.uid,
        role=Role.parse(req.user.role),
        sections=frozenset(req.user.sections),
        institution=(
            req.user.institution if req.user.institution is not None else course.institution
        ),
    )
    facts = Facts(
        user=user,
        mode=Mode(req.mode),
        reservations=reservations,
        personal=personal,
        enrollment=enrollment,
        instance=instance,
    )
    return tz, at, facts


def _personal_overrides(
    req: DecisionRequestModel, course: _Course, problems: list[Problem]
) -> tuple[Any, ...]:
    """The student's own overrides (an extension), read in the files' zone."""
    if not req.student_overrides:
        return ()
    if course.source is None:
        problems.append(
            Problem(REQUEST, "$.student_overrides", "student overrides need an assessment")
        )
        return ()
    pr = Reader(REQUEST, course.files_tz)
    personal = (
        personal_overrides(pr, course.source, req.student_overrides, "$.student_overrides") or ()
    )
    problems += pr.problems
    return tuple(personal)


# -- stages 4 and 5: decide (the core), render (the caller: Decision.to_json, the CLI) --------


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
