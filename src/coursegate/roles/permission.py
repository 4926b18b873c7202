"""The answers of the roles core: the merged :class:`Permission` of a privilege before
conditions (with the :class:`Source` roles it came from and its explanation), and the
:class:`Decision` after them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple, Protocol

from coursegate.roles.areas import Area
from coursegate.roles.privileges import FULL, Level

__all__ = [
    "Decision",
    "Explainer",
    "Permission",
    "PermissionDraft",
    "Source",
    "new_permission",
]


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


class PermissionDraft:
    """A :class:`Permission` being filled in: the same slots, so the same layout, but not
    frozen, so filling it is plain slot stores (see :func:`new_permission`)."""

    __slots__ = Permission.__slots__
    uid: str
    privilege: str
    area: Area
    value: str
    sources: tuple[Source, ...]
    explainer: Explainer


def new_permission(
    uid: str,
    privilege: str,
    area: Area,
    value: str,
    sources: tuple[Source, ...],
    explainer: Explainer,
) -> Permission:
    """``Permission(uid, privilege, area, value, sources, explainer)``, made four times faster:
    filled in as a :class:`PermissionDraft`, then given its class (the layouts are the same, which
    Python checks). The roles core makes one for every question it answers; the frozen
    dataclass's ``__init__`` sets each field through ``object.__setattr__``."""
    made = PermissionDraft()
    made.uid = uid
    made.privilege = privilege
    made.area = area
    made.value = value
    made.sources = sources
    made.explainer = explainer
    made.__class__ = Permission  # type: ignore[assignment]
    return made  # type: ignore[return-value]


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
