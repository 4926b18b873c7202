"""Reading what a request for decisions names, the same for every way of asking: an instant
given as text (:func:`read_at`) and an assessment of the course instance
(:func:`known_assessment`); an error names the field."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from coursegate.core.instants import DateError, Instant, parse_date, to_instant
from coursegate.services.common.errors import Invalid, NotFound
from coursegate.services.courses.state import InstanceState


def known_assessment(state: InstanceState, aid: str) -> str:
    """``aid`` when the course instance has that (live) assessment; otherwise
    :class:`NotFound`, naming every assessment it has."""
    if aid not in state.assessments:
        known = ", ".join(sorted(state.assessments)) or "none"
        raise NotFound(f"there is no assessment {aid!r} (assessments: {known})", "assessment")
    return aid


def read_at(text: str | None, tz: ZoneInfo, field_name: str = "at") -> Instant | None:
    """An instant from a request: ISO 8601; without an offset, wall time in ``tz`` (an
    ambiguous time is its first occurrence, as in course files). ``None`` stays ``None``."""
    if text is None:
        return None
    if len(text) == 25 and text[10] == "T" and text[19] in "+-":
        # The common, explicit form (2024-03-19T10:00:00-05:00): read by the C parser, which
        # gives what parse_date gives for it; anything else goes through parse_date.
        try:
            return to_instant(datetime.fromisoformat(text))
        except ValueError:
            pass
    try:
        return parse_date(text, tz)[0]
    except DateError as exc:
        raise Invalid(f"{field_name}: {exc}", field_name) from None
