"""coursegate.roles: who may do what, where, and when — the one place that decides it.

A pure, typed package (no I/O but its bundled table, no clock: every question takes ``at``):

* :class:`Area` and :func:`walk` — system ``/``, domain ``/msu/``, course ``/msu/c1``,
  section ``/msu/c1/s1``;
* :class:`RoleTable` — the privilege table (``roles.tab``) with plain names (``rolesplain.tab``);
* :class:`RoleIndex` — users, assignments and custom roles compiled into per-user lookups;
  :func:`allowed` gives the merged permission before conditions, :func:`evaluate` decides it
  against a :class:`CheckContext`;
* :func:`assign`, :func:`revoke`, :func:`delete` — role changes with the right to make them;
* :func:`define_custom_role` — custom roles within the template rows;
* :func:`view_as` and :class:`Actor` — acting as a TA or student, with both users recorded.

Importing this package does not import pydantic; request models for the command line and the
HTTP API live in :mod:`coursegate.cli.roles_requests`.
"""

from coursegate.roles.allowed import RoleIndex, allowed, check
from coursegate.roles.areas import Area, AreaError, AreaKind, walk
from coursegate.roles.conditions import (
    AUTH_CONDITION,
    CheckContext,
    CoursePreferences,
    Locks,
    ResourceRule,
    ResourceVerdict,
    SessionState,
    evaluate,
)
from coursegate.roles.custom_roles import DefineResult, check_custom_role, define_custom_role
from coursegate.roles.grants import GrantResult, assign, delete, revoke
from coursegate.roles.impersonation import (
    VIEW_AS_RANK,
    Actor,
    ViewAsResult,
    allowed_as,
    check_as,
    view_as,
)
from coursegate.roles.model import (
    AuthKind,
    CustomRole,
    RoleAssignment,
    SelectedRole,
    User,
    custom_role_name,
    parse_custom_role_name,
)
from coursegate.roles.permission import Decision, Permission, Source
from coursegate.roles.persons import (
    ACCOUNT_LEVEL,
    Authority,
    account_level,
    may_see_person,
    over_account,
)
from coursegate.roles.privileges import (
    ADMINISTRATOR_ROLES,
    FULL,
    Condition,
    Level,
    Privilege,
    StandardRole,
    merge_conditions,
)
from coursegate.roles.records import DataProblem, RoleDataError
from coursegate.roles.table import RoleTable, TableError, TemplateViolation

__all__ = [
    "ACCOUNT_LEVEL",
    "ADMINISTRATOR_ROLES",
    "AUTH_CONDITION",
    "FULL",
    "VIEW_AS_RANK",
    "Actor",
    "Area",
    "AreaError",
    "AreaKind",
    "AuthKind",
    "Authority",
    "CheckContext",
    "Condition",
    "CoursePreferences",
    "CustomRole",
    "DataProblem",
    "Decision",
    "DefineResult",
    "GrantResult",
    "Level",
    "Locks",
    "Permission",
    "Privilege",
    "ResourceRule",
    "ResourceVerdict",
    "RoleAssignment",
    "RoleDataError",
    "RoleIndex",
    "RoleTable",
    "SelectedRole",
    "SessionState",
    "Source",
    "StandardRole",
    "TableError",
    "TemplateViolation",
    "User",
    "ViewAsResult",
    "account_level",
    "allowed",
    "allowed_as",
    "assign",
    "check",
    "check_as",
    "check_custom_role",
    "custom_role_name",
    "define_custom_role",
    "delete",
    "evaluate",
    "may_see_person",
    "merge_conditions",
    "over_account",
    "parse_custom_role_name",
    "revoke",
    "view_as",
    "walk",
]
