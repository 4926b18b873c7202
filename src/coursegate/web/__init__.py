"""The web pages: server-rendered, calling the same services as the API (nothing decides here)."""

from __future__ import annotations

from fastapi import FastAPI


def mount(app: FastAPI) -> None:
    """Add the pages' routes to ``app`` (filled by the web-pages work)."""
