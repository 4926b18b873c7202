"""Course-file validation: every problem names the file, the JSON path and what is wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from coursegate.courses.loader import load_course

CI_UUID = "6f1c0a53-6b4e-4d4e-9a57-0c8e4a5b1d01"
A_UUID = "6f1c0a53-6b4e-4d4e-9a57-0c8e4a5b1d02"


def course(
    tmp_path: Path, assessment: dict[str, Any], instance: dict[str, Any] | None = None
) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "infoCourse.json").write_text(
        json.dumps({"title": "T", "timezone": "America/Chicago"})
    )
    ci = tmp_path / "courseInstances" / "Sp24"
    a = ci / "assessments" / "hw" / "hw1"
    a.mkdir(parents=True, exist_ok=True)
    (ci / "infoCourseInstance.json").write_text(
        json.dumps({"uuid": CI_UUID, **(instance or {"longName": "Spring"})})
    )
    (a / "infoAssessment.json").write_text(
        json.dumps({"uuid": A_UUID, "title": "HW1", "set": "Homework", **assessment})
    )
    return tmp_path


def problems(
    tmp_path: Path, assessment: dict[str, Any], instance: dict[str, Any] | None = None
) -> list[Any]:
    return load_course(course(tmp_path, assessment, instance)).problems


def errors(
    tmp_path: Path, assessment: dict[str, Any], instance: dict[str, Any] | None = None
) -> list[Any]:
    return [p for p in problems(tmp_path, assessment, instance) if p.severity == "error"]


REL = {"release": {"date": "2024-03-01T00:00:00"}}


def test_valid_file_has_no_problems_and_nested_id(tmp_path: Path) -> None:
    loaded = load_course(course(tmp_path, {"accessControl": [{"dateControl": REL}]}))
    assert loaded.problems == []
    assert list(loaded.instances["Sp24"].assessments) == ["hw/hw1"]


def test_unknown_key_in_access_control_suggests_the_right_one(tmp_path: Path) -> None:
    (p,) = errors(
        tmp_path, {"accessControl": [{"dateControl": {"relase": {"date": "2024-03-01"}}}]}
    )
    assert p.file.endswith("courseInstances/Sp24/assessments/hw/hw1/infoAssessment.json")
    assert p.path == "$.accessControl[0].dateControl"
    assert "'relase'" in p.message and "did you mean 'release'" in p.message


def test_misspelt_top_level_key_is_an_error(tmp_path: Path) -> None:
    (p,) = errors(tmp_path, {"allowAcess": [{"credit": 100}]})
    assert p.path == "$.allowAcess" and "did you mean 'allowAccess'" in p.message


def test_other_prairielearn_keys_are_left_alone(tmp_path: Path) -> None:
    got = problems(tmp_path, {"zones": [{"questions": []}], "groupWork": True, "type": "Exam"})
    assert got == []


def test_unknown_unrelated_top_level_key_is_a_warning(tmp_path: Path) -> None:
    (p,) = problems(tmp_path, {"myNotes": "hi"})
    assert p.severity == "warning" and "ignored" in p.message


def test_both_forms_is_an_error(tmp_path: Path) -> None:
    (p,) = errors(tmp_path, {"allowAccess": [], "accessControl": []})
    assert "not both" in p.message


def test_bad_date_names_the_path(tmp_path: Path) -> None:
    (p,) = errors(tmp_path, {"allowAccess": [{"startDate": "next monday"}]})
    assert p.path == "$.allowAccess[0].startDate" and "YYYY-MM-DD" in p.message


def test_wrong_type_in_plain_words(tmp_path: Path) -> None:
    (p,) = errors(tmp_path, {"allowAccess": [{"credit": "lots"}]})
    assert p.path == "$.allowAccess[0].credit" and "must be a number" in p.message


@pytest.mark.parametrize(
    ("dc", "needle"),
    [
        ({"due": {"date": "2024-03-01T00:00"}}, "release date is required"),
        ({**REL, "due": {"date": "2024-02-01T00:00"}}, "is not after the release"),
        (
            {
                **REL,
                "due": {"date": "2024-03-10T00:00"},
                "lateDeadlines": [{"date": "2024-03-05T00:00", "credit": 50}],
            },
            "before the due date",
        ),
        (
            {
                **REL,
                "due": {"date": "2024-03-10T00:00"},
                "lateDeadlines": [
                    {"date": "2024-03-12T00:00", "credit": 50},
                    {"date": "2024-03-14T00:00", "credit": 60},
                ],
            },
            "must decrease",
        ),
        (
            {
                **REL,
                "due": {"date": "2024-03-10T00:00"},
                "lateDeadlines": [{"date": "2024-03-12T00:00", "credit": 100}],
            },
            "below 100%",
        ),
        ({**REL, "lateDeadlines": [{"date": "2024-03-12T00:00", "credit": 50}]}, "need a due date"),
        (
            {
                **REL,
                "due": {"date": "2024-03-10T00:00"},
                "earlyDeadlines": [{"date": "2024-03-05T00:00", "credit": 90}],
            },
            "not more than",
        ),
        (
            {
                **REL,
                "due": {"date": "2024-03-10T00:00"},
                "earlyDeadlines": [{"date": "2024-03-12T00:00", "credit": 120}],
            },
            "after the due date",
        ),
        (
            {
                **REL,
                "due": {"date": "2024-03-10T00:00"},
                "afterLastDeadline": {"allowSubmissions": False, "credit": 10},
            },
            "no meaning",
        ),
        ({**REL, "durationPercent": 150}, "belongs in an override"),
        (
            {**REL, "sessions": [{"startDate": "2024-03-02T00:00", "endDate": "2024-03-02T01:00"}]},
            "sessions replace",
        ),
    ],
)
def test_modern_date_control_checks(tmp_path: Path, dc: dict[str, Any], needle: str) -> None:
    errs = errors(tmp_path, {"accessControl": [{"dateControl": dc}]})
    assert any(needle in p.message for p in errs), errs
    assert all(p.path.startswith("$.accessControl") for p in errs)


def test_override_problems_name_the_override(tmp_path: Path) -> None:
    cfg = {
        "accessControl": [
            {
                "dateControl": {
                    **REL,
                    "due": {"date": "2024-03-10T00:00"},
                    "lateDeadlines": [{"date": "2024-03-12T00:00", "credit": 50}],
                }
            },
            {
                "uuid": "0b31c53c-0a94-4380-bd01-c75b8f5d3fcc",
                "labels": ["x"],
                "dateControl": {
                    "due": {"date": "2024-03-13T00:00"},
                    "lateDeadlines": [{"date": "2024-03-12T00:00", "credit": 50}],
                },
            },
        ]
    }
    # The override's own late deadline falls before its own due date. (A due date moved past
    # an inherited late deadline is not a problem: PrairieLearn drops that deadline for the
    # section; see tests/courses/test_pl_stranded_deadlines.py.)
    errs = errors(tmp_path, cfg)
    assert any(
        "accessControl[1]" in p.message
        and "before the due date" in p.message
        and p.path == "$.accessControl[1].dateControl.lateDeadlines"
        for p in errs
    ), errs


def test_override_needs_uuid_and_known_labels(tmp_path: Path) -> None:
    cfg = {"accessControl": [{"dateControl": REL}, {"labels": ["lab-z"], "dateControl": REL}]}
    inst = {"studentLabels": [{"name": "lab-a"}]}
    msgs = [p.message for p in errors(tmp_path, cfg, inst)]
    assert any("needs a uuid" in m for m in msgs)
    assert any("'lab-z' is not one of the course instance's studentLabels" in m for m in msgs)


def test_defaults_must_not_have_labels_or_uuid(tmp_path: Path) -> None:
    cfg = {"accessControl": [{"uuid": "0b31c53c-0a94-4380-bd01-c75b8f5d3fcc", "labels": ["a"]}]}
    paths = {p.path for p in errors(tmp_path, cfg)}
    assert {"$.accessControl[0].uuid", "$.accessControl[0].labels"} <= paths


def test_hidden_score_requires_hidden_questions(tmp_path: Path) -> None:
    cfg = {
        "accessControl": [
            {
                "dateControl": REL,
                "afterComplete": {"questions": {"hidden": False}, "score": {"hidden": True}},
            }
        ]
    }
    assert any("hidden score requires hidden questions" in p.message for p in errors(tmp_path, cfg))


def test_legacy_checks(tmp_path: Path) -> None:
    cfg = {
        "allowAccess": [
            {"startDate": "2024-03-10T00:00", "endDate": "2024-03-01T00:00"},
            {"active": False, "credit": 50},
            {"mode": "Public", "examUuid": "11e89892-3eff-4d7f-90a2-221372f14e5c"},
            {"mode": "Exam"},
            {"uids": ["a@x.edu, b@x.edu"]},
        ]
    }
    got = {(p.severity, p.path, p.message.split(" ")[0]) for p in problems(tmp_path, cfg)}
    assert ("error", "$.allowAccess[0]", "startDate") in got
    assert ("error", "$.allowAccess[1].credit", "a") in got
    assert ("warning", "$.allowAccess[2].mode", "a") in got
    assert ("warning", "$.allowAccess[3]", "an") in got
    assert ("warning", "$.allowAccess[4].uids[0]", "'a@x.edu,") in got


def test_rfc_checks(tmp_path: Path) -> None:
    cfg = {"accessControl": {"dateControl": False, "dueDate": "2024-03-01T00:00"}}
    assert any("dateControl is false" in p.message for p in errors(tmp_path, cfg))
    cfg2 = {"accessControl": {"published": True, "lateCredit": 120, "dueDate": "2024-03-01T00:00"}}
    assert any(p.path == "$.accessControl.lateCredit" for p in errors(tmp_path, cfg2))


def test_dst_ambiguity_is_a_warning_with_path(tmp_path: Path) -> None:
    cfg = {"accessControl": [{"dateControl": {"release": {"date": "2024-11-03T01:30:00"}}}]}
    (p,) = problems(tmp_path, cfg)
    assert p.severity == "warning" and p.path == "$.accessControl[0].dateControl.release.date"
    assert "happens twice" in p.message


def test_instance_timezone_override_applies_to_its_assessments(tmp_path: Path) -> None:
    root = course(tmp_path, {"accessControl": [{"dateControl": REL}]}, {"timezone": "Europe/Paris"})
    assert load_course(root).instances["Sp24"].tz.key == "Europe/Paris"
    bad = course(tmp_path / "b", {}, {"timezone": "Moon/Base"})
    (p,) = [x for x in load_course(bad).problems if x.severity == "error"]
    assert p.path == "$.timezone" and "IANA" in p.message


def test_json_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    root = course(tmp_path, {})
    (root / "courseInstances/Sp24/assessments/hw/hw1/infoAssessment.json").write_text('{"a": 1,}')
    (p,) = load_course(root).errors
    assert "line 1" in p.message and "not valid JSON" in p.message


def test_semantic_problems_point_at_the_key(tmp_path: Path) -> None:
    cfg = {"accessControl": [{"dateControl": {**REL, "due": {"date": "2024-02-01T00:00"}}}]}
    (p,) = errors(tmp_path, cfg)
    assert p.path == "$.accessControl[0].dateControl.due.date"
    rfc = {
        "accessControl": {
            "published": True,
            "availableDate": "2024-03-01T00:00",
            "dueDate": "2024-02-01T00:00",
        }
    }
    (q,) = errors(tmp_path / "rfc", rfc)
    assert q.path == "$.accessControl.dueDate"


def test_duration_percent_without_a_duration_is_a_warning(tmp_path: Path) -> None:
    cfg = {
        "accessControl": [
            {"dateControl": REL},
            {
                "uuid": "0b31c53c-0a94-4380-bd01-c75b8f5d3fcc",
                "labels": ["x"],
                "dateControl": {"durationPercent": 150},
            },
        ]
    }
    (p,) = problems(tmp_path, cfg)
    assert p.severity == "warning" and p.path == "$.accessControl[1]"
    assert "no effect" in p.message


def test_after_last_deadline_credit_must_be_below_the_last_deadline(tmp_path: Path) -> None:
    cfg = {
        "accessControl": [
            {
                "dateControl": {
                    **REL,
                    "due": {"date": "2024-03-10T00:00"},
                    "lateDeadlines": [{"date": "2024-03-12T00:00", "credit": 50}],
                    "afterLastDeadline": {"allowSubmissions": True, "credit": 60},
                }
            }
        ]
    }
    (p,) = errors(tmp_path, cfg)
    assert p.path == "$.accessControl[0].dateControl.afterLastDeadline"
    assert "must be below the last deadline's (50%)" in p.message
