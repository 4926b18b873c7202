"""Platforms' key sets (JWKS), fetched over HTTPS with a timeout and kept for a while.

A key set is kept for :data:`KEEP` after it was fetched. A token signed with a key id the kept
set does not have makes one fresh fetch (platforms rotate keys), at most once per
:data:`REFETCH_GAP` per platform so that a stream of forged key ids cannot make coursegate
hammer the LMS. A platform that cannot be reached is a launch refused with that sentence.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc.jwk import KeySet

from coursegate.core.instants import MICROS, Instant
from coursegate.lti.claims import LaunchRefused

KEEP = 3600 * MICROS
REFETCH_GAP = 10 * MICROS
TIMEOUT_SECONDS = 5.0
MAX_BYTES = 512 * 1024

Fetch = Callable[[str], Any]
"""Reads a JSON document from a URL (raises on failure)."""


def fetch_json(url: str) -> Any:
    """GET ``url`` (no redirects followed, a time-out, a size cap) and parse its JSON."""
    with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client:
        response = client.get(url, headers={"accept": "application/json"})
        response.raise_for_status()
        if len(response.content) > MAX_BYTES:
            raise ValueError(f"the key set is larger than {MAX_BYTES} bytes")
        return response.json()


@dataclass
class _Kept:
    keys: KeySet
    fetched_at: Instant


class PlatformKeys:
    """The key sets of every platform this process has seen, by JWKS URL (thread-safe)."""

    def __init__(self, fetch: Fetch = fetch_json) -> None:
        self._fetch = fetch
        self._kept: dict[str, _Kept] = {}
        self._lock = threading.Lock()

    def _load(self, url: str, at: Instant) -> KeySet:
        try:
            raw = self._fetch(url)
            keys = KeySet.import_key_set(raw)
        except (httpx.HTTPError, ValueError, TypeError, KeyError) as exc:
            raise LaunchRefused(
                "jwks_unreachable",
                f"coursegate could not read the platform's key set at {url} ({_why(exc)}): "
                "check the JWKS URL registered for the platform, and that this server can "
                "reach it",
            ) from None
        with self._lock:
            self._kept[url] = _Kept(keys, at)
        return keys

    def key_set(self, url: str, kid: str | None, at: Instant) -> KeySet:
        """A key set for ``url`` that has ``kid`` if the platform publishes it."""
        with self._lock:
            kept = self._kept.get(url)
        if kept is None or at - kept.fetched_at >= KEEP:
            return self._load(url, at)
        if kid is not None and not _has(kept.keys, kid) and at - kept.fetched_at >= REFETCH_GAP:
            return self._load(url, at)
        return kept.keys

    def forget(self) -> None:
        with self._lock:
            self._kept.clear()


def _why(exc: Exception) -> str:
    if isinstance(exc, httpx.HTTPStatusError):
        return f"it answered {exc.response.status_code} {exc.response.reason_phrase}"
    if isinstance(exc, httpx.TimeoutException):
        return f"it did not answer within {TIMEOUT_SECONDS:g} seconds"
    if isinstance(exc, httpx.HTTPError):
        return f"it could not be reached: {type(exc).__name__}"
    return f"it is not a JSON key set: {exc}"


def _has(keys: KeySet, kid: str) -> bool:
    return any(k.kid == kid for k in keys.keys)
