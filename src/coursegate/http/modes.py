"""The request's mode (Public or Exam) and why, found at the edge: the client address (behind
a trusted proxy only when the deployment names its header, :func:`client_address`) on a
testing-centre network, or the session (or API token) an instructor switched to Exam mode.
The services receive the answer as a fact
(:class:`~coursegate.services.access.exam_mode.RequestMode`) and never read the request."""

from __future__ import annotations

from fastapi import Request

from coursegate.http.client import client_address
from coursegate.http.deps import Caller
from coursegate.services.access.exam_mode import PUBLIC, RequestMode, request_mode
from coursegate.services.people.session_mode import holds_instructor_role


def mode_of_request(request: Request, c: Caller) -> RequestMode:
    """The mode the request puts the effective user (the student, or whom staff view as) in."""
    if not c.signed_in:
        return PUBLIC
    row = c.web_session if c.web_session is not None else c.token
    viewing = c.ctx.acting_as is not None and c.ctx.acting_as != c.ctx.actor
    switched = None if row is None else row.mode
    if row is not None and switched is not None and not holds_instructor_role(c.ctx, row.user_id):
        switched = None  # the switch lasts only while its holder is still an instructor
    return request_mode(
        c.ctx.session,
        c.ctx.user(c.ctx.effective) if viewing else c.user,
        address=client_address(request),
        session_mode=switched,
        at=c.ctx.at,
    )
