"""A course instance's settings: who may see it (legacy ``allowAccess``, ``publishing`` or the
RFC ``accessControl`` with section overrides), self-enrollment, student labels and the access
shared by every assessment of a set (``setAccessControl``)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from coursegate.core.access_control import AccessPatch
from coursegate.core.course_instance import (
    CourseInstancePolicy,
    InstanceAccessControl,
    InstanceOverride,
    LegacyInstanceRule,
    Publishing,
    SelfEnrollment,
)
from coursegate.core.model import Role, canonical_uid
from coursegate.courses import models as m
from coursegate.courses.modern_access import modern_access
from coursegate.courses.reader import Reader
from coursegate.courses.rfc_access import merge_models


@dataclass(frozen=True)
class InstanceSettings:
    """What a course instance's file sets for its assessments: who may see the instance, its
    student labels (None when it defines none) and each set's access (defaults, overrides)."""

    policy: CourseInstancePolicy
    labels: frozenset[str] | None
    set_access: dict[str, tuple[AccessPatch, tuple[AccessPatch, ...]]]


def instance_policy(r: Reader, data: dict[str, Any], institution: str | None) -> InstanceSettings:
    """Read infoCourseInstance.json's access keys; ``institution`` is the course's own."""
    _check_one_form(r, data)
    open_policy = CourseInstancePolicy(
        institution=institution, self_enrollment=_self_enrollment(r, data)
    )
    labels = _student_labels(r, data)
    policy = _access_policy(r, data, open_policy)
    return InstanceSettings(policy, labels, _set_access(r, data, labels))


def _check_one_form(r: Reader, data: dict[str, Any]) -> None:
    forms = [n for n in ("allowAccess", "accessControl", "publishing") if n in data]
    if len(forms) > 1:
        r.error("$", f"use only one of {', '.join(forms)} to control access to a course instance")


def _self_enrollment(r: Reader, data: dict[str, Any]) -> SelfEnrollment:
    se = r.model(m.SelfEnrollmentModel, data.get("selfEnrollment", {}), "$.selfEnrollment")
    if se is None:
        return SelfEnrollment()
    return SelfEnrollment(
        enabled=se.enabled,
        before=r.date(se.beforeDate, "$.selfEnrollment.beforeDate"),
        restrict_to_institution=se.restrictToInstitution,
        use_code=se.useEnrollmentCode,
    )


def _student_labels(r: Reader, data: dict[str, Any]) -> frozenset[str] | None:
    if "studentLabels" not in data:
        return None
    items = r.model(list[m.StudentLabelModel], data["studentLabels"], "$.studentLabels")
    return frozenset(x.name for x in items) if items is not None else None


def _access_policy(
    r: Reader, data: dict[str, Any], open_policy: CourseInstancePolicy
) -> CourseInstancePolicy:
    """The instance's access in the form its file uses (the first of ``allowAccess``,
    ``publishing`` and ``accessControl``); open when it uses none or its form does not
    validate."""
    if "allowAccess" in data:
        return _legacy_policy(r, data["allowAccess"], open_policy)
    if "publishing" in data:
        return _publishing_policy(r, data["publishing"], open_policy)
    if "accessControl" in data:
        return _rfc_policy(r, data, open_policy)
    return open_policy


def _legacy_policy(r: Reader, raw: Any, open_policy: CourseInstancePolicy) -> CourseInstancePolicy:
    rules = r.model(list[m.LegacyInstanceRuleModel], raw, "$.allowAccess")
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
                uids=frozenset(map(canonical_uid, rule.uids)) if rule.uids is not None else None,
                role=Role.parse(rule.role) if rule.role else None,
                start=start,
                end=end,
                institution=rule.institution,
            )
        )
    return replace(open_policy, form="legacy", legacy_rules=tuple(out))


def _publishing_policy(
    r: Reader, raw: Any, open_policy: CourseInstancePolicy
) -> CourseInstancePolicy:
    pub = r.model(m.PublishingModel, raw, "$.publishing")
    if pub is None:
        return open_policy
    start = r.date(pub.startDate, "$.publishing.startDate")
    end = r.date(pub.endDate, "$.publishing.endDate")
    if (pub.startDate is None) != (pub.endDate is None):
        r.error("$.publishing", "give startDate and endDate together (or neither)")
    # A period whose start equals its end is valid (as PrairieLearn accepts it).
    if start is not None and end is not None and start > end:
        r.error("$.publishing", "the publishing startDate must not be after its endDate")
    return replace(open_policy, form="modern", publishing=Publishing(start, end))


def _rfc_policy(
    r: Reader, data: dict[str, Any], open_policy: CourseInstancePolicy
) -> CourseInstancePolicy:
    """The RFC object and its section overrides, each merged onto it key by key."""
    ac = r.model(m.InstanceAccessModel, data["accessControl"], "$.accessControl")
    ovs = r.model(
        list[m.InstanceOverrideModel],
        data.get("accessControlOverrides", []),
        "$.accessControlOverrides",
    )
    if ac is None or ovs is None:
        return open_policy
    control = _instance_control(r, ac, "$.accessControl")
    overrides = tuple(
        InstanceOverride(
            frozenset(o.sections),
            _instance_control(
                r,
                merge_models(ac, o.accessControl),
                f"$.accessControlOverrides[{i}].accessControl",
            ),
            f"accessControlOverrides[{i}]",
        )
        for i, o in enumerate(ovs)
    )
    return replace(open_policy, form="rfc", control=control, overrides=overrides)


def _instance_control(r: Reader, x: m.InstanceAccessModel, p: str) -> InstanceAccessControl:
    c = InstanceAccessControl(
        bool(x.published),
        r.date(x.startDate, f"{p}.startDate"),
        r.date(x.endDate, f"{p}.endDate"),
    )
    if c.start is not None and c.end is not None and c.start > c.end:
        r.error(p, "startDate is after endDate")
    return c


def _set_access(
    r: Reader, data: dict[str, Any], labels: frozenset[str] | None
) -> dict[str, tuple[AccessPatch, tuple[AccessPatch, ...]]]:
    """``setAccessControl``: each set's list in the modern form, its patches named after the
    set."""
    set_access: dict[str, tuple[AccessPatch, tuple[AccessPatch, ...]]] = {}
    raw_sets = data.get("setAccessControl", {})
    if not isinstance(raw_sets, dict):
        r.error("$.setAccessControl", 'must be an object like {"Quiz": [ ... ]}')
        return set_access
    for name, lst in raw_sets.items():
        got = modern_access(r, lst, f"$.setAccessControl.{name}", labels)
        if got is not None:
            set_access[name] = _set_patches(name, *got)
    return set_access


def _set_patches(
    name: str, base: AccessPatch, overrides: tuple[AccessPatch, ...]
) -> tuple[AccessPatch, tuple[AccessPatch, ...]]:
    return (
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
            for i, o in enumerate(overrides)
        ),
    )
