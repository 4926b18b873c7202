"""Legacy allowAccess: every field of the seed docs, and the reference semantics."""

from __future__ import annotations

from typing import Any

import pytest

from helpers import assess

EXAM_UUID = "11e89892-3eff-4d7f-90a2-221372f14e5c"

# The seed docs' homework example.
HOMEWORK: dict[str, Any] = {
    "allowAccess": [
        {
            "mode": "Public",
            "role": "TA",
            "credit": 100,
            "startDate": "2014-08-20T00:00:01",
            "endDate": "2014-12-15T23:59:59",
        },
        {
            "mode": "Public",
            "credit": 110,
            "startDate": "2014-10-12T00:00:01",
            "endDate": "2014-10-15T23:59:59",
        },
        {
            "mode": "Public",
            "credit": 100,
            "startDate": "2014-10-12T00:00:01",
            "endDate": "2014-10-18T23:59:59",
        },
        {
            "mode": "Public",
            "credit": 80,
            "startDate": "2014-10-12T00:00:01",
            "endDate": "2014-10-25T23:59:59",
        },
        {"mode": "Public", "startDate": "2014-10-12T00:00:01", "endDate": "2014-12-15T23:59:59"},
    ]
}

# The seed docs' exam example.
EXAM: dict[str, Any] = {
    "allowAccess": [
        {
            "mode": "Public",
            "role": "TA",
            "credit": 100,
            "startDate": "2014-08-20T00:00:01",
            "endDate": "2014-12-15T23:59:59",
        },
        {
            "mode": "Exam",
            "credit": 100,
            "startDate": "2014-09-07T00:00:01",
            "endDate": "2014-09-10T23:59:59",
        },
        {
            "mode": "Exam",
            "uids": ["alice@example.edu", "bob@example.edu"],
            "credit": 100,
            "startDate": "2014-09-12T00:00:01",
            "endDate": "2014-09-12T23:59:59",
        },
    ]
}


@pytest.mark.parametrize(
    ("at", "credit", "text"),
    [
        ("2014-10-12T00:00:00", 0, "opens 00:00:01, Sun, Oct 12 at 110%"),
        ("2014-10-12T00:00:01", 110, "110% until 23:59, Wed, Oct 15"),
        ("2014-10-15T23:59:59", 110, "110% until 23:59, Wed, Oct 15"),
        ("2014-10-16T00:00:00", 100, "100% until 23:59, Sat, Oct 18"),
        ("2014-10-20T12:00:00", 80, "80% until 23:59, Sat, Oct 25"),
        ("2014-11-01T12:00:00", 0, "None"),
    ],
)
def test_seed_homework_stages(at: str, credit: int, text: str) -> None:
    d = assess(HOMEWORK, at, user={"uid": "s@x.edu"})
    assert d["credit"] == credit
    assert d["credit_text"] == text
    assert d["rules"] == "legacy"


def test_seed_homework_view_only_stage_is_zero_credit_practice() -> None:
    d = assess(HOMEWORK, "2014-11-01T12:00:00")
    assert d["access"] and d["can_start"] and d["submittable"]
    assert d["credit"] == 0
    # Until the end of the semester, then nothing.
    assert d["next_change"] == "2014-12-16T00:00:00-06:00"
    assert not assess(HOMEWORK, "2014-12-16T00:00:00")["access"]


def test_inclusive_end_date_holds_through_its_last_second() -> None:
    assert assess(HOMEWORK, "2014-10-15T23:59:59.900")["credit"] == 110
    assert assess(HOMEWORK, "2014-10-16T00:00:00")["credit"] == 100


def test_ta_rule_applies_to_tas_and_not_students() -> None:
    at = "2014-09-01T12:00:00"
    assert not assess(HOMEWORK, at)["access"]
    d = assess(HOMEWORK, at, user={"role": "TA"})
    assert d["access"] and d["credit"] == 100


def test_winner_is_highest_credit_and_modifiers_come_from_it() -> None:
    cfg = {
        "allowAccess": [
            {"credit": 50, "timeLimitMin": 30, "password": "a"},
            {"credit": 100, "timeLimitMin": 90, "password": "b"},
        ]
    }
    d = assess(cfg, "2024-01-01T00:00")
    assert d["credit"] == 100 and d["time_limit_minutes"] == 90 and d["password_required"]
    assert any("also holds" in line for line in d["explanation"])


def test_ties_go_to_the_earlier_rule() -> None:
    cfg = {
        "allowAccess": [{"credit": 100, "timeLimitMin": 30}, {"credit": 100, "timeLimitMin": 90}]
    }
    assert assess(cfg, "2024-01-01T00:00")["time_limit_minutes"] == 30


def test_explicit_zero_credit_beats_absent_credit() -> None:
    cfg = {
        "allowAccess": [
            {"active": False},  # absent credit: view only, inactive
            {"credit": 0},  # explicit 0: active practice
        ]
    }
    d = assess(cfg, "2024-01-01T00:00")
    assert d["can_start"] and d["submittable"] and not d["read_only"]


def test_inactive_rule_is_listed_and_viewable_but_closed() -> None:
    cfg = {"allowAccess": [{"active": False, "credit": 0}]}
    d = assess(cfg, "2024-01-01T00:00")
    assert d["access"] and d["listed"] and not d["can_start"] and not d["submittable"]
    assert d["read_only"]


def test_inactive_winner_reports_when_credit_returns() -> None:
    cfg = {
        "allowAccess": [
            {"active": False, "startDate": "2024-01-01T00:00:00", "endDate": "2024-01-31T23:59:59"},
            {"credit": 100, "startDate": "2024-02-01T00:00:00", "endDate": "2024-02-10T23:59:59"},
        ]
    }
    d = assess(cfg, "2024-01-15T00:00")
    assert d["credit_text"] == "opens 00:00, Thu, Feb 1 at 100%"


def test_rule_without_mode_never_applies_in_exam_mode() -> None:
    cfg = {"allowAccess": [{"credit": 100}]}
    assert assess(cfg, "2024-01-01T00:00")["access"]
    assert not assess(cfg, "2024-01-01T00:00", mode="Exam")["access"]


def test_exam_mode_rule_applies_only_in_exam_mode() -> None:
    at = "2014-09-08T10:00:00"
    assert not assess(EXAM, at)["access"]
    d = assess(EXAM, at, mode="Exam")
    assert d["access"] and d["credit"] == 100 and d["time_limit_minutes"] is None


def test_uids_rule_applies_only_to_named_students() -> None:
    at = "2014-09-12T10:00:00"
    assert not assess(EXAM, at, mode="Exam", user={"uid": "carol@example.edu"})["access"]
    assert assess(EXAM, at, mode="Exam", user={"uid": "alice@example.edu"})["access"]


def test_exam_uuid_needs_a_reservation_whose_window_contains_now() -> None:
    cfg = {"allowAccess": [{"mode": "Exam", "examUuid": EXAM_UUID, "credit": 100}]}
    res = [
        {
            "exam_uuid": EXAM_UUID,
            "access_start": "2024-03-01T09:00",
            "access_end": "2024-03-01T11:00",
        }
    ]
    assert not assess(cfg, "2024-03-01T10:00", mode="Exam")["access"]
    d = assess(cfg, "2024-03-01T10:00", mode="Exam", reservations=res)
    assert d["access"] and d["exam_access_end"] == "2024-03-01T11:00:00-06:00"
    assert d["next_change"] == "2024-03-01T11:00:00-06:00"
    assert not assess(cfg, "2024-03-01T11:00", mode="Exam", reservations=res)["access"]
    other = [{**res[0], "exam_uuid": "896c088c-7468-4045-965b-e8ae134086c2"}]
    assert not assess(cfg, "2024-03-01T10:00", mode="Exam", reservations=other)["access"]


def test_time_limit_is_capped_by_the_rule_end_less_grace() -> None:
    cfg = {"allowAccess": [{"credit": 100, "timeLimitMin": 60, "endDate": "2024-03-01T11:00:00"}]}
    assert assess(cfg, "2024-03-01T09:00")["time_limit_minutes"] == 60
    # 11:00:01 (end of the inclusive second) - 31 s - 10:30 = 29.5 min: a half rounds down.
    assert assess(cfg, "2024-03-01T10:30")["time_limit_minutes"] == 29
    assert assess(cfg, "2024-03-01T10:29:59")["time_limit_minutes"] == 30
    assert assess(cfg, "2024-03-01T10:29:59")["next_change"] == "2024-03-01T10:30:00-06:00"
    d = assess(cfg, "2024-03-01T10:59:50")
    assert not d["can_start"] and d["time_limit_minutes"] is None


def test_show_closed_flags_hide_after_the_attempt_closes() -> None:
    cfg = {
        "allowAccess": [
            {"credit": 100, "showClosedAssessment": False, "showClosedAssessmentScore": False}
        ]
    }
    open_ = assess(cfg, "2024-01-01T00:00", instance={"open": True})
    assert open_["questions_visible"] and open_["score_visible"]
    closed = assess(cfg, "2024-01-01T00:00", instance={"open": False})
    assert closed["complete"] and not closed["questions_visible"] and not closed["score_visible"]
    assert not closed["submittable"] and closed["credit"] == 0


def test_instance_time_limit_end_completes_the_attempt() -> None:
    cfg = {"allowAccess": [{"credit": 100}]}
    inst = {"open": True, "date_limit": "2024-01-01T10:00:00"}
    before = assess(cfg, "2024-01-01T09:59", instance=inst)
    assert before["submittable"] and before["next_change"] == "2024-01-01T10:00:00-06:00"
    after = assess(cfg, "2024-01-01T10:00", instance=inst)
    assert after["complete"] and not after["submittable"]


def test_instructors_get_the_staff_override() -> None:
    d = assess(HOMEWORK, "2010-01-01T00:00", user={"role": "Instructor"})
    assert d["access"] and d["credit"] == 100 and d["credit_text"] == "100% (Staff override)"
    assert d["next_change"] is None


def test_personal_legacy_extension_comes_first() -> None:
    d = assess(
        HOMEWORK,
        "2014-10-27T12:00:00",
        student_overrides=[{"credit": 100, "endDate": "2014-10-28T23:59:59"}],
    )
    assert d["credit"] == 100
    assert any("your extension" in line for line in d["explanation"])
