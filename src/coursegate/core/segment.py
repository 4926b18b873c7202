"""Deciding at one instant: which grant wins, and what it allows (the rules of one moment).

:func:`decide_segment` is the decision at an instant ``t`` for a user whose applicable grants
(:func:`applicable`: their mode, reservations and attempt folded in) are known; a compiled
timeline (:mod:`coursegate.core.timeline`) calls it once per elementary interval, and
:func:`decide_assessment_directly` once, for the naive path. :func:`password_at` gives the
password of the rule in force.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import tzinfo

from coursegate.core.decision import (
    AssessmentDecision,
    CourseInstanceDecision,
    new_assessment_decision,
)
from coursegate.core.frozen import quick_factory, quick_init
from coursegate.core.instants import MAX_INSTANT, Instant, format_for_people
from coursegate.core.model import (
    AssessmentPolicy,
    Form,
    Grant,
    InstanceFacts,
    Mode,
    Reservation,
    Role,
    UserFacts,
)
from coursegate.core.time_limits import capped_minutes

STAFF_TEXT = "100% (Staff override)"


def is_staff_override(role: Role, form: Form) -> bool:
    """Instructors always bypass the rules; TAs do too unless the legacy rules speak of them.

    Legacy ``allowAccess`` rules can name roles (``"role": "TA"``), so there TAs get what the
    rules give them. The modern and RFC forms cannot, and treat all course staff as staff.
    """
    return role is Role.INSTRUCTOR or (role is Role.TA and form is not Form.LEGACY)


@quick_init
@dataclass(frozen=True, slots=True)
class Live:
    """A grant as it applies to this user: reservations folded in."""

    grant: Grant
    start: Instant
    end: Instant
    order: int
    exam_end: Instant | None


_new_live = quick_factory(Live)


def applicable(
    policy: AssessmentPolicy,
    user: UserFacts,
    mode: Mode,
    reservations: Sequence[Reservation],
    instance: InstanceFacts | None = None,
) -> list[Live]:
    """The grants that can apply to this user in this mode, each with its effective window."""
    out: list[Live] = []
    exam = mode is Mode.EXAM
    for order, g in enumerate(policy.grants):
        if g.exam_mode != exam:
            continue
        if g.needs_instance and instance is None:
            continue
        if g.uids is not None and user.uid not in g.uids:
            continue
        if user.role < g.min_role:
            continue
        if g.exam_uuid is None:
            out.append(_new_live(g, g.start, g.end, order, None))
            continue
        for r in reservations:
            if r.exam_uuid != g.exam_uuid:
                continue
            s, e = max(g.start, r.access_start), min(g.end, r.access_end)
            if s < e:
                out.append(_new_live(g, s, e, order, r.access_end))
    return out


def winner(live: Sequence[Live], t: Instant) -> tuple[Live | None, Live | None, list[Live]]:
    """The winning grant at ``t``, a listing-only grant, and all grants that hold."""
    best: Live | None = None
    listed: Live | None = None
    holding: list[Live] = []
    best_rank = 0.0
    for lv in live:
        if not lv.start <= t < lv.end:
            continue
        g = lv.grant
        if g.listed_only:
            listed = listed or lv
            continue
        holding.append(lv)
        rank = g.credit if g.credit_given else -1.0  # Grant.rank, without the property call
        if best is None or rank > best_rank:
            best, best_rank = lv, rank
    return best, listed, holding


def _instance_state(instance: InstanceFacts | None, t: Instant) -> str:
    if instance is None:
        return "none"
    if not instance.open:
        return "closed"
    if instance.date_limit is not None and t >= instance.date_limit:
        return "timed-out"
    return "open"


def pct(x: float) -> str:
    """``110%``, ``12.5%``: a credit for people (kept: a course has few distinct credits)."""
    text = _PCT.get(x)
    if text is None:
        if len(_PCT) >= 4096:
            _PCT.clear()
        text = _PCT[x] = f"{x:g}%"
    return text


_PCT: dict[float, str] = {}


def _denied(
    form: Form | None, listed: bool, complete: bool, why: tuple[str, ...]
) -> AssessmentDecision:
    # (rules, access, listed, can_start, submittable, credit, credit_text, time_limit_minutes,
    # password_required, read_only, complete, questions_visible, score_visible,
    # exam_access_end, explanation, next_change): this runs for most intervals.
    return new_assessment_decision(
        form, False, listed, False, False, 0, "None", None, False, False, complete, False, False,
        None, why, None,
    )  # fmt: skip


def staff_decision(form: Form, role: Role, state: str) -> AssessmentDecision:
    done = state in ("closed", "timed-out")
    return AssessmentDecision(
        rules=form,
        access=True,
        listed=True,
        can_start=True,
        submittable=not done,
        credit=0 if done else 100,
        credit_text="None" if done else STAFF_TEXT,
        time_limit_minutes=None,
        password_required=False,
        read_only=False,
        complete=done,
        questions_visible=True,
        score_visible=True,
        exam_access_end=None,
        explanation=(
            f"{role.label}: course staff bypass the assessment's access rules (staff override)",
            *(("the attempt is closed",) if done else ()),
        ),
    )


def decide_segment(
    policy: AssessmentPolicy,
    role: Role,
    mode: Mode,
    live: Sequence[Live],
    t: Instant,
    instance: InstanceFacts | None,
    ci: CourseInstanceDecision,
    tz: tzinfo,
) -> AssessmentDecision:
    """The decision at ``t`` (credit text without look-ahead; see :func:`compile_assessment`)."""
    form = policy.form
    if not ci.access:
        return _denied(form, False, False, ("no access to the course instance", *ci.explanation))
    state = "none" if instance is None else _instance_state(instance, t)
    if role is Role.INSTRUCTOR or (role is Role.TA and form is not Form.LEGACY):
        return staff_decision(form, role, state)  # is_staff_override, inline: this runs a lot
    if not policy.published:
        return _denied(form, False, False, ("not published to students", *policy.notes))
    best, listed, holding = winner(live, t)
    if best is None:
        return _no_rule_holds(policy, mode, listed, state in ("closed", "timed-out"))
    return _decide_by_winner(policy, mode, best, holding, t, state, tz)


def _no_rule_holds(
    policy: AssessmentPolicy, mode: Mode, listed: Live | None, inst_done: bool
) -> AssessmentDecision:
    """No access: no rule holds (a listing-only rule may still show the assessment)."""
    why: list[str] = list(policy.notes)
    if listed is not None:
        why.append(f"{listed.grant.source}: shown in the list, but not open yet")
    elif mode is Mode.EXAM:
        why.append(
            "in Exam mode only testing-centre rules apply, and none holds now"
            " (it needs a reservation for a linked exam whose window contains now)"
        )
    else:
        why.append("no access rule gives access now")
    return _denied(policy.form, listed is not None, inst_done, tuple(why))


def _decide_by_winner(
    policy: AssessmentPolicy,
    mode: Mode,
    best: Live,
    holding: Sequence[Live],
    t: Instant,
    state: str,
    tz: tzinfo,
) -> AssessmentDecision:
    """Access by the winning grant ``best``: what it allows now, and what shows once complete."""
    g = best.grant
    inst_done = state in ("closed", "timed-out")
    why = _winner_explanation(policy, best, holding)
    creatable, limit = _new_attempts(g, mode, t, tz, why)
    submittable = _submittable(g, state, inst_done, creatable, why)
    credit = g.credit if submittable else 0
    complete = inst_done or g.complete
    questions, score = _visibility(g, t, state, complete, submittable, why)
    return new_assessment_decision(  # every field, in order (as in _denied)
        policy.form,
        True,
        True,
        creatable,
        submittable,
        credit,
        _credit_text(g, credit, t, tz),
        limit,
        g.password is not None and (creatable or submittable),
        g.read_only or not g.active,
        complete,
        questions,
        score,
        best.exam_end,
        tuple(why),
        None,
    )


# The steps of _decide_by_winner; each appends what it notes to ``why``, in this order.


def _winner_explanation(policy: AssessmentPolicy, best: Live, holding: Sequence[Live]) -> list[str]:
    """The policy's notes, the winning grant, and every other grant it beats."""
    g = best.grant
    why = list(policy.notes)
    why.append(f"now: {g.source}" + (f", {pct(g.credit)} credit" if g.active else ", view only"))
    for other in holding:
        if other is not best:
            why.append(
                f"{other.grant.source} also holds, but {g.source} wins (highest credit,"
                " then the earlier rule)"
            )
    return why


def _new_attempts(
    g: Grant, mode: Mode, t: Instant, tz: tzinfo, why: list[str]
) -> tuple[bool, int | None]:
    """Whether a new attempt may start, and its time limit (cut by the end of access)."""
    creatable = g.active and g.can_create
    limit: int | None = None
    if g.time_limit_minutes is not None and mode is Mode.PUBLIC and creatable:
        limit = capped_minutes(g.time_limit_minutes, g.cap_end, t)
        if g.cap_end is not None and limit < g.time_limit_minutes:
            why.append(
                f"time limit {g.time_limit_minutes} min, cut to {limit} min by the end of"
                f" access at {format_for_people(g.cap_end, tz)}"
            )
        if limit < 1:
            creatable = False
            limit = None
            why.append("less than a minute would remain before access ends: no new attempt")
    return creatable, limit


def _submittable(g: Grant, state: str, inst_done: bool, creatable: bool, why: list[str]) -> bool:
    """Whether answers may be submitted: in a new attempt, or in the open attempt."""
    if state == "none":
        submittable = creatable
    else:
        submittable = g.active and not inst_done
        if state == "closed":
            why.append("the attempt is closed")
        elif state == "timed-out":
            why.append("the attempt's time limit has ended")
    if not g.active:
        why.append("view only: no new attempts and no submissions")
    elif not g.can_create and state == "none":
        why.append("practice continues only in an attempt started before the last deadline")
    return submittable


def _visibility(
    g: Grant, t: Instant, state: str, complete: bool, submittable: bool, why: list[str]
) -> tuple[bool, bool]:
    """Whether the questions and the score are visible (hidden only once complete)."""
    questions = submittable or not complete or g.questions.visible_at(t)
    score = (
        not complete or g.score.visible_at(t) or (g.score_visible_while_open and state == "open")
    )
    if g.hidden_score_hides_questions and not score:
        questions = False
    if complete and not questions and g.questions.reason:
        why.append(g.questions.reason)
    if complete and not score and g.score.reason:
        why.append(g.score.reason)
    return questions, score


def _credit_text(g: Grant, credit: float, t: Instant, tz: tzinfo) -> str:
    """The credit for people: the percentage and until when, or ``None``."""
    if credit > 0:
        end = g.shown_end if g.shown_end is not None else (None if g.end >= MAX_INSTANT else g.end)
        if end is None:
            return pct(credit)
        return f"{pct(credit)} until {format_for_people(end, tz, relative_to=t)}"
    return "None"


def password_at(
    policy: AssessmentPolicy,
    user: UserFacts,
    t: Instant,
    *,
    mode: Mode = Mode.PUBLIC,
    reservations: Sequence[Reservation] = (),
    instance: InstanceFacts | None = None,
) -> str | None:
    """The password of the rule in force at ``t`` (the winner's), for checking what a student
    typed. Decisions only say *whether* one is required; the secret itself stays here."""
    live = applicable(policy, user, mode, reservations, instance)
    best = winner(live, t)[0]
    return None if best is None else best.grant.password


def decide_assessment_directly(
    policy: AssessmentPolicy,
    user: UserFacts,
    t: Instant,
    *,
    mode: Mode = Mode.PUBLIC,
    reservations: Sequence[Reservation] = (),
    instance: InstanceFacts | None = None,
    course_instance: Callable[[Instant], CourseInstanceDecision],
    tz: tzinfo,
) -> AssessmentDecision:
    """Evaluate the rules at ``t`` alone (no timeline, no ``next_change``, no look-ahead)."""
    live = applicable(policy, user, mode, reservations, instance)
    return decide_segment(policy, user.role, mode, live, t, instance, course_instance(t), tz)
