"""The modern (list) form of an assessment's ``accessControl``: each element read into a patch
of the settings, and the checks on the defaults and their overrides."""

from __future__ import annotations

from typing import Any

from coursegate.core.access_control import (
    UNSET,
    AccessPatch,
    AfterCompletePatch,
    AfterLastDeadline,
    DateControlPatch,
    Due,
    ExamLink,
    RevealRule,
    Unset,
)
from coursegate.core.instants import Instant
from coursegate.courses import models as m
from coursegate.courses.deadlines import read_deadlines, read_sessions
from coursegate.courses.reader import Reader, was_set


def _reveal(r: Reader, rm: m.RevealModel, path: str, hidden_default: bool) -> RevealRule:
    hidden = hidden_default if rm.hidden is None else rm.hidden
    if rm.hidden is False:
        for key in ("visibleFromDate", "visibleUntilDate"):
            if getattr(rm, key) is not None:
                r.error(
                    f"{path}.{key}",
                    f"{key} only has a meaning with hidden: true (it says when hidden "
                    "things are shown); with hidden: false they are always shown",
                )
    return RevealRule(
        hidden=hidden,
        visible_from=r.date(rm.visibleFromDate, f"{path}.visibleFromDate"),
        visible_until=r.date(rm.visibleUntilDate, f"{path}.visibleUntilDate"),
    )


def _after_complete(r: Reader, ac: m.AfterCompleteModel, path: str) -> AfterCompletePatch:
    q: RevealRule | Unset | None = UNSET
    s: RevealRule | Unset | None = UNSET
    if was_set(ac, "questions"):
        q = None if ac.questions is None else _reveal(r, ac.questions, f"{path}.questions", True)
    if was_set(ac, "score"):
        s = None if ac.score is None else _reveal(r, ac.score, f"{path}.score", False)
    return AfterCompletePatch(questions=q, score=s)


def modern_patch(
    r: Reader, el: m.ModernElementModel, path: str, source: str, *, defaults: bool
) -> AccessPatch:
    """One element of the list (the defaults, an override or a student's own override) as a
    patch: only the keys it sets change the settings."""
    return AccessPatch(
        source=source,
        labels=frozenset(el.labels) if el.labels is not None else None,
        date_control=_date_control(r, el, path, defaults),
        exams=_exams(r, el, path),
        after_complete=_element_after_complete(r, el, path),
        listed_before_release=_listed_before_release(el),
    )


def _date_control(
    r: Reader, el: m.ModernElementModel, path: str, defaults: bool
) -> DateControlPatch | Unset | None:
    if not was_set(el, "dateControl"):
        return UNSET
    if el.dateControl is None:
        return None
    d = el.dateControl
    p = f"{path}.dateControl"
    due = _due(r, d, p)
    after = _after_last_deadline(r, d, p)
    if defaults and d.durationPercent is not None:
        r.error(
            f"{p}.durationPercent",
            "durationPercent scales the time limit in force, so it belongs in an "
            "override; write durationMinutes in the defaults",
        )
    return DateControlPatch(
        release=_release(r, d, p),
        due=due,
        early=read_deadlines(r, d.earlyDeadlines, f"{p}.earlyDeadlines")
        if was_set(d, "earlyDeadlines")
        else UNSET,
        late=read_deadlines(r, d.lateDeadlines, f"{p}.lateDeadlines")
        if was_set(d, "lateDeadlines")
        else UNSET,
        after_last=after,
        sessions=read_sessions(r, d.sessions, f"{p}.sessions") if was_set(d, "sessions") else UNSET,
        duration_minutes=d.durationMinutes if was_set(d, "durationMinutes") else UNSET,
        duration_percent=d.durationPercent if was_set(d, "durationPercent") else UNSET,
        password=d.password if was_set(d, "password") else UNSET,
    )


def _release(r: Reader, d: m.DateControlModel, p: str) -> Instant | Unset | None:
    if not was_set(d, "release"):
        return UNSET
    return None if d.release is None else r.date(d.release.date, f"{p}.release.date")


def _due(r: Reader, d: m.DateControlModel, p: str) -> Due | Unset | None:
    if not was_set(d, "due"):
        return UNSET
    return None if d.due is None else Due(r.date(d.due.date, f"{p}.due.date"), d.due.credit)


def _after_last_deadline(
    r: Reader, d: m.DateControlModel, p: str
) -> AfterLastDeadline | Unset | None:
    if not was_set(d, "afterLastDeadline"):
        return UNSET
    a = d.afterLastDeadline
    if a is not None and not a.allowSubmissions and a.credit is not None:
        r.error(
            f"{p}.afterLastDeadline.credit",
            "credit has no meaning when allowSubmissions is false",
        )
    return None if a is None else AfterLastDeadline(a.allowSubmissions, a.credit or 0)


def _exams(r: Reader, el: m.ModernElementModel, path: str) -> tuple[ExamLink, ...] | Unset:
    if not was_set(el, "integrations"):
        return UNSET
    pt = el.integrations.prairieTest if el.integrations is not None else None
    exams = pt.exams if pt is not None else []
    base = f"{path}.integrations.prairieTest.exams"
    seen: dict[str, int] = {}
    for j, e in enumerate(exams):
        if e.examUuid in seen:
            r.error(
                f"{base}[{j}].examUuid",
                f"exam {e.examUuid} is already linked by {base}[{seen[e.examUuid]}]; "
                "link each PrairieTest exam once",
            )
        else:
            seen[e.examUuid] = j
    return tuple(_exam_link(r, e, f"{base}[{j}]") for j, e in enumerate(exams))


def _exam_link(r: Reader, e: m.ExamModel, path: str) -> ExamLink:
    """One linked exam. Inside a link both ``questions`` and ``score`` default to shown (as
    PrairieLearn's link does); the assessment's own ``afterComplete`` does not apply to it."""
    ac = e.afterComplete
    if ac is None:
        return ExamLink(e.examUuid, e.readOnly, None, None)
    p = f"{path}.afterComplete"
    q = _reveal(r, ac.questions, f"{p}.questions", False) if ac.questions else None
    s = _reveal(r, ac.score, f"{p}.score", False) if ac.score else None
    q_hidden = q is not None and q.hidden
    s_hidden = s is not None and s.hidden
    if e.readOnly:
        for what, hidden in (("questions", q_hidden), ("score", s_hidden)):
            if hidden:
                r.error(
                    f"{p}.{what}.hidden",
                    f"a readOnly exam is a review of a closed attempt, so it cannot hide the "
                    f"{what}; remove hidden: true or readOnly",
                )
    if s_hidden and not q_hidden:
        r.error(
            f"{p}.score.hidden",
            "this exam hides the score but shows the questions, which show the score; "
            "hide the questions too (questions: {hidden: true})",
        )
    return ExamLink(e.examUuid, e.readOnly, q, s)


def _element_after_complete(
    r: Reader, el: m.ModernElementModel, path: str
) -> AfterCompletePatch | Unset | None:
    if not was_set(el, "afterComplete"):
        return UNSET
    if el.afterComplete is None:
        return None
    return _after_complete(r, el.afterComplete, f"{path}.afterComplete")


def _listed_before_release(el: m.ModernElementModel) -> bool | Unset | None:
    if not was_set(el, "beforeRelease"):
        return UNSET
    return el.beforeRelease.listed if el.beforeRelease is not None else None


def modern_access(
    r: Reader, data: Any, path: str, labels: frozenset[str] | None
) -> tuple[AccessPatch, tuple[AccessPatch, ...]] | None:
    """The list form: the first element is the defaults for everyone, the others overrides
    for the students with their labels (checked against ``labels`` when the instance has
    them). None when the list does not validate."""
    elements = r.model(list[m.ModernElementModel], data, path)
    if elements is None:
        return None
    if not elements:
        r.warn(path, "an empty accessControl list gives students no access")
        return AccessPatch(source="accessControl (empty)"), ()
    defaults = elements[0]
    dp = f"{path}[0]"
    _check_defaults(r, defaults, dp)
    base = modern_patch(r, defaults, dp, "accessControl[0] (defaults)", defaults=True)
    overrides: list[AccessPatch] = []
    seen: dict[str, int] = {}
    for i, el in enumerate(elements[1:], start=1):
        p = f"{path}[{i}]"
        _check_override_uuid(r, el, i, path, seen)
        _check_override(r, el, p, labels)
        desc = f"accessControl[{i}]" + (f" (labels: {', '.join(el.labels)})" if el.labels else "")
        overrides.append(modern_patch(r, el, p, desc, defaults=False))
    return base, tuple(overrides)


def _check_defaults(r: Reader, defaults: m.ModernElementModel, dp: str) -> None:
    if defaults.uuid is not None:
        r.error(f"{dp}.uuid", "the defaults (the first element) must not have a uuid")
    if defaults.labels is not None:
        r.error(
            f"{dp}.labels",
            "the first element is the defaults for everyone; put label overrides after it",
        )


def _check_override_uuid(
    r: Reader, el: m.ModernElementModel, i: int, path: str, seen: dict[str, int]
) -> None:
    """Every override has its own uuid; ``seen`` maps those met so far to their index."""
    p = f"{path}[{i}]"
    if el.uuid is None:
        r.error(p, "every override needs a uuid (generate one with uuidgen)")
    elif el.uuid in seen:
        r.error(f"{p}.uuid", f"this uuid is already used by {path}[{seen[el.uuid]}]")
    else:
        seen[el.uuid] = i


def _check_override(
    r: Reader, el: m.ModernElementModel, p: str, labels: frozenset[str] | None
) -> None:
    """What only the defaults may set, and the override's labels."""
    if el.beforeRelease is not None:
        r.error(f"{p}.beforeRelease", "beforeRelease can only be set in the defaults")
    if el.integrations is not None:
        r.error(f"{p}.integrations", "testing-centre exams can only be linked in the defaults")
    if not el.labels:
        r.warn(
            p,
            "this override names no labels, so in the course files it applies to no one; "
            "per-student overrides are kept in the database (never in files)",
        )
    elif labels is not None:
        for j, lab in enumerate(el.labels):
            if lab not in labels:
                r.error(
                    f"{p}.labels[{j}]",
                    f"{lab!r} is not one of the course instance's studentLabels "
                    f"({', '.join(sorted(labels)) or 'none defined'})",
                )
