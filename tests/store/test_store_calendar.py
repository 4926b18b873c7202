"""Each student's personal deadlines as an iCalendar file, and the secret link's token."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from icalendar import Calendar
from sqlalchemy import select
from store_support import Store
from test_store_decisions import (
    AT,
    COURSE,
    OTHER_TA,
    OUTSIDER,
    PROF,
    S0,
    S1,
    S2,
    SP24,
    TA,
    populate,
    t,
)

from coursegate.core.instants import from_instant
from coursegate.services.access.calendar import (
    calendar_token,
    student_calendar,
    verify_calendar_token,
)
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Refused
from coursegate.store.models import StudentOverride

NOW = t("2024-01-20T12:00")


@pytest.fixture
def db(store: Store) -> Store:
    store.system(AT, populate)
    return store


def ical(db: Store, who: str, uid: str | None = None) -> bytes:
    out = db.run(who, NOW, lambda c: student_calendar(c, COURSE, SP24, uid or who))
    assert isinstance(out, bytes)
    return out


def events(data: bytes) -> dict[str, Any]:
    """Summary without the assessment's title (``hw1 due (100%)`` of ``Logic gates — hw1 due
    (100%)``) → event of a parsed calendar (summaries are unique per student)."""
    cal = Calendar.from_ical(data)
    out: dict[str, Any] = {}
    for ev in cal.walk("VEVENT"):
        summary = str(ev["SUMMARY"]).split(" — ", 1)[-1]
        assert summary not in out, summary
        out[summary] = ev
    return out


def start(ev: Any) -> datetime:
    value = ev.decoded("DTSTART")
    assert isinstance(value, datetime)
    return value


def utc_of(local: str) -> datetime:
    return from_instant(t(local))


def test_calendar_parses_back_with_the_expected_events(db: Store) -> None:
    data = ical(db, S0)
    cal = Calendar.from_ical(data)
    assert str(cal["X-WR-TIMEZONE"]) == "America/Chicago"
    assert str(cal["VERSION"]) == "2.0" and "coursegate" in str(cal["PRODID"])
    evs = events(data)
    for summary, local in (
        ("hw1 opens", "2024-01-22T00:01"),
        ("hw1 early deadline (120%)", "2024-01-25T23:59"),
        ("hw1 early deadline (110%)", "2024-01-28T23:59"),
        ("hw1 due (100%)", "2024-01-29T23:59"),
        ("hw1 late deadline (80%)", "2024-01-31T23:59"),
        ("hw1 late deadline (50%)", "2024-02-05T23:59"),
        ("hw2 due (100%)", "2024-02-05T23:59"),
        ("hw2 late deadline (80%)", "2024-02-07T23:59"),
        ("exam1 due (100%)", "2024-02-15T22:00"),
        ("exam1 score visible", "2024-02-20T08:00"),
        ("exam1 questions visible", "2024-02-22T08:00"),
        ("quiz2 session 1 of 3 (100%)", "2024-03-26T09:50"),
        ("quiz2 session 3 of 3 (100%)", "2024-03-28T15:00"),
        ("exam4 questions and score hidden again", "2024-04-22T23:59"),
        ("quiz3 opens", "2024-04-22T14:00"),
    ):
        assert summary in evs, summary
        assert start(evs[summary]) == utc_of(local), summary
    # Times in UTC; the second session ends when it ends.
    assert all(start(ev).tzinfo is not None and start(ev).utcoffset() == UTC.utcoffset(None)
               for ev in evs.values())  # fmt: skip
    assert b"DTSTART:20240130T055900Z" in data
    assert evs["quiz2 session 2 of 3 (100%)"].decoded("DTEND") == utc_of("2024-03-27T14:10")
    # Testing-centre-only exams are not on it; nothing is dated twice for a due date.
    assert not any(s.startswith(("exam2", "final", "quiz2 due")) for s in evs)
    assert "America/Chicago" in str(evs["hw1 due (100%)"]["DESCRIPTION"])
    # Each summary leads with the assessment's title (issue 17).
    assert str(evs["hw1 due (100%)"]["SUMMARY"]) == "Logic gates — hw1 due (100%)"


def test_the_students_own_sections_and_exceptions(db: Store) -> None:
    s0, s1, s2 = events(ical(db, S0)), events(ical(db, S1)), events(ical(db, S2))
    assert start(s1["quiz3 opens"]) == utc_of("2024-04-23T14:00")  # lab-a meets on Tuesday
    assert start(s0["quiz3 opens"]) == utc_of("2024-04-22T14:00")
    assert start(s2["hw2 due (100%)"]) == utc_of("2024-02-10T23:59")  # the extension
    assert "hw2 late deadline (80%)" not in s2
    assert start(s0["hw2 due (100%)"]) == utc_of("2024-02-05T23:59")
    # UIDs are personal.
    assert str(s0["hw2 due (100%)"]["UID"]) != str(s2["hw2 due (100%)"]["UID"])


def test_uids_are_stable_when_an_exception_moves_a_date(db: Store) -> None:
    before = events(ical(db, S2))

    def extend(c: Ctx) -> None:
        row = c.session.scalars(
            select(StudentOverride).where(StudentOverride.user_id == c.user(S2).id)
        ).one()
        row.body = {"due": t("2024-02-12T23:59")}

    db.system(AT, extend)
    after = events(ical(db, S2))
    assert start(after["hw2 due (100%)"]) == utc_of("2024-02-12T23:59")
    assert str(after["hw2 due (100%)"]["UID"]) == str(before["hw2 due (100%)"]["UID"])
    assert {str(e["UID"]) for e in after.values()} == {str(e["UID"]) for e in before.values()}
    # And the same calendar twice is the same file.
    assert ical(db, S2) == ical(db, S2)


def test_who_may_fetch_a_calendar(db: Store) -> None:
    assert ical(db, PROF, S2) == ical(db, S2)
    assert ical(db, TA, S2) == ical(db, S2)
    for who in (S0, OTHER_TA, OUTSIDER):
        with pytest.raises(Refused):
            ical(db, who, S2)


def test_calendar_token() -> None:
    token = calendar_token("s2", 7, "k" * 32)
    assert token == calendar_token("s2", 7, b"k" * 32)
    assert len(token) == 43 and "=" not in token and "/" not in token and "+" not in token
    assert verify_calendar_token("s2", 7, "k" * 32, token)
    assert verify_calendar_token("s2", "7", "k" * 32, token)
    assert not verify_calendar_token("s0", 7, "k" * 32, token)
    assert not verify_calendar_token("s2", 8, "k" * 32, token)
    assert not verify_calendar_token("s2", 7, "other secret", token)
    assert not verify_calendar_token("s2", 7, "k" * 32, token[:-1] + "AB"[token[-1] == "A"])
    assert not verify_calendar_token("s2", 7, "k" * 32, "é" + token[1:])
    with pytest.raises(ValueError, match="secret"):
        calendar_token("s2", 7, "")
