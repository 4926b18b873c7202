"""JSON requests of the ``coursegate roles`` commands, read into the roles core's typed values.

The roles core (:mod:`coursegate.roles`) is plain dataclasses and knows no file format; the
pydantic models of its requests live here, with the command line that reads them. Reading a
request never raises anything but :class:`RequestError`, whose ``problems`` each carry a JSON
path (``$.assignments[0].area``) and a plain message.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from coursegate.roles.allowed import RoleIndex
from coursegate.roles.areas import Area, AreaError, AreaKind
from coursegate.roles.conditions import (
    CheckContext,
    CoursePreferences,
    Locks,
    ResourceVerdict,
    SessionState,
)
from coursegate.roles.model import (
    AuthKind,
    CustomRole,
    RoleAssignment,
    SelectedRole,
    User,
    check_role_name,
    check_uid,
)
from coursegate.roles.records import RoleDataError
from coursegate.roles.table import RoleTable, parse_privilege_list

__all__ = [
    "AllowedRequest",
    "AssignRequest",
    "DefineRequest",
    "RequestError",
    "RequestProblem",
    "build_context",
    "build_custom_role",
    "build_grant",
    "build_index",
    "build_selected",
    "parse_area_at",
    "read_request",
]

AuthName = Literal["internal", "unix", "kerberos", "external"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UserIn(_Strict):
    uid: str
    domain: str
    auth: AuthName
    class_account: bool = False
    class_course: str | None = None


class AssignmentIn(_Strict):
    uid: str
    role: str
    area: str
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None


class CustomRoleIn(_Strict):
    name: str
    author: str
    domain: str
    system: str = ""
    domain_privs: str = ""
    course: str = ""


class CourseIn(_Strict):
    area: str
    owner: str


class SelectedIn(_Strict):
    role: str
    area: str


class CoursePreferencesIn(_Strict):
    deny_roles: dict[str, list[str]] = Field(default_factory=dict)
    deny_users: dict[str, list[str]] = Field(default_factory=dict)


class LocksIn(_Strict):
    privileges: list[str] = Field(default_factory=list)
    resource_locked: bool = False
    reason: str = ""


class VerdictIn(_Strict):
    allowed: bool
    reason: str = ""


class SessionIn(_Strict):
    conditions_met: bool
    reason: str = ""


class ContextIn(_Strict):
    target_auth: AuthName | None = None
    course_preferences: CoursePreferencesIn | None = None
    locks: LocksIn | None = None
    resource: VerdictIn | None = None
    session: SessionIn | None = None


class World(_Strict):
    at: AwareDatetime
    users: list[UserIn] = Field(default_factory=list)
    assignments: list[AssignmentIn] = Field(default_factory=list)
    custom_roles: list[CustomRoleIn] = Field(default_factory=list)
    courses: list[CourseIn] = Field(default_factory=list)


class AllowedRequest(World):
    """``coursegate roles allowed``: the merged permission of one privilege."""

    uid: str
    privilege: str
    area: str
    selected: SelectedIn | None = None
    context: ContextIn | None = None


class GrantIn(_Strict):
    uid: str
    role: str
    area: str
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None


class AssignRequest(World):
    """``coursegate roles assign``: grant one role on behalf of ``actor``."""

    actor: str
    grant: GrantIn


class DefineRequest(World):
    """``coursegate roles define``: define one custom role on behalf of ``actor``."""

    actor: str
    custom_role: CustomRoleIn


# -- errors -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RequestProblem:
    path: str
    message: str


class RequestError(ValueError):
    """A request could not be read; each problem has a JSON path and a plain message."""

    def __init__(self, problems: Sequence[RequestProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{p.path}: {p.message}" for p in self.problems))


def _json_path(location: Sequence[int | str]) -> str:
    path = "$"
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _pydantic_message(error: Any) -> str:
    kind = error.get("type", "")
    location = error.get("loc", ())
    if kind == "missing":
        return "this field is required"
    if kind == "extra_forbidden":
        name = location[-1] if location else "?"
        return f"unknown field {name!r}; check its spelling against the documented request"
    if kind == "timezone_aware":
        return "a time needs a timezone, e.g. 2001-09-01T12:00:00Z or 2001-09-01T08:00:00-04:00"
    return str(error.get("msg", "invalid value"))


_Request = TypeVar("_Request", bound=BaseModel)


def read_request(text: str, model: type[_Request]) -> _Request:
    """Parse JSON text into ``model``, reporting every problem with its JSON path."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise RequestError(
            [
                RequestProblem(
                    "$",
                    f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}",
                )
            ]
        ) from None
    if not isinstance(data, dict):
        raise RequestError(
            [RequestProblem("$", f"the request must be a JSON object, not {type(data).__name__}")]
        )
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise RequestError(
            [
                RequestProblem(_json_path(item["loc"]), _pydantic_message(item))
                for item in error.errors()
            ]
        ) from None


# -- building the domain values -----------------------------------------------------------------

_T = TypeVar("_T")


def _attempt(problems: list[RequestProblem], path: str, build: Callable[[], _T]) -> _T | None:
    try:
        return build()
    except (ValueError, TypeError) as error:
        problems.append(RequestProblem(path, str(error)))
        return None


def parse_area_at(problems: list[RequestProblem], path: str, text: str) -> Area | None:
    """Parse an area, recording a problem at ``path`` if it is malformed."""
    try:
        return Area.parse(text)
    except AreaError as error:
        problems.append(RequestProblem(path, str(error)))
        return None


def _window_problem(start: datetime | None, end: datetime | None) -> str | None:
    if start is not None and end is not None and end < start:
        return f"the end ({end.isoformat()}) is before the start ({start.isoformat()})"
    return None


def build_custom_role(
    problems: list[RequestProblem], path: str, item: CustomRoleIn
) -> CustomRole | None:
    """A :class:`CustomRole` from its request form, or None with problems recorded."""
    before = len(problems)
    for name, text in (
        ("system", item.system),
        ("domain_privs", item.domain_privs),
        ("course", item.course),
    ):
        try:
            parse_privilege_list(text)
        except ValueError as error:
            problems.append(RequestProblem(f"{path}.{name}", str(error)))
    if len(problems) > before:
        return None
    return _attempt(
        problems,
        path,
        lambda: CustomRole(
            item.domain, item.author, item.name, item.system, item.domain_privs, item.course
        ),
    )


def _user(problems: list[RequestProblem], path: str, item: UserIn) -> User | None:
    before = len(problems)
    _attempt(problems, f"{path}.uid", lambda: check_uid(item.uid))
    parse_area_at(problems, f"{path}.domain", f"/{item.domain}/")
    course: Area | None = None
    if item.class_course is not None:
        course = parse_area_at(problems, f"{path}.class_course", item.class_course)
        if course is not None and course.kind is not AreaKind.COURSE:
            problems.append(
                RequestProblem(
                    f"{path}.class_course",
                    f"a class course is a course instance like /dom/course, not {course.path}",
                )
            )
    if len(problems) > before:
        return None
    return _attempt(
        problems,
        path,
        lambda: User(item.uid, item.domain, AuthKind(item.auth), item.class_account, course),
    )


def _assignment(
    problems: list[RequestProblem], path: str, item: AssignmentIn | GrantIn
) -> RoleAssignment | None:
    before = len(problems)
    area = parse_area_at(problems, f"{path}.area", item.area)
    _attempt(problems, f"{path}.role", lambda: check_role_name(item.role))
    window = _window_problem(item.start, item.end)
    if window is not None:
        problems.append(RequestProblem(f"{path}.end", window))
    if len(problems) > before or area is None:
        return None
    return _attempt(
        problems, path, lambda: RoleAssignment(item.uid, item.role, area, item.start, item.end)
    )


def build_index(request: World, table: RoleTable) -> RoleIndex:
    """The :class:`RoleIndex` of a request's users, assignments, custom roles and courses."""
    problems: list[RequestProblem] = []
    users = [_user(problems, f"$.users[{i}]", item) for i, item in enumerate(request.users)]
    roles = [
        build_custom_role(problems, f"$.custom_roles[{i}]", item)
        for i, item in enumerate(request.custom_roles)
    ]
    assignments = [
        _assignment(problems, f"$.assignments[{i}]", item)
        for i, item in enumerate(request.assignments)
    ]
    owners: dict[Area, str] = {}
    for i, course in enumerate(request.courses):
        area = parse_area_at(problems, f"$.courses[{i}].area", course.area)
        if area is None:
            continue
        if area in owners:
            problems.append(RequestProblem(f"$.courses[{i}].area", f"{area.path} is listed twice"))
        owners[area] = course.owner
    if problems:
        raise RequestError(problems)
    try:
        return RoleIndex(
            table,
            [user for user in users if user is not None],
            [assignment for assignment in assignments if assignment is not None],
            [role for role in roles if role is not None],
            owners,
        )
    except RoleDataError as error:
        raise RequestError(
            [RequestProblem(problem.path, problem.message) for problem in error.problems]
        ) from None


def build_selected(
    problems: list[RequestProblem], path: str, item: SelectedIn | None
) -> SelectedRole | None:
    if item is None:
        return None
    area = parse_area_at(problems, f"{path}.area", item.area)
    _attempt(problems, f"{path}.role", lambda: check_role_name(item.role))
    return SelectedRole(item.role, area) if area is not None else None


def build_grant(problems: list[RequestProblem], item: GrantIn) -> RoleAssignment | None:
    return _assignment(problems, "$.grant", item)


@dataclass(frozen=True, slots=True)
class _FixedVerdict:
    verdict: ResourceVerdict

    def __call__(self, uid: str, privilege: str, area: Area, at: datetime) -> ResourceVerdict:
        return self.verdict


def build_context(item: ContextIn | None) -> CheckContext | None:
    """The :class:`CheckContext` a request describes. A fixed resource verdict stands in for the
    resource's own rules (R)."""
    if item is None:
        return None
    preferences = None
    if item.course_preferences is not None:
        preferences = CoursePreferences(
            {k: frozenset(v) for k, v in item.course_preferences.deny_roles.items()},
            {k: frozenset(v) for k, v in item.course_preferences.deny_users.items()},
        )
    locks = None
    if item.locks is not None:
        locks = Locks(
            frozenset(item.locks.privileges), item.locks.resource_locked, item.locks.reason
        )
    resource = None
    if item.resource is not None:
        resource = _FixedVerdict(
            ResourceVerdict(item.resource.allowed, item.resource.reason or "as given")
        )

    session = None
    if item.session is not None:
        session = SessionState(item.session.conditions_met, item.session.reason)
    return CheckContext(
        target_auth=AuthKind(item.target_auth) if item.target_auth is not None else None,
        course_preferences=preferences,
        locks=locks,
        resource=resource,
        session=session,
    )
