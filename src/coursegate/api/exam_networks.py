"""API v1: testing-centre networks — the CIDR ranges from which requests are in Exam mode
(docs/exam-mode.md). Administrators (``mau`` in a domain: domain coordinators; site-wide
networks: ``mau`` at the system level) add, list and remove them; every change is recorded.
"""

from __future__ import annotations

from typing import Any

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field

from coursegate.http.deps import CALLER, Caller
from coursegate.http.policy import Routes, needs
from coursegate.http.schemas import parse_instant
from coursegate.services.access import exam_networks

routes = Routes(prefix="/api/v1", tags=["exam networks"])

NETWORK_ID = Path(ge=1, le=2**31 - 1, description="the network's id", examples=[1])
WHY = "administrators (mau in the domain; site-wide networks: at the system level)"
EXAMPLE: dict[str, Any] = {
    "name": "Grainger lab",
    "cidr": "192.0.2.0/24",
    "domain": "exampleuniversity",
    "starts_at": "2024-02-27T08:00:00-06:00",
    "ends_at": "2024-02-27T18:00:00-06:00",
    "reason": "midterm week",
}


class NetworkIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [dict(EXAMPLE)]})
    name: str = Field(max_length=200, examples=["Grainger lab"])
    cidr: str = Field(
        max_length=100,
        examples=["192.0.2.0/24"],
        description="IPv4 or IPv6 network, address/prefix, host bits zero",
    )
    domain: str | None = Field(
        None,
        max_length=100,
        examples=["exampleuniversity"],
        description="whose users it applies to; null: site-wide (every domain)",
    )
    starts_at: str | None = Field(
        None, max_length=60, description="ISO 8601 with an offset; null: no start"
    )
    ends_at: str | None = Field(
        None, max_length=60, description="ISO 8601 with an offset, after starts_at; null: no end"
    )
    reason: str = Field("", max_length=2000)


class NetworkOut(BaseModel):
    id: int
    name: str
    cidr: str
    domain: str | None = Field(description="null: site-wide")
    starts_at: str | None
    ends_at: str | None
    created_at: str | None
    created_by: str
    removed_at: str | None
    active: bool


def _out(v: exam_networks.NetworkView) -> NetworkOut:
    return NetworkOut.model_validate(v.to_json())


def _when(raw: str | None, field: str) -> Any:
    return None if raw is None or raw.strip() == "" else parse_instant(raw, field)


@routes.post(
    "/exam-networks",
    policy=needs("mau", on="domain", why=WHY),
    response_model=NetworkOut,
    status_code=201,
    responses={409: {"description": "a network of that name exists there already"}},
)
def add(body: NetworkIn, c: Caller = CALLER) -> NetworkOut:
    """Define a testing-centre network: requests from it (within the window, when given) are
    in Exam mode for the domain's users (or everyone's, site-wide)."""
    view = exam_networks.add_network(
        c.ctx,
        body.name,
        body.cidr,
        domain=body.domain,
        starts_at=_when(body.starts_at, "starts_at"),
        ends_at=_when(body.ends_at, "ends_at"),
        reason=body.reason,
    )
    return _out(view)


@routes.get(
    "/exam-networks",
    policy=needs("mau", on="domain", why=WHY),
    response_model=list[NetworkOut],
)
def list_networks(
    domain: str | None = Query(None, max_length=100, examples=["exampleuniversity"]),
    removed: bool = Query(False, description="include removed networks"),
    c: Caller = CALLER,
) -> list[NetworkOut]:
    """The networks of the domains one administers, and the site-wide ones."""
    found = exam_networks.list_networks(c.ctx, domain=domain, include_removed=removed)
    return [_out(v) for v in found]


@routes.delete(
    "/exam-networks/{network_id}",
    policy=needs("mau", on="domain", why=WHY),
    response_model=NetworkOut,
)
def remove(
    network_id: int = NETWORK_ID,
    reason: str = Query("", max_length=2000),
    c: Caller = CALLER,
) -> NetworkOut:
    """Stop counting a network (kept, with ``removed_at``, for the history)."""
    return _out(exam_networks.remove_network(c.ctx, network_id, reason=reason))
