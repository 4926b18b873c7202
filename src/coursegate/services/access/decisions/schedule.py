"""A student's dates read off their own timeline of one assessment
(:meth:`~coursegate.core.timeline.Timeline.intervals`), so their exceptions, sections and the
course instance's dates are always included, whatever form the files use; and the status of an
assessment for them. See ``docs/store-decisions.md``:

* a **credited window** is a maximal run of intervals in which an open attempt earns credit;
  the timeline read for dates is the student's own with an attempt assumed open, so a time
  limit that stops *new* attempts a minute before the deadline does not move the deadline;
* the **due credit** is 100%, or the highest credit the student can ever earn when that is
  less; the **due date** is the end of the last interval whose credit is at least the due
  credit (``None``: credit never stops, or never starts);
* **early deadlines** end bands with more than the due credit before the due date; **late
  deadlines** end credited bands after it;
* **reveals** are changes of question or score visibility read off the same timeline with the
  attempt assumed closed (what a student who has finished sees, and from when).
"""

from __future__ import annotations

from dataclasses import dataclass

from coursegate.core.decision import AssessmentDecision
from coursegate.core.instants import MAX_INSTANT, MIN_INSTANT, Instant
from coursegate.core.timeline import Timeline

DUE_CREDIT = 100.0

UPCOMING = "upcoming"
OPEN = "open"
LATE = "late"
PRACTICE_ONLY = "practice only"
CLOSED = "closed"
STATUSES = (UPCOMING, OPEN, LATE, PRACTICE_ONLY, CLOSED)


@dataclass(frozen=True, slots=True)
class Band:
    """A maximal run of equal positive credit: ``[start, end)``."""

    start: Instant
    end: Instant
    credit: float


@dataclass(frozen=True, slots=True)
class Reveal:
    """After completion, ``what`` (questions, score, or both) becomes visible or hidden."""

    at: Instant
    what: str
    visible: bool


@dataclass(frozen=True, slots=True)
class Schedule:
    """An assessment's dates for one student, read off their timeline."""

    windows: tuple[tuple[Instant, Instant], ...]
    """Credited windows, ``[start, end)``; MIN/MAX_INSTANT for "always"/"for ever"."""
    bands: tuple[Band, ...]
    due_credit: float | None
    due: Instant | None
    early: tuple[tuple[Instant, float], ...]
    late: tuple[tuple[Instant, float], ...]
    reveals: tuple[Reveal, ...]

    @property
    def release(self) -> Instant | None:
        """When credit can first be earned (None: since ever, or never)."""
        if not self.windows or self.windows[0][0] <= MIN_INSTANT:
            return None
        return self.windows[0][0]


def read_schedule(
    tl: Timeline[AssessmentDecision], completed: Timeline[AssessmentDecision] | None = None
) -> Schedule:
    """Credited windows, due date, early and late deadlines of ``tl`` (the student's timeline
    with an attempt assumed open), and the reveals of ``completed`` (the same with the attempt
    assumed closed; default ``tl``)."""
    intervals = tl.intervals()
    bands: list[Band] = []
    for a, b, d in intervals:
        if d.credit <= 0:
            continue
        last = bands[-1] if bands else None
        if last is not None and last.end == a and last.credit == d.credit:
            bands[-1] = Band(last.start, b, last.credit)
        else:
            bands.append(Band(a, b, d.credit))
    windows: list[tuple[Instant, Instant]] = []
    for band in bands:
        if windows and windows[-1][1] == band.start:
            windows[-1] = (windows[-1][0], band.end)
        else:
            windows.append((band.start, band.end))
    due_credit: float | None = None
    due: Instant | None = None
    early: list[tuple[Instant, float]] = []
    late: list[tuple[Instant, float]] = []
    if bands:
        due_credit = min(DUE_CREDIT, max(b.credit for b in bands))
        end = max(b.end for b in bands if b.credit >= due_credit)
        due = None if end >= MAX_INSTANT else end
        for band in bands:
            if band.end >= MAX_INSTANT:
                continue
            if (due is None or band.end < due) and band.credit > due_credit:
                early.append((band.end, band.credit))
            elif due is not None and band.start >= due:
                late.append((band.end, band.credit))
    reveals: list[Reveal] = []
    prev: AssessmentDecision | None = None
    for a, _, d in intervals if completed is None else completed.intervals():
        if prev is not None and prev.access and d.access and prev.complete and d.complete:
            pairs = (
                ("questions", prev.questions_visible, d.questions_visible),
                ("score", prev.score_visible, d.score_visible),
            )
            shown = [w for w, x, y in pairs if not x and y]
            hidden = [w for w, x, y in pairs if x and not y]
            if shown:
                reveals.append(Reveal(a, " and ".join(shown), True))
            if hidden:
                reveals.append(Reveal(a, " and ".join(hidden), False))
        prev = d
    return Schedule(
        tuple(windows), tuple(bands), due_credit, due, tuple(early), tuple(late), tuple(reveals)
    )


def status_of(
    d: AssessmentDecision, tl: Timeline[AssessmentDecision], at: Instant, due: Instant | None
) -> str:
    """upcoming, open, late, practice only or closed, from the decision at ``at``, the
    student's timeline ``tl`` and their due date."""
    if d.access and d.submittable and d.credit > 0:
        return LATE if due is not None and at >= due else OPEN
    if d.access and d.submittable:
        return PRACTICE_ONLY
    if any(v.credit > 0 for _, _, v in tl.intervals(at)):
        return UPCOMING
    return CLOSED
