"""``coursegate serve`` and ``coursegate demo`` (what ``make demo`` runs)."""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path
from typing import Annotated, NoReturn

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
    from coursegate.cli.errors import fail
    from coursegate.courses.problems import CourseError

    try:
        code = timelines([str(course), instance])
    except CourseError as exc:
        fail(exc.problems)
    raise typer.Exit(code)


def port_in_use(host: str, port: int) -> bool:
    """Whether ``host:port`` cannot be listened on now (another server has it). Bound the way
    uvicorn binds (``SO_REUSEADDR``), so a port merely in TIME_WAIT does not count."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False


def port_hint(port: int, command: str) -> str:
    """The one line a taken port gets: which port, and what to run instead."""
    other = port + 1 if port < 65535 else 8081
    if command == "demo":
        return (
            f"Port {port} is in use; try make demo PORT={other} (or coursegate demo --port {other})"
        )
    return f"Port {port} is in use; try coursegate {command} --port {other}"


def _port_taken(port: int, command: str) -> NoReturn:
    typer.echo(port_hint(port, command), err=True)
    raise typer.Exit(1)


def _run_server(host: str, port: int, workers: int, command: str) -> None:
    """Start uvicorn; a port taken between the check and the start (uvicorn logs the bind
    error and exits 1) gets the same one-line hint."""
    from coursegate.server.serve import serve as run

    try:
        run(host, port, workers)
    except SystemExit as exc:
        if exc.code not in (0, None) and port_in_use(host, port):
            _port_taken(port, command)
        raise
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            _port_taken(port, command)
        raise


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
    if port_in_use(host, port):
        _port_taken(port, "serve")
    if config is not None:
        os.environ["COURSEGATE_CONFIG"] = str(config)
    _run_server(host, port, workers, "serve")


def demo(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    course: Annotated[Path, typer.Option(help="the course to sync")] = Path("examples/course"),
    no_serve: Annotated[bool, typer.Option("--no-serve", help="set up, print, and stop")] = False,
) -> None:
    """Set up the embedded database with the example course and demo users of every role,
    print the address and the sign-ins, and start the server. The demo's clock starts in the
    example term (Jan 24, 2024, 20:00 Chicago) and runs on from there."""
    if not no_serve and port_in_use(host, port):
        _port_taken(port, "demo")  # before setting anything up
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
    _run_server(host, port, 1, "demo")
