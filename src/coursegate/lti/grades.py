"""What coursegate tells an LMS's gradebook (Assignment and Grade Services 2.0), decided
without I/O: a student's score on an assessment as the LMS's score message, and when to try
again after the LMS did not take it.

The score is the assessment's score as coursegate keeps it — the best of the student's attempts,
a percentage that already carries the credit of when each attempt was submitted (docs/decisions.md)
— sent as ``scoreGiven`` out of ``scoreMaximum`` 100. ``activityProgress`` and
``gradingProgress`` follow the attempts: an open attempt is *Started* and *Pending*; a closed
one *Completed* and *FullyGraded*.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MICROS = 1_000_000
FIRST_WAIT = 30 * MICROS
LONGEST_WAIT = 3600 * MICROS
GIVE_UP_AFTER = 8
"""Tries before a score is marked failed (about four hours of back-off in all)."""


@dataclass(frozen=True)
class Attempt:
    open: bool
    score_percent: float
    changed_at: int
    """When it last changed (its start, or when it closed)."""


@dataclass(frozen=True)
class ScoreMessage:
    score_given: float
    score_maximum: float
    activity_progress: str
    grading_progress: str
    timestamp: int

    def same_as(self, other: ScoreMessage | None) -> bool:
        """Whether the LMS already has this (the timestamp aside)."""
        return other is not None and (
            other.score_given,
            other.score_maximum,
            other.activity_progress,
            other.grading_progress,
        ) == (self.score_given, self.score_maximum, self.activity_progress, self.grading_progress)


def score_message(attempts: Iterable[Attempt]) -> ScoreMessage | None:
    """The message for a student's attempts at one assessment (None: no attempt yet)."""
    seen = list(attempts)
    if not seen:
        return None
    any_open = any(a.open for a in seen)
    best = max(a.score_percent for a in seen)
    return ScoreMessage(
        score_given=round(max(0.0, best), 4),
        score_maximum=100.0,
        activity_progress="Started" if any_open else "Completed",
        grading_progress="Pending" if any_open else "FullyGraded",
        timestamp=max(a.changed_at for a in seen),
    )


def next_try(tries: int, at: int) -> int | None:
    """When to send again after ``tries`` failed sends (None: give up): 30 s, doubling each
    time, at most an hour apart."""
    if tries >= GIVE_UP_AFTER:
        return None
    wait: int = min(LONGEST_WAIT, FIRST_WAIT * 2 ** max(0, tries - 1))
    return at + wait


def retryable(status: int) -> bool:
    """The LMS's answer says to try later (too many requests, or its own failure)."""
    return status == 429 or status >= 500
