"""Issue 15, class 4: equal instants are allowed.

An early or a late deadline exactly at the due date is valid (its zero-length segment is simply
empty: at one instant the early deadline, then the due date, then the late deadline counts, as
PrairieLearn builds the timeline), and a publishing period whose start equals its end is valid.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_validation import errors

from helpers import assess, decide

REL = {"release": {"date": "2024-03-14T00:00:00"}}
DUE = {"due": {"date": "2024-03-21T23:59:00"}}


def homework(**dc: Any) -> dict[str, Any]:
    return {"accessControl": [{"dateControl": {**REL, **DUE, **dc}}]}


def test_a_late_deadline_exactly_at_the_due_date_is_valid(tmp_path: Path) -> None:
    cfg = homework(
        lateDeadlines=[
            {"date": "2024-03-21T23:59:00", "credit": 80},
            {"date": "2024-03-28T23:59:00", "credit": 50},
        ]
    )
    assert errors(tmp_path, cfg) == []
    assert assess(cfg, "2024-03-21T23:58")["credit"] == 100
    # The first late deadline's segment is empty: at the due date the next one starts.
    assert assess(cfg, "2024-03-21T23:59")["credit"] == 50


def test_an_early_deadline_exactly_at_the_due_date_is_valid(tmp_path: Path) -> None:
    cfg = homework(earlyDeadlines=[{"date": "2024-03-21T23:59:00", "credit": 110}])
    assert errors(tmp_path, cfg) == []
    # The early deadline's credit holds until the due date (PrairieLearn: 110% before it).
    assert assess(cfg, "2024-03-20T12:00")["credit"] == 110
    assert not assess(cfg, "2024-03-21T23:59")["submittable"]


def test_early_and_late_deadlines_both_at_the_due_date_are_valid(tmp_path: Path) -> None:
    cfg = homework(
        earlyDeadlines=[{"date": "2024-03-21T23:59:00", "credit": 110}],
        lateDeadlines=[{"date": "2024-03-21T23:59:00", "credit": 80}],
    )
    assert errors(tmp_path, cfg) == []


def test_a_publishing_period_whose_start_equals_its_end_is_valid(tmp_path: Path) -> None:
    when = "2024-03-01T00:00:00"
    instance = {"longName": "Spring", "publishing": {"startDate": when, "endDate": when}}
    assert errors(tmp_path, homework(), instance) == []
    # Still refused when the start is after the end.
    later = {"longName": "Spring", "publishing": {"startDate": when, "endDate": "2024-02-01"}}
    assert any(p.path == "$.publishing" for p in errors(tmp_path / "later", homework(), later))
    d = decide(None, "2024-03-01T00:00:00", instance_config={"publishing": instance["publishing"]})
    assert d["course_instance"]["access"]
