"""Problems found in course files and requests: each names the file, the JSON path and what is
wrong, in words an instructor understands."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    path: str
    message: str
    severity: str = "error"  # "error" | "warning"

    def to_json(self) -> dict[str, str]:
        return {"file": self.file, "path": self.path, "message": self.message}

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.severity}: {self.message}"


class CourseError(Exception):
    """Raised when files or a request cannot be used; carries every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = [p for p in problems if p.severity == "error"] or list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


def json_path(loc: Iterable[Any], prefix: str = "$") -> str:
    out = prefix
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def did_you_mean(word: str, known: Iterable[str]) -> str | None:
    known = list(known)
    lower = {k.lower(): k for k in known}
    if word.lower() in lower:
        return lower[word.lower()]
    hits = difflib.get_close_matches(word, known, n=1, cutoff=0.75)
    return hits[0] if hits else None


_TYPE_WORDS = {
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "string_type": "must be text in quotes",
    "list_type": "must be a list [...]",
    "tuple_type": "must be a list [...]",
    "model_type": "must be an object {...}",
    "model_attributes_type": "must be an object {...}",
    "dict_type": "must be an object {...}",
}


def from_validation_error(
    exc: ValidationError,
    file: str,
    prefix: str,
    keys_at: Callable[[tuple[Any, ...]], list[str]] | None = None,
) -> list[Problem]:
    """Translate pydantic's errors into instructor-friendly problems."""
    out: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        kind = err["type"]
        if kind == "extra_forbidden":
            key = str(loc[-1])
            parent = json_path(loc[:-1], prefix)
            candidates = keys_at(loc[:-1]) if keys_at is not None else []
            hint = did_you_mean(key, candidates) if candidates else None
            msg = f"unknown key {key!r} here"
            msg += f" (did you mean {hint!r}?)" if hint else ""
            if candidates:
                msg += "; allowed keys: " + ", ".join(candidates)
            out.append(Problem(file, parent, msg))
            continue
        path = json_path(loc, prefix)
        if kind == "missing":
            out.append(Problem(file, json_path(loc[:-1], prefix), f"{loc[-1]!r} is required"))
        elif kind in _TYPE_WORDS:
            out.append(Problem(file, path, f"{_TYPE_WORDS[kind]} (found {_show(err['input'])})"))
        elif kind == "literal_error":
            expected = err.get("ctx", {}).get("expected", "")
            out.append(
                Problem(file, path, f"must be one of {expected} (found {_show(err['input'])})")
            )
        elif kind == "value_error":
            out.append(Problem(file, path, str(err["msg"]).removeprefix("Value error, ")))
        else:
            out.append(Problem(file, path, f"{err['msg']} (found {_show(err['input'])})"))
    return out


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
