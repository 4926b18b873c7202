"""Time limits: a rule's limit, capped by the minutes left before its access ends.

As PrairieLearn does: the time limit offered when a user starts is the smaller of the rule's
limit and the minutes left until the end of access (less a 31-second grace), rounded to the
nearest minute; an exact half rounds down, so an attempt never outlasts access and the limit
changes on whole seconds. There is no time limit in Exam mode (the testing centre's
reservation bounds the attempt). coursegate refuses a start when less than a minute would
remain, rather than opening an attempt that closes at once.
"""

from __future__ import annotations

from coursegate.core.instants import MINUTE, SECOND, Instant

GRACE = 31 * SECOND
_HALF = MINUTE // 2


def capped_minutes(limit: int, cap_end: Instant | None, t: Instant) -> int:
    """The time limit (minutes) for an attempt started at ``t``."""
    if cap_end is None:
        return limit
    left = cap_end - GRACE - t
    rounded = -((_HALF - left) // MINUTE)  # ceil((left - 30 s) / 60 s): halves round down
    return max(0, min(limit, rounded))


def cap_breakpoints(limit: int, cap_end: Instant | None, start: Instant, end: Instant) -> list[int]:
    """Instants in ``(start, end)`` at which :func:`capped_minutes` changes value."""
    if cap_end is None:
        return []
    # The value drops to k at cap_end - GRACE - HALF - k*MINUTE (k = limit-1 ... 0).
    points = []
    for k in range(limit):
        p = cap_end - GRACE - _HALF - k * MINUTE
        if start < p < end:
            points.append(p)
    return points
