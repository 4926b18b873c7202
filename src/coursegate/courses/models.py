"""Typed models of the access-control objects in course files.

Inside access-control objects unknown keys are errors (with a "did you mean"). Values are
checked **strictly**, as JSON writes them: a number must be a JSON number (``"credit": "100"``
or ``true`` is an error, not 100 or 1), a flag must be ``true`` or ``false``; a whole number
may be written ``30`` or ``30.0``, and a number wherever a decimal is allowed. Dates stay
strings here: they are read in the course instance's zone by :mod:`.reader` and the access modules,
which know the zone. Which keys were written (versus left out) matters — an explicit ``null``
clears an inherited value — so the normaliser looks at ``model_fields_set``.
"""

from __future__ import annotations

import re
import types
import typing
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from coursegate.courses.keys import UUID as _UUID

_DATE_SYNTAX = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?(?:Z|z|[+-]\d{2}:?\d{2})?$"
)


def _date_syntax(value: str) -> str:
    if not _DATE_SYNTAX.match(value.strip()):
        raise ValueError(
            f"{value!r} is not a date; write it as YYYY-MM-DDTHH:MM:SS, for example "
            "2024-03-21T23:59:00"
        )
    return value


def _uuid(value: str) -> str:
    if not _UUID.match(value):
        raise ValueError(f"{value!r} is not a UUID (like 11e89892-3eff-4d7f-90a2-221372f14e5c)")
    return value


def _whole(value: Any) -> Any:
    """``30.0`` is the whole number 30 (as in JSON Schema); anything else is left to the
    strict check."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


DateStr = Annotated[str, AfterValidator(_date_syntax)]
UuidStr = Annotated[str, AfterValidator(_uuid)]
Credit = Annotated[float, Field(ge=0, le=1000)]
Minutes = Annotated[int, BeforeValidator(_whole), Field(gt=0)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Loose(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, frozen=True)


# ------------------------------------------------------------------------- legacy allowAccess


class LegacyRuleModel(Strict):
    """One legacy ``allowAccess`` rule of an assessment."""

    mode: Literal["Public", "Exam"] | None = None
    uids: list[str] | None = None
    role: Literal["Student", "TA", "Instructor"] | None = None
    startDate: DateStr | None = None
    endDate: DateStr | None = None
    credit: Credit | None = None
    timeLimitMin: Minutes | None = None
    password: str | None = None
    examUuid: UuidStr | None = None
    active: bool = True
    showClosedAssessment: bool = True
    showClosedAssessmentScore: bool = True
    comment: Any = None


class LegacyInstanceRuleModel(Strict):
    """One legacy ``allowAccess`` rule of a course instance."""

    uids: list[str] | None = None
    role: Literal["Student", "TA", "Instructor"] | None = None
    startDate: DateStr | None = None
    endDate: DateStr | None = None
    institution: str | None = None
    comment: Any = None


# ------------------------------------------------------------------- modern accessControl list


class DeadlineModel(Strict):
    date: DateStr
    credit: Credit


class ReleaseModel(Strict):
    date: DateStr


class DueModel(Strict):
    date: DateStr | None = None
    credit: Annotated[float, Field(ge=0, le=200)] = 100


class AfterLastDeadlineModel(Strict):
    allowSubmissions: bool = False
    credit: Annotated[float, Field(ge=0, lt=100)] | None = None


class SessionModel(Strict):
    """A dated session with its own password (coursegate extension)."""

    startDate: DateStr
    endDate: DateStr
    password: str | None = None
    credit: Annotated[float, Field(gt=0, le=200)] = 100
    comment: Any = None


class DateControlModel(Strict):
    release: ReleaseModel | None = None
    due: DueModel | None = None
    earlyDeadlines: list[DeadlineModel] | None = None
    lateDeadlines: list[DeadlineModel] | None = None
    afterLastDeadline: AfterLastDeadlineModel | None = None
    durationMinutes: Minutes | None = None
    durationPercent: Annotated[float, Field(gt=0, le=1000)] | None = None
    password: str | None = None
    sessions: list[SessionModel] | None = None


class RevealModel(Strict):
    hidden: bool | None = None
    visibleFromDate: DateStr | None = None
    visibleUntilDate: DateStr | None = None


class AfterCompleteModel(Strict):
    questions: RevealModel | None = None
    score: RevealModel | None = None


class ExamModel(Strict):
    examUuid: UuidStr
    readOnly: bool = False
    afterComplete: AfterCompleteModel | None = None


class PrairieTestModel(Strict):
    exams: list[ExamModel] = []


class IntegrationsModel(Strict):
    prairieTest: PrairieTestModel | None = None


class BeforeReleaseModel(Strict):
    listed: bool = False


class ModernElementModel(Strict):
    """One element of the modern ``accessControl`` list: the defaults or an override."""

    uuid: UuidStr | None = None
    labels: list[str] | None = None
    comment: Any = None
    beforeRelease: BeforeReleaseModel | None = None
    dateControl: DateControlModel | None = None
    integrations: IntegrationsModel | None = None
    afterComplete: AfterCompleteModel | None = None


# ----------------------------------------------------------------------- the RFC's object form


class RfcExamModel(Strict):
    examUuid: UuidStr
    readOnly: bool = False


class RfcAccessModel(Strict):
    """The RFC's ``accessControl`` object (also the body of an override)."""

    published: bool | None = None
    dateControl: bool | None = None
    availableDate: DateStr | None = None
    dueDate: DateStr | None = None
    earlyDeadlines: list[DeadlineModel] | None = None
    lateDeadlines: list[DeadlineModel] | None = None
    lateCredit: Annotated[float, Field(gt=0, lt=100)] | None = None
    zeroCreditPractice: bool | None = None
    durationMinutes: Minutes | None = None
    durationPercent: Annotated[float, Field(gt=0, le=1000)] | None = None
    password: str | None = None
    sessions: list[SessionModel] | None = None
    hideQuestionsAfterCompletion: bool | None = None
    hideScoreAfterCompletion: bool | None = None
    revealDate: DateStr | None = None
    revealScoreDate: DateStr | None = None
    revealUntilDate: DateStr | None = None
    visibleBeforeAvailable: bool | None = None
    prairieTest: list[RfcExamModel] | None = None
    prairieTestExamUuids: list[UuidStr] | None = None
    comment: Any = None


class RfcOverrideModel(Strict):
    sections: list[str]
    accessControl: RfcAccessModel
    comment: Any = None


# ------------------------------------------------------------------------- course instances


class PublishingModel(Strict):
    startDate: DateStr | None = None
    endDate: DateStr | None = None
    comment: Any = None


class InstanceAccessModel(Strict):
    published: bool | None = None
    startDate: DateStr | None = None
    endDate: DateStr | None = None
    comment: Any = None


class InstanceOverrideModel(Strict):
    sections: list[str]
    accessControl: InstanceAccessModel
    comment: Any = None


class SelfEnrollmentModel(Strict):
    enabled: bool = True
    beforeDate: DateStr | None = None
    restrictToInstitution: bool = True
    useEnrollmentCode: bool = False
    comment: Any = None


class StudentLabelModel(Loose):
    name: str


# --------------------------------------------------------------------- walking for "did you mean"


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _models_in(get_args(annotation)[0])
    if origin in (Union, types.UnionType, list, typing.List):  # noqa: UP006
        return [m for a in get_args(annotation) for m in _models_in(a)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return []


def keys_at(root: type[BaseModel] | Any, loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed at ``loc`` below ``root`` (a model, or ``list[Model]``)."""
    candidates = _models_in(root)
    for part in loc:
        if isinstance(part, int):
            continue
        nxt: list[type[BaseModel]] = []
        for m in candidates:
            f = m.model_fields.get(str(part))
            if f is not None:
                nxt += _models_in(f.annotation)
        candidates = nxt
    return sorted({k for m in candidates for k in m.model_fields})
