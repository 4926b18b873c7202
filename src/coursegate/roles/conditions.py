"""Deciding a permission against its conditions: the :class:`CheckContext` they depend on
(authentication kind, course preferences, resource rules, locks, session state) and
:func:`evaluate`. Missing context denies: the decision never guesses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from coursegate.roles.areas import Area
from coursegate.roles.model import AuthKind, require_aware
from coursegate.roles.permission import Decision, Permission, Source
from coursegate.roles.privileges import AUTH_CONDITIONS, FULL, Condition
from coursegate.roles.table import CUSTOM_ROLE_PREFIX, RoleTable

__all__ = [
    "AUTH_CONDITION",
    "CheckContext",
    "CoursePreferences",
    "Locks",
    "ResourceRule",
    "ResourceVerdict",
    "SessionState",
    "evaluate",
]


AUTH_CONDITION: Mapping[AuthKind, str] = {
    AuthKind.UNIX: Condition.UNIX.value,
    AuthKind.INTERNAL: Condition.INTERNAL.value,
    AuthKind.KERBEROS: Condition.KERBEROS.value,
    AuthKind.EXTERNAL: Condition.EXTERNAL.value,
}
"""The condition letter that lets a grant privilege reach users of each authentication kind."""


@dataclass(frozen=True, slots=True)
class ResourceVerdict:
    """What a resource's own access rules say about one use of a privilege."""

    allowed: bool
    reason: str


class ResourceRule(Protocol):
    """The resource's own access rules (condition R). The core plugs its assessment decisions in
    through this: called with the effective user, the privilege, the area and the instant."""

    def __call__(
        self, uid: str, privilege: str, area: Area, at: datetime
    ) -> ResourceVerdict:  # pragma: no cover - protocol
        ...


@dataclass(frozen=True, slots=True, eq=False)
class CoursePreferences:
    """Condition C: privileges a course denies to roles (``{"vgr": {"ta"}}``) or to users."""

    denied_to_roles: Mapping[str, frozenset[str]] = field(default_factory=dict)
    denied_to_users: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, eq=False)
class Locks:
    """Condition L: privileges locked in the area, or the resource locked as a whole."""

    privileges: frozenset[str] = frozenset()
    resource_locked: bool = False
    reason: str = ""


@dataclass(frozen=True, slots=True, eq=False)
class SessionState:
    """Condition X: whether the user's session state allows the use (e.g. conditional
    resources whose condition the user has met)."""

    conditions_met: bool
    reason: str = ""


@dataclass(frozen=True, slots=True, eq=False)
class CheckContext:
    """Everything conditions may depend on. A condition whose context is missing denies."""

    target_auth: AuthKind | None = None
    course_preferences: CoursePreferences | None = None
    locks: Locks | None = None
    resource: ResourceRule | None = None
    session: SessionState | None = None


def evaluate(
    permission: Permission,
    context: CheckContext,
    *,
    at: datetime,
    table: RoleTable | None = None,
) -> Decision:
    """Decide a permission against ``context``.

    ``F`` allows. ``""`` denies. Otherwise each contributing role is tried on its own: the use
    is allowed when every condition of at least one role holds (holding two roles never gives
    less than holding one of them). Conditions whose context is missing deny.
    """
    require_aware(at, "at")
    names = table if table is not None else RoleTable.default()
    if permission.value == FULL:
        return Decision(True, permission, ("allowed: F needs no further checks",))
    if not permission.value:
        return Decision(False, permission, ("denied: no role in force gives this privilege",))
    verdicts: dict[str, ResourceVerdict] = {}
    reasons: list[str] = []
    passed = False
    for source in permission.sources:
        ok, why = _check_source(
            source, permission, context=context, at=at, table=names, verdicts=verdicts
        )
        label = f"{source.role} at {source.held_at.path} ({source.permission})"
        reasons.append(f"{label}: {'holds' if ok else 'fails'}: {why}")
        passed = passed or ok
    summary = (
        "allowed: the conditions of at least one role hold"
        if passed
        else "denied: no role's conditions all hold"
    )
    return Decision(passed, permission, (summary, *reasons))


def _check_source(
    source: Source,
    permission: Permission,
    *,
    context: CheckContext,
    at: datetime,
    table: RoleTable,
    verdicts: dict[str, ResourceVerdict],
) -> tuple[bool, str]:
    """Whether every condition of one contributing role holds, and why (or why not)."""
    letters = source.conditions
    if not letters:
        return True, "no restrictions"
    notes: list[str] = []
    auth = [letter for letter in letters if letter in AUTH_CONDITIONS]
    if auth:
        ok, why = _check_target_auth(auth, context.target_auth, table)
        if not ok:
            return False, why
        notes.append(why)
    for letter in letters:
        if letter in AUTH_CONDITIONS:
            continue
        if letter == Condition.COURSE_PREFERENCES:
            ok, why = _check_course_preferences(
                source, permission, context.course_preferences, table
            )
        elif letter == Condition.CUSTOM_ROLE:
            ok, why = _check_custom_role(source)
        elif letter == Condition.RESOURCE:
            ok, why = _check_resource(permission, context.resource, at, verdicts)
        elif letter == Condition.UNLESS_LOCKED:
            ok, why = _check_locks(permission.privilege, context.locks)
        elif letter == Condition.SESSION_STATE:
            ok, why = _check_session(context.session)
        else:
            continue
        if not ok:
            return False, why
        notes.append(why)
    return True, "; ".join(notes)


# Each check below answers (holds, why): why it fails, or what was found when it holds.


def _check_target_auth(
    auth: list[str], target_auth: AuthKind | None, table: RoleTable
) -> tuple[bool, str]:
    """U/I/K/E: the grant reaches the target user only for the listed authentication kinds."""
    allowed_kinds = " or ".join(table.name(letter) for letter in auth)
    if target_auth is None:
        return False, (
            f"it reaches only users who are {allowed_kinds}, and the target user's "
            "authentication kind was not given"
        )
    letter = AUTH_CONDITION[target_auth]
    if letter not in auth:
        return False, (
            f"it reaches only users who are {allowed_kinds}; the target user is "
            f"{table.name(letter)}"
        )
    return True, f"the target user is {table.name(letter)}"


def _check_course_preferences(
    source: Source,
    permission: Permission,
    preferences: CoursePreferences | None,
    table: RoleTable,
) -> tuple[bool, str]:
    """C: the course may deny the privilege to the role or to the user."""
    privilege = permission.privilege
    if preferences is None:
        return False, "it depends on the course preferences, which were not supplied"
    if source.role in preferences.denied_to_roles.get(privilege, frozenset()):
        return False, f"the course preferences deny {privilege} to {table.describe(source.role)}"
    if permission.uid in preferences.denied_to_users.get(privilege, frozenset()):
        return False, f"the course preferences deny {privilege} to {permission.uid}"
    return True, "the course preferences do not deny it"


def _check_custom_role(source: Source) -> tuple[bool, str]:
    """S: only a custom role's definition in force can carry it."""
    if not source.role.startswith(CUSTOM_ROLE_PREFIX):
        return False, (
            f"S (custom role settings) applies only to custom roles; {source.role} is not one"
        )
    return True, "the custom role's definition in force gives it"


def _check_resource(
    permission: Permission,
    rule: ResourceRule | None,
    at: datetime,
    verdicts: dict[str, ResourceVerdict],
) -> tuple[bool, str]:
    """R: the resource's own access rules, asked once per privilege and decision."""
    if rule is None:
        return False, (
            "it depends on the resource's own access rules, and no resource rule was supplied"
        )
    privilege = permission.privilege
    verdict = verdicts.get(privilege)
    if verdict is None:
        verdict = rule(permission.uid, privilege, permission.area, at)
        verdicts[privilege] = verdict
    if not verdict.allowed:
        return False, f"the resource denies it: {verdict.reason}"
    return True, f"the resource allows it: {verdict.reason}"


def _check_locks(privilege: str, locks: Locks | None) -> tuple[bool, str]:
    """L: denied while the privilege or the resource is locked."""
    if locks is None:
        return False, "it is denied while locked, and the lock state was not supplied"
    if privilege in locks.privileges:
        extra = f": {locks.reason}" if locks.reason else ""
        return False, f"{privilege} is locked here{extra}"
    if locks.resource_locked:
        extra = f": {locks.reason}" if locks.reason else ""
        return False, f"the resource is locked{extra}"
    return True, "not locked"


def _check_session(session: SessionState | None) -> tuple[bool, str]:
    """X: the user's session state must allow the use."""
    if session is None:
        return False, "it depends on the session state, which was not supplied"
    extra = f": {session.reason}" if session.reason else ""
    if not session.conditions_met:
        return False, f"the session state does not allow it{extra}"
    return True, f"the session state allows it{extra}"
