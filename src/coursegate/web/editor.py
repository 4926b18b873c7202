"""The access-rule editor: every field of the modern ``accessControl`` list as a form, the JSON
beside it, and the problems ``coursegate validate`` would report.

The form and the JSON are two views of one value and convert both ways without loss: loading
JSON into the form and reading the form back gives the same JSON, keys in the same order
(``tests/web/test_editor.py`` checks it on every assessment of the example course and on
generated values). How a value is written in a field:

* an empty field is **absent** (not overridden); ``null`` is JSON ``null`` (it clears an
  inherited value); numbers, ``true``/``false`` and text are what they look like;
* text that would read as something else (``"null"``, ``""``, ``"100"`` where a number is
  expected) is written as JSON (``"100"`` in quotes) and the field is marked as JSON;
* a group of fields (``due``, ``afterComplete`` ...) is written when one of its fields is
  filled, or always (even empty), or as ``null`` — the "write" choice beside its title;
* keys the form has no field for are kept, as JSON, under "other keys" of their object;
* the order of the keys is kept.

Nothing here decides: the value is checked by :mod:`coursegate.courses` exactly as
``coursegate validate`` checks a file (the same reader, the same messages).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from coursegate.courses.assessments import AssessmentSource, assessment_config
from coursegate.courses.instance_settings import InstanceSettings
from coursegate.courses.keys import ASSESSMENT_KEYS, check_top_level
from coursegate.courses.problems import Problem
from coursegate.courses.reader import Reader
from coursegate.courses.reading import parse_json
from coursegate.store.models import Assessment


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()
"""A key that is not written."""


# -- the schema of the modern form -------------------------------------------------------------


@dataclass(frozen=True)
class Leaf:
    key: str
    kind: str
    """str | date | num | int | bool | labels | any"""
    label: str
    help: str = ""


@dataclass(frozen=True)
class Obj:
    key: str
    label: str
    fields: tuple[Leaf | Obj | Lst, ...]
    help: str = ""


@dataclass(frozen=True)
class Lst:
    key: str
    label: str
    item: Obj
    help: str = ""
    add: str = "Add"


Field = Leaf | Obj | Lst

DATE_HELP = "YYYY-MM-DDTHH:MM:SS in the course's time zone (an offset such as Z is honoured)"

REVEAL = (
    Leaf("hidden", "bool", "Hidden", "true: hidden after completion"),
    Leaf("visibleFromDate", "date", "Visible from", DATE_HELP),
    Leaf("visibleUntilDate", "date", "Visible until", "hidden again from this date"),
)
AFTER_COMPLETE = Obj(
    "afterComplete",
    "After completion",
    (
        Obj("questions", "Questions", REVEAL, "default: hidden (inside an exam link: shown)"),
        Obj("score", "Score", REVEAL, "default: visible; a hidden score hides the questions too"),
    ),
    "what students see once their attempt is complete",
)
DEADLINE = Obj(
    "deadline",
    "Deadline",
    (
        Leaf("date", "date", "Date", "the credit ends at this instant"),
        Leaf("credit", "num", "Credit %", "percent of full credit before this date"),
    ),
)
SESSION = Obj(
    "session",
    "Session",
    (
        Leaf("startDate", "date", "Starts", DATE_HELP),
        Leaf("endDate", "date", "Ends", DATE_HELP),
        Leaf("password", "str", "Password", "the session's own password"),
        Leaf("credit", "num", "Credit %", "default 100"),
        Leaf("comment", "any", "Comment"),
    ),
)
DATE_CONTROL = Obj(
    "dateControl",
    "Dates, credit, time limit, password",
    (
        Obj("release", "Release", (Leaf("date", "date", "Date", "opens at this instant"),)),
        Obj(
            "due",
            "Due date",
            (
                Leaf("date", "date", "Date", "null: open indefinitely at this credit"),
                Leaf("credit", "num", "Credit %", "default 100, up to 200"),
            ),
            "date and credit are replaced together by an override",
        ),
        Lst(
            "earlyDeadlines",
            "Early deadlines",
            DEADLINE,
            "bonus credit before the due date",
            "Add an early deadline",
        ),
        Lst(
            "lateDeadlines",
            "Late deadlines",
            DEADLINE,
            "reduced credit after the due date",
            "Add a late deadline",
        ),
        Obj(
            "afterLastDeadline",
            "After the last deadline",
            (
                Leaf("allowSubmissions", "bool", "Allow submissions", "false: view only"),
                Leaf("credit", "num", "Credit %", "0–99; 0 = practice"),
            ),
        ),
        Leaf("durationMinutes", "int", "Time limit (minutes)", "null removes an inherited one"),
        Leaf(
            "durationPercent",
            "num",
            "Time limit (% of the usual)",
            "overrides only: 150 = half again",
        ),
        Leaf("password", "str", "Password", "needed to start while submissions are accepted"),
        Lst(
            "sessions",
            "Sessions",
            SESSION,
            "dated sessions, each with its own password (replace release, due and deadlines)",
            "Add a session",
        ),
    ),
)
EXAM = Obj(
    "exam",
    "Exam",
    (
        Leaf("examUuid", "str", "Exam uuid", "the PrairieTest exam's uuid"),
        Leaf("readOnly", "bool", "Read only", "true: review only during reservations"),
        AFTER_COMPLETE,
    ),
)
INTEGRATIONS = Obj(
    "integrations",
    "Testing centre",
    (
        Obj(
            "prairieTest",
            "PrairieTest",
            (
                Lst(
                    "exams",
                    "Exams",
                    EXAM,
                    "access during the students' reservations",
                    "Add an exam",
                ),
            ),
        ),
    ),
    "defaults only",
)
DEFAULTS = Obj(
    "defaults",
    "Defaults (everyone)",
    (
        Leaf("comment", "any", "Comment", "for people reading the file; ignored"),
        Obj(
            "beforeRelease",
            "Before the release",
            (
                Leaf(
                    "listed", "bool", "Listed", "show the title (without a link) before the release"
                ),
            ),
        ),
        DATE_CONTROL,
        INTEGRATIONS,
        AFTER_COMPLETE,
    ),
)
OVERRIDE = Obj(
    "override",
    "Override",
    (
        Leaf("uuid", "str", "uuid", "required, unique"),
        Leaf(
            "labels", "labels", "Labels", "student labels (sections) it applies to, comma separated"
        ),
        Leaf("comment", "any", "Comment", "for people reading the file; ignored"),
        DATE_CONTROL,
        AFTER_COMPLETE,
    ),
)


def element_schema(i: int) -> Obj:
    return DEFAULTS if i == 0 else OVERRIDE


# -- leaves: text <-> JSON ----------------------------------------------------------------------

_INT = re.compile(r"^-?\d+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_FLOAT = re.compile(r"^-?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][+-]?\d+)$")


def _plain(kind: str, text: str) -> Any:
    """What a field's text means when it is not marked as JSON."""
    if text == "":
        return ABSENT
    if text == "null":
        return None
    if kind in ("num", "int"):
        if _INT.match(text):
            return int(text)
        if _FLOAT.match(text):
            return float(text)
        return text
    if kind == "bool":
        return {"true": True, "false": False}.get(text, text)
    if kind == "labels":
        if text == "[]":
            return []
        return [p.strip() for p in text.split(",") if p.strip()]
    return text


def _same(a: Any, b: Any) -> bool:
    if a is ABSENT or b is ABSENT:
        return a is b
    return json.dumps(a, sort_keys=False) == json.dumps(b, sort_keys=False)


def encode(kind: str, value: Any) -> tuple[str, bool]:
    """The text of a field holding ``value``, and whether it is written as JSON."""
    if value is ABSENT:
        return "", False
    if value is None:
        candidate = "null"
    elif isinstance(value, bool):
        candidate = "true" if value else "false"
    elif isinstance(value, int | float):
        candidate = json.dumps(value)
    elif isinstance(value, str):
        # A browser strips line breaks from a one-line field and rewrites them in a text box:
        # text with control characters travels as JSON (escaped), unchanged.
        candidate = "" if _CONTROL.search(value) else value
    elif isinstance(value, list) and kind == "labels" and all(isinstance(v, str) for v in value):
        candidate = ", ".join(value) if value else "[]"
    else:
        candidate = ""
    if kind == "bool" and candidate not in ("true", "false", "null"):
        candidate = ""  # the page offers only these for a flag: anything else travels as JSON
    if candidate != "" and _same(_plain(kind, candidate), value):
        return candidate, False
    return json.dumps(value, ensure_ascii=False), True


def load_json(text: str) -> Any:
    """JSON an instructor typed into a form, read with the course files' limits (nesting
    depth, duplicate keys, numbers): :class:`ValueError` says what is wrong, and where."""
    data, problems = parse_json(text, "the form")
    if problems:
        first = problems[0]
        where = "" if first.path == "$" else f" (at {first.path})"
        raise ValueError(first.message + where)
    return data


def decode(kind: str, text: str, as_json: bool) -> Any:
    if not as_json:
        return _plain(kind, text)
    if text.strip() == "":
        return ABSENT
    try:
        return load_json(text)
    except ValueError:
        return text


# -- the form's nodes -----------------------------------------------------------------------


@dataclass
class Node:
    """One field or group of the form, with what it holds."""

    spec: Field
    path: str
    text: str = ""
    as_json: bool = False
    state: str = ""
    """Groups: '' (written when filled), 'present' (even empty), 'null'."""
    extra: str = ""
    """Keys the form has no field for, as JSON."""
    order: str = ""
    children: list[Node] = field(default_factory=list)
    items: list[Node] = field(default_factory=list)
    raw: bool = False
    """The value does not have the shape of this group: edited as JSON."""
    error: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.path)

    @property
    def kind(self) -> str:
        if isinstance(self.spec, Leaf):
            return "leaf"
        return "list" if isinstance(self.spec, Lst) else "obj"

    def all(self) -> list[Node]:
        out = [self]
        for n in (*self.children, *self.items):
            out += n.all()
        return out


def build(spec: Field, path: str, value: Any) -> Node:
    """The node of ``spec`` at ``path`` holding ``value`` (ABSENT: not written)."""
    if isinstance(spec, Leaf):
        text, as_json = encode(spec.kind, value)
        return Node(spec, path, text=text, as_json=as_json)
    if isinstance(spec, Lst):
        if (
            value is ABSENT
            or value is None
            or (isinstance(value, list) and all(isinstance(v, dict) for v in value))
        ):
            node = Node(spec, path, state=_state(value))
            for i, item in enumerate(value if isinstance(value, list) else []):
                node.items.append(build(spec.item, f"{path}.{i}", item))
            return node
        return Node(spec, path, text=json.dumps(value, ensure_ascii=False, indent=1), raw=True)
    if value is ABSENT or value is None or isinstance(value, dict):
        obj = value if isinstance(value, dict) else {}
        known = {f.key for f in spec.fields}
        extras = {k: v for k, v in obj.items() if k not in known}
        node = Node(
            spec,
            path,
            state=_state(value),
            extra=json.dumps(extras, ensure_ascii=False, indent=1) if extras else "",
            order=",".join(obj),
        )
        for f in spec.fields:
            node.children.append(build(f, f"{path}.{f.key}", obj.get(f.key, ABSENT)))
        return node
    return Node(spec, path, text=json.dumps(value, ensure_ascii=False, indent=1), raw=True)


def _state(value: Any) -> str:
    if value is None:
        return "null"
    if value is ABSENT:
        return ""
    return "present" if not value else ""


def build_elements(elements: list[Any]) -> list[Node]:
    return [build(element_schema(i), f"e{i}", el) for i, el in enumerate(elements)]


# -- reading the form back ------------------------------------------------------------------


class FormError(ValueError):
    """The form cannot be read (an "other keys" box that is not a JSON object)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path


def read(spec: Field, path: str, form: Mapping[str, str]) -> Any:
    """The value of ``spec`` at ``path`` in the posted ``form`` (ABSENT: not written)."""
    if isinstance(spec, Leaf):
        return decode(spec.kind, form.get(path, ""), form.get(path + "#json") == "1")
    if form.get(path + "#raw") == "1":
        return decode("any", form.get(path, ""), True)
    state = form.get(path + "#state", "")
    if state == "null":
        return None
    if isinstance(spec, Lst):
        marker = re.compile(re.escape(path) + r"\.(\d+)#$")
        indices = sorted({int(m.group(1)) for k in form if (m := marker.match(k))})
        items = []
        for i in indices:
            got = read(spec.item, f"{path}.{i}", form)
            items.append({} if got is ABSENT else got)
        if not items and state != "present":
            return ABSENT
        return items
    out: dict[str, Any] = {}
    for f in spec.fields:
        v = read(f, f"{path}.{f.key}", form)
        if v is not ABSENT:
            out[f.key] = v
    extra_text = form.get(path + "#extra", "").strip()
    if extra_text:
        try:
            extras = load_json(extra_text)
        except ValueError:
            raise FormError(
                path, 'other keys: not JSON (write an object like {"key": 1})'
            ) from None
        if not isinstance(extras, dict):
            raise FormError(path, "other keys: must be a JSON object {...}")
        for k, v in extras.items():
            out.setdefault(k, v)
    order = [k for k in form.get(path + "#order", "").split(",") if k]
    keys = [k for k in order if k in out] + [k for k in out if k not in order]
    ordered = {k: out[k] for k in keys}
    if not ordered and state != "present":
        return ABSENT
    return ordered


def read_elements(form: Mapping[str, str]) -> list[Any]:
    marker = re.compile(r"^e(\d+)#$")
    indices = sorted({int(m.group(1)) for k in form if (m := marker.match(k))})
    out: list[Any] = []
    for n, i in enumerate(indices):
        got = read(element_schema(n), f"e{i}", form)
        out.append({} if got is ABSENT else got)
    return out


# -- operations ------------------------------------------------------------------------------


def apply(elements: list[Any], op: str) -> list[Any]:
    """``add:<list path>``, ``remove:<item path>``, ``add-override``: the form's buttons."""
    if op == "add-override":
        return [*elements, {"uuid": str(uuid.uuid4()), "labels": []}]
    kind, _, path = op.partition(":")
    if kind not in ("add", "remove") or not path:
        return elements
    parts = path.split(".")
    if not parts[0].startswith("e") or not parts[0][1:].isdigit():
        return elements
    top = int(parts[0][1:])
    if top >= len(elements):
        return elements
    copy: list[Any] = json.loads(json.dumps(elements))
    if kind == "remove" and len(parts) == 1:
        if top > 0:
            del copy[top]
        return copy
    holder: Any = copy[top]
    keys = parts[1:]
    if kind == "remove":
        *keys, last = keys
    for k in keys:
        if isinstance(holder, list) and k.isdigit() and int(k) < len(holder):
            holder = holder[int(k)]
        elif isinstance(holder, dict):
            holder = holder.setdefault(k, [] if k == keys[-1] and kind == "add" else {})
        else:
            return elements
    if kind == "add" and isinstance(holder, list):
        holder.append({})
    elif kind == "add" and holder is None:
        return elements
    elif kind == "remove" and isinstance(holder, list) and last.isdigit():
        i = int(last)
        if i < len(holder):
            del holder[i]
    return copy


# -- the JSON and its problems ---------------------------------------------------------------


def access_json(access: Mapping[str, Any]) -> str:
    """The access keys as they go into infoAssessment.json."""
    return json.dumps(dict(access), indent=2, ensure_ascii=False)


def file_of(instance: str, aid: str) -> str:
    return f"courseInstances/{instance}/assessments/{aid}/infoAssessment.json"


@dataclass(frozen=True)
class Checked:
    problems: tuple[Problem, ...]
    source: AssessmentSource | None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


def check(
    access: Mapping[str, Any],
    row: Assessment,
    instance: str,
    settings: InstanceSettings,
    tz: ZoneInfo,
) -> Checked:
    """The problems ``coursegate validate`` reports for this assessment with ``access`` as its
    access keys (the rest of the file as synced), and the configuration when it is valid."""
    data: dict[str, Any] = {
        k: v
        for k, v in (
            ("uuid", row.uuid),
            ("type", row.type),
            ("title", row.title),
            ("set", row.set_name),
            ("number", row.number),
        )
        if v
    }
    data.update(access)
    file = file_of(instance, row.aid)
    problems = check_top_level(data, ASSESSMENT_KEYS, file)
    r = Reader(file, tz)
    source = assessment_config(r, data, row.aid, settings)
    problems += r.problems
    ok = source is not None and not any(p.severity == "error" for p in problems)
    order = sorted(problems, key=lambda p: (p.severity != "error", p.path))
    return Checked(tuple(order), source if ok else None)


def field_path(problem_path: str) -> str:
    """``$.accessControl[0].dateControl.due.date`` → ``e0.dateControl.due.date``."""
    rest = problem_path.removeprefix("$.accessControl")
    if rest == problem_path:
        return ""
    m = re.match(r"^\[(\d+)\](.*)$", rest)
    if m is None:
        return ""
    tail = re.sub(r"\[(\d+)\]", r".\1", m.group(2))
    return f"e{m.group(1)}{tail}"


def attach(nodes: list[Node], problems: tuple[Problem, ...]) -> list[Problem]:
    """Put each problem on the nearest field of the form; return those that fit none."""
    by_path = {n.path: n for top in nodes for n in top.all()}
    loose: list[Problem] = []
    for p in problems:
        path = field_path(p.path)
        while path and path not in by_path:
            path = path.rpartition(".")[0]
        if path:
            by_path[path].error.append(("warning: " if p.severity == "warning" else "") + p.message)
        else:
            loose.append(p)
    return loose
