"""Decisions and their explanations: what the core answers.

A decision is data. It carries its explanation (which rule, override or role decided) and the
next instant at which anything in it changes, so every interface can show "why" and "until
when" without re-deriving it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from coursegate.core.frozen import quick_factory, quick_init
from coursegate.core.instants import Instant, format_instant
from coursegate.core.model import Form


@quick_init
@dataclass(frozen=True, slots=True)
class AssessmentDecision:
    """What a user may do with one assessment at one instant."""

    rules: Form | None
    access: bool
    listed: bool
    can_start: bool
    submittable: bool
    credit: float
    credit_text: str
    time_limit_minutes: int | None
    password_required: bool
    read_only: bool
    complete: bool
    questions_visible: bool
    score_visible: bool
    exam_access_end: Instant | None
    explanation: tuple[str, ...]
    next_change: Instant | None = None

    def with_next(self, next_change: Instant | None) -> AssessmentDecision:
        """A copy with ``next_change`` set (much cheaper than ``replace``)."""
        return new_assessment_decision(
            self.rules,
            self.access,
            self.listed,
            self.can_start,
            self.submittable,
            self.credit,
            self.credit_text,
            self.time_limit_minutes,
            self.password_required,
            self.read_only,
            self.complete,
            self.questions_visible,
            self.score_visible,
            self.exam_access_end,
            self.explanation,
            next_change,
        )

    def with_credit_text(self, credit_text: str) -> AssessmentDecision:
        """A copy with ``credit_text`` set (as :meth:`with_next`)."""
        return new_assessment_decision(
            self.rules,
            self.access,
            self.listed,
            self.can_start,
            self.submittable,
            self.credit,
            credit_text,
            self.time_limit_minutes,
            self.password_required,
            self.read_only,
            self.complete,
            self.questions_visible,
            self.score_visible,
            self.exam_access_end,
            self.explanation,
            self.next_change,
        )

    def key(self) -> tuple[object, ...]:
        """Everything a user can observe except the explanation and ``next_change``."""
        return (
            self.access,
            self.listed,
            self.can_start,
            self.submittable,
            self.credit,
            self.credit_text,
            self.time_limit_minutes,
            self.password_required,
            self.read_only,
            self.complete,
            self.questions_visible,
            self.score_visible,
            self.exam_access_end,
        )

    def to_json(self, tz: tzinfo | None) -> dict[str, Any]:
        return {
            "rules": self.rules.value if self.rules is not None else None,
            "access": self.access,
            "listed": self.listed,
            "can_start": self.can_start,
            "submittable": self.submittable,
            "credit": _number(self.credit),
            "credit_text": self.credit_text,
            "time_limit_minutes": self.time_limit_minutes,
            "password_required": self.password_required,
            "read_only": self.read_only,
            "complete": self.complete,
            "questions_visible": self.questions_visible,
            "score_visible": self.score_visible,
            "next_change": _when(self.next_change, tz),
            "exam_access_end": _when(self.exam_access_end, tz),
            "explanation": list(self.explanation),
        }


new_assessment_decision = quick_factory(AssessmentDecision)
"""``AssessmentDecision(...)`` with every field given in order, three times faster (the core
builds one per interval of every compiled timeline)."""


@quick_init
@dataclass(frozen=True, slots=True)
class CourseInstanceDecision:
    """Whether a user may enter a course instance at one instant."""

    access: bool
    explanation: tuple[str, ...]
    next_change: Instant | None = None

    def with_next(self, next_change: Instant | None) -> CourseInstanceDecision:
        return CourseInstanceDecision(self.access, self.explanation, next_change)

    def key(self) -> tuple[object, ...]:
        return (self.access,)

    def to_json(self, tz: tzinfo | None) -> dict[str, Any]:
        return {
            "access": self.access,
            "explanation": list(self.explanation),
            "next_change": _when(self.next_change, tz),
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to a decision request."""

    at: Instant
    tz: tzinfo = field(compare=False)
    course_instance: CourseInstanceDecision
    assessment: AssessmentDecision | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "at": format_instant(self.at, self.tz),
            "course_instance": self.course_instance.to_json(self.tz),
        }
        if self.assessment is not None:
            out["assessment"] = self.assessment.to_json(self.tz)
        return out


def _number(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x


def _when(t: Instant | None, tz: tzinfo | None) -> str | None:
    return None if t is None else format_instant(t, tz)
