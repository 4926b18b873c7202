"""Plain words on every page (issue 17, items 3, 4 and 8): no privilege code, no area path and
no Python ``None`` outside an expandable "Details"; refusals in one sentence; the roles page
in names; one time format with the zone named once per page."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from web_support import CI, STAFF, PageClient, text_of

from coursegate.roles import RoleTable
from coursegate.roles.wording import PRIVILEGE_NAMES, privilege_name, who_can_give

PERSONAS = ("student", "ta", "instructor", "other_instructor", "admin")

ENGLISH = {"are"}
"""Privilege codes that are also English words (``are``: assemble resources)."""
CODES = sorted(set(RoleTable.default().privileges) - ENGLISH)
CODE = re.compile(r"\b(" + "|".join(CODES) + r")\b")
AREA = re.compile(r"(?<![\w/.])/[a-z0-9]+/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
"""A course-instance area path such as ``/exampleuniversity/CG_101.Sp24``."""
NONE = re.compile(r"\bNone\b")


def readable(page: str) -> str:
    """What a person reads without opening anything: the page's text outside <details>."""
    page = re.sub(r"<details\b.*?</details>", " ", page, flags=re.S)
    return text_of(page)


def crawl(client: PageClient, start: str = "/courses", limit: int = 150) -> dict[str, str]:
    """Every page reachable from ``start`` by following same-site links (GET), by path."""
    seen: dict[str, str] = {}
    todo = [start]
    while todo and len(seen) < limit:
        path = todo.pop(0)
        if path in seen:
            continue
        r = client.get(path)
        seen[path] = r.text if r.status_code == 200 else ""
        if r.status_code != 200 or "text/html" not in r.headers.get("content-type", ""):
            continue
        for found in re.findall(r'href="([^"#]+)"', r.text):
            href = html.unescape(found)
            if (
                href.startswith("/")
                and not href.startswith(("/static", "/api", "/sign-out"))
                and not re.search(r"\.(ics|csv|json|zip)$|/download|/feed", href)
            ):
                todo.append(href)
    return seen


@pytest.mark.parametrize("persona", PERSONAS)
def test_no_page_shows_a_code_an_area_path_or_none(pages: Any, persona: str) -> None:
    found = crawl(pages(persona))
    assert len([p for p in found.values() if p]) >= 3, f"{persona} reached too few pages"
    problems = []
    for path, page in found.items():
        if not page:
            continue
        text = readable(page)
        for pattern, what in ((CODE, "privilege code"), (AREA, "area path"), (NONE, "None")):
            for m in pattern.finditer(text):
                around = text[max(0, m.start() - 60) : m.end() + 40]
                problems.append(f"{path}: {what} {m.group(0)!r} in …{around}…")
    assert not problems, "\n".join(problems[:20])


def test_the_checks_would_catch_a_code_an_area_path_and_none() -> None:
    page = "<p>needs vst at /exampleuniversity/CG_101.Sp24; None now</p>"
    text = readable(page)
    assert CODE.search(text) and AREA.search(text) and NONE.search(text)
    assert not CODE.search(readable("<details><summary>Details</summary>vst</details>"))


def test_every_privilege_of_the_table_has_a_short_name() -> None:
    table = RoleTable.default()
    assert set(table.privileges) <= set(PRIVILEGE_NAMES)
    for code in table.privileges:
        name = privilege_name(code)
        assert name and name != code and not CODE.search(name), code


# -- refusals ---------------------------------------------------------------------------------

BECAUSE = (
    "in CG 101, Spring 2024: that needs the “manage enrollment” privilege, which a course "
    "coordinator of the course or a domain coordinator can give you."
)


def test_a_refused_page_says_in_one_sentence_what_why_and_who(pages: Any) -> None:
    ta = pages("ta")
    r = ta.post(STAFF + "/roster", {"action": "enroll", "uid": "zed@example.edu"})
    assert r.status_code == 403
    text = readable(r.text)
    assert "You can't invite, enroll, block and unblock students " + BECAUSE in text
    assert not CODE.search(text) and not AREA.search(text)
    # the roles core's own reasoning, codes and all, is one click away
    details = re.search(r"<details\b.*?</details>", r.text, flags=re.S)
    assert details is not None
    assert "men" in details.group(0) and "/exampleuniversity/CG_101.Sp24" in details.group(0)


def test_a_refused_page_for_a_get_names_the_privilege(pages: Any) -> None:
    r = pages("ta").get(STAFF + "/rules/hw/hw1")
    assert r.status_code == 403
    text = readable(r.text)
    assert "You can't set assessment parameters in CG 101, Spring 2024" in text
    assert "“set assessment parameters” privilege" in text


def test_the_api_says_the_same_sentence_and_keeps_the_reasoning(world: Any) -> None:
    c = world.client("ta")
    r = c.post("/api/v1/courses/CG 101/instances/Sp24/enrollments", json={"uid": "zed@example.edu"})
    assert r.status_code == 403, r.text
    error = r.json()["error"]
    assert error["code"] == "forbidden"
    assert error["message"] == "You can't enroll students " + BECAUSE
    assert "(men)" in error["details"] and "/exampleuniversity/CG_101.Sp24" in error["details"]


def test_who_can_give_comes_from_the_role_table() -> None:
    assert who_can_give("gex") == "a course coordinator of the course or a domain coordinator"
    assert who_can_give("cta") == "a domain coordinator"
    assert who_can_give("mau") == "an administrator"


# -- the roles page ---------------------------------------------------------------------------


def test_roles_page_in_names_with_an_empty_required_role(pages: Any) -> None:
    page = pages("instructor").get(STAFF + "/roles").text
    text = readable(page)
    assert "Teaching Assistant CG 101, Spring 2024" in text
    select = re.search(r'<select id="r-role"[^>]*>(.*?)</select>', page, flags=re.S)
    assert select is not None and "required" in select.group(0).split(">", 1)[0]
    first = re.search(r"<option([^>]*)>([^<]*)</option>", select.group(1))
    assert first is not None and first.group(2) == "Choose a role…"
    assert 'value=""' in first.group(1) and "selected" in first.group(1)
    assert not re.search(r"<option[^>]*selected[^>]*>Student<", select.group(1))
    where = re.search(r'<select id="r-area"[^>]*>(.*?)</select>', page, flags=re.S)
    assert where is not None
    assert "the whole course instance, CG 101, Spring 2024" in where.group(1)
    assert "section drc only" in where.group(1)


def test_grant_without_a_role_says_so_beside_the_field(pages: Any) -> None:
    inst = pages("instructor")
    before = readable(inst.get(STAFF + "/roles").text)
    r = inst.post(STAFF + "/roles/grant", {"uid": "ben@example.edu", "role": ""})
    assert r.status_code == 422
    assert 'id="err-role"' in r.text and "choose the role to grant" in r.text
    assert readable(inst.get(STAFF + "/roles").text) == before


def test_a_refused_grant_names_the_privilege_and_who_gives_it(pages: Any) -> None:
    r = pages("ta").post(STAFF + "/roles/grant", {"uid": "ben@example.edu", "role": "ta"})
    assert r.status_code == 403
    text = readable(r.text)
    assert (
        "You can't grant the Teaching Assistant role in CG 101, Spring 2024: that needs the "
        "“grant the Teaching Assistant role” privilege, which a domain coordinator can give you."
    ) in text


def test_a_grant_notice_names_the_role_and_the_place(pages: Any) -> None:
    inst = pages("instructor")
    r = inst.post(STAFF + "/roles/grant", {"uid": "dan@example.edu", "role": "ep", "area": ""})
    page = inst.follow(r).text
    assert "dan@example.edu is now Exam Proctor in CG 101, Spring 2024." in readable(page)


# -- times ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [CI, STAFF, STAFF + "/students/ana@example.edu"])
def test_the_zone_is_named_once_per_page(pages: Any, path: str) -> None:
    persona = "student" if path == CI else "instructor"
    text = readable(pages(persona).get(path).text)
    assert text.count("America/Chicago") == 1, text
    assert re.search(r"Times are in America/Chicago \((CST|CDT)\)\.", text)


def test_credit_that_comes_later_says_when_it_opens(pages: Any) -> None:
    text = readable(pages("instructor").get(STAFF + "/students/dan@example.edu").text)
    assert "None now" not in text
    assert re.search(r"opens \d\d:\d\d, \w{3}, \w{3} \d+ at \d+%", text)
