"""Issue 15, class 3: deadlines stranded by the cascade are dropped, not refused.

An override that moves the release or the due date can leave an inherited early deadline
before the release or after the due date, or a late deadline before the due date. PrairieLearn
drops those deadlines for the students the override applies to; validation does not fail. What
no student can ever have is still an error (a deadline before every release, a late deadline
before every due date), and those due-based checks are skipped when some override can clear
the due date (``due: {date: null}``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_validation import errors

from helpers import assess

U1 = "0b31c53c-0a94-4380-bd01-c75b8f5d3fc1"
U2 = "0b31c53c-0a94-4380-bd01-c75b8f5d3fc2"

DEFAULTS = {
    "dateControl": {
        "release": {"date": "2024-03-14T00:00:00"},
        "earlyDeadlines": [{"date": "2024-03-17T23:59:00", "credit": 120}],
        "due": {"date": "2024-03-21T23:59:00"},
        "lateDeadlines": [{"date": "2024-03-23T23:59:00", "credit": 80}],
    }
}


def with_override(dc: dict[str, Any]) -> dict[str, Any]:
    return {"accessControl": [DEFAULTS, {"uuid": U1, "labels": ["x"], "dateControl": dc}]}


def credit(cfg: dict[str, Any], at: str) -> float:
    d = assess(cfg, at, user={"sections": ["x"]})
    assert d["access"] and d["submittable"], d
    return float(d["credit"])


def test_a_due_date_moved_past_a_late_deadline_drops_it(tmp_path: Path) -> None:
    cfg = with_override({"due": {"date": "2024-03-25T23:59:00"}})
    assert errors(tmp_path, cfg) == []
    # The late deadline of 23 March is gone: full credit until the new due date, then closed.
    assert credit(cfg, "2024-03-24T12:00") == 100
    assert not assess(cfg, "2024-03-26T12:00", user={"sections": ["x"]})["submittable"]
    # Everyone else keeps it.
    assert assess(cfg, "2024-03-22T12:00")["credit"] == 80


def test_a_due_date_moved_before_an_early_deadline_drops_it(tmp_path: Path) -> None:
    cfg = with_override({"due": {"date": "2024-03-16T23:59:00"}})
    assert errors(tmp_path, cfg) == []
    assert credit(cfg, "2024-03-15T12:00") == 100
    # After the new due date the late deadline (still after it) gives 80%, never 120%.
    assert credit(cfg, "2024-03-17T12:00") == 80


def test_a_release_moved_past_an_early_deadline_drops_it(tmp_path: Path) -> None:
    cfg = with_override({"release": {"date": "2024-03-18T00:00:00"}})
    assert errors(tmp_path, cfg) == []
    assert credit(cfg, "2024-03-18T12:00") == 100


def test_due_based_checks_are_skipped_when_some_override_can_clear_the_due_date(
    tmp_path: Path,
) -> None:
    # PrairieLearn's own case: one section has no due date, another a late deadline before
    # the defaults' due date.
    cfg = {
        "accessControl": [
            {
                "dateControl": {
                    "release": {"date": "2024-04-07T00:00:00"},
                    "due": {"date": "2024-04-10T00:00:00"},
                }
            },
            {"uuid": U1, "labels": ["a"], "dateControl": {"due": {"date": None}}},
            {
                "uuid": U2,
                "labels": ["b"],
                "dateControl": {"lateDeadlines": [{"date": "2024-04-07T12:00:00", "credit": 50}]},
            },
        ]
    }
    assert errors(tmp_path, cfg) == []


def test_a_late_deadline_before_every_due_date_is_still_an_error(tmp_path: Path) -> None:
    cfg = {
        "accessControl": [
            {
                "dateControl": {
                    "release": {"date": "2024-04-07T00:00:00"},
                    "due": {"date": "2024-04-10T00:00:00"},
                }
            },
            {
                "uuid": U2,
                "labels": ["b"],
                "dateControl": {"lateDeadlines": [{"date": "2024-04-07T12:00:00", "credit": 50}]},
            },
        ]
    }
    errs = errors(tmp_path, cfg)
    assert [p.path for p in errs] == ["$.accessControl[1].dateControl.lateDeadlines"], errs
    assert "before the earliest due date any student has" in errs[0].message


def test_an_early_deadline_before_every_release_is_still_an_error(tmp_path: Path) -> None:
    cfg = {
        "accessControl": [
            {"dateControl": {"release": {"date": "2024-04-07T00:00:00"}, "due": {"date": None}}},
            {"uuid": U1, "labels": ["a"], "dateControl": {"release": {"date": "2024-04-06T00:00"}}},
            {
                "uuid": U2,
                "labels": ["b"],
                "dateControl": {"earlyDeadlines": [{"date": "2024-04-05T00:00:00", "credit": 120}]},
            },
        ]
    }
    errs = errors(tmp_path, cfg)
    assert any(
        p.path == "$.accessControl[2].dateControl.earlyDeadlines"
        and "not after the earliest release any student has" in p.message
        for p in errs
    ), errs


def test_an_override_clearing_the_due_date_with_its_own_late_deadlines_is_an_error(
    tmp_path: Path,
) -> None:
    cfg = with_override(
        {
            "due": {"date": None},
            "lateDeadlines": [{"date": "2024-03-25T23:59:00", "credit": 50}],
        }
    )
    errs = errors(tmp_path, cfg)
    assert any("accessControl[1]" in p.message and "need a due date" in p.message for p in errs), (
        errs
    )


def test_an_override_clearing_the_due_date_keeps_the_inherited_late_deadlines_valid(
    tmp_path: Path,
) -> None:
    cfg = with_override({"due": {"date": None}})
    assert errors(tmp_path, cfg) == []
    # The section stays open; its credit never rises above the late deadline's.
    assert credit(cfg, "2024-03-22T12:00") == 80
    assert credit(cfg, "2024-04-22T12:00") == 80
