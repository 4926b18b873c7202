"""Errors of the use cases: a stable code, a message for people, and the offending field."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, Protocol, TypeVar


class ServiceError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def to_json(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "field": self.field}


class Invalid(ServiceError):
    code = "invalid"
    status = 422


class Rendered(Protocol):
    def render(self) -> str: ...


P = TypeVar("P", bound=Rendered)


class EveryProblem(Invalid, Generic[P]):
    """Bad input with several problems (rows of a CSV file, students of a bulk change): all of
    them are listed, and nothing was written."""

    def __init__(self, problems: Sequence[P], head: str, field: str) -> None:
        self.problems = list(problems)
        super().__init__(
            f"{head}; nothing was written: " + "; ".join(p.render() for p in self.problems), field
        )


def count(n: int, noun: str) -> str:
    """``1 problem``, ``3 problems``."""
    return f"{n} {noun}{'s' if n != 1 else ''}"


class NotFound(ServiceError):
    code = "not_found"
    status = 404


class Refused(ServiceError):
    """The roles core said no; the message says why, in one sentence for people (what was
    refused, why, and who can grant it). ``details`` keeps the roles core's own reasoning, with
    its codes and area paths, for an expandable "Details" (and the history)."""

    code = "forbidden"
    status = 403

    def __init__(self, message: str, field: str | None = None, details: str = "") -> None:
        super().__init__(message, field)
        self.details = details

    def to_json(self) -> dict[str, str | None]:
        out = super().to_json()
        if self.details:
            out["details"] = self.details
        return out


class Conflict(ServiceError):
    """Someone else changed the same thing first, or it already exists."""

    code = "conflict"
    status = 409
