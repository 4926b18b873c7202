"""Lists of people as staff paste them: user ids separated by spaces, commas, semicolons or
lines, each in its canonical form (:func:`coursegate.core.model.canonical_uid`)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from coursegate.core.model import canonical_uid

_SPLIT = re.compile(r"[\s,;]+")


def split_uids(text: str | Sequence[str]) -> list[str]:
    """Pasted uids (separated by spaces, commas, semicolons or lines), canonical, once each, in
    order (``Ana@Example.edu`` and ``ana@example.edu`` are one user)."""
    items = _SPLIT.split(text) if isinstance(text, str) else [str(u) for u in text]
    return list(dict.fromkeys(canonical_uid(u) for u in items if u.strip()))
