"""From validated models to the core's values, with the semantic checks of each form.

Every date is read here, in the course instance's zone; every problem names the file and the
JSON path. The checks follow PrairieLearn's shipped validation where it exists (release before
due, deadlines in order, credits decreasing, ...) and explain coursegate's extensions.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, TypeAdapter, ValidationError

from coursegate.core.access_control import (
    UNSET,
    AccessControlConfig,
    AccessPatch,
    AfterCompletePatch,
    AfterLastDeadline,
    DateControlPatch,
    Deadline,
    Due,
    ExamLink,
    RevealRule,
    Session,
    Unset,
    apply_patch,
    initial_settings,
)
from coursegate.core.course_instance import (
    CourseInstancePolicy,
    InstanceAccessControl,
    InstanceOverride,
    LegacyInstanceRule,
    Publishing,
    SelfEnrollment,
)
from coursegate.core.engine import AssessmentConfig
from coursegate.core.instants import MIN_INSTANT, DateError, Instant, format_wall, parse_date
from coursegate.core.legacy_rules import LegacyRule
from coursegate.core.model import Form, Mode, Role
from coursegate.courses import models as m
from coursegate.courses.problems import Problem, from_validation_error

M = TypeVar("M", bound=BaseModel)


@dataclass
class Reader:
    """Reads one file's values, collecting problems."""

    file: str
    tz: ZoneInfo
    problems: list[Problem] = field(default_factory=list)

    def error(self, path: str, message: str) -> None:
        self.problems.append(Problem(self.file, path, message))

    def warn(self, path: str, message: str) -> None:
        self.problems.append(Problem(self.file, path, message, "warning"))

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    def date(self, text: str | None, path: str) -> Instant | None:
        if text is None:
            return None
        try:
            t, warning = parse_date(text, self.tz)
        except DateError as exc:
            self.error(path, str(exc))
            return None
        if warning is not None:
            self.warn(path, f"{warning.message} (time zone {self.tz.key})")
        return t

    def model(self, model: Any, data: Any, path: str) -> Any:
        """Validate ``data`` against ``model`` (a class or ``list[...]``); None on errors."""
        try:
            return TypeAdapter(model).validate_python(data)
        except ValidationError as exc:
            self.problems += from_validation_error(
                exc, self.file, path, lambda loc: m.keys_at(model, loc)
            )
            return None

    def when(self, t: Instant) -> str:
        return format_wall(t, self.tz)


def _set(model: BaseModel, name: str) -> bool:
    return name in model.model_fields_set


# ------------------------------------------------------------------------------ legacy rules


def legacy_rules(r: Reader, data: Any, path: str) -> tuple[LegacyRule, ...] | None:
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
        out.append(
            LegacyRule(
                index=i,
                mode=Mode(rule.mode) if rule.mode else None,
                uids=frozenset(rule.uids) if rule.uids is not None else None,
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


# ------------------------------------------------------------------------------ modern form


def _deadlines(r: Reader, items: list[m.DeadlineModel] | None, path: str) -> tuple[Deadline, ...]:
    out = []
    for i, d in enumerate(items or []):
        t = r.date(d.date, f"{path}[{i}].date")
        if t is not None:
            out.append(Deadline(t, d.credit))
    return tuple(out)


def _sessions(r: Reader, items: list[m.SessionModel] | None, path: str) -> tuple[Session, ...]:
    out = []
    for i, s in enumerate(items or []):
        a = r.date(s.startDate, f"{path}[{i}].startDate")
        b = r.date(s.endDate, f"{path}[{i}].endDate")
        if a is None or b is None:
            continue
        if a >= b:
            r.error(f"{path}[{i}]", f"session {i + 1} ends before it starts")
            continue
        out.append(Session(a, b, s.password, s.credit))
    ordered = sorted(out, key=lambda s: s.start)
    for x, y in itertools.pairwise(ordered):
        if y.start < x.end:
            r.error(path, f"sessions overlap around {r.when(y.start)}; give each its own time")
    return tuple(out)


def _reveal(r: Reader, rm: m.RevealModel, path: str, hidden_default: bool) -> RevealRule:
    return RevealRule(
        hidden=hidden_default if rm.hidden is None else rm.hidden,
        visible_from=r.date(rm.visibleFromDate, f"{path}.visibleFromDate"),
        visible_until=r.date(rm.visibleUntilDate, f"{path}.visibleUntilDate"),
    )


def _after_complete(r: Reader, ac: m.AfterCompleteModel, path: str) -> AfterCompletePatch:
    q: RevealRule | Unset | None = UNSET
    s: RevealRule | Unset | None = UNSET
    if _set(ac, "questions"):
        q = None if ac.questions is None else _reveal(r, ac.questions, f"{path}.questions", True)
    if _set(ac, "score"):
        s = None if ac.score is None else _reveal(r, ac.score, f"{path}.score", False)
    return AfterCompletePatch(questions=q, score=s)


def modern_patch(
    r: Reader, el: m.ModernElementModel, path: str, source: str, *, defaults: bool
) -> AccessPatch:
    dc: DateControlPatch | Unset | None = UNSET
    if _set(el, "dateControl"):
        if el.dateControl is None:
            dc = None
        else:
            d = el.dateControl
            p = f"{path}.dateControl"
            due: Due | Unset | None = UNSET
            if _set(d, "due"):
                due = (
                    None
                    if d.due is None
                    else Due(r.date(d.due.date, f"{p}.due.date"), d.due.credit)
                )
            after: AfterLastDeadline | Unset | None = UNSET
            if _set(d, "afterLastDeadline"):
                a = d.afterLastDeadline
                if a is not None and not a.allowSubmissions and a.credit is not None:
                    r.error(
                        f"{p}.afterLastDeadline.credit",
                        "credit has no meaning when allowSubmissions is false",
                    )
                after = None if a is None else AfterLastDeadline(a.allowSubmissions, a.credit or 0)
            if defaults and d.durationPercent is not None:
                r.error(
                    f"{p}.durationPercent",
                    "durationPercent scales the time limit in force, so it belongs in an "
                    "override; write durationMinutes in the defaults",
                )
            dc = DateControlPatch(
                release=(
                    UNSET
                    if not _set(d, "release")
                    else None
                    if d.release is None
                    else r.date(d.release.date, f"{p}.release.date")
                ),
                due=due,
                early=_deadlines(r, d.earlyDeadlines, f"{p}.earlyDeadlines")
                if _set(d, "earlyDeadlines")
                else UNSET,
                late=_deadlines(r, d.lateDeadlines, f"{p}.lateDeadlines")
                if _set(d, "lateDeadlines")
                else UNSET,
                after_last=after,
                sessions=_sessions(r, d.sessions, f"{p}.sessions")
                if _set(d, "sessions")
                else UNSET,
                duration_minutes=d.durationMinutes if _set(d, "durationMinutes") else UNSET,
                duration_percent=d.durationPercent if _set(d, "durationPercent") else UNSET,
                password=d.password if _set(d, "password") else UNSET,
            )
    exams: tuple[ExamLink, ...] | Unset | None = UNSET
    if _set(el, "integrations"):
        pt = el.integrations.prairieTest if el.integrations is not None else None
        exams = tuple(
            ExamLink(
                e.examUuid,
                e.readOnly,
                *(
                    (
                        _reveal(r, e.afterComplete.questions, f"{path}.integrations", True)
                        if e.afterComplete.questions
                        else None,
                        _reveal(r, e.afterComplete.score, f"{path}.integrations", False)
                        if e.afterComplete.score
                        else None,
                    )
                    if e.afterComplete is not None
                    else (None, None)
                ),
            )
            for e in (pt.exams if pt is not None else [])
        )
    after_complete: AfterCompletePatch | Unset | None = UNSET
    if _set(el, "afterComplete"):
        after_complete = (
            None
            if el.afterComplete is None
            else _after_complete(r, el.afterComplete, f"{path}.afterComplete")
        )
    listed: bool | Unset | None = UNSET
    if _set(el, "beforeRelease"):
        listed = el.beforeRelease.listed if el.beforeRelease is not None else None
    return AccessPatch(
        source=source,
        labels=frozenset(el.labels) if el.labels is not None else None,
        listed_before_release=listed,
        date_control=dc,
        exams=exams,
        after_complete=after_complete,
    )


def modern_access(
    r: Reader, data: Any, path: str, labels: frozenset[str] | None
) -> tuple[AccessPatch, tuple[AccessPatch, ...]] | None:
    elements = r.model(list[m.ModernElementModel], data, path)
    if elements is None:
        return None
    if not elements:
        r.warn(path, "an empty accessControl list gives students no access")
        return AccessPatch(source="accessControl (empty)"), ()
    defaults = elements[0]
    dp = f"{path}[0]"
    if defaults.uuid is not None:
        r.error(f"{dp}.uuid", "the defaults (the first element) must not have a uuid")
    if defaults.labels is not None:
        r.error(
            f"{dp}.labels",
            "the first element is the defaults for everyone; put label overrides after it",
        )
    base = modern_patch(r, defaults, dp, "accessControl[0] (defaults)", defaults=True)
    overrides: list[AccessPatch] = []
    seen: dict[str, int] = {}
    for i, el in enumerate(elements[1:], start=1):
        p = f"{path}[{i}]"
        if el.uuid is None:
            r.error(p, "every override needs a uuid (generate one with uuidgen)")
        elif el.uuid in seen:
            r.error(f"{p}.uuid", f"this uuid is already used by {path}[{seen[el.uuid]}]")
        else:
            seen[el.uuid] = i
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
        desc = f"accessControl[{i}]" + (f" (labels: {', '.join(el.labels)})" if el.labels else "")
        overrides.append(modern_patch(r, el, p, desc, defaults=False))
    return base, tuple(overrides)


# --------------------------------------------------------------------------------- RFC form


def _merge_models(base: M, over: M) -> M:
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


def rfc_patch(r: Reader, a: m.RfcAccessModel, path: str, source: str) -> AccessPatch:
    fs = a.model_fields_set
    date_fields = [f for f in _RFC_DATE_FIELDS if f in fs and getattr(a, f) is not None]
    dc: DateControlPatch | Unset | None = UNSET
    if a.dateControl is False:
        if date_fields:
            r.error(
                f"{path}.dateControl",
                "dateControl is false, so these keys have no effect: " + ", ".join(date_fields),
            )
        dc = None
    elif a.dateControl or a.availableDate is not None or a.dueDate is not None or date_fields:
        after: AfterLastDeadline | Unset | None = UNSET
        if a.lateCredit is not None:
            after = AfterLastDeadline(True, a.lateCredit)
        elif a.zeroCreditPractice:
            after = AfterLastDeadline(True, 0, can_create=False)
        elif "zeroCreditPractice" in fs or "lateCredit" in fs:
            after = None
        dc = DateControlPatch(
            release=r.date(a.availableDate, f"{path}.availableDate")
            if "availableDate" in fs
            else UNSET,
            due=(Due(r.date(a.dueDate, f"{path}.dueDate")) if a.dueDate is not None else None)
            if "dueDate" in fs
            else UNSET,
            early=_deadlines(r, a.earlyDeadlines, f"{path}.earlyDeadlines")
            if "earlyDeadlines" in fs
            else UNSET,
            late=_deadlines(r, a.lateDeadlines, f"{path}.lateDeadlines")
            if "lateDeadlines" in fs
            else UNSET,
            after_last=after,
            sessions=_sessions(r, a.sessions, f"{path}.sessions") if "sessions" in fs else UNSET,
            duration_minutes=a.durationMinutes if "durationMinutes" in fs else UNSET,
            duration_percent=a.durationPercent if "durationPercent" in fs else UNSET,
            password=a.password if "password" in fs else UNSET,
        )
    exams: tuple[ExamLink, ...] | Unset = UNSET
    if a.prairieTestExamUuids is not None:
        r.warn(
            f"{path}.prairieTestExamUuids",
            "prairieTestExamUuids is the RFC's early spelling; write "
            '"prairieTest": [{"examUuid": "..."}] instead',
        )
        exams = tuple(ExamLink(u) for u in a.prairieTestExamUuids)
    if "prairieTest" in fs:
        exams = (exams if not isinstance(exams, Unset) else ()) + tuple(
            ExamLink(e.examUuid, e.readOnly) for e in a.prairieTest or []
        )
    after_complete: AfterCompletePatch | Unset = UNSET
    reveal_keys = {
        "hideQuestionsAfterCompletion",
        "hideScoreAfterCompletion",
        "revealDate",
        "revealScoreDate",
        "revealUntilDate",
    }
    if fs & reveal_keys:
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
        after_complete = AfterCompletePatch(
            questions=RevealRule(
                bool(a.hideQuestionsAfterCompletion) or until is not None,
                reveal
                if a.hideQuestionsAfterCompletion
                else (None if until is None else MIN_INSTANT),
                until,
            ),
            score=RevealRule(
                bool(a.hideScoreAfterCompletion) or until is not None,
                score_from
                if a.hideScoreAfterCompletion
                else (None if until is None else MIN_INSTANT),
                until,
            ),
        )
    return AccessPatch(
        source=source,
        published=a.published if a.published is not None else UNSET,
        listed_before_release=a.visibleBeforeAvailable
        if a.visibleBeforeAvailable is not None
        else UNSET,
        date_control=dc,
        exams=exams,
        after_complete=after_complete,
    )


@dataclass(frozen=True)
class RfcSource:
    """The RFC defaults as written, kept to merge per-student overrides key by key."""

    defaults: m.RfcAccessModel


def rfc_access(
    r: Reader, obj: Any, overrides: Any, path: str
) -> tuple[AccessPatch, tuple[AccessPatch, ...], RfcSource] | None:
    a = r.model(m.RfcAccessModel, obj, path)
    ovs = r.model(list[m.RfcOverrideModel], overrides or [], "$.accessControlOverrides")
    if a is None or ovs is None:
        return None
    base = rfc_patch(r, a, path, "accessControl (defaults)")
    out: list[AccessPatch] = []
    for i, o in enumerate(ovs):
        p = f"$.accessControlOverrides[{i}]"
        merged = _merge_models(a, o.accessControl)
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


# ------------------------------------------------------------------------ semantic checks


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
    reported: set[str] = set()
    for suffix, element_path, extra in cases:
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


def settings_problems(s: Any, r: Reader) -> list[tuple[str, str]]:
    """PrairieLearn's date-control checks, in words, each with the key it is about;
    ``s`` is an AccessSettings."""
    out: list[tuple[str, str]] = []
    rfc = s.form is Form.RFC
    dc = s.date_control
    if dc is not None:
        if dc.release is None and not rfc and not dc.sessions:
            out.append(("date_control", "a release date is required when dateControl is used"))
        due = dc.due
        if dc.sessions and (dc.release is not None or due is not None or dc.early or dc.late):
            out.append(
                (
                    "sessions",
                    "sessions replace the release date, the due date and the deadlines; "
                    "use one or the other",
                )
            )
        if (
            due is not None
            and due.date is not None
            and dc.release is not None
            and due.date <= dc.release
        ):
            out.append(
                (
                    "due",
                    f"the due date {r.when(due.date)} is not after the release "
                    f"{r.when(dc.release)}",
                )
            )
        for x in dc.early:
            if dc.release is not None and x.date <= dc.release:
                out.append(
                    ("early", f"early deadline {r.when(x.date)} is not after the release date")
                )
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
    q, sc = s.questions, s.score
    if not rfc and sc.hidden and not q.hidden:
        out.append(("score", "a hidden score requires hidden questions (questions show the score)"))
    if (
        not rfc
        and q.hidden
        and sc.hidden
        and sc.visible_from is not None
        and q.visible_from is not None
        and sc.visible_from > q.visible_from
    ):
        out.append(("score", "the score must not be revealed after the questions"))
    for name, rule in (("questions", q), ("score", sc)):
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


# ------------------------------------------------------------------------- course instances


@dataclass(frozen=True)
class InstanceSettings:
    policy: CourseInstancePolicy
    labels: frozenset[str] | None
    set_access: dict[str, tuple[AccessPatch, tuple[AccessPatch, ...]]]


def instance_policy(r: Reader, data: dict[str, Any], institution: str | None) -> InstanceSettings:
    has_legacy = "allowAccess" in data
    has_rfc = "accessControl" in data
    has_pub = "publishing" in data
    forms = [
        n
        for n, f in (
            ("allowAccess", has_legacy),
            ("accessControl", has_rfc),
            ("publishing", has_pub),
        )
        if f
    ]
    if len(forms) > 1:
        r.error("$", f"use only one of {', '.join(forms)} to control access to a course instance")
    se = r.model(m.SelfEnrollmentModel, data.get("selfEnrollment", {}), "$.selfEnrollment")
    self_enrollment = SelfEnrollment()
    if se is not None:
        self_enrollment = SelfEnrollment(
            enabled=se.enabled,
            before=r.date(se.beforeDate, "$.selfEnrollment.beforeDate"),
            restrict_to_institution=se.restrictToInstitution,
            use_code=se.useEnrollmentCode,
        )
    labels: frozenset[str] | None = None
    if "studentLabels" in data:
        items = r.model(list[m.StudentLabelModel], data["studentLabels"], "$.studentLabels")
        if items is not None:
            labels = frozenset(x.name for x in items)
    policy = CourseInstancePolicy(institution=institution, self_enrollment=self_enrollment)
    if has_legacy:
        rules = r.model(list[m.LegacyInstanceRuleModel], data["allowAccess"], "$.allowAccess")
        out = []
        for i, rule in enumerate(rules or []):
            p = f"$.allowAccess[{i}]"
            start, end = (
                r.date(rule.startDate, f"{p}.startDate"),
                r.date(rule.endDate, f"{p}.endDate"),
            )
            if start is not None and end is not None and start > end:
                r.error(p, f"startDate {rule.startDate} is after endDate {rule.endDate}")
            out.append(
                LegacyInstanceRule(
                    index=i,
                    uids=frozenset(rule.uids) if rule.uids is not None else None,
                    role=Role.parse(rule.role) if rule.role else None,
                    start=start,
                    end=end,
                    institution=rule.institution,
                )
            )
        policy = CourseInstancePolicy(
            form="legacy",
            legacy_rules=tuple(out),
            institution=institution,
            self_enrollment=self_enrollment,
        )
    elif has_pub:
        pub = r.model(m.PublishingModel, data["publishing"], "$.publishing")
        if pub is not None:
            start = r.date(pub.startDate, "$.publishing.startDate")
            end = r.date(pub.endDate, "$.publishing.endDate")
            if (pub.startDate is None) != (pub.endDate is None):
                r.error("$.publishing", "give startDate and endDate together (or neither)")
            if start is not None and end is not None and start >= end:
                r.error("$.publishing", "the publishing startDate must be before its endDate")
            policy = CourseInstancePolicy(
                form="modern",
                publishing=Publishing(start, end),
                institution=institution,
                self_enrollment=self_enrollment,
            )
    elif has_rfc:
        ac = r.model(m.InstanceAccessModel, data["accessControl"], "$.accessControl")
        ovs = r.model(
            list[m.InstanceOverrideModel],
            data.get("accessControlOverrides", []),
            "$.accessControlOverrides",
        )
        if ac is not None and ovs is not None:

            def control(x: m.InstanceAccessModel, p: str) -> InstanceAccessControl:
                c = InstanceAccessControl(
                    bool(x.published),
                    r.date(x.startDate, f"{p}.startDate"),
                    r.date(x.endDate, f"{p}.endDate"),
                )
                if c.start is not None and c.end is not None and c.start > c.end:
                    r.error(p, "startDate is after endDate")
                return c

            policy = CourseInstancePolicy(
                form="rfc",
                control=control(ac, "$.accessControl"),
                overrides=tuple(
                    InstanceOverride(
                        frozenset(o.sections),
                        control(
                            _merge_models(ac, o.accessControl),
                            f"$.accessControlOverrides[{i}].accessControl",
                        ),
                        f"accessControlOverrides[{i}]",
                    )
                    for i, o in enumerate(ovs)
                ),
                institution=institution,
                self_enrollment=self_enrollment,
            )
    set_access: dict[str, tuple[AccessPatch, tuple[AccessPatch, ...]]] = {}
    raw_sets = data.get("setAccessControl", {})
    if not isinstance(raw_sets, dict):
        r.error("$.setAccessControl", 'must be an object like {"Quiz": [ ... ]}')
    else:
        for name, lst in raw_sets.items():
            got = modern_access(r, lst, f"$.setAccessControl.{name}", labels)
            if got is not None:
                base, ovs2 = got
                set_access[name] = (
                    AccessPatch(
                        source=f"set {name} defaults",
                        labels=None,
                        published=base.published,
                        listed_before_release=base.listed_before_release,
                        date_control=base.date_control,
                        exams=base.exams,
                        after_complete=base.after_complete,
                    ),
                    tuple(
                        AccessPatch(
                            source=f"set {name} override {i + 1}"
                            + (f" (labels: {', '.join(sorted(o.labels))})" if o.labels else ""),
                            labels=o.labels,
                            published=o.published,
                            listed_before_release=o.listed_before_release,
                            date_control=o.date_control,
                            exams=o.exams,
                            after_complete=o.after_complete,
                        )
                        for i, o in enumerate(ovs2)
                    ),
                )
    return InstanceSettings(policy, labels, set_access)


# ------------------------------------------------------------------------------ assessments


@dataclass(frozen=True)
class AssessmentSource:
    """A normalised assessment and what is needed to read per-student overrides for it."""

    config: AssessmentConfig
    rfc: RfcSource | None = None


def assessment_config(
    r: Reader,
    data: dict[str, Any],
    aid: str,
    instance: InstanceSettings,
) -> AssessmentSource | None:
    has_legacy = "allowAccess" in data
    ac = data.get("accessControl")
    has_ac = "accessControl" in data
    title = str(data.get("title", ""))
    set_name = str(data.get("set", ""))
    number = str(data.get("number", ""))
    if has_legacy and has_ac:
        r.error("$", "use either allowAccess (legacy) or accessControl, not both")
        return None
    if "accessControlOverrides" in data and not isinstance(ac, dict):
        r.error(
            "$.accessControlOverrides",
            "accessControlOverrides goes with the object form of accessControl; in the list "
            "form, overrides are the elements after the first",
        )
    common: dict[str, Any] = {"id": aid, "title": title, "set_name": set_name, "number": number}
    if has_legacy:
        rules = legacy_rules(r, data["allowAccess"], "$.allowAccess")
        if rules is None:
            return None
        named = frozenset(u for rule in rules for u in (rule.uids or ()))
        return AssessmentSource(
            AssessmentConfig(form=Form.LEGACY, legacy_rules=rules, uids_named=named, **common)
        )
    set_defaults, set_overrides = instance.set_access.get(set_name, (None, ()))
    set_d = (set_defaults,) if set_defaults is not None else ()
    if isinstance(ac, list):
        got = modern_access(r, ac, "$.accessControl", instance.labels)
        if got is None:
            return None
        config = AccessControlConfig(Form.MODERN, got[0], got[1], set_d, set_overrides)
        check_settings(r, config, "$.accessControl", "")
        return AssessmentSource(AssessmentConfig(form=Form.MODERN, access=config, **common))
    if isinstance(ac, dict):
        got_rfc = rfc_access(r, ac, data.get("accessControlOverrides"), "$.accessControl")
        if got_rfc is None:
            return None
        config = AccessControlConfig(Form.RFC, got_rfc[0], got_rfc[1], set_d, set_overrides)
        check_settings(r, config, "$.accessControl", "")
        return AssessmentSource(
            AssessmentConfig(form=Form.RFC, access=config, **common), got_rfc[2]
        )
    if has_ac:
        r.error("$.accessControl", "must be a list (modern form) or an object (RFC form)")
        return None
    return AssessmentSource(AssessmentConfig(form=Form.MODERN, access=None, **common))


def personal_overrides(
    r: Reader, source: AssessmentSource, items: Sequence[Any], path: str
) -> tuple[LegacyRule | AccessPatch, ...] | None:
    """Read a student's own overrides in the assessment's form (legacy rules, modern elements
    or RFC objects)."""
    cfg = source.config
    out: list[LegacyRule | AccessPatch] = []
    if cfg.form is Form.LEGACY:
        rules = legacy_rules(r, list(items), path)
        if rules is None:
            return None
        for i, rule in enumerate(rules):
            if rule.uids is not None:
                r.error(f"{path}[{i}].uids", "a student's own override applies to them; drop uids")
        return tuple(
            LegacyRule(**{**_fields(rule), "source": f"your extension {i + 1}"})
            for i, rule in enumerate(rules)
        )
    for i, item in enumerate(items):
        p = f"{path}[{i}]"
        if cfg.form is Form.MODERN:
            el = r.model(m.ModernElementModel, item, p)
            if el is None:
                return None
            if el.labels:
                r.error(f"{p}.labels", "a student's own override applies to them; drop labels")
            out.append(modern_patch(r, el, p, f"your override {i + 1}", defaults=False))
        else:
            body = item.get("accessControl", item) if isinstance(item, dict) else item
            a = r.model(m.RfcAccessModel, body, p)
            if a is None or source.rfc is None:
                return None
            merged = _merge_models(source.rfc.defaults, a)
            out.append(rfc_patch(r, merged, p, f"your override {i + 1}"))
    if cfg.access is not None and out:
        check_settings(r, cfg.access, path, "", [o for o in out if isinstance(o, AccessPatch)])
    return tuple(out)


def _fields(rule: LegacyRule) -> dict[str, Any]:
    return {f: getattr(rule, f) for f in rule.__dataclass_fields__}
