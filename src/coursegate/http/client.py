"""The browser and the network side of a request: the session cookie we set, the caller's
address."""

from __future__ import annotations

from fastapi import Request


def session_cookie(
    name: str, value: str, *, secure: bool, max_age: int | None = None, framed: bool = False
) -> str:
    """A ``Set-Cookie`` value: HttpOnly, SameSite=Lax, Secure unless turned off for a local demo.
    ``framed`` (a session opened by an LMS launch, shown in the LMS's frame): SameSite=None, so
    the framed pages keep it — only over HTTPS, as browsers require."""
    same_site = "None" if framed and secure else "Lax"
    parts = [f"{name}={value}", "Path=/", "HttpOnly", f"SameSite={same_site}"]
    if secure:
        parts.append("Secure")
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    return "; ".join(parts)


def client_address(request: Request) -> str:
    """The caller's address: the socket's peer, or — behind a trusted proxy, when the
    deployment sets ``forwarded_header`` — the address the proxies report."""
    settings = request.app.state.settings
    peer = request.client.host if request.client else ""
    forwarded = (
        request.headers.getlist(settings.forwarded_header) if settings.forwarded_header else []
    )
    return str(settings.client_address(peer, forwarded))


def public_base_url(request: Request) -> str:
    """This server's address as browsers and LMSs reach it: the ``public_url`` setting, else
    the request's own."""
    configured = str(getattr(request.app.state.settings, "public_url", "") or "")
    return configured.rstrip("/") or str(request.base_url).rstrip("/")
