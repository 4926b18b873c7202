"""An instructor previews Exam mode from the pages (issue 15, class 7): the switch on "My
courses", what it changes for view-as, and that only instructors see and use it."""

from __future__ import annotations

from api_support import World
from web_support import CI, PageClient, text_of

from coursegate.core.instants import parse_date, zone

TZ = zone("America/Chicago")
QUIZ = CI + "/assessments/quizzes/quiz1"  # open in Public mode on Feb 6, 2024; not in Exam mode


def test_an_instructor_switches_their_session_to_exam_mode_and_back(world: World) -> None:
    world.clock.now = parse_date("2024-02-06T10:00", TZ)[0]
    prof = PageClient(world, "instructor")
    page = text_of(prof.get("/courses").text)
    assert "Your session is in Public mode" in page and "Preview Exam mode" in page
    # in Public mode, viewing as Ana shows her the quiz
    assert prof.post(CI + "/staff/view-as", {"uid": "ana@example.edu"}).status_code == 303
    assert prof.get(QUIZ).status_code == 200
    assert prof.post("/view-as/stop").status_code == 303
    done = prof.follow(prof.post("/session/mode", {"mode": "Exam"}))
    assert "Your session is in Exam mode" in text_of(done.text)
    assert "Back to Public mode" in text_of(done.text)
    # in Exam mode she would not have it in the testing centre: it is not in her list
    assert prof.post(CI + "/staff/view-as", {"uid": "ana@example.edu"}).status_code == 303
    seen = prof.get(QUIZ)
    assert seen.status_code == 404 and "is not in your list" in text_of(seen.text)
    assert prof.post("/view-as/stop").status_code == 303
    back = prof.follow(prof.post("/session/mode", {"mode": "Public"}))
    assert "Your session is in Public mode again" in text_of(back.text)


def test_students_and_tas_neither_see_nor_use_the_switch(world: World) -> None:
    for persona in ("student", "ta"):
        c = PageClient(world, persona)
        assert "Preview Exam mode" not in c.get("/courses").text
        refused = c.post("/session/mode", {"mode": "Exam"})
        assert refused.status_code == 403, (persona, refused.text[:300])
        assert "only instructors may switch their session to Exam mode" in text_of(refused.text)
