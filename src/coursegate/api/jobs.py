"""Work the server does on its own, periodically (the class-account term-end schedule).

``start(app)`` is called when the server starts and returns the tasks to cancel when it stops.
Every job is safe to run at any time, any number of times, by several servers at once.
"""

from __future__ import annotations

import asyncio

from fastapi import FastAPI


def start(app: FastAPI) -> list[asyncio.Task[None]]:
    """Start the periodic jobs (filled by the class-accounts work)."""
    return []
