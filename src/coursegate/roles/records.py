"""The records a :class:`~coursegate.roles.allowed.RoleIndex` is built from — users, role
assignments, custom roles and course owners — with the checks that keep them consistent
(including the limits of class accounts) and the errors that report what is wrong."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from coursegate.roles.areas import Area, AreaKind
from coursegate.roles.model import CustomRole, RoleAssignment, User, require_aware
from coursegate.roles.privileges import Level
from coursegate.roles.table import (
    CUSTOM_ROLE_PREFIX,
    CUSTOM_ROLE_TEMPLATE,
    RoleTable,
    format_privilege_list,
)

__all__ = [
    "DataProblem",
    "RoleDataError",
    "RoleRecords",
]


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
    """The records given to a :class:`~coursegate.roles.allowed.RoleIndex` are inconsistent;
    ``problems`` lists each."""

    def __init__(self, problems: Iterable[DataProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__(
            "; ".join(f"{problem.path}: {problem.message}" for problem in self.problems)
        )


def _kind_order(kind: AreaKind) -> int:
    return list(AreaKind).index(kind)


class RoleRecords:
    """Users, their role assignments, custom roles and course owners, as records kept consistent.

    The records are checked when they are loaded (every problem is reported at once, as a
    :class:`RoleDataError`) and when they change. Each change calls :meth:`_forget` with the
    users it concerns, so that what is derived from their records (see
    :class:`~coursegate.roles.allowed.RoleIndex`) can be dropped. Once loaded, a user's list of
    assignments is never changed in place: a change puts a new list in its stead, so what was
    derived from the old one may keep it as it was.
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
        problems: list[DataProblem] = []
        self._load_users(users, problems)
        self._load_custom_roles(custom_roles, problems)
        self._load_course_owners(course_owners or {}, problems)
        self._load_assignments(assignments, problems)
        if problems:
            raise RoleDataError(problems)

    # -- loading the records ----------------------------------------------------------------------

    def _load_users(self, users: Iterable[User], problems: list[DataProblem]) -> None:
        for position, user in enumerate(users):
            if user.uid in self._users:
                problems.append(
                    DataProblem("users", position, "uid", f"user {user.uid!r} is listed twice")
                )
            self._users[user.uid] = user

    def _load_custom_roles(
        self, custom_roles: Iterable[CustomRole], problems: list[DataProblem]
    ) -> None:
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

    def _load_course_owners(
        self, course_owners: Mapping[Area, str], problems: list[DataProblem]
    ) -> None:
        for position, (course, owner) in enumerate(course_owners.items()):
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

    def _load_assignments(
        self, assignments: Iterable[RoleAssignment], problems: list[DataProblem]
    ) -> None:
        by_uid = self._assignments
        users = self._users
        # (role, kind of area) found fine -> whether the role is a custom one: while loading,
        # a record of a known user with such a pair needs no other check
        fine: dict[tuple[str, AreaKind], bool] = {}
        for position, assignment in enumerate(assignments):
            uid = assignment.uid
            pair = (assignment.role, assignment.area.kind)
            custom = fine.get(pair)
            if custom is None or uid not in users:
                problem = self.record_problem(assignment)
                if problem is not None:
                    where, message = problem
                    problems.append(DataProblem("assignments", position, where, message))
                    continue
                custom = fine[pair] = assignment.is_custom
            held = by_uid.get(uid)
            if held is None:
                by_uid[uid] = [assignment]
            else:
                held.append(assignment)
            if custom:
                self._holders.setdefault(assignment.role, set()).add(uid)

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
        return list(_checked(self.table, role)[0])

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
        self._assignments[assignment.uid] = [*self._assignments.get(assignment.uid, ()), assignment]
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
        self._assignments[old.uid] = [*held[:position], new, *held[position + 1 :]]
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
        stored = _checked(self.table, role)[1]
        self._custom[stored.role_name] = stored
        return stored

    def _forget(self, uid: str) -> None:
        """Drop whatever was derived from ``uid``'s records (nothing here; see
        :class:`~coursegate.roles.allowed.RoleIndex`)."""


_CHECKED: dict[tuple[RoleTable, CustomRole], tuple[tuple[tuple[str, str], ...], CustomRole]] = {}
_CHECKED_LIMIT = 4096


def _checked(table: RoleTable, role: CustomRole) -> tuple[tuple[tuple[str, str], ...], CustomRole]:
    """A custom role checked against the template of ``table``: ``(field, reason)`` for each
    violation, and the role as stored (the template's letters applied). Kept per table and
    definition: a server loads every custom role into each index it builds, and a table and a
    definition are immutable values."""
    found = _CHECKED.get((table, role))
    if found is None:
        levels = {level: role.privileges_at(level) for level in Level}
        problems = tuple(
            (CustomRole.field_for(violation.level), violation.message)
            for violation in table.template_violations(levels)
        )
        applied = table.apply_template(levels)
        stored = CustomRole(
            role.domain,
            role.author,
            role.name,
            system=format_privilege_list(applied[Level.SYSTEM]),
            domain_privs=format_privilege_list(applied[Level.DOMAIN]),
            course=format_privilege_list(applied[Level.COURSE]),
        )
        if len(_CHECKED) >= _CHECKED_LIMIT:
            _CHECKED.clear()
        found = _CHECKED[(table, role)] = (problems, stored)
    return found
