"""Score from credit: turning points into a percentage score, as the seed docs define it.

* Credit below 100: the percentage is capped at the credit
  (credit 80, 8/10 → 80; 9/10 → still 80).
* Credit of 100: the percentage is points / maxPoints × 100.
* Credit above 100: the percentage rises with points and is scaled by credit/100 once the points
  reach maxPoints (credit 120: 8/10 → 80, 10/10 → 120).
* Bonus points count up to ``maxPoints + bonus``.
* The stored percentage never decreases: a later, lower-credit submission keeps the higher score.
"""

from __future__ import annotations


def score(
    points: float,
    max_points: float,
    bonus: float = 0,
    credit: float = 100,
    previous_percent: float = 0,
) -> float:
    """The new percentage score after earning ``points`` while ``credit`` percent is available."""
    if max_points <= 0:
        raise ValueError("max_points must be positive")
    if bonus < 0:
        raise ValueError("bonus must not be negative")
    if credit < 0:
        raise ValueError("credit must not be negative")
    earned = min(max(points, 0.0), max_points + bonus)
    raw = earned / max_points * 100
    if credit < 100:
        new = min(raw, credit)
    elif credit > 100 and earned >= max_points:
        new = raw * credit / 100
    else:
        new = raw
    return max(previous_percent, new)
