"""Reading one course file's values: dates in the course instance's zone, models validated,
and every problem collected with the file and its JSON path."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, TypeAdapter, ValidationError

from coursegate.core.instants import DateError, Instant, format_wall, parse_date
from coursegate.courses import models as m
from coursegate.courses.problems import Problem, from_validation_error


@dataclass
class Reader:
    """Reads one file's values, collecting problems."""

    file: str
    tz: ZoneInfo
    problems: list[Problem] = field(default_factory=list)

    def error(self, path: str, message: str) -> None:
        self.problems.append(Problem(self.file, path, message))

    def warn(self, path: str, message: str) -> None:
        self.problems.append(Problem(self.file, path, message, "warning"))

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    def date(self, text: str | None, path: str) -> Instant | None:
        if text is None:
            return None
        try:
            t, warning = parse_date(text, self.tz)
        except DateError as exc:
            self.error(path, str(exc))
            return None
        if warning is not None:
            self.warn(path, f"{warning.message} (time zone {self.tz.key})")
        return t

    def model(self, model: Any, data: Any, path: str) -> Any:
        """Validate ``data`` against ``model`` (a class or ``list[...]``); None on errors."""
        try:
            return _adapter(model).validate_python(data)
        except ValidationError as exc:
            self.problems += from_validation_error(
                exc, self.file, path, lambda loc: m.keys_at(model, loc)
            )
            return None

    def when(self, t: Instant) -> str:
        return format_wall(t, self.tz)


@cache
def _adapter(model: Any) -> TypeAdapter[Any]:
    """The validator of ``model`` (a model class or ``list[...]`` of one), built once: building
    one is what costs, and a course reads the same few types in every file."""
    return TypeAdapter(model)


def was_set(model: BaseModel, name: str) -> bool:
    """Whether the file wrote the key ``name`` (even as null): an unwritten key keeps the
    inherited value."""
    return name in model.model_fields_set
