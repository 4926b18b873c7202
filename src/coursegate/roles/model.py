"""The records the role system works on: users, role assignments, custom roles, a chosen role.

All are immutable values; validation happens when they are built, so the rest of the package can
trust them. Times are timezone-aware datetimes; a role is in force from ``start`` (inclusive) to
``end`` (exclusive), and a missing ``start`` or ``end`` is unbounded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from coursegate.roles.areas import Area, AreaError, AreaKind
from coursegate.roles.privileges import Level
from coursegate.roles.table import CUSTOM_ROLE_PREFIX, parse_privilege_list

__all__ = [
    "AuthKind",
    "CustomRole",
    "RoleAssignment",
    "SelectedRole",
    "User",
    "check_role_name",
    "check_uid",
    "custom_role_name",
    "describe_window",
    "parse_custom_role_name",
    "require_aware",
]

_UID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+\-]{0,63}(@[A-Za-z0-9][A-Za-z0-9.\-]{0,190})?")
"""A user id: a login name, optionally with an ``@realm`` (institutional ids such as
``mwest@illinois.edu``, as PrairieLearn's UIDs are). It is an identifier, not the user's email
address: the email is kept separately and may change; login is always by user id."""


_ROLE_CODE = re.compile(r"[a-z][a-z0-9]{0,15}")
_CUSTOM_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_\-]{0,63}")


class AuthKind(StrEnum):
    """How a user logs in. Login is always by user id, never by email address."""

    INTERNAL = "internal"
    UNIX = "unix"
    KERBEROS = "kerberos"
    EXTERNAL = "external"
    """An external identity provider (SAML, OpenID Connect, ...)."""


def require_aware(moment: datetime, what: str) -> None:
    """Raise ValueError unless ``moment`` is timezone-aware (naive times are ambiguous)."""
    if not isinstance(moment, datetime):
        raise TypeError(f"{what} must be a datetime, not {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(
            f"{what} must be timezone-aware (got {moment.isoformat()} without a zone); "
            "a naive time means different instants in different places"
        )


def check_uid(uid: str, what: str = "user id") -> None:
    if not isinstance(uid, str) or not uid:
        raise ValueError(f"a {what} may not be empty")
    if not _UID.fullmatch(uid):
        raise ValueError(
            f"{uid!r} is not a valid {what}: use letters, digits, '_', '-', '+' and '.', "
            "at most 64 characters, optionally followed by @ and an institution's domain"
        )


def _check_domain(domain: str) -> None:
    if domain in _VALID_DOMAINS:
        return
    try:
        Area.of_domain(domain)
    except AreaError as error:
        raise ValueError(str(error)) from None
    if len(_VALID_DOMAINS) < 4096:
        _VALID_DOMAINS.add(domain)


_VALID_DOMAINS: set[str] = set()


@dataclass(frozen=True, slots=True)
class User:
    """A person (or class account) in one domain.

    ``class_account`` marks a recyclable class (student) account; ``class_course`` is the course
    instance whose stem the account carries. A class account may hold a Student role in that
    course only.
    """

    uid: str
    domain: str
    auth: AuthKind = AuthKind.INTERNAL
    class_account: bool = False
    class_course: Area | None = None

    def __post_init__(self) -> None:
        check_uid(self.uid)
        _check_domain(self.domain)
        try:
            if type(self.auth) is not AuthKind:
                object.__setattr__(self, "auth", AuthKind(self.auth))
        except ValueError:
            kinds = ", ".join(kind.value for kind in AuthKind)
            raise ValueError(
                f"{self.auth!r} is not an authentication kind; use one of {kinds}"
            ) from None
        if self.class_course is not None:
            if not self.class_account:
                raise ValueError(
                    f"{self.uid} has a class course but is not a class account; "
                    "only class accounts belong to a class"
                )
            if self.class_course.kind is not AreaKind.COURSE:
                raise ValueError(
                    f"the class course of {self.uid} must be a course instance like /dom/course, "
                    f"not {self.class_course.path}"
                )


def custom_role_name(domain: str, author: str, name: str) -> str:
    """``cr/<domain>/<author>/<name>``."""
    return f"{CUSTOM_ROLE_PREFIX}{domain}/{author}/{name}"


def parse_custom_role_name(role: str) -> tuple[str, str, str]:
    """Split ``cr/msu/smith/helproom`` into ``("msu", "smith", "helproom")``."""
    if not role.startswith(CUSTOM_ROLE_PREFIX):
        raise ValueError(f"{role!r} is not a custom role name (cr/<domain>/<author>/<name>)")
    parts = role[len(CUSTOM_ROLE_PREFIX) :].split("/")
    if len(parts) != 3 or not all(parts):
        raise ValueError(
            f"{role!r} is not a custom role name: write cr/<domain>/<author>/<name>, "
            "e.g. cr/msu/smith/helproom"
        )
    domain, author, name = parts
    _check_domain(domain)
    check_uid(author, "author's user id")
    if not _CUSTOM_NAME.fullmatch(name):
        raise ValueError(
            f"{name!r} is not a valid custom role name: use letters, digits, '_' and '-'"
        )
    return domain, author, name


def describe_window(start: datetime | None, end: datetime | None) -> str:
    """``from <start> until <end>``, ``from <start>``, ``until <end>`` or ``with no start or end
    date``; ``start`` is inclusive and ``end`` exclusive."""
    if start is None and end is None:
        return "with no start or end date"
    if start is None:
        assert end is not None
        return f"until {end.isoformat()}"
    if end is None:
        return f"from {start.isoformat()}"
    if start == end:
        return f"revoked before it began (at {start.isoformat()})"
    return f"from {start.isoformat()} until {end.isoformat()}"


def check_role_name(role: str) -> None:
    """Raise ValueError unless ``role`` is written like a role code or a custom role name."""
    if role in _VALID_ROLE_NAMES:
        return
    if role.startswith(CUSTOM_ROLE_PREFIX):
        parse_custom_role_name(role)
    elif not _ROLE_CODE.fullmatch(role):
        raise ValueError(
            f"{role!r} is not a role: use a role code of the table such as 'st', "
            "or a custom role name cr/<domain>/<author>/<name>"
        )
    if len(_VALID_ROLE_NAMES) < 4096:
        _VALID_ROLE_NAMES.add(role)


_VALID_ROLE_NAMES: set[str] = set()


@dataclass(frozen=True, slots=True, init=False)
class RoleAssignment:
    """``uid`` holds ``role`` in ``area`` from ``start`` (inclusive) until ``end`` (exclusive).

    ``role`` is a code of the table (``st``) or a custom role name (``cr/msu/smith/helproom``).
    Revoking keeps the record and sets ``end``; a record with ``start == end`` was revoked before
    it began and is never in force.
    """

    uid: str
    role: str
    area: Area
    start: datetime | None = None
    end: datetime | None = None

    def __init__(
        self,
        uid: str,
        role: str,
        area: Area,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> None:
        # Checked, then set through the slots' descriptors: an index is built from tens of
        # thousands of these, and the frozen dataclass's __init__ costs a third more.
        if not uid:
            raise ValueError("a role assignment needs the user id of its holder")
        if role not in _VALID_ROLE_NAMES:
            check_role_name(role)
        if start is not None and start.tzinfo is None:
            require_aware(start, "the start of a role")
        if end is not None and end.tzinfo is None:
            require_aware(end, "the end of a role")
        if start is not None and end is not None and end < start:
            raise ValueError(
                f"the role {role} of {uid} at {area.path} ends "
                f"({end.isoformat()}) before it starts ({start.isoformat()})"
            )
        _SET_UID(self, uid)
        _SET_ROLE(self, role)
        _SET_AREA(self, area)
        _SET_START(self, start)
        _SET_END(self, end)

    @property
    def is_custom(self) -> bool:
        return self.role.startswith(CUSTOM_ROLE_PREFIX)

    def is_current(self, at: datetime) -> bool:
        """In force at ``at``: started (start <= at) and not ended (at < end)."""
        return (self.start is None or self.start <= at) and (self.end is None or at < self.end)

    def overlaps(self, start: datetime | None, end: datetime | None) -> bool:
        """True when this assignment's window and [start, end) share an instant."""
        starts_before_end = end is None or self.start is None or self.start < end
        ends_after_start = start is None or self.end is None or start < self.end
        nonempty = self.start is None or self.end is None or self.start < self.end
        return starts_before_end and ends_after_start and nonempty

    def describe_window(self) -> str:
        """``from 2001-07-01T00:00:00-04:00 until 2001-12-31T00:00:00-05:00`` and the like."""
        return describe_window(self.start, self.end)

    def describe(self) -> str:
        """``st at /msu/c1 from ... until ...``."""
        return f"{self.role} at {self.area.path} {self.describe_window()}"


_SET_UID, _SET_ROLE, _SET_AREA, _SET_START, _SET_END = (
    RoleAssignment.__dict__[name].__set__ for name in ("uid", "role", "area", "start", "end")
)

_LEVEL_FIELDS = ((Level.SYSTEM, "system"), (Level.DOMAIN, "domain_privs"), (Level.COURSE, "course"))


@dataclass(frozen=True, slots=True)
class CustomRole:
    """A course custom role, written in the table's privilege format per level.

    ``CustomRole("msu", "smith", "helproom", course="bre&R:vgr&SCR")`` is held in assignments as
    ``cr/msu/smith/helproom``. Whether its privileges fit the template rows ``cr:s``, ``cr:d``
    and ``cr:c`` is checked by :func:`coursegate.roles.check_custom_role`, not here.
    """

    domain: str
    author: str
    name: str
    system: str = ""
    domain_privs: str = ""
    course: str = ""
    _parsed: tuple[Mapping[str, str], Mapping[str, str], Mapping[str, str]] = field(
        init=False, compare=False, repr=False, hash=False
    )

    def __post_init__(self) -> None:
        _check_domain(self.domain)
        check_uid(self.author, "author's user id")
        if not _CUSTOM_NAME.fullmatch(self.name):
            raise ValueError(
                f"{self.name!r} is not a valid custom role name: use letters, digits, '_' and '-'"
            )
        parsed: list[Mapping[str, str]] = []
        for _level, attribute in _LEVEL_FIELDS:
            text = getattr(self, attribute)
            try:
                parsed.append(MappingProxyType(parse_privilege_list(text)))
            except ValueError as error:
                raise ValueError(f"{attribute}: {error}") from None
        object.__setattr__(self, "_parsed", (parsed[0], parsed[1], parsed[2]))

    @property
    def role_name(self) -> str:
        """The name used in assignments: ``cr/<domain>/<author>/<name>``."""
        return custom_role_name(self.domain, self.author, self.name)

    def privileges_at(self, level: Level) -> Mapping[str, str]:
        """The privileges this role defines at ``level`` (code -> condition letters)."""
        if level is Level.SYSTEM:
            return self._parsed[0]
        if level is Level.DOMAIN:
            return self._parsed[1]
        return self._parsed[2]

    def rows_by_level(self) -> tuple[Mapping[str, str], Mapping[str, str], Mapping[str, str]]:
        """The system, domain and course privileges, in that order."""
        return self._parsed

    @staticmethod
    def field_for(level: Level) -> str:
        """The field holding ``level``'s privileges (``course`` for ``c``)."""
        return dict(_LEVEL_FIELDS)[level]


@dataclass(frozen=True, slots=True)
class SelectedRole:
    """One role chosen for a session (instead of cumulative privileges): a role and its area."""

    role: str
    area: Area

    def describe(self) -> str:
        return f"{self.role} at {self.area.path}"
