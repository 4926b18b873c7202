"""API v1: each student's personal iCalendar feed, reachable by a secret link.

A calendar app cannot sign in, so the link is the credential: ``GET .../calendar-link`` (the
student, or staff with ``vst``) gives the URL, and ``GET /api/v1/calendar/{token}.ics`` answers
anyone who has it. The token is an HMAC under the server's secret (``COURSEGATE_SECRET_KEY``);
changing the secret revokes every link. The feed is decided when it is fetched, so it follows
the student's exceptions and sections as they change.
"""

from __future__ import annotations

from fastapi import Path, Request, Response
from pydantic import BaseModel, Field

from coursegate.http.deps import CALLER, Caller
from coursegate.http.policy import Routes, public, signed_in
from coursegate.services.access import calendar

routes = Routes(prefix="/api/v1", tags=["calendar"])

ICS = "text/calendar; charset=utf-8"


class CalendarLinkOut(BaseModel):
    url: str = Field(
        description="subscribe to this in a calendar app; anyone who has it can read the calendar",
        examples=["https://coursegate.example.edu/api/v1/calendar/3.17.q0Fh...ics"],
    )
    path: str = Field(examples=["/api/v1/calendar/3.17.q0Fh...ics"])
    uid: str
    course: str
    course_instance: str


@routes.get(
    "/courses/{course}/instances/{instance}/students/{uid}/calendar-link",
    policy=signed_in(
        "one's own calendar link; staff with vst anyone's (checked by the service)", secret=True
    ),
    response_model=CalendarLinkOut,
)
def calendar_link(
    course: str, instance: str, uid: str, request: Request, c: Caller = CALLER
) -> CalendarLinkOut:
    """The secret link of the student's personal calendar: releases, due dates, early and
    late deadlines, sessions and reveals, with their own exceptions."""
    secret = request.app.state.settings.secret()
    token = calendar.calendar_link_token(c.ctx, course, instance, uid, secret)
    path = f"/api/v1/calendar/{token}.ics"
    return CalendarLinkOut(
        url=str(request.base_url).rstrip("/") + path,
        path=path,
        uid=uid,
        course=course,
        course_instance=instance,
    )


@routes.get(
    "/calendar/{token}.ics",
    policy=public("the secret link is the credential (calendar apps cannot sign in)"),
    response_class=Response,
    responses={200: {"content": {"text/calendar": {"schema": {"type": "string"}}}}},
)
def calendar_feed(
    request: Request,
    token: str = Path(max_length=200, description="from .../calendar-link"),
    c: Caller = CALLER,
) -> Response:
    """The student's calendar (iCalendar, RFC 5545). 404 for a token that is wrong, tampered
    with, or revoked by a new server secret."""
    secret = request.app.state.settings.secret()
    ics = calendar.calendar_by_token(c.ctx, token, secret)
    return Response(ics, media_type=ICS)
