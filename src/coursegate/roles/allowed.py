"""``allowed``: what a user may do in an area, and why.

Two steps, kept apart as in LON-CAPA:

1. :meth:`RoleIndex.allowed` answers with the merged permission of a privilege *before*
   conditions are evaluated: ``"F"`` (full), ``""`` (no role grants it) or condition letters
   such as ``"CR"``. It is a couple of dictionary lookups on a per-user lookup compiled from the
   user's roles; the answer is a :class:`Permission` that carries its explanation as data.
2. :func:`evaluate` turns a permission into a yes/no :class:`Decision` against an explicit
   :class:`CheckContext`: the target user's authentication kind for grant privileges (U/I/K/E),
   course preferences (C), custom-role settings (S), the resource's own rules (R), locks (L) and
   session state (X). Missing context denies: the decision never guesses.

Grants, revocations, expiries and custom-role edits take effect on the next check: changing a
user's roles drops that user's compiled lookup, and each lookup remembers the instants at which
one of the user's roles starts or ends, so a check at a later (or earlier) time recompiles.
Cumulative answers are also kept in one flat table keyed by (user, area, privilege), valid while
``at`` stays inside the intersection of the cached users' windows and cleared by any change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple, Protocol

from coursegate.roles.areas import Area, AreaKind, walk
from coursegate.roles.model import (
    AuthKind,
    CustomRole,
    RoleAssignment,
    SelectedRole,
    User,
    describe_window,
    require_aware,
)
from coursegate.roles.privileges import (
    AUTH_CONDITIONS,
    FULL,
    Condition,
    Level,
    normalize_conditions,
)
from coursegate.roles.table import (
    CUSTOM_ROLE_PREFIX,
    CUSTOM_ROLE_TEMPLATE,
    RoleTable,
    format_privilege_list,
)

__all__ = [
    "AUTH_CONDITION",
    "CheckContext",
    "CoursePreferences",
    "DataProblem",
    "Decision",
    "Explainer",
    "Locks",
    "Permission",
    "ResourceRule",
    "ResourceVerdict",
    "RoleDataError",
    "RoleIndex",
    "SessionState",
    "Source",
    "allowed",
    "check",
    "evaluate",
]

_BEGINNING = datetime(1, 1, 2, tzinfo=UTC)
_END_OF_TIME = datetime(9999, 12, 30, tzinfo=UTC)
_FAST_LIMIT = 250_000

AUTH_CONDITION: Mapping[AuthKind, str] = {
    AuthKind.UNIX: Condition.UNIX.value,
    AuthKind.INTERNAL: Condition.INTERNAL.value,
    AuthKind.KERBEROS: Condition.KERBEROS.value,
    AuthKind.EXTERNAL: Condition.EXTERNAL.value,
}
"""The condition letter that lets a grant privilege reach users of each authentication kind."""


# -- answers --------------------------------------------------------------------------------------


class Source(NamedTuple):
    """One role's contribution to a permission: the row of the table (or custom role) it came
    from, where the role is held and its window."""

    role: str
    held_at: Area
    level: Level
    conditions: str
    start: datetime | None
    end: datetime | None

    @property
    def permission(self) -> str:
        """``F`` or the condition letters this role alone gives."""
        return self.conditions or FULL


class Explainer(Protocol):
    """Writes out the explanation of a :class:`Permission` from the data it carries."""

    def explain(self, permission: Permission) -> tuple[str, ...]:  # pragma: no cover - protocol
        ...


@dataclass(frozen=True, slots=True)
class _Lines:
    lines: tuple[str, ...]
    then: Explainer | None = None

    def explain(self, permission: Permission) -> tuple[str, ...]:
        rest = self.then.explain(permission) if self.then is not None else ()
        return self.lines + rest


@dataclass(frozen=True, slots=True)
class Permission:
    """The merged permission of one privilege for one user at one area, before conditions.

    ``value`` is ``"F"`` (full), ``""`` (forbidden) or condition letters. ``sources`` are the
    roles that contributed; ``explanation`` says in words how the value came about (it is
    written out when asked for, from the data the deciding rule left behind).
    """

    uid: str
    privilege: str
    area: Area
    value: str
    sources: tuple[Source, ...]
    explainer: Explainer = field(compare=False, repr=False)

    @property
    def granted(self) -> bool:
        """True unless forbidden; conditions may still deny (see :func:`evaluate`)."""
        return self.value != ""

    @property
    def explanation(self) -> tuple[str, ...]:
        """How the value came about, one statement per line."""
        return self.explainer.explain(self)

    def with_note(self, note: str) -> Permission:
        """The same answer with ``note`` as the first line of its explanation."""
        return Permission(
            self.uid,
            self.privilege,
            self.area,
            self.value,
            self.sources,
            _Lines((note,), self.explainer),
        )

    @staticmethod
    def denied(uid: str, privilege: str, area: Area, explanation: Iterable[str]) -> Permission:
        """A forbidden answer with the given explanation."""
        return Permission(uid, privilege, area, "", (), _Lines(tuple(explanation)))


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


@dataclass(frozen=True, slots=True)
class Decision:
    """The yes/no answer after conditions, with the permission it started from and the reason
    each contributing role passed or failed."""

    allowed: bool
    permission: Permission
    reasons: tuple[str, ...]

    @property
    def explanation(self) -> tuple[str, ...]:
        return self.permission.explanation + self.reasons


# -- load errors ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DataProblem:
    """One thing wrong with the users, assignments, custom roles or owners given to an index."""

    collection: str
    position: int
    field: str | None
    message: str

    @property
    def path(self) -> str:
        """A JSON path such as ``$.assignments[0].area``."""
        tail = f".{self.field}" if self.field else ""
        return f"$.{self.collection}[{self.position}]{tail}"


class RoleDataError(ValueError):
    """The records given to a :class:`RoleIndex` are inconsistent; ``problems`` lists each."""

    def __init__(self, problems: Iterable[DataProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__(
            "; ".join(f"{problem.path}: {problem.message}" for problem in self.problems)
        )


# -- the compiled lookup --------------------------------------------------------------------------


_Anchored = tuple[RoleAssignment, Level, Mapping[str, str]]
_LEVELS = (Level.SYSTEM, Level.DOMAIN, Level.COURSE)


class _Compiled:
    """One user's privileges in one scope, valid for ``lo <= at < hi``."""

    __slots__ = (
        "active",
        "barred",
        "by_area",
        "chosen",
        "hi",
        "inactive",
        "index",
        "lo",
        "perms",
        "scope",
    )

    def __init__(self, index: RoleIndex, scope: str, chosen: SelectedRole | None) -> None:
        self.index = index
        self.scope = scope
        self.chosen = chosen
        self.lo = _BEGINNING
        self.hi = _END_OF_TIME
        # area path -> the rows (assignment, level, privileges) anchored there
        self.by_area: dict[str, list[_Anchored]] = {}
        self.perms: dict[str, dict[str, Permission]] = {}
        self.active: list[RoleAssignment] = []
        self.inactive: list[RoleAssignment] = []
        # in force by their window, but a class account may not hold them now: no effect
        self.barred: list[tuple[RoleAssignment, str]] = []

    def explain(self, permission: Permission) -> tuple[str, ...]:
        if permission.granted:
            return self.index._explain_granted(permission, self)
        return self.index._why_not(permission.uid, self, permission.privilege, permission.area)


class RoleIndex:
    """Users, their role assignments and custom roles, compiled into per-user lookups.

    Pure and in memory: it never reads a clock or a file. Every question takes ``at``. Changing
    a user's roles (:meth:`add_assignment`, :meth:`replace_assignment`,
    :meth:`remove_assignments`) or a custom role (:meth:`define_custom_role`) takes effect on the
    next check. Not thread-safe: share one per thread or guard it with a lock.
    """

    def __init__(
        self,
        table: RoleTable | None = None,
        users: Iterable[User] = (),
        assignments: Iterable[RoleAssignment] = (),
        custom_roles: Iterable[CustomRole] = (),
        course_owners: Mapping[Area, str] | None = None,
    ) -> None:
        self.table = table if table is not None else RoleTable.default()
        self._users: dict[str, User] = {}
        self._assignments: dict[str, list[RoleAssignment]] = {}
        self._custom: dict[str, CustomRole] = {}
        self._holders: dict[str, set[str]] = {}
        self._owners: dict[str, str] = {}
        self._cumulative: dict[str, _Compiled] = {}
        self._scoped: dict[str, dict[tuple[str, str], _Compiled]] = {}
        # The fast path: cumulative answers keyed by (uid, area path, privilege), all valid for
        # every instant in [_fast_lo, _fast_hi) (the intersection of their users' windows).
        self._fast: dict[tuple[str, str, str], Permission] = {}
        self._fast_lo = _BEGINNING
        self._fast_hi = _END_OF_TIME
        self._fast_at: datetime | None = None
        problems: list[DataProblem] = []
        for position, user in enumerate(users):
            if user.uid in self._users:
                problems.append(
                    DataProblem("users", position, "uid", f"user {user.uid!r} is listed twice")
                )
            self._users[user.uid] = user
        for position, role in enumerate(custom_roles):
            for where, message in self.custom_role_problems(role):
                problems.append(DataProblem("custom_roles", position, where, message))
            if role.role_name in self._custom:
                problems.append(
                    DataProblem(
                        "custom_roles", position, "name", f"{role.role_name} is defined twice"
                    )
                )
            self._store_custom(role)
        for position, (course, owner) in enumerate((course_owners or {}).items()):
            if course.kind is not AreaKind.COURSE:
                problems.append(
                    DataProblem(
                        "courses",
                        position,
                        "area",
                        f"only a course instance has an owner, not {course.describe()}",
                    )
                )
            if owner not in self._users:
                problems.append(
                    DataProblem("courses", position, "owner", f"no user {owner!r} among the users")
                )
            self._owners[course.path] = owner
        by_uid = self._assignments
        for position, assignment in enumerate(assignments):
            problem = self.record_problem(assignment)
            if problem is not None:
                where, message = problem
                problems.append(DataProblem("assignments", position, where, message))
                continue
            held = by_uid.get(assignment.uid)
            if held is None:
                by_uid[assignment.uid] = [assignment]
            else:
                held.append(assignment)
            if assignment.is_custom:
                self._holders.setdefault(assignment.role, set()).add(assignment.uid)
        if problems:
            raise RoleDataError(problems)

    # -- reading the records ----------------------------------------------------------------------

    def user(self, uid: str) -> User | None:
        return self._users.get(uid)

    @property
    def users(self) -> Mapping[str, User]:
        return self._users

    def assignments_of(self, uid: str) -> tuple[RoleAssignment, ...]:
        """Every assignment of ``uid``, in force or not (the history), in the order recorded."""
        return tuple(self._assignments.get(uid, ()))

    def all_assignments(self) -> Iterable[RoleAssignment]:
        for held in self._assignments.values():
            yield from held

    def current_assignments(self, uid: str, at: datetime) -> tuple[RoleAssignment, ...]:
        """The assignments of ``uid`` in force at ``at`` (a class account's records it may not
        hold now, see :meth:`barred`, are never in force)."""
        require_aware(at, "at")
        return tuple(
            a for a in self._assignments.get(uid, ()) if a.is_current(at) and self.barred(a) is None
        )

    def custom_role(self, name: str) -> CustomRole | None:
        """The definition of ``cr/<domain>/<author>/<name>``, as stored (template applied)."""
        return self._custom.get(name)

    @property
    def custom_roles(self) -> Mapping[str, CustomRole]:
        return self._custom

    def owner_of(self, course: Area) -> str | None:
        """The owner of a course instance, if one was recorded."""
        area = course.course_area
        return self._owners.get(area.path) if area is not None else None

    # -- validation -------------------------------------------------------------------------------

    def assignment_problem(self, assignment: RoleAssignment) -> tuple[str, str] | None:
        """``(field, reason)`` when the assignment cannot be granted now, else None: the
        problems of :meth:`record_problem`, and the limits of class accounts."""
        problem = self.record_problem(assignment)
        if problem is not None:
            return problem
        reason = self.barred(assignment)
        if reason is not None:
            return "role", reason
        return None

    def record_problem(self, assignment: RoleAssignment) -> tuple[str, str] | None:
        """``(field, reason)`` when the record cannot stand at all (an unknown user or role,
        the wrong kind of area), else None.

        The limits of class accounts are not checked here: they are about the account as it is
        now (free, or assigned to one course), while the records are its history. A recycled
        account keeps the ended roles of its former holder, and an account reassigned to a
        later term keeps those of the earlier one; such records are loaded, and confer nothing
        (:meth:`barred`)."""
        user = self._users.get(assignment.uid)
        if user is None:
            return "uid", f"no user {assignment.uid!r} among the users"
        role = assignment.role
        if role.startswith(CUSTOM_ROLE_PREFIX):
            if role not in self._custom:
                return "role", f"the custom role {role} is not defined"
        elif role == CUSTOM_ROLE_TEMPLATE:
            return "role", (
                f"{role!r} is the custom-role template; assign a custom role by its name "
                "cr/<domain>/<author>/<name>"
            )
        elif not self.table.has_role(role):
            return "role", f"{role!r} is not a role of the table ({', '.join(self.table.roles)})"
        kinds = self.table.holding_kinds(role)
        if assignment.area.kind not in kinds:
            where = " or ".join(kind.value for kind in sorted(kinds, key=_kind_order))
            return "area", (
                f"{self.table.describe(role)} is held in a {where}, "
                f"not in {assignment.area.describe()}"
            )
        return None

    def barred(self, assignment: RoleAssignment) -> str | None:
        """Why a class account may not hold this record's role now (it then gives nothing,
        at any instant), or None."""
        user = self._users.get(assignment.uid)
        if user is None or not user.class_account:
            return None
        return self.class_account_problem(user, assignment.role, assignment.area)

    def class_account_problem(self, user: User, role: str, area: Area) -> str | None:
        """Why a class account may not hold ``role`` in ``area``, or None if it may."""
        own = user.class_course
        if own is None:
            return (
                f"{user.uid} is a class account that belongs to no course; "
                "it may hold no role until it is assigned to a class"
            )
        if role != "st":
            return (
                f"{user.uid} is a class account; class accounts may hold only the "
                f"{self.table.describe('st')} role, and only in their own course {own.path}"
            )
        if area.course_area != own:
            return (
                f"{user.uid} is a class account of {own.path}; it may be a student "
                f"only in its own course, not in {area.path}"
            )
        return None

    def custom_role_problems(self, role: CustomRole) -> list[tuple[str, str]]:
        """``(field, reason)`` for every privilege or condition outside the template."""
        problems: list[tuple[str, str]] = []
        levels = {level: role.privileges_at(level) for level in Level}
        for violation in self.table.template_violations(levels):
            problems.append((CustomRole.field_for(violation.level), violation.message))
        return problems

    # -- changing the records ---------------------------------------------------------------------

    def add_user(self, user: User) -> None:
        """Add or replace a user record."""
        self._users[user.uid] = user
        self._forget(user.uid)

    def add_assignment(self, assignment: RoleAssignment) -> None:
        """Record an assignment (the caller has checked the right to grant it)."""
        problem = self.assignment_problem(assignment)
        if problem is not None:
            raise ValueError(problem[1])
        self._assignments.setdefault(assignment.uid, []).append(assignment)
        if assignment.is_custom:
            self._holders.setdefault(assignment.role, set()).add(assignment.uid)
        self._forget(assignment.uid)

    def replace_assignment(self, old: RoleAssignment, new: RoleAssignment) -> None:
        """Replace one record by another for the same user (revoking changes ``end``)."""
        if old.uid != new.uid:
            raise ValueError("a replaced assignment must belong to the same user")
        held = self._assignments.get(old.uid, [])
        try:
            position = held.index(old)
        except ValueError:
            raise ValueError(f"{old.uid} has no assignment {old.describe()}") from None
        held[position] = new
        self._forget(old.uid)

    def remove_assignments(self, uid: str, role: str, area: Area) -> tuple[RoleAssignment, ...]:
        """Erase every record of ``uid`` holding ``role`` at ``area``, history included."""
        held = self._assignments.get(uid, [])
        removed = tuple(a for a in held if a.role == role and a.area == area)
        if removed:
            self._assignments[uid] = [a for a in held if not (a.role == role and a.area == area)]
            self._forget(uid)
        return removed

    def define_custom_role(self, role: CustomRole) -> CustomRole:
        """Add or replace a custom role; returns it as stored (template letters applied).

        Raises ValueError when it is outside the template (see :func:`define_custom_role` in
        :mod:`coursegate.roles.custom_roles` for the checked, explained way).
        """
        problems = self.custom_role_problems(role)
        if problems:
            raise ValueError("; ".join(message for _field, message in problems))
        stored = self._store_custom(role)
        for uid in self._holders.get(stored.role_name, ()):
            self._forget(uid)
        return stored

    def set_course_owner(self, course: Area, uid: str) -> None:
        if course.kind is not AreaKind.COURSE:
            raise ValueError(f"only a course instance has an owner, not {course.describe()}")
        self._owners[course.path] = uid

    def _store_custom(self, role: CustomRole) -> CustomRole:
        applied = self.table.apply_template({level: role.privileges_at(level) for level in Level})
        stored = CustomRole(
            role.domain,
            role.author,
            role.name,
            system=format_privilege_list(applied[Level.SYSTEM]),
            domain_privs=format_privilege_list(applied[Level.DOMAIN]),
            course=format_privilege_list(applied[Level.COURSE]),
        )
        self._custom[stored.role_name] = stored
        return stored

    def _forget(self, uid: str) -> None:
        self._cumulative.pop(uid, None)
        self._scoped.pop(uid, None)
        self._fast.clear()
        self._fast_lo, self._fast_hi = _BEGINNING, _END_OF_TIME
        self._fast_at = None

    def _remember(self, key: tuple[str, str, str], found: Permission, entry: _Compiled) -> None:
        """Keep a cumulative answer for the fast path, narrowing its window to the entry's."""
        if len(self._fast) >= _FAST_LIMIT or entry.lo >= self._fast_hi or entry.hi <= self._fast_lo:
            self._fast.clear()
            self._fast_lo, self._fast_hi = entry.lo, entry.hi
        else:
            self._fast_lo = max(self._fast_lo, entry.lo)
            self._fast_hi = min(self._fast_hi, entry.hi)
        self._fast[key] = found

    # -- questions --------------------------------------------------------------------------------

    def allowed(
        self,
        uid: str,
        privilege: str,
        area: Area,
        *,
        at: datetime,
        selected: SelectedRole | None = None,
    ) -> Permission:
        """The merged permission of ``privilege`` for ``uid`` at ``area`` on ``at``.

        With ``selected=None`` every role in force counts (cumulative privileges); otherwise
        only the chosen role. The check looks at ``walk(area)``: a section, its course, its
        domain and the system, so the caller asks once at the most specific area it knows.
        """
        try:
            if selected is None:
                key = (uid, area.path, privilege)
                if at is self._fast_at:
                    found = self._fast.get(key)
                    if found is not None:
                        return found
                elif self._fast_lo <= at < self._fast_hi:
                    self._fast_at = at
                    found = self._fast.get(key)
                    if found is not None:
                        return found
                entry = self._cumulative.get(uid)
            else:
                scoped = self._scoped.get(uid)
                entry = (
                    scoped.get((selected.role, selected.area.path)) if scoped is not None else None
                )
            if entry is None or not (entry.lo <= at < entry.hi):
                entry = self._compile_for(uid, at, selected)
        except TypeError:
            require_aware(at, "at")
            raise
        perms = entry.perms.get(area.path)
        found = perms.get(privilege) if perms is not None else None
        if found is None:
            found = self._resolve(uid, entry, privilege, area)
        if selected is None:
            if at is not self._fast_at:
                if self._fast_lo <= at < self._fast_hi:
                    self._fast_at = at
                else:
                    self._fast.clear()
                    self._fast_lo, self._fast_hi = entry.lo, entry.hi
                    self._fast_at = at
            self._remember(key, found, entry)
        return found

    def allowed_within_course(
        self, uid: str, privilege: str, area: Area, *, at: datetime, course: Area
    ) -> Permission:
        """Like :meth:`allowed`, counting only the roles ``uid`` holds in ``course`` (or its
        sections). This is what a user viewing as ``uid`` in that course gets."""
        course_area = course.course_area
        if course_area is None:
            raise ValueError(f"{course.describe()} is not a course instance")
        key = ("", course_area.path)
        scoped = self._scoped.get(uid)
        entry = scoped.get(key) if scoped is not None else None
        try:
            if entry is None or not (entry.lo <= at < entry.hi):
                entry = self._compile(
                    uid,
                    at,
                    key=key,
                    matches=lambda a: a.area.course_area == course_area,
                    scope=f"only {uid}'s roles in course {course_area.path}",
                )
        except TypeError:
            require_aware(at, "at")
            raise
        perms = entry.perms.get(area.path)
        if perms is not None:
            found = perms.get(privilege)
            if found is not None:
                return found
        return self._resolve(uid, entry, privilege, area)

    # -- compiling --------------------------------------------------------------------------------

    def _compile_for(self, uid: str, at: datetime, selected: SelectedRole | None) -> _Compiled:
        if selected is None:
            return self._compile(
                uid, at, key=None, matches=None, scope="cumulative privileges (no role chosen)"
            )
        role, chosen_area = selected.role, selected.area
        return self._compile(
            uid,
            at,
            key=(role, chosen_area.path),
            matches=lambda a: a.role == role and a.area == chosen_area,
            scope=f"the chosen role {role} at {chosen_area.path}",
            chosen=selected,
        )

    def _compile(
        self,
        uid: str,
        at: datetime,
        *,
        key: tuple[str, str] | None,
        matches: Callable[[RoleAssignment], bool] | None,
        scope: str,
        chosen: SelectedRole | None = None,
    ) -> _Compiled:
        require_aware(at, "at")
        entry = _Compiled(self, scope, chosen)
        lo, hi = _BEGINNING, _END_OF_TIME
        for assignment in self._assignments.get(uid, ()):
            for boundary in (assignment.start, assignment.end):
                if boundary is not None:
                    if boundary <= at:
                        lo = max(lo, boundary)
                    else:
                        hi = min(hi, boundary)
            if matches is not None and not matches(assignment):
                continue
            if assignment.is_current(at):
                barred = self.barred(assignment)
                if barred is not None:
                    entry.barred.append((assignment, barred))
                    continue
                entry.active.append(assignment)
                self._contribute(assignment, entry.by_area)
            else:
                entry.inactive.append(assignment)
        entry.lo, entry.hi = lo, hi
        if key is None:
            self._cumulative[uid] = entry
        else:
            self._scoped.setdefault(uid, {})[key] = entry
        return entry

    def _rows_of(self, role: str) -> Iterable[tuple[Level, Mapping[str, str]]]:
        if role.startswith(CUSTOM_ROLE_PREFIX):
            custom = self._custom.get(role)
            if custom is None:
                return ()
            return zip(_LEVELS, custom.rows_by_level(), strict=True)
        return zip(_LEVELS, self.table.rows_by_level(role), strict=True)

    def _contribute(self, assignment: RoleAssignment, by_area: dict[str, list[_Anchored]]) -> None:
        """Anchor each row of the assignment's role where it applies: system rows at ``/``,
        domain rows at the domain, course rows at the course or section held."""
        held_at = assignment.area
        for level, privileges in self._rows_of(assignment.role):
            if not privileges:
                continue
            if level is Level.SYSTEM:
                key = "/"
            elif level is Level.DOMAIN:
                if not held_at.domain:
                    continue
                key = f"/{held_at.domain}/"
            else:
                if not held_at.course:
                    continue
                key = held_at.path
            anchored = by_area.get(key)
            if anchored is None:
                by_area[key] = [(assignment, level, privileges)]
            else:
                anchored.append((assignment, level, privileges))

    def _sources_for(self, role: str, held_at: Area, privilege: str, area: Area) -> bool:
        """Would ``role`` held at ``held_at`` contribute ``privilege`` to a check at ``area``?"""
        seen = {step.path for step in walk(area)}
        for level, privileges in self._rows_of(role):
            if privilege not in privileges:
                continue
            if level is Level.SYSTEM:
                key = "/"
            elif level is Level.DOMAIN:
                key = f"/{held_at.domain}/" if held_at.domain else ""
            else:
                key = held_at.path if held_at.kind in (AreaKind.COURSE, AreaKind.SECTION) else ""
            if key in seen:
                return True
        return False

    # -- explaining -------------------------------------------------------------------------------

    def _resolve(self, uid: str, entry: _Compiled, privilege: str, area: Area) -> Permission:
        sources: list[Source] = []
        for step in walk(area):
            for assignment, level, privileges in entry.by_area.get(step.path, ()):
                letters = privileges.get(privilege)
                if letters is not None:
                    sources.append(
                        Source(
                            assignment.role,
                            assignment.area,
                            level,
                            letters,
                            assignment.start,
                            assignment.end,
                        )
                    )
        if sources:
            permission = self._granted(uid, entry, privilege, area, sources)
        else:
            permission = self._denied(uid, entry, privilege, area)
        entry.perms.setdefault(area.path, {})[privilege] = permission
        return permission

    def _describe_source(self, source: Source) -> str:
        window = describe_window(source.start, source.end)
        conditions = (
            f" ({self.table.describe_conditions(source.conditions)})" if source.conditions else ""
        )
        return (
            f"{self.table.describe(source.role)} held at {source.held_at.path} {window} "
            f"gives it {self.table.name(source.level.value)} as {source.permission}{conditions}"
        )

    def _granted(
        self, uid: str, entry: _Compiled, privilege: str, area: Area, sources: list[Source]
    ) -> Permission:
        if any(not source.conditions for source in sources):
            value = FULL
        else:
            value = normalize_conditions("".join(source.conditions for source in sources))
        return Permission(uid, privilege, area, value, tuple(sources), entry)

    def _explain_granted(self, permission: Permission, entry: _Compiled) -> tuple[str, ...]:
        value, held = permission.value, permission.sources
        what = self.table.describe(permission.privilege)
        meaning = self.table.describe_conditions("" if value == FULL else value)
        lines = [
            f"{permission.uid} has {what} at {permission.area.path} as {value} ({meaning}), "
            f"from {entry.scope}"
        ]
        lines.extend(self._describe_source(source) for source in held)
        if len(held) > 1:
            if value == FULL:
                lines.append("merged: F wins, because a role gives it without restrictions")
            else:
                joined = " + ".join(source.conditions for source in held)
                lines.append(f"merged: the condition letters of the roles are joined: {joined}")
        return tuple(lines)

    def _denied(self, uid: str, entry: _Compiled, privilege: str, area: Area) -> Permission:
        return Permission(uid, privilege, area, "", (), entry)

    def _why_not(self, uid: str, entry: _Compiled, privilege: str, area: Area) -> tuple[str, ...]:
        if uid not in self._users:
            return (f"there is no user {uid!r}",)
        what = self.table.describe(privilege)
        lines: list[str] = []
        if privilege not in self.table.privileges:
            lines.append(f"{privilege!r} is not a privilege of the role table")
        looked = ", ".join(step.path for step in walk(area))
        lines.append(
            f"{uid} has no role in force that gives {what} at {area.path} "
            f"(looked at {looked}; {entry.scope})"
        )
        if entry.chosen is not None and not (entry.active or entry.inactive or entry.barred):
            lines.append(f"{uid} does not hold the chosen role {entry.chosen.describe()}")
        for assignment in entry.inactive:
            if self._sources_for(assignment.role, assignment.area, privilege, area):
                lines.append(
                    f"{self.table.describe(assignment.role)} at {assignment.area.path} would "
                    f"give it, but it is in force only {assignment.describe_window()}"
                )
        for assignment, barred in entry.barred:
            if self._sources_for(assignment.role, assignment.area, privilege, area):
                lines.append(
                    f"{self.table.describe(assignment.role)} at {assignment.area.path} would "
                    f"give it, but it counts for nothing: {barred}"
                )
        if area.kind is AreaKind.COURSE:
            for assignment in entry.active:
                held = assignment.area
                if (
                    held.kind is AreaKind.SECTION
                    and held.course_area == area
                    and self._sources_for(assignment.role, held, privilege, held)
                ):
                    lines.append(
                        f"{self.table.describe(assignment.role)} held for section "
                        f"{held.section} gives it there only; ask at {held.path} for that section"
                    )
        return tuple(lines)


def _kind_order(kind: AreaKind) -> int:
    return list(AreaKind).index(kind)


# -- module-level conveniences ------------------------------------------------------------------


def allowed(
    index: RoleIndex,
    uid: str,
    privilege: str,
    area: Area,
    *,
    at: datetime,
    selected: SelectedRole | None = None,
) -> Permission:
    """The merged permission before conditions; see :meth:`RoleIndex.allowed`."""
    return index.allowed(uid, privilege, area, at=at, selected=selected)


def check(
    index: RoleIndex,
    uid: str,
    privilege: str,
    area: Area,
    *,
    at: datetime,
    context: CheckContext,
    selected: SelectedRole | None = None,
) -> Decision:
    """:func:`allowed` followed by :func:`evaluate`."""
    return evaluate(
        index.allowed(uid, privilege, area, at=at, selected=selected),
        context,
        at=at,
        table=index.table,
    )


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
    letters = source.conditions
    if not letters:
        return True, "no restrictions"
    notes: list[str] = []
    privilege = permission.privilege
    auth = [letter for letter in letters if letter in AUTH_CONDITIONS]
    if auth:
        allowed_kinds = " or ".join(table.name(letter) for letter in auth)
        if context.target_auth is None:
            return False, (
                f"it reaches only users who are {allowed_kinds}, and the target user's "
                "authentication kind was not given"
            )
        letter = AUTH_CONDITION[context.target_auth]
        if letter not in auth:
            return False, (
                f"it reaches only users who are {allowed_kinds}; the target user is "
                f"{table.name(letter)}"
            )
        notes.append(f"the target user is {table.name(letter)}")
    for letter in letters:
        if letter in AUTH_CONDITIONS:
            continue
        if letter == Condition.COURSE_PREFERENCES:
            preferences = context.course_preferences
            if preferences is None:
                return False, "it depends on the course preferences, which were not supplied"
            if source.role in preferences.denied_to_roles.get(privilege, frozenset()):
                return False, (
                    f"the course preferences deny {privilege} to {table.describe(source.role)}"
                )
            if permission.uid in preferences.denied_to_users.get(privilege, frozenset()):
                return False, f"the course preferences deny {privilege} to {permission.uid}"
            notes.append("the course preferences do not deny it")
        elif letter == Condition.CUSTOM_ROLE:
            if not source.role.startswith(CUSTOM_ROLE_PREFIX):
                return False, (
                    f"S (custom role settings) applies only to custom roles; {source.role} "
                    "is not one"
                )
            notes.append("the custom role's definition in force gives it")
        elif letter == Condition.RESOURCE:
            rule = context.resource
            if rule is None:
                return False, (
                    "it depends on the resource's own access rules, and no resource rule "
                    "was supplied"
                )
            verdict = verdicts.get(privilege)
            if verdict is None:
                verdict = rule(permission.uid, privilege, permission.area, at)
                verdicts[privilege] = verdict
            if not verdict.allowed:
                return False, f"the resource denies it: {verdict.reason}"
            notes.append(f"the resource allows it: {verdict.reason}")
        elif letter == Condition.UNLESS_LOCKED:
            locks = context.locks
            if locks is None:
                return False, "it is denied while locked, and the lock state was not supplied"
            if privilege in locks.privileges:
                extra = f": {locks.reason}" if locks.reason else ""
                return False, f"{privilege} is locked here{extra}"
            if locks.resource_locked:
                extra = f": {locks.reason}" if locks.reason else ""
                return False, f"the resource is locked{extra}"
            notes.append("not locked")
        elif letter == Condition.SESSION_STATE:
            session = context.session
            if session is None:
                return False, "it depends on the session state, which was not supplied"
            if not session.conditions_met:
                extra = f": {session.reason}" if session.reason else ""
                return False, f"the session state does not allow it{extra}"
            notes.append(
                "the session state allows it" + (f": {session.reason}" if session.reason else "")
            )
    return True, "; ".join(notes)
