"""Testing-centre networks: the CIDR ranges (IPv4 or IPv6) from which a request is in Exam
mode — the seed's "on a computer in the testing-centre labs (determined by IP range)".

* **add** — a name, a network in CIDR form (``192.0.2.0/24``, ``2001:db8:5::/48``; host bits
  must be zero, the prefix must be written), the domain whose users it applies to (None:
  site-wide, every domain) and optionally a window ``[starts_at, ends_at)`` in which it counts.
  Needs ``mau`` (an administrator: a domain coordinator) in that domain; a site-wide network
  needs ``mau`` at the system level (a superuser), or the operator (the command line).
* **list** — the networks of the domains one administers, and the site-wide ones.
* **remove** — the same privilege as adding; the row stays (``removed_at``), for the history.

Every change writes one history entry. :func:`network_for` answers "is this address on a
testing-centre network now, for a user of this domain" for
:mod:`coursegate.services.access.exam_mode`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from coursegate.core.instants import Instant, format_instant
from coursegate.roles import Area
from coursegate.services.common.authz import allowed, require
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Conflict, Invalid, NotFound, Refused
from coursegate.services.history.log import record
from coursegate.store.models import Domain, ExamNetwork

ADMINISTER = "mau"
"""Modify users' authentication: what the administrators' pages need (a domain coordinator in
their domain, a superuser anywhere)."""
_KIND = "exam_network"
MAX_NAME = 100

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class NetworkView:
    id: int
    name: str
    cidr: str
    domain: str | None
    """None: site-wide (every domain)."""
    starts_at: Instant | None
    ends_at: Instant | None
    created_at: Instant
    created_by: str
    removed_at: Instant | None

    def to_json(self) -> dict[str, Any]:
        def iso(t: Instant | None) -> str | None:
            return None if t is None else format_instant(t, UTC)

        return {
            "id": self.id,
            "name": self.name,
            "cidr": self.cidr,
            "domain": self.domain,
            "starts_at": iso(self.starts_at),
            "ends_at": iso(self.ends_at),
            "created_at": iso(self.created_at),
            "created_by": self.created_by,
            "removed_at": iso(self.removed_at),
            "active": self.removed_at is None,
        }


def _view(row: ExamNetwork) -> NetworkView:
    return NetworkView(
        row.id,
        row.name,
        row.cidr,
        None if row.domain is None else row.domain.name,
        row.starts_at,
        row.ends_at,
        row.created_at,
        row.created_by,
        row.removed_at,
    )


# -- checking what people give ----------------------------------------------------------------


def parse_network(text: object) -> Network:
    """A network in CIDR form, or :class:`Invalid` naming ``cidr`` and what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise Invalid("cidr: give a network such as 192.0.2.0/24 or 2001:db8::/48", "cidr")
    raw = text.strip()
    alone = parse_address(raw) if "/" not in raw else None
    if alone is not None:
        bits = 32 if alone.version == 4 else 128
        raise Invalid(
            f"cidr: {raw!r} has no prefix length; write the network as address/prefix, such as"
            f" {raw}/{bits} for this one address or 192.0.2.0/24 for a lab",
            "cidr",
        )
    try:
        return ipaddress.ip_network(raw, strict=True)
    except ValueError as exc:
        if "host bits set" in str(exc):
            loose = ipaddress.ip_network(raw, strict=False)
            raise Invalid(
                f"cidr: {raw} has host bits set (the bits after the prefix must be zero);"
                f" did you mean {loose}?",
                "cidr",
            ) from None
        raise Invalid(
            f"cidr: {raw!r} is not a network in CIDR form (such as 192.0.2.0/24 or 2001:db8::/48)",
            "cidr",
        ) from None


def parse_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """A client address (an IPv4 address mapped into IPv6 counts as the IPv4 address; a zone
    such as ``%eth0`` is dropped); None when it is no IP address."""
    try:
        addr = ipaddress.ip_address(text.split("%", 1)[0].strip())
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def _name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise Invalid("name: give the network a name (e.g. 'Grainger lab')", "name")
    clean = " ".join(name.split())
    if len(clean) > MAX_NAME:
        raise Invalid(f"name: at most {MAX_NAME} characters, not {len(clean)}", "name")
    return clean


def _window(starts_at: Instant | None, ends_at: Instant | None) -> None:
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise Invalid(
            f"ends_at: the window must end after it starts ({format_instant(ends_at, UTC)} is"
            f" not after {format_instant(starts_at, UTC)})",
            "ends_at",
        )


def _domain(ctx: Ctx, name: str) -> Domain:
    found = ctx.session.scalars(select(Domain).where(Domain.name == name)).one_or_none()
    if found is None:
        raise NotFound(f"domain: there is no domain {name!r}", "domain")
    return found


def _require_admin(ctx: Ctx, domain: Domain | None, what: str) -> None:
    if domain is None:
        require(ctx, ADMINISTER, Area.system(), f"{what} (site-wide: a superuser's)")
    else:
        require(ctx, ADMINISTER, Area.of_domain(domain.name), what)


# -- the use cases ----------------------------------------------------------------------------


def add_network(
    ctx: Ctx,
    name: str,
    cidr: str,
    *,
    domain: str | None,
    starts_at: Instant | None = None,
    ends_at: Instant | None = None,
    reason: str = "",
) -> NetworkView:
    """Define a testing-centre network for ``domain``'s users (None: site-wide)."""
    network = parse_network(cidr)
    clean = _name(name)
    _window(starts_at, ends_at)
    dom = None if domain is None else _domain(ctx, domain)
    where = "site-wide" if dom is None else f"in {dom.name}"
    _require_admin(ctx, dom, f"define testing-centre networks {where}")
    clash = ctx.session.scalars(
        select(ExamNetwork).where(
            ExamNetwork.removed_at.is_(None),
            ExamNetwork.name == clean,
            ExamNetwork.domain_id.is_(None) if dom is None else ExamNetwork.domain_id == dom.id,
        )
    ).first()
    if clash is not None:
        raise Conflict(
            f"name: there is already a testing-centre network {clean!r} {where} (id"
            f" {clash.id}, {clash.cidr}); remove it first or choose another name",
            "name",
        )
    row = ExamNetwork(
        name=clean,
        cidr=str(network),
        domain_id=None if dom is None else dom.id,
        starts_at=starts_at,
        ends_at=ends_at,
        created_at=ctx.at,
        created_by=ctx.actor,
    )
    ctx.session.add(row)
    ctx.session.flush()
    record(
        ctx,
        "exam_network.add",
        _KIND,
        f"{clean} {row.cidr}",
        reason=reason,
        network_id=row.id,
        cidr=row.cidr,
        domain=None if dom is None else dom.name,
        starts_at=starts_at,
        ends_at=ends_at,
    )
    return _view(row)


def _administered(ctx: Ctx) -> tuple[list[int], bool]:
    """The ids of the domains whose networks the caller may see, and whether every one."""
    everywhere, why = allowed(ctx, ADMINISTER, Area.system())
    if everywhere:
        return [], True
    doms = ctx.session.execute(select(Domain.id, Domain.name).order_by(Domain.name)).all()
    mine = [i for i, n in doms if allowed(ctx, ADMINISTER, Area.of_domain(n))[0]]
    if not mine:
        raise Refused(
            f"{ctx.effective} may not see testing-centre networks: it needs {ADMINISTER} in a"
            f" domain (an administrator) or at the system level; {why}"
        )
    return mine, False


def list_networks(
    ctx: Ctx, *, domain: str | None = None, include_removed: bool = False
) -> list[NetworkView]:
    """The networks the caller administers (and the site-wide ones), oldest first; ``domain``:
    only that domain's and the site-wide ones."""
    mine, everywhere = _administered(ctx)
    q = select(ExamNetwork).order_by(ExamNetwork.id)
    if domain is not None:
        dom = _domain(ctx, domain)
        if not everywhere and dom.id not in mine:
            require(ctx, ADMINISTER, Area.of_domain(dom.name), f"see the networks of {domain}")
        q = q.where(or_(ExamNetwork.domain_id.is_(None), ExamNetwork.domain_id == dom.id))
    elif not everywhere:
        q = q.where(or_(ExamNetwork.domain_id.is_(None), ExamNetwork.domain_id.in_(mine)))
    if not include_removed:
        q = q.where(ExamNetwork.removed_at.is_(None))
    return [_view(r) for r in ctx.session.scalars(q)]


def remove_network(ctx: Ctx, network_id: int, *, reason: str = "") -> NetworkView:
    """Stop counting a network (removing a removed one changes nothing)."""
    row = ctx.session.get(ExamNetwork, network_id)
    if row is None:
        raise NotFound(f"network_id: there is no testing-centre network {network_id}", "network_id")
    where = "site-wide" if row.domain is None else f"in {row.domain.name}"
    _require_admin(ctx, row.domain, f"remove testing-centre networks {where}")
    if row.removed_at is None:
        row.removed_at = ctx.at
        row.removed_by = ctx.actor
        ctx.session.flush()
        record(
            ctx,
            "exam_network.remove",
            _KIND,
            f"{row.name} {row.cidr}",
            reason=reason,
            network_id=row.id,
            cidr=row.cidr,
            domain=None if row.domain is None else row.domain.name,
        )
    return _view(row)


def network_for(session: Session, address: str, domain_id: int, at: Instant) -> ExamNetwork | None:
    """The testing-centre network ``address`` is on at ``at`` for a user of the domain
    ``domain_id`` (its own networks or the site-wide ones; the first defined wins), if any."""
    addr = parse_address(address)
    if addr is None:
        return None
    rows = session.scalars(
        select(ExamNetwork)
        .where(
            ExamNetwork.removed_at.is_(None),
            or_(ExamNetwork.domain_id.is_(None), ExamNetwork.domain_id == domain_id),
            or_(ExamNetwork.starts_at.is_(None), ExamNetwork.starts_at <= at),
            or_(ExamNetwork.ends_at.is_(None), ExamNetwork.ends_at > at),
        )
        .order_by(ExamNetwork.id)
    )
    for row in rows:
        try:
            network = ipaddress.ip_network(row.cidr)
        except ValueError:  # pragma: no cover - stored after checking
            continue
        if addr.version == network.version and addr in network:
            return row
    return None


__all__ = [
    "ADMINISTER",
    "NetworkView",
    "add_network",
    "list_networks",
    "network_for",
    "parse_address",
    "parse_network",
    "remove_network",
]
