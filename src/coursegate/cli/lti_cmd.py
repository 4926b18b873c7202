"""``coursegate lti add-platform|add-deployment|list|rotate-key|urls``: coursegate as an LTI 1.3
tool on the command line (docs/lti.md). The command line acts as the operator (recorded as
``system`` in the history); bad input exits 2 with ``{"errors": [...]}`` naming the field."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from coursegate.cli.exam_networks_cmd import _run

app = typer.Typer(
    help="LMS platforms (LTI 1.3): register one, add a deployment, list them, rotate the "
    "tool's signing key, print the URLs to paste into the LMS.",
    no_args_is_help=True,
    add_completion=False,
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="lti")


def _view(p: Any) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "issuer": p.issuer,
        "client_id": p.client_id,
        "deployment_ids": [d.deployment_id for d in p.deployments],
        "auth_url": p.auth_url,
        "token_url": p.token_url,
        "jwks_url": p.jwks_url,
        "domain": p.domain.name,
        "match_email": p.match_email,
        "allow_administrator": p.allow_administrator,
        "allow_author": p.allow_author,
    }


def _line(v: dict[str, Any]) -> str:
    deployments = ", ".join(v["deployment_ids"]) or "no deployment yet"
    return f"{v['id']}\t{v['name']}\t{v['issuer']}\t{v['client_id']}\t{deployments}"


@app.command("add-platform")
def add_platform_cmd(
    name: Annotated[str, typer.Argument(help="A name people recognise (e.g. 'Canvas').")],
    issuer: Annotated[str, typer.Option("--issuer", help="The platform's issuer (iss).")],
    client_id: Annotated[str, typer.Option("--client-id", help="The id it gave coursegate.")],
    auth_url: Annotated[str, typer.Option("--auth-url", help="Its OIDC authorisation URL.")],
    token_url: Annotated[str, typer.Option("--token-url", help="Its access token URL.")],
    jwks_url: Annotated[str, typer.Option("--jwks-url", help="Its public key set URL.")],
    domain: Annotated[str, typer.Option("--domain", help="The domain of the users it brings.")],
    deployment: Annotated[
        list[str] | None, typer.Option("--deployment", help="A deployment id (repeatable).")
    ] = None,
    match_email: Annotated[
        bool,
        typer.Option("--match-email", help="Link first launches to accounts with that email."),
    ] = False,
    allow_administrator: Annotated[
        bool,
        typer.Option(
            "--allow-administrator", help="The LMS's Administrator role makes a domain coordinator."
        ),
    ] = False,
    allow_author: Annotated[
        bool,
        typer.Option(
            "--allow-author",
            help="The LMS's ContentDeveloper role gives the Author role in the domain.",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Register an LMS platform."""
    from coursegate.services.lti.platforms import NewPlatform, register_platform

    new = NewPlatform(
        name=name,
        issuer=issuer,
        client_id=client_id,
        auth_url=auth_url,
        token_url=token_url,
        jwks_url=jwks_url,
        domain=domain,
        deployment_ids=tuple(deployment or ()),
        match_email=match_email,
        allow_administrator=allow_administrator,
        allow_author=allow_author,
    )
    view = _run(lambda ctx: _view(register_platform(ctx, new)))
    print(json.dumps(view, indent=2) if as_json else _line(view))


@app.command("add-deployment")
def add_deployment_cmd(
    platform_id: Annotated[int, typer.Argument(help="The platform's id (see list).")],
    deployment_id: Annotated[str, typer.Argument(help="The deployment id the LMS shows.")],
) -> None:
    """Add a deployment to a registered platform."""
    from coursegate.services.lti.platforms import add_deployment

    _run(lambda ctx: add_deployment(ctx, platform_id, deployment_id).deployment_id)
    print(f"platform {platform_id}: deployment {deployment_id} added")


@app.command("list")
def list_cmd(as_json: JsonOpt = False) -> None:
    """List the registered LMS platforms."""
    from coursegate.services.lti.platforms import platforms

    views = _run(lambda ctx: [_view(p) for p in platforms(ctx)])
    if as_json:
        print(json.dumps(views, indent=2))
    else:
        for v in views:
            print(_line(v))


@app.command("rotate-key")
def rotate_key_cmd() -> None:
    """Make a new signing key; the old one stays published for a day."""
    from coursegate.services.lti.keys import rotate

    kid = _run(lambda ctx: rotate(ctx).kid)
    print(f"the tool now signs with key {kid}; the previous key stays published for a day")


@app.command("urls")
def urls_cmd(
    base_url: Annotated[
        str, typer.Argument(help="This server's address as the LMS reaches it (https://...).")
    ],
    as_json: JsonOpt = False,
) -> None:
    """Print the tool's URLs to paste into the LMS."""
    from coursegate.services.lti.platforms import tool_urls

    urls = tool_urls(base_url).to_json()
    if as_json:
        print(json.dumps(urls, indent=2))
    else:
        for k, v in urls.items():
            print(f"{k}\t{v}")
