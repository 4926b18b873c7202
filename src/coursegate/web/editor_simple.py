"""The access-rule editor's simple mode: the release, due date and credit of each element
(defaults and overrides), and the date and credit of each early and late deadline it already
has. Everything else in the rules is kept as it is: the whole JSON travels with the form and
only these fields are applied to it (:func:`apply_simple`). Fields are named as the full form
names them (``e0.dateControl.due.date``), so the validator's messages land beside them."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from coursegate.courses.problems import Problem
from coursegate.web.editor import ABSENT, DATE_HELP, Leaf, decode, encode, field_path

SIMPLE_LEAVES: tuple[tuple[str, Leaf], ...] = (
    ("dateControl.release.date", Leaf("date", "date", "Release", "opens at this instant")),
    ("dateControl.due.date", Leaf("date", "date", "Due date", "full credit until this instant")),
    ("dateControl.due.credit", Leaf("credit", "num", "Credit % until due", "default 100")),
)
"""What the simple mode shows of every element (defaults and each override), plus the date
and credit of each early and late deadline it already has. Everything else is kept as it is."""
SIMPLE_DEADLINES = (("earlyDeadlines", "Early deadline"), ("lateDeadlines", "Late deadline"))


@dataclass
class SimpleField:
    path: str
    """As the full form names it: ``e0.dateControl.due.date``."""
    spec: Leaf
    text: str
    as_json: bool
    error: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return "s-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.path)


@dataclass
class SimpleElement:
    title: str
    fields: list[SimpleField]


def _at(value: Any, parts: list[str]) -> Any:
    for part in parts:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return ABSENT
    return value


def _simple_paths(i: int, element: Any) -> list[tuple[str, Leaf]]:
    paths = [(f"e{i}.{p}", leaf) for p, leaf in SIMPLE_LEAVES]
    for key, label in SIMPLE_DEADLINES:
        items = _at(element, ["dateControl", key])
        for n, item in enumerate(items if isinstance(items, list) else []):
            if not isinstance(item, dict):
                continue
            base = f"e{i}.dateControl.{key}.{n}"
            paths.append((f"{base}.date", Leaf("date", "date", f"{label} {n + 1}", DATE_HELP)))
            paths.append(
                (
                    f"{base}.credit",
                    Leaf(
                        "credit",
                        "num",
                        "Credit % until it",
                        "percent of full credit until that date",
                    ),
                )
            )
    return paths


def simple_elements(elements: list[Any]) -> list[SimpleElement]:
    """The simple mode's fields of each element, filled from ``elements``."""
    out: list[SimpleElement] = []
    for i, element in enumerate(elements):
        if i == 0:
            title = "Everyone"
        else:
            labels = _at(element, ["labels"])
            named = ", ".join(labels) if isinstance(labels, list) else ""
            title = f"Override {i}" + (f" (students labelled {named})" if named else "")
        fields = []
        for path, leaf in _simple_paths(i, element):
            text, as_json = encode(leaf.kind, _at(element, path.split(".")[1:]))
            fields.append(SimpleField(path, leaf, text, as_json))
        out.append(SimpleElement(title, fields))
    return out


def _put(element: dict[str, Any], parts: list[str], value: Any) -> None:
    """Set (or, with ABSENT, remove) the value at ``parts``; groups emptied by a removal go."""
    trail: list[tuple[Any, str]] = []
    holder: Any = element
    for part in parts[:-1]:
        trail.append((holder, part))
        if isinstance(holder, list):
            holder = holder[int(part)]
            continue
        nxt = holder.get(part)
        if not isinstance(nxt, dict | list):
            if value is ABSENT:
                return
            nxt = holder[part] = {}
        holder = nxt
    last = parts[-1]
    if value is not ABSENT:
        holder[last] = value
        return
    if isinstance(holder, dict) and last in holder:
        del holder[last]
        for parent, key in reversed(trail):
            child = parent[int(key)] if isinstance(parent, list) else parent[key]
            if child or isinstance(parent, list):
                break
            del parent[key]


def apply_simple(elements: list[Any], form: Mapping[str, str]) -> list[Any]:
    """``elements`` with the simple mode's fields as posted (fields not posted stay)."""
    copy: list[Any] = json.loads(json.dumps(elements))
    for i, element in enumerate(copy):
        if not isinstance(element, dict):
            continue
        for path, leaf in _simple_paths(i, element):
            if path not in form:
                continue
            value = decode(leaf.kind, form[path].strip(), form.get(path + "#json") == "1")
            _put(element, path.split(".")[1:], value)
    return copy


def attach_simple(groups: list[SimpleElement], problems: tuple[Problem, ...]) -> list[Problem]:
    """Put each problem beside the simple field it is about; return the others."""
    by_path = {f.path: f for g in groups for f in g.fields}
    loose: list[Problem] = []
    for p in problems:
        path = field_path(p.path)
        hit = by_path.get(path) or next(
            (f for f in by_path.values() if f.path.startswith(path + ".") and path.count(".") > 1),
            None,
        )
        if hit is None:
            loose.append(p)
        else:
            hit.error.append(("warning: " if p.severity == "warning" else "") + p.message)
    return loose
