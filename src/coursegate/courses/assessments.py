"""An assessment file's access configuration in its form (legacy, modern or RFC, after its
set's access), and a student's own overrides read in that same form."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from coursegate.core.access_control import AccessControlConfig, AccessPatch
from coursegate.core.engine import AssessmentConfig
from coursegate.core.legacy_rules import LegacyRule
from coursegate.core.model import Form
from coursegate.courses import models as m
from coursegate.courses.instance_settings import InstanceSettings
from coursegate.courses.legacy_access import legacy_rules
from coursegate.courses.modern_access import modern_access, modern_patch
from coursegate.courses.reader import Reader
from coursegate.courses.rfc_access import RfcSource, merge_models, rfc_access, rfc_patch
from coursegate.courses.settings_checks import check_settings


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
    """Read an infoAssessment.json's access in its form, on top of its set's access from
    ``instance``, and check the settings that result; None when it cannot be read."""
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
            merged = merge_models(source.rfc.defaults, a)
            out.append(rfc_patch(r, merged, p, f"your override {i + 1}"))
    if cfg.access is not None and out:
        check_settings(r, cfg.access, path, "", [o for o in out if isinstance(o, AccessPatch)])
    return tuple(out)


def _fields(rule: LegacyRule) -> dict[str, Any]:
    return {f: getattr(rule, f) for f in rule.__dataclass_fields__}
