"""A small LTI 1.3 platform — a stand-in for Canvas or Moodle — for ``make demo`` and the tests.

It has its own RSA key and key set (``/jwks``), an OIDC authorisation endpoint (``/auth``) that
answers with the auto-posting form a real LMS sends, and a course page (``/course/{who}``) that
shows coursegate in a frame, launched as one of its people. ``coursegate demo`` mounts it at
``/demo-lms`` (setting ``demo_lms``) and registers it, so a newcomer can click "launch from the
LMS" on their own machine; the tests run it on a port of its own, and can make it misbehave
(``spoil`` changes the next id_token, ``jwks_down`` makes its key set unreachable) to see each
of coursegate's refusals.

Built on joserfc (only to *sign*, as an LMS does) and Starlette: the lti1p3platform and
pylti1p3 packages would bring a Django or Flask stack and hide the very messages the tests must
be able to spoil. Never mounted outside the demo.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
TA = "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"
TEST_USER = "http://purl.imsglobal.org/vocab/lis/v2/system/person#TestUser"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
AGS_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/"
CONTEXT = {"id": "course-42", "label": "CG 101", "title": "Computing"}
"""The LMS's one course."""


AUTO_POST = "document.getElementById('f').submit()"
OWN_HEADERS = {
    # The LMS's own pages (served by coursegate in the demo): its one inline script, by hash;
    # its pages in its own frames (the sign-in step runs inside the frame it shows coursegate in).
    "content-security-policy": "default-src 'self'; script-src 'sha256-"
    + base64.b64encode(hashlib.sha256(AUTO_POST.encode()).digest()).decode()
    + "'; form-action *; frame-src *; frame-ancestors 'self'",
    "x-frame-options": "SAMEORIGIN",
}


@dataclass
class Person:
    sub: str
    name: str
    email: str
    roles: list[str]


def _new_key() -> RSAKey:
    return RSAKey.generate_key(
        2048, parameters={"kid": "lms-key-1", "alg": "RS256", "use": "sig"}, private=True
    )


@dataclass
class Platform:
    """The LMS. ``base`` is its address (``issuer``), ``tool`` coursegate's."""

    base: str = ""
    tool: str = ""
    client_id: str = "coursegate-client"
    deployment_id: str = "deployment-1"
    now: Callable[[], int] = lambda: int(time.time())
    people: dict[str, Person] = field(default_factory=dict)
    key: RSAKey = field(default_factory=_new_key)
    published: list[RSAKey] = field(default_factory=list)
    """Older keys it still publishes."""
    spoil: Callable[[dict[str, Any], dict[str, Any]], None] | None = None
    jwks_down: bool = False
    jwks_fetches: int = 0
    roster: list[dict[str, Any]] | None = None
    """The course's membership list (NRPS); None: its people, all Active."""
    page_size: int = 100
    tool_jwks: Callable[[], dict[str, Any]] | None = None
    """How it reads the tool's key set (default: over HTTP from ``tool``)."""
    custom: dict[str, str] = field(default_factory=dict)
    """The resource link's custom parameters (``assessment=hw/hw2`` opens one assessment)."""
    tokens: dict[str, str] = field(default_factory=dict)
    """Access tokens it gave, and their scopes."""
    line_items: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Its gradebook's columns, by URL."""
    scores: list[dict[str, Any]] = field(default_factory=list)
    """Every score it took, in order, with its column's URL."""
    deep_linked: list[dict[str, Any]] = field(default_factory=list)
    """The content items tools sent back (deep linking), verified."""
    message_type: str = "LtiResourceLinkRequest"
    """The next launch's message type (``LtiDeepLinkingRequest``: add content)."""
    refuse_scores: list[int] = field(default_factory=list)
    deep_linked_data: Any = None
    """Statuses to answer the next score posts with (429, 503, ...), one each."""

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
            CLAIM + "message_type": self.message_type,
            "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings": {
                "deep_link_return_url": f"{self.base}/deep-link-return",
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe", "window"],
                "data": "opaque-data-42",
            },
            CLAIM + "version": "1.3.0",
            CLAIM + "deployment_id": self.deployment_id,
            CLAIM + "target_link_uri": redirect_uri,
            CLAIM + "roles": person.roles,
            CLAIM + "context": dict(CONTEXT),
            CLAIM + "resource_link": {"id": "link-1", "title": "coursegate"},
            CLAIM + "custom": dict(self.custom),
            AGS_CLAIM: {
                "scope": [AGS_SCOPE + "lineitem", AGS_SCOPE + "score"],
                "lineitems": f"{self.base}/ags/{CONTEXT['id']}/lineitems",
            },
            NRPS_CLAIM: {
                "context_memberships_url": f"{self.base}/nrps/{CONTEXT['id']}",
                "service_versions": ["2.0"],
            },
        }

    def members(self) -> list[dict[str, Any]]:
        if self.roster is not None:
            return self.roster
        return [
            {
                "user_id": p.sub,
                "name": p.name,
                "email": p.email,
                "roles": p.roles,
                "status": "Active",
            }
            for p in self.people.values()
        ]

    def _tool_keys(self) -> dict[str, Any]:
        if self.tool_jwks is not None:
            return self.tool_jwks()
        import httpx

        return dict(httpx.get(self.tool + "/lti/jwks", timeout=10).json())

    def id_token(self, query: dict[str, str]) -> str:
        person = self.people[query["login_hint"]]
        claims = self.claims(person, query["nonce"], query["redirect_uri"])
        header: dict[str, Any] = {"alg": "RS256", "kid": self.key.kid, "typ": "JWT"}
        key = self.key
        if self.spoil is not None:
            self.spoil(header, claims)
            key = header.pop("_key", key)
        return jwt.encode(header, claims, key)

    def login_params(self, login_hint: str, target: str) -> dict[str, str]:
        return {
            "iss": self.issuer,
            "login_hint": login_hint,
            "target_link_uri": target,
            "lti_message_hint": secrets.token_urlsafe(8),
            "client_id": self.client_id,
        }

    # -- its HTTP endpoints ------------------------------------------------------------------

    async def _jwks(self, request: Request) -> Response:
        self.jwks_fetches += 1
        if self.jwks_down:
            return Response("down for maintenance", status_code=503)
        keys = [k.as_dict(private=False) for k in [self.key, *self.published]]
        return JSONResponse({"keys": keys})

    async def _auth(self, request: Request) -> Response:
        q = dict(request.query_params)
        if q.get("client_id") != self.client_id or q.get("login_hint") not in self.people:
            return Response("unknown client or person", status_code=400)
        token = self.id_token(q)
        form = (
            "<!doctype html><title>Launching…</title>"
            f'<form id="f" method="post" action="{html.escape(q["redirect_uri"])}">'
            f'<input type="hidden" name="id_token" value="{html.escape(token)}">'
            f'<input type="hidden" name="state" value="{html.escape(q["state"])}">'
            '<noscript><button type="submit">Continue</button></noscript>'
            f"</form><script>{AUTO_POST}</script>"
        )
        return HTMLResponse(form, headers=OWN_HEADERS)

    async def _token(self, request: Request) -> Response:
        form = await request.form()
        assertion = str(form.get("client_assertion", ""))
        try:
            keys = KeySet.import_key_set(self._tool_keys())  # type: ignore[arg-type]
            claims = jwt.decode(assertion, keys, algorithms=["RS256"]).claims
        except Exception as exc:  # any bad assertion is the same refusal
            return JSONResponse({"error": "invalid_client", "why": str(exc)}, status_code=401)
        if claims.get("iss") != self.client_id or claims.get("aud") != self.base + "/token":
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        issued = secrets.token_urlsafe(24)
        self.tokens[issued] = str(form.get("scope", ""))
        return JSONResponse({"access_token": issued, "token_type": "Bearer", "expires_in": 3600})

    async def _nrps(self, request: Request) -> Response:
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        if "contextmembership" not in self.tokens.get(bearer, ""):
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        everyone = self.members()
        page = int(request.query_params.get("page", "0"))
        chunk = everyone[page * self.page_size : (page + 1) * self.page_size]
        headers = {"content-type": "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"}
        if (page + 1) * self.page_size < len(everyone):
            nxt = f"{self.base}/nrps/{CONTEXT['id']}?page={page + 1}"
            headers["link"] = f'<{nxt}>; rel="next"'
        body = {"id": str(request.url), "context": dict(CONTEXT), "members": chunk}
        return JSONResponse(body, headers=headers)

    def _allowed(self, request: Request, scope: str) -> bool:
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        return scope in self.tokens.get(bearer, "")

    async def _lineitems(self, request: Request) -> Response:
        if not self._allowed(request, AGS_SCOPE + "lineitem"):
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        body = await request.json()
        url = f"{self.base}/ags/{CONTEXT['id']}/lineitems/{len(self.line_items) + 1}"
        self.line_items[url] = {"id": url, **body}
        return JSONResponse(self.line_items[url], status_code=201)

    async def _scores(self, request: Request) -> Response:
        if not self._allowed(request, AGS_SCOPE + "score"):
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        if self.refuse_scores:
            return Response("try later", status_code=self.refuse_scores.pop(0))
        item = f"{self.base}/ags/{CONTEXT['id']}/lineitems/{request.path_params['n']}"
        self.scores.append({"line_item": item, **(await request.json())})
        return Response(status_code=204)

    async def _deep_link_return(self, request: Request) -> Response:
        form = await request.form()
        try:
            keys = KeySet.import_key_set(self._tool_keys())  # type: ignore[arg-type]
            claims = jwt.decode(str(form.get("JWT", "")), keys, algorithms=["RS256"]).claims
        except Exception as exc:  # any bad response is the same refusal
            return Response(f"bad deep-linking response: {exc}", status_code=400)
        if claims.get("aud") != self.issuer or claims.get("iss") != self.client_id:
            return Response("the response is not for this LMS", status_code=400)
        items = claims.get("https://purl.imsglobal.org/spec/lti-dl/claim/content_items", [])
        self.deep_linked.extend(items)
        self.deep_linked_data = claims.get("https://purl.imsglobal.org/spec/lti-dl/claim/data")
        titles = "".join(f"<li>{html.escape(str(i.get('title')))}</li>" for i in items)
        return HTMLResponse(
            f"<!doctype html><h1>Added to the course</h1><ul>{titles}</ul>",
            headers=OWN_HEADERS,
        )

    async def _course(self, request: Request) -> Response:
        who = request.path_params["who"]
        if who not in self.people:
            return Response("no such person", status_code=404)
        params = self.login_params(who, self.tool + "/lti/launch")
        src = html.escape(self.tool + "/lti/login?" + urlencode(params))
        return HTMLResponse(
            "<!doctype html><title>Demo LMS: Computing</title>"
            f"<h1>Demo LMS — {CONTEXT['title']} (as {html.escape(self.people[who].name)})</h1>"
            f'<iframe id="tool" title="coursegate" src="{src}" width="1100" height="760">'
            "</iframe>",
            headers=OWN_HEADERS,
        )

    async def _home(self, request: Request) -> Response:
        links = "".join(
            f'<li><a href="course/{html.escape(k)}">Launch coursegate as '
            f"{html.escape(p.name)}</a></li>"
            for k, p in self.people.items()
        )
        return HTMLResponse(
            "<!doctype html><title>Demo LMS</title><h1>Demo LMS</h1>"
            f"<p>The course {CONTEXT['title']} ({CONTEXT['label']}) shows coursegate in a "
            f"frame, launched over LTI 1.3.</p><ul>{links}</ul>",
            headers=OWN_HEADERS,
        )

    def app(self) -> Starlette:
        """Its HTTP endpoints, as one application."""
        return Starlette(
            routes=[
                Route("/", self._home),
                Route("/jwks", self._jwks),
                Route("/auth", self._auth),
                Route("/course/{who}", self._course),
                Route("/token", self._token, methods=["POST"]),
                Route("/nrps/{context}", self._nrps),
                Route("/deep-link-return", self._deep_link_return, methods=["POST"]),
                Route("/ags/{context}/lineitems", self._lineitems, methods=["POST"]),
                Route("/ags/{context}/lineitems/{n}/scores", self._scores, methods=["POST"]),
            ]
        )


# -- in ``make demo`` --------------------------------------------------------------------------

PREFIX = "/demo-lms"


def demo_people() -> dict[str, Person]:
    """The demo world's student Ana, TA Tom and instructor Ivy as the LMS knows them (the same
    email addresses as ``coursegate.cli.demo_world``'s, so the launch links them to their
    coursegate accounts; a test holds the two together), and the LMS's test student."""
    return {
        "student": Person("lms-ana", "Ana Alvarez", "ana@example.edu", [LEARNER]),
        "ta": Person("lms-tom", "Tom Assistant", "ta@example.edu", [INSTRUCTOR, TA]),
        "instructor": Person("lms-ivy", "Ivy Instructor", "instructor@example.edu", [INSTRUCTOR]),
        "test-student": Person("lms-test", "Test Student", "", [LEARNER, TEST_USER]),
    }


def demo_platform(base_url: str, now: Callable[[], int] = lambda: int(time.time())) -> Platform:
    base = base_url.rstrip("/")
    return Platform(base=base + PREFIX, tool=base, now=now, people=demo_people())


def mount(app: Any, settings: Any) -> None:
    """Serve the demo LMS at :data:`PREFIX` of ``app`` (its clock: the server's)."""
    clock = app.state.clock
    platform = demo_platform(settings.public_url, now=lambda: int(clock() // 1_000_000))
    app.state.demo_lms = platform
    app.mount(PREFIX, platform.app(), name="demo-lms")
