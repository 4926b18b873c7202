"""Names for the codes of the role table: levels, conditions, privileges and standard roles.

The table itself (``data/roles.tab``) speaks in LON-CAPA's short codes; code that calls
:func:`coursegate.roles.allowed` should speak in these names instead, e.g.
``Privilege.VIEW_GRADES`` (code ``vgr``). Every name here is a ``str``, so a name and its code
are interchangeable. A deployment that adds privilege codes to its table can use the plain
codes; nothing here limits which codes exist.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "ADMINISTRATOR_ROLES",
    "AUTH_CONDITIONS",
    "FULL",
    "Condition",
    "Level",
    "Privilege",
    "StandardRole",
    "merge_conditions",
    "normalize_conditions",
]


class Level(StrEnum):
    """The extent a row of the table applies to (the part after ``role:`` in roles.tab)."""

    SYSTEM = "s"
    DOMAIN = "d"
    COURSE = "c"


class Condition(StrEnum):
    """A condition letter on a privilege (``vgr&CR``). ``F`` (no restrictions) is not a
    condition: a privilege without letters is full."""

    UNIX = "U"
    """Grant privileges only: the target user is UNIX authenticated."""
    INTERNAL = "I"
    """Grant privileges only: the target user is internally authenticated."""
    KERBEROS = "K"
    """Grant privileges only: the target user is Kerberos authenticated."""
    EXTERNAL = "E"
    """Grant privileges only: the target user logs in through an external identity provider.
    Not in the seed's table; a deployment adds it to grant rows that may reach such users."""
    COURSE_PREFERENCES = "C"
    """The course may deny the privilege to a role or to a user."""
    CUSTOM_ROLE = "S"
    """According to the custom role's own settings (its definition)."""
    RESOURCE = "R"
    """According to the resource's own access rules (for assessments: the core's decision)."""
    UNLESS_LOCKED = "L"
    """Denied while the resource or privilege is locked."""
    SESSION_STATE = "X"
    """According to the user's session state (e.g. conditional resources)."""


FULL = "F"
"""The merged permission of a privilege held without restrictions."""

AUTH_CONDITIONS = frozenset("UIKE")
"""Letters that restrict a grant privilege by the target user's authentication kind."""


class Privilege(StrEnum):
    """The privileges of the seed's table (plus ``dro``), by name. Codes are LON-CAPA's."""

    GRANT_SUPERUSER = "csu"
    GRANT_DOMAIN_COORDINATOR = "cdc"
    GRANT_COURSE_COORDINATOR = "ccc"
    GRANT_INSTRUCTOR = "cin"
    GRANT_TEACHING_ASSISTANT = "cta"
    GRANT_EXAM_PROCTOR = "cep"
    GRANT_CUSTOM_ROLE = "ccr"
    GRANT_STUDENT = "cst"
    GRANT_ADMINISTRATOR = "cad"
    GRANT_LIBRARIAN = "cli"
    GRANT_AUTHOR = "cau"
    GRANT_DOMAIN_GUEST = "cdg"
    GRANT_CO_AUTHOR = "cca"
    CREATE_CUSTOM_ROLE = "mcr"
    MODIFY_AUTHENTICATION = "mau"
    BROWSE_RESOURCES = "bre"
    ASSEMBLE_RESOURCES = "are"
    COPY_RESOURCES = "cre"
    EDIT_RESOURCES = "ere"
    MODIFY_METADATA = "mme"
    VIEW_GRADES = "vgr"
    MODIFY_GRADES = "mgr"
    ANONYMOUS_STATISTICS = "gan"
    DISABLE_COMMUNICATION = "dcm"
    SEND_MAIL = "sma"
    SEND_BROADCAST = "srm"
    POST_TO_CHAT = "pch"
    DELETE_MESSAGES = "dch"
    POST_ANONYMOUSLY = "pac"
    REVEAL_ANONYMOUS = "rin"
    LOCK_ASSESSMENTS = "las"
    SET_PARAMETERS = "opa"
    ASSUME_IDENTITY = "ain"
    DELETE_ROLE = "dro"


class StandardRole(StrEnum):
    """The roles of the seed's table, by name."""

    SUPERUSER = "su"
    DOMAIN_COORDINATOR = "dc"
    COURSE_COORDINATOR = "cc"
    INSTRUCTOR = "in"
    TEACHING_ASSISTANT = "ta"
    EXAM_PROCTOR = "ep"
    CUSTOM = "cr"
    STUDENT = "st"
    ADMINISTRATOR = "ad"
    LIBRARIAN = "li"
    AUTHOR = "au"
    DOMAIN_GUEST = "dg"
    CO_AUTHOR = "ca"


ADMINISTRATOR_ROLES = frozenset(
    {StandardRole.SUPERUSER, StandardRole.DOMAIN_COORDINATOR, StandardRole.ADMINISTRATOR}
)
"""Roles whose holders are never impersonated."""


def normalize_conditions(letters: str) -> str:
    """Condition letters without repeats, in the order they first appear (``"RLRXL"`` ->
    ``"RLX"``), so a single row's letters come back exactly as the table writes them."""
    return "".join(dict.fromkeys(letters))


def merge_conditions(first: str, second: str) -> str:
    """Merge two permissions the way the table defines it: ``F`` wins, otherwise the condition
    letters of both are joined. ``""`` (no privilege) merges as the identity."""
    if FULL in (first, second):
        return FULL
    if not first:
        return second
    if not second:
        return first
    return normalize_conditions(first + second)
