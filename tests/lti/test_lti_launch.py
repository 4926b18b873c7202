"""The launch over HTTP against a test LMS on loopback (issue 18, part 2): the OIDC login, the
platform's auto-posted id_token, the checks, the person linked and a session opened; and each
check failing on its own, with a sentence, and nothing made."""

from __future__ import annotations

import html
from typing import Any

import pytest
from joserfc.jwk import RSAKey
from lti_platform import CLAIM
from lti_support import TOOL, Lms, continue_url

from coursegate.cli import demo_world as demo
from coursegate.services.lti.launch import LOGIN_LIFETIME


def test_a_learner_launches_and_gets_a_session_and_a_linked_account(lms: Lms) -> None:
    before = lms.counts()
    r = lms.launch("learner")
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/lti/contexts/1"  # the LMS course, not linked yet
    cookie = r.headers.get("set-cookie", "")
    assert "coursegate_session=" in cookie and "SameSite=None; Secure" in cookie  # framed

    after = lms.counts()
    assert after["users"] == before["users"] + 1
    assert after["identities"] == before["identities"] + 1
    [linked] = lms.history("lti.identity_linked")
    assert linked["subject"] == "lea@lms.example.edu" and linked["linked_by"] == "created"
    [launch] = lms.history("lti.launch")
    assert launch["roles"] == ["st"] and launch["test_user"] is False
    # The session works: the tool knows who this is.
    me = lms.browser()
    me.cookies.update(r.cookies)
    who = me.get("/api/v1/session")
    assert who.status_code == 200 and who.json()["uid"] == "lea@lms.example.edu"


def test_the_lms_may_frame_the_pages_of_its_launches_and_nobody_else_may(lms: Lms) -> None:
    b = lms.browser()
    start = b.get("/lti/login", params=lms.platform.login_params("learner", TOOL + "/lti/launch"))
    csp = start.headers["content-security-policy"]
    assert f"frame-ancestors {lms.platform.base}" in csp
    assert "x-frame-options" not in start.headers
    r = lms.launch("learner", browser=b)
    b.cookies.update(r.cookies)
    page = b.get(r.headers["location"])
    assert f"frame-ancestors {lms.platform.base}" in page.headers["content-security-policy"]
    assert "x-frame-options" not in page.headers
    # A session signed in with a password: never framed.
    ana = demo.STUDENTS[0]
    other = lms.world.sign_in(ana.uid, ana.password)
    plain = other.get("/courses")
    assert "frame-ancestors 'none'" in plain.headers["content-security-policy"]
    assert plain.headers["x-frame-options"] == "DENY"


def test_the_login_page_checks_the_cookie_and_offers_a_new_window(lms: Lms) -> None:
    b = lms.browser()
    start = b.get("/lti/login", params=lms.platform.login_params("learner", TOOL + "/lti/launch"))
    assert 'src="/static/lti.js"' in start.text and "Open coursegate in a new window" in start.text
    assert b.get("/lti/cookie-check").json() == {"cookie": True}
    assert lms.browser().get("/lti/cookie-check").json() == {"cookie": False}


def test_a_second_launch_lands_on_the_same_user(lms: Lms) -> None:
    lms.launch("learner")
    counts = lms.counts()
    r = lms.launch("learner")
    assert r.status_code == 303
    assert lms.counts()["users"] == counts["users"]
    assert lms.counts()["identities"] == counts["identities"]


def test_roles_map_and_a_test_student_is_marked(lms: Lms) -> None:
    assert lms.launch("ta").status_code == 303
    assert lms.launch("test").status_code == 303
    launches = lms.history("lti.launch")
    assert launches[0]["roles"] == ["ta"]
    assert launches[1]["test_user"] is True and launches[1]["roles"] == ["st"]


def _refused(lms: Lms, r: Any, what: str, words: str) -> None:
    assert r.status_code in (400, 502), r.text
    assert words in html.unescape(r.text), r.text
    assert "coursegate_session=" not in r.headers.get("set-cookie", "")
    assert lms.history("lti.launch_refused")[-1]["subject"] == what


def _spoiled(lms: Lms, spoil: Any) -> Any:
    before = lms.counts()
    lms.platform.spoil = spoil
    r = lms.launch("learner")
    lms.platform.spoil = None
    assert lms.counts() == before, "a refused launch made a user, session or identity"
    return r


def test_a_wrong_signature_is_refused(lms: Lms) -> None:
    stranger = RSAKey.generate_key(2048, parameters={"kid": "platform-key-1"}, private=True)

    def spoil(header: dict[str, Any], claims: dict[str, Any]) -> None:
        header["_key"] = stranger  # the right key id, the wrong key

    r = _spoiled(lms, spoil)
    _refused(lms, r, "signature", "signature does not match")


def test_a_token_for_another_tool_is_refused(lms: Lms) -> None:
    r = _spoiled(lms, lambda h, c: c.update(aud="someone-else"))
    _refused(lms, r, "audience", "for another tool")


def test_several_audiences_need_our_authorized_party(lms: Lms) -> None:
    r = _spoiled(lms, lambda h, c: c.update(aud=["coursegate-client", "other"], azp="other"))
    _refused(lms, r, "audience", "authorized party")


def test_an_expired_token_is_refused(lms: Lms) -> None:
    r = _spoiled(lms, lambda h, c: c.update(exp=c["iat"] - 600, iat=c["iat"] - 900))
    _refused(lms, r, "expired", "expired")


def test_a_token_from_the_future_is_refused(lms: Lms) -> None:
    r = _spoiled(lms, lambda h, c: c.update(iat=c["iat"] + 3600, exp=c["exp"] + 3600))
    _refused(lms, r, "issued_in_future", "in the future")


def test_a_wrong_nonce_is_refused(lms: Lms) -> None:
    r = _spoiled(lms, lambda h, c: c.update(nonce="guessed"))
    _refused(lms, r, "nonce", "nonce")


def test_an_unknown_deployment_is_refused(lms: Lms) -> None:
    r = _spoiled(lms, lambda h, c: c.update({CLAIM + "deployment_id": "deployment-9"}))
    _refused(lms, r, "deployment", "deployment-9")


def test_a_wrong_version_or_message_type_is_refused(lms: Lms) -> None:
    r = _spoiled(lms, lambda h, c: c.update({CLAIM + "version": "1.1"}))
    _refused(lms, r, "version", "LTI 1.1")
    r = _spoiled(lms, lambda h, c: c.update({CLAIM + "message_type": "LtiSubmissionReview"}))
    _refused(lms, r, "message_type", "LtiSubmissionReview")


def test_an_unknown_key_id_refetches_once_then_is_refused(lms: Lms) -> None:
    lms.launch("learner")  # the key set is now kept
    fetches = lms.platform.jwks_fetches
    r = _spoiled(lms, lambda h, c: h.update(kid="never-published"))
    _refused(lms, r, "unknown_kid", "never-published")
    assert lms.platform.jwks_fetches <= fetches + 1


def test_a_rotated_platform_key_is_fetched(lms: Lms) -> None:
    lms.launch("learner")  # the key set is now kept
    lms.world.clock.now += 60 * 1_000_000  # past the gap between fetches
    new = RSAKey.generate_key(
        2048, parameters={"kid": "platform-key-2", "alg": "RS256"}, private=True
    )
    lms.platform.published.append(lms.platform.key)
    lms.platform.key = new
    assert lms.launch("learner").status_code == 303


def test_an_unreachable_key_set_is_a_clear_refusal(lms: Lms) -> None:
    lms.platform.jwks_down = True
    before = lms.counts()
    r = lms.launch("learner")
    assert lms.counts() == before
    _refused(lms, r, "jwks_unreachable", "could not read the platform's key set")
    assert r.status_code == 502


def test_a_replayed_launch_is_refused(lms: Lms) -> None:
    b = lms.browser()
    start = b.get("/lti/login", params=lms.platform.login_params("learner", TOOL + "/lti/launch"))
    import httpx
    from lti_platform import auto_post

    _, fields = auto_post(httpx.get(continue_url(start.text)).text)
    assert b.post("/lti/launch", data=fields).status_code == 303
    again = b.post("/lti/launch", data=fields)
    _refused(lms, again, "replay", "used already")


def test_a_launch_returning_to_another_browser_is_refused(lms: Lms) -> None:
    first = lms.browser()
    start = first.get(
        "/lti/login", params=lms.platform.login_params("learner", TOOL + "/lti/launch")
    )
    import httpx
    from lti_platform import auto_post

    _, fields = auto_post(httpx.get(continue_url(start.text)).text)
    r = lms.browser().post("/lti/launch", data=fields)  # no cookie of the first browser
    _refused(lms, r, "browser", "different browser")


def test_a_slow_launch_is_refused(lms: Lms) -> None:
    b = lms.browser()
    start = b.get("/lti/login", params=lms.platform.login_params("learner", TOOL + "/lti/launch"))
    import httpx
    from lti_platform import auto_post

    _, fields = auto_post(httpx.get(continue_url(start.text)).text)
    lms.world.clock.now += LOGIN_LIFETIME + 1
    _refused(lms, b.post("/lti/launch", data=fields), "state", "longer than 10 minutes")


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"iss": "https://unknown.example.edu"}, "is registered here"),
        ({"login_hint": ""}, "login_hint"),
        ({"target_link_uri": "https://evil.example.com/x"}, "not on this server"),
    ],
)
def test_a_bad_login_request_is_a_sentence(lms: Lms, params: dict[str, str], words: str) -> None:
    query = lms.platform.login_params("learner", TOOL + "/lti/launch") | params
    r = lms.browser().get("/lti/login", params=query)
    assert r.status_code == 400 and words in html.unescape(r.text)


def test_the_email_of_an_existing_account_is_not_taken_without_permission(lms: Lms) -> None:
    from lti_platform import LEARNER, Person

    from coursegate.cli import demo_world as demo

    ana = demo.STUDENTS[0]
    lms.platform.people["ana"] = Person("sub-ana", "Ana", ana.uid, [LEARNER])
    before = lms.counts()
    r = lms.launch("ana")
    assert lms.counts() == before
    _refused(lms, r, "email_taken", "may not link people by email")
