"""Reading a course directory laid out as PrairieLearn does.

::

    infoCourse.json                                   title, timezone (default America/Chicago)
    courseInstances/<ci>/infoCourseInstance.json      optional timezone override
    courseInstances/<ci>/assessments/<path>/infoAssessment.json   (nested; the id is <path>)

Every file is read and checked even when another has errors, so ``validate`` reports
everything at once. A file with errors yields no configuration.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from coursegate.core.course_instance import CourseInstancePolicy
from coursegate.core.instants import DEFAULT_TIMEZONE, DateError, zone
from coursegate.courses.keys import (
    ASSESSMENT_KEYS,
    COURSE_KEYS,
    INSTANCE_KEYS,
    check_top_level,
)
from coursegate.courses.normalise import (
    AssessmentSource,
    InstanceSettings,
    Reader,
    assessment_config,
    instance_policy,
)
from coursegate.courses.problems import CourseError, Problem


@dataclass
class LoadedInstance:
    id: str
    file: str
    tz: ZoneInfo
    settings: InstanceSettings | None
    assessments: dict[str, AssessmentSource] = field(default_factory=dict)
    assessment_files: dict[str, str] = field(default_factory=dict)
    broken: set[str] = field(default_factory=set)
    raw: dict[str, Any] = field(default_factory=dict)
    """infoCourseInstance.json as read."""
    assessment_raw: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Each infoAssessment.json as read, by assessment id."""

    @property
    def policy(self) -> CourseInstancePolicy:
        assert self.settings is not None
        return self.settings.policy


@dataclass
class LoadedCourse:
    root: Path
    title: str
    name: str
    timezone: str
    institution: str | None
    instances: dict[str, LoadedInstance]
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


def read_json(path: Path, shown: str) -> tuple[Any, list[Problem]]:
    """Parse a JSON file; a syntax error becomes a problem with line and column."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return None, [Problem(shown, "$", f"cannot read the file: {exc.strerror}")]
    except UnicodeDecodeError:
        return None, [Problem(shown, "$", "the file is not UTF-8 text")]
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, [
            Problem(
                shown, "$", f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
            )
        ]
    if not isinstance(data, dict):
        return None, [Problem(shown, "$", "the file must contain one JSON object {...}")]
    return data, []


def _zone(
    name: Any, reader_file: str, path: str, fallback: ZoneInfo
) -> tuple[ZoneInfo, list[Problem]]:
    if name is None:
        return fallback, []
    if not isinstance(name, str):
        return fallback, [Problem(reader_file, path, "must be a time zone name in quotes")]
    try:
        return zone(name), []
    except DateError as exc:
        return fallback, [Problem(reader_file, path, str(exc))]


def load_course(root: str | Path) -> LoadedCourse:
    """Read and check every course file under ``root``."""
    base = Path(root)
    problems: list[Problem] = []
    course_file = base / "infoCourse.json"

    def shown(p: Path) -> str:
        """The file as the user would name it: under the directory they gave."""
        return str(base / p.relative_to(base))

    title = name = ""
    institution: str | None = None
    tz_name = DEFAULT_TIMEZONE
    course_tz = zone(DEFAULT_TIMEZONE)
    if not base.is_dir():
        raise CourseError([Problem(str(base), "$", "no such course directory")])
    if course_file.is_file():
        data, errs = read_json(course_file, shown(course_file))
        problems += errs
        if data is not None:
            problems += check_top_level(data, COURSE_KEYS, shown(course_file))
            title = str(data.get("title", ""))
            name = str(data.get("name", ""))
            inst = data.get("institution")
            institution = inst if isinstance(inst, str) else None
            course_tz, errs = _zone(
                data.get("timezone"), shown(course_file), "$.timezone", course_tz
            )
            problems += errs
            tz_name = course_tz.key
    else:
        problems.append(
            Problem(
                shown(course_file), "$", "infoCourse.json is missing; using the defaults", "warning"
            )
        )
    instances: dict[str, LoadedInstance] = {}
    ci_root = base / "courseInstances"
    for ci_file in sorted(ci_root.glob("**/infoCourseInstance.json")):
        ci_dir = ci_file.parent
        ci_id = ci_dir.relative_to(ci_root).as_posix()
        data, errs = read_json(ci_file, shown(ci_file))
        problems += errs
        if data is None:
            instances[ci_id] = LoadedInstance(ci_id, shown(ci_file), course_tz, None)
            continue
        problems += check_top_level(data, INSTANCE_KEYS, shown(ci_file))
        tz, errs = _zone(data.get("timezone"), shown(ci_file), "$.timezone", course_tz)
        problems += errs
        r = Reader(shown(ci_file), tz)
        settings = instance_policy(r, data, institution)
        problems += r.problems
        loaded = LoadedInstance(ci_id, shown(ci_file), tz, settings if r.ok else None, raw=data)
        for a_file in sorted((ci_dir / "assessments").glob("**/infoAssessment.json")):
            aid = a_file.parent.relative_to(ci_dir / "assessments").as_posix()
            loaded.assessment_files[aid] = shown(a_file)
            adata, errs = read_json(a_file, shown(a_file))
            problems += errs
            if adata is None:
                loaded.broken.add(aid)
                continue
            loaded.assessment_raw[aid] = adata
            problems += check_top_level(adata, ASSESSMENT_KEYS, shown(a_file))
            ar = Reader(shown(a_file), tz)
            src = assessment_config(ar, adata, aid, settings)
            problems += ar.problems
            if src is None or not ar.ok or not _top_ok(problems, shown(a_file)):
                loaded.broken.add(aid)
            else:
                loaded.assessments[aid] = src
        instances[ci_id] = loaded
    return LoadedCourse(base, title, name, tz_name, institution, instances, problems)


def _top_ok(problems: list[Problem], file: str) -> bool:
    return not any(p.file == file and p.severity == "error" for p in problems)
