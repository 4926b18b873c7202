"""The semantic checks on the settings that result from the patches: PrairieLearn's shipped
validation where it exists (release before due, deadlines in order, credits decreasing, ...) and
coursegate's extensions, each reported at the element that brings the problem in."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from coursegate.core.access_control import (
    AccessControlConfig,
    AccessPatch,
    DateControl,
    RevealRule,
    apply_patch,
    initial_settings,
)
from coursegate.core.instants import MIN_INSTANT
from coursegate.core.model import Form
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
        for key, msg in settings_problems(s, r):
            if msg in reported:
                continue
            reported.add(msg)
            sub = _KEY_PATHS[form].get(key, "") if not extra else ""
            r.error(element_path + sub, msg + suffix)
        for note in s.notes:
            # A set-wide percentage meeting an untimed assessment of the set is expected.
            if "has no effect" in note and note not in reported and not note.startswith("set "):
                reported.add(note)
                r.warn(element_path, note)


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


def settings_problems(s: Any, r: Reader) -> SettingsProblems:
    """PrairieLearn's date-control checks, in words, each with the key it is about;
    ``s`` is an AccessSettings."""
    rfc = s.form is Form.RFC
    out: SettingsProblems = []
    if s.date_control is not None:
        dc = s.date_control
        out += _release_and_sessions(dc, rfc)
        out += _due_after_release(dc, r)
        out += _early_deadlines(dc, r)
        out += _late_deadlines(dc, rfc, r)
        out += _credits_decrease(dc, r)
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


def _early_deadlines(dc: DateControl, r: Reader) -> SettingsProblems:
    """Each early deadline after the release, before the due date, for more credit than it."""
    out: SettingsProblems = []
    due = dc.due
    for x in dc.early:
        if dc.release is not None and x.date <= dc.release:
            out.append(("early", f"early deadline {r.when(x.date)} is not after the release date"))
        if due is not None and due.date is not None and x.date > due.date:
            out.append(("early", f"early deadline {r.when(x.date)} is after the due date"))
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


def _late_deadlines(dc: DateControl, rfc: bool, r: Reader) -> SettingsProblems:
    """Late deadlines need a due date, come after it and give less than full credit."""
    out: SettingsProblems = []
    due = dc.due
    if (dc.late or (dc.after_last and dc.after_last.allow_submissions and not rfc)) and (
        due is None or due.date is None
    ):
        out.append(("late", "late deadlines and afterLastDeadline need a due date"))
    for x in dc.late:
        if due is not None and due.date is not None and x.date <= due.date:
            out.append(("late", f"late deadline {r.when(x.date)} is not after the due date"))
        if x.credit >= 100:
            out.append(
                (
                    "late",
                    f"late deadline {r.when(x.date)} gives {x.credit:g}%; "
                    "late credit must be below 100%",
                )
            )
    return out


def _credits_decrease(dc: DateControl, r: Reader) -> SettingsProblems:
    """The deadlines (early, due, late) fall on distinct instants and give less credit over
    time, down to the credit after the last of them."""
    out: SettingsProblems = []
    due = dc.due
    dates = sorted([*(d.date for d in dc.early), *(d.date for d in dc.late)])
    if len(set(dates)) != len(dates):
        out.append(("late", "two deadlines fall on the same instant"))
    chain = sorted(
        [*((d.date, d.credit) for d in dc.early), *((d.date, d.credit) for d in dc.late)]
        + ([(due.date, due.credit)] if due is not None and due.date is not None else [])
    )
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
    """In the modern form the questions show the score, so the score is not hidden longer."""
    if rfc:
        return []
    if sc.hidden and not q.hidden:
        return [("score", "a hidden score requires hidden questions (questions show the score)")]
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
    out: SettingsProblems = []
    if rule.visible_until is not None and rule.visible_from is None and rule.hidden:
        out.append((name, f"{name}: visibleUntilDate needs a visibleFromDate"))
    if (
        rule.visible_until is not None
        and rule.visible_from is not None
        and rule.visible_from > MIN_INSTANT
        and rule.visible_until <= rule.visible_from
    ):
        out.append((name, f"{name}: visibleUntilDate must come after visibleFromDate"))
    return out
