"""The one internal model every access form is normalised to.

Legacy ``allowAccess`` rules, the modern ``accessControl`` list and the RFC's object form all
become an :class:`AssessmentPolicy`: an ordered tuple of :class:`Grant` values. A grant says
"while these conditions hold, between ``start`` and ``end``, the user may do this, for this
credit". Among the grants that apply at an instant the one with the highest credit wins (an
explicit 0 beats an absent credit; ties go to the earlier grant), exactly as legacy rules do.
The modern and RFC forms compile to grants that never compete in the same mode, so the same
winner rule serves all three.

Facts about a user and their attempt (:class:`UserFacts`, :class:`InstanceFacts`,
:class:`Reservation`) come from outside; nothing here looks them up.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import Enum, IntEnum
from operator import attrgetter
from typing import Any

from coursegate.core.frozen import quick_factory, quick_init
from coursegate.core.instants import MAX_INSTANT, MIN_INSTANT, Instant


def canonical_uid(typed: str) -> str:
    """A user id as stored and looked up: the spaces at its ends removed and, when it has the
    shape of an email address (``name@realm``), lower-cased as a whole — the local part too.

    People type their institutional id in whatever case their address book shows it
    (``Ana@Example.EDU``); mail servers treat such addresses alike, no institution issues two
    that differ only by case, and systems people sign in to every day (Canvas, Moodle)
    lower-case the whole login. A user id without ``@`` (a Unix or Kerberos login name, a class
    account) is kept as typed: those are case-sensitive where they come from. The one rule for
    every place a user id is read — sign-in, forms, CSV files, the API, the command line, the
    ``uids`` of legacy rules in course files — and for migration 0008, which brought the stored
    ids to this form."""
    uid = typed.strip()
    return uid.lower() if "@" in uid else uid


class Role(IntEnum):
    """Course roles, ordered: a rule for "at least TA" admits instructors too."""

    STUDENT = 1
    TA = 2
    INSTRUCTOR = 3

    @property
    def label(self) -> str:
        return {Role.STUDENT: "Student", Role.TA: "TA", Role.INSTRUCTOR: "Instructor"}[self]

    @staticmethod
    def parse(text: str) -> Role:
        key = text.strip().lower()
        for role in Role:
            if role.label.lower() == key:
                return role
        raise ValueError(f"{text!r} is not a role; use Student, TA or Instructor")


class Mode(Enum):
    """The server mode a user is in: Exam at a testing centre, Public everywhere else."""

    PUBLIC = "Public"
    EXAM = "Exam"


class Form(Enum):
    """Which of the three accepted forms an assessment's access was written in."""

    LEGACY = "legacy"
    MODERN = "modern"
    RFC = "rfc"


ALWAYS: tuple[tuple[Instant, Instant], ...] = ((MIN_INSTANT, MAX_INSTANT),)
NEVER: tuple[tuple[Instant, Instant], ...] = ()


@dataclass(frozen=True, slots=True)
class Visibility:
    """When something (questions or score) is visible after completion: half-open windows."""

    windows: tuple[tuple[Instant, Instant], ...] = ALWAYS
    reason: str = ""

    def visible_at(self, t: Instant) -> bool:
        return any(a <= t < b for a, b in self.windows)

    def boundaries(self) -> list[Instant]:
        if self.windows is ALWAYS:
            return []  # the common case, asked for every grant of every compiled timeline
        return [x for w in self.windows for x in w if MIN_INSTANT < x < MAX_INSTANT]


@quick_init
@dataclass(frozen=True, slots=True)
class Grant:
    """One way of getting access, normalised from any form.

    ``start``/``end`` are half-open: the grant holds for ``start <= t < end``. Legacy rules'
    inclusive end dates are stored as ``end + 1 microsecond``.
    """

    source: str
    """Where it comes from, for explanations: ``allowAccess[2]``, ``due date``, ..."""
    start: Instant = MIN_INSTANT
    end: Instant = MAX_INSTANT
    shown_end: Instant | None = None
    """The deadline as the file wrote it (legacy inclusive end), for "until ..." texts."""
    exam_mode: bool = False
    """True: applies only in Exam mode; False: only in Public mode."""
    exam_uuid: str | None = None
    """With a value: only during a reservation for that exam (and only in Exam mode)."""
    uids: frozenset[str] | None = None
    min_role: Role = Role.STUDENT
    credit: float = 0
    credit_given: bool = True
    """False when a legacy rule had no ``credit``: it then loses to an explicit 0."""
    active: bool = True
    """Accepts submissions (and, with ``can_create``, new instances)."""
    can_create: bool = True
    complete: bool = False
    """Being in this grant makes the attempt complete (no positive credit any more)."""
    listed_only: bool = False
    """Lists the assessment (title, no link) without giving access: before release."""
    needs_instance: bool = False
    """Holds only for a user who already has an attempt (reviewing a testing-centre exam)."""
    time_limit_minutes: int | None = None
    cap_end: Instant | None = None
    """The time limit is capped by the minutes left until this instant (less 31 s)."""
    password: str | None = None
    read_only: bool = False
    questions: Visibility = field(default_factory=Visibility)
    """When questions stay visible after completion."""
    score: Visibility = field(default_factory=Visibility)
    """When the score stays visible after completion."""
    score_visible_while_open: bool = False
    """RFC: a hidden score is still shown while the instance is open."""
    hidden_score_hides_questions: bool = False
    """Modern: a hidden score forces hidden questions."""

    @property
    def rank(self) -> float:
        """Winner ordering: highest credit; an explicit 0 beats an absent credit."""
        return self.credit if self.credit_given else -1.0


_GRANT_FIELDS = tuple(f.name for f in fields(Grant))
_new_grant = quick_factory(Grant)
_GRANT_POSITION = {name: i for i, name in enumerate(_GRANT_FIELDS)}
_grant_values = attrgetter(*_GRANT_FIELDS)


def grant_with(g: Grant, **changes: Any) -> Grant:
    """``dataclasses.replace(g, **changes)``, several times cheaper (compiling settings makes a
    grant this way per deadline and per student with an extension)."""
    values = list(_grant_values(g))
    for name, value in changes.items():
        values[_GRANT_POSITION[name]] = value
    return _new_grant(*values)


@quick_init
@dataclass(frozen=True, slots=True)
class AssessmentPolicy:
    """An assessment's access for one class of users, in the one internal model."""

    form: Form
    grants: tuple[Grant, ...]
    published: bool = True
    notes: tuple[str, ...] = ()
    """Explanations of how the policy was put together (which overrides applied)."""


@dataclass(frozen=True, slots=True)
class Reservation:
    """A testing-centre reservation: access to ``exam_uuid`` during ``[start, end)``."""

    exam_uuid: str
    access_start: Instant
    access_end: Instant


@dataclass(frozen=True, slots=True)
class UserFacts:
    """What the decision needs to know about the user."""

    uid: str = ""
    role: Role = Role.STUDENT
    sections: frozenset[str] = frozenset()
    institution: str | None = None


@dataclass(frozen=True, slots=True)
class InstanceFacts:
    """The user's assessment instance, if one exists."""

    open: bool = True
    date_limit: Instant | None = None
    """When the time limit ends; the instance is complete from then on."""


@dataclass(frozen=True, slots=True)
class EnrollmentFacts:
    status: str = "joined"  # "joined" | "invited" | "blocked" | "removed" | "none"
    publishing_extension_end: Instant | None = None
