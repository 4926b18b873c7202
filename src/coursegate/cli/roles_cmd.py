"""``coursegate roles``: ask what a user may do, grant a role, define a custom role, show the
privilege table. A thin layer over :mod:`coursegate.roles`: read JSON, call, print JSON.

Exit status: 0 when the request was answered (a refusal or an empty permission is an answer),
2 when the request (or a table file) could not be read; then it says why, naming the file, in the
one error style of :mod:`coursegate.cli.errors` (``{"errors": [{"file": ..., "path": ...,
"message": ...}]}`` on stdout with ``--json`` or in a script).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from coursegate.cli.errors import ErrorsJsonOpt, fail
from coursegate.cli.roles_requests import (
    AllowedRequest,
    AssignRequest,
    DefineRequest,
    RequestError,
    RequestProblem,
    World,
    build_context,
    build_custom_role,
    build_grant,
    build_index,
    build_selected,
    parse_area_at,
    read_request,
)
from coursegate.courses.problems import Problem
from coursegate.roles import (
    Area,
    CustomRole,
    Level,
    RoleAssignment,
    RoleIndex,
    RoleTable,
    SelectedRole,
    TableError,
    assign,
    define_custom_role,
    evaluate,
)

M = TypeVar("M", bound=World)
B = TypeVar("B")

app = typer.Typer(
    help=(
        "Roles and privileges: what a user may do where and when (allowed), granting roles "
        "(assign), custom roles (define) and the privilege table (table). Requests are JSON "
        "files (or - for standard input); answers are JSON on standard output."
    ),
    no_args_is_help=True,
    add_completion=False,
)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="roles")


RequestOption = Annotated[
    str,
    typer.Option(
        "--request",
        "-r",
        help="The JSON request file, or - to read it from standard input.",
        metavar="FILE|-",
    ),
]
RolesTabOption = Annotated[
    Path | None,
    typer.Option(
        "--roles-tab",
        help="A roles.tab whose rows extend (or, with --replace-table, replace) the shipped table.",
        metavar="FILE",
    ),
]
PlainTabOption = Annotated[
    Path | None,
    typer.Option(
        "--rolesplain-tab",
        help="A rolesplain.tab with plain-English names for the codes of --roles-tab.",
        metavar="FILE",
    ),
]
ReplaceOption = Annotated[
    bool,
    typer.Option(
        "--replace-table",
        help="Use only --roles-tab and --rolesplain-tab instead of extending the shipped table.",
    ),
]


class _BadInput(Exception):
    def __init__(self, file: str, problems: list[RequestProblem]) -> None:
        super().__init__(file)
        self.file = file
        self.problems = problems


def _emit(payload: dict[str, Any]) -> None:
    typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))


def _fail(error: _BadInput) -> NoReturn:
    fail([Problem(error.file, problem.path, problem.message) for problem in error.problems])


def _read_text(name: str, what: str) -> str:
    if name == "-":
        return sys.stdin.read()
    try:
        return Path(name).read_text(encoding="utf-8")
    except OSError as error:
        reason = error.strerror or str(error)
        raise _BadInput(name, [RequestProblem("$", f"cannot read the {what}: {reason}")]) from None
    except UnicodeDecodeError as error:
        raise _BadInput(
            name, [RequestProblem("$", f"the {what} is not UTF-8 text: {error.reason}")]
        ) from None


def _load_table(roles_tab: Path | None, rolesplain_tab: Path | None, replace: bool) -> RoleTable:
    if replace and (roles_tab is None or rolesplain_tab is None):
        raise _BadInput(
            "command line",
            [
                RequestProblem(
                    "$",
                    "--replace-table needs both --roles-tab and --rolesplain-tab",
                )
            ],
        )
    if roles_tab is None and rolesplain_tab is None:
        return RoleTable.default()
    roles_text = _read_text(str(roles_tab), "roles table") if roles_tab is not None else ""
    plain_text = (
        _read_text(str(rolesplain_tab), "plain names table") if rolesplain_tab is not None else ""
    )
    roles_name = str(roles_tab) if roles_tab is not None else "roles.tab"
    plain_name = str(rolesplain_tab) if rolesplain_tab is not None else "rolesplain.tab"
    try:
        if replace:
            return RoleTable.parse(
                roles_text, plain_text, roles_source=roles_name, plain_source=plain_name
            )
        return RoleTable.default().extended(
            roles_text, plain_text, roles_source=roles_name, plain_source=plain_name
        )
    except TableError as error:
        where = f"line {error.line}" if error.line is not None else "$"
        raise _BadInput(error.source, [RequestProblem(where, error.reason)]) from None


def _file_name(request: str) -> str:
    return "<stdin>" if request == "-" else request


def _known_user(index: RoleIndex, problems: list[RequestProblem], path: str, uid: str) -> None:
    if index.user(uid) is None:
        problems.append(RequestProblem(path, f"no user {uid!r} among the users"))


def _prepare(
    request: str,
    roles_tab: Path | None,
    rolesplain_tab: Path | None,
    replace_table: bool,
    model: type[M],
    build: Callable[[M, RoleIndex, RoleTable, list[RequestProblem]], B | None],
) -> tuple[M, RoleIndex, RoleTable, B]:
    """Read the table and the request, build the index and what the command needs; any problem
    exits with status 2 and the errors JSON."""
    try:
        table = _load_table(roles_tab, rolesplain_tab, replace_table)
        text = _read_text(request, "request")
        try:
            parsed = read_request(text, model)
            index = build_index(parsed, table)
            problems: list[RequestProblem] = []
            built = build(parsed, index, table, problems)
            if problems or built is None:
                raise RequestError(problems)
        except RequestError as error:
            raise _BadInput(_file_name(request), list(error.problems)) from None
    except _BadInput as error:
        _fail(error)
    return parsed, index, table, built


@app.command("allowed")
def allowed_command(
    request: RequestOption,
    roles_tab: RolesTabOption = None,
    rolesplain_tab: PlainTabOption = None,
    replace_table: ReplaceOption = False,
    as_json: ErrorsJsonOpt = False,
) -> None:
    """Print the merged permission of a privilege (F, "" or condition letters) and why.

    With a "context" in the request, also print the decision after evaluating conditions.
    """

    def build(
        parsed: AllowedRequest, index: RoleIndex, table: RoleTable, problems: list[RequestProblem]
    ) -> tuple[Area, SelectedRole | None] | None:
        _known_user(index, problems, "$.uid", parsed.uid)
        if parsed.privilege not in table.privileges:
            problems.append(
                RequestProblem(
                    "$.privilege",
                    f"{parsed.privilege!r} is not a privilege of the role table; "
                    "`coursegate roles table` lists them",
                )
            )
        area = parse_area_at(problems, "$.area", parsed.area)
        selected = build_selected(problems, "$.selected", parsed.selected)
        return None if area is None else (area, selected)

    parsed, index, table, (area, selected) = _prepare(
        request, roles_tab, rolesplain_tab, replace_table, AllowedRequest, build
    )
    permission = index.allowed(parsed.uid, parsed.privilege, area, at=parsed.at, selected=selected)
    payload: dict[str, Any] = {
        "permission": permission.value,
        "explanation": list(permission.explanation),
    }
    context = build_context(parsed.context)
    if context is not None:
        decision = evaluate(permission, context, at=parsed.at, table=table)
        payload["decision"] = {"allowed": decision.allowed, "reasons": list(decision.reasons)}
    _emit(payload)


@app.command("assign")
def assign_command(
    request: RequestOption,
    roles_tab: RolesTabOption = None,
    rolesplain_tab: PlainTabOption = None,
    replace_table: ReplaceOption = False,
    as_json: ErrorsJsonOpt = False,
) -> None:
    """Grant the role in "grant" on behalf of "actor"; print ok or refused, and why."""

    def build(
        parsed: AssignRequest, index: RoleIndex, table: RoleTable, problems: list[RequestProblem]
    ) -> RoleAssignment | None:
        _known_user(index, problems, "$.actor", parsed.actor)
        _known_user(index, problems, "$.grant.uid", parsed.grant.uid)
        return build_grant(problems, parsed.grant)

    parsed, index, _, grant = _prepare(
        request, roles_tab, rolesplain_tab, replace_table, AssignRequest, build
    )
    result = assign(index, parsed.actor, grant, at=parsed.at)
    _emit({"result": "ok" if result.ok else "refused", "reason": result.reason})


@app.command("define")
def define_command(
    request: RequestOption,
    roles_tab: RolesTabOption = None,
    rolesplain_tab: PlainTabOption = None,
    replace_table: ReplaceOption = False,
    as_json: ErrorsJsonOpt = False,
) -> None:
    """Define the custom role in "custom_role" on behalf of "actor"; print ok or refused
    with the level and privilege outside the template (e.g. c:mgr)."""

    def build(
        parsed: DefineRequest, index: RoleIndex, table: RoleTable, problems: list[RequestProblem]
    ) -> CustomRole | None:
        _known_user(index, problems, "$.actor", parsed.actor)
        return build_custom_role(problems, "$.custom_role", parsed.custom_role)

    parsed, index, _, role = _prepare(
        request, roles_tab, rolesplain_tab, replace_table, DefineRequest, build
    )
    result = define_custom_role(index, parsed.actor, role, at=parsed.at)
    if result.ok:
        _emit({"result": "ok"})
    else:
        _emit({"result": "refused", "refused": result.refused, "reason": result.reason})


@app.command("table")
def table_command(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the table as JSON instead of text.")
    ] = False,
    roles_tab: RolesTabOption = None,
    rolesplain_tab: PlainTabOption = None,
    replace_table: ReplaceOption = False,
) -> None:
    """Print every role's privileges, level by level, in plain English."""
    try:
        table = _load_table(roles_tab, rolesplain_tab, replace_table)
    except _BadInput as error:
        _fail(error)
    if as_json:
        _emit({"roles": [_role_json(table, role) for role in table.roles]})
        return
    lines: list[str] = []
    for role in table.roles:
        lines.append(table.describe(role))
        for level in table.levels_of(role):
            privileges = table.row(role, level)
            lines.append(f"  {table.name(level.value)}:")
            if not privileges:
                lines.append("    (nothing)")
            for code, letters in privileges.items():
                limit = (
                    f" ({', '.join(table.name(letter) for letter in letters)})" if letters else ""
                )
                lines.append(f"    {code}  {table.name(code)}{limit}")
        lines.append("")
    typer.echo("\n".join(lines).rstrip("\n"))


def _role_json(table: RoleTable, role: str) -> dict[str, Any]:
    levels: dict[str, list[dict[str, str]]] = {}
    for level in table.levels_of(role):
        levels[Level(level).value] = [
            {
                "privilege": code,
                "name": table.name(code),
                "permission": letters or "F",
                "conditions": table.describe_conditions(letters),
            }
            for code, letters in table.row(role, level).items()
        ]
    return {"role": role, "name": table.name(role), "levels": levels}


if __name__ == "__main__":  # pragma: no cover - `python -m coursegate.cli.roles_cmd`
    app()
