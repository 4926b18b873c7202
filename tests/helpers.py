"""Shared helpers for tests: decide inline configurations through the public request format."""

from __future__ import annotations

from typing import Any

import coursegate

TZ = "America/Chicago"


def decide(
    assessment: dict[str, Any] | None,
    at: str,
    *,
    instance_config: dict[str, Any] | None = None,
    tz: str = TZ,
    **request: Any,
) -> dict[str, Any]:
    """The JSON response for an inline assessment (and course instance) at ``at``."""
    req: dict[str, Any] = {"at": at, "timezone": tz, **request}
    if assessment is not None:
        req["assessment_config"] = assessment
    if instance_config is not None:
        req["course_instance_config"] = instance_config
    return coursegate.decide(req).to_json()


def assess(assessment: dict[str, Any], at: str, **request: Any) -> dict[str, Any]:
    out = decide(assessment, at, **request)["assessment"]
    assert isinstance(out, dict)
    return out
