"""Commands about access: ``decide``, ``timeline``, ``validate``, ``convert``, ``schema``.

Thin: parse arguments, call :mod:`coursegate.services.access.decisions.request` /
:mod:`coursegate.courses` / :mod:`coursegate.core`, print. Bad input exits with status 2 and says
what is wrong, naming the file, in the one error style of :mod:`coursegate.cli.errors` (the
``{"errors": [{"file", "path", "message"}]}`` contract with ``--json`` or in a script).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from coursegate.cli.errors import ErrorsJsonOpt, fail, render_problem
from coursegate.core.instants import (
    MAX_INSTANT,
    MIN_INSTANT,
    DateError,
    format_instant,
    format_wall,
    parse_date,
)
from coursegate.core.timeline import Stretch, readable_stretches
from coursegate.courses.problems import CourseError, Problem

RequestOpt = Annotated[
    str, typer.Option("--request", "-r", help="Request JSON file, or - for standard input.")
]


def read_request(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    try:
        return Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        fail([Problem(source, "$", f"cannot read the request file: {exc.strerror}")])


def request_failure(source: str, problems: Sequence[Problem]) -> NoReturn:
    """The request's problems, naming the request file (the decision service calls it
    ``request``: it does not know where the text came from)."""
    from coursegate.services.access.decisions.request import REQUEST

    name = "<stdin>" if source == "-" else source
    fail([Problem(name, p.path, p.message) if p.file == REQUEST else p for p in problems])


def decide_cmd(request: RequestOpt, as_json: ErrorsJsonOpt = False) -> None:
    """Decide one request and print the decision as JSON."""
    from coursegate.services.access.decisions.request import decide

    try:
        decision = decide(read_request(request))
    except CourseError as exc:
        request_failure(request, exc.problems)
    print(json.dumps(decision.to_json(), indent=2))


def timeline_cmd(
    request: RequestOpt,
    start: Annotated[
        str | None, typer.Option("--from", help="Show from this instant (default: first change).")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Show until this instant (default: last change).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Every interval of the user's decision: what changes, when, and why."""
    from coursegate.services.access.decisions.request import request_timelines

    try:
        rr, ci_tl, tl = request_timelines(read_request(request))
    except CourseError as exc:
        request_failure(request, exc.problems)
    timeline = tl if tl is not None else ci_tl
    lo, hi = MIN_INSTANT, MAX_INSTANT
    try:
        if start is not None:
            lo = parse_date(start, rr.tz)[0]  # type: ignore[arg-type]
        if end is not None:
            hi = parse_date(end, rr.tz)[0]  # type: ignore[arg-type]
    except DateError as exc:
        fail([Problem("command line", "--from/--to", str(exc))])
    if as_json:
        rows = timeline.intervals(lo, hi)
        out = [
            {
                "from": None if a <= MIN_INSTANT else format_instant(a, rr.tz),
                "to": None if b >= MAX_INSTANT else format_instant(b, rr.tz),
                "decision": v.to_json(rr.tz),
            }
            for a, b, v in rows
        ]
        print(json.dumps(out, indent=2))
        return
    if tl is not None:
        stretches = readable_stretches(tl, lo, hi)
    else:
        stretches = [Stretch(a, b, v, v) for a, b, v in ci_tl.intervals(lo, hi)]
    print(render_table(stretches, rr.tz, assessment=tl is not None))


def render_table(rows: list[Any], tz: Any, *, assessment: bool) -> str:
    """A readable table: one block per interval (countdowns of a time limit folded)."""

    def when(t: int, edge: str) -> str:
        return edge if t <= MIN_INSTANT or t >= MAX_INSTANT else format_wall(t, tz)

    lines = []
    for row in rows:
        a, b, v = row.start, row.end, row.first
        lines.append(f"{when(a, 'the beginning')}  →  {when(b, 'for ever')}")
        if assessment:
            limit = row.time_limit_text
            state = (
                "no access" + (" (listed)" if v.listed else "")
                if not v.access
                else ", ".join(
                    x
                    for x in (
                        "no credit" if v.credit_text == "None" else f"credit {v.credit_text}",
                        "can start" if v.can_start else "cannot start",
                        "submissions accepted" if v.submittable else "no submissions",
                        f"time limit {limit}" if limit else "",
                        "password" if v.password_required else "",
                        "read-only" if v.read_only else "",
                        "complete" if v.complete else "",
                        "questions " + ("visible" if v.questions_visible else "hidden"),
                        "score " + ("visible" if v.score_visible else "hidden"),
                    )
                    if x
                )
            )
        else:
            state = "access" if v.access else "no access"
        lines.append(f"    {state}")
        lines.extend(f"    why: {w}" for w in v.explanation)
    return "\n".join(lines)


def validate_cmd(
    course: Annotated[Path, typer.Argument(help="The course directory.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Check every course file; print each error and warning with file, JSON path and why.

    Exits 1 when there are errors, 0 otherwise (warnings alone do not fail).
    """
    from coursegate.courses.loader import load_course

    try:
        loaded = load_course(course)
    except CourseError as exc:
        fail(exc.problems)
    problems = sorted(loaded.problems, key=lambda p: (p.file, p.severity != "error", p.path))
    if as_json:
        print(
            json.dumps(
                {
                    "errors": [p.to_json() for p in problems if p.severity == "error"],
                    "warnings": [p.to_json() for p in problems if p.severity == "warning"],
                },
                indent=2,
            )
        )
    else:
        for p in problems:
            print(render_problem(p))
        n_a = sum(len(i.assessment_files) for i in loaded.instances.values())
        print(
            f"{len(loaded.instances)} course instance(s), {n_a} assessment(s): "
            f"{len(loaded.errors)} error(s), {len(loaded.warnings)} warning(s)"
        )
    raise typer.Exit(1 if loaded.errors else 0)


def schema_cmd(
    directory: Annotated[
        Path | None,
        typer.Argument(help="Directory to write the schemas into (as --out).", show_default=False),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Directory to write the schemas into.")
    ] = Path("schemas"),
) -> None:
    """Write JSON Schemas of the course files for editors (infoAssessment.json, ...).

    Prints each file written, then the VS Code setting ("json.schemas") that checks the
    course files against them as you type.
    """
    from coursegate.courses.schema import write_schemas

    target = directory if directory is not None else out
    try:
        written = write_schemas(target)
    except OSError as exc:
        fail([Problem(str(target), "$", f"cannot write the schemas: {exc.strerror or exc}")])
    for path in written:
        print(path)
    print()
    print(vscode_hint(written))


def vscode_hint(schemas: list[Path]) -> str:
    """How to point VS Code at the schemas: the ``json.schemas`` setting, each schema with the
    course files it describes (``infoAssessment.schema.json`` checks every
    ``infoAssessment.json``)."""
    urls = [_schema_url(p) for p in schemas]
    entries = [
        {"fileMatch": [f"**/{p.name.replace('.schema.json', '.json')}"], "url": url}
        for p, url in zip(schemas, urls, strict=True)
    ]
    lines = ",\n".join(f"    {json.dumps(e)}" for e in entries)
    body = '{\n  "json.schemas": [\n' + lines + "\n  ]\n}"
    if all(url.startswith("./") for url in urls):
        where = (
            "add this to .vscode/settings.json in this folder\n"
            "(the one you ran the command in; open it in VS Code):\n"
        )
    else:
        where = "add this to your VS Code settings (user, or .vscode/settings.json):\n"
    return "To have VS Code check the course files as you type, " + where + body


def _schema_url(path: Path) -> str:
    """The schema as VS Code finds it: relative to the folder the command ran in (open that
    folder in VS Code), else a file:// URL."""
    here = Path.cwd().resolve()
    full = path.resolve()
    if full.is_relative_to(here):
        return "./" + full.relative_to(here).as_posix()
    return full.as_uri()


def convert_cmd(
    target: Annotated[Path, typer.Argument(help="A course directory or one infoAssessment.json.")],
    write: Annotated[
        bool, typer.Option("--write", help="Rewrite the files when the conversion is equivalent.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Convert legacy allowAccess to modern accessControl and prove the result equivalent.

    Decisions are compared at every change point for every class of users the rules
    distinguish; where they cannot be equivalent, the exact differences are printed.
    Exits 0 when every conversion is equivalent, 1 otherwise.
    """
    from coursegate.courses.convert import convert_path

    try:
        reports = convert_path(target, write=write)
    except CourseError as exc:
        fail(exc.problems)
    if as_json:
        print(json.dumps([r.to_json() for r in reports], indent=2))
    else:
        for r in reports:
            print(r.render())
        print(convert_summary(reports))
    raise typer.Exit(0 if all(r.equivalent for r in reports) else 1)


def convert_summary(reports: Sequence[Any]) -> str:
    """The last line of ``coursegate convert``: ``4 files: 1 equivalent, 3 need review``."""
    if not reports:
        return "no legacy allowAccess rules found"
    same = sum(1 for r in reports if r.equivalent)
    files = f"{len(reports)} file" + ("" if len(reports) == 1 else "s")
    parts = [f"{same} equivalent"] if same else []
    review = len(reports) - same
    if review:
        parts.append(f"{review} {'needs' if review == 1 else 'need'} review")
    written = sum(1 for r in reports if r.written)
    if written:
        parts.append(f"{written} written")
    return f"{files}: {', '.join(parts)}"


def register(app: typer.Typer) -> None:
    app.command("decide")(decide_cmd)
    app.command("timeline")(timeline_cmd)
    app.command("validate")(validate_cmd)
    app.command("convert")(convert_cmd)
    app.command("schema")(schema_cmd)
