"""``coursegate exam-networks add|list|remove``: the testing-centre networks from which requests
are in Exam mode (docs/exam-mode.md). The command line acts as the operator (recorded as
``system`` in the history). Bad input — a range that is not CIDR, host bits set, a window that
ends before it starts — exits 2 with ``{"errors": [{"file", "path", "message"}]}``, the path
naming the field."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from coursegate.cli.errors import fail, settings_file
from coursegate.courses.problems import Problem

T = TypeVar("T")

app = typer.Typer(
    help=(
        "Testing-centre networks: requests from these CIDR ranges (IPv4 or IPv6, optionally "
        "within a window) are in Exam mode, for one domain's users or site-wide."
    ),
    no_args_is_help=True,
    add_completion=False,
)

DomainOpt = Annotated[
    str | None,
    typer.Option("--domain", help="The domain whose users it applies to; omit: site-wide."),
]
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (kept in the history).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="exam-networks")


def _instant(text: str | None, field: str) -> int | None:
    from coursegate.core.instants import DateError, parse_date, zone

    if text is None or not text.strip():
        return None
    try:
        return parse_date(text, zone("UTC"))[0]
    except DateError as exc:
        fail([Problem("command line", field, f"{field}: {exc}")])


def _run(fn: Callable[[Any], T]) -> T:
    """``fn`` in one transaction as the operator (the schema brought up to date first)."""
    from sqlalchemy.exc import SQLAlchemyError

    from coursegate.cli.store_cmds import _at, _database_failure
    from coursegate.http.settings import Settings
    from coursegate.services.common.context import SYSTEM, Ctx
    from coursegate.services.common.errors import ServiceError
    from coursegate.store.db import make_engine, session_factory
    from coursegate.store.migrate import upgrade

    try:
        settings = Settings.load()
    except (ValueError, OSError) as error:
        fail([Problem(settings_file(), "$", str(error))])
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        with session_factory(engine)() as session:
            result = fn(Ctx(session, SYSTEM, _at(None)))
            session.commit()
            return result
    except ServiceError as error:
        fail([Problem("command line", error.field or "$", error.message)])
    except SQLAlchemyError as error:
        _database_failure(engine, error)
    finally:
        engine.dispose()


def _line(v: Any) -> str:
    where = v["domain"] or "site-wide"
    window = ""
    if v["starts_at"] or v["ends_at"]:
        window = f" from {v['starts_at'] or 'always'} until {v['ends_at'] or 'ever'}"
    gone = "" if v["active"] else f" (removed {v['removed_at']})"
    return f"{v['id']}\t{v['name']}\t{v['cidr']}\t{where}{window}{gone}"


@app.command("add")
def add_cmd(
    name: Annotated[str, typer.Argument(help="A name people recognise (e.g. 'Grainger lab').")],
    cidr: Annotated[str, typer.Argument(help="The network: 192.0.2.0/24, 2001:db8::/48 ...")],
    domain: DomainOpt = None,
    starts_at: Annotated[
        str | None, typer.Option("--starts-at", help="ISO 8601 (no offset: UTC); omit: no start.")
    ] = None,
    ends_at: Annotated[
        str | None, typer.Option("--ends-at", help="ISO 8601 (no offset: UTC); omit: no end.")
    ] = None,
    reason: ReasonOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Define a testing-centre network."""
    from coursegate.services.access.exam_networks import add_network

    start, end = _instant(starts_at, "starts_at"), _instant(ends_at, "ends_at")
    view = _run(
        lambda ctx: add_network(
            ctx, name, cidr, domain=domain, starts_at=start, ends_at=end, reason=reason
        ).to_json()
    )
    print(json.dumps(view, indent=2) if as_json else _line(view))


@app.command("list")
def list_cmd(
    domain: DomainOpt = None,
    removed: Annotated[bool, typer.Option("--removed", help="Include removed ones.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List the testing-centre networks (with --domain: that domain's and the site-wide)."""
    from coursegate.services.access.exam_networks import list_networks

    views = _run(
        lambda ctx: [
            v.to_json() for v in list_networks(ctx, domain=domain, include_removed=removed)
        ]
    )
    if as_json:
        print(json.dumps(views, indent=2))
    else:
        for v in views:
            print(_line(v))


@app.command("remove")
def remove_cmd(
    network_id: Annotated[int, typer.Argument(help="The network's id (see list).")],
    reason: ReasonOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Stop counting a testing-centre network (kept for the history)."""
    from coursegate.services.access.exam_networks import remove_network

    view = _run(lambda ctx: remove_network(ctx, network_id, reason=reason).to_json())
    print(json.dumps(view, indent=2) if as_json else _line(view))
