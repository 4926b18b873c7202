"""The RFC's object form, with the RFC's definitions."""

from __future__ import annotations

from typing import Any

from helpers import assess

EXAM_UUID = "11e89892-3eff-4d7f-90a2-221372f14e5c"

USE_CASE_1: dict[str, Any] = {
    "accessControl": {
        "published": True,
        "availableDate": "2024-03-14T00:01",
        "dueDate": "2024-03-21T23:59",
        "earlyDeadlines": [
            {"date": "2024-03-17T23:59", "credit": 120},
            {"date": "2024-03-20T23:59", "credit": 110},
        ],
        "lateDeadlines": [
            {"date": "2024-03-23T23:59", "credit": 80},
            {"date": "2024-03-30T23:59", "credit": 50},
        ],
        "zeroCreditPractice": True,
    }
}


def test_published_defaults_to_false() -> None:
    d = assess({"accessControl": {"availableDate": "2024-01-01T00:00"}}, "2024-02-01T00:00")
    assert not d["access"] and not d["listed"]
    assert "not published" in d["explanation"][0]


def test_use_case_1_credit_stages() -> None:
    assert assess(USE_CASE_1, "2024-03-15T00:00")["credit"] == 120
    assert assess(USE_CASE_1, "2024-03-19T00:00")["credit"] == 110
    assert assess(USE_CASE_1, "2024-03-21T00:00")["credit"] == 100
    assert assess(USE_CASE_1, "2024-03-22T00:00")["credit"] == 80
    assert assess(USE_CASE_1, "2024-03-29T00:00")["credit"] == 50


def test_zero_credit_practice_edits_but_never_creates() -> None:
    none = assess(USE_CASE_1, "2024-04-05T00:00")
    assert none["access"] and not none["can_start"] and not none["submittable"]
    open_ = assess(USE_CASE_1, "2024-04-05T00:00", instance={"open": True})
    assert open_["submittable"] and open_["credit"] == 0
    assert open_["complete"]  # no positive credit: complete, yet editable
    assert open_["questions_visible"]


def test_late_credit_keeps_positive_credit_forever() -> None:
    cfg = {
        "accessControl": {
            "published": True,
            "availableDate": "2024-01-01T00:00",
            "dueDate": "2024-01-10T00:00",
            "lateCredit": 30,
        }
    }
    d = assess(cfg, "2025-01-01T00:00")
    assert d["can_start"] and d["credit"] == 30 and not d["complete"]


def test_date_control_without_dates_is_always_available() -> None:
    d = assess({"accessControl": {"published": True, "dateControl": True}}, "1999-01-01T00:00")
    assert d["access"] and d["credit"] == 100


def test_hide_and_reveal_with_score_visible_while_open() -> None:
    cfg = {
        "accessControl": {
            "published": True,
            "availableDate": "2024-03-14T00:01",
            "dueDate": "2024-03-21T23:59",
            "durationMinutes": 60,
            "hideQuestionsAfterCompletion": True,
            "hideScoreAfterCompletion": True,
            "revealDate": "2024-04-01T00:00",
        }
    }
    closed = assess(cfg, "2024-03-25T00:00", instance={"open": False})
    assert closed["complete"] and not closed["questions_visible"] and not closed["score_visible"]
    revealed = assess(cfg, "2024-04-01T00:00", instance={"open": False})
    assert revealed["questions_visible"] and revealed["score_visible"]


def test_reveal_until_hides_again() -> None:
    cfg = {
        "accessControl": {
            "published": True,
            "availableDate": "2024-03-01T00:00",
            "dueDate": "2024-03-02T00:00",
            "hideQuestionsAfterCompletion": True,
            "revealDate": "2024-03-05T00:00",
            "revealUntilDate": "2024-03-12T00:00",
        }
    }
    assert assess(cfg, "2024-03-06T00:00", instance={"open": False})["questions_visible"]
    assert not assess(cfg, "2024-03-12T00:00", instance={"open": False})["questions_visible"]


def test_section_override_merges_over_the_defaults() -> None:
    cfg = {
        "accessControl": {
            "published": True,
            "availableDate": "2024-03-01T00:00",
            "dueDate": "2024-03-10T00:00",
            "durationMinutes": 60,
        },
        "accessControlOverrides": [
            {"sections": ["drc"], "accessControl": {"durationMinutes": 90}},
            {"sections": ["drc", "late"], "accessControl": {"dueDate": "2024-03-20T00:00"}},
        ],
    }
    d = assess(cfg, "2024-03-05T00:00", user={"sections": ["drc"]})
    assert d["time_limit_minutes"] == 90
    # The first matching override only (the RFC's rule): drc's override, not "late"'s.
    assert not assess(cfg, "2024-03-15T00:00", user={"sections": ["drc"]})["can_start"]
    assert assess(cfg, "2024-03-15T00:00", user={"sections": ["late"]})["can_start"]


def test_prairie_test_gives_full_credit_and_read_only_review() -> None:
    review = "896c088c-7468-4045-965b-e8ae134086c2"
    cfg = {
        "accessControl": {
            "published": True,
            "prairieTest": [{"examUuid": EXAM_UUID}, {"examUuid": review, "readOnly": True}],
        }
    }
    res = [
        {
            "exam_uuid": EXAM_UUID,
            "access_start": "2024-02-01T09:00",
            "access_end": "2024-02-01T11:00",
        },
        {"exam_uuid": review, "access_start": "2024-02-08T09:00", "access_end": "2024-02-08T10:00"},
    ]
    exam = assess(cfg, "2024-02-01T10:00", mode="Exam", reservations=res)
    assert exam["credit"] == 100 and exam["can_start"]
    rv = assess(cfg, "2024-02-08T09:30", mode="Exam", reservations=res, instance={"open": False})
    assert rv["access"] and rv["read_only"] and not rv["submittable"]
    assert not assess(cfg, "2024-02-05T10:00")["access"]
