"""The date lists both assessment forms share: early and late deadlines, and sessions (each
session after its start, none overlapping)."""

from __future__ import annotations

import itertools

from coursegate.core.access_control import Deadline, Session
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
