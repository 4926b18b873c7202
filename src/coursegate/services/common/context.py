"""Who is acting, when, and in which transaction: what every use case receives.

``actor`` is the real user; ``acting_as`` is the effective one (they differ while an
instructor or TA "views as" a student). Privileges are checked for the effective user; history
records both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from coursegate.core.instants import Instant, from_instant
from coursegate.core.model import canonical_uid
from coursegate.services.common.errors import NotFound
from coursegate.store.models import User

SYSTEM = "system"
"""The actor for jobs and command-line administration run by the operator."""


@dataclass(frozen=True)
class Ctx:
    session: Session
    actor: str
    at: Instant
    acting_as: str | None = None
    acting_in: int | None = None
    """While viewing as someone: the course instance view-as is confined to."""

    @property
    def effective(self) -> str:
        return self.acting_as or self.actor

    @property
    def viewing_as(self) -> bool:
        return self.acting_as is not None and self.acting_as != self.actor

    def is_self(self, uid: str, course_instance_id: int | None) -> bool:
        """Whether ``uid``'s own data in that course instance is this request's own: the real
        user, or — while viewing as someone — the viewed user within the viewed course
        instance only (view-as never reaches the viewed user's other courses)."""
        if not self.viewing_as:
            return uid == self.actor
        return (
            uid == self.acting_as
            and course_instance_id is not None
            and course_instance_id == self.acting_in
        )

    @property
    def at_datetime(self) -> datetime:
        return from_instant(self.at)

    @property
    def is_system(self) -> bool:
        return self.actor == SYSTEM and self.acting_as is None

    def user(self, uid: str, field: str = "uid") -> User:
        found = find_user(self.session, uid)
        if found is None:
            raise NotFound(f"there is no user {uid!r}", field)
        return found


def find_user(session: Session, typed: str) -> User | None:
    """The user a user id read from input names, by its canonical form
    (:func:`coursegate.core.model.canonical_uid`: an email-shaped id in any case). A stored id
    exactly as typed wins: two users whose ids differ only by case (a clash migration 0008
    left alone and ``coursegate db uid-clashes`` reports) each stay reachable by their own."""
    exact = typed.strip()
    wanted = canonical_uid(exact)
    forms = [exact] if wanted == exact else [exact, wanted]
    found = {u.uid: u for u in session.scalars(select(User).where(User.uid.in_(forms)))}
    return found.get(exact) or found.get(wanted)
