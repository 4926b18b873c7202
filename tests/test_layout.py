"""The shape of the source tree (issue 14): ARCHITECTURE.md's codemap names every package and
only packages that exist; no module is longer than ~600 lines nor any function longer than ~80,
unless it says why in its opening words.

The import contracts themselves (layers, the independence of the three systems, the purity of
the cores) are checked by ``lint-imports`` in ``make test``; this file checks what import-linter
cannot.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "coursegate"
ARCHITECTURE = ROOT / "ARCHITECTURE.md"

MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80
# A longer module says so in its docstring: "One cohesive thing: <why>".
COHESIVE = "One cohesive thing:"
# Migrations are history: a shipped migration is never edited, so its length is what it was.
FROZEN = SRC / "store" / "migrations" / "versions"


def _packages() -> set[str]:
    """Every package under src/coursegate, as a path like ``services/access``."""
    return {
        str(p.parent.relative_to(SRC))
        for p in SRC.rglob("__init__.py")
        if p.parent != SRC and "__pycache__" not in p.parts
    } | {
        # directories of modules without an __init__ (the migrations' versions)
        str(p.relative_to(SRC))
        for p in SRC.rglob("*")
        if p.is_dir() and any(p.glob("*.py")) and p != SRC and "__pycache__" not in p.parts
    }


def _codemap_packages() -> set[str]:
    """The packages named in ARCHITECTURE.md's headings (``### `services/access/` ``)."""
    headings = re.findall(r"^#{2,4} .*$", ARCHITECTURE.read_text(encoding="utf-8"), re.M)
    return {name for h in headings for name in re.findall(r"`([\w/]+)/`", h)}


def test_the_codemap_names_every_package_and_only_packages_that_exist() -> None:
    named, real = _codemap_packages(), _packages()
    assert named, "ARCHITECTURE.md names no package (headings like ### `services/access/`)"
    assert not real - named, (
        f"packages missing from ARCHITECTURE.md's codemap: {sorted(real - named)}"
    )
    assert not named - real, (
        f"ARCHITECTURE.md names packages that do not exist: {sorted(named - real)}"
    )


def _python_files() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "__pycache__" not in p.parts)


def test_no_module_is_longer_than_600_lines_unless_it_says_why() -> None:
    long = []
    for path in _python_files():
        lines = path.read_text(encoding="utf-8").count("\n")
        if lines <= MAX_MODULE_LINES or FROZEN in path.parents:
            continue
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        if COHESIVE not in doc:
            long.append(f"{path.relative_to(SRC)} ({lines} lines)")
    assert not long, f"split these modules, or say '{COHESIVE} ...' in their docstring: {long}"


def test_no_function_is_longer_than_80_lines() -> None:
    long = []
    for path in _python_files():
        if FROZEN in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                first = node.decorator_list[0].lineno if node.decorator_list else node.lineno
                length = (node.end_lineno or node.lineno) - first + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name} ({length})")
    assert not long, f"functions longer than {MAX_FUNCTION_LINES} lines: {long}"


def test_nothing_lies_loose_at_the_top_of_the_package() -> None:
    loose = sorted(p.name for p in SRC.glob("*.py") if p.name != "__init__.py")
    assert not loose, f"modules at the top of the package belong in a package: {loose}"
