"""``POST /api/v1/decisions`` with an API token, answered before the framework when what the
process keeps is enough (:mod:`coursegate.services.access.decisions.kept`).

This is the server's hottest request, and the framework's per-request work (routing, dependency
injection, a thread hop, an ORM transaction) costs many times the decision. The middleware here
answers it directly when it can and otherwise hands the request, body and all, to the routes,
which answer it as they always have. Either way the answer is the same, byte for byte, with the
same headers (the outer middleware adds the protective headers to both). The route's policy is
the general way's: any signed-in user's own decisions, with a token of any scope.
"""

from __future__ import annotations

from typing import Any

from coursegate.http.deps import AT_HEADER
from coursegate.http.settings import Settings
from coursegate.services.access.decisions import kept

PATH = "/api/v1/decisions"
MAX_KEPT_BODY = 64 * 1024
"""Larger bodies go the general way (a single decision request is a few hundred bytes)."""
_AT = AT_HEADER.encode()


class KeptDecisions:
    """The ASGI middleware in front of the routes for :data:`PATH`."""

    def __init__(self, app: Any, state: Any, headers: list[tuple[bytes, bytes]]) -> None:
        self.app = app
        self.state = state
        self.headers = headers
        """Added to a kept answer: what the server adds to every JSON answer."""
        self._kept: kept.Kept | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != PATH
            or scope["method"] != "POST"
            or scope.get("query_string")
        ):
            await self.app(scope, receive, send)
            return
        token = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                if value[:7].lower() == b"bearer " and token is None:
                    token = value[7:].strip().decode("latin-1")
                else:
                    token = ""  # several, or not a bearer token: the general way
            elif name == _AT:
                token = ""
        if not token:
            await self.app(scope, receive, send)
            return
        body, complete = await _read(receive)
        if complete:
            answer = await self._answer(scope, token, body)
            if answer is not None:
                await self._send_json(send, answer)
                return

        pending: list[bytes] = [body]

        async def replay() -> Any:
            if pending:
                return {"type": "http.request", "body": pending.pop(), "more_body": not complete}
            return await receive()

        await self.app(scope, replay, send)

    async def _answer(self, scope: Any, token: str, body: bytes) -> bytes | None:
        if self._kept is None:
            self._kept = kept.Kept(self.state.engine)
        settings: Settings = self.state.settings
        peer = (scope.get("client") or ("", 0))[0]
        forwarded: list[str] = []
        if settings.forwarded_header:
            wanted = settings.forwarded_header.lower().encode()
            forwarded = [v.decode("latin-1") for k, v in scope["headers"] if k == wanted]
        address = str(settings.client_address(peer, forwarded))
        at = self.state.clock()
        return await kept.answer(self._kept, token, body, at, address)

    async def _send_json(self, send: Any, body: bytes) -> None:
        headers = [
            (b"content-length", str(len(body)).encode()),
            (b"content-type", b"application/json"),
            *self.headers,
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _read(receive: Any) -> tuple[bytes, bool]:
    """The body, up to :data:`MAX_KEPT_BODY` bytes, and whether that is all of it."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True
        if size > MAX_KEPT_BODY:
            return b"".join(chunks), False
