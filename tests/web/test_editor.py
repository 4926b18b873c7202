"""The access-rule editor's form and JSON convert both ways without loss: the form the page
renders (its real templates), read back as a browser would post it, gives exactly the JSON it
was built from — key order included — for every assessment of the example course and for
generated values, well-formed or not. And the timeline picture is well-formed SVG."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from html_forms import form_fields
from hypothesis import example, given, settings
from hypothesis import strategies as st

from coursegate.cli import demo_world as demo
from coursegate.web import editor as E
from coursegate.web.pages import ENV

FORM = ENV.from_string(
    """{% import "_rules_nodes.html" as R %}<form action="/x">
{% for top in nodes %}<input type="hidden" name="{{ top.path }}#" value="1">
{% if top.order %}
<input type="hidden" name="{{ top.path }}#order" value="{{ top.order }}">{% endif %}
{% for ch in top.children %}{{ R.node(ch, 1) }}{% endfor %}{{ R.extra(top) }}{% endfor %}
</form>"""
)


def through_the_page(elements: list[Any]) -> list[Any]:
    """Render the form of ``elements`` with the page's templates, read it as a browser posts
    it, and read the JSON back."""
    page = FORM.render(nodes=E.build_elements(elements), me=None)
    return E.read_elements(form_fields(page, "/x"))


def same(a: Any, b: Any) -> bool:
    return json.dumps(a, ensure_ascii=False) == json.dumps(b, ensure_ascii=False)


def test_every_modern_assessment_of_the_example_course_round_trips() -> None:
    found = 0
    for path in sorted(Path(demo.EXAMPLE_COURSE).glob("courseInstances/*/assessments/**/*.json")):
        data = json.loads(path.read_text())
        ac = data.get("accessControl")
        if not isinstance(ac, list):
            continue
        found += 1
        assert same(through_the_page(ac), ac), path
    assert found >= 8


def test_values_the_form_has_no_field_for_are_kept() -> None:
    odd = [
        {
            "comment": {"why": ["a", 1]},
            "dateControl": {
                "due": {"date": None, "credit": 100.0},
                "durationMinutes": None,
                "earlyDeadlines": [],
                "password": "null",
                "lateDeadlines": None,
                "credit": "typo",
            },
            "zzz": 3,
            "afterComplete": {},
        },
        {"uuid": "x", "labels": ["a, b", "c"], "dateControl": {"durationPercent": "150"}},
        {"labels": [], "dateControl": {"earlyDeadlines": ["not an object"]}, "comment": "l1\nl2"},
    ]
    assert same(through_the_page(odd), odd)


def test_the_buttons_add_and_remove_rows() -> None:
    base: list[Any] = [{"dateControl": {"release": {"date": "2024-01-01T00:00:00"}}}]
    grown = E.apply(base, "add:e0.dateControl.lateDeadlines")
    assert grown[0]["dateControl"]["lateDeadlines"] == [{}]
    assert (
        E.apply(grown, "remove:e0.dateControl.lateDeadlines.0")[0]["dateControl"]["lateDeadlines"]
        == []
    )
    two = E.apply(base, "add-override")
    assert len(two) == 2 and two[1]["labels"] == [] and len(two[1]["uuid"]) == 36
    assert E.apply(two, "remove:e1") == base
    assert E.apply(two, "remove:e0") == two  # the defaults stay
    assert E.apply(base, "nonsense") == base


def test_problems_land_on_their_fields() -> None:
    nodes = E.build_elements([{"dateControl": {"due": {"date": "x"}}}, {"labels": ["nope"]}])
    from coursegate.courses.problems import Problem

    loose = E.attach(
        nodes,
        (
            Problem("f", "$.accessControl[0].dateControl.due.date", "bad date"),
            Problem("f", "$.accessControl[1].labels[0]", "unknown label"),
            Problem("f", "$.title", "elsewhere"),
        ),
    )
    by_path = {n.path: n for top in nodes for n in top.all()}
    assert by_path["e0.dateControl.due.date"].error == ["bad date"]
    assert by_path["e1.labels"].error == ["unknown label"]
    assert [p.message for p in loose] == ["elsewhere"]


# -- generated values -------------------------------------------------------------------------

TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"),
    max_size=12,
)
KEY = st.text(alphabet="abcdefghijklmnopqrstuvwxyzAB_", min_size=1, max_size=8)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False, allow_infinity=False, width=64)
    | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEY, inner, max_size=3),
    max_leaves=8,
)


def shaped(spec: E.Field) -> st.SearchStrategy[Any]:
    """Values with the shape the form expects — often — and anything else, sometimes."""
    if isinstance(spec, E.Leaf):
        typed = {
            "str": TEXT,
            "date": st.sampled_from(["2024-03-21T23:59:00", "2024-02-30T10:00", "soon"]),
            "num": st.integers(0, 300) | st.floats(0, 300, allow_nan=False) | st.just("100"),
            "int": st.integers(-5, 300),
            "bool": st.booleans(),
            "labels": st.lists(TEXT, max_size=3),
            "any": TEXT,
        }[spec.kind]
        return st.one_of(typed, typed, st.none(), JSON)
    if isinstance(spec, E.Lst):
        return st.one_of(st.lists(shaped(spec.item), max_size=2), st.none(), JSON)
    pairs = st.lists(
        st.one_of(
            *[st.tuples(st.just(f.key), st.deferred(lambda f=f: shaped(f))) for f in spec.fields],
            st.tuples(KEY, JSON),
        ),
        max_size=4,
        unique_by=lambda kv: kv[0],
    )
    return st.one_of(pairs.map(dict), pairs.map(dict), st.none(), JSON)


ELEMENTS = st.tuples(
    shaped(E.DEFAULTS).filter(lambda v: isinstance(v, dict)),
    st.lists(shaped(E.OVERRIDE).filter(lambda v: isinstance(v, dict)), max_size=2),
).map(lambda t: [t[0], *t[1]])


@settings(max_examples=150, deadline=None)
@given(ELEMENTS)
@example([{"afterComplete": {"questions": {"hidden": "0"}}}])  # a flag holding text
def test_generated_rules_round_trip(elements: list[Any]) -> None:
    assert same(through_the_page(elements), elements)


# -- the timeline picture ---------------------------------------------------------------------


def test_the_timeline_svg_is_well_formed_and_escapes_names() -> None:
    from coursegate.core.instants import parse_date, zone
    from coursegate.services.access.staff.publishing import Publishing
    from coursegate.services.access.staff.timeline_lanes import AssessmentTimeline, Lane, Segment
    from coursegate.web.svg import bar_chart, timeline_svg

    tz = zone("America/Chicago")
    t0 = parse_date("2024-02-01T00:00", tz)[0]
    day = 86_400_000_000
    lanes = (
        Lane("defaults", "defaults", (Segment(t0, t0 + 3 * day, "credit", 110, "110%", 60, True),
                                      Segment(t0 + 3 * day, t0 + 9 * day, "practice", 0, "", None,
                                              False)), t0 + 3 * day, (), ()),
        Lane('<script>"x" & y</script>', "student", (), None, (), ()),
    )  # fmt: skip
    tl = AssessmentTimeline("hw/<1>", "T", "modern", lanes, t0 + day, Publishing(True, "published"),
                            Publishing(True, "published"))  # fmt: skip
    svg = timeline_svg(tl, tz)
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert "<script>" not in svg
    texts = ["".join(t.itertext()) for t in root.iter(ns + "text")]
    assert '<script>"x" & y</script>' in "".join(texts)
    titles = [t.text or "" for t in root.iter(ns + "title")]
    assert any("110% credit (60 min, password)" in t for t in titles)
    assert root.find(f"{ns}line[@class='now']") is not None
    chart = ET.fromstring(bar_chart("a < b", [("g&1", [("x", 1.0), ("y", 3.0)])]))
    assert chart.get("aria-label") == "a < b"
