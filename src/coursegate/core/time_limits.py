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


def no_time_left_from(cap_end: Instant) -> Instant:
    """Where :func:`capped_minutes` reaches 0: from then on no new attempt can start."""
    return cap_end - GRACE - _HALF


def drops_within(
    limit: int, cap_end: Instant | None, start: Instant, end: Instant
) -> tuple[Instant, int]:
    """The instants of :func:`cap_breakpoints` as (the first, how many): they are one minute
    apart, so two numbers say where they all are (``(0, 0)`` for none)."""
    if cap_end is None:
        return 0, 0
    zero = no_time_left_from(cap_end)
    # The drop to k is at zero - k*MINUTE; keep start < zero - k*MINUTE < end.
    k_lo = max(0, (zero - end) // MINUTE + 1)
    k_hi = min(limit - 1, (zero - start - 1) // MINUTE)
    if k_hi < k_lo:
        return 0, 0
    return zero - k_hi * MINUTE, k_hi - k_lo + 1


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
