"""Legacy ``allowAccess`` rules (assessments), as the seed docs and PrairieLearn define them.

A rule grants access when all its restrictions hold; among the rules that grant access the one
with the highest ``credit`` wins (an explicit 0 beats an absent credit; ties go to the earlier
rule) and every modifier (time limit, password, active, what stays visible after closing) comes
from the winner. Dates are inclusive, at the resolution of the file: ``"endDate":
"2014-10-15T23:59:59"`` holds through the whole second 23:59:59, so access ends at 00:00:00
(see :func:`~coursegate.core.instants.inclusive_end`).

Mode, as coursegate reads it (see the core issue and ``docs/access-rules.md``):

* ``mode: "Exam"`` rules apply only in Exam mode (the seed's meaning: the user is at a testing
  centre); with an ``examUuid`` they also need a reservation for that exam whose access window
  contains the instant;
* a rule with an ``examUuid`` is an Exam rule whatever its ``mode`` says;
* every other rule, including one with neither ``mode`` nor ``examUuid``, applies only in
  Public mode, so a student at a testing centre never reaches homework.
"""

from __future__ import annotations

from dataclasses import dataclass

from coursegate.core.instants import MAX_INSTANT, MIN_INSTANT, Instant, inclusive_end
from coursegate.core.model import (
    ALWAYS,
    NEVER,
    AssessmentPolicy,
    Form,
    Grant,
    Mode,
    Role,
    Visibility,
)


@dataclass(frozen=True, slots=True)
class LegacyRule:
    """One ``allowAccess`` entry of an assessment, dates already read as instants."""

    index: int
    mode: Mode | None = None
    uids: frozenset[str] | None = None
    role: Role | None = None
    start: Instant | None = None
    end: Instant | None = None
    """Inclusive, as written in the file."""
    credit: float | None = None
    time_limit_minutes: int | None = None
    password: str | None = None
    exam_uuid: str | None = None
    active: bool = True
    show_closed_assessment: bool = True
    show_closed_assessment_score: bool = True
    source: str = ""

    @property
    def name(self) -> str:
        return self.source or f"allowAccess[{self.index}]"


def rule_to_grant(rule: LegacyRule) -> Grant:
    """The grant a legacy rule stands for."""
    exam = rule.exam_uuid is not None or rule.mode is Mode.EXAM
    end = MAX_INSTANT if rule.end is None else inclusive_end(rule.end)
    return Grant(
        source=rule.name,
        start=MIN_INSTANT if rule.start is None else rule.start,
        end=end,
        shown_end=rule.end,
        exam_mode=exam,
        exam_uuid=rule.exam_uuid,
        uids=rule.uids,
        min_role=rule.role or Role.STUDENT,
        credit=rule.credit or 0,
        credit_given=rule.credit is not None,
        active=rule.active,
        can_create=rule.active,
        time_limit_minutes=rule.time_limit_minutes,
        cap_end=None if rule.end is None else end,
        password=rule.password,
        read_only=not rule.active,
        questions=Visibility(
            ALWAYS if rule.show_closed_assessment else NEVER,
            "" if rule.show_closed_assessment else f"{rule.name} hides closed assessments",
        ),
        score=Visibility(
            ALWAYS if rule.show_closed_assessment_score else NEVER,
            "" if rule.show_closed_assessment_score else f"{rule.name} hides the closed score",
        ),
    )


def legacy_policy(
    rules: tuple[LegacyRule, ...], personal: tuple[LegacyRule, ...] = ()
) -> AssessmentPolicy:
    """The policy of a legacy assessment; ``personal`` rules (a student's own extensions,
    written as rules without ``uids``) come first, so they win ties."""
    return legacy_policy_from(tuple(rule_to_grant(r) for r in rules), personal)


def legacy_policy_from(
    file_grants: tuple[Grant, ...], personal: tuple[LegacyRule, ...] = ()
) -> AssessmentPolicy:
    """:func:`legacy_policy` from the file's rules already turned into grants (shared by every
    student of the assessment)."""
    notes = tuple(f"your extension {r.name} is considered first" for r in personal)
    grants = tuple(rule_to_grant(r) for r in personal) + file_grants
    return AssessmentPolicy(form=Form.LEGACY, grants=grants, notes=notes)
