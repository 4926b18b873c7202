"""An assessment's rules as its students share them, built once per assessment.

A student's policy for an assessment (:func:`coursegate.core.engine.policy_for`) is the file's
rules resolved for their sections, with their own overrides on top. Everything but the last step
is the same for every student whose sections match the same label overrides, so
:class:`SharedRules` resolves it once per assessment and per combination of matching overrides
("hits"), and a student with an extension pays only for applying their own patch:

* modern and RFC — the settings after the set defaults, the defaults and the matching label
  overrides (:func:`~coursegate.core.access_control.resolve_settings` without personal patches)
  are kept by hits; a student's patches are applied over them in order, exactly as
  ``resolve_settings`` would, then compiled;
* legacy — the file's rules are turned into grants once; a student's own rules come first.

Policies are also kept by (hits, own overrides), so students with the same extension share one.
"""

from __future__ import annotations

from collections.abc import Sequence

from coursegate.core.access_control import (
    AccessControlConfig,
    AccessPatch,
    AccessSettings,
    apply_patch,
    compile_settings,
    matching_overrides,
    resolve_settings,
)
from coursegate.core.legacy_rules import LegacyRule, legacy_policy_from, rule_to_grant
from coursegate.core.model import AssessmentPolicy, Form, Grant

Hits = tuple[tuple[int, ...], tuple[int, ...]]
"""Indices of the set overrides and of the assessment overrides a student's sections match."""
NO_HITS: Hits = ((), ())


class SharedRules:
    """One assessment's policies, sharing the work its students have in common.

    ``policy(sections, personal)`` equals ``policy_for(config, user, personal)`` for any user in
    ``sections`` (tests check this); the caches only decide how often the work is done.
    """

    __slots__ = (
        "_file_grants", "_hit_canon", "_hit_ids", "_hits", "_labels", "_policies", "_settings",
        "access", "form", "labelled", "legacy_rules",
    )  # fmt: skip

    def __init__(
        self,
        form: Form,
        legacy_rules: tuple[LegacyRule, ...] = (),
        access: AccessControlConfig | None = None,
    ) -> None:
        self.form = form
        self.legacy_rules = legacy_rules
        self.access = access
        overrides = () if access is None else (*access.overrides, *access.set_overrides)
        self._labels = frozenset(lab for o in overrides for lab in (o.labels or ()))
        """Every label an override names: the only sections that can matter."""
        self.labelled = bool(self._labels)
        """Whether a student's sections can matter at all (some override names labels)."""
        self._hits: dict[frozenset[str], Hits] = {}
        self._hit_ids: dict[frozenset[str], int] = {}
        self._hit_canon: dict[Hits, int] = {NO_HITS: 0}
        self._settings: dict[Hits, AccessSettings] = {}
        self._policies: dict[object, AssessmentPolicy] = {}
        self._file_grants: tuple[Grant, ...] | None = None

    def hits(self, sections: frozenset[str]) -> Hits:
        """Which label overrides ``sections`` match (the only thing of the sections that
        counts)."""
        if not self.labelled:
            return NO_HITS
        named = sections & self._labels
        h = self._hits.get(named)
        if h is None:
            assert self.access is not None
            h = self._hits[named] = matching_overrides(self.access, named)
        return h

    def hit_id(self, sections: frozenset[str]) -> int:
        """A small number for :meth:`hits` (equal hits, equal numbers; 0 for none)."""
        if not self.labelled:
            return 0
        named = sections & self._labels
        n = self._hit_ids.get(named)
        if n is None:
            canon = self._hit_canon
            n = self._hit_ids[named] = canon.setdefault(self.hits(named), len(canon))
        return n

    def policy(
        self, sections: frozenset[str], personal: Sequence[object] = (), *, key: object = None
    ) -> AssessmentPolicy:
        """The policy of a student in ``sections`` with their own overrides ``personal``.

        ``key``, when given, stands for (what of the sections counts, ``personal``): equal
        keys must mean equal policies (the caller's profile key does); by default it is
        (:meth:`hits`, ``personal``).
        """
        k = (self.hits(sections), tuple(personal)) if key is None else key
        p = self._policies.get(k)
        if p is None:
            p = self._policies[k] = self._build(sections, self.hits(sections), tuple(personal))
        return p

    def _build(
        self, sections: frozenset[str], hits: Hits, personal: tuple[object, ...]
    ) -> AssessmentPolicy:
        if self.form is Form.LEGACY:
            if self._file_grants is None:
                self._file_grants = tuple(rule_to_grant(r) for r in self.legacy_rules)
            rules = tuple(p for p in personal if isinstance(p, LegacyRule))
            return legacy_policy_from(self._file_grants, rules)
        if self.access is None:
            return AssessmentPolicy(form=self.form, grants=())
        settings = self._settings.get(hits)
        if settings is None:
            settings = self._settings[hits] = resolve_settings(self.access, sections)
        for p in personal:
            if isinstance(p, AccessPatch):
                settings = apply_patch(settings, p)
        return compile_settings(settings)
