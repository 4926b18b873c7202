"""Access tokens for a platform's services (roster, grades): the OAuth 2 client-credentials
grant with a JWT assertion signed by the tool's key (IMS Security Framework §4.1), kept until
shortly before they expire, per platform and scopes."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import Any

import httpx
from joserfc import jwt

from coursegate.core.instants import MICROS, Instant
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import ServiceError
from coursegate.services.lti.keys import ALGORITHM, private_key, signing_key
from coursegate.store.models import LtiPlatform

TIMEOUT_SECONDS = 10.0
MARGIN = 30 * MICROS
"""A token is not used in its last 30 seconds."""
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

Post = Callable[[str, dict[str, str]], Any]


class PlatformUnavailable(ServiceError):
    """The LMS did not answer as it should (its token or service endpoint)."""

    status = 502


def _post(url: str, form: dict[str, str]) -> Any:
    with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client:
        response = client.post(url, data=form, headers={"accept": "application/json"})
        response.raise_for_status()
        return response.json()


def assertion(ctx: Ctx, platform: LtiPlatform) -> str:
    """The tool's signed statement that it is the client ``client_id`` (5 minutes, one use)."""
    row = signing_key(ctx)
    now = ctx.at // MICROS
    claims = {
        "iss": platform.client_id,
        "sub": platform.client_id,
        "aud": platform.token_url,
        "iat": now,
        "exp": now + 300,
        "jti": secrets.token_urlsafe(16),
    }
    return jwt.encode({"alg": ALGORITHM, "kid": row.kid, "typ": "JWT"}, claims, private_key(row))


class PlatformTokens:
    """Access tokens by (platform, scopes), kept until :data:`MARGIN` before they expire."""

    def __init__(self, post: Post = _post) -> None:
        self._post = post
        self._kept: dict[tuple[int, str], tuple[str, Instant]] = {}
        self._lock = threading.Lock()

    def token(self, ctx: Ctx, platform: LtiPlatform, scopes: tuple[str, ...]) -> str:
        key = (platform.id, " ".join(sorted(scopes)))
        with self._lock:
            kept = self._kept.get(key)
        if kept is not None and ctx.at < kept[1] - MARGIN:
            return kept[0]
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion(ctx, platform),
            "scope": key[1],
        }
        try:
            answer = self._post(platform.token_url, form)
            token = str(answer["access_token"])
            lifetime = int(answer.get("expires_in", 3600))
        except (httpx.HTTPError, KeyError, TypeError, ValueError) as exc:
            raise PlatformUnavailable(
                f"{platform.name} did not give coursegate an access token at "
                f"{platform.token_url} ({type(exc).__name__}: {exc}); check the token URL and "
                "that the LMS allows this tool its services",
                "token_url",
            ) from None
        with self._lock:
            self._kept[key] = (token, ctx.at + lifetime * MICROS)
        return token
