"""Work the server does on its own, periodically (the class-account term-end schedule, and
scores to the LMSs' gradebooks).

``start(app)`` is called when the server starts and returns the tasks to cancel when it stops.
Every job is safe to run at any time, any number of times, by several servers at once.

The class-account schedule (:func:`coursegate.services.accounts.schedule.run_schedule`) runs every
``schedule_interval_seconds`` (0: never), in a worker thread so requests are not held up, at the
app's clock: it finishes interrupted wipes, locks, reminds and wipes at the end of the term, and
delivers queued mail. Several servers sharing a database may run it at the same moment: each
course instance is handled under a row lock, and every step is idempotent.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

from fastapi import FastAPI

from coursegate.core.instants import Instant

log = logging.getLogger("coursegate.jobs")


def in_thread(job: Callable[[], None]) -> threading.Thread:
    """Run ``job`` in a thread of its own (a roster sync a page follows: tens of seconds of
    reading the LMS, longer than a request should take); the app's ``lti_roster_runner``."""
    thread = threading.Thread(target=job, name="coursegate: roster run", daemon=True)
    thread.start()
    return thread


def run_account_schedule(app: FastAPI) -> object:
    """One run of the class-account schedule with the app's settings, database and clock."""
    from coursegate.http.background import site_of_app
    from coursegate.services.accounts.schedule import run_schedule

    clock: Callable[[], Instant] = app.state.clock
    return run_schedule(app.state.sessions, site_of_app(app), at=clock())


def run_lti_jobs(app: FastAPI) -> object:
    """LMS work: scores to the gradebooks — queue what changed and send what is due, for every
    linked course with gradebook columns (:func:`coursegate.services.lti.grades.pump`) — and the
    rosters of linked courses synced every ``lti_roster_sync_hours``."""
    from coursegate.services.lti.grades import pump
    from coursegate.services.lti.roster_sync import sync_due

    clock: Callable[[], Instant] = app.state.clock
    tokens = app.state.lti_platform_tokens
    scores = pump(app.state.sessions, tokens, at=clock())
    hours = int(app.state.settings.lti_roster_sync_hours)
    if hours <= 0:
        return {"scores": scores}
    rosters = sync_due(app.state.sessions, tokens, at=clock(), every=hours * 3600 * 1_000_000)
    return {"scores": scores, "rosters": rosters}


async def _every(app: FastAPI, seconds: int) -> None:
    while True:
        try:
            report = await asyncio.to_thread(run_account_schedule, app)
            log.debug("class-account schedule: %s", report)
            report = await asyncio.to_thread(run_lti_jobs, app)
            log.debug("LTI scores: %s", report)
        except asyncio.CancelledError:
            raise
        except Exception:  # a failed run is logged; the next one tries again
            log.exception("the class-account schedule failed; it runs again in %s s", seconds)
        await asyncio.sleep(seconds)


def start(app: FastAPI) -> list[asyncio.Task[None]]:
    """Start the periodic jobs."""
    seconds = int(app.state.settings.schedule_interval_seconds)
    if seconds <= 0:
        return []
    return [asyncio.create_task(_every(app, seconds), name="coursegate: account schedule")]
