"""The semantic checks on the settings that result from the patches: PrairieLearn's shipped
validation where it exists (release before due, deadlines in order, credits decreasing, ...) and
coursegate's extensions, each reported at the element that brings the problem in."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from coursegate.core.access_control import (
    AccessControlConfig,
    AccessPatch,
    AfterCompletePatch,
    DateControl,
    DateControlPatch,
    Due,
    RevealRule,
    apply_patch,
    initial_settings,
)
from coursegate.core.instants import MIN_INSTANT, Instant
from coursegate.core.model import Form
from coursegate.courses.deadlines import cascade_date_problems, deadline_date_problems
from coursegate.courses.reader import Reader

_KEY_PATHS = {
    Form.MODERN: {
        "release": ".dateControl.release.date",
        "due": ".dateControl.due.date",
        "early": ".dateControl.earlyDeadlines",
        "late": ".dateControl.lateDeadlines",
        "after_last": ".dateControl.afterLastDeadline",
        "sessions": ".dateControl.sessions",
        "date_control": ".dateControl",
        "questions": ".afterComplete.questions",
        "score": ".afterComplete.score",
    },
    Form.RFC: {
        "release": ".availableDate",
        "due": ".dueDate",
        "early": ".earlyDeadlines",
        "late": ".lateDeadlines",
        "after_last": ".lateCredit",
        "sessions": ".sessions",
        "date_control": "",
        "questions": ".hideQuestionsAfterCompletion",
        "score": ".hideScoreAfterCompletion",
    },
}


def check_settings(
    r: Reader,
    config: AccessControlConfig,
    path: str,
    where: str,
    personal: Sequence[AccessPatch] = (),
    personal_path: str = "$.student_overrides",
) -> None:
    """Check the settings that result for everyone, and for each override on the defaults.

    A problem is reported at the element that brings it in: the defaults, or the override
    (whose own keys may be fine but clash with the defaults, as a due date moved before a late
    deadline does).
    """
    form = config.form
    reported: set[str] = set()
    for suffix, element_path, extra in _cases(config, path, personal, personal_path):
        s = initial_settings(form)
        for patch in (*config.set_defaults, config.defaults, *extra):
            s = apply_patch(s, patch)
        for key, msg in settings_problems(s, r, merged=bool(extra)):
            if msg in reported:
                continue
            reported.add(msg)
            sub = _KEY_PATHS[form].get(key, "") if not extra else ""
            r.error(element_path + sub, msg + suffix)
        for patch in extra:
            # The override's own dates, and what no student can ever have (named at the key,
            # except for a set's override, which lives in another file).
            in_file = "infoCourseInstance.json" not in suffix
            for key, msg in cascade_date_problems(config, patch, r, personal):
                if msg + suffix not in reported:
                    reported.add(msg + suffix)
                    sub = _KEY_PATHS[form].get(key, "") if in_file else ""
                    r.error(element_path + sub, msg + suffix)
        for note in s.notes:
            # A set-wide percentage meeting an untimed assessment of the set is expected.
            if "has no effect" in note and note not in reported and not note.startswith("set "):
                reported.add(note)
                r.warn(element_path, note)
    check_reveals_after_deadlines(r, config, path, personal, personal_path)


def _cases(
    config: AccessControlConfig, path: str, personal: Sequence[AccessPatch], personal_path: str
) -> list[tuple[str, str, list[AccessPatch]]]:
    """The settings to check, as (what a message adds, the element's path, the patch applied on
    the defaults): the defaults alone, then each labelled override of the assessment and of its
    set, then each personal override."""
    form = config.form
    base_path = f"{path}[0]" if form is Form.MODERN else path
    cases: list[tuple[str, str, list[AccessPatch]]] = [("", base_path, [])]
    for i, o in enumerate(config.overrides):
        if o.labels:
            p = f"{path}[{i + 1}]" if form is Form.MODERN else f"$.accessControlOverrides[{i}]"
            cases.append((f" (with {o.source})", p, [o]))
    for o in config.set_overrides:
        if o.labels:
            cases.append((f" (with {o.source} of infoCourseInstance.json)", base_path, [o]))
    for i, pp in enumerate(personal):
        cases.append((f" (with {pp.source})", f"{personal_path}[{i}]", [pp]))
    return cases


SettingsProblems = list[tuple[str, str]]
"""Problems found in settings: (the key each is about, the message)."""


def settings_problems(
    s: Any, r: Reader, *, merged: bool = False, clamped: bool = False
) -> SettingsProblems:
    """PrairieLearn's date-control checks, in words, each with the key it is about;
    ``s`` is an AccessSettings.

    ``merged``: ``s`` merges overrides over the defaults, so deadlines left on the wrong side
    of a release or due date an override moved are not problems (the student's timeline drops
    them; :func:`coursegate.courses.deadlines.cascade_date_problems` checks what each element
    brings itself). ``clamped``: ``s`` is a whole cascade (label overrides and a student's own
    exceptions), whose credit the timeline clamps so that it never rises, so the order of the
    deadlines' credits is not a problem either (early deadlines still need a due credit of 100%
    or more and more credit than it, as PrairieLearn checks a student's override).
    """
    rfc = s.form is Form.RFC
    out: SettingsProblems = []
    if s.date_control is not None:
        dc = s.date_control
        out += _release_and_sessions(dc, rfc)
        out += _due_after_release(dc, r)
        if not merged:
            out += deadline_date_problems(dc, rfc, r)
        out += _early_credits(_kept_early(dc) if merged else dc, r)
        if not clamped:
            out += _credits_decrease(dc, r)
        out += _late_credits(dc, r)
    out += _reveal_order(s.questions, s.score, rfc)
    for name, rule in (("questions", s.questions), ("score", s.score)):
        out += _reveal_window(name, rule)
    return out


def _release_and_sessions(dc: DateControl, rfc: bool) -> SettingsProblems:
    out: SettingsProblems = []
    if dc.release is None and not rfc and not dc.sessions:
        out.append(("date_control", "a release date is required when dateControl is used"))
    if dc.sessions and (dc.release is not None or dc.due is not None or dc.early or dc.late):
        out.append(
            (
                "sessions",
                "sessions replace the release date, the due date and the deadlines; "
                "use one or the other",
            )
        )
    return out


def _due_after_release(dc: DateControl, r: Reader) -> SettingsProblems:
    due = dc.due
    if due is None or due.date is None or dc.release is None or due.date > dc.release:
        return []
    return [
        (
            "due",
            f"the due date {r.when(due.date)} is not after the release {r.when(dc.release)}",
        )
    ]


def _kept_early(dc: DateControl) -> DateControl:
    """``dc`` without the early deadlines the student's timeline drops (stranded before the
    release or after the due date by an override)."""
    due = dc.due.date if dc.due is not None else None
    kept = tuple(
        d
        for d in dc.early
        if (dc.release is None or d.date > dc.release) and (due is None or d.date <= due)
    )
    return replace(dc, early=kept)


def _early_credits(dc: DateControl, r: Reader) -> SettingsProblems:
    """Each early deadline gives more credit than the due date, which gives 100% or more."""
    out: SettingsProblems = []
    due = dc.due
    for x in dc.early:
        if x.credit <= (due.credit if due else 100):
            out.append(
                (
                    "early",
                    f"early deadline {r.when(x.date)} gives {x.credit:g}%, which is not more "
                    "than the due date's credit",
                )
            )
    if dc.early and due is not None and due.credit < 100:
        out.append(("early", "early deadlines need a due credit of 100% or more"))
    return out


def _late_credits(dc: DateControl, r: Reader) -> SettingsProblems:
    """Late deadlines give less than full credit."""
    return [
        (
            "late",
            f"late deadline {r.when(x.date)} gives {x.credit:g}%; late credit must be below 100%",
        )
        for x in dc.late
        if x.credit >= 100
    ]


def _credits_decrease(dc: DateControl, r: Reader) -> SettingsProblems:
    """No two early (or two late) deadlines fall on one instant, and credit decreases over the
    early deadlines, the due date and the late deadlines, down to the credit after the last of
    them. Taken in that order: a deadline exactly at the due date is valid (its segment is
    empty), and one an override strands is judged by its credit all the same."""
    out: SettingsProblems = []
    due = dc.due
    for kind, items in (("early", dc.early), ("late", dc.late)):
        dates = [d.date for d in items]
        if len(set(dates)) != len(dates):
            out.append((kind, f"two {kind} deadlines fall on the same instant"))
    chain = [(d.date, d.credit) for d in sorted(dc.early, key=lambda d: d.date)]
    if due is not None and due.date is not None:
        chain.append((due.date, due.credit))
    chain += [(d.date, d.credit) for d in sorted(dc.late, key=lambda d: d.date)]
    for (t1, c1), (t2, c2) in itertools.pairwise(chain):
        if c2 >= c1:
            out.append(
                (
                    "date_control",
                    f"credit must decrease over time: {c1:g}% until {r.when(t1)} is "
                    f"followed by {c2:g}% until {r.when(t2)}",
                )
            )
    after = dc.after_last
    if after and after.allow_submissions and chain and after.credit >= chain[-1][1] > 0:
        out.append(
            (
                "after_last",
                f"credit after the last deadline ({after.credit:g}%) must be below "
                f"the last deadline's ({chain[-1][1]:g}%)",
            )
        )
    return out


def _reveal_order(q: RevealRule, sc: RevealRule, rfc: bool) -> SettingsProblems:
    """In the modern form the questions show the score, so the score is not hidden longer:
    checked on the settings a student would have, so an inherited reveal date meeting an
    override that hides the score is caught too."""
    if rfc:
        return []
    if sc.hidden and not q.hidden:
        return [("score", "a hidden score requires hidden questions (questions show the score)")]
    if q.hidden and q.visible_from is not None and sc.hidden and sc.visible_from is None:
        return [
            (
                "questions",
                "the questions are shown again from visibleFromDate while the score stays "
                "hidden forever (questions show the score); show the score after completion "
                "or give it a visibleFromDate on or before the questions'",
            )
        ]
    if (
        q.hidden
        and sc.hidden
        and sc.visible_from is not None
        and q.visible_from is not None
        and sc.visible_from > q.visible_from
    ):
        return [("score", "the score must not be revealed after the questions")]
    return []


def _reveal_window(name: str, rule: RevealRule) -> SettingsProblems:
    """A reveal window ends after it starts. ``visibleUntilDate`` alone is accepted (as
    PrairieLearn accepts it): without a start the window never opens. (The RFC form's reader
    asks ``revealUntilDate`` for a ``revealDate`` itself.)"""
    if (
        rule.visible_until is not None
        and rule.visible_from is not None
        and rule.visible_from > MIN_INSTANT
        and rule.visible_until <= rule.visible_from
    ):
        return [(name, f"{name}: visibleUntilDate must come after visibleFromDate")]
    return []


def check_reveals_after_deadlines(
    r: Reader,
    config: AccessControlConfig,
    path: str,
    personal: Sequence[AccessPatch] = (),
    personal_path: str = "$.student_overrides",
) -> None:
    """Modern form, element by element as PrairieLearn checks it: an element that reveals the
    questions or the score (``visibleFromDate``) and sets its own due date or late deadlines
    must reveal after its last deadline (the last late deadline, else the due date), or
    students still working could see them."""
    if config.form is not Form.MODERN:
        return
    # Each element is checked where it is read: the file's elements with the file, a
    # student's own overrides with them.
    elements = [(f"{personal_path}[{i}]", p) for i, p in enumerate(personal)]
    if not personal:
        elements = [(f"{path}[0]", config.defaults)]
        elements += [(f"{path}[{i + 1}]", o) for i, o in enumerate(config.overrides)]
    for element_path, patch in elements:
        last = _own_last_deadline(patch)
        ac = patch.after_complete
        if last is None or not isinstance(ac, AfterCompletePatch):
            continue
        for what, rule in (("questions", ac.questions), ("score", ac.score)):
            if not isinstance(rule, RevealRule) or not rule.hidden:
                continue
            if rule.visible_from is not None and rule.visible_from <= last:
                r.error(
                    f"{element_path}.afterComplete.{what}.visibleFromDate",
                    f"the {what} {'is' if what == 'score' else 'are'} shown again from "
                    f"{r.when(rule.visible_from)}, which is "
                    f"not after the last deadline {r.when(last)}; students still working "
                    f"could see them — reveal after the last deadline",
                )


def _own_last_deadline(patch: AccessPatch) -> Instant | None:
    """The last deadline an element sets itself: its last late deadline, else its due date."""
    dc = patch.date_control
    if not isinstance(dc, DateControlPatch):
        return None
    if isinstance(dc.late, tuple) and dc.late:
        return max(d.date for d in dc.late)
    if isinstance(dc.due, Due):
        return dc.due.date
    return None
