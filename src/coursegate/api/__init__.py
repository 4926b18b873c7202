"""The JSON API: one module of routes per subject (thin: parse, call a use case, render).

``ROUTERS`` is what :func:`coursegate.server.app.create_app` includes. The HTTP machinery the
routes stand on (who is calling, policies, errors, schemas) is :mod:`coursegate.http`.
"""

from __future__ import annotations

from coursegate.api import (
    attempts,
    auth,
    calendar,
    decisions,
    enrollment,
    exam_networks,
    exceptions,
    history,
    lti,
    reservations,
    roles,
    ssh_keys,
    students,
    users,
)
from coursegate.api.accounts import actions as accounts_actions
from coursegate.api.accounts import admin as accounts_admin
from coursegate.api.accounts import course as accounts
from coursegate.http.policy import Routes

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
    accounts_actions.routes,
    accounts_admin.routes,
    ssh_keys.routes,
    exam_networks.routes,
    lti.routes,
]
