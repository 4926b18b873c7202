"""``coursegate serve`` and ``coursegate demo`` (what ``make demo`` runs)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("demo")(demo)
    app.command("demo-timelines")(demo_timelines)


def demo_timelines(
    course: Annotated[Path, typer.Argument(help="a course directory")] = Path("examples/course"),
    instance: Annotated[str, typer.Argument(help="a course instance")] = "Sp24",
) -> None:
    """Print, for a few students, every assessment's timeline straight from the decision core
    (no database): when it opens, for what credit, time limits, passwords, what stays
    visible."""
    from coursegate.cli.demo_timelines import main as timelines

    raise typer.Exit(timelines([str(course), instance]))


def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes (share the database)")] = 1,
    config: Annotated[
        Path | None, typer.Option(help="TOML file with a [server] table (COURSEGATE_CONFIG)")
    ] = None,
) -> None:
    """Run the HTTP server (API under /api/v1, OpenAPI at /api/openapi.json, the pages at /).
    Settings come from COURSEGATE_* environment variables and the optional config file; run
    `coursegate db upgrade` first."""
    from coursegate.server.serve import serve as run

    if config is not None:
        os.environ["COURSEGATE_CONFIG"] = str(config)
    run(host, port, workers)


def demo(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    course: Annotated[Path, typer.Option(help="the course to sync")] = Path("examples/course"),
    no_serve: Annotated[bool, typer.Option("--no-serve", help="set up, print, and stop")] = False,
) -> None:
    """Set up the embedded database with the example course and demo users of every role,
    print the address and the sign-ins, and start the server. The demo's clock starts in the
    example term (Jan 24, 2024, 20:00 Chicago) and runs on from there."""
    from coursegate.cli import demo_world as world
    from coursegate.core.instants import format_instant, zone
    from coursegate.http.settings import Settings
    from coursegate.services.accounts.mail import deliver_pending
    from coursegate.services.accounts.site import Site
    from coursegate.services.common.context import SYSTEM, Ctx
    from coursegate.store.db import make_engine, session_factory, transaction
    from coursegate.store.migrate import upgrade

    os.environ.setdefault("COURSEGATE_COOKIE_SECURE", "false")  # http://127.0.0.1
    os.environ.setdefault("COURSEGATE_PUBLIC_URL", f"http://{host}:{port}")
    os.environ.setdefault("COURSEGATE_DEMO_LMS", "true")  # an LMS to launch from, at /demo-lms
    start = world.demo_instant()
    os.environ.setdefault("COURSEGATE_CLOCK_START", format_instant(start, zone("America/Chicago")))
    settings = Settings.load()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    site = Site.from_settings(settings)
    factory = session_factory(engine)
    with transaction(factory) as session:
        # Seeded at the demo clock's start, so what was set up is in force when the server
        # shows it (roles and enrollments begin "now").
        people = world.seed(Ctx(session, SYSTEM, start), course, site=site)
        world.seed_demo_lms(Ctx(session, SYSTEM, start), settings.public_url)
    deliver_pending(factory, site, at=start)
    engine.dispose()
    base = f"http://{host}:{port}"
    print(f"coursegate demo: {engine.url.render_as_string(hide_password=True)}")
    print(f"  the example course {world.COURSE!r} is synced; the clock starts at")
    print(f"  {os.environ['COURSEGATE_CLOCK_START']} (the example term) and runs on.\n")
    print(f"  pages:    {base}/")
    print(f"  API:      {base}/api/v1   (OpenAPI: {base}/api/openapi.json, docs: {base}/api/docs)")
    print(f"  LMS:      {base}/demo-lms/   (launch coursegate over LTI 1.3, as in Canvas)\n")
    print("  sign in as (user id / password):")
    for p in people:
        print(f"    {p.uid:<26} {p.password:<20} {p.role}")
    print(
        f"\n  class accounts: stem {world.STEM!r}; {', '.join(world.CLASS_ACCOUNT_EMAILS)} hold"
        f" {world.STEM}aa and {world.STEM}ab (their credentials are in {site.outbox_dir})"
    )
    print()
    if no_serve:
        return
    from coursegate.server.serve import serve as run

    run(host, port, 1)
