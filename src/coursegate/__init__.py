"""coursegate: decides, explains and enforces who may do what in a course, and when.

The library entry points:

* :func:`decide` — one decision request (dict or JSON) → :class:`~coursegate.core.decision.Decision`
* :func:`score` — a percentage score from points and the credit available

Each is imported on first use (``from coursegate import decide`` or ``coursegate.decide``), so
importing a part of the package — the command line's ``--help``, the roles core — does not load
the course files' models.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from coursegate.core.credit import score
    from coursegate.core.decision import AssessmentDecision, CourseInstanceDecision, Decision
    from coursegate.courses.problems import CourseError, Problem
    from coursegate.services.access.decisions.request import decide

_HOMES = {
    "AssessmentDecision": "coursegate.core.decision",
    "CourseError": "coursegate.courses.problems",
    "CourseInstanceDecision": "coursegate.core.decision",
    "Decision": "coursegate.core.decision",
    "Problem": "coursegate.courses.problems",
    "decide": "coursegate.services.access.decisions.request",
    "score": "coursegate.core.credit",
}
"""Each entry point and the module it lives in."""

__all__ = [
    "AssessmentDecision",
    "CourseError",
    "CourseInstanceDecision",
    "Decision",
    "Problem",
    "decide",
    "score",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
