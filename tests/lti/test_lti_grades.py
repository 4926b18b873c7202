"""Scores to the LMS's gradebook (Assignment and Grade Services 2.0) over HTTP against the test
LMS: columns made once, a changed score sent once, 429/5xx tried again later, only the newest
score of a student ever sent, a failed one resent on demand, students kept out."""

from __future__ import annotations

from typing import Any

from lti_support import Lms
from sqlalchemy import select
from test_lti_contexts import _link

from coursegate.lti.grades import Attempt, next_try, score_message
from coursegate.store.models import Assessment, AssessmentInstance, LtiScore, User

GRADES = "/lti/contexts/1/grades"


def _staff(lms: Lms) -> Any:
    b = lms.browser()
    _link(lms, browser=b)
    jwks = lms.browser().get("/lti/jwks").json()
    lms.platform.tool_jwks = lambda: jwks
    assert lms.launch("learner").status_code == 303  # Lea is linked and enrolled
    return b


def _post(b: Any, action: str) -> Any:
    page = b.get(GRADES)
    token = page.text.split('name="csrf_token" value="')[1].split('"', maxsplit=1)[0]
    return b.post(GRADES, data={"csrf_token": token, "action": action})


def _score(lms: Lms, percent: float, *, open_: bool = False) -> None:
    """Lea's attempt at hw/hw1, as the attempts service leaves it."""
    with lms.world.ctx() as ctx:
        s = ctx.session
        user = s.scalars(select(User).where(User.uid == "lea@lms.example.edu")).one()
        hw1 = s.scalars(select(Assessment).where(Assessment.aid == "hw/hw1")).first()
        assert hw1 is not None
        inst = s.scalars(
            select(AssessmentInstance).where(
                AssessmentInstance.user_id == user.id, AssessmentInstance.assessment_id == hw1.id
            )
        ).one_or_none()
        if inst is None:
            inst = AssessmentInstance(
                assessment_id=hw1.id, user_id=user.id, number=1, started_at=ctx.at
            )
            s.add(inst)
        inst.open = open_
        inst.closed_at = None if open_ else ctx.at
        inst.score_percent = percent
    lms.world.clock.now += 1_000_000


def test_columns_then_a_score_sent_once(lms: Lms) -> None:
    b = _staff(lms)
    assert _post(b, "columns").status_code == 303
    columns = len(lms.platform.line_items)
    assert columns >= 3
    assert {i["resourceId"] for i in lms.platform.line_items.values()} >= {"hw/hw1", "hw/hw2"}
    _post(b, "columns")
    assert len(lms.platform.line_items) == columns  # made once
    _score(lms, 85)
    assert _post(b, "send").status_code == 303
    [sent] = lms.platform.scores
    assert sent["userId"] == "sub-learner" and sent["scoreGiven"] == 85
    assert (sent["activityProgress"], sent["gradingProgress"]) == ("Completed", "FullyGraded")
    _post(b, "send")
    assert len(lms.platform.scores) == 1  # unchanged: not sent again
    assert "sent" in b.get(GRADES).text


def test_a_refused_score_is_tried_later_and_only_the_newest_is_sent(lms: Lms) -> None:
    b = _staff(lms)
    _post(b, "columns")
    _score(lms, 70)
    lms.platform.refuse_scores = [503]
    _post(b, "send")
    assert lms.platform.scores == []
    assert "tried 1" in b.get(GRADES).text
    _score(lms, 95)  # a newer score before the next try
    _post(b, "send")  # the first try's wait is not over: nothing sent
    lms.world.clock.now += 60 * 1_000_000
    _post(b, "send")
    assert [s["scoreGiven"] for s in lms.platform.scores] == [95]  # 70 never follows 95
    with lms.world.ctx() as ctx:
        states = sorted(ctx.session.scalars(select(LtiScore.status)))
    assert states == ["sent", "superseded"]


def test_a_score_the_lms_rejects_fails_and_can_be_resent(lms: Lms) -> None:
    b = _staff(lms)
    _post(b, "columns")
    _score(lms, 60)
    lms.platform.refuse_scores = [400]
    _post(b, "send")
    assert "failed" in b.get(GRADES).text
    _post(b, "resend")
    assert [h["scores"] for h in lms.history("lti.scores_resent")] == [1]
    _post(b, "send")
    assert [s["scoreGiven"] for s in lms.platform.scores] == [60]


def test_the_servers_job_sends_changed_scores(lms: Lms) -> None:
    from coursegate.server.jobs import run_lti_jobs

    b = _staff(lms)
    _post(b, "columns")
    _score(lms, 77)
    from coursegate.services.lti.tokens import PlatformTokens

    lms.world.app.state.lti_platform_tokens = PlatformTokens()  # none kept from the pages
    report = run_lti_jobs(lms.world.app)
    assert report == {
        "scores": {"sent": 1, "waiting": 0, "failed": 0},
        "rosters": {"synced": 1, "failed": 0},  # the linked course, never synced before
    }
    assert [s["scoreGiven"] for s in lms.platform.scores] == [77]
    again = run_lti_jobs(lms.world.app)  # within the day: the roster is not synced again
    assert again == {
        "scores": {"sent": 0, "waiting": 0, "failed": 0},
        "rosters": {"synced": 0, "failed": 0},
    }


def test_students_may_not_see_or_send(lms: Lms) -> None:
    _staff(lms)
    student = lms.browser()
    r = lms.launch("learner", browser=student)
    student.cookies.update(r.cookies)
    assert student.get(GRADES).status_code == 403


def test_the_score_message_and_the_back_off() -> None:
    assert score_message([]) is None
    m = score_message([Attempt(False, 40.0, 5), Attempt(True, 90.0, 9)])
    assert m is not None and m.score_given == 90.0 and m.activity_progress == "Started"
    assert m.grading_progress == "Pending" and m.timestamp == 9
    waits = [next_try(t, 0) for t in range(1, 10)]
    assert waits[0] == 30_000_000 and waits[1] == 60_000_000
    assert all(w is None or w <= 3600_000_000 for w in waits) and waits[-1] is None
