"""Is an exception valid for its student? Its target must exist in the course instance, and the
settings the student would have with it must pass the checks ``coursegate validate`` runs; only
problems the exception brings in are reported."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from coursegate.core.access_control import AccessControlConfig, AccessPatch, resolve_settings
from coursegate.core.engine import AssessmentConfig
from coursegate.core.instants import format_wall
from coursegate.core.legacy_rules import LegacyRule
from coursegate.core.model import Form
from coursegate.courses.reader import Reader
from coursegate.courses.settings_checks import settings_problems
from coursegate.services.access.exceptions.fields import (
    ASSESSMENT,
    ASSESSMENT_FIELDS,
    COURSE_INSTANCE,
    PUBLISHING_EXTENSION,
    SCOPES,
    SET,
    check_body,
)
from coursegate.services.access.students import StudentState, not_enrolled
from coursegate.services.common.errors import Invalid, NotFound
from coursegate.services.common.places import instance_label
from coursegate.services.courses.roster import personal_overrides
from coursegate.services.courses.state import InstanceState
from coursegate.store.models import CourseInstance, StudentOverride


def check_target(state: InstanceState, ci: CourseInstance, scope: str, target: str) -> str:
    """``target`` checked against the course instance's assessments and sets (``''`` for the
    course instance itself)."""
    if scope not in SCOPES:
        raise Invalid(f"scope: must be one of {', '.join(SCOPES)}, not {scope!r}", "scope")
    if scope == COURSE_INSTANCE:
        if target:
            raise Invalid(
                "target: an exception for the course instance has no target; leave it empty",
                "target",
            )
        return ""
    if scope == ASSESSMENT:
        if target not in state.assessments:
            close = difflib.get_close_matches(target, list(state.assessments), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise NotFound(
                f"target: {instance_label(ci)} has no assessment {target!r} ({hint}assessments: "
                f"{', '.join(sorted(state.assessments)) or 'none'})",
                "target",
            )
        return target
    sets = sorted({s.config.set_name for s in state.assessments.values() if s.config.set_name})
    if target not in sets:
        raise NotFound(
            f"target: {instance_label(ci)} has no assessment in a set {target!r} (sets: "
            f"{', '.join(sets) or 'none'})",
            "target",
        )
    return target


def _affected(state: InstanceState, scope: str, target: str) -> list[AssessmentConfig]:
    if scope == ASSESSMENT:
        return [state.assessments[target].config]
    if scope == SET:
        return [
            src.config
            for _, src in sorted(state.assessments.items())
            if src.config.set_name == target
        ]
    return []


_KEY_FIELD = {
    "release": "release",
    "date_control": "release",
    "sessions": "release",
    "due": "due",
    "late": "due",
    "after_last": "due",
    "early": "credit",
}


def _problem_field(key: str, body: Mapping[str, Any]) -> str:
    wanted = _KEY_FIELD.get(key)
    if wanted is not None and wanted in body:
        return wanted
    return next((f for f in ASSESSMENT_FIELDS if f in body), "fields")


def check_student(
    state: InstanceState,
    ci: CourseInstance,
    st: StudentState,
    scope: str,
    target: str,
    body: Mapping[str, Any],
) -> list[str]:
    """Raise :class:`Invalid` unless ``body`` gives ``st`` a valid configuration; warnings."""
    if scope == COURSE_INSTANCE:
        return _check_publishing_extension(state, ci, body)
    others = [
        r
        for r in st.rows
        if r.scope != COURSE_INSTANCE and not (r.scope == scope and r.target == target)
    ]
    candidate = StudentOverride(scope=scope, target=target, body=dict(body), reason="")
    warnings: list[str] = []
    errors: list[tuple[str, str]] = []
    tz = state.tz
    for config in _affected(state, scope, target):
        before = personal_overrides(config, st.sections, others)
        after = personal_overrides(config, st.sections, [*others, candidate])
        if config.form is Form.LEGACY:
            errors += _legacy_problems(config, before, after, tz)
            warnings += _legacy_warnings(config, before, after, body)
            continue
        if config.access is None:
            warnings.append(
                f"{config.id} gives students no access at all, so an exception has no effect there"
            )
            continue
        new_errors, new_warnings = _access_control_problems(
            config.id, config.access, st, before, after, body, tz
        )
        errors += new_errors
        warnings += new_warnings
    if errors:
        field_name = errors[0][0]
        raise Invalid(
            f"{field_name}: with this exception {st.label}'s settings would not be valid: "
            + "; ".join(msg for _, msg in errors),
            field_name,
        )
    return warnings


def _legacy_warnings(
    config: AssessmentConfig,
    before: Sequence[object],
    after: Sequence[object],
    body: Mapping[str, Any],
) -> list[str]:
    """Why the exception may do nothing for an assessment with legacy allowAccess rules."""
    if tuple(after) == tuple(before):
        return [
            f"{config.id} uses legacy allowAccess rules, where an exception needs a "
            "release or due date, a time limit or a password: this one has no effect there"
        ]
    if "time_limit_percent" in body and not any(r.time_limit_minutes for r in config.legacy_rules):
        return [
            f"time_limit_percent: {config.id} has no time limit to scale, so the "
            "percentage has no effect there"
        ]
    return []


def _access_control_problems(
    aid: str,
    access: AccessControlConfig,
    st: StudentState,
    before: Sequence[object],
    after: Sequence[object],
    body: Mapping[str, Any],
    tz: ZoneInfo,
) -> tuple[list[tuple[str, str]], list[str]]:
    """The problems (field, message) and warnings the exception brings into the student's
    resolved settings of the assessment ``aid`` with ``access`` control: those the settings
    already had without it are not its doing."""
    r = Reader(f"{st.user.uid}'s exception", tz)
    patches_b = tuple(p for p in before if isinstance(p, AccessPatch))
    patches_a = tuple(p for p in after if isinstance(p, AccessPatch))
    s_b = resolve_settings(access, st.sections, patches_b)
    s_a = resolve_settings(access, st.sections, patches_a)
    # The whole cascade: deadlines it strands are dropped and its credit is clamped so that it
    # never rises (as PrairieLearn does), so neither is a reason to refuse the exception.
    known = {msg for _, msg in settings_problems(s_b, r, merged=True, clamped=True)}
    hint = ""
    if s_b.date_control is None and s_a.date_control is not None:
        hint = (
            f" ({aid} has no dates of its own: students reach it only through "
            "testing-centre reservations, so an exception for it needs a release date)"
        )
    errors = [
        (_problem_field(key, body), f"{aid}: {msg}{hint}")
        for key, msg in settings_problems(s_a, r, merged=True, clamped=True)
        if msg not in known
    ]
    warnings = [
        f"{aid}: {note}" for note in s_a.notes if "has no effect" in note and note not in s_b.notes
    ]
    return errors, warnings


def _legacy_problems(
    config: AssessmentConfig,
    before: Sequence[object],
    after: Sequence[object],
    tz: ZoneInfo,
) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for rule in after:
        if not isinstance(rule, LegacyRule) or rule in before:
            continue
        if rule.start is not None and rule.end is not None and rule.start > rule.end:
            out.append(
                (
                    "release",
                    f"{config.id}: the release {format_wall(rule.start, tz)} is after the due "
                    f"date {format_wall(rule.end, tz)}",
                )
            )
    return out


def _check_publishing_extension(
    state: InstanceState, ci: CourseInstance, body: Mapping[str, Any]
) -> list[str]:
    ext = body.get(PUBLISHING_EXTENSION)
    if not isinstance(ext, int):
        return []
    policy = state.settings.policy
    pub = policy.publishing
    if policy.form != "modern" or pub is None or pub.end is None:
        how = {
            "legacy": "allowAccess rules",
            "rfc": "an accessControl object",
            "open": "no access restrictions",
        }.get(policy.form, "publishing dates without an end")
        raise Invalid(
            f"{PUBLISHING_EXTENSION}: {instance_label(ci)} uses {how}, not publishing dates "
            "with an end, so a publishing extension would have no effect",
            PUBLISHING_EXTENSION,
        )
    if ext <= pub.end:
        raise Invalid(
            f"{PUBLISHING_EXTENSION}: {format_wall(ext, state.tz)} is not after the end of "
            f"{instance_label(ci)} ({format_wall(pub.end, state.tz)}); an extension must end later",
            PUBLISHING_EXTENSION,
        )
    return []


def check_change(
    state: InstanceState,
    ci: CourseInstance,
    st: StudentState,
    row: StudentOverride,
    body: Mapping[str, Any],
) -> list[str]:
    """Raise :class:`Invalid` unless ``row`` may become ``body`` for ``st``; warnings."""
    check_body(body, row.scope, state.tz)
    if row.scope == ASSESSMENT and row.target not in state.assessments:
        raise Invalid(
            f"target: {row.target} has been retired (removed from the course files); its "
            "exception can only be removed",
            "target",
        )
    problem = not_enrolled(st, ci)
    if problem is not None:
        raise Invalid(f"uid: {problem}", "uid")
    return check_student(state, ci, st, row.scope, row.target, body)
