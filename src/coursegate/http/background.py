"""What a request leaves for after it commits: the class-account wipes it started and the mail it
queued, run against the server's class-account site (built once from the settings)."""

from __future__ import annotations

from fastapi import BackgroundTasks, FastAPI, Request

from coursegate.services.accounts import mail, wipe
from coursegate.services.accounts.site import Site


def site_of(request: Request) -> Site:
    """The site settings of the running server (built once)."""
    return site_of_app(request.app)


def site_of_app(app: FastAPI) -> Site:
    state = app.state
    site: Site | None = getattr(state, "accounts_site", None)
    if site is None:
        site = Site.from_settings(state.settings)
        state.accounts_site = site
    return site


def after_commit(request: Request, tasks: BackgroundTasks, wipe_ids: list[int] | None = None,
                 actor: str = "system") -> None:  # fmt: skip
    """Run the wipes started by this request, then deliver its mail, once it has committed."""
    app = request.app
    site = site_of(request)

    def work() -> None:
        at = app.state.clock()
        if wipe_ids:
            wipe.run_wipes(app.state.sessions, site, at=at, actor=actor, wipe_ids=wipe_ids)
        mail.deliver_pending(app.state.sessions, site, at=at)

    tasks.add_task(work)
