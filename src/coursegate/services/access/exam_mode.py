"""Which mode a request is in — ``Public`` or ``Exam`` — and why, as the seed defines it: Exam
when the student is on a computer in the testing-centre labs (a network of
:mod:`~coursegate.services.access.exam_networks`), when the user (an instructor) has switched
their own session to Exam mode (:mod:`coursegate.services.people.session_mode`), or — as before —
while a testing-centre reservation of theirs is in force.

The HTTP layer finds the first two for the request (:func:`request_mode`: the client address
and the session row are the request's; this module never reads a request) and hands the
answer to the services as a fact, a :class:`RequestMode`; the services add the reservation
(:func:`resolve`). The decision core decides given the :class:`~coursegate.core.model.Mode`
alone; :func:`explained` puts the reason first in the decision's explanation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, tzinfo

from sqlalchemy.orm import Session

from coursegate.core.decision import AssessmentDecision
from coursegate.core.instants import Instant, format_instant
from coursegate.core.model import Mode
from coursegate.services.access.exam_networks import network_for
from coursegate.services.access.reservations import reservation_in_force
from coursegate.services.common.context import Ctx
from coursegate.store.models import User

SESSION_REASON = "Exam mode: you switched your session to Exam mode"


@dataclass(frozen=True, slots=True)
class RequestMode:
    """A request's mode and, in Exam mode, the sentence that says why."""

    mode: Mode = Mode.PUBLIC
    why: str | None = None
    source: str = "default"
    """default | network | session | reservation"""

    @property
    def exam(self) -> bool:
        return self.mode is Mode.EXAM


PUBLIC = RequestMode()


def request_mode(
    session: Session,
    user: User | None,
    *,
    address: str,
    session_mode: str | None,
    at: Instant,
) -> RequestMode:
    """The mode the request itself puts ``user`` in: their session switched to Exam, or the
    client ``address`` on a testing-centre network of their domain (or site-wide) at ``at``;
    Public otherwise (reservations are added by :func:`resolve`)."""
    if user is None:
        return PUBLIC
    if session_mode == Mode.EXAM.value:
        return RequestMode(Mode.EXAM, SESSION_REASON, "session")
    found = network_for(session, address, user.domain_id, at)
    if found is not None:
        return RequestMode(
            Mode.EXAM,
            f"Exam mode: your computer is on the testing-centre network {found.name}"
            f" ({found.cidr})",
            "network",
        )
    return PUBLIC


def resolve(
    ctx: Ctx, user: User, given: RequestMode | None, tz: tzinfo | None = None
) -> RequestMode:
    """``given`` (the request's mode) when it is Exam; else Exam while a reservation of
    ``user``'s is in force; else Public."""
    if given is not None and given.exam:
        return given
    held = reservation_in_force(ctx, user)
    if held is None:
        return given or PUBLIC
    return RequestMode(
        Mode.EXAM,
        f"Exam mode: a reservation for exam {held.exam_uuid} is in force until"
        f" {format_instant(held.access_end, tz or UTC)}",
        "reservation",
    )


def explained(d: AssessmentDecision, mode: RequestMode) -> AssessmentDecision:
    """``d`` with the reason for Exam mode first in its explanation (Public: unchanged)."""
    if not mode.exam or mode.why is None or (d.explanation[:1] == (mode.why,)):
        return d
    return replace(d, explanation=(mode.why, *d.explanation))


__all__ = ["PUBLIC", "SESSION_REASON", "RequestMode", "explained", "request_mode", "resolve"]
