"""The in-run reference of :mod:`bench.bench_load`: the least a Python web server can do for a
decision-shaped request — Starlette under the same uvicorn, parsing the JSON body and answering
from a dict (no authentication, no database, no decision)."""

from __future__ import annotations

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

ANSWERS = {k: orjson.dumps({"key": k, "access": k % 3 != 0, "credit": 100}) for k in range(1000)}


async def decide(request: Request) -> Response:
    asked = orjson.loads(await request.body())
    return Response(ANSWERS.get(asked.get("key"), b"{}"), media_type="application/json")


async def health(_: Request) -> Response:
    return Response(b"{}", media_type="application/json")


app = Starlette(routes=[Route("/d", decide, methods=["POST"]), Route("/health", health)])
