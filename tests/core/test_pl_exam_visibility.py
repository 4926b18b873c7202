"""Issue 15, class 1: visibility in Exam mode through a linked PrairieTest exam.

PrairieLearn: while a student is in Exam mode through a linked exam (a reservation in force),
the assessment's own ``afterComplete`` does not apply; the link's ``afterComplete`` does, and
without one questions and score are visible once the attempt is finished. A ``readOnly`` link
is a review of a closed attempt and shows everything. Outside Exam mode nothing changes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from coursegate.courses.convert import convert_file
from helpers import assess

EXAM = "11e89892-3eff-4d7f-90a2-221372f14e5c"
REVIEW = "896c088c-7468-4045-965b-e8ae134086c2"
RES = [
    {"exam_uuid": EXAM, "access_start": "2024-02-01T09:00", "access_end": "2024-02-01T11:00"},
    {"exam_uuid": REVIEW, "access_start": "2024-02-08T09:00", "access_end": "2024-02-08T10:00"},
]
HIDE_BOTH = {"questions": {"hidden": True}, "score": {"hidden": True}}
CLOSED = {"open": False}


def modern(link: dict[str, Any], after: dict[str, Any] | None = HIDE_BOTH) -> dict[str, Any]:
    defaults: dict[str, Any] = {"integrations": {"prairieTest": {"exams": [link]}}}
    if after is not None:
        defaults["afterComplete"] = after
    return {"accessControl": [defaults]}


def in_exam(cfg: dict[str, Any], at: str = "2024-02-01T10:00") -> dict[str, Any]:
    return assess(cfg, at, mode="Exam", reservations=RES, instance=CLOSED)


def test_link_without_after_complete_shows_questions_and_score() -> None:
    d = in_exam(modern({"examUuid": EXAM}))
    assert d["access"] and d["complete"]
    assert d["questions_visible"] and d["score_visible"]


def test_the_links_after_complete_applies_not_the_assessments() -> None:
    # The link hides the questions only: the score shows, although the assessment hides it.
    d = in_exam(modern({"examUuid": EXAM, "afterComplete": {"questions": {"hidden": True}}}))
    assert not d["questions_visible"] and d["score_visible"]
    # The assessment shows everything, the link hides both: hidden.
    hide = {"examUuid": EXAM, "afterComplete": HIDE_BOTH}
    d = in_exam(modern(hide, after={"questions": {"hidden": False}}))
    assert not d["questions_visible"] and not d["score_visible"]
    assert any("testing-centre exam" in line for line in d["explanation"])


def test_read_only_link_shows_everything() -> None:
    d = in_exam(modern({"examUuid": REVIEW, "readOnly": True}), at="2024-02-08T09:30")
    assert d["access"] and d["read_only"] and not d["submittable"]
    assert d["questions_visible"] and d["score_visible"]


def test_outside_exam_mode_the_assessments_after_complete_still_applies() -> None:
    cfg = modern({"examUuid": EXAM})
    d = assess(cfg, "2024-02-05T10:00", instance=CLOSED)
    assert d["access"] and d["complete"]
    assert not d["questions_visible"] and not d["score_visible"]


def test_rfc_form_keeps_its_hide_settings_in_exam_mode() -> None:
    # The RFC: hideQuestionsAfterCompletion "continue[s] to apply to PrairieTest exams".
    cfg = {
        "accessControl": {
            "published": True,
            "hideQuestionsAfterCompletion": True,
            "prairieTest": [{"examUuid": EXAM}],
        }
    }
    d = in_exam(cfg)
    assert not d["questions_visible"] and d["score_visible"]


REVEAL_DATES = st.sampled_from([None, "2024-01-20T00:00", "2024-03-01T00:00"])


@st.composite
def assessment_after_complete(draw: st.DrawFn) -> dict[str, Any]:
    """Any valid assessment-level afterComplete (a hidden score needs hidden questions)."""
    score_hidden = draw(st.booleans())
    q: dict[str, Any] = {"hidden": draw(st.booleans()) or score_hidden}
    s: dict[str, Any] = {"hidden": score_hidden}
    if q["hidden"] and (qd := draw(REVEAL_DATES)) is not None:
        q["visibleFromDate"] = qd
    if score_hidden:
        sd = draw(REVEAL_DATES)
        if sd is None:  # the score stays hidden: so do the questions
            q.pop("visibleFromDate", None)
        else:  # the score is revealed no later than the questions
            s["visibleFromDate"] = sd
            q["visibleFromDate"] = max(q.get("visibleFromDate", sd), sd)
    return {"questions": q, "score": s}


@settings(max_examples=25, deadline=None)
@given(
    after=assessment_after_complete(),
    read_only=st.booleans(),
    at=st.sampled_from(["2024-02-01T09:00", "2024-02-01T10:59:59"]),
)
def test_property_in_exam_mode_the_assessments_after_complete_never_hides(
    after: dict[str, Any], read_only: bool, at: str
) -> None:
    """Whatever the assessment's own afterComplete says, a student finished in Exam mode
    through a link without afterComplete (or a readOnly link) sees questions and score."""
    link: dict[str, Any] = {"examUuid": EXAM, "readOnly": read_only}
    d = assess(
        modern(link, after=after),
        at,
        mode="Exam",
        reservations=[{**RES[0], "exam_uuid": EXAM}],
        instance=CLOSED,
    )
    assert d["access"] and d["questions_visible"] and d["score_visible"]


def test_convert_carries_a_legacy_exam_rules_hiding_onto_the_link(tmp_path: Path) -> None:
    """``coursegate convert``: the link's afterComplete now decides in Exam mode, so a legacy
    examUuid rule that hides closed attempts converts to a link that hides them."""
    f = tmp_path / "infoAssessment.json"
    rule = {"mode": "Exam", "examUuid": EXAM, "credit": 100, "showClosedAssessment": False}
    f.write_text(json.dumps({"title": "x", "allowAccess": [rule]}))
    report = convert_file(f)
    assert report is not None and report.proposal is not None
    (link,) = report.proposal.access_control[0]["integrations"]["prairieTest"]["exams"]
    assert link["afterComplete"] == {"questions": {"hidden": True}}
    in_exam = [d for d in report.student_differences if "reservation" in d.who]
    assert in_exam == [], [d.render(report.tz) for d in in_exam]
