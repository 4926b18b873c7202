"""The access-rule editor's Save: an assessment's access keys written into its
``infoAssessment.json``, checked, and synced — or, where the server may not write, the file to
download.

The course files in git stay the source of truth. The server writes a course's files only when
the operator said so (:class:`CourseFileWrites`: ``editor_writes`` and the course directories
in ``editor_course_dirs``) and the directory is a git working tree it may write to. It never
commits: instructors review and commit the change themselves, as they do for every other
change to their course files.

A save is all or nothing: the file is replaced at once (a new file renamed over the old one),
then the course is synced in the caller's transaction; when the sync finds a problem (the
messages of ``coursegate validate``, naming the file and the JSON path) the old content is put
back and the error goes up, so the transaction writes nothing. A save publishes only this
file: when other files of the course differ from what was last synced it is refused (syncing
them is ``ere``'s, the course coordinator's, not ``opa``'s).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coursegate.courses.problems import CourseError
from coursegate.services.common.authz import require
from coursegate.services.common.context import SYSTEM, Ctx
from coursegate.services.common.errors import Conflict, Invalid, NotFound, Refused
from coursegate.services.common.places import instance_area, instance_label, live_assessment
from coursegate.services.courses.state import ASSESSMENT_ACCESS_KEYS
from coursegate.services.courses.sync import files_as_synced, sync_course
from coursegate.services.courses.sync_report import SyncReport
from coursegate.services.history.log import record
from coursegate.store.models import Course, CourseInstance

MAX_FILE = 1_000_000
"""An ``infoAssessment.json`` larger than this is not read here (``coursegate validate`` says
why)."""


@dataclass(frozen=True)
class CourseFileWrites:
    """What the operator allows (``http/settings.py``): ``enabled`` is ``editor_writes``."""

    enabled: bool = False
    course_dirs: tuple[str, ...] = ()


@dataclass(frozen=True)
class RulesFile:
    shown: str
    """``courseInstances/<ci>/assessments/<aid>/infoAssessment.json``."""
    root: Path | None
    """The course directory, when the server knows it."""
    text: str | None
    """The file's content, when it could be read."""
    why_not: str
    """Empty when Save may write the file; else why not, in a sentence."""

    @property
    def writable(self) -> bool:
        return not self.why_not

    @property
    def path(self) -> Path | None:
        return None if self.root is None else self.root / self.shown


def file_of(ci: CourseInstance, aid: str) -> str:
    return f"courseInstances/{ci.short_name}/assessments/{aid}/infoAssessment.json"


def digest(text: str) -> str:
    """What the confirm step carries, to notice a file changed between the diff and Save."""
    return hashlib.sha256(text.encode()).hexdigest()


def _course_name(root: Path) -> str | None:
    try:
        data = json.loads((root / "infoCourse.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    return str(data.get("name", "")) or root.resolve().name


def git_tree(root: Path) -> bool:
    """Whether ``root`` is inside a git working tree (a ``.git`` folder, or a ``.git`` file of a
    linked worktree, in it or above it). No git command is run."""
    here = root.resolve()
    return any((p / ".git").exists() for p in (here, *here.parents))


def course_root(course: Course, writes: CourseFileWrites) -> tuple[Path | None, bool]:
    """The course's directory and whether it is one the server may write to."""
    synced = Path(course.source_path) if course.source_path else None
    for folder in writes.course_dirs:
        root = Path(folder)
        if root.is_dir() and _course_name(root) == course.name:
            # as sync was given it, so that a sync from here is the same sync
            same = synced is not None and synced.is_dir() and synced.samefile(root)
            return (synced if same and synced is not None else root), True
    if synced is not None and synced.is_dir() and _course_name(synced) == course.name:
        return synced, False
    return None, False


def why_not_writable(
    course: Course, root: Path | None, allowed: bool, writes: CourseFileWrites, instead: str
) -> str:
    """Why the server may not write in the course's directory (``root``, ``allowed`` by
    :func:`course_root`), in a sentence ending with what to do ``instead``; "" when it may."""
    if not writes.enabled:
        return (
            f"this server does not write course files (the setting editor_writes is off): {instead}"
        )
    if root is None or not allowed:
        return (
            f"the directory of the course {course.name} is not among the course directories"
            " this server may write to (the setting editor_course_dirs)"
        )
    if not git_tree(root):
        return (
            f"the course directory {root} is not a git working tree; the server writes only there"
        )
    return ""


def _read(path: Path, root: Path) -> str | None:
    try:
        inside = path.resolve().is_relative_to(root.resolve())
        if not inside or not path.is_file() or path.stat().st_size > MAX_FILE:
            return None
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def rules_file(ctx: Ctx, ci: CourseInstance, aid: str, writes: CourseFileWrites) -> RulesFile:
    """Where the assessment's file is, its content, and whether Save may write it."""
    course = ctx.session.get(Course, ci.course_id)
    shown = file_of(ci, aid)
    if course is None:
        raise NotFound(f"{instance_label(ci)} has no course", "course")
    root, allowed = course_root(course, writes)
    text = None if root is None else _read(root / shown, root)
    instead = "download the file, put it in your course directory and commit it"
    why = why_not_writable(course, root, allowed, writes, instead)
    if why or root is None:
        pass
    elif text is None:
        why = f"{shown} cannot be read in {root} (missing, not a regular file, or too large)"
    elif not (os.access(root / shown, os.W_OK) and os.access((root / shown).parent, os.W_OK)):
        why = f"the server may not write {shown} in {root} (file permissions)"
    return RulesFile(shown, root, text, why)


def json_indent(text: str) -> int | str:
    """The indentation the file uses (two spaces when it cannot tell)."""
    for line in text.splitlines()[1:]:
        stripped = line.lstrip(" \t")
        if stripped and stripped != line:
            lead = line[: len(line) - len(stripped)]
            return "\t" if lead.startswith("\t") else len(lead)
    return 2


def with_access(text: str | None, access: Mapping[str, Any], base: Mapping[str, Any]) -> str:
    """The file's text with its access keys replaced by ``access`` — the other keys kept, in
    their order, new access keys last — changing as little text as it can: what did not
    change keeps its formatting, so the difference (and the commit) shows only the change.
    Without the file (``text`` None): ``base`` (the keys the store knows) with ``access``."""
    data: Any = json.loads(text) if text is not None else dict(base)
    if not isinstance(data, dict):
        raise Invalid("the file does not hold a JSON object; correct it by hand first", "json")
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key not in ASSESSMENT_ACCESS_KEYS:
            out[key] = value
        elif key in access:
            out[key] = access[key]
    for key, value in access.items():
        if key in ASSESSMENT_ACCESS_KEYS and key not in out:
            out[key] = value
    indent = json_indent(text or "")
    if text is not None:
        try:
            span = _scan(text, 0)
        except (ValueError, IndexError):
            span = None
        if span is not None:
            patched = _patch(text, span, data, out, indent)
            return text[: span.start] + patched + text[span.end :]
    return json.dumps(out, indent=indent, ensure_ascii=False) + "\n"


# -- changing a JSON text where its value changed, and nowhere else -------------------------

_DECODER = json.JSONDecoder()
_SPACE = " \t\n\r"


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    keys: dict[str, _Span] | None = None
    items: list[_Span] | None = None


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in _SPACE:
        i += 1
    return i


def _scan(text: str, i: int) -> _Span:
    """Where the JSON value starting at ``i`` (after spaces) is, and where its parts are."""
    i = _skip(text, i)
    start = i
    if text[i] == "{":
        keys: dict[str, _Span] = {}
        i = _skip(text, i + 1)
        while text[i] != "}":
            key, i = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]
            i = _skip(text, i)
            if text[i] != ":":
                raise ValueError("':' expected")
            child = _scan(text, i + 1)
            keys[key] = child
            i = _skip(text, child.end)
            if text[i] == ",":
                i = _skip(text, i + 1)
        return _Span(start, i + 1, keys=keys)
    if text[i] == "[":
        items: list[_Span] = []
        i = _skip(text, i + 1)
        while text[i] != "]":
            child = _scan(text, i)
            items.append(child)
            i = _skip(text, child.end)
            if text[i] == ",":
                i = _skip(text, i + 1)
        return _Span(start, i + 1, items=items)
    _, end = _DECODER.raw_decode(text, i)
    return _Span(start, end)


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a) == json.dumps(b)


def _patch(text: str, span: _Span, old: Any, new: Any, indent: int | str) -> str:
    """The text of ``span`` (holding ``old``) made to hold ``new``: unchanged parts as they
    are written, changed parts written afresh at their place's indentation."""
    if _same(old, new):
        return text[span.start : span.end]
    parts: list[tuple[_Span, Any, Any]] | None = None
    if (
        span.keys is not None
        and isinstance(old, dict)
        and isinstance(new, dict)
        and list(old) == list(new) == list(span.keys)
    ):
        parts = [(span.keys[k], old[k], new[k]) for k in old]
    elif (
        span.items is not None
        and isinstance(old, list)
        and isinstance(new, list)
        and len(old) == len(new) == len(span.items)
    ):
        parts = list(zip(span.items, old, new, strict=True))
    if parts is None:
        line = text.rfind("\n", 0, span.start) + 1
        lead = text[line : line + len(text[line:]) - len(text[line:].lstrip(" \t"))]
        fresh = json.dumps(new, indent=indent, ensure_ascii=False)
        return fresh.replace("\n", "\n" + lead)
    out: list[str] = []
    pos = span.start
    for child, a, b in parts:
        out += [text[pos : child.start], _patch(text, child, a, b, indent)]
        pos = child.end
    out.append(text[pos : span.end])
    return "".join(out)


def unified_diff(old: str, new: str, shown: str) -> str:
    """The change as ``git diff`` shows it ("" when nothing changes)."""
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{shown}", f"b/{shown}"
        )
    )


def _replace(path: Path, text: str) -> None:
    """Put ``text`` in ``path`` at once: written whole to a new file beside it (with the old
    file's permissions), flushed to disk, then renamed over it."""
    mode = path.stat().st_mode & 0o7777
    fd, written = tempfile.mkstemp(dir=path.parent, prefix=".infoAssessment-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(written, mode)
        os.replace(written, path)
    except BaseException:
        if os.path.exists(written):
            os.unlink(written)
        raise


@dataclass(frozen=True)
class Saved:
    file: str
    report: SyncReport


def save_rules(
    ctx: Ctx,
    ci: CourseInstance,
    aid: str,
    access: Mapping[str, Any],
    base: str,
    writes: CourseFileWrites,
) -> Saved:
    """Write ``access`` into the assessment's file and sync the course, in the caller's
    transaction (``opa``: setting the assessment's parameters). ``base`` is the
    :func:`digest` of the file the person saw the diff of. Raises :class:`CourseError` (the
    file put back as it was) when the course then fails to validate or sync."""
    require(ctx, "opa", instance_area(ci), f"change the access rules of {aid}")
    live_assessment(ctx, ci, aid)  # 404 unless it is a live assessment
    target = rules_file(ctx, ci, aid, writes)
    if target.why_not or target.root is None or target.text is None or target.path is None:
        raise Refused(f"Save cannot write {target.shown}: {target.why_not}", "json")
    if digest(target.text) != base:
        raise Conflict(
            f"{target.shown} changed since you saw the difference (someone edited or pulled"
            " it): look at the new difference and save again",
            "json",
        )
    operator = Ctx(ctx.session, SYSTEM, ctx.at)
    if not files_as_synced(operator, target.root):
        raise Refused(
            f"other files of the course in {target.root} differ from what was last synced;"
            " Save publishes only this file: run `coursegate sync` (or ask whoever syncs the"
            " course) first",
            "json",
        )
    new_text = with_access(target.text, access, {})
    if new_text == target.text:
        raise Invalid("nothing to save: the file already holds these rules", "json")
    _replace(target.path, new_text)
    try:
        with ctx.session.begin_nested():
            report = sync_course(operator, target.root)
    except BaseException as exc:
        _replace(target.path, target.text)
        if isinstance(exc, CourseError):
            raise CourseError(exc.problems) from None
        raise
    record(
        ctx, "rules.save", "assessment", aid,
        course_instance_id=ci.id, file=target.shown, changes=len(report.changes),
    )  # fmt: skip
    return Saved(target.shown, report)
