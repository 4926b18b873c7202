"""Reading CSV imports: rows with their line numbers, every bad cell or row reported at once
(:class:`BadCsv`), the report of what an import did, and looking rows up in batches."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from coursegate.services.common.errors import EveryProblem, count

_CHUNK = 500
"""Rows per ``IN (...)`` query (SQLite limits the number of parameters)."""


@dataclass(frozen=True)
class CsvProblem:
    """One bad cell or row of a CSV file: its line number (1 = the header), column and why."""

    line: int
    column: str
    message: str

    def render(self) -> str:
        return f"line {self.line}, {self.column}: {self.message}"


class BadCsv(EveryProblem[CsvProblem]):
    """A CSV file with bad rows: all of them are listed, and nothing was written."""

    def __init__(self, problems: Sequence[CsvProblem], what: str = "the CSV file") -> None:
        super().__init__(problems, f"{what} has {count(len(problems), 'problem')}", "csv")


@dataclass
class ImportReport:
    """What an import did: rows that created something, and rows already in the store."""

    created: int = 0
    unchanged: int = 0
    lines: list[str] = field(default_factory=list)
    """One line per created row, for the command line."""


def read_csv(
    text: str, required: Sequence[str], optional: Sequence[str] = ()
) -> list[tuple[int, dict[str, str]]]:
    """The rows of a CSV file with a header line, as ``(line number, {column: value})``.

    Values are stripped; empty lines are skipped. Raises :class:`BadCsv` when the header lacks a
    required column, names an unknown one, or a row has more cells than the header.
    """
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise BadCsv([CsvProblem(1, "header", "the file is empty")]) from None
    except csv.Error as error:
        raise BadCsv([CsvProblem(1, "header", f"not readable as CSV: {error}")]) from None
    known = (*required, *optional)
    problems = [
        CsvProblem(1, "header", f"the column {name!r} is missing")
        for name in required
        if name not in header
    ]
    problems += [
        CsvProblem(1, "header", f"{name!r} is not a column; use {', '.join(known)}")
        for name in header
        if name not in known
    ]
    if problems:
        raise BadCsv(problems)
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > len(header):
                problems.append(
                    CsvProblem(line, "row", f"{len(cells)} cells but the header has {len(header)}")
                )
                continue
            values = {
                name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(header)
            }
            rows.append((line, values))
    except csv.Error as error:
        problems.append(CsvProblem(reader.line_num, "row", f"not readable as CSV: {error}"))
    if problems:
        raise BadCsv(problems)
    return rows


def chunks(items: Sequence[str], size: int = _CHUNK) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


__all__ = [
    "BadCsv",
    "CsvProblem",
    "ImportReport",
    "chunks",
    "read_csv",
]
