"""Running the application under uvicorn (``coursegate serve``, ``make demo``)."""

from __future__ import annotations

import gc

from fastapi import FastAPI

from coursegate.http.settings import Settings
from coursegate.server.app import create_app


def app_from_env() -> FastAPI:
    """The factory uvicorn workers call: settings from the environment and config file.

    Everything loaded at start-up (the application, the roles table, the libraries) is moved
    out of the garbage collector's sight, and young-generation collections are made rarer:
    measured, the collector was a third of a 10,000-decision batch."""
    app = create_app(Settings.load())
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    return app


def serve(host: str, port: int, workers: int = 1, log_level: str = "info") -> None:
    import uvicorn

    uvicorn.run(
        "coursegate.server.serve:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        proxy_headers=True,
        server_header=False,
    )
