"""API v1: class accounts (to be filled)."""

from __future__ import annotations

from coursegate.api.policy import Routes

routes = Routes(prefix="/api/v1", tags=["class accounts"])
