"""Issue 15, class 5: the validation PrairieLearn ships that coursegate lacked, each an error
naming the file and the JSON path; and ``visibleUntilDate`` alone, which PrairieLearn accepts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_validation import errors

EXAM = "11e89892-3eff-4d7f-90a2-221372f14e5c"
OTHER = "896c088c-7468-4045-965b-e8ae134086c2"
UUID1 = "0b31c53c-0a94-4380-bd01-c75b8f5d3fcc"
DC = {
    "release": {"date": "2024-03-01T00:00:00"},
    "due": {"date": "2024-03-10T00:00:00"},
}
DC_LATE = {**DC, "lateDeadlines": [{"date": "2024-03-15T00:00:00", "credit": 50}]}
INFO = "courseInstances/Sp24/assessments/hw/hw1/infoAssessment.json"


def paths(tmp_path: Path, assessment: dict[str, Any]) -> dict[str, str]:
    found = errors(tmp_path, assessment)
    for p in found:
        assert p.file.endswith(INFO)
    return {p.path: p.message for p in found}


def exams(*links: dict[str, Any]) -> dict[str, Any]:
    return {"accessControl": [{"integrations": {"prairieTest": {"exams": list(links)}}}]}


EXAMS = "$.accessControl[0].integrations.prairieTest.exams"


def dated(dc: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {"accessControl": [{"dateControl": dc, "afterComplete": after}]}


# ------------------------------------------------------------------------------ exam links


def test_duplicate_exam_uuid_in_the_list(tmp_path: Path) -> None:
    got = paths(tmp_path, exams({"examUuid": EXAM}, {"examUuid": OTHER}, {"examUuid": EXAM}))
    assert list(got) == [f"{EXAMS}[2].examUuid"]
    assert f"{EXAMS}[0]" in got[f"{EXAMS}[2].examUuid"]


def test_duplicate_exam_uuid_in_the_rfc_form(tmp_path: Path) -> None:
    cfg = {"accessControl": {"published": True, "prairieTest": [{"examUuid": EXAM}] * 2}}
    got = paths(tmp_path, cfg)
    assert list(got) == ["$.accessControl.prairieTest[1].examUuid"]


def test_read_only_link_cannot_hide_questions_or_score(tmp_path: Path) -> None:
    q = {"examUuid": EXAM, "readOnly": True, "afterComplete": {"questions": {"hidden": True}}}
    got = paths(tmp_path, exams(q))
    assert list(got) == [f"{EXAMS}[0].afterComplete.questions.hidden"]
    assert "readOnly" in got[f"{EXAMS}[0].afterComplete.questions.hidden"]
    both = {
        "examUuid": EXAM,
        "readOnly": True,
        "afterComplete": {"questions": {"hidden": True}, "score": {"hidden": True}},
    }
    got = paths(tmp_path / "b", exams(both))
    assert set(got) == {
        f"{EXAMS}[0].afterComplete.questions.hidden",
        f"{EXAMS}[0].afterComplete.score.hidden",
    }


def test_link_cannot_hide_the_score_while_showing_questions(tmp_path: Path) -> None:
    link = {"examUuid": EXAM, "afterComplete": {"score": {"hidden": True}}}
    got = paths(tmp_path, exams(link))
    assert list(got) == [f"{EXAMS}[0].afterComplete.score.hidden"]
    hide_both = {"questions": {"hidden": True}, "score": {"hidden": True}}
    fine = {"examUuid": EXAM, "afterComplete": hide_both}
    assert paths(tmp_path / "ok", exams(fine)) == {}


# ------------------------------------------------------------------ the assessment's reveals


def test_hidden_false_with_reveal_dates_is_an_error(tmp_path: Path) -> None:
    after = {
        "questions": {"hidden": False, "visibleUntilDate": "2024-04-01T00:00:00"},
        "score": {"hidden": False, "visibleFromDate": "2024-04-01T00:00:00"},
    }
    got = paths(tmp_path, {"accessControl": [{"afterComplete": after}]})
    assert set(got) == {
        "$.accessControl[0].afterComplete.questions.visibleUntilDate",
        "$.accessControl[0].afterComplete.score.visibleFromDate",
    }
    q = {"questions": {"hidden": False, "visibleFromDate": "2024-04-01T00:00:00"}}
    got = paths(tmp_path / "q", {"accessControl": [{"afterComplete": q}]})
    assert list(got) == ["$.accessControl[0].afterComplete.questions.visibleFromDate"]


def test_visible_until_date_alone_is_accepted(tmp_path: Path) -> None:
    after = {"questions": {"hidden": True, "visibleUntilDate": "2024-04-01T00:00:00"}}
    assert paths(tmp_path, {"accessControl": [{"dateControl": DC, "afterComplete": after}]}) == {}


def test_questions_revealed_before_or_at_the_due_date(tmp_path: Path) -> None:
    at_due = {"questions": {"hidden": True, "visibleFromDate": "2024-03-10T00:00:00"}}
    got = paths(tmp_path, {"accessControl": [{"dateControl": DC, "afterComplete": at_due}]})
    key = "$.accessControl[0].afterComplete.questions.visibleFromDate"
    assert list(got) == [key] and "last deadline" in got[key]
    after_due = {"questions": {"hidden": True, "visibleFromDate": "2024-03-10T00:00:01"}}
    assert paths(tmp_path / "ok", dated(DC, after_due)) == {}


def test_score_revealed_before_the_last_late_deadline(tmp_path: Path) -> None:
    after = {
        "questions": {"hidden": True},
        "score": {"hidden": True, "visibleFromDate": "2024-03-12T00:00:00"},
    }
    got = paths(tmp_path, {"accessControl": [{"dateControl": DC_LATE, "afterComplete": after}]})
    assert list(got) == ["$.accessControl[0].afterComplete.score.visibleFromDate"]


def test_an_override_that_reveals_before_its_own_deadline(tmp_path: Path) -> None:
    override = {
        "uuid": UUID1,
        "labels": ["lab-a"],
        "dateControl": {"due": {"date": "2024-03-20T00:00:00"}},
        "afterComplete": {"questions": {"hidden": True, "visibleFromDate": "2024-03-18T00:00:00"}},
    }
    got = paths(tmp_path, {"accessControl": [{"dateControl": DC}, override]})
    assert list(got) == ["$.accessControl[1].afterComplete.questions.visibleFromDate"]


def test_an_extension_past_an_inherited_reveal_is_accepted(tmp_path: Path) -> None:
    # As PrairieLearn checks it: each element against its own deadlines.
    after = {"questions": {"hidden": True, "visibleFromDate": "2024-03-12T00:00:00"}}
    override = {
        "uuid": UUID1,
        "labels": ["lab-a"],
        "dateControl": {"due": {"date": "2024-03-20T00:00:00"}},
    }
    cfg = {"accessControl": [{"dateControl": DC, "afterComplete": after}, override]}
    assert paths(tmp_path, cfg) == {}


def test_questions_revealed_while_the_score_is_hidden_forever(tmp_path: Path) -> None:
    after = {
        "questions": {"hidden": True, "visibleFromDate": "2024-04-01T00:00:00"},
        "score": {"hidden": True},
    }
    got = paths(tmp_path, {"accessControl": [{"dateControl": DC, "afterComplete": after}]})
    assert list(got) == ["$.accessControl[0].afterComplete.questions"]
    assert "hidden forever" in got["$.accessControl[0].afterComplete.questions"]


def test_inherited_reveal_with_an_override_hiding_the_score(tmp_path: Path) -> None:
    after = {"questions": {"hidden": True, "visibleFromDate": "2024-04-01T00:00:00"}}
    override = {"uuid": UUID1, "labels": ["lab-a"], "afterComplete": {"score": {"hidden": True}}}
    cfg = {"accessControl": [{"dateControl": DC, "afterComplete": after}, override]}
    got = paths(tmp_path, cfg)
    assert list(got) == ["$.accessControl[1]"]
    assert "hidden forever" in got["$.accessControl[1]"]


DATES = st.sampled_from(
    ["2024-03-05T00:00:00", "2024-03-10T00:00:00", "2024-03-12T00:00:00", "2024-03-20T00:00:00"]
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(reveal=DATES, late=st.booleans())
def test_property_a_reveal_is_refused_exactly_when_not_after_the_last_deadline(
    tmp_path_factory: Any, reveal: str, late: bool
) -> None:
    dc = DC_LATE if late else DC
    last = "2024-03-15T00:00:00" if late else "2024-03-10T00:00:00"
    after = {"questions": {"hidden": True, "visibleFromDate": reveal}}
    got = paths(tmp_path_factory.mktemp("c"), dated(dc, after))
    assert bool(got) == (reveal <= last)
