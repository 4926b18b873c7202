"""Students' exceptions (extensions) and what they mean in each access form.

A TA grants an exception in one shape, whatever form the assessment's file uses: a new release,
a new due date, the credit until then, a time limit in minutes or as a percentage, a password.
:func:`exception_override` turns it into the student's own override in the assessment's form:

* modern and RFC — an override patch applied after every label override: the due date moves
  (with its credit); early deadlines after the new due date and late deadlines up to it are
  dropped, later late deadlines are kept, so a student given three more days still gets the
  reduced-credit days after them;
* legacy — rules for this student only, considered first: from the release (or the first
  credited start) until the new due date, at the credit (100% by default); and, when the time
  limit or password changes, the file's rules again with this student's limit or password.

A field left unset is not overridden. The function is pure: it reads the settings the student
would have without the exception from the configuration it is given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import timedelta
from zoneinfo import ZoneInfo

from coursegate.core.access_control import (
    UNSET,
    AccessPatch,
    DateControlPatch,
    Deadline,
    Due,
    Unset,
    resolve_settings,
)
from coursegate.core.engine import AssessmentConfig, PersonalOverride
from coursegate.core.instants import SECOND, Instant, from_instant, localise
from coursegate.core.legacy_rules import LegacyRule
from coursegate.core.model import Form


@dataclass(frozen=True, slots=True)
class StudentException:
    """One student's exception; UNSET fields are not overridden."""

    release: Instant | Unset = UNSET
    due: Instant | Unset = UNSET
    credit: float | Unset = UNSET
    """The credit until the new due date (the due date's credit; 100 by default)."""
    time_limit_minutes: int | Unset = UNSET
    time_limit_percent: float | Unset = UNSET
    password: str | Unset | None = UNSET
    """None: this student needs no password."""
    label: str = "your exception"

    @property
    def empty(self) -> bool:
        return all(
            isinstance(v, Unset)
            for v in (
                self.release,
                self.due,
                self.credit,
                self.time_limit_minutes,
                self.time_limit_percent,
                self.password,
            )
        )


def exception_override(
    config: AssessmentConfig,
    sections: frozenset[str],
    exc: StudentException,
    earlier: tuple[PersonalOverride, ...] = (),
) -> tuple[PersonalOverride, ...]:
    """The student's own override that carries ``exc`` for ``config``.

    ``earlier`` are the student's overrides that apply before this one (an exception for the
    assessment's whole set, before one for the assessment itself).
    """
    if config.form is Form.LEGACY:
        return _legacy_rules(config, exc)
    base_due: Due | None = None
    early: tuple[Deadline, ...] | None = None
    late: tuple[Deadline, ...] | None = None
    if config.access is not None:
        patches = tuple(p for p in earlier if isinstance(p, AccessPatch))
        settings = resolve_settings(config.access, sections, patches)
        dc = settings.date_control
        if dc is not None:
            base_due = dc.due
            if not isinstance(exc.due, Unset):
                early = tuple(d for d in dc.early if d.date < exc.due)
                late = tuple(d for d in dc.late if d.date > exc.due)
    due: Due | Unset = UNSET
    if not isinstance(exc.due, Unset) or not isinstance(exc.credit, Unset):
        date = exc.due if not isinstance(exc.due, Unset) else (base_due.date if base_due else None)
        credit = (
            exc.credit
            if not isinstance(exc.credit, Unset)
            else (base_due.credit if base_due else 100)
        )
        due = Due(date, credit)
    patch = AccessPatch(
        source=exc.label,
        date_control=DateControlPatch(
            release=exc.release,
            due=due,
            early=UNSET if early is None else early,
            late=UNSET if late is None else late,
            duration_minutes=exc.time_limit_minutes,
            duration_percent=exc.time_limit_percent,
            password=exc.password,
        ),
    )
    return (patch,)


def later_by_days(t: Instant, days: int, tz: ZoneInfo) -> Instant:
    """``t`` moved ``days`` days on the wall clock of ``tz`` (an extension of "+2 days"): 23:59
    stays 23:59 across a daylight-saving change, so such a day has 23 or 25 hours. A wall time
    the change skips or repeats is read as :func:`~coursegate.core.instants.localise` reads it
    (a skipped one at the offset before the jump, a repeated one at its first occurrence)."""
    wall = from_instant(t, tz).replace(tzinfo=None) + timedelta(days=days)
    return localise(wall, tz)[0]


def _legacy_rules(config: AssessmentConfig, exc: StudentException) -> tuple[LegacyRule, ...]:
    """Rules for this student only, considered before the file's rules."""
    limits = [r.time_limit_minutes for r in config.legacy_rules if r.time_limit_minutes]
    minutes: int | None = None
    if not isinstance(exc.time_limit_minutes, Unset):
        minutes = exc.time_limit_minutes
    elif not isinstance(exc.time_limit_percent, Unset) and limits:
        minutes = math.ceil(max(limits) * exc.time_limit_percent / 100)
    changes_limit = minutes is not None
    changes_password = not isinstance(exc.password, Unset)
    out: list[LegacyRule] = []
    if not isinstance(exc.due, Unset) or not isinstance(exc.release, Unset):
        credited = [r for r in config.legacy_rules if r.credit and r.uids is None]
        starts = [r.start for r in credited if r.start is not None]
        start = (
            exc.release if not isinstance(exc.release, Unset) else (min(starts) if starts else None)
        )
        end: Instant | None = None
        if not isinstance(exc.due, Unset):
            # The rule's end is inclusive to the second: ending a second earlier means "until".
            end = exc.due - SECOND if exc.due % SECOND == 0 else exc.due - 1
        out.append(
            LegacyRule(
                index=0,
                start=start,
                end=end,
                credit=100 if isinstance(exc.credit, Unset) else exc.credit,
                time_limit_minutes=minutes,
                password=None if isinstance(exc.password, Unset) else exc.password,
                source=exc.label,
            )
        )
    if changes_limit or changes_password:
        # The same windows as the file's rules, with this student's time limit or password.
        for r in config.legacy_rules:
            if r.uids is not None:
                continue
            out.append(
                replace(
                    r,
                    time_limit_minutes=minutes if changes_limit else r.time_limit_minutes,
                    password=exc.password if not isinstance(exc.password, Unset) else r.password,
                    source=f"{exc.label} on {r.name}",
                )
            )
    return tuple(out)
