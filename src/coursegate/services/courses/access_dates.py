"""The dates an assessment file names (release, due date, early and late deadlines, sessions,
reveal), normalised as rows of ``access_dates`` for calendars and listings; whichever of the
three access forms the file uses."""

from __future__ import annotations

from typing import Any

from coursegate.core.instants import parse_date
from coursegate.courses.loader import LoadedInstance


def access_date_rows(
    assessment_id: int, inst: LoadedInstance, raw: dict[str, Any]
) -> list[dict[str, Any]]:
    """The normalised dates of one assessment (for calendars and listings), as rows."""
    tz = inst.tz
    out: list[dict[str, Any]] = []

    def add(
        element: str, labels: list[str], kind: str, text: Any, credit: float | None = None
    ) -> None:
        if not isinstance(text, str):
            return
        try:
            t, _ = parse_date(text, tz)
        except ValueError:
            return
        out.append(
            {
                "assessment_id": assessment_id,
                "element": element,
                "labels": labels,
                "kind": kind,
                "at": t,
                "credit": credit,
            }
        )

    acc = raw.get("accessControl")
    if isinstance(raw.get("allowAccess"), list):
        for i, rule in enumerate(raw["allowAccess"]):
            el = f"allowAccess[{i}]"
            add(el, [], "start", rule.get("startDate"), rule.get("credit"))
            add(el, [], "end", rule.get("endDate"), rule.get("credit"))
    elif isinstance(acc, list):
        for i, e in enumerate(acc):
            el = "defaults" if i == 0 else f"accessControl[{i}]"
            labels = list(e.get("labels") or [])
            dc = e.get("dateControl") or {}
            add(el, labels, "release", (dc.get("release") or {}).get("date"))
            due = dc.get("due") or {}
            add(el, labels, "due", due.get("date"), due.get("credit", 100))
            for d in dc.get("earlyDeadlines") or []:
                add(el, labels, "early", d.get("date"), d.get("credit"))
            for d in dc.get("lateDeadlines") or []:
                add(el, labels, "late", d.get("date"), d.get("credit"))
            for ss in dc.get("sessions") or []:
                add(el, labels, "session-start", ss.get("startDate"), ss.get("credit", 100))
                add(el, labels, "session-end", ss.get("endDate"))
    elif isinstance(acc, dict):
        bodies = [("defaults", [], acc)] + [
            (
                f"accessControlOverrides[{i}]",
                list(o.get("sections") or []),
                o.get("accessControl") or {},
            )
            for i, o in enumerate(raw.get("accessControlOverrides") or [])
        ]
        for el, labels, b in bodies:
            add(el, labels, "release", b.get("availableDate"))
            add(el, labels, "due", b.get("dueDate"), 100)
            for d in b.get("earlyDeadlines") or []:
                add(el, labels, "early", d.get("date"), d.get("credit"))
            for d in b.get("lateDeadlines") or []:
                add(el, labels, "late", d.get("date"), d.get("credit"))
            add(el, labels, "reveal", b.get("revealDate"))
    return out
