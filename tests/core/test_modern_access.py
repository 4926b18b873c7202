"""Modern accessControl lists: the cascade, the timeline, visibility, and our extensions."""

from __future__ import annotations

from typing import Any

from helpers import assess

EXAM_UUID = "11e89892-3eff-4d7f-90a2-221372f14e5c"
UUID1 = "0b31c53c-0a94-4380-bd01-c75b8f5d3fcc"
UUID2 = "4a7a8e97-3298-46d4-abff-8781389afd5d"

HW: dict[str, Any] = {
    "accessControl": [
        {
            "dateControl": {
                "release": {"date": "2024-03-14T00:01:00"},
                "earlyDeadlines": [{"date": "2024-03-17T23:59:00", "credit": 120}],
                "due": {"date": "2024-03-21T23:59:00"},
                "lateDeadlines": [
                    {"date": "2024-03-23T23:59:00", "credit": 80},
                    {"date": "2024-03-30T23:59:00", "credit": 50},
                ],
                "afterLastDeadline": {"allowSubmissions": True, "credit": 0},
            }
        },
        {
            "uuid": UUID1,
            "labels": ["lab-a"],
            "dateControl": {"due": {"date": "2024-03-22T23:59:00"}},
        },
    ]
}


def test_nothing_before_release() -> None:
    d = assess(HW, "2024-03-14T00:00:59")
    assert not d["access"] and not d["listed"]
    assert d["next_change"] == "2024-03-14T00:01:00-05:00"


def test_release_is_inclusive_and_deadline_starts_the_next_segment() -> None:
    assert assess(HW, "2024-03-14T00:01:00")["credit"] == 120
    assert assess(HW, "2024-03-17T23:58:59")["credit"] == 120
    assert assess(HW, "2024-03-17T23:59:00")["credit"] == 100


def test_late_credit_and_after_last_deadline() -> None:
    assert assess(HW, "2024-03-22T12:00")["credit"] == 80
    assert assess(HW, "2024-03-25T12:00")["credit"] == 50
    d = assess(HW, "2024-04-01T12:00")
    assert d["credit"] == 0 and d["submittable"] and not d["complete"]
    assert d["next_change"] is None


def test_label_override_moves_the_due_date_for_its_section_only() -> None:
    at = "2024-03-22T12:00"
    assert assess(HW, at, user={"sections": ["lab-a"]})["credit"] == 100
    assert assess(HW, at, user={"sections": ["lab-b"]})["credit"] == 80


def test_student_override_applies_after_label_overrides() -> None:
    own = [{"dateControl": {"due": {"date": "2024-03-26T23:59:00"}, "lateDeadlines": []}}]
    d = assess(HW, "2024-03-25T12:00", user={"sections": ["lab-a"]}, student_overrides=own)
    assert d["credit"] == 100
    assert any("your override 1" in line for line in d["explanation"])


def test_due_is_atomic_date_and_credit_together() -> None:
    cfg = {
        "accessControl": [
            {
                "dateControl": {
                    "release": {"date": "2024-01-01T00:00"},
                    "due": {"date": "2024-02-01T00:00", "credit": 90},
                }
            },
        ]
    }
    own = [{"dateControl": {"due": {"date": "2024-03-01T00:00"}}}]
    # The override's due replaces date AND credit (back to the default 100).
    assert assess(cfg, "2024-02-15T00:00", student_overrides=own)["credit"] == 100


def test_null_clears_an_inherited_value() -> None:
    cfg = {
        "accessControl": [
            {
                "dateControl": {
                    "release": {"date": "2024-01-01T00:00"},
                    "durationMinutes": 60,
                    "password": "pw",
                }
            },
        ]
    }
    own = [{"dateControl": {"durationMinutes": None, "password": None}}]
    d = assess(cfg, "2024-01-02T00:00", student_overrides=own)
    assert d["time_limit_minutes"] is None and not d["password_required"]


def test_empty_list_clears_deadlines() -> None:
    own = [{"dateControl": {"lateDeadlines": []}}]
    d = assess(HW, "2024-03-22T12:00", student_overrides=own)
    assert d["credit"] == 0  # straight to afterLastDeadline


def test_no_due_date_means_open_indefinitely() -> None:
    cfg = {"accessControl": [{"dateControl": {"release": {"date": "2000-01-01T00:00:00"}}}]}
    d = assess(cfg, "2030-01-01T00:00")
    assert d["credit"] == 100 and d["credit_text"] == "100%" and d["next_change"] is None


def test_no_after_last_deadline_means_complete_view_only() -> None:
    cfg = {
        "accessControl": [
            {
                "dateControl": {
                    "release": {"date": "2024-01-01T00:00"},
                    "due": {"date": "2024-02-01T00:00"},
                }
            },
        ]
    }
    d = assess(cfg, "2024-02-01T00:00")
    assert d["access"] and d["complete"] and not d["can_start"] and d["credit"] == 0
    # Modern defaults after completion: questions hidden, score visible.
    assert not d["questions_visible"] and d["score_visible"]


def test_before_release_listed_shows_the_title_without_access() -> None:
    cfg = {
        "accessControl": [
            {
                "beforeRelease": {"listed": True},
                "dateControl": {"release": {"date": "2024-01-10T00:00"}},
            },
        ]
    }
    d = assess(cfg, "2024-01-05T00:00")
    assert d["listed"] and not d["access"]
    assert d["credit_text"] == "opens 00:00, Wed, Jan 10 at 100%"


def test_duration_capped_by_end_of_submittable_run() -> None:
    cfg = {
        "accessControl": [
            {
                "dateControl": {
                    "release": {"date": "2024-01-01T09:00"},
                    "due": {"date": "2024-01-01T10:00"},
                    "durationMinutes": 50,
                }
            },
        ]
    }
    assert assess(cfg, "2024-01-01T09:00")["time_limit_minutes"] == 50
    assert assess(cfg, "2024-01-01T09:30")["time_limit_minutes"] == 29  # 29.48 min left
    assert assess(cfg, "2024-01-01T09:30", mode="Exam")["time_limit_minutes"] is None


def test_password_only_while_submissions_are_accepted() -> None:
    cfg = {
        "accessControl": [
            {
                "dateControl": {
                    "release": {"date": "2024-01-01T00:00"},
                    "due": {"date": "2024-02-01T00:00"},
                    "password": "pw",
                }
            },
        ]
    }
    assert assess(cfg, "2024-01-15T00:00")["password_required"]
    assert not assess(cfg, "2024-02-15T00:00")["password_required"]


def test_reveal_then_hide_questions() -> None:
    cfg = {
        "accessControl": [
            {
                "dateControl": {
                    "release": {"date": "2024-01-01T00:00"},
                    "due": {"date": "2024-01-02T00:00"},
                },
                "afterComplete": {
                    "questions": {
                        "hidden": True,
                        "visibleFromDate": "2024-01-05T00:00",
                        "visibleUntilDate": "2024-01-12T00:00",
                    }
                },
            }
        ]
    }
    assert not assess(cfg, "2024-01-03T00:00")["questions_visible"]
    d = assess(cfg, "2024-01-06T00:00")
    assert d["questions_visible"] and d["next_change"] == "2024-01-12T00:00:00-06:00"
    assert not assess(cfg, "2024-01-12T00:00")["questions_visible"]


def test_exam_mode_only_through_linked_exam_with_reservation() -> None:
    cfg = {
        "accessControl": [
            {
                "dateControl": {"release": {"date": "2024-01-01T00:00"}},
                "integrations": {"prairieTest": {"exams": [{"examUuid": EXAM_UUID}]}},
            }
        ]
    }
    res = [
        {
            "exam_uuid": EXAM_UUID,
            "access_start": "2024-02-01T09:00",
            "access_end": "2024-02-01T11:00",
        }
    ]
    assert not assess(cfg, "2024-02-01T10:00", mode="Exam")["access"]
    d = assess(cfg, "2024-02-01T10:00", mode="Exam", reservations=res)
    assert d["access"] and d["credit"] == 100 and d["time_limit_minutes"] is None
    assert d["exam_access_end"] == "2024-02-01T11:00:00-06:00"


def test_read_only_exam_is_view_only() -> None:
    cfg = {
        "accessControl": [
            {
                "integrations": {
                    "prairieTest": {"exams": [{"examUuid": EXAM_UUID, "readOnly": True}]}
                }
            }
        ]
    }
    res = [
        {
            "exam_uuid": EXAM_UUID,
            "access_start": "2024-02-01T09:00",
            "access_end": "2024-02-01T11:00",
        }
    ]
    d = assess(cfg, "2024-02-01T10:00", mode="Exam", reservations=res)
    assert d["access"] and d["read_only"] and not d["can_start"] and not d["submittable"]


def test_sessions_each_with_its_own_password() -> None:
    cfg = {
        "accessControl": [
            {
                "dateControl": {
                    "durationMinutes": 15,
                    "sessions": [
                        {
                            "startDate": "2023-12-14T09:50:00",
                            "endDate": "2023-12-14T11:10:00",
                            "password": "XXX",
                        },
                        {
                            "startDate": "2023-12-14T12:00:00",
                            "endDate": "2023-12-14T13:10:00",
                            "password": "YYY",
                        },
                    ],
                }
            }
        ]
    }
    assert not assess(cfg, "2023-12-14T09:00")["access"]
    s1 = assess(cfg, "2023-12-14T10:00")
    assert s1["can_start"] and s1["password_required"] and s1["time_limit_minutes"] == 15
    between = assess(cfg, "2023-12-14T11:30")
    assert between["access"] and not between["can_start"] and between["complete"]
    assert assess(cfg, "2023-12-14T12:30")["can_start"]
    # The limit is cut by the session's end.
    assert assess(cfg, "2023-12-14T13:00")["time_limit_minutes"] == 9


def test_duration_percent_scales_the_duration_in_force() -> None:
    cfg = {
        "accessControl": [
            {"dateControl": {"release": {"date": "2024-01-01T00:00"}, "durationMinutes": 50}},
            {"uuid": UUID1, "labels": ["extra-time"], "dateControl": {"durationPercent": 150}},
        ]
    }
    assert assess(cfg, "2024-01-02T00:00")["time_limit_minutes"] == 50
    d = assess(cfg, "2024-01-02T00:00", user={"sections": ["extra-time"]})
    assert d["time_limit_minutes"] == 75
    assert any("150%" in line for line in d["explanation"])


def test_label_overrides_cascade_in_order() -> None:
    cfg = {
        "accessControl": [
            {"dateControl": {"release": {"date": "2024-01-01T00:00"}, "durationMinutes": 60}},
            {"uuid": UUID1, "labels": ["a"], "dateControl": {"durationMinutes": 90}},
            {"uuid": UUID2, "labels": ["b"], "dateControl": {"durationMinutes": 120}},
        ]
    }
    assert (
        assess(cfg, "2024-01-02T00:00", user={"sections": ["a", "b"]})["time_limit_minutes"] == 120
    )


def test_no_access_control_means_no_student_access() -> None:
    d = assess({"title": "x"}, "2024-01-02T00:00")
    assert not d["access"]
    assert assess({"title": "x"}, "2024-01-02T00:00", user={"role": "Instructor"})["access"]


def test_tas_are_staff_in_the_modern_form() -> None:
    d = assess(HW, "2020-01-01T00:00", user={"role": "TA"})
    assert d["access"] and d["credit_text"] == "100% (Staff override)"


def test_after_a_testing_centre_exam_the_score_stays_visible() -> None:
    """RFC use case 3: after the reservation, the total score but not the questions."""
    cfg = {
        "accessControl": [{"integrations": {"prairieTest": {"exams": [{"examUuid": EXAM_UUID}]}}}]
    }
    assert not assess(cfg, "2024-02-02T10:00")["access"]  # never took it: nothing
    d = assess(cfg, "2024-02-02T10:00", instance={"open": False})
    assert d["access"] and d["complete"] and d["score_visible"] and not d["questions_visible"]
    assert not d["can_start"] and not d["submittable"]
