"""A course instance for a new term made from an earlier one (its template): which dates move,
by how much, and what is not carried over. Pure: the files' JSON in, the new files' JSON out;
reading and writing them is :mod:`coursegate.services.courses.new_instance`.

The rules, as an instructor who rolls a course over expects them:

- **The new term's dates** (from the LMS course, or typed) are the course instance's own:
  ``publishing`` (or, in the legacy form, the ``allowAccess`` rules for everyone) opens at the
  first day's 00:00:00 (00:00:01 in legacy rules, as PrairieLearn's examples write it) and
  closes at the last day's 23:59:59, wall time in the instance's time zone.
- **Every other date moves by whole weeks**: the number of days between the template's first
  day and the new first day, rounded to the nearest week. A deadline keeps its weekday and its
  time of day ("Fridays 17:00" stays so), and since dates in course files are wall times, a
  change of daylight saving time in between changes nothing written.
- **Per-student rules are not carried over**: a legacy ``allowAccess`` rule naming ``uids`` was
  for last term's students.
- **Every ``uuid`` is new** (PrairieLearn requires them unique in a course); a value repeated
  in the template is replaced by the same new value everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from coursegate.courses.keys import UUID

_DATE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?(?:Z|z|[+-]\d{2}:?\d{2})?$"
)
"""A date as course files write it (the syntax :mod:`coursegate.courses.models` accepts)."""


def day_of(text: str) -> date | None:
    """The calendar day a course-file date names (None if it is not one)."""
    found = _DATE.match(text.strip())
    if found is None:
        return None
    try:
        return date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        return None


def week_shift(template_first: date | None, new_first: date) -> int:
    """Days to move the template's dates by: the difference of the first days, rounded to the
    nearest whole week (0 when the template has no first day)."""
    if template_first is None:
        return 0
    days = (new_first - template_first).days
    return 7 * round(days / 7)


def shift_text(text: str, days: int) -> str:
    """``text`` moved by ``days`` if it is a course-file date (its time and offset kept as they
    are written), else ``text`` unchanged."""
    day = day_of(text)
    if day is None or days == 0:
        return text
    try:
        moved = day + timedelta(days=days)
    except OverflowError:  # beyond year 9999: left as written, for validation to say
        return text
    lead = len(text) - len(text.lstrip())
    return text[:lead] + moved.isoformat() + text[lead + 10 :]


def shift_dates(value: Any, days: int) -> Any:
    """Every date in a JSON value moved by ``days`` (see :func:`shift_text`)."""
    if isinstance(value, str):
        return shift_text(value, days)
    if isinstance(value, list):
        return [shift_dates(v, days) for v in value]
    if isinstance(value, dict):
        return {k: shift_dates(v, days) for k, v in value.items()}
    return value


class Uuids:
    """New uuids for old ones, the same new one for every use of an old one."""

    def __init__(self, make: Callable[[], str]) -> None:
        self._make = make
        self._given: dict[str, str] = {}

    def __call__(self, old: str) -> str:
        if old not in self._given:
            self._given[old] = self._make()
        return self._given[old]

    def renew(self, value: Any) -> Any:
        """``value`` with each ``"uuid": <a UUID>`` replaced."""
        if isinstance(value, list):
            return [self.renew(v) for v in value]
        if isinstance(value, dict):
            return {k: self._renew_key(k, v) for k, v in value.items()}
        return value

    def _renew_key(self, key: str, value: Any) -> Any:
        if key == "uuid" and isinstance(value, str) and UUID.match(value):
            return self(value)
        return self.renew(value)


def _without_student_rules(rules: Any) -> Any:
    if not isinstance(rules, list):
        return rules
    return [r for r in rules if not (isinstance(r, dict) and "uids" in r)]


def _for_everyone(rule: Any) -> bool:
    return isinstance(rule, dict) and rule.get("role", "Student") == "Student"


def first_day(instance: Any) -> date | None:
    """The template's first day: its ``publishing.startDate``, else the earliest
    ``startDate`` of its ``allowAccess`` rules for everyone."""
    if not isinstance(instance, dict):
        return None
    publishing = instance.get("publishing")
    if isinstance(publishing, dict) and isinstance(publishing.get("startDate"), str):
        return day_of(publishing["startDate"])
    days = [
        day_of(r["startDate"])
        for r in instance.get("allowAccess") or []
        if _for_everyone(r) and "uids" not in r and isinstance(r.get("startDate"), str)
    ]
    known = [d for d in days if d is not None]
    return min(known) if known else None


@dataclass(frozen=True)
class Term:
    """The new course instance: its name shown to people, and its first and last days."""

    long_name: str
    first: date
    last: date

    @property
    def opens(self) -> str:
        return f"{self.first.isoformat()}T00:00:00"

    @property
    def closes(self) -> str:
        return f"{self.last.isoformat()}T23:59:59"


def new_instance(template: Any, term: Term, days: int, uuids: Uuids) -> dict[str, Any]:
    """The new ``infoCourseInstance.json`` (see the module)."""
    if not isinstance(template, dict):
        raise ValueError("the template's infoCourseInstance.json does not hold a JSON object")
    out: dict[str, Any] = shift_dates(uuids.renew(template), days)
    out["longName"] = term.long_name
    if isinstance(out.get("publishing"), dict):
        out["publishing"] = {**out["publishing"], "startDate": term.opens, "endDate": term.closes}
    if "allowAccess" in out:
        rules = _without_student_rules(out["allowAccess"])
        if isinstance(rules, list):
            for rule in rules:
                if _for_everyone(rule):
                    if "startDate" in rule:
                        rule["startDate"] = f"{term.first.isoformat()}T00:00:01"
                    if "endDate" in rule:
                        rule["endDate"] = term.closes
        out["allowAccess"] = rules
    return out


def new_assessment(template: Any, days: int, uuids: Uuids) -> Any:
    """An ``infoAssessment.json`` for the new term: its dates moved, its per-student rules
    left behind, its uuids new."""
    out = shift_dates(uuids.renew(template), days)
    if isinstance(out, dict) and "allowAccess" in out:
        out["allowAccess"] = _without_student_rules(out["allowAccess"])
    return out


def suggested_name(first: date) -> str:
    """A short name for the term that starts on ``first``, as PrairieLearn courses name them:
    ``Sp27`` (starting January to April), ``Su27`` (May to July), ``Fa27`` (August on)."""
    season = "Sp" if first.month <= 4 else "Su" if first.month <= 7 else "Fa"
    return f"{season}{first.year % 100:02d}"
