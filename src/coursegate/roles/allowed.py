"""``allowed``: what a user may do in an area before conditions, and why.

:meth:`RoleIndex.allowed` answers with the merged permission of a privilege *before* conditions
are evaluated: ``"F"`` (full), ``""`` (no role grants it) or condition letters such as ``"CR"``.
The answer is a :class:`~coursegate.roles.permission.Permission` that carries its explanation as
data. :func:`check` then decides it with :func:`~coursegate.roles.conditions.evaluate`, kept
apart as in LON-CAPA.

A question is answered from a :class:`~coursegate.roles.snapshots.Snapshot` of the user's
records, taken on their first question: one lookup of the privilege in the combined privileges
of the user's roles (made once per role table and sequence of roles) gives the records whose
role has it; for each, where the row is anchored is compared with the area's walk (kept once per
area) and the record's window with ``at``. A first-time question builds nothing per user but the
snapshot, so it costs little more than a remembered answer (see ``bench/bench_roles.py``).

Grants, revocations, expiries and custom-role edits take effect on the next check: changing a
user's roles drops that user's snapshots, and each snapshot holds only within its window of
time (between two starts or ends of the user's roles); a question outside it takes a new one.
Answers to questions asked more than once are remembered: cumulative ones in one flat table
keyed by (user, area, privilege), valid while ``at`` stays inside the intersection of their
snapshots' windows and emptied by any change; a chosen role's in its snapshot. A question asked
once is not kept (most are: a server builds an index per request).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from operator import attrgetter

from coursegate.roles.areas import Area, AreaKind, walk
from coursegate.roles.conditions import CheckContext, evaluate
from coursegate.roles.model import (
    CustomRole,
    RoleAssignment,
    SelectedRole,
    User,
    describe_window,
    require_aware,
)
from coursegate.roles.permission import Decision, Permission, Source
from coursegate.roles.privileges import FULL, Level
from coursegate.roles.records import RoleRecords
from coursegate.roles.snapshots import KEYS, Snapshot, memo_key
from coursegate.roles.table import (
    CUSTOM_ROLE_PREFIX,
    CombinedPrivileges,
    Levels,
    RoleTable,
    combine_privileges,
    privileges_by_level,
)

__all__ = [
    "RoleIndex",
    "allowed",
    "check",
]

_CUMULATIVE = "cumulative privileges (no role chosen)"
_MEMO_LIMIT = 250_000
_ROLE_OF = attrgetter("role")
_LEVELS = (Level.SYSTEM, Level.DOMAIN, Level.COURSE)


class RoleIndex(RoleRecords):
    """Users, their role assignments and custom roles, and the questions asked of them.

    The records and their checks are those of :class:`~coursegate.roles.records.RoleRecords`;
    this adds per-user snapshots (see :mod:`coursegate.roles.snapshots`) and the questions.
    Pure and in memory: it never reads a clock or a file. Every question takes ``at``. Changing
    a user's roles (:meth:`add_assignment`, :meth:`replace_assignment`,
    :meth:`remove_assignments`) or a custom role (:meth:`define_custom_role`) takes effect on
    the next check. Not thread-safe: share one per thread or guard it with a lock.
    """

    def __init__(
        self,
        table: RoleTable | None = None,
        users: Iterable[User] = (),
        assignments: Iterable[RoleAssignment] = (),
        custom_roles: Iterable[CustomRole] = (),
        course_owners: Mapping[Area, str] | None = None,
    ) -> None:
        self._cumulative: dict[str, Snapshot] = {}
        self._scoped: dict[str, dict[tuple[str, str], Snapshot]] = {}
        # custom role -> its privileges by level; a user's roles -> their combined privileges
        # (see _combined_privileges); both dropped when a custom role is redefined
        self._privileges: dict[str, Mapping[str, Levels]] = {}
        self._combined: dict[tuple[str, ...], CombinedPrivileges] = {}
        self._at: datetime | None = None  # the last instant checked to be timezone-aware
        # Cumulative answers to questions asked more than once, by (uid, area path, privilege),
        # all valid for every instant in [_memo_lo, _memo_hi) (None: open), the intersection of
        # their snapshots' windows; _memo_at is the last instant found in it.
        self._memo: dict[tuple[str, str, str], Permission] = {}
        self._memo_lo: datetime | None = None
        self._memo_hi: datetime | None = None
        self._memo_at: datetime | None = None
        super().__init__(table, users, assignments, custom_roles, course_owners)

    # -- keeping the snapshots --------------------------------------------------------------------

    def _forget(self, uid: str) -> None:
        self._cumulative.pop(uid, None)
        self._scoped.pop(uid, None)
        self._memo.clear()
        self._memo_lo = self._memo_hi = self._memo_at = None

    def _move_memo(self, at: datetime) -> None:
        """Make ``at`` the memo's instant; outside the memo's window, empty the memo."""
        if at is not self._at:
            require_aware(at, "at")
            self._at = at
        lo, hi = self._memo_lo, self._memo_hi
        if not ((lo is None or lo <= at) and (hi is None or at < hi)):
            self._memo.clear()
            self._memo_lo = self._memo_hi = None
        self._memo_at = at

    def _keep(self, key: tuple[str, str, str], answer: Permission, snapshot: Snapshot) -> None:
        """Remember a cumulative answer, narrowing the memo's window to its snapshot's."""
        lo, hi = snapshot.window()
        if len(self._memo) >= _MEMO_LIMIT:
            self._memo.clear()
            self._memo_lo, self._memo_hi = lo, hi
        else:
            if lo is not None and (self._memo_lo is None or lo > self._memo_lo):
                self._memo_lo = lo
            if hi is not None and (self._memo_hi is None or hi < self._memo_hi):
                self._memo_hi = hi
        self._memo[key] = answer

    def _store_custom(self, role: CustomRole) -> CustomRole:
        stored = super()._store_custom(role)
        self._privileges.pop(stored.role_name, None)
        self._combined.clear()
        return stored

    def _role_privileges(self, role: str) -> Mapping[str, Levels]:
        """A role's privileges by level (a custom role's made once per definition)."""
        if not role.startswith(CUSTOM_ROLE_PREFIX):
            return self.table.role_privileges(role)
        found = self._privileges.get(role)
        if found is None:
            custom = self._custom.get(role)
            rows = custom.rows_by_level() if custom is not None else ()
            found = self._privileges[role] = privileges_by_level(rows) if rows else {}
        return found

    def _combined_privileges(self, roles: tuple[str, ...]) -> CombinedPrivileges:
        """The privileges of a user's roles, record by record: the table's when they are all
        roles of the table (made once per table), else made here once per index and kept
        until a custom role is redefined."""
        if self._custom and not self._custom.keys().isdisjoint(roles):
            found: CombinedPrivileges = combine_privileges(roles, self._role_privileges)
        else:
            found = self.table.combined_privileges(roles)
        self._combined[roles] = found
        return found

    def _snapshot(
        self,
        uid: str,
        at: datetime,
        scope: str,
        matches: Callable[[RoleAssignment], bool] | None,
        chosen: SelectedRole | None,
    ) -> Snapshot:
        """A snapshot of ``uid``'s records (those that ``matches``, if given) at ``at``."""
        if at is not self._at:
            require_aware(at, "at")
            self._at = at
        records = self._assignments.get(uid, ())
        # a user's list is replaced on change, never changed in place: the snapshot keeps it
        held = records if matches is None else [a for a in records if matches(a)]
        user = self._users.get(uid)
        reasons = None
        usable = held
        if user is not None and user.class_account:
            reasons = tuple(self.barred(a) for a in held)
            usable = [a for a, why in zip(held, reasons, strict=True) if why is None]
        roles = tuple(map(_ROLE_OF, usable))
        combined = self._combined.get(roles)
        if combined is None:
            combined = self._combined_privileges(roles)
        return Snapshot(self, scope, chosen, held, reasons, usable, combined, at)

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
        if selected is not None:
            scoped = self._scoped_snapshot(uid, at, (selected.role, selected.area.path), selected)
            return scoped.recall(memo_key(area.path, privilege), uid, privilege, area)
        if at is not self._memo_at:
            self._move_memo(at)
        if self._memo:
            found = self._memo.get((uid, area.path, privilege))
            if found is not None:
                return found
        snapshot = self._cumulative.get(uid)
        if snapshot is None or (at is not snapshot.at and not snapshot.holds(at)):
            snapshot = self._cumulative[uid] = self._snapshot(uid, at, _CUMULATIVE, None, None)
        found = snapshot.answer(uid, privilege, area)
        try:
            key = KEYS[area.path][privilege]
        except KeyError:
            key = memo_key(area.path, privilege)
        asked = snapshot.asked
        if key in asked:  # asked before: keep it (see Snapshot.recall)
            self._keep((uid, area.path, privilege), found, snapshot)
        else:
            asked[key] = None
        return found

    def allowed_within_course(
        self, uid: str, privilege: str, area: Area, *, at: datetime, course: Area
    ) -> Permission:
        """Like :meth:`allowed`, counting only the roles ``uid`` holds in ``course`` (or its
        sections). This is what a user viewing as ``uid`` in that course gets."""
        course_area = course.course_area
        if course_area is None:
            raise ValueError(f"{course.describe()} is not a course instance")
        snapshot = self._scoped_snapshot(uid, at, ("", course_area.path), course_area)
        return snapshot.recall(memo_key(area.path, privilege), uid, privilege, area)

    def _holds(self, snapshot: Snapshot, at: datetime) -> bool:
        """Whether ``at`` falls in the snapshot's window (checked to be timezone-aware)."""
        if at is not self._at:
            require_aware(at, "at")
            self._at = at
        return snapshot.holds(at)

    def _scoped_snapshot(
        self, uid: str, at: datetime, key: tuple[str, str], scope: SelectedRole | Area
    ) -> Snapshot:
        """The snapshot of one chosen role, or of the roles in one course, at ``at``."""
        scoped = self._scoped.get(uid)
        if scoped is None:
            scoped = self._scoped[uid] = {}
        snapshot = scoped.get(key)
        if snapshot is not None and (at is snapshot.at or self._holds(snapshot, at)):
            return snapshot
        if isinstance(scope, SelectedRole):
            role, chosen_area = scope.role, scope.area
            snapshot = self._snapshot(
                uid,
                at,
                f"the chosen role {role} at {chosen_area.path}",
                lambda a: a.role == role and a.area == chosen_area,
                scope,
            )
        else:
            domain, course = scope.domain, scope.course
            snapshot = self._snapshot(
                uid,
                at,
                f"only {uid}'s roles in course {scope.path}",
                lambda a: a.area.course == course and a.area.domain == domain,
                None,
            )
        scoped[key] = snapshot
        return snapshot

    def _rows_of(self, role: str) -> Iterable[tuple[Level, Mapping[str, str]]]:
        if role.startswith(CUSTOM_ROLE_PREFIX):
            custom = self._custom.get(role)
            if custom is None:
                return ()
            return zip(_LEVELS, custom.rows_by_level(), strict=True)
        return zip(_LEVELS, self.table.rows_by_level(role), strict=True)

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

    def _describe_source(self, source: Source) -> str:
        window = describe_window(source.start, source.end)
        conditions = (
            f" ({self.table.describe_conditions(source.conditions)})" if source.conditions else ""
        )
        return (
            f"{self.table.describe(source.role)} held at {source.held_at.path} {window} "
            f"gives it {self.table.name(source.level.value)} as {source.permission}{conditions}"
        )

    def _explain_granted(self, permission: Permission, view: Snapshot) -> tuple[str, ...]:
        value, held = permission.value, permission.sources
        what = self.table.describe(permission.privilege)
        meaning = self.table.describe_conditions("" if value == FULL else value)
        lines = [
            f"{permission.uid} has {what} at {permission.area.path} as {value} ({meaning}), "
            f"from {view.scope}"
        ]
        lines.extend(self._describe_source(source) for source in held)
        if len(held) > 1:
            if value == FULL:
                lines.append("merged: F wins, because a role gives it without restrictions")
            else:
                joined = " + ".join(source.conditions for source in held)
                lines.append(f"merged: the condition letters of the roles are joined: {joined}")
        return tuple(lines)

    def _why_not(self, uid: str, view: Snapshot, privilege: str, area: Area) -> tuple[str, ...]:
        if uid not in self._users:
            return (f"there is no user {uid!r}",)
        what = self.table.describe(privilege)
        lines: list[str] = []
        if privilege not in self.table.privileges:
            lines.append(f"{privilege!r} is not a privilege of the role table")
        looked = ", ".join(step.path for step in walk(area))
        lines.append(
            f"{uid} has no role in force that gives {what} at {area.path} "
            f"(looked at {looked}; {view.scope})"
        )
        if view.chosen is not None and not (view.active or view.inactive or view.barred):
            lines.append(f"{uid} does not hold the chosen role {view.chosen.describe()}")
        for assignment in view.inactive:
            if self._sources_for(assignment.role, assignment.area, privilege, area):
                lines.append(
                    f"{self.table.describe(assignment.role)} at {assignment.area.path} would "
                    f"give it, but it is in force only {assignment.describe_window()}"
                )
        for assignment, barred in view.barred:
            if self._sources_for(assignment.role, assignment.area, privilege, area):
                lines.append(
                    f"{self.table.describe(assignment.role)} at {assignment.area.path} would "
                    f"give it, but it counts for nothing: {barred}"
                )
        if area.kind is AreaKind.COURSE:
            for assignment in view.active:
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
