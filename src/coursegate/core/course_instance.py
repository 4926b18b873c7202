"""Course-instance access: who may enter a course instance, and self-enrollment.

Three forms, as for assessments:

* legacy ``allowAccess`` rules (``uids``, ``role``, inclusive ``startDate``/``endDate``,
  ``institution``: absent = the course's own, ``"Any"``, or a named one); any rule grants;

End dates of course instances are inclusive to the second in every form (``23:59:59`` holds
until 00:00:00).
* modern ``publishing`` (``startDate`` and ``endDate`` together; no start date = unpublished):
  students have access from the start through the end, and after the end only while holding a
  publishing extension (until its end, exclusive);
* the RFC's ``accessControl`` object (``published`` defaulting to false, optional dates) with
  ``accessControlOverrides`` by ``sections``: the first matching override applies.

With no configuration the course instance is open (``course_instance_config`` absent). Staff
(instructors, and TAs except where legacy rules decide) always have access. A blocked student
never has access.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo

from coursegate.core.decision import CourseInstanceDecision
from coursegate.core.instants import (
    MAX_INSTANT,
    MIN_INSTANT,
    Instant,
    format_for_people,
    inclusive_end,
)
from coursegate.core.model import EnrollmentFacts, Role, UserFacts
from coursegate.core.timeline import Timeline, with_next_changes


@dataclass(frozen=True, slots=True)
class LegacyInstanceRule:
    index: int
    uids: frozenset[str] | None = None
    role: Role | None = None
    start: Instant | None = None
    end: Instant | None = None
    """Inclusive."""
    institution: str | None = None


@dataclass(frozen=True, slots=True)
class Publishing:
    start: Instant | None = None
    end: Instant | None = None


@dataclass(frozen=True, slots=True)
class InstanceAccessControl:
    """The RFC's course-instance ``accessControl`` object (or one override of it)."""

    published: bool = False
    start: Instant | None = None
    end: Instant | None = None
    """Inclusive, like the legacy dates."""


@dataclass(frozen=True, slots=True)
class InstanceOverride:
    sections: frozenset[str]
    control: InstanceAccessControl
    source: str


@dataclass(frozen=True, slots=True)
class SelfEnrollment:
    enabled: bool = True
    before: Instant | None = None
    restrict_to_institution: bool = True
    use_code: bool = False
    """Students must give the course instance's enrollment code (kept outside the files)."""


@dataclass(frozen=True, slots=True)
class CourseInstancePolicy:
    """A course instance's access in whichever form its file used (or none)."""

    form: str = "open"  # "open" | "legacy" | "modern" | "rfc"
    legacy_rules: tuple[LegacyInstanceRule, ...] = ()
    publishing: Publishing | None = None
    control: InstanceAccessControl | None = None
    overrides: tuple[InstanceOverride, ...] = ()
    institution: str | None = None
    """The course's own institution (legacy rules without ``institution`` require it)."""
    self_enrollment: SelfEnrollment = SelfEnrollment()


def _legacy_rule_holds(
    rule: LegacyInstanceRule, user: UserFacts, home: str | None, t: Instant
) -> bool:
    if rule.uids is not None and user.uid not in rule.uids:
        return False
    if rule.role is not None and user.role < rule.role:
        return False
    if rule.start is not None and t < rule.start:
        return False
    if rule.end is not None and t >= inclusive_end(rule.end):
        return False
    wanted = rule.institution if rule.institution is not None else home
    return not (
        wanted is not None
        and wanted != "Any"
        and user.institution is not None
        and user.institution != wanted
    )


def _window_text(start: Instant | None, end: Instant | None, tz: tzinfo) -> str:
    a = "the beginning" if start is None else format_for_people(start, tz)
    b = "for ever" if end is None else format_for_people(end, tz)
    return f"from {a} until {b}"


def decide_course_instance_at(
    policy: CourseInstancePolicy,
    user: UserFacts,
    enrollment: EnrollmentFacts | None,
    t: Instant,
    tz: tzinfo,
) -> CourseInstanceDecision:
    """Course-instance access at ``t`` (without ``next_change``).

    A student who is not enrolled (status ``none`` or ``removed``) gets access only while they
    could enroll themselves; with no enrollment facts at all the student is taken as enrolled.
    """
    d = _access_by_dates(policy, user, enrollment, t, tz)
    status = enrollment.status if enrollment is not None else "joined"
    if not d.access or user.role is not Role.STUDENT or status not in ("none", "removed"):
        return d
    verdict = may_self_enroll(policy, user, enrollment, t, check_code=False)
    if verdict.allowed:
        return CourseInstanceDecision(True, (*d.explanation, f"not enrolled yet: {verdict.reason}"))
    return CourseInstanceDecision(False, (f"not enrolled, and {verdict.reason}",))


def _access_by_dates(
    policy: CourseInstancePolicy,
    user: UserFacts,
    enrollment: EnrollmentFacts | None,
    t: Instant,
    tz: tzinfo,
) -> CourseInstanceDecision:
    if user.role is Role.INSTRUCTOR or (user.role is Role.TA and policy.form != "legacy"):
        return CourseInstanceDecision(
            True, (f"{user.role.label}: course staff always have access",)
        )
    if enrollment is not None and enrollment.status == "blocked":
        return CourseInstanceDecision(False, ("the student is blocked from this course instance",))
    if policy.form == "open":
        return CourseInstanceDecision(True, ("the course instance has no access restrictions",))
    if policy.form == "legacy":
        for rule in policy.legacy_rules:
            if _legacy_rule_holds(rule, user, policy.institution, t):
                return CourseInstanceDecision(
                    True,
                    (
                        f"allowAccess[{rule.index}] gives access "
                        + _window_text(rule.start, rule.end, tz),
                    ),
                )
        return CourseInstanceDecision(False, ("no course-instance allowAccess rule holds now",))
    if policy.form == "modern":
        pub = policy.publishing or Publishing()
        if pub.start is None:
            return CourseInstanceDecision(False, ("the course instance is not published",))
        if t < pub.start:
            return CourseInstanceDecision(
                False, (f"the course instance opens at {format_for_people(pub.start, tz)}",)
            )
        if pub.end is None or t < inclusive_end(pub.end):
            return CourseInstanceDecision(
                True, ("published " + _window_text(pub.start, pub.end, tz),)
            )
        ext = enrollment.publishing_extension_end if enrollment is not None else None
        if ext is not None and t < inclusive_end(ext):
            return CourseInstanceDecision(
                True,
                (
                    "the course instance has ended, but your extension lasts until "
                    + format_for_people(ext, tz),
                ),
            )
        return CourseInstanceDecision(
            False, (f"the course instance ended at {format_for_people(pub.end, tz)}",)
        )
    # RFC form
    control = policy.control or InstanceAccessControl()
    source = "accessControl"
    for o in policy.overrides:
        if o.sections & user.sections:
            control, source = o.control, o.source
            break
    if not control.published:
        return CourseInstanceDecision(False, (f"{source}: not published",))
    if (control.start is not None and t < control.start) or (
        control.end is not None and t >= inclusive_end(control.end)
    ):
        return CourseInstanceDecision(
            False, (f"{source}: open only " + _window_text(control.start, control.end, tz),)
        )
    return CourseInstanceDecision(
        True, (f"{source}: open " + _window_text(control.start, control.end, tz),)
    )


def _points(policy: CourseInstancePolicy, enrollment: EnrollmentFacts | None) -> set[Instant]:
    pts: set[Instant] = set()
    for r in policy.legacy_rules:
        if r.start is not None:
            pts.add(r.start)
        if r.end is not None:
            pts.add(inclusive_end(r.end))
    if policy.publishing is not None:
        if policy.publishing.start is not None:
            pts.add(policy.publishing.start)
        if policy.publishing.end is not None:
            pts.add(inclusive_end(policy.publishing.end))
    if enrollment is not None and enrollment.publishing_extension_end is not None:
        pts.add(inclusive_end(enrollment.publishing_extension_end))
    if policy.self_enrollment.before is not None:
        pts.add(policy.self_enrollment.before)
    controls = [policy.control] if policy.control else []
    controls += [o.control for o in policy.overrides]
    for c in controls:
        if c.start is not None:
            pts.add(c.start)
        if c.end is not None:
            pts.add(inclusive_end(c.end))
    return pts


def compile_course_instance(
    policy: CourseInstancePolicy,
    user: UserFacts,
    enrollment: EnrollmentFacts | None,
    tz: tzinfo,
) -> Timeline[CourseInstanceDecision]:
    """Course-instance access for this user over all time."""
    starts = sorted({MIN_INSTANT, *(p for p in _points(policy, enrollment) if p < MAX_INSTANT)})
    values = [decide_course_instance_at(policy, user, enrollment, s, tz) for s in starts]
    return with_next_changes(starts, values)


@dataclass(frozen=True, slots=True)
class EnrollmentVerdict:
    allowed: bool
    reason: str


def may_self_enroll(
    policy: CourseInstancePolicy,
    user: UserFacts,
    enrollment: EnrollmentFacts | None,
    t: Instant,
    *,
    code: str | None = None,
    expected_code: str | None = None,
    check_code: bool = True,
) -> EnrollmentVerdict:
    """Whether a student may enroll themselves now (as the reference notes describe).

    The institution restriction applies only to a course instance with modern publishing (or
    the RFC form): under legacy ``allowAccess`` the rules themselves say which institutions
    get in, and PrairieLearn does not restrict self-enrollment further.
    """
    status = enrollment.status if enrollment is not None else "none"
    if status == "blocked":
        return EnrollmentVerdict(False, "you are blocked from this course instance")

    if status in ("joined", "invited"):
        return EnrollmentVerdict(True, f"you are already {status}")
    se = policy.self_enrollment
    if not se.enabled:
        return EnrollmentVerdict(False, "self-enrollment is turned off; ask for an invitation")
    if se.before is not None and t >= se.before:
        return EnrollmentVerdict(False, "self-enrollment has closed; ask for an invitation")
    if (
        se.restrict_to_institution
        and policy.form != "legacy"
        and policy.institution is not None
        and user.institution is not None
        and user.institution != policy.institution
    ):
        return EnrollmentVerdict(
            False,
            f"self-enrollment is limited to {policy.institution}; ask for an invitation",
        )
    if se.use_code and check_code and (expected_code is None or code != expected_code):
        return EnrollmentVerdict(False, "the enrollment code is missing or wrong")
    if se.use_code and not check_code:
        return EnrollmentVerdict(True, "self-enrollment is open with the enrollment code")
    return EnrollmentVerdict(True, "self-enrollment is open")
