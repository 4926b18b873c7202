"""Lists of people as staff paste them: user ids separated by spaces, commas, semicolons or
lines."""

from __future__ import annotations

import re
from collections.abc import Sequence

_SPLIT = re.compile(r"[\s,;]+")


def split_uids(text: str | Sequence[str]) -> list[str]:
    """Pasted uids (separated by spaces, commas, semicolons or lines), once each, in order."""
    items = _SPLIT.split(text) if isinstance(text, str) else [str(u).strip() for u in text]
    return list(dict.fromkeys(u for u in items if u))
