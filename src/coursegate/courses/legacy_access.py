"""The legacy form of an assessment's access (``allowAccess`` rules), read into the core's
legacy rules with PrairieLearn's checks and coursegate's warnings."""

from __future__ import annotations

from typing import Any

from coursegate.core.legacy_rules import LegacyRule
from coursegate.core.model import Mode, Role, canonical_uid
from coursegate.courses import models as m
from coursegate.courses.reader import Reader


def legacy_rules(r: Reader, data: Any, path: str) -> tuple[LegacyRule, ...] | None:
    """Read an ``allowAccess`` list (at ``path``) into rules; None when it does not validate."""
    rules = r.model(list[m.LegacyRuleModel], data, path)
    if rules is None:
        return None
    out: list[LegacyRule] = []
    for i, rule in enumerate(rules):
        p = f"{path}[{i}]"
        start = r.date(rule.startDate, f"{p}.startDate")
        end = r.date(rule.endDate, f"{p}.endDate")
        if start is not None and end is not None and start > end:
            r.error(p, f"startDate {rule.startDate} is after endDate {rule.endDate}")
        _check_rule(r, rule, p)
        out.append(
            LegacyRule(
                index=i,
                mode=Mode(rule.mode) if rule.mode else None,
                uids=frozenset(map(canonical_uid, rule.uids)) if rule.uids is not None else None,
                role=Role.parse(rule.role) if rule.role else None,
                start=start,
                end=end,
                credit=rule.credit,
                time_limit_minutes=rule.timeLimitMin,
                password=rule.password,
                exam_uuid=rule.examUuid,
                active=rule.active,
                show_closed_assessment=rule.showClosedAssessment,
                show_closed_assessment_score=rule.showClosedAssessmentScore,
                source=f"{path.removeprefix('$.')}[{i}]",
            )
        )
    return tuple(out)


def _check_rule(r: Reader, rule: m.LegacyRuleModel, p: str) -> None:
    """What a rule's keys mean together: credit without access, Exam mode and examUuid, uids."""
    if not rule.active and rule.credit:
        r.error(
            f"{p}.credit",
            'a rule with "active": false gives view-only access, so its credit must be 0',
        )
    if rule.examUuid is not None and rule.mode == "Public":
        r.warn(
            f"{p}.mode",
            "a rule with examUuid applies only in Exam mode (with a reservation); "
            '"mode": "Public" is ignored',
        )
    if rule.mode == "Exam" and rule.examUuid is None:
        r.warn(
            p,
            "an Exam-mode rule without examUuid applies to anyone in Exam mode at any "
            "testing centre; link the exam with examUuid to limit it to its reservations",
        )
    for j, uid in enumerate(rule.uids or []):
        if any(c in uid for c in " ,;"):
            r.warn(
                f"{p}.uids[{j}]",
                f"{uid!r} contains a space, comma or semicolon: write one uid per entry",
            )
