"""Condition R of the roles core, answered by the decision core.

A privilege with condition R (``bre&R`` for TAs, exam proctors and students) is allowed only
when "the resource's own access rules" allow it. For an assessment those rules are the core's
assessment decision. :func:`assessment_rule` builds the :class:`~coursegate.roles.ResourceRule`
that the roles core calls, from any function that decides the assessment for a user at an
instant — so neither package imports the other and the rule lives in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from coursegate.core.decision import AssessmentDecision
from coursegate.core.instants import Instant, to_instant
from coursegate.roles import Area, ResourceVerdict

DecideFor = Callable[[str, Instant], AssessmentDecision]
"""(uid, at) -> the assessment decision for that user at that instant."""


def assessment_rule(decide_for: DecideFor, name: str = "the assessment") -> _AssessmentRule:
    """A condition-R rule: allowed exactly when the assessment decision gives access."""
    return _AssessmentRule(decide_for, name)


class _AssessmentRule:
    def __init__(self, decide_for: DecideFor, name: str) -> None:
        self.decide_for = decide_for
        self.name = name

    def __call__(self, uid: str, privilege: str, area: Area, at: datetime) -> ResourceVerdict:
        d = self.decide_for(uid, to_instant(at))
        why = "; ".join(d.explanation)
        if d.access:
            return ResourceVerdict(True, f"{self.name} gives {uid} access now ({why})")
        return ResourceVerdict(False, f"{self.name} gives {uid} no access now ({why})")
