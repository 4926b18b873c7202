"""The administrators' sign-in page over HTTP: frozen accounts (thaw, freeze) and the
(address, account) pairs waiting after failed sign-ins (clear), for administrators only."""

from __future__ import annotations

import html
import re
from typing import Any

from api_support import World
from fastapi.testclient import TestClient
from web_support import PageClient, text_of

from coursegate.cli import demo_world as demo
from coursegate.services.people.users import freeze_user

ANA, BEN = demo.STUDENTS[:2]
PAGE = "/admin/sign-ins"
ATTACKER = "203.0.113.66"


def notice(page: str) -> str:
    m = re.search(r'<div class="notice" role="status">(.*?)</div>', page, re.S)
    return html.unescape(m.group(1).strip()) if m else ""


def fail_from(world: World, address: str, uid: str, times: int) -> None:
    c = TestClient(world.app, base_url="https://testserver", client=(address, 40000))
    for _ in range(times):
        c.post("/api/v1/session", json={"uid": uid, "password": "wrong-wrong-1"})


def test_an_administrator_thaws_a_frozen_account_and_clears_a_wait(
    world: World, pages: Any
) -> None:
    with world.ctx() as ctx:
        freeze_user(ctx, BEN.uid, reason="shared his password")
    fail_from(world, ATTACKER, ANA.uid, 6)
    fail_from(world, ATTACKER, "nobody@example.edu", 6)  # no such user: the system's only
    admin: PageClient = pages("admin")
    page = text_of(admin.get(PAGE).text)
    assert "ben@example.edu Ben Brown exampleuniversity" in page
    assert "shared his password" in page and "Thaw ben@example.edu" in page
    assert f"{ATTACKER} ana@example.edu 4" in page  # four failures, the wait not yet over
    assert "nobody@example.edu" not in page
    assert f"Clear the wait of ana@example.edu from {ATTACKER}" in page
    r = admin.post(PAGE + "/account", {"uid": BEN.uid, "action": "thaw"})
    assert notice(admin.follow(r).text) == (
        "Web access of ben@example.edu is thawed; they may sign in again."
    )
    pages(BEN.uid)  # signs in again
    r = admin.post(PAGE + "/throttle", {"address": ATTACKER, "account": ANA.uid})
    assert notice(admin.follow(r).text) == (
        f"Sign-ins from {ATTACKER} for ana@example.edu are no longer held back (4 failed)."
    )
    page = text_of(admin.get(PAGE).text)
    assert "No account's web access is frozen." in page and "No address waits now." in page
    again = TestClient(world.app, base_url="https://testserver", client=(ATTACKER, 40000))
    r = again.post("/api/v1/session", json={"uid": ANA.uid, "password": ANA.password})
    assert r.status_code == 200


def test_an_administrator_freezes_web_access_and_it_ends_the_sessions(
    world: World, pages: Any
) -> None:
    ana: PageClient = pages(ANA.uid)
    assert ana.get("/courses").status_code == 200
    admin: PageClient = pages("admin")
    r = admin.post(PAGE + "/account", {"uid": ANA.uid, "action": "freeze", "reason": "phished"})
    assert notice(admin.follow(r).text) == (
        "Web access of ana@example.edu is frozen; their sessions and API tokens have ended."
    )
    assert ana.get("/courses").status_code == 303  # back to the sign-in page
    r = ana.http.post("/sign-in", data={"uid": ANA.uid, "password": ANA.password})
    assert r.status_code == 401 and "frozen by an administrator" in html.unescape(r.text)
    page = text_of(admin.get(PAGE).text)
    assert "ana@example.edu Ana Alvarez exampleuniversity" in page and "phished" in page


def test_a_mistake_is_shown_on_the_page(pages: Any) -> None:
    admin: PageClient = pages("admin")
    r = admin.post(PAGE + "/account", {"uid": "", "action": "freeze"})
    assert r.status_code == 422 and "give the user id of the account" in r.text
    r = admin.post(PAGE + "/account", {"uid": "nobody@example.edu", "action": "thaw"})
    assert r.status_code == 404 and "there is no user" in html.unescape(r.text)
    r = admin.post(PAGE + "/throttle", {"address": ATTACKER, "account": ANA.uid})
    assert r.status_code == 404 and "there is no sign-in wait" in r.text


def test_only_administrators_see_the_page_and_its_link(pages: Any) -> None:
    for persona in ("instructor", "ta", "student"):
        client: PageClient = pages(persona)
        assert client.get(PAGE).status_code == 403
        assert "/admin/sign-ins" not in client.get("/courses").text
        r = client.post(PAGE + "/account", {"uid": ANA.uid, "action": "freeze"})
        assert r.status_code == 403
    assert pages().get(PAGE).status_code == 303  # anonymous: to the sign-in page
    assert 'href="/admin/sign-ins"' in pages("admin").get("/courses").text
