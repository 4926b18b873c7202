"""Modern ``accessControl`` and the RFC's object form: overrides, cascade and compilation.

Both forms are read (by :mod:`coursegate.courses`) into :class:`AccessPatch` values: one for the
defaults, one per override. Resolution for one user:

* **modern** (as PrairieLearn ships it) — start from the defaults, apply every matching label
  override in file order, then the student's own overrides in order; later wins.
* **RFC** — the RFC's rule for sections: the first section override that matches is applied
  over the defaults. The student's own overrides then apply on top, in order. A student's own
  override written in the RFC form carries every key of the defaults, so it replaces the
  section override, as the RFC says; an exception granted in the database carries only the
  keys it changes, so it adds to the section's settings (a student with extra time who is given
  an extension keeps the extra time).

Assessment-set defaults and overrides (``setAccessControl`` in ``infoCourseInstance.json``) sit
under the assessment's own, with "who" outranking "what" as in LON-CAPA: set defaults, then
assessment defaults, then set label overrides, then assessment label overrides, then the
student's own overrides.

Merging: ``dateControl`` and ``afterComplete`` merge key by key; ``due`` is atomic (date and
credit together); deadline lists, ``sessions``, ``afterLastDeadline``, ``questions`` and ``score``
are replaced whole (``[]`` clears a list); an explicit ``null`` clears an inherited value.

:func:`compile_settings` turns the resolved settings into :class:`~coursegate.core.model.Grant`
values. The deadline rules live in :func:`deadline_grants` — release, early deadlines (bonus
credit), the due date, late deadlines (reduced "late deadline credit") and what happens after the
last deadline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final, TypeVar

from coursegate.core.frozen import quick_init
from coursegate.core.instants import MAX_INSTANT, MIN_INSTANT, Instant
from coursegate.core.model import (
    ALWAYS,
    NEVER,
    AssessmentPolicy,
    Form,
    Grant,
    Visibility,
    grant_with,
)


class Unset:
    """The value of a key that a patch does not mention (distinct from an explicit null)."""

    _instance: Unset | None = None

    def __new__(cls) -> Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset()
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Deadline:
    date: Instant
    credit: float


@dataclass(frozen=True, slots=True)
class Due:
    """The due date and its credit; ``date=None`` means open indefinitely at ``credit``."""

    date: Instant | None
    credit: float = 100


@dataclass(frozen=True, slots=True)
class AfterLastDeadline:
    allow_submissions: bool = False
    credit: float = 0
    can_create: bool = True
    """False for the RFC's ``zeroCreditPractice``: existing instances only."""


@dataclass(frozen=True, slots=True)
class Session:
    """A dated session with its own password (RFC use case 9), an extension of coursegate."""

    start: Instant
    end: Instant
    password: str | None = None
    credit: float = 100


@dataclass(frozen=True, slots=True)
class RevealRule:
    """After completion: hidden or not, and the window in which it is shown again."""

    hidden: bool
    visible_from: Instant | None = None
    visible_until: Instant | None = None


@dataclass(frozen=True, slots=True)
class ExamLink:
    exam_uuid: str
    read_only: bool = False
    questions: RevealRule | None = None
    score: RevealRule | None = None


@dataclass(frozen=True, slots=True)
class DateControlPatch:
    release: Instant | Unset | None = UNSET
    due: Due | Unset | None = UNSET
    early: tuple[Deadline, ...] | Unset | None = UNSET
    late: tuple[Deadline, ...] | Unset | None = UNSET
    after_last: AfterLastDeadline | Unset | None = UNSET
    sessions: tuple[Session, ...] | Unset | None = UNSET
    duration_minutes: int | Unset | None = UNSET
    duration_percent: float | Unset | None = UNSET
    password: str | Unset | None = UNSET


@dataclass(frozen=True, slots=True)
class AfterCompletePatch:
    questions: RevealRule | Unset | None = UNSET
    score: RevealRule | Unset | None = UNSET


@dataclass(frozen=True, slots=True)
class AccessPatch:
    """One element of an access-control list: the defaults or an override."""

    source: str
    labels: frozenset[str] | None = None
    """Sections/labels it applies to; None for the defaults and for a student's overrides."""
    published: bool | Unset = UNSET
    listed_before_release: bool | Unset | None = UNSET
    date_control: DateControlPatch | Unset | None = UNSET
    exams: tuple[ExamLink, ...] | Unset | None = UNSET
    after_complete: AfterCompletePatch | Unset | None = UNSET


@quick_init
@dataclass(frozen=True, slots=True)
class DateControl:
    release: Instant | None = None
    due: Due | None = None
    early: tuple[Deadline, ...] = ()
    late: tuple[Deadline, ...] = ()
    after_last: AfterLastDeadline | None = None
    sessions: tuple[Session, ...] = ()
    duration_minutes: int | None = None
    password: str | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class AccessSettings:
    """The resolved settings for one user: every key has its value."""

    form: Form
    published: bool
    listed_before_release: bool = False
    date_control: DateControl | None = None
    exams: tuple[ExamLink, ...] = ()
    questions: RevealRule = field(default_factory=lambda: RevealRule(hidden=True))
    score: RevealRule = field(default_factory=lambda: RevealRule(hidden=False))
    applied: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def initial_settings(form: Form) -> AccessSettings:
    """What holds before any element is applied.

    Modern: published (publishing is the course instance's business), questions hidden and
    score shown after completion. RFC: ``published`` defaults to false, nothing hidden.
    """
    if form is Form.RFC:
        return AccessSettings(
            form=form,
            published=False,
            questions=RevealRule(hidden=False),
            score=RevealRule(hidden=False),
        )
    return AccessSettings(form=form, published=True)


def _pick(value: T | Unset, inherited: T) -> T:
    return inherited if isinstance(value, Unset) else value


def _pick_list(value: tuple[T, ...] | Unset | None, inherited: tuple[T, ...]) -> tuple[T, ...]:
    if isinstance(value, Unset):
        return inherited
    return value or ()


def apply_patch(settings: AccessSettings, patch: AccessPatch) -> AccessSettings:
    """Apply one element over ``settings`` with the merge rules of the module docstring."""
    notes = list(settings.notes)
    dc = settings.date_control
    if isinstance(patch.date_control, Unset):
        pass
    elif patch.date_control is None:
        dc = None
    else:
        p = patch.date_control
        base = dc or DateControl()
        duration = _pick(p.duration_minutes, base.duration_minutes)
        if not isinstance(p.duration_percent, Unset) and p.duration_percent is not None:
            if base.duration_minutes is None:
                notes.append(
                    f"{patch.source}: durationPercent {p.duration_percent:g}% has no duration "
                    "to scale (no time limit is set before it), so it has no effect"
                )
            else:
                duration = math.ceil(base.duration_minutes * p.duration_percent / 100)
                notes.append(
                    f"{patch.source}: time limit {p.duration_percent:g}% of "
                    f"{base.duration_minutes} min = {duration} min (rounded up)"
                )
        dc = DateControl(
            release=_pick(p.release, base.release),
            due=_pick(p.due, base.due),
            early=_pick_list(p.early, base.early),
            late=_pick_list(p.late, base.late),
            after_last=_pick(p.after_last, base.after_last),
            sessions=_pick_list(p.sessions, base.sessions),
            duration_minutes=duration,
            password=_pick(p.password, base.password),
        )
    questions, score = settings.questions, settings.score
    if isinstance(patch.after_complete, Unset):
        pass
    elif patch.after_complete is None:
        fresh = initial_settings(settings.form)
        questions, score = fresh.questions, fresh.score
    else:
        fresh = initial_settings(settings.form)
        q, s = patch.after_complete.questions, patch.after_complete.score
        if not isinstance(q, Unset):
            questions = fresh.questions if q is None else q
        if not isinstance(s, Unset):
            score = fresh.score if s is None else s
    listed = settings.listed_before_release
    if not isinstance(patch.listed_before_release, Unset):
        listed = bool(patch.listed_before_release)
    exams = settings.exams
    if not isinstance(patch.exams, Unset):
        exams = patch.exams or ()
    return AccessSettings(  # every field (cheaper than dataclasses.replace)
        form=settings.form,
        published=_pick(patch.published, settings.published),
        listed_before_release=listed,
        date_control=dc,
        exams=exams,
        questions=questions,
        score=score,
        applied=(*settings.applied, patch.source),
        notes=tuple(notes),
    )


@dataclass(frozen=True, slots=True)
class AccessControlConfig:
    """An assessment's modern or RFC access control as read from its file."""

    form: Form
    defaults: AccessPatch
    overrides: tuple[AccessPatch, ...] = ()
    set_defaults: tuple[AccessPatch, ...] = ()
    """Defaults of the assessment's set (``setAccessControl``), applied first."""
    set_overrides: tuple[AccessPatch, ...] = ()


def matching_overrides(
    config: AccessControlConfig, sections: frozenset[str]
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Indices of the set overrides and of the assessment overrides a user's sections match."""
    set_hits = tuple(
        i for i, o in enumerate(config.set_overrides) if o.labels and o.labels & sections
    )
    own_hits = tuple(i for i, o in enumerate(config.overrides) if o.labels and o.labels & sections)
    return set_hits, own_hits


def resolve_settings(
    config: AccessControlConfig,
    sections: frozenset[str],
    personal: tuple[AccessPatch, ...] = (),
) -> AccessSettings:
    """The settings that hold for a user in ``sections`` with their own ``personal`` overrides."""
    settings = initial_settings(config.form)
    for p in config.set_defaults:
        settings = apply_patch(settings, p)
    settings = apply_patch(settings, config.defaults)
    set_hits, own_hits = matching_overrides(config, sections)
    if config.form is Form.RFC:
        chosen: AccessPatch | None = None
        if own_hits:
            chosen = config.overrides[own_hits[0]]
        elif set_hits:
            chosen = config.set_overrides[set_hits[0]]
        if chosen is not None:
            settings = apply_patch(settings, chosen)
        for p in personal:
            settings = apply_patch(settings, p)
        return settings
    for i in set_hits:
        settings = apply_patch(settings, config.set_overrides[i])
    for i in own_hits:
        settings = apply_patch(settings, config.overrides[i])
    for p in personal:
        settings = apply_patch(settings, p)
    return settings


def _reveal_visibility(rule: RevealRule, what: str) -> Visibility:
    if not rule.hidden:
        return Visibility(ALWAYS, "")
    if rule.visible_from is None:
        return Visibility(NEVER, f"{what} hidden after completion")
    until = MAX_INSTANT if rule.visible_until is None else rule.visible_until
    if until <= rule.visible_from:
        return Visibility(NEVER, f"{what} hidden after completion")
    return Visibility(((rule.visible_from, until),), f"{what} hidden after completion")


def exam_link_visibility(
    exam: ExamLink, form: Form, questions: Visibility, score: Visibility
) -> tuple[Visibility, Visibility]:
    """What a student in Exam mode through ``exam`` sees once their attempt is complete.

    Modern form (as PrairieLearn ships it): the assessment's own ``afterComplete`` does not
    apply during the reservation; the link's ``afterComplete`` does, and without one (or for a
    ``readOnly`` link, a review of a closed attempt) questions and score are visible. RFC form:
    the RFC says the assessment's hide settings "continue to apply to PrairieTest exams", so
    ``questions`` and ``score`` (the assessment's) are kept.
    """
    if form is Form.RFC:
        return questions, score
    shown = Visibility(ALWAYS, "")
    if exam.read_only:
        return shown, shown
    q = shown if exam.questions is None else _reveal_visibility(exam.questions, "questions")
    s = shown if exam.score is None else _reveal_visibility(exam.score, "score")
    return q, s


def deadline_grants(
    dc: DateControl, form: Form, base: Grant
) -> tuple[tuple[Grant, ...], Instant | None]:
    """The Public-mode grants of date control, and the instant access starts (or None).

    Each deadline closes a half-open segment ``[previous, deadline)`` that carries that
    deadline's credit: early deadlines (bonus), the due date (due credit, 100% by default), late
    deadlines (reduced credit). After the last deadline ``afterLastDeadline`` decides: further
    submissions at its credit, or a view-only "complete" state. Without a due date the
    assessment stays open at the due credit. ``sessions`` replace the deadlines: each session is
    open for its credit and password; between sessions the attempt is complete.
    """
    if dc.release is None and form is not Form.RFC and not dc.sessions:
        return (), None
    # Release is inclusive in every form. (The RFC writes "now > availableDate"; the one
    # microsecond of difference is not observable, and PrairieLearn ships it inclusive.)
    start = MIN_INSTANT if dc.release is None else dc.release
    if dc.sessions:
        grants, start, last_end = _session_grants(dc, base, _closed(base))
    else:
        grants, last_end = _deadline_segments(dc, base, start)
    if last_end < MAX_INSTANT:
        # Credit never rises after the last deadline either.
        ceiling = grants[-1].credit if grants and not dc.sessions else math.inf
        grants.append(_after_last_deadline(dc, form, base, last_end, ceiling))
    return _with_time_limits(grants, dc.duration_minutes), start


def _closed(base: Grant) -> Grant:
    """``base`` once the attempt is complete: no submissions, no credit."""
    return grant_with(base, active=False, can_create=False, complete=True, credit=0)


def _session_grants(
    dc: DateControl, base: Grant, closed: Grant
) -> tuple[list[Grant], Instant, Instant]:
    """The grants of ``sessions`` (closed between them), the first start and the last end."""
    sessions = sorted(dc.sessions, key=lambda s: s.start)
    grants: list[Grant] = []
    previous_end: Instant | None = None
    for n, s in enumerate(sessions, start=1):
        if previous_end is not None and previous_end < s.start:
            grants.append(
                grant_with(
                    closed,
                    source=f"between sessions {n - 1} and {n}",
                    start=previous_end,
                    end=s.start,
                )
            )
        grants.append(
            grant_with(
                base,
                source=f"session {n}",
                start=s.start,
                end=s.end,
                shown_end=s.end,
                credit=s.credit,
                password=s.password if s.password is not None else dc.password,
            )
        )
        previous_end = s.end
    return grants, sessions[0].start, sessions[-1].end


def effective_deadlines(dc: DateControl) -> list[tuple[Instant, float, str]]:
    """The deadlines (date, credit, name) that hold after the cascade, in date order, as
    PrairieLearn builds them: those a merge stranded are dropped (early ones not after the
    release or after the due date, late ones not after the release or before the due date); an
    early deadline gives at least the due credit, a late one at most it. At one instant only
    the first of early, due, late counts (the others' segments are empty)."""
    due = dc.due or Due(None)
    low = MIN_INSTANT if dc.release is None else dc.release + 1
    high = MAX_INSTANT if due.date is None else due.date
    late_low = low if due.date is None else max(low, due.date)
    out = [
        (d.date, max(d.credit, due.credit), f"before early deadline {i + 1}")
        for i, d in enumerate(dc.early)
        if low <= d.date <= high
    ]
    if due.date is not None:
        out.append((due.date, due.credit, "before the due date"))
    out += [
        (d.date, min(d.credit, due.credit), f"before late deadline {i + 1}")
        for i, d in enumerate(dc.late)
        if d.date >= late_low
    ]
    out.sort(key=lambda d: d[0])  # stable: early, due, late at one instant
    return out


def _deadline_segments(dc: DateControl, base: Grant, start: Instant) -> tuple[list[Grant], Instant]:
    """One grant per deadline from ``start``, open on without a due date; and the end of the
    last deadline's segment (``MAX_INSTANT`` if open). Credit never rises, whatever overrides
    were merged: PrairieLearn clamps each segment to the one before it. A due date on or before
    the release leaves nothing to submit."""
    due = dc.due or Due(None)
    if due.date is not None and dc.release is not None and due.date <= dc.release:
        return [], MAX_INSTANT
    grants: list[Grant] = []
    previous = start
    ceiling = math.inf
    for date, credit, name in effective_deadlines(dc):
        if date > previous:
            ceiling = min(ceiling, credit)
            grants.append(
                grant_with(
                    base,
                    source=name,
                    start=previous,
                    end=date,
                    shown_end=date,
                    credit=ceiling,
                    password=dc.password,
                )
            )
        previous = max(previous, date)
    if due.date is not None:
        return grants, previous
    grants.append(
        grant_with(
            base,
            source="no due date",
            start=previous,
            credit=min(ceiling, due.credit),
            password=dc.password,
        )
    )
    return grants, MAX_INSTANT


def _after_last_deadline(
    dc: DateControl, form: Form, base: Grant, last_end: Instant, ceiling: float
) -> Grant:
    """What ``afterLastDeadline`` gives from ``last_end`` on: submissions (at most at
    ``ceiling``), or closed."""
    after = dc.after_last
    if after is not None and after.allow_submissions:
        credit = min(after.credit, ceiling)
        return grant_with(
            base,
            source="after the last deadline",
            start=last_end,
            credit=credit,
            can_create=after.can_create,
            complete=credit <= 0 and form is Form.RFC,
            password=dc.password,
        )
    return grant_with(_closed(base), source="after the last deadline (closed)", start=last_end)


def _with_time_limits(grants: list[Grant], duration_minutes: int | None) -> tuple[Grant, ...]:
    """The grants with their time limit, capped by the end of the current run of submittable
    segments."""
    out: list[Grant] = []
    for i, g in enumerate(grants):
        if not g.active or duration_minutes is None:
            unlimited = g.time_limit_minutes is None and g.cap_end is None
            out.append(g if unlimited else grant_with(g, time_limit_minutes=None, cap_end=None))
            continue
        j = i
        while j + 1 < len(grants) and grants[j + 1].active and grants[j + 1].start == grants[j].end:
            j += 1
        run_end = grants[j].end
        out.append(
            grant_with(
                g,
                time_limit_minutes=duration_minutes,
                cap_end=None if run_end >= MAX_INSTANT else run_end,
            )
        )
    return tuple(out)


@lru_cache(maxsize=1024)
def _base_grant(questions: RevealRule, score: RevealRule, rfc: bool) -> Grant:
    """What every grant of resolved settings starts from (the same for most students: kept)."""
    return Grant(
        source="",
        questions=_reveal_visibility(questions, "questions"),
        score=_reveal_visibility(score, "score"),
        score_visible_while_open=rfc,
        hidden_score_hides_questions=not rfc,
    )


def compile_settings(settings: AccessSettings) -> AssessmentPolicy:
    """The grants of resolved modern or RFC settings."""
    form = settings.form
    base = _base_grant(settings.questions, settings.score, form is Form.RFC)
    questions, score = base.questions, base.score
    notes = tuple(f"uses {s}" for s in settings.applied) + settings.notes
    if not settings.published:
        return AssessmentPolicy(form=form, grants=(), published=False, notes=notes)
    grants: list[Grant] = []
    start: Instant | None = None
    if settings.date_control is not None:
        date_grants, start = deadline_grants(settings.date_control, form, base)
        grants += date_grants
    if settings.listed_before_release:
        first = start if start is not None else MAX_INSTANT
        if first > MIN_INSTANT:
            grants.append(
                grant_with(
                    base,
                    source="listed before release",
                    end=first,
                    active=False,
                    can_create=False,
                    listed_only=True,
                    credit_given=False,
                )
            )
    if settings.exams and settings.date_control is None:
        # RFC use case 3: after the reservation, a student who took the exam sees what the
        # after-completion settings show (by default their score, not the questions).
        grants.append(
            grant_with(
                base,
                source="after the testing-centre exam (your attempt)",
                active=False,
                can_create=False,
                complete=True,
                needs_instance=True,
            )
        )
    for n, exam in enumerate(settings.exams, start=1):
        q, s = exam_link_visibility(exam, form, questions, score)
        grants.append(
            grant_with(
                base,
                source=f"testing-centre exam {n} ({exam.exam_uuid})"
                + (" read-only" if exam.read_only else ""),
                exam_mode=True,
                exam_uuid=exam.exam_uuid,
                credit=0 if exam.read_only else 100,
                active=not exam.read_only,
                can_create=not exam.read_only,
                read_only=exam.read_only,
                questions=q,
                score=s,
            )
        )
    return AssessmentPolicy(form=form, grants=tuple(grants), notes=notes)
