"""The student's calendar page (issue 17, item 7): assessment titles, the past hidden unless
asked for, a month as a grid with the months around it; the iCal feed with the same titles."""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from api_support import World
from web_support import CI, PageClient, text_of

from coursegate.core.instants import parse_date
from coursegate.services.access.calendar import CalendarEvent, event_summary, month_weeks

TZ = ZoneInfo("America/Chicago")


def test_the_list_shows_titles_and_hides_the_past_until_asked(world: World, pages: Any) -> None:
    world.clock.now = parse_date("2024-01-30T12:00", TZ)[0]  # after hw1's due date
    ana: PageClient = pages("ana@example.edu")
    page = ana.get(CI + "/calendar").text
    shown = text_of(page)
    assert "Coming dates" in shown
    assert "Binary numbers hw2 due (100%)" in shown  # the title, then the date
    assert "hw1 opens" not in shown and "hw1 due (100%)" not in shown  # over by now
    assert "hw1 late deadline (80%)" in shown  # Jan 31: still to come
    m = re.search(r'<a href="([^"]+)">Show past \((\d+)\)</a>', page)
    assert m is not None and int(m.group(2)) >= 2
    every = ana.get(m.group(1).replace("&amp;", "&")).text
    assert "Every date" in text_of(every) and "Logic gates hw1 due (100%)" in text_of(every)
    assert "Hide past" in every and 'class="ended"' in every


def test_the_month_view_is_a_table_with_the_months_around_it(world: World, pages: Any) -> None:
    ana: PageClient = pages("ana@example.edu")
    r = ana.get(CI + "/calendar?view=month&month=2024-02")
    assert r.status_code == 200
    page = r.text
    assert "<caption>February 2024" in page
    assert page.count('<th scope="col">') == 7
    assert '<span class="sr-only">Sunday</span><span aria-hidden="true">Sun</span>' in page
    assert "month=2024-01" in page and "month=2024-03" in page  # previous and next
    # Feb 5, 2024 is a Monday: the second cell of the first week is Feb 1 (a Thursday).
    first_week = page.split("<tr>")[2].split("</tr>")[0]
    assert first_week.count('class="pad"') == 4 and "Thursday, February 1" in first_week
    feb5 = page.split("Monday, February 5")[1].split("</td>")[0]
    assert "Binary numbers" in feb5 and "hw2 due (100%)" in feb5 and "23:59" in feb5
    # The month of "now" by default (the demo clock: Jan 24, 2024), today marked.
    now = ana.get(CI + "/calendar?view=month").text
    assert "<caption>January 2024" in now and 'aria-current="date"' in now


def test_a_month_that_is_not_one_is_a_sentence(pages: Any) -> None:
    r = pages("ana@example.edu").get(CI + "/calendar?month=2024-13")
    assert r.status_code == 422 and "is not a month" in r.text


def test_the_feed_uses_the_same_titles(world: World, pages: Any) -> None:
    dan: PageClient = pages("dan@example.edu")
    page = dan.get(CI + "/calendar").text
    m = re.search(r'id="calendar-url" type="text" readonly value="([^"]+)"', page)
    assert m is not None
    ics = pages().get(m.group(1).removeprefix("https://testserver")).text
    assert "SUMMARY:Binary numbers — hw2 due (100%)" in ics
    assert "Binary numbers hw2 due (100%)" in text_of(page)


def test_a_summary_leads_with_the_title() -> None:
    assert event_summary("Binary numbers", "hw1 due (100%)") == "Binary numbers — hw1 due (100%)"
    assert event_summary("", "hw1 due (100%)") == "hw1 due (100%)"
    assert event_summary("hw1", "hw1 due (100%)") == "hw1 due (100%)"


def test_month_weeks_are_sundays_to_saturdays_with_each_event_on_its_local_day() -> None:
    late = parse_date("2024-03-31T23:30", TZ)[0]  # 05:30 UTC on April 1
    e = CalendarEvent("due", "hw/x", "X", "x due (100%)", "X — x due (100%)", late, late, "")
    weeks = month_weeks([e], 2024, 3, TZ)
    assert all(len(w) == 7 for w in weeks) and len(weeks) == 6
    assert weeks[0][5].day == date(2024, 3, 1)  # a Friday
    days = [d for w in weeks for d in w if d.day is not None]
    assert [d.day.day for d in days] == list(range(1, 32))
    assert days[-1].events == (e,) and all(not d.events for d in days[:-1])
    assert month_weeks([e], 2024, 4, TZ)[0][1].events == ()  # not on April 1
