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
    from coursegate.web import accounts, admin, auth, errors, people, staff, student
    from coursegate.web.pages import STATIC

    for module in (auth, student, staff, people, admin):
        app.include_router(module.pages.router)
    if accounts.available():  # the class-accounts package is there
        app.include_router(accounts.pages.router)
    errors.install(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
