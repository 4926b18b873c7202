"""API v1: class accounts for administrators (``mau`` in the domain) — stems, the whole pool of
a course, generating accounts ahead, the metrics."""

from __future__ import annotations

from fastapi import Request

from coursegate.api.accounts.shapes import (
    AccountOut,
    GenerateIn,
    GenerateOut,
    MetricOut,
    StemIn,
    StemOut,
    account_out,
)
from coursegate.http.background import site_of
from coursegate.http.deps import CALLER, Caller
from coursegate.http.policy import Routes, needs
from coursegate.services.accounts import service

routes = Routes(prefix="/api/v1", tags=["class accounts"])


@routes.get(
    "/account-stems",
    policy=needs("mau", on="domain", why="administrators manage class-account stems"),
    response_model=list[StemOut],
)
def list_stems(c: Caller = CALLER) -> list[StemOut]:
    """Every stem of the courses the caller administers, with how many accounts it has."""
    return [StemOut(**s.to_json()) for s in service.list_stems(c.ctx)]


@routes.post(
    "/courses/{course}/account-stems",
    policy=needs("mau", on="domain", why="administrators set class-account stems"),
    response_model=StemOut,
    status_code=201,
)
def add_stem(course: str, body: StemIn, c: Caller = CALLER) -> StemOut:
    """Give a course a stem (``sc558``: accounts ``sc558aa`` .. ``sc558zz``). Stems are unique and
    never reused; a course needing more than 676 accounts gets another stem."""
    return StemOut(**service.set_stem(c.ctx, course, body.stem, reason=body.reason).to_json())


@routes.get(
    "/courses/{course}/account-pool",
    policy=needs("mau", on="domain", why="administrators see every account of a course"),
    response_model=list[AccountOut],
)
def pool(course: str, request: Request, c: Caller = CALLER) -> list[AccountOut]:
    """Every account of the course's stems: free, assigned (in any term) and being wiped."""
    return [account_out(line) for line in service.list_accounts(c.ctx, site_of(request), course)]


@routes.post(
    "/courses/{course}/account-pool",
    policy=needs("mau", on="domain", why="administrators generate class accounts ahead"),
    response_model=GenerateOut,
    status_code=201,
)
def generate(course: str, body: GenerateIn, request: Request, c: Caller = CALLER) -> GenerateOut:
    """Generate accounts ahead, in order, in the state of a wiped account (free, locked, ready
    to assign)."""
    report = service.generate(c.ctx, site_of(request).issuer(), course, body.count)
    return GenerateOut(**report.to_json())


@routes.get(
    "/account-metrics",
    policy=needs("mau", on="domain", why="administrators report usage to the funders"),
    response_model=list[MetricOut],
)
def metrics(c: Caller = CALLER, course: str | None = None) -> list[MetricOut]:
    """Accounts generated, assigned, re-assigned and wiped per course and term."""
    return [MetricOut(**r.to_json()) for r in service.metrics(c.ctx, course)]
