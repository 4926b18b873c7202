"""The OIDC third-party login and the launch (LTI Core 1.3 §5.1, IMS Security Framework §5.1).

1. The platform sends the browser to ``/lti/login`` (:func:`begin_login`): coursegate makes a
   single-use ``state`` and ``nonce`` for this browser (bound to it by a cookie, short-lived) and
   sends it to the platform's OIDC authorisation URL.
2. The platform posts an id_token to ``/lti/launch`` (:func:`complete_launch`): the state must be
   this browser's, unused and fresh; the signature is checked against the platform's key set
   with joserfc; the claims by the pure :func:`coursegate.lti.claims.check_launch`; then the
   person is linked to a coursegate user (made on the first launch) and a session opens.

Every refusal is a :class:`LaunchRefused` naming what was wrong; the caller runs
:func:`complete_launch` so that a refusal leaves nothing behind — no user, no session — and
then writes the refusal with :func:`record_refusal`.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from joserfc import jwt
from joserfc.errors import BadSignatureError, InvalidKeyIdError, JoseError
from joserfc.jws import extract_compact
from sqlalchemy import func, select

from coursegate.core.instants import MICROS
from coursegate.lti.claims import (
    DEEP_LINKING_REQUEST,
    Launch,
    LaunchRefused,
    Registration,
    check_launch,
)
from coursegate.lti.membership import Membership, course_roles
from coursegate.services.common.context import Ctx
from coursegate.services.history import log as history
from coursegate.services.lti import deep_linking
from coursegate.services.lti.contexts import Applied, apply_roles, note_context
from coursegate.services.lti.platform_keys import PlatformKeys
from coursegate.services.lti.platforms import find_platform
from coursegate.services.people.signin import NewSession, open_session
from coursegate.services.people.user_fields import NewUser, normalise_email
from coursegate.services.people.users import add_user
from coursegate.store.models import LtiContext, LtiIdentity, LtiLogin, LtiPlatform, User

LOGIN_LIFETIME = 10 * 60 * MICROS
"""How long a browser has between the login and the launch."""
ALGORITHMS = ["RS256"]
"""LTI 1.3 signs id_tokens with RS256 (the Security Framework's required algorithm)."""
MAX_TOKEN = 64 * 1024


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class LoginStart:
    redirect_url: str
    """The platform's authorisation URL with the OIDC parameters."""
    browser: str
    """The value of the cookie that binds this login to the browser."""


def begin_login(
    ctx: Ctx,
    *,
    iss: str,
    login_hint: str,
    target_link_uri: str,
    launch_url: str,
    client_id: str = "",
    lti_message_hint: str = "",
    browser: str = "",
) -> LoginStart:
    """Step 1: check the platform's login request and make this browser's state and nonce."""
    if not iss:
        raise LaunchRefused("login", "the LMS's login request has no issuer (iss)")
    if not login_hint:
        raise LaunchRefused("login", "the LMS's login request has no login_hint")
    platform = find_platform(ctx, iss, client_id or None)
    if platform is None:
        raise LaunchRefused(
            "platform",
            f"no LMS platform with the issuer {iss!r}"
            + (f" and client id {client_id!r}" if client_id else "")
            + " is registered here: an administrator registers it on the LMS platforms page",
        )
    ours = urlsplit(launch_url)
    target = urlsplit(target_link_uri)
    if (target.scheme, target.netloc) != (ours.scheme, ours.netloc):
        raise LaunchRefused(
            "target",
            f"the launch target {target_link_uri!r} is not on this server ({ours.netloc})",
        )
    browser = browser if 20 <= len(browser) <= 100 else secrets.token_urlsafe(32)
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    ctx.session.add(
        LtiLogin(
            state_hash=_digest(state),
            nonce=nonce,
            browser_hash=_digest(browser),
            platform_id=platform.id,
            target_link_uri=target_link_uri[:1000],
            created_at=ctx.at,
            expires_at=ctx.at + LOGIN_LIFETIME,
        )
    )
    params = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": platform.client_id,
        "redirect_uri": launch_url,
        "login_hint": login_hint,
        "state": state,
        "nonce": nonce,
    }
    if lti_message_hint:
        params["lti_message_hint"] = lti_message_hint
    joiner = "&" if urlsplit(platform.auth_url).query else "?"
    return LoginStart(platform.auth_url + joiner + urlencode(params), browser)


@dataclass(frozen=True)
class LaunchOutcome:
    launch: Launch
    membership: Membership
    user: User
    session: NewSession
    target_link_uri: str
    new_user: bool
    context: LtiContext | None
    applied: Applied
    deep_link_id: int | None = None
    """A deep-linking launch by staff of the linked course: the request to answer."""


def _login(ctx: Ctx, state: str, browser: str) -> LtiLogin:
    if not state:
        raise LaunchRefused("state", "the launch came without its state: start it from the LMS")
    login = ctx.session.scalars(
        select(LtiLogin).where(LtiLogin.state_hash == _digest(state))
    ).one_or_none()
    if login is None:
        raise LaunchRefused("state", "the launch's state is unknown here: start it from the LMS")
    if login.used_at is not None:
        raise LaunchRefused("replay", "this launch was used already: start it again from the LMS")
    if login.expires_at <= ctx.at:
        raise LaunchRefused(
            "state", "the launch took longer than 10 minutes: start it again from the LMS"
        )
    if not browser or _digest(browser) != login.browser_hash:
        raise LaunchRefused(
            "browser",
            "the launch came back to a different browser than the one that started it (or "
            "the browser refused coursegate's cookie): open coursegate in a new window",
        )
    return login


def _verified_claims(
    id_token: str, platform: LtiPlatform, keys: PlatformKeys, ctx: Ctx
) -> dict[str, Any]:
    if not id_token or len(id_token) > MAX_TOKEN:
        raise LaunchRefused("token", "the launch came without an id_token")
    try:
        header = extract_compact(id_token.encode()).protected
    except (JoseError, ValueError) as exc:
        raise LaunchRefused("token", f"the id_token is not a signed JWT ({exc})") from None
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise LaunchRefused("algorithm", f"the id_token is signed with {alg!r}, not RS256")
    kid = header.get("kid")
    key_set = keys.key_set(platform.jwks_url, kid if isinstance(kid, str) else None, ctx.at)
    try:
        token = jwt.decode(id_token, key_set, algorithms=ALGORITHMS)
    except InvalidKeyIdError:
        raise LaunchRefused(
            "unknown_kid",
            f"the id_token is signed with a key ({kid!r}) the platform's key set at "
            f"{platform.jwks_url} does not have",
        ) from None
    except BadSignatureError:
        raise LaunchRefused(
            "signature", "the id_token's signature does not match the platform's keys"
        ) from None
    except (JoseError, ValueError) as exc:
        raise LaunchRefused("token", f"the id_token could not be read ({exc})") from None
    return dict(token.claims)


def complete_launch(
    ctx: Ctx, *, id_token: str, state: str, browser: str, keys: PlatformKeys, user_agent: str = ""
) -> LaunchOutcome:
    """Step 2: believe the launch or raise :class:`LaunchRefused`; link the person; open a
    session. Run it in a savepoint: on a refusal, roll it back (nothing is made)."""
    login = _login(ctx, state, browser)
    platform = ctx.session.get(LtiPlatform, login.platform_id)
    if platform is None or platform.removed_at is not None:
        raise LaunchRefused("platform", "the LMS platform of this launch is no longer registered")
    claims = _verified_claims(id_token, platform, keys, ctx)
    registration = Registration(
        platform.issuer,
        platform.client_id,
        frozenset(d.deployment_id for d in platform.deployments),
    )
    launch = check_launch(claims, registration, nonce=login.nonce, at_seconds=ctx.at // MICROS)
    login.used_at = ctx.at
    membership = course_roles(
        launch.roles,
        allow_administrator=platform.allow_administrator,
        allow_author=platform.allow_author,
    )
    user, new_user = person_for(
        ctx, platform, launch.sub, launch.name, launch.email, test_user=membership.test_user
    )
    if user.status != "active":
        raise LaunchRefused("account", f"the coursegate account {user.uid} is {user.status}")
    context = note_context(ctx, platform, launch, user, membership)
    applied = apply_roles(ctx, context, user, membership) if context else Applied((), False)
    session = open_session(ctx, user, via="lti", user_agent=user_agent)
    history.record(
        ctx,
        "lti.launch",
        "user",
        user.uid,
        platform=platform.name,
        issuer=platform.issuer,
        deployment_id=launch.deployment_id,
        message_type=launch.message_type,
        context=launch.context.id if launch.context else None,
        resource_link=launch.resource_link_id,
        roles=sorted(membership.roles),
        ignored_roles=list(membership.ignored),
        test_user=membership.test_user,
        granted=list(applied.granted),
        enrolled=applied.enrolled,
    )
    deep = None
    if (
        launch.message_type == DEEP_LINKING_REQUEST
        and context is not None
        and context.course_instance_id is not None
        and membership.is_staff
    ):
        deep = deep_linking.remember(ctx, launch, context, user)
    return LaunchOutcome(
        launch, membership, user, session, login.target_link_uri, new_user, context, applied,
        deep.id if deep is not None else None,
    )  # fmt: skip


def person_for(
    ctx: Ctx, platform: LtiPlatform, sub: str, name: str, email_text: str, *, test_user: bool
) -> tuple[User, bool]:
    """The coursegate user this platform's ``sub`` is: linked before, matched by email where
    the platform allows it — within the platform's domain only, so that an LMS can never sign
    someone in as a person of another domain — or made now (in the platform's domain)."""
    link = ctx.session.scalars(
        select(LtiIdentity).where(LtiIdentity.platform_id == platform.id, LtiIdentity.sub == sub)
    ).one_or_none()
    if link is not None:
        link.last_launch_at = ctx.at
        return link.user, False
    email = _email(email_text)
    owner = (
        ctx.session.scalars(select(User).where(func.lower(User.email) == email)).one_or_none()
        if email
        else None
    )
    if owner is not None and (not platform.match_email or owner.domain_id != platform.domain_id):
        raise LaunchRefused(
            "email_taken",
            f"a coursegate account already has the email address {email}, and this platform "
            "may not link people by email"
            + (" outside its own domain" if platform.match_email else "")
            + ": an administrator can allow it for the platform, or link the account",
        )
    if owner is not None:
        user, how = owner, "email"
    else:
        user, how = _new_user(ctx, platform, sub, name, email), "created"
    _link(ctx, platform, sub, user, how, test_user=test_user)
    return user, how == "created"


def _link(
    ctx: Ctx, platform: LtiPlatform, sub: str, user: User, how: str, *, test_user: bool
) -> None:
    """Record that the platform's ``sub`` is ``user`` here (``how``: created or email)."""
    ctx.session.add(
        LtiIdentity(
            platform_id=platform.id,
            sub=sub,
            user_id=user.id,
            linked_by=how,
            test_user=test_user,
            created_at=ctx.at,
            last_launch_at=ctx.at,
        )
    )
    history.record(
        ctx, "lti.identity_linked", "user", user.uid, platform=platform.name, linked_by=how
    )


def new_people(
    ctx: Ctx, platform: LtiPlatform, people: list[tuple[str, str, str]]
) -> dict[str, User]:
    """Accounts and links for many (sub, name, email) the platform has not linked yet — an
    LMS roster's newcomers — made as :func:`person_for` makes one, in one flush. Only those
    whose email no account has and whose user id is free are made; the others are left to
    :func:`person_for` (which links or refuses them, one by one). Returns them by ``sub``."""
    emails = {sub: _email(text) for sub, _, text in people}
    wanted = {e for e in emails.values() if e}
    taken: set[str] = set()
    chunk = sorted(wanted)
    for i in range(0, len(chunk), 500):
        part = chunk[i : i + 500]
        taken |= set(ctx.session.scalars(select(User.email).where(User.email.in_(part))))
        taken |= set(ctx.session.scalars(select(User.uid).where(User.uid.in_(part))))
    made: dict[str, User] = {}
    for sub, name, _ in people:
        email = emails[sub]
        if email is None or email in taken:
            continue
        new = NewUser(uid=email, name=(name or email)[:200], email=email, auth="external",
                      domain=platform.domain.name)  # fmt: skip
        made[sub] = add_user(ctx, new, platform.domain_id, via="lti")
        taken.add(email)
    ctx.session.flush()
    for sub, user in made.items():
        _link(ctx, platform, sub, user, "created", test_user=False)
    ctx.session.flush()
    return made


def _email(text: str) -> str | None:
    try:
        return normalise_email(text) if text else None
    except ValueError:
        return None


def _new_user(ctx: Ctx, platform: LtiPlatform, sub: str, name: str, email: str | None) -> User:
    tag = _digest(f"{platform.id}:{sub}")[:12]
    uid = email if email and _free_uid(ctx, email) else f"lti-{platform.id}-{tag}"
    new = NewUser(
        uid=uid,
        name=(name or uid)[:200],
        email=email or f"lti-{platform.id}-{tag}@lms.invalid",
        auth="external",
        domain=platform.domain.name,
    )
    user = add_user(ctx, new, platform.domain_id, via="lti")
    ctx.session.flush()
    return user


def _free_uid(ctx: Ctx, uid: str) -> bool:
    return ctx.session.scalar(select(User.id).where(User.uid == uid)) is None


def record_refusal(ctx: Ctx, refusal: LaunchRefused, *, state: str = "") -> None:
    """Write a refused launch in the history (and use up its state), after the launch's own
    changes were rolled back."""
    if state:
        login = ctx.session.scalars(
            select(LtiLogin).where(LtiLogin.state_hash == _digest(state))
        ).one_or_none()
        if login is not None and login.used_at is None:
            login.used_at = ctx.at
    history.record(ctx, "lti.launch_refused", "lti", refusal.what, message=refusal.message)
