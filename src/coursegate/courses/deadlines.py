"""The date lists both assessment forms share: early and late deadlines, and sessions (each
session after its start, none overlapping); and the deadlines' dates against the release and
due date, element by element and across the cascade as PrairieLearn checks them."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from coursegate.core.access_control import (
    AccessControlConfig,
    AccessPatch,
    DateControl,
    DateControlPatch,
    Deadline,
    Due,
    Session,
    Unset,
    apply_patch,
    initial_settings,
)
from coursegate.core.model import Form
from coursegate.courses import models as m
from coursegate.courses.reader import Reader


def read_deadlines(
    r: Reader, items: list[m.DeadlineModel] | None, path: str
) -> tuple[Deadline, ...]:
    out = []
    for i, d in enumerate(items or []):
        t = r.date(d.date, f"{path}[{i}].date")
        if t is not None:
            out.append(Deadline(t, d.credit))
    return tuple(out)


def read_sessions(r: Reader, items: list[m.SessionModel] | None, path: str) -> tuple[Session, ...]:
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


Problems = list[tuple[str, str]]
"""(the key each problem is about, the message), as :mod:`settings_checks` reports them."""


def _submits_after_due(dc: DateControl, rfc: bool) -> bool:
    """Whether the settings accept submissions after the due date (late deadlines, or the
    modern form's ``afterLastDeadline`` with submissions), which needs a due date."""
    after = dc.after_last is not None and dc.after_last.allow_submissions and not rfc
    return bool(dc.late) or after


def deadline_date_problems(
    dc: DateControl, rfc: bool, r: Reader, *, due_inherited: bool = False
) -> Problems:
    """The deadlines' dates against the release and due date of the same settings: early ones
    after the release and on or before the due date, late ones after the release and on or
    after the due date (a deadline exactly at the due date is valid: its segment is empty); late
    deadlines and ``afterLastDeadline`` need a due date. ``due_inherited``: ``dc`` holds one
    override's own keys, so only an explicit ``due: {date: null}`` leaves it without one."""
    out: Problems = []
    due = dc.due
    for x in dc.early:
        if dc.release is not None and x.date <= dc.release:
            out.append(("early", f"early deadline {r.when(x.date)} is not after the release date"))
        if due is not None and due.date is not None and x.date > due.date:
            out.append(("early", f"early deadline {r.when(x.date)} is after the due date"))
    no_due = (due is not None or not due_inherited) and (due is None or due.date is None)
    if _submits_after_due(dc, rfc) and no_due:
        out.append(("late", "late deadlines and afterLastDeadline need a due date"))
    for x in dc.late:
        if dc.release is not None and x.date <= dc.release:
            out.append(("late", f"late deadline {r.when(x.date)} is not after the release date"))
        if due is not None and due.date is not None and x.date < due.date:
            out.append(("late", f"late deadline {r.when(x.date)} is before the due date"))
    return out


def cascade_date_problems(
    config: AccessControlConfig, patch: AccessPatch, r: Reader, personal: Sequence[AccessPatch]
) -> Problems:
    """What an override brings into the dates, as PrairieLearn checks it.

    Its own keys must agree with each other (:func:`deadline_date_problems`). Against the other
    elements only what no student can ever have is a problem: an early deadline not after the
    earliest release of any element, or after the latest due date; a late deadline before the
    earliest due date (these two skipped when some element clears the due date); late
    deadlines with no due date in any element. A deadline that falls on the wrong side of a
    release or due date that another element moved is dropped from that student's timeline.
    """
    own = patch.date_control
    if not isinstance(own, DateControlPatch):
        return []
    dc = apply_patch(initial_settings(config.form), patch).date_control or DateControl()
    rfc = config.form is Form.RFC
    out = deadline_date_problems(dc, rfc, r, due_inherited=True)
    own_due = dc.due.date if dc.due is not None else None
    if dc.release is not None and own_due is not None and own_due <= dc.release:
        out.append(
            ("due", f"the due date {r.when(own_due)} is not after the release {r.when(dc.release)}")
        )
    patches = [*config.set_defaults, config.defaults, *config.overrides, *config.set_overrides]
    elements = [p.date_control for p in (*patches, *personal)]
    controls = [e for e in elements if isinstance(e, DateControlPatch)]
    releases = [c.release for c in controls if isinstance(c.release, int)]
    dues = [c.due.date for c in controls if isinstance(c.due, Due) and c.due.date is not None]
    can_clear = any(
        c.due is None or (isinstance(c.due, Due) and c.due.date is None) for c in controls
    )
    first = min(releases, default=None)
    for x in dc.early:
        if first is not None and x.date <= first:
            out.append(
                (
                    "early",
                    f"early deadline {r.when(x.date)} is not after the earliest release any "
                    f"student has ({r.when(first)})",
                )
            )
        if dues and not can_clear and x.date > max(dues):
            out.append(
                (
                    "early",
                    f"early deadline {r.when(x.date)} is after the latest due date any student "
                    f"has ({r.when(max(dues))})",
                )
            )
    for x in dc.late:
        if dues and not can_clear and x.date < min(dues):
            out.append(
                (
                    "late",
                    f"late deadline {r.when(x.date)} is before the earliest due date any "
                    f"student has ({r.when(min(dues))})",
                )
            )
    if _submits_after_due(dc, rfc) and not dues and isinstance(own.due, Unset):
        out.append(
            ("late", "late deadlines and afterLastDeadline need a due date, and none is given")
        )
    return out
