"""A small LTI 1.3 platform on loopback, for the tests: its own RSA keys and JWKS, an OIDC
authorisation endpoint that answers with the auto-posting form a real LMS sends, and the
people and courses it launches. It runs on uvicorn on a free port of 127.0.0.1, so coursegate
fetches its key set over real HTTP.

Built on joserfc (the same JOSE library the tool uses — but here only to *sign*, as an LMS
would) and Starlette: the lti1p3platform and pylti1p3 packages would bring a Django or Flask
stack and hide the very messages the tests must be able to spoil.
"""

from __future__ import annotations

import html
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import uvicorn
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
TA = "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"
TEST_USER = "http://purl.imsglobal.org/vocab/lis/v2/system/person#TestUser"


@dataclass
class Person:
    sub: str
    name: str
    email: str
    roles: list[str]


@dataclass
class Platform:
    """The LMS. ``spoil`` changes the claims (or the header) of the next id_token."""

    base: str = ""
    client_id: str = "coursegate-client"
    deployment_id: str = "deployment-1"
    now: Callable[[], int] = lambda: int(time.time())
    people: dict[str, Person] = field(default_factory=dict)
    key: RSAKey = field(
        default_factory=lambda: RSAKey.generate_key(
            2048, parameters={"kid": "platform-key-1", "alg": "RS256", "use": "sig"}, private=True
        )
    )
    published: list[RSAKey] = field(default_factory=list)
    spoil: Callable[[dict[str, Any], dict[str, Any]], None] | None = None
    jwks_down: bool = False
    jwks_fetches: int = 0
    tool: str = ""
    """The tool's address (for the course page that frames it)."""

    @property
    def issuer(self) -> str:
        return self.base

    def claims(self, person: Person, nonce: str, redirect_uri: str) -> dict[str, Any]:
        now = self.now()
        return {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": person.sub,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "name": person.name,
            "email": person.email,
            CLAIM + "message_type": "LtiResourceLinkRequest",
            CLAIM + "version": "1.3.0",
            CLAIM + "deployment_id": self.deployment_id,
            CLAIM + "target_link_uri": redirect_uri,
            CLAIM + "roles": person.roles,
            CLAIM + "context": {"id": "course-42", "label": "CG 101", "title": "Computing"},
            CLAIM + "resource_link": {"id": "link-1", "title": "coursegate"},
        }

    def id_token(self, query: dict[str, str]) -> str:
        person = self.people[query["login_hint"]]
        claims = self.claims(person, query["nonce"], query["redirect_uri"])
        header: dict[str, Any] = {"alg": "RS256", "kid": self.key.kid, "typ": "JWT"}
        key = self.key
        if self.spoil is not None:
            self.spoil(header, claims)
            key = header.pop("_key", key)
        return jwt.encode(header, claims, key)

    # -- the platform's HTTP endpoints -------------------------------------------------------

    def app(self) -> Starlette:
        async def jwks(request: Request) -> Response:
            self.jwks_fetches += 1
            if self.jwks_down:
                return Response("down for maintenance", status_code=503)
            keys = [k.as_dict(private=False) for k in [self.key, *self.published]]
            return JSONResponse({"keys": keys})

        async def auth(request: Request) -> Response:
            q = dict(request.query_params)
            assert q["client_id"] == self.client_id and q["response_mode"] == "form_post"
            token = self.id_token(q)
            form = (
                f'<form id="f" method="post" action="{html.escape(q["redirect_uri"])}">'
                f'<input type="hidden" name="id_token" value="{html.escape(token)}">'
                f'<input type="hidden" name="state" value="{html.escape(q["state"])}">'
                "</form><script>document.getElementById('f').submit()</script>"
            )
            return HTMLResponse(form)

        async def course(request: Request) -> Response:
            """A course page of the LMS that shows the tool in a frame, as Canvas does."""
            params = self.login_params(request.path_params["hint"], self.tool + "/lti/launch")
            src = html.escape(self.tool + "/lti/login?" + urlencode(params))
            return HTMLResponse(
                f"<!doctype html><title>LMS course</title><h1>LMS course</h1>"
                f'<iframe id="tool" title="coursegate" src="{src}" width="1000" height="700">'
                "</iframe>"
            )

        return Starlette(
            routes=[Route("/jwks", jwks), Route("/auth", auth), Route("/course/{hint}", course)]
        )

    def login_params(self, login_hint: str, target: str) -> dict[str, str]:
        return {
            "iss": self.issuer,
            "login_hint": login_hint,
            "target_link_uri": target,
            "lti_message_hint": secrets.token_urlsafe(8),
            "client_id": self.client_id,
        }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running(platform: Platform) -> Iterator[Platform]:
    port = _free_port()
    platform.base = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(
        uvicorn.Config(platform.app(), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "the test platform did not start"
        time.sleep(0.02)
    try:
        yield platform
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def auto_post(page: str) -> tuple[str, dict[str, str]]:
    """The action and fields of the platform's auto-posting form."""
    action = re.search(r'action="([^"]+)"', page)
    assert action is not None, page
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page))
    return html.unescape(action.group(1)), {k: html.unescape(v) for k, v in fields.items()}


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
