"""The API's routers, one module per subject. ``ROUTERS`` is what the application includes."""

from __future__ import annotations

from coursegate.api.policy import Routes
from coursegate.api.routes import (
    accounts,
    attempts,
    auth,
    calendar,
    decisions,
    enrollment,
    exceptions,
    history,
    reservations,
    roles,
    students,
    users,
)

ROUTERS: list[Routes] = [
    auth.routes,
    users.routes,
    decisions.routes,
    students.routes,
    exceptions.routes,
    enrollment.routes,
    roles.routes,
    reservations.routes,
    attempts.routes,
    history.routes,
    calendar.routes,
    accounts.routes,
]
