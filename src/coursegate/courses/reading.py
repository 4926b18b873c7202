"""Reading course files safely: what is read, how much, and how deep.

Course directories come from instructors, so a file may be a symbolic link, a device, a FIFO,
a sparse file of gigabytes or JSON nested a hundred thousand levels deep. Here:

* only **regular files** are read; a symbolic link may be followed only when it stays inside the
  course directory (checked on the resolved path, then again on the opened file);
* at most ``max_file_bytes`` + 1 bytes are read from a file (1 MiB by default; the environment
  variable ``COURSEGATE_MAX_COURSE_FILE_BYTES`` changes it), never the whole file first;
* JSON nesting is measured on the text, without recursion, **before** it is parsed
  (``max_depth``, 64 levels by default);
* duplicate keys in one object, ``NaN``/``Infinity`` and numbers too large to be meant are
  errors;
* the directory walk (:mod:`.loader`) looks at no more than ``max_files`` entries
  (``COURSEGATE_MAX_COURSE_FILES``, 10,000 by default).

Every refusal is a :class:`~coursegate.courses.problems.Problem` naming the file as the user
would (under the directory they gave) and what is wrong; never the target of a link.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coursegate.courses.problems import CourseError, Problem

MAX_FILE_BYTES = 1024 * 1024
"""The largest course file read, in bytes (default)."""
MAX_DEPTH = 64
"""The deepest JSON nesting accepted: objects and lists inside each other (default)."""
MAX_FILES = 10_000
"""The most directory entries the walk of a course directory looks at (default)."""
MAX_NUMBER_CHARS = 80
"""A decimal number written with more characters than this is not a credit or a duration."""

FILE_BYTES_ENV = "COURSEGATE_MAX_COURSE_FILE_BYTES"
FILES_ENV = "COURSEGATE_MAX_COURSE_FILES"


@dataclass(frozen=True, slots=True)
class Limits:
    """How much of a course directory is read."""

    max_file_bytes: int = MAX_FILE_BYTES
    max_depth: int = MAX_DEPTH
    max_files: int = MAX_FILES

    @classmethod
    def resolve(
        cls,
        max_file_bytes: int | None = None,
        max_files: int | None = None,
        max_depth: int | None = None,
    ) -> Limits:
        """The limits given, else those of the environment, else the defaults; raises
        :class:`CourseError` when a value (given or in the environment) is not a positive
        whole number."""
        return cls(
            _limit(max_file_bytes, FILE_BYTES_ENV, MAX_FILE_BYTES),
            _limit(max_depth, None, MAX_DEPTH),
            _limit(max_files, FILES_ENV, MAX_FILES),
        )


def _limit(given: int | None, env: str | None, default: int) -> int:
    value: object
    if given is not None:
        where, value = "the limit given", given
    elif env is not None and os.environ.get(env, "").strip():
        where, text = env, os.environ[env].strip()
        value = int(text) if text.isascii() and text.isdigit() else text
    else:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CourseError(
            [Problem(where, "$", f"must be a positive whole number (found {value!r})")]
        )
    return value


# ------------------------------------------------------------------------------ the files


class CourseRoot:
    """The course directory as given and as resolved; says whether a path stays inside it."""

    def __init__(self, given: Path) -> None:
        self.given = given
        self.real = Path(os.path.realpath(given))

    def shown(self, path: Path) -> str:
        """The file as the user would name it: under the directory they gave (the paths here
        are always built from it)."""
        return str(path)

    def inside(self, real: str | Path) -> bool:
        real = str(real)
        top = str(self.real)
        return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


def read_bytes(
    path: Path, shown: str, limits: Limits, root: CourseRoot | None = None
) -> tuple[bytes | None, list[Problem]]:
    """The bytes of one course file, or the reason it is refused.

    With ``root``, a path that resolves outside it (through a symbolic link anywhere along the
    way) is refused. Whatever ``root``, only a regular file is opened — a device, FIFO, socket
    or directory is refused without being opened — and at most ``max_file_bytes`` + 1 bytes
    are read.
    """

    def refuse(message: str) -> tuple[None, list[Problem]]:
        return None, [Problem(shown, "$", message)]

    real = os.path.realpath(path)
    linked = os.path.islink(path)
    if root is not None and not root.inside(real):
        return refuse(
            "leads outside the course directory (through a symbolic link); coursegate reads "
            "only files inside the course directory"
        )
    try:
        before = os.stat(real)
    except OSError as exc:
        if linked:
            return refuse("is a symbolic link to nothing (its target does not exist)")
        return refuse(f"cannot read the file: {exc.strerror}")
    if not stat.S_ISREG(before.st_mode):
        return refuse(f"is {_kind(before.st_mode)}, not a regular file; it is not read")
    if before.st_size > limits.max_file_bytes:
        return refuse(_too_large(before.st_size, limits))
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    flags |= getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(real, flags)
    except OSError as exc:
        return refuse(f"cannot read the file: {exc.strerror}")
    try:
        now = os.fstat(fd)
        if not stat.S_ISREG(now.st_mode) or (now.st_dev, now.st_ino) != (
            before.st_dev,
            before.st_ino,
        ):
            return refuse("changed while it was being read; read it again")
        chunks: list[bytes] = []
        size = 0
        while size <= limits.max_file_bytes:
            chunk = os.read(fd, min(65_536, limits.max_file_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        return refuse(f"cannot read the file: {exc.strerror}")
    finally:
        os.close(fd)
    if size > limits.max_file_bytes:
        return refuse(_too_large(None, limits))
    return b"".join(chunks), []


def _too_large(size: int | None, limits: Limits) -> str:
    what = f"{size:,} bytes" if size is not None else "larger than that"
    return (
        f"is too large to be a course file ({what}; the limit is {limits.max_file_bytes:,} "
        f"bytes, set by {FILE_BYTES_ENV})"
    )


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not an ordinary file"


# ------------------------------------------------------------------------------------- JSON


class _NotJson(ValueError):
    """Something Python's json module accepts but JSON does not (NaN, 1e999, ...)."""


def _constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON value")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or len(text) > MAX_NUMBER_CHARS:
        raise _NotJson(f"the number {text[:20]}{'...' if len(text) > 20 else ''} is too large")
    return value


_BRACKETS = re.compile(r'[\\"\[\]{}]')
_ESCAPE = re.compile(r"\\.", re.S)
_STRING = re.compile(r'"[^"]*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def nesting_problem(text: str, max_depth: int) -> tuple[int, int] | None:
    """Where ``text`` first nests objects and lists deeper than ``max_depth`` (line, column),
    or None. Linear in the text and without recursion: strings are skipped, so brackets
    inside them do not count."""
    if text.count("[") + text.count("{") <= max_depth:
        return None
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", _ESCAPE.sub("", text)))
    depth = 0
    for c in brackets:
        depth += 1 if c in "[{" else -1
        if depth > max_depth:
            return _where_too_deep(text, max_depth)
    return None


def _where_too_deep(text: str, max_depth: int) -> tuple[int, int]:
    """The line and column of the bracket that goes one level too deep."""
    depth = 0
    in_string = False
    skip_to = -1
    for m in _BRACKETS.finditer(text):
        i = m.start()
        if i < skip_to:
            continue
        c = m.group()
        if in_string:
            if c == "\\":
                skip_to = i + 2
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
            if depth > max_depth:
                line = text.count("\n", 0, i) + 1
                return line, i - (text.rfind("\n", 0, i) + 1) + 1
        elif c in "]}":
            depth -= 1
    return 1, 1  # not reached: the two scans read strings alike


def parse_json(
    text: str | bytes, shown: str, limits: Limits = Limits()
) -> tuple[Any, list[Problem]]:
    """Parse JSON text; every way it can be wrong is a problem with file, path and message.

    The value comes back (with the last of duplicated keys) when the only problems are
    duplicate keys, so that the rest of the file can still be checked.
    """

    def refuse(message: str) -> tuple[None, list[Problem]]:
        return None, [Problem(shown, "$", message)]

    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            return refuse("the file is not UTF-8 text")
    deep = nesting_problem(text, limits.max_depth)
    if deep is not None:
        return refuse(
            f"nested more than {limits.max_depth} levels deep (objects and lists inside each "
            f"other) at line {deep[0]}, column {deep[1]}"
        )
    duplicates: dict[int, list[str]] = {}

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                duplicates.setdefault(id(out), []).append(key)
            out[key] = value
        return out

    try:
        data = json.loads(
            text,
            object_pairs_hook=pairs,
            parse_constant=_constant,
            parse_float=_float,
        )
    except json.JSONDecodeError as exc:
        return refuse(f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}")
    except _NotJson as exc:
        return refuse(f"not valid JSON: {exc}")
    except RecursionError:  # not reached: the nesting is measured first
        return refuse(f"nested more than {limits.max_depth} levels deep")
    except ValueError:  # int() refuses an integer of thousands of digits
        return refuse("not valid JSON: a number is too long to be read")
    if not duplicates:
        return data, []
    problems = [
        Problem(
            shown,
            f"{where}.{key}",
            f"the key {key!r} appears more than once in this object; JSON keeps only the "
            "last one, so write it once",
        )
        for where, obj in _objects(data)
        if id(obj) in duplicates
        for key in dict.fromkeys(duplicates[id(obj)])
    ]
    return data, problems


def _objects(data: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object in ``data`` with its JSON path, without recursion."""
    stack: list[tuple[str, Any]] = [("$", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            yield path, value
            stack.extend((f"{path}.{k}", v) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", v) for i, v in reversed(list(enumerate(value))))


def depth_exceeds(value: Any, max_depth: int) -> bool:
    """Whether an already parsed value nests objects and lists deeper than ``max_depth``
    (without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict | list):
            if d > max_depth:
                return True
            stack.extend((x, d + 1) for x in (v.values() if isinstance(v, dict) else v))
    return False


def read_json_file(
    path: Path, shown: str, limits: Limits = Limits(), root: CourseRoot | None = None
) -> tuple[Any, list[Problem]]:
    """Read and parse one course file that must hold one JSON object."""
    raw, problems = read_bytes(path, shown, limits, root)
    if raw is None:
        return None, problems
    data, problems = parse_json(raw, shown, limits)
    if data is None:
        return None, problems
    if not isinstance(data, dict):
        return None, [Problem(shown, "$", "the file must contain one JSON object {...}")]
    return data, problems
