"""What a platform's id_token must say before coursegate believes a launch (LTI Core 1.3 §5,
IMS Security Framework §5.1.3), checked on claims whose signature was already verified.

:func:`check_launch` takes the claims (a JSON object), what the registration says
(:class:`Registration`), the nonce this browser was given at login, and ``at``; it returns the
:class:`Launch` or raises :class:`LaunchRefused` naming the one thing that is wrong in words the
administrator who set the platform up understands. Nothing here reads the clock or a network.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE = CLAIM + "message_type"
VERSION = CLAIM + "version"
DEPLOYMENT_ID = CLAIM + "deployment_id"
TARGET_LINK_URI = CLAIM + "target_link_uri"
ROLES = CLAIM + "roles"
CONTEXT = CLAIM + "context"
RESOURCE_LINK = CLAIM + "resource_link"
CUSTOM = CLAIM + "custom"
LIS = CLAIM + "lis"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
DEEP_LINKING = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"

RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
MESSAGE_TYPES = (RESOURCE_LINK_REQUEST, DEEP_LINKING_REQUEST)
LTI_VERSION = "1.3.0"

LEEWAY_SECONDS = 60
"""Clock skew forgiven between the platform and coursegate, on ``exp`` and ``iat``."""
MAX_AGE_SECONDS = 3600
"""An id_token issued longer ago than this is refused even if its ``exp`` is later."""
MAX_ROLES = 100
MAX_TEXT = 1000


class LaunchRefused(Exception):
    """A launch coursegate does not believe. ``what`` is a short code for logs and history
    (``signature``, ``audience``, ``expired``, ...); the message is the sentence shown."""

    def __init__(self, what: str, message: str) -> None:
        super().__init__(message)
        self.what = what
        self.message = message


@dataclass(frozen=True)
class Registration:
    """What an administrator registered for one platform (one issuer and client id)."""

    issuer: str
    client_id: str
    deployment_ids: frozenset[str]


@dataclass(frozen=True)
class Context:
    id: str
    title: str = ""
    label: str = ""


@dataclass(frozen=True)
class Launch:
    """A believed launch: who (``sub`` of ``issuer``), where (context, resource link), as what
    (the LTI role URIs as sent), and the services the platform offers for it."""

    issuer: str
    client_id: str
    deployment_id: str
    message_type: str
    sub: str
    name: str
    email: str
    roles: tuple[str, ...]
    context: Context | None
    resource_link_id: str | None
    target_link_uri: str
    custom: Mapping[str, str] = field(default_factory=dict)
    nrps_url: str | None = None
    ags: Mapping[str, Any] | None = None
    deep_linking: Mapping[str, Any] | None = None

    @property
    def course_days(self) -> tuple[date | None, date | None]:
        """The LMS course's first and last days, where the launch sends them: the custom
        parameters ``course_start`` and ``course_end``, which the tool's registration asks the
        LMS to fill in (Canvas: ``$Canvas.course.startAt``; Moodle and others:
        ``$CourseSection.timeFrame.begin``). A value the LMS left as the variable's name, or
        that names no day, is no date."""
        return lms_day(self.custom.get("course_start", "")), lms_day(
            self.custom.get("course_end", "")
        )


_LMS_DAY = re.compile(r"\s*(\d{4})-(\d{2})-(\d{2})(?![\d])")


def lms_day(text: str) -> date | None:
    """The day an LMS's date (``2027-01-11``, ``2027-01-11T06:00:00Z``,
    ``2027-01-11 06:00:00 UTC``) begins with, or None."""
    found = _LMS_DAY.match(text)
    if found is None:
        return None
    try:
        return date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        return None


def _text(claims: Mapping[str, Any], key: str, *, required: bool, what: str) -> str:
    value = claims.get(key)
    if value is None:
        if required:
            raise LaunchRefused("claims", f"the id_token has no {what} ({key})")
        return ""
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise LaunchRefused("claims", f"the id_token's {what} ({key}) is not a short string")
    return value


def _seconds(claims: Mapping[str, Any], key: str) -> int:
    value = claims.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LaunchRefused("claims", f"the id_token has no numeric {key!r} time")
    return int(value)


def check_audience(claims: Mapping[str, Any], client_id: str) -> None:
    """``aud`` holds our client id; with several audiences, ``azp`` must be ours too."""
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else None
    if not audiences or not all(isinstance(a, str) for a in audiences):
        raise LaunchRefused("audience", "the id_token names no audience (aud)")
    if client_id not in audiences:
        raise LaunchRefused(
            "audience",
            f"the id_token is for another tool: its audience is {', '.join(audiences)}, "
            f"and this platform's registration has the client id {client_id}",
        )
    azp = claims.get("azp")
    if len(audiences) > 1 and azp != client_id:
        raise LaunchRefused(
            "audience",
            "the id_token has several audiences and its authorized party (azp) is "
            f"{azp!r}, not this tool's client id {client_id}",
        )
    if azp is not None and azp != client_id:
        raise LaunchRefused(
            "audience", f"the id_token's authorized party (azp) {azp!r} is not {client_id}"
        )


def check_times(claims: Mapping[str, Any], at_seconds: int) -> None:
    """``exp`` not passed and ``iat`` not in the future, each with :data:`LEEWAY_SECONDS`;
    nor issued more than :data:`MAX_AGE_SECONDS` ago."""
    exp = _seconds(claims, "exp")
    iat = _seconds(claims, "iat")
    if exp + LEEWAY_SECONDS < at_seconds:
        raise LaunchRefused(
            "expired",
            f"the id_token expired {at_seconds - exp} seconds ago: launch again from the "
            "LMS (if this keeps happening, the LMS's or this server's clock is wrong)",
        )
    if iat - LEEWAY_SECONDS > at_seconds:
        raise LaunchRefused(
            "issued_in_future",
            f"the id_token says it was issued {iat - at_seconds} seconds in the future: "
            "the LMS's or this server's clock is wrong",
        )
    if at_seconds - iat > MAX_AGE_SECONDS + LEEWAY_SECONDS:
        raise LaunchRefused("expired", "the id_token was issued more than an hour ago")


def _roles(claims: Mapping[str, Any]) -> tuple[str, ...]:
    raw = claims.get(ROLES)
    if raw is None:
        raise LaunchRefused("claims", f"the id_token has no roles claim ({ROLES})")
    if (
        not isinstance(raw, list)
        or len(raw) > MAX_ROLES
        or not all(isinstance(r, str) and len(r) <= MAX_TEXT for r in raw)
    ):
        raise LaunchRefused("claims", "the id_token's roles claim is not a list of role URIs")
    return tuple(raw)


def _context(claims: Mapping[str, Any]) -> Context | None:
    raw = claims.get(CONTEXT)
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise LaunchRefused("claims", "the id_token's context claim is not an object")
    return Context(
        id=_text(raw, "id", required=True, what="context id"),
        title=_text(raw, "title", required=False, what="context title"),
        label=_text(raw, "label", required=False, what="context label"),
    )


def _object(claims: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    raw = claims.get(key)
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise LaunchRefused("claims", f"the id_token's claim {key} is not an object")
    return raw


def check_launch(
    claims: Mapping[str, Any], registration: Registration, *, nonce: str, at_seconds: int
) -> Launch:
    """The launch the claims describe, if every check passes, in this order: issuer, audience
    (and azp), times, nonce (the one this browser was given), deployment, message type and
    version, then the claims the message type requires."""
    if claims.get("iss") != registration.issuer:
        raise LaunchRefused(
            "issuer",
            f"the id_token's issuer {claims.get('iss')!r} is not the registered "
            f"{registration.issuer!r}",
        )
    check_audience(claims, registration.client_id)
    check_times(claims, at_seconds)
    if not nonce or claims.get("nonce") != nonce:
        raise LaunchRefused(
            "nonce",
            "the id_token's nonce is not the one this browser was given at login: the launch "
            "was replayed or started in another browser",
        )
    deployment = _text(claims, DEPLOYMENT_ID, required=True, what="deployment id")
    if deployment not in registration.deployment_ids:
        raise LaunchRefused(
            "deployment",
            f"the deployment {deployment!r} is not registered for this platform: an "
            "administrator adds it on the LMS platforms page",
        )
    message_type = _text(claims, MESSAGE_TYPE, required=True, what="message type")
    if message_type not in MESSAGE_TYPES:
        raise LaunchRefused(
            "message_type",
            f"coursegate does not take {message_type!r} launches (only "
            f"{' and '.join(MESSAGE_TYPES)})",
        )
    version = _text(claims, VERSION, required=True, what="LTI version")
    if version != LTI_VERSION:
        raise LaunchRefused("version", f"the launch is LTI {version}, not {LTI_VERSION}")
    sub = _text(claims, "sub", required=True, what="subject (sub)")
    if not sub:
        raise LaunchRefused("claims", "the id_token's subject (sub) is empty")
    link = _object(claims, RESOURCE_LINK)
    link_id = _text(link, "id", required=True, what="resource link id") if link else None
    if message_type == RESOURCE_LINK_REQUEST and link_id is None:
        raise LaunchRefused("claims", f"a resource-link launch needs {RESOURCE_LINK}")
    deep = _object(claims, DEEP_LINKING)
    if message_type == DEEP_LINKING_REQUEST and deep is None:
        raise LaunchRefused("claims", f"a deep-linking launch needs {DEEP_LINKING}")
    custom = _object(claims, CUSTOM) or {}
    nrps = _object(claims, NRPS)
    return Launch(
        issuer=registration.issuer,
        client_id=registration.client_id,
        deployment_id=deployment,
        message_type=message_type,
        sub=sub,
        name=_text(claims, "name", required=False, what="name"),
        email=_text(claims, "email", required=False, what="email"),
        roles=_roles(claims),
        context=_context(claims),
        resource_link_id=link_id,
        target_link_uri=_text(claims, TARGET_LINK_URI, required=False, what="target link"),
        custom={str(k): str(v) for k, v in custom.items() if isinstance(v, str | int | float)},
        nrps_url=_text(nrps, "context_memberships_url", required=False, what="roster URL")
        if nrps
        else None,
        ags=_object(claims, AGS),
        deep_linking=deep,
    )
