"""API v1: one's own public SSH keys (signed in; staff keys reach their students' machines
through the authorized_keys export)."""

from __future__ import annotations

from fastapi import Path, Response

from coursegate.api.accounts.shapes import KeyIn, KeyOut
from coursegate.http.deps import CALLER, Caller
from coursegate.http.policy import Routes, signed_in
from coursegate.services.accounts import service

routes = Routes(prefix="/api/v1", tags=["class accounts"])

KEY_ID = Path(ge=1, le=2**31 - 1, description="the key's id", examples=[1])


@routes.get(
    "/ssh-keys",
    policy=signed_in("one's own public SSH keys"),
    response_model=list[KeyOut],
)
def my_keys(c: Caller = CALLER) -> list[KeyOut]:
    """One's public SSH keys and certificates (staff keys reach their students' machines through
    the authorized_keys export)."""
    return [KeyOut(**k.to_json()) for k in service.keys_of(c.ctx, c.uid)]


@routes.post(
    "/ssh-keys",
    policy=signed_in("one's own public SSH keys"),
    response_model=KeyOut,
    status_code=201,
)
def add_key(body: KeyIn, c: Caller = CALLER) -> KeyOut:
    """Register one of one's public SSH keys (``ssh-ed25519 AAAA... comment``). A key of
    another type, longer than 16 KiB, holding control characters, an RSA key under 2048 bits
    or a private key pasted by mistake is refused (422) with the reason."""
    return KeyOut(**service.add_public_key(c.ctx, c.uid, body.public_key).to_json())


@routes.delete(
    "/ssh-keys/{key_id}",
    policy=signed_in("one's own public SSH keys"),
    status_code=204,
)
def remove_key(key_id: int = KEY_ID, c: Caller = CALLER) -> Response:
    service.remove_public_key(c.ctx, c.uid, key_id)
    return Response(status_code=204)
