"""Areas: parsing, writing and the walk section -> course -> domain -> system."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coursegate.roles import Area, AreaError, AreaKind, walk


@pytest.mark.parametrize(
    ("text", "kind", "parts"),
    [
        ("/", AreaKind.SYSTEM, ("", "", "")),
        ("/msu/", AreaKind.DOMAIN, ("msu", "", "")),
        ("/msu/c1", AreaKind.COURSE, ("msu", "c1", "")),
        ("/msu/c1/s1", AreaKind.SECTION, ("msu", "c1", "s1")),
        (
            "/msu.edu/12679c3ed543a25msul1/A-2",
            AreaKind.SECTION,
            ("msu.edu", "12679c3ed543a25msul1", "A-2"),
        ),
    ],
)
def test_parse_and_write(text: str, kind: AreaKind, parts: tuple[str, str, str]) -> None:
    area = Area.parse(text)
    assert area.kind is kind
    assert (area.domain, area.course, area.section) == parts
    assert str(area) == area.path == text
    assert Area(*parts) == area


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "may not be empty"),
        ("msu/c1", "does not start with '/'"),
        ("/msu", "without the trailing slash: write /msu/"),
        ("/msu/c1/", "write /msu/c1"),
        ("/msu/c1/s1/", "write /msu/c1/s1"),
        ("/msu/c1/s1/x", "at most three"),
        ("//c1", "empty domain name"),
        ("/msu//s1", "empty course name"),
        ("/msu/c 1", "'c 1' is not a valid course name"),
        ("/-x/", "'-x' is not a valid domain name"),
    ],
)
def test_parse_errors_say_how_to_write_it(text: str, message: str) -> None:
    with pytest.raises(AreaError) as caught:
        Area.parse(text)
    assert message in str(caught.value)


def test_constructors_check_their_parts() -> None:
    with pytest.raises(AreaError, match="a section belongs to a course"):
        Area("msu", "", "s1")
    with pytest.raises(AreaError, match="a course belongs to a domain"):
        Area("", "c1")
    assert Area.of_section("msu", "c1", "s1") == Area.parse("/msu/c1/s1")
    assert Area.system() is Area.parse("/")


def test_walk_goes_section_course_domain_system() -> None:
    chain = walk(Area.parse("/msu/c1/s1"))
    assert [a.path for a in chain] == ["/msu/c1/s1", "/msu/c1", "/msu/", "/"]
    assert [a.path for a in walk(Area.parse("/msu/"))] == ["/msu/", "/"]
    assert walk(Area.system()) == (Area.system(),)


def test_relations() -> None:
    section = Area.parse("/msu/c1/s1")
    course = Area.parse("/msu/c1")
    assert section.course_area == course
    assert course.course_area == course
    assert Area.parse("/msu/").course_area is None
    assert section.domain_area == Area.parse("/msu/")
    assert course.contains(section)
    assert not section.contains(course)
    assert not Area.parse("/msu/c2").contains(section)
    assert Area.system().contains(section)
    assert section.describe() == "section s1 of course /msu/c1"


_names = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,10}", fullmatch=True)


@given(_names, _names, _names, st.integers(min_value=0, max_value=3))
def test_written_form_round_trips(domain: str, course: str, section: str, depth: int) -> None:
    parts = (domain, course, section)[:depth] + ("",) * (3 - depth)
    area = Area(*parts)
    assert Area.parse(area.path) == area
    assert len(walk(area)) == depth + 1
    assert walk(area)[-1] == Area.system()
