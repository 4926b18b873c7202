"""Snapshots: what answers one user's questions in one scope, within one window of time.

A :class:`Snapshot` keeps a user's records (all of them, the chosen role's, or those in one
course) as they were when it was taken, and holds for a window of time (between two
consecutive starts or ends of those records: within it, the same roles are in force). A
question nobody asked before is answered straight from the records: one lookup of the privilege
in the combined privileges of the user's roles (made once per role table and sequence of roles)
gives the records whose role has it and the rows that do; for each, the place the row is
anchored (system rows at ``/``, domain rows at the domain, course rows at the course or section
held) is looked up in the area's walk (kept once per area), then the record's window compared
with the instant. Nothing else is built per user, so a first-time question costs little more
than a remembered one.

A snapshot is also the explainer of the answers it gave: which roles were in force, out of
their window or barred is worked out only when an explanation is asked for.

The caches here (each area's walk, the memo keys, merged condition letters) are process-wide and
depend on nothing but their keys; :func:`clear_caches` empties them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from coursegate.roles.areas import Area, walk
from coursegate.roles.model import RoleAssignment, SelectedRole
from coursegate.roles.permission import Permission, Source, new_permission
from coursegate.roles.privileges import FULL, Level, normalize_conditions
from coursegate.roles.table import CombinedPrivileges

__all__ = [
    "KEYS",
    "Explaining",
    "Snapshot",
    "clear_caches",
    "memo_key",
    "window",
]

_CACHE_LIMIT = 65_536
_PRIVILEGES_LIMIT = 1_024  # privilege codes kept per area path (a table has a few dozen)

# -- process-wide caches --------------------------------------------------------------------------

KEYS: dict[str, dict[str, str]] = {}
"""area path -> privilege -> :func:`memo_key` (read it directly in a hot loop)."""
_POSITIONS: dict[str, dict[str, int]] = {}
_MERGED: dict[str, str] = {}


def memo_key(path: str, privilege: str) -> str:
    """The key of a question in a snapshot's memo: one string per (area path, privilege), made
    once (its hash is kept, and every user's memo shares it)."""
    by_privilege = KEYS.get(path)
    if by_privilege is None:
        if len(KEYS) >= _CACHE_LIMIT:
            KEYS.clear()
        by_privilege = KEYS[path] = {}
    key = by_privilege.get(privilege)
    if key is None:
        if len(by_privilege) >= _PRIVILEGES_LIMIT:
            by_privilege.clear()
        # a path has no spaces: the last space divides the two, so keys never collide
        key = by_privilege[privilege] = f"{privilege} {path}"
    return key


def _positions(area: Area) -> dict[str, int]:
    """Each path of the area's walk with its place in it (0 for the area itself, the last for
    the system)."""
    found = _POSITIONS.get(area.path)
    if found is None:
        if len(_POSITIONS) >= _CACHE_LIMIT:
            _POSITIONS.clear()
        found = _POSITIONS[area.path] = {step.path: n for n, step in enumerate(walk(area))}
    return found


def _merged_all(sources: tuple[Source, ...]) -> str:
    """The permission several rows give together: ``F`` wins, else their letters joined."""
    if any(not source.conditions for source in sources):
        return FULL
    return normalize_conditions("".join(source.conditions for source in sources))


def _merged(letters: str) -> str:
    """The permission one row gives: ``F`` for no letters, else its letters without repeats."""
    value = _MERGED.get(letters)
    if value is None:
        if len(_MERGED) >= _CACHE_LIMIT:
            _MERGED.clear()
        value = _MERGED[letters] = normalize_conditions(letters) or FULL
    return value


def clear_caches() -> None:
    """Empty the process-wide caches (areas' walks, memo keys, merged letters)."""
    KEYS.clear()
    _POSITIONS.clear()
    _MERGED.clear()


# -- snapshots ------------------------------------------------------------------------------------


class Explaining(Protocol):
    """What writes out the explanations (the index): of a granted answer, and of a refusal."""

    def _explain_granted(self, permission: Permission, view: Snapshot) -> tuple[str, ...]: ...

    def _why_not(self, uid: str, view: Snapshot, privilege: str, area: Area) -> tuple[str, ...]: ...


class Snapshot:
    """One user's records in one scope, within the window ``lo <= at < hi`` (None: open) in
    which none of them starts or ends.

    ``held`` are the records in the scope, in the order recorded; ``reasons`` says, for a
    class account, why each may not be held now (None where it may), and ``usable`` are those
    that may; ``combined`` are the privileges of their roles (see
    :meth:`~coursegate.roles.table.RoleTable.combined_privileges`). ``at`` is the last instant
    asked about; ``perms`` keeps, by :func:`memo_key`, the answers to questions asked more than
    once (see :meth:`recall`; the index keeps cumulative ones itself).
    """

    __slots__ = (
        "asked",
        "at",
        "chosen",
        "combined",
        "held",
        "hi",
        "index",
        "lo",
        "perms",
        "reasons",
        "scope",
        "usable",
        "windowed",
    )

    def __init__(
        self,
        index: Explaining,
        scope: str,
        chosen: SelectedRole | None,
        held: Sequence[RoleAssignment],
        reasons: Sequence[str | None] | None,
        usable: Sequence[RoleAssignment],
        combined: CombinedPrivileges,
        at: datetime,
    ) -> None:
        self.index = index
        self.scope = scope
        self.chosen = chosen
        self.held = held
        self.reasons = reasons
        self.usable = usable
        self.combined = combined
        self.at = at
        self.windowed = False  # lo and hi are worked out when another instant is asked about
        self.lo: datetime | None = None
        self.hi: datetime | None = None
        self.perms: dict[str, Permission] | None = None  # made when an answer is first kept
        self.asked: dict[str, None] = {}

    def window(self) -> tuple[datetime | None, datetime | None]:
        """``(lo, hi)``: the last start or end of a record at or before the snapshot's instant
        and the first after it (None: none)."""
        if not self.windowed:
            self.lo, self.hi = window(self.held, self.at)
            self.windowed = True
        return self.lo, self.hi

    def holds(self, at: datetime) -> bool:
        """Whether ``at`` is in the snapshot's window (then it becomes its instant). The caller
        checks that ``at`` is timezone-aware."""
        lo, hi = self.window()
        if (lo is None or lo <= at) and (hi is None or at < hi):
            self.at = at
            return True
        return False

    def recall(self, key: str, uid: str, privilege: str, area: Area) -> Permission:
        """The answer to ``privilege`` at ``area`` (``key`` is their :func:`memo_key`):
        remembered, or worked out and kept if it was asked before.

        A question asked once is not kept: most are asked once (a server builds an index per
        request), and keeping every answer would cost memory and garbage-collector time for
        nothing. ``asked`` holds only strings, which the collector does not track.
        """
        perms = self.perms
        found = perms.get(key) if perms is not None else None
        if found is None:
            found = self.answer(uid, privilege, area)
            if key not in self.asked:
                self.asked[key] = None
            elif perms is None:
                self.perms = {key: found}
            else:
                perms[key] = found
        return found

    def answer(self, uid: str, privilege: str, area: Area) -> Permission:
        """The merged permission of ``privilege`` at ``area`` at the snapshot's instant: every
        row of a role in force that gives it and is anchored on the area's walk, narrowest area
        first (then in the order of the records)."""
        value = ""
        sources: tuple[Source, ...] = ()
        holders = self.combined.get(privilege)  # None: none of the user's roles has it
        if holders is not None:
            at = self.at
            usable = self.usable
            positions = _POSITIONS.get(area.path) or _positions(area)
            system = len(positions) - 1  # the system is last on the walk, the domain before it
            first: Source | None = None  # the first source found, at its place on the walk
            place = 0
            more: list[tuple[int, Source]] | None = None  # every source, once there are two
            for number, levels in holders:  # each record whose role has it, and its rows
                record = usable[number]
                held = record.area
                for level, letters in levels:
                    # where the row is anchored (system, domain, course or section held): on the
                    # area's walk?
                    if level is _COURSE:
                        if not held.course or held.path not in positions:
                            continue
                        position = positions[held.path]
                    elif level is _DOMAIN:
                        if not held.domain or held.domain != area.domain:
                            continue
                        position = system - 1
                    else:
                        position = system
                    start, end = record.start, record.end
                    if (start is not None and at < start) or (end is not None and not at < end):
                        break  # not in force: none of its rows counts
                    source = _source(Source, (record.role, held, level, letters, start, end))
                    if first is None:
                        first, place = source, position
                    elif more is None:
                        more = [(place, first), (position, source)]
                    else:
                        more.append((position, source))
            if first is not None and more is None:
                sources = (first,)
                value = _MERGED.get(first.conditions) or _merged(first.conditions)
            elif more is not None:
                more.sort(key=_first)  # stable: the order of the records within one area
                sources = tuple(source for _position, source in more)
                value = _merged_all(sources)
        return new_permission(uid, privilege, area, value, sources, self)

    # -- explaining ------------------------------------------------------------------------------

    def _parts(
        self,
    ) -> tuple[list[RoleAssignment], list[RoleAssignment], list[tuple[RoleAssignment, str]]]:
        active: list[RoleAssignment] = []
        inactive: list[RoleAssignment] = []
        barred: list[tuple[RoleAssignment, str]] = []
        reasons = self.reasons if self.reasons is not None else [None] * len(self.held)
        for held, reason in zip(self.held, reasons, strict=True):
            if not held.is_current(self.at):
                inactive.append(held)
            elif reason is not None:
                barred.append((held, reason))
            else:
                active.append(held)
        return active, inactive, barred

    @property
    def active(self) -> list[RoleAssignment]:
        """The roles in force in this window (and not barred)."""
        return self._parts()[0]

    @property
    def inactive(self) -> list[RoleAssignment]:
        """The roles out of their window."""
        return self._parts()[1]

    @property
    def barred(self) -> list[tuple[RoleAssignment, str]]:
        """The roles in their window that a class account may not hold now, with why."""
        return self._parts()[2]

    def explain(self, permission: Permission) -> tuple[str, ...]:
        if permission.granted:
            return self.index._explain_granted(permission, self)
        return self.index._why_not(permission.uid, self, permission.privilege, permission.area)


def window(
    records: Sequence[RoleAssignment], at: datetime
) -> tuple[datetime | None, datetime | None]:
    """The window around ``at`` in which none of ``records`` starts or ends: the last start or
    end at or before ``at`` (None: none) and the first after it (None: none)."""
    lo: datetime | None = None
    hi: datetime | None = None
    for record in records:
        for boundary in (record.start, record.end):
            if boundary is None:
                continue
            if boundary <= at:
                if lo is None or boundary > lo:
                    lo = boundary
            elif hi is None or boundary < hi:
                hi = boundary
    return lo, hi


_DOMAIN, _COURSE = Level.DOMAIN, Level.COURSE


def _first(found: tuple[int, Source]) -> int:
    return found[0]


_source: Callable[[type[Source], tuple[Any, ...]], Source] = tuple.__new__
"""``Source(...)`` without the named tuple's ``__new__`` wrapper."""
