"""A new course instance made from a template (an earlier course instance of the same course),
written into the course's directory and synced — for an instructor who starts a new term, for
instance from the first launch of a new LMS course (:mod:`coursegate.services.lti.contexts`).

What the new files say is :mod:`coursegate.courses.rollover` (dates moved by whole weeks, the
new term's own dates, per-student rules left behind, new uuids). Here is the I/O, as the rule
editor's Save does it (:mod:`.rules_files`): the server writes only where the operator allowed
it (``editor_writes`` and ``editor_course_dirs``), into a git working tree, and never commits;
the files are written whole into a hidden directory that is then renamed into place, and
synced in the caller's transaction; when the sync finds a problem the directory is removed and
the error goes up, so nothing is left. The course's other files must be as last synced: this
publishes the new course instance only.

Who may: someone who may set the template's parameters (``opa`` there: its instructors and
course coordinators). They become the new course instance's instructor.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from coursegate.courses import rollover
from coursegate.courses.problems import CourseError
from coursegate.courses.reading import MAX_FILE_BYTES, MAX_FILES
from coursegate.services.common.authz import require
from coursegate.services.common.context import SYSTEM, Ctx
from coursegate.services.common.errors import Conflict, Invalid, NotFound, Refused
from coursegate.services.common.places import instance_area, instance_label
from coursegate.services.courses.rules_files import (
    CourseFileWrites,
    course_root,
    json_indent,
    why_not_writable,
)
from coursegate.services.courses.sync import files_as_synced, sync_course
from coursegate.services.history.log import record
from coursegate.services.people.grants import grant_role
from coursegate.services.people.persons import refuse_in_view_as
from coursegate.store.models import Course, CourseInstance

SHORT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
"""A course instance's directory name: letters, digits, ``-`` and ``_``, at most 40."""
LONGEST_TERM_DAYS = 3 * 366


@dataclass(frozen=True)
class NewInstance:
    template_id: int
    short_name: str
    long_name: str
    first: date
    last: date


@dataclass(frozen=True)
class Where:
    """Whether this server may write a new course instance next to ``template``, and where."""

    root: Path | None
    why_not: str
    """Empty when it may; else why not, in a sentence."""


def where(ctx: Ctx, template: CourseInstance, writes: CourseFileWrites) -> Where:
    """The course directory a new course instance from ``template`` would be written in."""
    course = ctx.session.get(Course, template.course_id)
    if course is None:
        raise NotFound(f"{instance_label(template)} has no course", "template")
    root, allowed = course_root(course, writes)
    instead = "add the course instance to your course directory in git and sync it, then link it"
    why = why_not_writable(course, root, allowed, writes, instead)
    if not why and root is not None and not os.access(root / "courseInstances", os.W_OK):
        why = f"the server may not write in {root / 'courseInstances'} (file permissions)"
    return Where(root if not why else None, why)


def _named(ctx: Ctx, course_id: int, short_name: str) -> CourseInstance | None:
    """The course's course instance of that short name, if any."""
    return ctx.session.scalars(
        select(CourseInstance).where(
            CourseInstance.course_id == course_id, CourseInstance.short_name == short_name
        )
    ).first()


def _check(ctx: Ctx, new: NewInstance, template: CourseInstance) -> None:
    if not SHORT_NAME.fullmatch(new.short_name):
        raise Invalid(
            f"short_name: {new.short_name!r} cannot name a course instance: use letters, digits, "
            "'-' and '_' (at most 40), for example Fa27",
            "short_name",
        )
    if not new.long_name.strip() or len(new.long_name) > 200:
        raise Invalid("long_name: give the name people see, for example 'Fall 2027'", "long_name")
    for day, field in ((new.first, "first_day"), (new.last, "last_day")):
        if not 2000 <= day.year <= 2099:
            raise Invalid(
                f"{field}: {day.isoformat()} is not a term's day; give a day between 2000 and 2099",
                field,
            )
    if new.last < new.first:
        raise Invalid(
            f"last_day: the last day ({new.last.isoformat()}) is before the first day "
            f"({new.first.isoformat()})",
            "last_day",
        )
    if (new.last - new.first).days > LONGEST_TERM_DAYS:
        raise Invalid(
            "last_day: a term of more than three years is surely a typing error", "last_day"
        )
    clash = _named(ctx, template.course_id, new.short_name)
    if clash is not None:
        raise Conflict(
            f"short_name: the course already has a course instance {new.short_name!r} "
            f"({instance_label(clash)}); choose another name",
            "short_name",
        )


def _files(source: Path) -> list[Path]:
    """The template's files (regular files only, at most :data:`MAX_FILES`)."""
    found: list[Path] = []
    for folder, dirs, names in os.walk(source, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            path = Path(folder) / name
            if path.is_symlink() or not path.is_file():
                continue
            found.append(path)
            if len(found) > MAX_FILES:
                raise Refused(
                    f"the template {source.name} has more than {MAX_FILES:,} files; copy it by "
                    "hand",
                    "template",
                )
    return found


def _json(path: Path, shown: str) -> tuple[Any, str]:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise Refused(f"{shown} is larger than {MAX_FILE_BYTES:,} bytes", "template")
    text = path.read_text(encoding="utf-8")
    try:
        return json.loads(text), text
    except ValueError as exc:
        raise Refused(
            f"{shown} is not valid JSON ({exc}); correct the template first", "template"
        ) from None


def _write(target: Path, source: Path, new: NewInstance, days: int) -> int:
    """Write the new course instance's files into ``target`` (a new, empty directory)."""
    uuids = rollover.Uuids(lambda: str(uuid.uuid4()))
    term = rollover.Term(new.long_name.strip(), new.first, new.last)
    count = 0
    for path in _files(source):
        relative = path.relative_to(source)
        out = target / relative
        out.parent.mkdir(parents=True, exist_ok=True)
        shown = f"courseInstances/{source.name}/{relative.as_posix()}"
        if path.name == "infoCourseInstance.json" and relative.parent == Path("."):
            data, text = _json(path, shown)
            data = rollover.new_instance(data, term, days, uuids)
        elif path.name == "infoAssessment.json":
            data, text = _json(path, shown)
            data = rollover.new_assessment(data, days, uuids)
        else:
            shutil.copyfile(path, out)
            count += 1
            continue
        out.write_text(json.dumps(data, indent=json_indent(text), ensure_ascii=False) + "\n")
        count += 1
    return count


@dataclass(frozen=True)
class Made:
    instance: CourseInstance
    files: int
    weeks: int
    """How many weeks the template's dates moved (negative: earlier)."""


def _places(
    ctx: Ctx, new: NewInstance, template: CourseInstance, writes: CourseFileWrites
) -> tuple[Path, Path, Path]:
    """The course directory, the template's folder and the new one's — or why not."""
    place = where(ctx, template, writes)
    if place.root is None:
        raise Refused(f"cannot make the course instance here: {place.why_not}", "template")
    root = place.root
    source = root / "courseInstances" / template.short_name
    target = root / "courseInstances" / new.short_name
    if not (source / "infoCourseInstance.json").is_file():
        raise NotFound(f"{source} holds no infoCourseInstance.json", "template")
    if target.exists():
        raise Conflict(
            f"short_name: {target} exists already (not synced yet?); choose another name",
            "short_name",
        )
    if not files_as_synced(Ctx(ctx.session, SYSTEM, ctx.at), root):
        raise Refused(
            f"other files of the course in {root} differ from what was last synced; this "
            "publishes only the new course instance: run `coursegate sync` (or ask whoever "
            "syncs the course) first",
            "template",
        )
    return root, source, target


def create_from_template(
    ctx: Ctx,
    new: NewInstance,
    writes: CourseFileWrites,
    *,
    sync: Callable[[Ctx, Path], Any] = sync_course,
    then: Callable[[CourseInstance], object] = lambda made: None,
) -> Made:
    """Write the new course instance next to its template and sync it (see the module), in
    the caller's transaction; the caller becomes its instructor. ``then`` finishes the work
    with the new course instance; if it fails, the files are removed as well."""
    refuse_in_view_as(ctx, "make a course instance")
    template = ctx.session.get(CourseInstance, new.template_id)
    if template is None or template.retired_at is not None:
        raise NotFound("there is no such course instance to start from", "template")
    require(
        ctx,
        "opa",
        instance_area(template),
        f"make a course instance from {instance_label(template)}",
    )
    _check(ctx, new, template)
    root, source, target = _places(ctx, new, template, writes)
    operator = Ctx(ctx.session, SYSTEM, ctx.at)
    template_info, _ = _json(source / "infoCourseInstance.json", "infoCourseInstance.json")
    first = rollover.first_day(template_info)
    days = rollover.week_shift(first, new.first)
    hidden = Path(tempfile.mkdtemp(prefix=f".new-{new.short_name}-", dir=root / "courseInstances"))
    try:
        files = _write(hidden, source, new, days)
        os.replace(hidden, target)
    except BaseException:
        shutil.rmtree(hidden, ignore_errors=True)
        raise
    try:
        with ctx.session.begin_nested():
            sync(operator, root)
            made = _named(ctx, template.course_id, new.short_name)
            assert made is not None  # the sync just made it
            grant_role(
                operator,
                ctx.actor,
                "in",
                instance_area(made).path,
                reason=f"made {made.short_name} from {template.short_name}",
            )
            then(made)
    except BaseException as exc:
        shutil.rmtree(target, ignore_errors=True)
        if isinstance(exc, CourseError):
            raise CourseError(exc.problems) from None
        raise
    record(
        ctx,
        "course_instance.made_from_template",
        "course_instance",
        instance_label(made),
        course_instance_id=made.id,
        template=instance_label(template),
        first_day=new.first.isoformat(),
        last_day=new.last.isoformat(),
        weeks=days // 7,
        files=files,
    )
    return Made(made, files, days // 7)
