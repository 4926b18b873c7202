"""Each student's personal deadlines as an iCalendar file (RFC 5545), and its secret link.

The events come from the student's own assessment list (:func:`decisions.course_of`), which reads
them off the student's own timelines: their sections, their exceptions and the course instance's
dates are all included, and nothing is read from the files. One event per date the student
actually has:

* ``hw1 opens`` — the start of the credited window (when there is one window);
* ``hw1 early deadline (120%)``, ``hw1 due (100%)``, ``hw1 late deadline (80%)`` — each the
  instant that credit ends;
* ``quiz2 session 1 of 3 (100%)`` — one event per window when credit comes in several windows
  (sessions), from its start to its end;
* ``exam1 score visible``, ``exam4 questions and score hidden again`` — reveals after completion.

Each event's ``SUMMARY`` leads with the assessment's title, as students know it:
``Binary numbers — hw1 due (100%)`` (an assessment without a title: ``hw1 due (100%)``). The
page ``/courses/.../calendar`` shows the same events: the coming ones (the past on request) or a
month (:func:`month_weeks`).

Times are written in UTC (``...Z``); the course's zone is named in ``X-WR-TIMEZONE`` and every
description gives the local wall time. UIDs are derived from the course, the course instance, the
student, the assessment and the kind of date (never from the date itself), so when an exception
moves a due date, a subscribed calendar moves the event instead of adding a second one.

The secret link (``GET /api/v1/calendar/{token}.ics``) carries :func:`calendar_token`, an
HMAC-SHA256 of the user and the course instance under a secret from configuration;
:func:`verify_calendar_token` checks it in constant time (:func:`calendar_link_token` and
:func:`calendar_by_token` are what the server calls). Changing the secret revokes every link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, timedelta, tzinfo

from icalendar import Calendar, Event

from coursegate.core.instants import MAX_INSTANT, MIN_INSTANT, Instant, format_wall, from_instant
from coursegate.services.access.decisions.student import StudentAssessment, StudentCourse, course_of
from coursegate.services.access.view_permissions import require_view_student
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import NotFound
from coursegate.services.common.places import find_course_instance
from coursegate.store.models import CourseInstance, User

PRODID = "-//coursegate//personal deadlines//EN"
UID_DOMAIN = "coursegate"


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """One dated event of a student's calendar (``end`` equals ``start`` for a deadline)."""

    key: str
    """What the event is, independent of its date (``due``, ``late-2``, ``session-1``...)."""
    aid: str
    title: str
    """The assessment's title (its short name when it has none): ``Binary numbers``."""
    what: str
    """The event without the title: ``hw1 due (100%)``."""
    summary: str
    """The calendar's text, title first: ``Binary numbers — hw1 due (100%)``."""
    start: Instant
    end: Instant
    description: str

    def is_past(self, at: Instant) -> bool:
        """Over at ``at`` (a session still running is not)."""
        return self.end < at


def short_name(aid: str) -> str:
    """``hw1`` for ``hw/hw1``: the last part of the assessment id."""
    return aid.rstrip("/").rsplit("/", 1)[-1]


def _pct(credit: float) -> str:
    return f"{credit:g}%"


def event_summary(title: str, what: str) -> str:
    """``Binary numbers — hw1 due (100%)``; without a title (or one that is the short name
    itself), ``hw1 due (100%)``."""
    title = title.strip()
    if not title or what.startswith(title + " "):
        return what
    return f"{title} — {what}"


def assessment_events(item: StudentAssessment, tz: tzinfo, where: str) -> list[CalendarEvent]:
    """The dated events of one line of a student's assessment list."""
    s = item.schedule
    name = short_name(item.aid)
    title = item.title.strip() or name
    about = f"{item.title} ({item.set_name} {item.number}), {where}".replace(" ()", "")
    out: list[CalendarEvent] = []

    def add(key: str, summary: str, start: Instant, end: Instant | None = None) -> None:
        stop = start if end is None else end
        local = format_wall(start, tz)
        if end is not None and end != start:
            local += f" to {format_wall(end, tz)}"
        out.append(
            CalendarEvent(
                key=key,
                aid=item.aid,
                title=title,
                what=summary,
                summary=event_summary(item.title, summary),
                start=start,
                end=stop,
                description=f"{about}. {local} ({tz}, the course's time zone).",
            )
        )

    if len(s.windows) > 1:
        best = {w: max(b.credit for b in s.bands if w[0] <= b.start < w[1]) for w in s.windows}
        for n, w in enumerate(s.windows, start=1):
            if w[0] > MIN_INSTANT and w[1] < MAX_INSTANT:
                label = f"{name} session {n} of {len(s.windows)} ({_pct(best[w])})"
                add(f"session-{n}", label, w[0], w[1])
    elif s.release is not None:
        add("release", f"{name} opens", s.release)
    for n, (at, credit) in enumerate(s.early, start=1):
        add(f"early-{n}", f"{name} early deadline ({_pct(credit)})", at)
    if s.due is not None and s.due_credit is not None and len(s.windows) <= 1:
        add("due", f"{name} due ({_pct(s.due_credit)})", s.due)
    for n, (at, credit) in enumerate(s.late, start=1):
        add(f"late-{n}", f"{name} late deadline ({_pct(credit)})", at)
    for n, r in enumerate(s.reveals, start=1):
        word = "visible" if r.visible else "hidden again"
        add(f"reveal-{n}", f"{name} {r.what} {word}", r.at)
    return out


def events_of(course: StudentCourse) -> list[CalendarEvent]:
    """Every event of a student's course, in date order."""
    where = f"{course.course} {course.course_instance}"
    events = [e for item in course.assessments for e in assessment_events(item, course.tz, where)]
    events.sort(key=lambda e: (e.start, e.aid, e.key))
    return events


def upcoming(events: list[CalendarEvent], at: Instant) -> list[CalendarEvent]:
    """The events not over at ``at`` (what the calendar page shows unless asked for the past)."""
    return [e for e in events if not e.is_past(at)]


@dataclass(frozen=True, slots=True)
class CalendarDay:
    """One day of a month's grid: its date (``None`` for the padding before the first and
    after the last day) and the events that start on it, in the course's zone."""

    day: date | None
    events: tuple[CalendarEvent, ...] = ()


def month_weeks(
    events: list[CalendarEvent], year: int, month: int, tz: tzinfo
) -> list[list[CalendarDay]]:
    """The month as weeks of seven days, Sunday first (as US course calendars and Canvas show
    them), each day with the events starting on it (wall time in ``tz``)."""
    first = date(year, month, 1)
    after = date(year + (month == 12), month % 12 + 1, 1)
    on: dict[date, list[CalendarEvent]] = {}
    for e in events:
        d = from_instant(e.start).astimezone(tz).date()
        if first <= d < after:
            on.setdefault(d, []).append(e)
    days = [CalendarDay(None)] * ((first.weekday() + 1) % 7)  # Monday is 0; Sunday leads
    d = first
    while d < after:
        days.append(CalendarDay(d, tuple(on.get(d, ()))))
        d += timedelta(days=1)
    days += [CalendarDay(None)] * (-len(days) % 7)
    return [days[i : i + 7] for i in range(0, len(days), 7)]


def event_uid(course: StudentCourse, event: CalendarEvent) -> str:
    """Stable across syncs, exceptions and databases: no date and no database id goes in."""
    parts = (course.course, course.course_instance, course.uid, event.aid, event.key)
    digest = hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]
    return f"{digest}@{UID_DOMAIN}"


def to_ical(course: StudentCourse, stamp: Instant) -> bytes:
    """The iCalendar file of a student's course; ``stamp`` is the ``DTSTAMP`` (now)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    title = f"{course.course} {course.course_instance}: deadlines of {course.name or course.uid}"
    cal.add("x-wr-calname", title)
    cal.add("x-wr-timezone", str(course.tz))
    cal.add(
        "x-wr-caldesc",
        f"Personal deadlines of {course.uid}, with their own exceptions. Times are in UTC;"
        f" the course's time zone is {course.tz}.",
    )
    dtstamp = from_instant(stamp)
    for e in events_of(course):
        ev = Event()
        ev.add("uid", event_uid(course, e))
        ev.add("dtstamp", dtstamp)
        ev.add("summary", e.summary)
        ev.add("dtstart", from_instant(e.start))
        ev.add("dtend", from_instant(e.end))
        ev.add("description", e.description)
        ev.add("transp", "TRANSPARENT")
        ev.add("categories", [course.course])
        cal.add_component(ev)
    data: bytes = cal.to_ical()
    return data


def student_calendar(ctx: Ctx, course: str, course_instance: str, uid: str) -> bytes:
    """The student's personal deadlines in ``course_instance`` as an iCalendar file.

    Who may: the student (the effective user), or anyone with ``vst`` on the course instance.
    """
    ci = find_course_instance(ctx, course, course_instance)
    require_view_student(ctx, ci, uid)
    user = ctx.user(uid)
    return to_ical(course_of(ctx, ci, user, ctx.at), ctx.at)


# -- the secret link --------------------------------------------------------------------------


def _key(secret: str | bytes) -> bytes:
    key = secret.encode() if isinstance(secret, str) else secret
    if not key:
        raise ValueError("the calendar secret is empty: set one in the configuration")
    return key


def calendar_token(user_uid: str, course_instance_id: int | str, secret: str | bytes) -> str:
    """The secret-link token of one user's calendar of one course instance (URL-safe)."""
    msg = f"coursegate-calendar\x00{user_uid}\x00{course_instance_id}".encode()
    digest = hmac.new(_key(secret), msg, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def verify_calendar_token(
    user_uid: str, course_instance_id: int | str, secret: str | bytes, token: str
) -> bool:
    """Whether ``token`` is the calendar token of this user and course instance (constant
    time)."""
    expected = calendar_token(user_uid, course_instance_id, secret).encode("ascii")
    return hmac.compare_digest(expected, token.encode("utf-8", "replace"))


# -- the link, and the feed it opens ----------------------------------------------------------
#
# A calendar app sends nothing but the URL, so the link names its calendar itself:
# ``<course instance id>.<user id>.<token>``, where the token is :func:`calendar_token` of the
# user's uid and the course instance. Ids, not the uid, so an email address never travels in a
# URL that people paste into other services.


def calendar_link_token(
    ctx: Ctx, course: str, course_instance: str, uid: str, secret: str | bytes
) -> str:
    """The secret-link token of ``uid``'s calendar in ``course_instance`` (the student
    themself, or anyone with ``vst`` there, may have it)."""
    ci = find_course_instance(ctx, course, course_instance)
    require_view_student(ctx, ci, uid)
    user = ctx.user(uid)
    return f"{ci.id}.{user.id}.{calendar_token(user.uid, ci.id, secret)}"


def calendar_by_token(ctx: Ctx, token: str, secret: str | bytes) -> bytes:
    """The calendar a secret-link token opens, as its student sees it at ``ctx.at``.

    Raises :class:`NotFound` — the same answer whatever is wrong — for a token that was not
    made with this secret (tampered, or the secret changed), or whose user or course instance
    no longer exists or whose account is locked."""
    missing = NotFound("there is no calendar at this link (it may have been revoked)", "token")
    ci_part, _, rest = token.partition(".")
    user_part, _, mac = rest.partition(".")
    if not (ci_part.isdigit() and user_part.isdigit() and mac) or len(token) > 200:
        raise missing
    ci = ctx.session.get(CourseInstance, int(ci_part))
    user = ctx.session.get(User, int(user_part))
    if ci is None or user is None or user.status == "locked":
        raise missing
    if not verify_calendar_token(user.uid, ci.id, secret, mac):
        raise missing
    as_student = Ctx(ctx.session, user.uid, ctx.at)
    return to_ical(course_of(as_student, ci, user, ctx.at), ctx.at)
