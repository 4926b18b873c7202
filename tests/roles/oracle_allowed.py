"""The test oracle: ``RoleIndex`` as it was before issue 16 (per-user lookups compiled for a
window of time, anchored rows resolved by walking the area), kept verbatim but for its name.

The fast path in :mod:`coursegate.roles.allowed` must give the same answers, sources and
explanations; ``test_roles_fast_path.py`` compares them on random records, areas, times and
privileges. Nothing in ``src`` imports this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime

from coursegate.roles.areas import Area, AreaKind, walk
from coursegate.roles.model import (
    CustomRole,
    RoleAssignment,
    SelectedRole,
    User,
    describe_window,
    require_aware,
)
from coursegate.roles.permission import Permission, Source
from coursegate.roles.privileges import FULL, Level, normalize_conditions
from coursegate.roles.records import RoleRecords
from coursegate.roles.table import CUSTOM_ROLE_PREFIX, RoleTable

__all__ = ["OracleIndex"]

_BEGINNING = datetime(1, 1, 2, tzinfo=UTC)
_END_OF_TIME = datetime(9999, 12, 30, tzinfo=UTC)
_FAST_LIMIT = 250_000


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

    def __init__(self, index: OracleIndex, scope: str, chosen: SelectedRole | None) -> None:
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


class OracleIndex(RoleRecords):
    """Users, their role assignments and custom roles, compiled into per-user lookups.

    The records and their checks are those of :class:`~coursegate.roles.records.RoleRecords`;
    this adds the compiled lookups and the questions asked of them. Pure and in memory: it never
    reads a clock or a file. Every question takes ``at``. Changing a user's roles
    (:meth:`add_assignment`, :meth:`replace_assignment`, :meth:`remove_assignments`) or a custom
    role (:meth:`define_custom_role`) takes effect on the next check. Not thread-safe: share one
    per thread or guard it with a lock.
    """

    def __init__(
        self,
        table: RoleTable | None = None,
        users: Iterable[User] = (),
        assignments: Iterable[RoleAssignment] = (),
        custom_roles: Iterable[CustomRole] = (),
        course_owners: Mapping[Area, str] | None = None,
    ) -> None:
        self._cumulative: dict[str, _Compiled] = {}
        self._scoped: dict[str, dict[tuple[str, str], _Compiled]] = {}
        # The fast path: cumulative answers keyed by (uid, area path, privilege), all valid for
        # every instant in [_fast_lo, _fast_hi) (the intersection of their users' windows).
        self._fast: dict[tuple[str, str, str], Permission] = {}
        self._fast_lo = _BEGINNING
        self._fast_hi = _END_OF_TIME
        self._fast_at: datetime | None = None
        super().__init__(table, users, assignments, custom_roles, course_owners)

    # -- keeping the compiled lookups -------------------------------------------------------------

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
