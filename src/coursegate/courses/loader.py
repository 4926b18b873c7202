"""Reading a course directory laid out as PrairieLearn does.

::

    infoCourse.json                                   title, timezone (default America/Chicago)
    courseInstances/<ci>/infoCourseInstance.json      optional timezone override
    courseInstances/<ci>/assessments/<path>/infoAssessment.json   (nested; the id is <path>)

As in PrairieLearn, a folder holding its info file is not looked into further (an assessment's
own subfolders are not walked). The walk and the reading refuse what does not belong to the
course (:mod:`.reading`): symbolic links that leave the course directory, folders reached twice
(loops), anything but regular files, files over the size limit, JSON nested too deeply, and
more directory entries than the limit — each an error naming the file.

Checks across files: every course instance and assessment has a ``uuid`` (an error when it is
missing, is not a UUID, or another of the same kind has it) and every
assessment's ``set`` is defined (:mod:`.keys`).

Every file is read and checked even when another has errors, so ``validate`` reports
everything at once. A file with errors yields no configuration.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from coursegate.core.course_instance import CourseInstancePolicy
from coursegate.core.instants import DEFAULT_TIMEZONE, DateError, zone
from coursegate.courses.assessments import AssessmentSource, assessment_config
from coursegate.courses.instance_settings import InstanceSettings, instance_policy
from coursegate.courses.keys import (
    ASSESSMENT_KEYS,
    COURSE_KEYS,
    INSTANCE_KEYS,
    STANDARD_ASSESSMENT_SETS,
    UUID,
    assessment_sets,
    check_set,
    check_top_level,
    check_uuid,
)
from coursegate.courses.problems import CourseError, Problem
from coursegate.courses.reader import Reader
from coursegate.courses.reading import FILES_ENV, CourseRoot, Limits, read_json_file


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


def read_json(
    path: Path, shown: str, *, limits: Limits | None = None, root: Path | None = None
) -> tuple[Any, list[Problem]]:
    """Read one JSON file that must hold an object; every refusal (a link leaving ``root``, not
    a regular file, too large, too deep, not JSON, duplicate keys) becomes a problem."""
    return read_json_file(
        path,
        shown,
        limits or Limits.resolve(),
        CourseRoot(root) if root is not None else None,
    )


class _Walk:
    """Finds course files below a course directory as PrairieLearn does, refusing what leaves
    it: links out of the directory, folders seen twice (loops), more entries than the limit."""

    def __init__(self, root: CourseRoot, limits: Limits) -> None:
        self.root = root
        self.limits = limits
        self.problems: list[Problem] = []
        self.entries = 0
        self.stopped = False
        self._seen: dict[tuple[int, int], str] = {}

    def find(self, top: Path, name: str) -> list[Path]:
        """The files called ``name`` in the folders below ``top`` (not in ``top`` itself); a
        folder that holds one is not looked into further, as in PrairieLearn."""
        if not os.path.lexists(top) or not self._enter(top):
            return []
        hits: list[Path] = []
        stack = [(top, True)]
        while stack and not self.stopped:
            folder, is_top = stack.pop()
            entries = self._scan(folder)
            if entries is None:
                continue
            if not is_top and any(e.name == name for e in entries):
                hits.append(folder / name)
                continue
            subfolders = [(Path(e.path), e.is_symlink()) for e in entries if self._is_folder(e)]
            stack.extend((f, False) for f, link in reversed(subfolders) if self._enter(f, link))
        return sorted(hits)

    def _scan(self, folder: Path) -> list[os.DirEntry[str]] | None:
        out: list[os.DirEntry[str]] = []
        try:
            with os.scandir(folder) as it:
                for entry in it:
                    self.entries += 1
                    if self.entries > self.limits.max_files:
                        self.stopped = True
                        self.problems.append(
                            Problem(
                                self.root.shown(folder),
                                "$",
                                f"the course directory holds more than "
                                f"{self.limits.max_files:,} files and folders where course "
                                "files are looked for; coursegate stops reading here (the "
                                f"limit is set by {FILES_ENV})",
                            )
                        )
                        return None
                    out.append(entry)
        except OSError as exc:
            self.problems.append(
                Problem(self.root.shown(folder), "$", f"cannot read the folder: {exc.strerror}")
            )
            return None
        return sorted(out, key=lambda e: e.name)

    def _is_folder(self, entry: os.DirEntry[str]) -> bool:
        """A folder to look into: a real one, or a link to one (checked by :meth:`_enter`)."""
        try:
            if entry.is_dir(follow_symlinks=False):
                return True
            return entry.is_symlink() and entry.is_dir(follow_symlinks=True)
        except OSError:
            return False

    def _enter(self, folder: Path, linked: bool = True) -> bool:
        """Whether ``folder`` may be walked: inside the course directory, not seen before.
        (A folder that is not a link, in a folder that was inside, is inside.)"""
        shown = self.root.shown(folder)
        if linked and not self.root.inside(os.path.realpath(folder)):
            self.problems.append(
                Problem(
                    shown,
                    "$",
                    "is a symbolic link to a folder outside the course directory; coursegate "
                    "reads only files inside the course directory",
                )
            )
            return False
        try:
            st = os.stat(folder)
        except OSError as exc:
            self.problems.append(Problem(shown, "$", f"cannot read the folder: {exc.strerror}"))
            return False
        if not stat.S_ISDIR(st.st_mode):
            return False
        key = (st.st_dev, st.st_ino)
        if key in self._seen:
            self.problems.append(
                Problem(
                    shown,
                    "$",
                    f"is the folder {self._seen[key]} again (through a symbolic link); links "
                    "that repeat or loop are refused",
                )
            )
            return False
        self._seen[key] = shown
        return True


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


@dataclass(frozen=True)
class FoundInstance:
    id: str
    file: Path
    assessments: tuple[tuple[str, Path], ...]
    """(assessment id, its infoAssessment.json), by id."""


@dataclass(frozen=True)
class CourseFiles:
    """The course files under a course directory, as :func:`load_course` reads them."""

    root: CourseRoot
    course: Path
    """infoCourse.json (which may not exist)."""
    instances: tuple[FoundInstance, ...]
    problems: tuple[Problem, ...]
    """What the walk refused (links leaving the directory, loops, too many entries)."""

    def paths(self) -> list[Path]:
        return [
            self.course,
            *(p for i in self.instances for p in (i.file, *(f for _, f in i.assessments))),
        ]


def find_course_files(root: str | Path, limits: Limits | None = None) -> CourseFiles:
    """Walk a course directory for its course files (nothing is read), as PrairieLearn does:
    ``courseInstances/<ci>/infoCourseInstance.json`` and
    ``<ci>/assessments/<aid>/infoAssessment.json``, where ``<ci>`` and ``<aid>`` may be nested
    folders; a folder holding its info file is not looked into further."""
    base = Path(root)
    walk = _Walk(CourseRoot(base), limits or Limits.resolve())
    ci_root = base / "courseInstances"
    instances = []
    for ci_file in walk.find(ci_root, "infoCourseInstance.json"):
        a_root = ci_file.parent / "assessments"
        instances.append(
            FoundInstance(
                ci_file.parent.relative_to(ci_root).as_posix(),
                ci_file,
                tuple(
                    (a.parent.relative_to(a_root).as_posix(), a)
                    for a in walk.find(a_root, "infoAssessment.json")
                ),
            )
        )
    return CourseFiles(walk.root, base / "infoCourse.json", tuple(instances), tuple(walk.problems))


@dataclass(frozen=True)
class _Files:
    """Reads the course's files within the limits, each named as problems show it."""

    root: CourseRoot
    limits: Limits

    def shown(self, path: Path) -> str:
        return self.root.shown(path)

    def read(self, path: Path) -> tuple[Any, list[Problem]]:
        return read_json_file(path, self.shown(path), self.limits, self.root)


@dataclass(frozen=True)
class _CourseInfo:
    """What infoCourse.json gives the rest of the course (the defaults when it is missing)."""

    title: str = ""
    name: str = ""
    institution: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    tz: ZoneInfo = field(default_factory=lambda: zone(DEFAULT_TIMEZONE))
    sets: frozenset[str] | None = frozenset(STANDARD_ASSESSMENT_SETS)
    """The assessment sets defined (None when infoCourse.json could not say)."""


def load_course(
    root: str | Path,
    *,
    max_file_bytes: int | None = None,
    max_files: int | None = None,
    max_depth: int | None = None,
) -> LoadedCourse:
    """Read and check every course file under ``root``.

    The limits (see :mod:`.reading`) default to the environment's
    (``COURSEGATE_MAX_COURSE_FILE_BYTES``, ``COURSEGATE_MAX_COURSE_FILES``), else 1 MiB per
    file, 10,000 directory entries and 64 levels of JSON nesting.
    """
    limits = Limits.resolve(max_file_bytes, max_files, max_depth)
    base = Path(root)
    if not base.is_dir():
        raise CourseError([Problem(str(base), "$", "no such course directory")])
    found = find_course_files(base, limits)
    files = _Files(found.root, limits)
    problems: list[Problem] = []
    info = _read_course_info(files, found.course, problems)
    instances: dict[str, LoadedInstance] = {}
    for found_ci in found.instances:
        instances[found_ci.id] = _load_instance(files, found_ci, info, problems)
    problems += _duplicate_uuids(
        {ci: (i.file, i.raw) for ci, i in instances.items()}, "course instance", "in this course"
    )
    problems += found.problems
    _drop_failed(instances, problems)
    return LoadedCourse(
        base, info.title, info.name, info.timezone, info.institution, instances, problems
    )


def _read_course_info(files: _Files, course_file: Path, problems: list[Problem]) -> _CourseInfo:
    """Read infoCourse.json, adding its problems to ``problems``."""
    shown = files.shown(course_file)
    if not os.path.lexists(course_file):
        problems.append(
            Problem(shown, "$", "infoCourse.json is missing; using the defaults", "warning")
        )
        return _CourseInfo()
    data, errs = files.read(course_file)
    problems += errs
    if data is None:
        return _CourseInfo(sets=None)
    problems += check_top_level(data, COURSE_KEYS, shown)
    problems += check_uuid(data, shown, required=False)
    sets, errs = assessment_sets(data, shown)
    problems += errs
    inst = data.get("institution")
    course_tz, errs = _zone(data.get("timezone"), shown, "$.timezone", zone(DEFAULT_TIMEZONE))
    problems += errs
    return _CourseInfo(
        title=str(data.get("title", "")),
        name=str(data.get("name", "")),
        institution=inst if isinstance(inst, str) else None,
        timezone=course_tz.key,
        tz=course_tz,
        sets=sets,
    )


def _load_instance(
    files: _Files, found_ci: FoundInstance, info: _CourseInfo, problems: list[Problem]
) -> LoadedInstance:
    """Read a course instance's file and its assessments' files, adding their problems to
    ``problems``."""
    ci_id, ci_file = found_ci.id, found_ci.file
    shown = files.shown(ci_file)
    data, errs = files.read(ci_file)
    problems += errs
    if data is None:
        return LoadedInstance(ci_id, shown, info.tz, None)
    problems += check_top_level(data, INSTANCE_KEYS, shown)
    problems += check_uuid(data, shown, required=True)
    tz, errs = _zone(data.get("timezone"), shown, "$.timezone", info.tz)
    problems += errs
    r = Reader(shown, tz)
    settings = instance_policy(r, data, info.institution)
    problems += r.problems
    loaded = LoadedInstance(ci_id, shown, tz, settings, raw=data)
    for aid, a_file in found_ci.assessments:
        _load_assessment(files, loaded, settings, aid, a_file, info.sets, problems)
    problems += _duplicate_uuids(
        {aid: (f, loaded.assessment_raw.get(aid)) for aid, f in loaded.assessment_files.items()},
        "assessment",
        "in this course instance",
    )
    return loaded


def _load_assessment(
    files: _Files,
    loaded: LoadedInstance,
    settings: InstanceSettings,
    aid: str,
    a_file: Path,
    sets: frozenset[str] | None,
    problems: list[Problem],
) -> None:
    """Read one infoAssessment.json into ``loaded`` (or mark it broken), adding its problems to
    ``problems``."""
    shown = files.shown(a_file)
    loaded.assessment_files[aid] = shown
    adata, errs = files.read(a_file)
    problems += errs
    if adata is None:
        loaded.broken.add(aid)
        return
    loaded.assessment_raw[aid] = adata
    problems += check_top_level(adata, ASSESSMENT_KEYS, shown)
    problems += check_uuid(adata, shown, required=True)
    if sets is not None:
        problems += check_set(adata, shown, sets)
    ar = Reader(shown, loaded.tz)
    src = assessment_config(ar, adata, aid, settings)
    problems += ar.problems
    if src is not None:
        loaded.assessments[aid] = src


def _drop_failed(instances: dict[str, LoadedInstance], problems: list[Problem]) -> None:
    """A file with errors yields no configuration: its instance's settings or its assessment
    are dropped (the assessment counted as broken)."""
    failed = {p.file for p in problems if p.severity == "error"}
    for inst in instances.values():
        if inst.file in failed:
            inst.settings = None
        for aid, file in inst.assessment_files.items():
            if file in failed:
                inst.assessments.pop(aid, None)
                inst.broken.add(aid)


def _duplicate_uuids(
    files: dict[str, tuple[str, dict[str, Any] | None]], what: str, where: str
) -> list[Problem]:
    """An error in each file whose uuid another file (of the same kind) also has."""
    by_uuid: dict[str, list[str]] = {}
    for ident, (_, data) in sorted(files.items()):
        value = (data or {}).get("uuid")
        if isinstance(value, str) and UUID.match(value):
            by_uuid.setdefault(value.lower(), []).append(ident)
    out: list[Problem] = []
    for idents in by_uuid.values():
        for ident in idents if len(idents) > 1 else ():
            others = ", ".join(o for o in idents if o != ident)
            out.append(
                Problem(
                    files[ident][0],
                    "$.uuid",
                    f"this uuid is also the uuid of {what} {others} {where}; every {what} "
                    "needs its own (generate one with uuidgen)",
                )
            )
    return out
