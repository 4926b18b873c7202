"""coursegate's own signing keys (RSA 2048, generated with ``cryptography`` through joserfc)
and the key set it publishes at ``/lti/jwks``.

The newest key that is not retired signs (client-credentials assertions, deep-linking
responses). Rotating retires it and makes a new one; the retired key stays published for
:data:`OVERLAP` — longer than any token it signed lives — so a platform that cached the old key
set keeps verifying, then it is no longer shown (its row stays, for the history).
"""

from __future__ import annotations

import secrets
from typing import Any

from joserfc.jwk import RSAKey
from sqlalchemy import select

from coursegate.core.instants import MICROS
from coursegate.roles import Area
from coursegate.services.common.authz import require
from coursegate.services.common.context import Ctx
from coursegate.services.history import log as history
from coursegate.store.models import LtiToolKey

OVERLAP = 24 * 3600 * MICROS
"""How long a retired key stays in the published key set."""
ALGORITHM = "RS256"


def _new_key(ctx: Ctx) -> LtiToolKey:
    kid = secrets.token_urlsafe(12)
    key = RSAKey.generate_key(
        2048, parameters={"kid": kid, "use": "sig", "alg": ALGORITHM}, private=True
    )
    pem = key.as_pem(private=True)
    row = LtiToolKey(
        kid=kid,
        private_pem=pem.decode() if isinstance(pem, bytes) else str(pem),
        public_jwk=dict(key.as_dict(private=False)),
        created_at=ctx.at,
    )
    ctx.session.add(row)
    ctx.session.flush()
    return row


def signing_key(ctx: Ctx) -> LtiToolKey:
    """The key that signs now (made on first use)."""
    row = ctx.session.scalars(
        select(LtiToolKey)
        .where(LtiToolKey.retired_at.is_(None))
        .order_by(LtiToolKey.id.desc())
        .limit(1)
    ).one_or_none()
    return row if row is not None else _new_key(ctx)


def private_key(row: LtiToolKey) -> RSAKey:
    return RSAKey.import_key(row.private_pem, parameters={"kid": row.kid, "alg": ALGORITHM})


def published(ctx: Ctx) -> dict[str, Any]:
    """The tool's key set: the signing key and the retired keys still within their overlap."""
    signing_key(ctx)
    rows = ctx.session.scalars(
        select(LtiToolKey)
        .where((LtiToolKey.drop_after.is_(None)) | (LtiToolKey.drop_after > ctx.at))
        .order_by(LtiToolKey.id)
    )
    return {"keys": [dict(r.public_jwk) for r in rows]}


def rotate(ctx: Ctx) -> LtiToolKey:
    """Retire the signing key (published for :data:`OVERLAP` more) and make a new one."""
    require(ctx, "mau", Area.system(), "rotate the tool's LTI signing keys")
    old = signing_key(ctx)
    old.retired_at = ctx.at
    old.drop_after = ctx.at + OVERLAP
    new = _new_key(ctx)
    history.record(ctx, "lti.key_rotated", "lti_key", new.kid, retired=old.kid)
    return new
