"""Areas: where a role is held and where a privilege is checked.

An area is one of four kinds, written the way LON-CAPA writes them:

==========  =======================  ==========================================
kind        written                  meaning
==========  =======================  ==========================================
system      ``/``                    the whole installation
domain      ``/msu/``                one institution (note the trailing slash)
course      ``/msu/c1``              one course instance
section     ``/msu/c1/s1``           one section of a course instance
==========  =======================  ==========================================

:func:`walk` is the one place that says which areas a check looks at: a check at a section
also sees what is held for its course, its domain and the system, in that order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

__all__ = ["Area", "AreaError", "AreaKind", "walk"]

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}")
_NAME_RULE = (
    "letters, digits, '_', '-' and '.', at most 64 characters, not starting with '.' or '-'"
)
_HOW_TO_WRITE = (
    "write / for the whole system, /dom/ for a domain, /dom/course for a course instance "
    "or /dom/course/section for a section"
)


class AreaKind(StrEnum):
    """The four kinds of area, from the widest to the narrowest."""

    SYSTEM = "system"
    DOMAIN = "domain"
    COURSE = "course"
    SECTION = "section"


class AreaError(ValueError):
    """An area was written or built wrongly; the message says how to write it."""


def _check_name(part: str, value: str) -> None:
    if not _NAME.fullmatch(value):
        raise AreaError(f"{value!r} is not a valid {part} name: use {_NAME_RULE}")


@dataclass(frozen=True, slots=True)
class Area:
    """A typed area. Build one with :meth:`parse` or the ``Area.of_*`` constructors.

    ``path`` is the written form (``/msu/c1``); it is computed once and used as the key of the
    compiled privilege lookups.
    """

    domain: str = ""
    course: str = ""
    section: str = ""
    kind: AreaKind = field(init=False, compare=False, repr=False)
    path: str = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.section and not self.course:
            raise AreaError("a section belongs to a course: give the course as well")
        if self.course and not self.domain:
            raise AreaError("a course belongs to a domain: give the domain as well")
        if not self.domain:
            kind, path = AreaKind.SYSTEM, "/"
        else:
            _check_name("domain", self.domain)
            if not self.course:
                kind, path = AreaKind.DOMAIN, f"/{self.domain}/"
            else:
                _check_name("course", self.course)
                if not self.section:
                    kind, path = AreaKind.COURSE, f"/{self.domain}/{self.course}"
                else:
                    _check_name("section", self.section)
                    kind = AreaKind.SECTION
                    path = f"/{self.domain}/{self.course}/{self.section}"
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "path", path)

    # -- constructors -------------------------------------------------------------------------

    @staticmethod
    def system() -> Area:
        """The whole installation, written ``/``."""
        return _SYSTEM

    @staticmethod
    def of_domain(domain: str) -> Area:
        """A domain (institution), written ``/msu/``."""
        return Area(domain)

    @staticmethod
    def of_course(domain: str, course: str) -> Area:
        """A course instance, written ``/msu/c1``."""
        return Area(domain, course)

    @staticmethod
    def of_section(domain: str, course: str, section: str) -> Area:
        """A section of a course instance, written ``/msu/c1/s1``."""
        return Area(domain, course, section)

    @staticmethod
    def parse(text: str) -> Area:
        """Read the written form of an area; :class:`AreaError` says what is wrong and how."""
        return _parse(text)

    # -- relations ----------------------------------------------------------------------------

    def __str__(self) -> str:
        return self.path

    @property
    def parent(self) -> Area | None:
        """The next wider area (section -> course -> domain -> system), or None for the system."""
        if self.section:
            return Area(self.domain, self.course)
        if self.course:
            return Area(self.domain)
        if self.domain:
            return _SYSTEM
        return None

    @property
    def course_area(self) -> Area | None:
        """The course instance this area is in (a section's course), or None above courses."""
        if self.section:
            return Area(self.domain, self.course)
        if self.course:
            return self
        return None

    @property
    def domain_area(self) -> Area | None:
        """The domain this area is in, or None for the system."""
        return Area(self.domain) if self.domain else None

    def contains(self, other: Area) -> bool:
        """True when ``other`` is this area or lies inside it."""
        return self in walk(other)

    def describe(self) -> str:
        """A short plain-English description, e.g. ``section s1 of course msu/c1``."""
        if self.kind is AreaKind.SYSTEM:
            return "the whole system (/)"
        if self.kind is AreaKind.DOMAIN:
            return f"domain {self.domain} ({self.path})"
        if self.kind is AreaKind.COURSE:
            return f"course {self.path}"
        return f"section {self.section} of course /{self.domain}/{self.course}"


_SYSTEM = Area()


@lru_cache(maxsize=65536)
def _parse(text: str) -> Area:
    if not isinstance(text, str):
        raise AreaError(f"an area is written as text, not {type(text).__name__}")
    if not text:
        raise AreaError(f"an area may not be empty: {_HOW_TO_WRITE}")
    if not text.startswith("/"):
        raise AreaError(f"{text!r} does not start with '/': {_HOW_TO_WRITE}")
    if text == "/":
        return _SYSTEM
    parts = text[1:].split("/")
    if len(parts) == 1:
        raise AreaError(f"{text!r} names a domain without the trailing slash: write {text}/")
    if len(parts) == 2 and parts[1] == "":
        return Area(_named("domain", parts[0], text))
    if parts[-1] == "":
        raise AreaError(
            f"{text!r} ends with '/', which only a domain does: write {text.rstrip('/')}"
        )
    if len(parts) > 3:
        raise AreaError(
            f"{text!r} has {len(parts)} parts; an area has at most three (domain, course, section)"
        )
    domain = _named("domain", parts[0], text)
    course = _named("course", parts[1], text)
    if len(parts) == 2:
        return Area(domain, course)
    return Area(domain, course, _named("section", parts[2], text))


def _named(part: str, value: str, text: str) -> str:
    if value == "":
        raise AreaError(f"{text!r} has an empty {part} name: {_HOW_TO_WRITE}")
    try:
        _check_name(part, value)
    except AreaError as error:
        raise AreaError(f"in {text!r}: {error}") from None
    return value


@lru_cache(maxsize=65536)
def walk(area: Area) -> tuple[Area, ...]:
    """The areas a check at ``area`` looks at, narrowest first: section, course, domain, system.

    This is the only place the order of the walk is written down. A role held for a section
    is seen by checks at that section only; a role held for a course is seen by checks at the
    course and at each of its sections; domain and system privileges are seen below them.
    """
    chain: list[Area] = []
    current: Area | None = area
    while current is not None:
        chain.append(current)
        current = current.parent
    return tuple(chain)
