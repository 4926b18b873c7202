"""API v1: LMS platforms (LTI 1.3, docs/lti.md). Administrators at the system level (``mau`` on
``/``: registering a platform decides who may sign in through it) register platforms, add
deployments, list them, and rotate the tool's signing key; every change is in the history.
The same service as the platforms page and ``coursegate lti``."""

from __future__ import annotations

from fastapi import Path, Request
from pydantic import BaseModel, ConfigDict, Field

from coursegate.http.client import public_base_url
from coursegate.http.deps import CALLER, Caller
from coursegate.http.policy import Routes, needs
from coursegate.services.lti import keys, platforms
from coursegate.store.models import LtiPlatform

routes = Routes(prefix="/api/v1", tags=["LMS platforms (LTI)"])

WHY = "administrators at the system level register LMS platforms (who may sign in through them)"
PLATFORM_ID = Path(ge=1, le=2**31 - 1, description="the platform's id", examples=[1])
URL = Field(max_length=1000, examples=["https://sso.canvaslms.com/api/lti/security/jwks"])


class PlatformIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=200, examples=["Canvas"])
    issuer: str = Field(max_length=500, examples=["https://canvas.instructure.com"])
    client_id: str = Field(max_length=200, examples=["10000000000001"])
    auth_url: str = URL
    token_url: str = URL
    jwks_url: str = URL
    domain: str = Field(max_length=100, examples=["exampleuniversity"])
    deployment_ids: list[str] = Field(default_factory=list, max_length=100)
    match_email: bool = False
    allow_administrator: bool = False
    allow_author: bool = False


class PlatformOut(BaseModel):
    id: int
    name: str
    issuer: str
    client_id: str
    deployment_ids: list[str]
    auth_url: str
    token_url: str
    jwks_url: str
    domain: str
    match_email: bool
    allow_administrator: bool
    allow_author: bool


class DeploymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    deployment_id: str = Field(max_length=200, examples=["12:8865aa05"])


class ToolOut(BaseModel):
    """What to paste into the LMS, and the key that signs now."""

    login_url: str
    launch_url: str
    jwks_url: str
    deep_linking_url: str
    config_url: str
    signing_key: str | None = None


def _out(p: LtiPlatform) -> PlatformOut:
    return PlatformOut(
        id=p.id,
        name=p.name,
        issuer=p.issuer,
        client_id=p.client_id,
        deployment_ids=[d.deployment_id for d in p.deployments],
        auth_url=p.auth_url,
        token_url=p.token_url,
        jwks_url=p.jwks_url,
        domain=p.domain.name,
        match_email=p.match_email,
        allow_administrator=p.allow_administrator,
        allow_author=p.allow_author,
    )


@routes.post(
    "/lti/platforms",
    policy=needs("mau", on="system", why=WHY),
    response_model=PlatformOut,
    status_code=201,
    responses={409: {"description": "that issuer and client id are registered already"}},
)
def register(body: PlatformIn, c: Caller = CALLER) -> PlatformOut:
    """Register an LMS platform (plain http only for one on this machine)."""
    new = platforms.NewPlatform(**body.model_dump(exclude={"deployment_ids"}),
                                deployment_ids=tuple(body.deployment_ids))  # fmt: skip
    return _out(platforms.register_platform(c.ctx, new))


@routes.get(
    "/lti/platforms",
    policy=needs("mau", on="system", why=WHY),
    response_model=list[PlatformOut],
)
def list_platforms(c: Caller = CALLER) -> list[PlatformOut]:
    """The registered LMS platforms."""
    return [_out(p) for p in platforms.platforms(c.ctx)]


@routes.post(
    "/lti/platforms/{platform_id}/deployments",
    policy=needs("mau", on="system", why=WHY),
    response_model=PlatformOut,
    status_code=201,
)
def add_deployment(
    body: DeploymentIn, platform_id: int = PLATFORM_ID, c: Caller = CALLER
) -> PlatformOut:
    """Add a deployment id to a registered platform."""
    platforms.add_deployment(c.ctx, platform_id, body.deployment_id)
    return _out(platforms.get_platform(c.ctx, platform_id))


@routes.post(
    "/lti/keys/rotate",
    policy=needs("mau", on="system", why=WHY),
    response_model=ToolOut,
)
def rotate(request: Request, c: Caller = CALLER) -> ToolOut:
    """Make a new signing key; the old one stays in the published key set for a day."""
    key = keys.rotate(c.ctx)
    urls = platforms.tool_urls(public_base_url(request)).to_json()
    return ToolOut(**urls, signing_key=key.kid)
