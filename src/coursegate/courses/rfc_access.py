"""The RFC (object) form of an assessment's ``accessControl`` and its section overrides, each
merged key by key onto the defaults and read into a patch of the settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

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
from coursegate.core.instants import MIN_INSTANT
from coursegate.courses import models as m
from coursegate.courses.deadlines import read_deadlines, read_sessions
from coursegate.courses.reader import Reader

M = TypeVar("M", bound=BaseModel)


def merge_models(base: M, over: M) -> M:
    """``over`` written on top of ``base``, key by key (the keys ``over`` sets win)."""
    data = base.model_dump(exclude_unset=True)
    data.update(over.model_dump(exclude_unset=True))
    return type(base).model_validate(data)


_RFC_DATE_FIELDS = (
    "availableDate",
    "dueDate",
    "earlyDeadlines",
    "lateDeadlines",
    "lateCredit",
    "durationMinutes",
    "durationPercent",
    "password",
    "sessions",
)

_REVEAL_KEYS = {
    "hideQuestionsAfterCompletion",
    "hideScoreAfterCompletion",
    "revealDate",
    "revealScoreDate",
    "revealUntilDate",
}


def rfc_patch(r: Reader, a: m.RfcAccessModel, path: str, source: str) -> AccessPatch:
    """One RFC object (the defaults, or an override already merged onto them) as a patch."""
    return AccessPatch(
        source=source,
        published=a.published if a.published is not None else UNSET,
        listed_before_release=a.visibleBeforeAvailable
        if a.visibleBeforeAvailable is not None
        else UNSET,
        date_control=_date_control(r, a, path),
        exams=_exams(r, a, path),
        after_complete=_after_complete(r, a, path),
    )


def _date_control(r: Reader, a: m.RfcAccessModel, path: str) -> DateControlPatch | Unset | None:
    fs = a.model_fields_set
    date_fields = [f for f in _RFC_DATE_FIELDS if f in fs and getattr(a, f) is not None]
    if a.dateControl is False:
        if date_fields:
            r.error(
                f"{path}.dateControl",
                "dateControl is false, so these keys have no effect: " + ", ".join(date_fields),
            )
        return None
    if not (a.dateControl or a.availableDate is not None or a.dueDate is not None or date_fields):
        return UNSET
    return DateControlPatch(
        release=r.date(a.availableDate, f"{path}.availableDate")
        if "availableDate" in fs
        else UNSET,
        due=(Due(r.date(a.dueDate, f"{path}.dueDate")) if a.dueDate is not None else None)
        if "dueDate" in fs
        else UNSET,
        early=read_deadlines(r, a.earlyDeadlines, f"{path}.earlyDeadlines")
        if "earlyDeadlines" in fs
        else UNSET,
        late=read_deadlines(r, a.lateDeadlines, f"{path}.lateDeadlines")
        if "lateDeadlines" in fs
        else UNSET,
        after_last=_after_last_deadline(a),
        sessions=read_sessions(r, a.sessions, f"{path}.sessions") if "sessions" in fs else UNSET,
        duration_minutes=a.durationMinutes if "durationMinutes" in fs else UNSET,
        duration_percent=a.durationPercent if "durationPercent" in fs else UNSET,
        password=a.password if "password" in fs else UNSET,
    )


def _after_last_deadline(a: m.RfcAccessModel) -> AfterLastDeadline | Unset | None:
    """``lateCredit`` (submissions for that credit) or ``zeroCreditPractice``."""
    fs = a.model_fields_set
    if a.lateCredit is not None:
        return AfterLastDeadline(True, a.lateCredit)
    if a.zeroCreditPractice:
        return AfterLastDeadline(True, 0, can_create=False)
    if "zeroCreditPractice" in fs or "lateCredit" in fs:
        return None
    return UNSET


def _exams(r: Reader, a: m.RfcAccessModel, path: str) -> tuple[ExamLink, ...] | Unset:
    exams: tuple[ExamLink, ...] | Unset = UNSET
    if a.prairieTestExamUuids is not None:
        r.warn(
            f"{path}.prairieTestExamUuids",
            "prairieTestExamUuids is the RFC's early spelling; write "
            '"prairieTest": [{"examUuid": "..."}] instead',
        )
        exams = tuple(ExamLink(u) for u in a.prairieTestExamUuids)
    if "prairieTest" in a.model_fields_set:
        exams = (exams if not isinstance(exams, Unset) else ()) + tuple(
            ExamLink(e.examUuid, e.readOnly) for e in a.prairieTest or []
        )
    if not isinstance(exams, Unset):
        _check_duplicate_exams(r, a, path)
    return exams


def _check_duplicate_exams(r: Reader, a: m.RfcAccessModel, path: str) -> None:
    """Each PrairieTest exam is linked once (across both spellings of the list)."""
    where: list[str] = [
        f"{path}.prairieTestExamUuids[{j}]" for j in range(len(a.prairieTestExamUuids or []))
    ] + [f"{path}.prairieTest[{j}].examUuid" for j in range(len(a.prairieTest or []))]
    uuids = [*(a.prairieTestExamUuids or []), *(e.examUuid for e in a.prairieTest or [])]
    seen: dict[str, str] = {}
    for uuid, p in zip(uuids, where, strict=True):
        if uuid in seen:
            r.error(p, f"exam {uuid} is already linked by {seen[uuid]}; link each exam once")
        else:
            seen[uuid] = p


def _after_complete(r: Reader, a: m.RfcAccessModel, path: str) -> AfterCompletePatch | Unset:
    """What is shown after completion: hidden questions and score, revealed from a date (the
    score from the earlier of revealDate and revealScoreDate) until revealUntilDate."""
    if not a.model_fields_set & _REVEAL_KEYS:
        return UNSET
    reveal = r.date(a.revealDate, f"{path}.revealDate")
    reveal_score = r.date(a.revealScoreDate, f"{path}.revealScoreDate")
    until = r.date(a.revealUntilDate, f"{path}.revealUntilDate")
    score_from = min((x for x in (reveal, reveal_score) if x is not None), default=None)
    if until is not None and (reveal is None or until <= reveal):
        r.error(f"{path}.revealUntilDate", "revealUntilDate must come after revealDate")
    if a.hideScoreAfterCompletion and not a.hideQuestionsAfterCompletion:
        r.warn(
            path,
            "the score is hidden after completion but the questions are not, so students "
            "can still work out their score from the questions",
        )
    return AfterCompletePatch(
        questions=RevealRule(
            bool(a.hideQuestionsAfterCompletion) or until is not None,
            reveal if a.hideQuestionsAfterCompletion else (None if until is None else MIN_INSTANT),
            until,
        ),
        score=RevealRule(
            bool(a.hideScoreAfterCompletion) or until is not None,
            score_from if a.hideScoreAfterCompletion else (None if until is None else MIN_INSTANT),
            until,
        ),
    )


@dataclass(frozen=True)
class RfcSource:
    """The RFC defaults as written, kept to merge per-student overrides key by key."""

    defaults: m.RfcAccessModel


def rfc_access(
    r: Reader, obj: Any, overrides: Any, path: str
) -> tuple[AccessPatch, tuple[AccessPatch, ...], RfcSource] | None:
    """The object form: the defaults, and each section override merged onto them key by key.
    None when either does not validate."""
    a = r.model(m.RfcAccessModel, obj, path)
    ovs = r.model(list[m.RfcOverrideModel], overrides or [], "$.accessControlOverrides")
    if a is None or ovs is None:
        return None
    base = rfc_patch(r, a, path, "accessControl (defaults)")
    out: list[AccessPatch] = []
    for i, o in enumerate(ovs):
        p = f"$.accessControlOverrides[{i}]"
        merged = merge_models(a, o.accessControl)
        patch = rfc_patch(r, merged, f"{p}.accessControl", f"accessControlOverrides[{i}]")
        out.append(
            AccessPatch(
                source=f"accessControlOverrides[{i}] (sections: {', '.join(o.sections)})",
                labels=frozenset(o.sections),
                published=patch.published,
                listed_before_release=patch.listed_before_release,
                date_control=patch.date_control,
                exams=patch.exams,
                after_complete=patch.after_complete,
            )
        )
    return base, tuple(out), RfcSource(a)
