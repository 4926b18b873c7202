"""Errors of the use cases: a stable code, a message for people, and the offending field."""

from __future__ import annotations


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


class NotFound(ServiceError):
    code = "not_found"
    status = 404


class Refused(ServiceError):
    """The roles core said no; the message says why."""

    code = "forbidden"
    status = 403


class Conflict(ServiceError):
    """Someone else changed the same thing first, or it already exists."""

    code = "conflict"
    status = 409
