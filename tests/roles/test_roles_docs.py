"""docs/roles.md stays true: its worked-example table is what the code answers."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from roles_support import seed_index

from coursegate.roles import Area

DOC = Path(__file__).resolve().parents[2] / "docs" / "roles.md"
MICHIGAN = ZoneInfo("America/Detroit")


def _table() -> tuple[list[str], list[list[str]]]:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(
        r"<!-- worked-examples:start -->\n(.*?)<!-- worked-examples:end -->", text, re.DOTALL
    )
    assert block is not None, "the worked-example table is missing from docs/roles.md"
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in block.group(1).splitlines()
        if line.startswith("|")
    ]
    header, _rule, *body = rows
    return header, body


HEADER, BODY = _table()


def test_the_table_has_rows_for_both_users() -> None:
    assert {row[0] for row in BODY} == {"smith", "jones"}
    assert len(HEADER) == 8


@pytest.mark.parametrize("row", BODY, ids=[f"{r[0]}-{r[1]}-{r[2]}" for r in BODY])
def test_worked_example_row(row: list[str]) -> None:
    index = seed_index()
    uid, privilege, area = row[0], row[1], Area.parse(row[2])
    for label, expected in zip(HEADER[3:], row[3:], strict=True):
        at = _instant(label)
        value = index.allowed(uid, privilege, area, at=at).value
        assert value == ("" if expected == '""' else expected), (uid, privilege, area, label)


def _instant(label: str) -> datetime:
    """``2001-02-21 14:00`` or ``2001-03-01``, in East Lansing."""
    layout = "%Y-%m-%d %H:%M" if ":" in label else "%Y-%m-%d"
    return datetime.strptime(label, layout).replace(tzinfo=MICHIGAN)
