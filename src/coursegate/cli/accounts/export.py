"""``coursegate accounts report|export-sudoers|export-authorized-keys|add-key``: the metrics
report (and its CSV file), the sudoers and authorized_keys exports, and staff public keys."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from coursegate.cli.accounts.env import AccountsEnv, emit, read_input
from coursegate.cli.accounts.options import AtOpt, DryOpt, JsonOpt
from coursegate.cli.errors import fail
from coursegate.courses.problems import Problem

if TYPE_CHECKING:
    from coursegate.services.common.context import Ctx


def report_cmd(
    course: Annotated[str | None, typer.Option("--course", help="One course only.")] = None,
    csv_path: Annotated[Path, typer.Option("--csv", help="Where to write the CSV.")] = Path(
        "accounts-report.csv"
    ),
    at: AtOpt = None,
    dry_run: DryOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Accounts generated, assigned, re-assigned and wiped per course and term: a table, and a
    CSV file for the funders."""
    from coursegate.services.accounts import service

    env = AccountsEnv(at)
    try:
        rows = env.run(lambda ctx: service.metrics(ctx, course), dry_run=True)
    finally:
        env.close()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(service.MetricRow.FIELDS)
    for r in rows:
        writer.writerow([getattr(r, f) for f in service.MetricRow.FIELDS])
    totals = [sum(getattr(r, f) for r in rows) for f in service.MetricRow.FIELDS[2:]]
    head = (
        f"{'course':<16} {'term':<10} {'generated':>9} {'assigned':>9} {'reassigned':>10} "
        f"{'wiped':>6}"
    )
    lines = [head] + [
        f"{r.course:<16} {r.term:<10} {r.generated:>9} {r.assigned:>9} {r.reassigned:>10} "
        f"{r.wiped:>6}"
        for r in rows
    ]
    lines.append(f"{'total':<27} {totals[0]:>9} {totals[1]:>9} {totals[2]:>10} {totals[3]:>6}")
    if dry_run:
        lines.append(f"would write {csv_path} ({len(rows)} row(s))")
    else:
        try:
            csv_path.write_text(out.getvalue(), encoding="utf-8")
        except OSError as error:
            fail([Problem(str(csv_path), "$", f"cannot write the CSV: {error.strerror}")])
        lines.append(f"wrote {csv_path} ({len(rows)} row(s))")
    emit(
        as_json,
        {"rows": [r.to_json() for r in rows], "csv": str(csv_path)},
        "\n".join(lines),
        dry_run,
    )


def _write_export(text: str, output: Path | None, dry_run: bool, as_json: bool) -> None:
    if output is None:
        if as_json:
            print(json.dumps({"text": text}))
        else:
            sys.stdout.write(text)
        return
    if dry_run:
        emit(
            as_json,
            {"would_write": str(output), "text": text},
            f"would write {output}:\n{text}",
            True,
        )
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        fail([Problem(str(output), "$", f"cannot write: {error.strerror}")])
    emit(as_json, {"wrote": str(output)}, f"wrote {output} ({len(text.splitlines())} lines)")


OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to this file (default: print).")
]


def export_sudoers_cmd(
    output: OutputOpt = None, at: AtOpt = None, dry_run: DryOpt = False, as_json: JsonOpt = False
) -> None:
    """The sudoers include letting each course's instructors and TAs act as its student
    accounts (instructors also as its TAs' accounts) on a shared login host. Check it with
    `visudo -c -f FILE` before installing it."""
    from coursegate.services.accounts import exports

    env = AccountsEnv(at)
    try:
        text = env.run(exports.sudoers, dry_run=True)
    finally:
        env.close()
    _write_export(text, output, dry_run, as_json)


def export_keys_cmd(
    course: Annotated[str | None, typer.Argument(help="The course (omit: every course).")] = None,
    instance: Annotated[str | None, typer.Argument(help="The course instance.")] = None,
    output: OutputOpt = None,
    at: AtOpt = None,
    dry_run: DryOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """authorized_keys lines with the public SSH keys of each course's instructors and TAs, for
    the machines of that course's students."""
    from coursegate.services.accounts import exports

    if (course is None) != (instance is None):
        fail(
            [Problem("command line", "course", "give both the course and the instance, or neither")]
        )
    env = AccountsEnv(at)
    try:

        def go(ctx: Ctx) -> str:
            from coursegate.services.common.places import find_course_instance

            ci = find_course_instance(ctx, course, instance) if course and instance else None
            return exports.authorized_keys(ctx, ci)

        text = env.run(go, dry_run=True)
    finally:
        env.close()
    _write_export(text, output, dry_run, as_json)


def add_key_cmd(
    uid: Annotated[str, typer.Argument(help="The user (e.g. an instructor).")],
    key_file: Annotated[str, typer.Argument(help="The public key file (.pub), or -.")],
    at: AtOpt = None,
    dry_run: DryOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Register a staff member's public SSH key (for export-authorized-keys)."""
    from coursegate.services.accounts import service

    text = read_input(key_file, "public key")
    env = AccountsEnv(at)
    try:
        view = env.run(lambda ctx: service.add_public_key(ctx, uid, text), dry_run=dry_run)
        emit(as_json, view.to_json(), f"{uid}: key {view.fingerprint} registered", dry_run)
    finally:
        env.close()
