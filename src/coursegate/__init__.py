"""coursegate: decides, explains and enforces who may do what in a course, and when.

The library entry points:

* :func:`decide` — one decision request (dict or JSON) → :class:`~coursegate.core.decision.Decision`
* :func:`score` — a percentage score from points and the credit available
"""

from coursegate.core.credit import score
from coursegate.core.decision import AssessmentDecision, CourseInstanceDecision, Decision
from coursegate.courses.problems import CourseError, Problem
from coursegate.services.access.decisions.request import decide

__all__ = [
    "AssessmentDecision",
    "CourseError",
    "CourseInstanceDecision",
    "Decision",
    "Problem",
    "decide",
    "score",
]
