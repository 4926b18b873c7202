"""The web pages: server-rendered, calling the same services as the API (nothing decides here).

Every page route declares its policy like the API's (:class:`coursegate.web.pages.Pages`);
errors on pages are pages (:mod:`coursegate.web.errors`); CSS, the small script and the
vendored htmx are served from ``/static``. See ``docs/web.md``.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles


def mount(app: FastAPI) -> None:
    """Add the pages' routes, their error pages and the static files to ``app``."""
    from coursegate.web import accounts, admin, auth, errors, lti, people, student
    from coursegate.web.pages import STATIC
    from coursegate.web.staff import exceptions as staff_exceptions
    from coursegate.web.staff import extensions as staff_extensions
    from coursegate.web.staff import matrix as staff_matrix
    from coursegate.web.staff import overview as staff
    from coursegate.web.staff import rules as staff_rules

    staff_pages = (staff, staff_rules, staff_matrix, staff_exceptions, staff_extensions)
    for module in (auth, student, *staff_pages, people, admin, accounts, lti):
        app.include_router(module.pages.router)
    errors.install(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
