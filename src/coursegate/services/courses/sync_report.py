"""The report of a course sync: what it created, changed, retired or restored, whose decisions
change and how (:class:`Impact`), and its warnings, as text for the command line and as JSON."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Change:
    kind: str  # created | changed | retired | restored
    what: str
    detail: str = ""

    def render(self) -> str:
        return f"{self.what}: {self.kind}" + (f" ({self.detail})" if self.detail else "")


KIND_WORDS: dict[str, tuple[str, str]] = {
    "access": ("access to the course instance", "changes"),
    "release": ("release", "moves"),
    "early": ("early deadlines", "change"),
    "due": ("due date", "moves"),
    "late": ("late deadlines", "change"),
    "time_limit": ("time limit", "changes"),
    "password": ("password", "changes"),
    "visibility": ("visibility", "changes"),
    "access_end": ("end of access", "moves"),
    "decisions": ("decisions", "change"),
}
"""Each kind of change: its noun and the verb for it alone."""
KIND_ORDER = tuple(KIND_WORDS)
DATE_KINDS = frozenset({"release", "early", "due", "late"})
SHOWN_INDIRECT = 10
"""Assessments listed one by one in the text report when only the course instance's settings
changed them (the JSON report lists every one)."""


def describe_kinds(kinds: Sequence[str]) -> str:
    """``("due",)`` → "due date moves"; several → "release, due date and late deadlines change"."""
    if not kinds:
        return KIND_WORDS["decisions"][0] + " " + KIND_WORDS["decisions"][1]
    if len(kinds) == 1:
        noun, verb = KIND_WORDS[kinds[0]]
        return f"{noun} {verb}"
    nouns = [KIND_WORDS[k][0] for k in kinds]
    return f"{', '.join(nouns[:-1])} and {nouns[-1]} change"


def _students(n: int) -> str:
    return f"{n:,} student" + ("" if n == 1 else "s")


@dataclass
class Impact:
    """Whose decisions one change alters."""

    what: str
    """``Sp24/hw/hw3``, or ``course instance Sp24``."""
    enrolled: int
    groups: list[tuple[tuple[str, ...], int]] = field(default_factory=list)
    """The kinds of change and how many students see each combination, most first."""
    kept: int = 0
    """Students with their own exceptions (extensions) whose decisions do not change."""
    exception_word: str = "exceptions"
    note: str = ""
    """Why an unchanged file is listed (the course instance's settings changed)."""

    @property
    def students_changed(self) -> int:
        return sum(n for _, n in self.groups)

    def render(self) -> str:
        head = self.what + (f" ({self.note})" if self.note else "") + ": "
        if self.enrolled == 0:
            return head + "no students are enrolled, so no decisions change"
        parts = [f"{describe_kinds(kinds)} for {_students(n)}" for kinds, n in self.groups]
        if not parts:
            parts = [f"no student's decisions change ({self.enrolled:,} enrolled)"]
        if self.kept:
            if self.kept == 1:
                word = "an exception" if self.exception_word == "exceptions" else "an extension"
                parts.append(f"1 student with {word} keeps theirs")
            else:
                parts.append(f"{self.kept:,} students with {self.exception_word} keep theirs")
        return head + "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "text": self.render(),
            "enrolled": self.enrolled,
            "students_changed": self.students_changed,
            "changes": [{"kinds": list(k), "students": n} for k, n in self.groups],
            "kept": self.kept,
        }


@dataclass
class SyncReport:
    course: str
    changes: list[Change] = field(default_factory=list)
    impacts: list[Impact] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False
    files_unchanged: bool = False
    """Every file was exactly as last synced (nothing was validated or written)."""

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def render(self) -> str:
        head = f"course {self.course}: " + (
            f"{len(self.changes)} change(s)" if self.changes else "nothing to change"
        )
        if self.files_unchanged:
            head += " (every file is as last synced)"
        if self.dry_run:
            head += " (dry run: nothing written)"
        lines = [head]
        lines += [f"  {c.render()}" for c in self.changes]
        if self.impacts:
            lines.append("whose decisions change:")
            indirect = [i for i in self.impacts if i.note]
            hidden = indirect[SHOWN_INDIRECT:]
            skip = {id(i) for i in hidden}
            lines += [f"  {i.render()}" for i in self.impacts if id(i) not in skip]
            if hidden:
                lines.append(
                    f"  ... and {len(hidden):,} more assessments whose decisions change through"
                    " the course instance's settings (--json lists them all)"
                )
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "course": self.course,
            "dry_run": self.dry_run,
            "files_unchanged": self.files_unchanged,
            "changes": [c.__dict__ for c in self.changes],
            "impacts": [i.to_json() for i in self.impacts],
            "warnings": self.warnings,
        }


__all__ = [
    "Change",
    "Impact",
    "SyncReport",
    "describe_kinds",
]
