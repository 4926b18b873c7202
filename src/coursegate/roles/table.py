"""The privilege table: which role holds which privilege at which level, and their plain names.

Two text formats, both LON-CAPA's:

``roles.tab``
    one row per role and level: ``role:level priv&conditions:priv:...``, e.g.
    ``ta:c bre&RL:vgr&CR:srm``. A privilege without ``&`` is full (``F``). Blank lines and lines
    starting with ``#`` are ignored.
``rolesplain.tab``
    one ``code:plain English`` line per level, condition, role and privilege code.

:meth:`RoleTable.default` loads the tables shipped in ``coursegate/roles/data``; a deployment
replaces them with :meth:`RoleTable.parse` or extends them with :meth:`RoleTable.extended`
(a row for the same ``role:level`` replaces the shipped row; new roles and privilege codes are
added). Every code must have a plain-English name, because refusals and ``coursegate roles
table`` speak in those names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType

from coursegate.roles.areas import AreaKind
from coursegate.roles.privileges import (
    AUTH_CONDITIONS,
    FULL,
    Condition,
    Level,
    StandardRole,
    normalize_conditions,
)

__all__ = [
    "COURSE_WIDE_ONLY_ROLES",
    "CUSTOM_ROLE_PREFIX",
    "CUSTOM_ROLE_TEMPLATE",
    "CombinedPrivileges",
    "Levels",
    "RoleTable",
    "TableError",
    "TemplateViolation",
    "combine_privileges",
    "format_privilege_list",
    "parse_privilege_list",
    "privileges_by_level",
]

CUSTOM_ROLE_PREFIX = "cr/"
"""Custom roles are named ``cr/<domain>/<author>/<name>`` in assignments."""

CUSTOM_ROLE_TEMPLATE = StandardRole.CUSTOM.value
"""The role code whose rows (``cr:s``, ``cr:d``, ``cr:c``) bound what a custom role may hold."""

COURSE_WIDE_ONLY_ROLES = frozenset({StandardRole.COURSE_COORDINATOR.value})
"""Roles held for a whole course instance, never for one section."""

_ROLE_CODE = re.compile(r"[a-z][a-z0-9]{0,15}")
_PRIVILEGE_CODE = re.compile(r"[a-z][a-z0-9]{1,15}")
_PLAIN_CODE = re.compile(r"[A-Za-z][A-Za-z0-9]{0,15}")
_CONDITION_LETTERS = frozenset(condition.value for condition in Condition)
_LEVEL_ORDER = (Level.SYSTEM, Level.DOMAIN, Level.COURSE)
_RESERVED_ROLES = frozenset({"cm"})

_COMBINED_LIMIT = 65_536
_EMPTY: Mapping[str, str] = MappingProxyType({})
_NO_ROWS = (_EMPTY, _EMPTY, _EMPTY)


def privileges_by_level(
    rows: Iterable[Mapping[str, str] | None],
) -> dict[str, tuple[tuple[Level, str], ...]]:
    """A role's system, domain and course rows turned around: each privilege with the (level,
    condition letters) of every row that has it, system row first."""
    found: dict[str, list[tuple[Level, str]]] = {}
    for level, row in zip(_LEVEL_ORDER, rows, strict=True):
        for privilege, letters in (row or {}).items():
            found.setdefault(privilege, []).append((level, letters))
    return {privilege: tuple(levels) for privilege, levels in found.items()}


Levels = tuple[tuple[Level, str], ...]
"""The (level, condition letters) of each row of a role that has a privilege, system row first."""
CombinedPrivileges = Mapping[str, tuple[tuple[int, Levels], ...]]
"""For a sequence of roles: each privilege one of them has, with the position in the sequence of
every role that has it and that role's :data:`Levels`."""


def combine_privileges(
    roles: Sequence[str], privileges_of: Callable[[str], Mapping[str, Levels]]
) -> dict[str, tuple[tuple[int, Levels], ...]]:
    """The :data:`CombinedPrivileges` of ``roles`` (``privileges_of`` gives each role's)."""
    found: dict[str, list[tuple[int, Levels]]] = {}
    for position, role in enumerate(roles):
        for privilege, levels in privileges_of(role).items():
            found.setdefault(privilege, []).append((position, levels))
    return {privilege: tuple(held) for privilege, held in found.items()}


class TableError(ValueError):
    """A role table could not be read; the message names the file and line."""

    def __init__(self, message: str, *, source: str, line: int | None = None) -> None:
        where = source if line is None else f"{source}, line {line}"
        super().__init__(f"{where}: {message}")
        self.source = source
        self.line = line
        self.reason = message


def parse_privilege_list(text: str) -> dict[str, str]:
    """Read ``bre&R:vgr&SCR:srm`` into ``{"bre": "R", "vgr": "SCR", "srm": ""}``.

    ``""`` as conditions means full (no restrictions). Raises ValueError with a plain message.
    """
    privileges: dict[str, str] = {}
    if not text.strip():
        return privileges
    for item in text.strip().split(":"):
        code, amp, letters = item.partition("&")
        if not _PRIVILEGE_CODE.fullmatch(code):
            raise ValueError(
                f"{item!r} is not a privilege: a privilege code is 2 to 16 lower-case letters "
                "or digits starting with a letter, optionally followed by &conditions"
            )
        if amp and not letters:
            raise ValueError(f"{item!r} has '&' but no condition letters after it")
        if letters == FULL:
            letters = ""
        unknown = sorted(set(letters) - _CONDITION_LETTERS)
        if unknown:
            known = ", ".join(condition.value for condition in Condition)
            raise ValueError(
                f"{item!r} uses unknown condition letter(s) {', '.join(unknown)}; "
                f"the known letters are {known} (and F alone for no restrictions)"
            )
        if code in privileges:
            raise ValueError(f"privilege {code!r} is listed twice")
        privileges[code] = normalize_conditions(letters)
    return privileges


def format_privilege_list(privileges: Mapping[str, str]) -> str:
    """The inverse of :func:`parse_privilege_list`."""
    return ":".join(
        f"{code}&{letters}" if letters else code for code, letters in privileges.items()
    )


@dataclass(frozen=True, slots=True)
class TemplateViolation:
    """A privilege or condition of a custom role that its template row does not allow."""

    level: Level
    privilege: str
    message: str

    @property
    def code(self) -> str:
        """``c:vgr``: the level and the privilege, as LON-CAPA reports a refusal."""
        return f"{self.level.value}:{self.privilege}"


class RoleTable:
    """An immutable, validated privilege table with plain-English names."""

    __slots__ = (
        "_by_role",
        "_combined",
        "_granted_by",
        "_kinds",
        "_names",
        "_order",
        "_privileges",
        "_privileges_by_role",
        "_role_set",
        "_rows",
    )

    def __init__(
        self,
        rows: Mapping[tuple[str, Level], Mapping[str, str]],
        names: Mapping[str, str],
        *,
        source: str = "role table",
    ) -> None:
        self._rows: dict[tuple[str, Level], Mapping[str, str]] = {
            (role, Level(level)): MappingProxyType(dict(privileges))
            for (role, level), privileges in rows.items()
        }
        self._names: Mapping[str, str] = MappingProxyType(dict(names))
        order: list[str] = []
        for role, _level in self._rows:
            if role not in order:
                order.append(role)
        self._order = tuple(order)
        self._role_set = frozenset(order)
        self._by_role: dict[str, tuple[Mapping[str, str], Mapping[str, str], Mapping[str, str]]] = {
            role: (
                self._rows.get((role, Level.SYSTEM), _EMPTY),
                self._rows.get((role, Level.DOMAIN), _EMPTY),
                self._rows.get((role, Level.COURSE), _EMPTY),
            )
            for role in order
        }
        self._privileges = frozenset(
            code for privileges in self._rows.values() for code in privileges
        ) | frozenset(
            code
            for code in self._names
            if len(code) > 1
            and code.islower()
            and code not in self._order
            and code not in _RESERVED_ROLES
        )
        self._kinds: dict[str, frozenset[AreaKind]] = {}
        self._granted_by: dict[str, str] = {
            f"c{role}": role for role in self._order if f"c{role}" in self._privileges
        }
        self._privileges_by_role: dict[str, dict[str, Levels]] = {}
        self._combined: dict[tuple[str, ...], CombinedPrivileges] = {}
        self._validate(source)

    def _validate(self, source: str) -> None:
        for role, _level in self._rows:
            if not _ROLE_CODE.fullmatch(role):
                raise TableError(f"{role!r} is not a role code", source=source)
            if role in _RESERVED_ROLES:
                raise TableError(
                    f"{role!r} is reserved for cumulative privileges and cannot be a role",
                    source=source,
                )
        used: set[str] = set(self._order)
        for privileges in self._rows.values():
            for code, letters in privileges.items():
                used.add(code)
                used.update(letters)
        missing = sorted(code for code in used if code not in self._names)
        if missing:
            raise TableError(
                "no plain-English name in rolesplain.tab for: " + ", ".join(missing),
                source=source,
            )

    # -- loading ------------------------------------------------------------------------------

    @classmethod
    def parse(
        cls,
        roles_tab: str,
        rolesplain_tab: str,
        *,
        roles_source: str = "roles.tab",
        plain_source: str = "rolesplain.tab",
    ) -> RoleTable:
        """Read a table from the text of ``roles.tab`` and ``rolesplain.tab``."""
        return cls(
            _parse_rows(roles_tab, roles_source),
            _parse_names(rolesplain_tab, plain_source),
            source=roles_source,
        )

    @staticmethod
    def default() -> RoleTable:
        """The table shipped with coursegate (the seed's table plus ``dro`` and ``ain``)."""
        return _default_table()

    def extended(
        self,
        roles_tab: str = "",
        rolesplain_tab: str = "",
        *,
        roles_source: str = "roles.tab",
        plain_source: str = "rolesplain.tab",
    ) -> RoleTable:
        """A copy with rows and names added; a row for an existing ``role:level`` replaces it."""
        rows = dict(self._rows)
        rows.update(_parse_rows(roles_tab, roles_source))
        names = dict(self._names)
        names.update(_parse_names(rolesplain_tab, plain_source))
        return RoleTable(rows, names, source=roles_source)

    # -- questions ----------------------------------------------------------------------------

    @property
    def roles(self) -> tuple[str, ...]:
        """Role codes in the order of the table (``cr`` is the custom-role template)."""
        return self._order

    @property
    def privileges(self) -> frozenset[str]:
        """Every privilege code the table knows (in a row or with a plain name)."""
        return self._privileges

    @property
    def names(self) -> Mapping[str, str]:
        """Every code with its plain-English name."""
        return self._names

    def has_role(self, role: str) -> bool:
        return role in self._role_set

    def row(self, role: str, level: Level) -> Mapping[str, str]:
        """The privileges of ``role`` at ``level`` (code -> condition letters, ``""`` = full)."""
        return self._rows.get((role, level), _EMPTY)

    def rows_by_level(
        self, role: str
    ) -> tuple[Mapping[str, str], Mapping[str, str], Mapping[str, str]]:
        """The system, domain and course rows of ``role`` (empty where it has none)."""
        return self._by_role.get(role, _NO_ROWS)

    def role_privileges(self, role: str) -> Mapping[str, Levels]:
        """Each privilege of ``role`` with the (level, condition letters) of every row that has
        it, system row first: what a check looks up. Made once per table and role."""
        found = self._privileges_by_role.get(role)
        if found is None:
            found = self._privileges_by_role[role] = privileges_by_level(self.rows_by_level(role))
        return found

    def combined_privileges(self, roles: tuple[str, ...]) -> CombinedPrivileges:
        """The :data:`CombinedPrivileges` of a sequence of roles of the table (a user's roles,
        record by record): made once per table and sequence, so that a check finds the records
        whose role has a privilege with one lookup."""
        found = self._combined.get(roles)
        if found is None:
            if len(self._combined) >= _COMBINED_LIMIT:
                self._combined.clear()
            found = self._combined[roles] = combine_privileges(roles, self.role_privileges)
        return found

    def rows(self) -> Iterable[tuple[str, Level, Mapping[str, str]]]:
        """Every row, in table order."""
        for role in self._order:
            for level in _LEVEL_ORDER:
                if (role, level) in self._rows:
                    yield role, level, self._rows[(role, level)]

    def levels_of(self, role: str) -> tuple[Level, ...]:
        return tuple(level for level in _LEVEL_ORDER if (role, level) in self._rows)

    def holding_kinds(self, role: str) -> frozenset[AreaKind]:
        """Where a role may be held: roles with course privileges (and custom roles) in a course
        or section (coordinators: course only); others in a domain if they have domain
        privileges, otherwise in the system."""
        kinds = self._kinds.get(role)
        if kinds is None:
            kinds = self._holding_kinds(role)
            if role.startswith(CUSTOM_ROLE_PREFIX) or self.has_role(role):
                self._kinds[role] = kinds
        return kinds

    def _holding_kinds(self, role: str) -> frozenset[AreaKind]:
        if role.startswith(CUSTOM_ROLE_PREFIX):
            return frozenset({AreaKind.COURSE, AreaKind.SECTION})
        levels = self.levels_of(role)
        if Level.COURSE in levels:
            if role in COURSE_WIDE_ONLY_ROLES:
                return frozenset({AreaKind.COURSE})
            return frozenset({AreaKind.COURSE, AreaKind.SECTION})
        if Level.DOMAIN in levels:
            return frozenset({AreaKind.DOMAIN})
        return frozenset({AreaKind.SYSTEM})

    def grant_privilege(self, role: str) -> str:
        """The privilege needed to grant or revoke ``role``: ``c`` + code, ``ccr`` for custom."""
        if role.startswith(CUSTOM_ROLE_PREFIX):
            return f"c{StandardRole.CUSTOM.value}"
        return f"c{role}"

    def granted_role(self, privilege: str) -> str | None:
        """The role a grant privilege grants (``cst`` -> ``st``), or None for other privileges."""
        return self._granted_by.get(privilege)

    # -- custom-role template ------------------------------------------------------------------

    def template_violations(
        self, privileges: Mapping[Level, Mapping[str, str]]
    ) -> list[TemplateViolation]:
        """Every privilege or condition outside the template rows ``cr:s``, ``cr:d``, ``cr:c``.

        A custom role may hold a privilege only if the template row of that level lists it, and
        may write only condition letters the template lists for it (the template's letters
        always apply, see :meth:`apply_template`).
        """
        violations: list[TemplateViolation] = []
        for level in _LEVEL_ORDER:
            template = self.row(CUSTOM_ROLE_TEMPLATE, level)
            extent = self.name(level.value)
            for code, letters in privileges.get(level, _EMPTY).items():
                if code not in template:
                    allowed = ", ".join(template) if template else "none at all"
                    violations.append(
                        TemplateViolation(
                            level,
                            code,
                            f"{self.describe(code)} is not in the custom-role template "
                            f"{CUSTOM_ROLE_TEMPLATE}:{level.value} ({extent}); "
                            f"the template allows: {allowed}",
                        )
                    )
                    continue
                extra = "".join(letter for letter in letters if letter not in template[code])
                if extra:
                    allowed_letters = template[code] or "none (the privilege is full)"
                    violations.append(
                        TemplateViolation(
                            level,
                            code,
                            f"condition {extra} ({self.describe_conditions(extra)}) on "
                            f"{self.describe(code)} is outside the custom-role template "
                            f"{CUSTOM_ROLE_TEMPLATE}:{level.value}, which allows the letters "
                            f"{allowed_letters}",
                        )
                    )
        return violations

    def apply_template(
        self, privileges: Mapping[Level, Mapping[str, str]]
    ) -> dict[Level, dict[str, str]]:
        """The privileges with the template's condition letters (they always apply). Call it on
        privileges without :meth:`template_violations`; others are left as they are."""
        applied: dict[Level, dict[str, str]] = {}
        for level in _LEVEL_ORDER:
            template = self.row(CUSTOM_ROLE_TEMPLATE, level)
            applied[level] = {
                code: template.get(code, letters)
                for code, letters in privileges.get(level, _EMPTY).items()
            }
        return applied

    # -- plain English ------------------------------------------------------------------------

    def name(self, code: str) -> str:
        """The plain-English name of a code, or the code itself when it has none."""
        if code.startswith(CUSTOM_ROLE_PREFIX):
            return f"custom role {code[len(CUSTOM_ROLE_PREFIX) :]}"
        return self._names.get(code, code)

    def describe(self, code: str) -> str:
        """``View grades (vgr)``."""
        if code.startswith(CUSTOM_ROLE_PREFIX):
            return f"Custom role {code}"
        return f"{self.name(code)} ({code})"

    def describe_conditions(self, letters: str) -> str:
        """``according to course preferences; according to resource settings``; auth letters
        are grouped as ``only for users who are UNIX authenticated or Kerberos authenticated``."""
        if not letters:
            return self._names.get(FULL, "no restrictions")
        auth = [self.name(letter) for letter in letters if letter in AUTH_CONDITIONS]
        other = [self.name(letter) for letter in letters if letter not in AUTH_CONDITIONS]
        parts: list[str] = []
        if auth:
            parts.append("only for users who are " + " or ".join(auth))
        parts.extend(other)
        return "; ".join(parts)

    # -- writing ------------------------------------------------------------------------------

    def to_roles_tab(self) -> str:
        """The table in roles.tab format (without comments)."""
        return "".join(
            f"{role}:{level.value} {format_privilege_list(privileges)}".rstrip() + "\n"
            for role, level, privileges in self.rows()
        )

    def to_rolesplain_tab(self) -> str:
        return "".join(f"{code}:{text}\n" for code, text in self._names.items())


def _content_lines(text: str) -> Iterable[tuple[int, str]]:
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line and not line.startswith("#"):
            yield number, line


def _parse_rows(text: str, source: str) -> dict[tuple[str, Level], Mapping[str, str]]:
    rows: dict[tuple[str, Level], Mapping[str, str]] = {}
    for number, line in _content_lines(text):
        key, _, body = line.partition(" ")
        role, colon, level_code = key.partition(":")
        if not colon:
            raise TableError(
                f"{key!r} should be role:level, e.g. 'ta:c', followed by the privileges",
                source=source,
                line=number,
            )
        if not _ROLE_CODE.fullmatch(role):
            raise TableError(
                f"{role!r} is not a role code (1 to 16 lower-case letters or digits)",
                source=source,
                line=number,
            )
        try:
            level = Level(level_code)
        except ValueError:
            raise TableError(
                f"{level_code!r} is not a level: use s (system), d (domain) or c (course)",
                source=source,
                line=number,
            ) from None
        if (role, level) in rows:
            raise TableError(
                f"the row {role}:{level.value} appears twice", source=source, line=number
            )
        try:
            rows[(role, level)] = parse_privilege_list(body)
        except ValueError as error:
            raise TableError(str(error), source=source, line=number) from None
    return rows


def _parse_names(text: str, source: str) -> dict[str, str]:
    names: dict[str, str] = {}
    for number, line in _content_lines(text):
        code, colon, plain = line.partition(":")
        if not colon or not plain.strip():
            raise TableError(
                f"{line!r} should be code:plain English name", source=source, line=number
            )
        if not _PLAIN_CODE.fullmatch(code):
            raise TableError(f"{code!r} is not a code", source=source, line=number)
        if code in names:
            raise TableError(f"{code!r} is named twice", source=source, line=number)
        names[code] = plain.strip()
    return names


@cache
def _default_table() -> RoleTable:
    data = resources.files("coursegate.roles") / "data"
    roles_tab = (data / "roles.tab").read_text(encoding="utf-8")
    rolesplain_tab = (data / "rolesplain.tab").read_text(encoding="utf-8")
    return RoleTable.parse(
        roles_tab,
        rolesplain_tab,
        roles_source="coursegate/roles/data/roles.tab",
        plain_source="coursegate/roles/data/rolesplain.tab",
    )
