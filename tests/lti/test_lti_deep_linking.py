"""Deep linking (LTI Deep Linking 2.0) over HTTP against the test LMS: an instructor adding
content picks assessments, and they go back, signed by the tool, as resource links that open
each assessment with a gradebook column; the LMS verifies the response with the tool's keys."""

from __future__ import annotations

import httpx
from lti_platform import auto_post
from lti_support import Lms
from test_lti_contexts import _link


def test_an_instructor_adds_two_assessments_as_links(lms: Lms) -> None:
    b = lms.browser()
    _link(lms, browser=b)
    jwks = lms.browser().get("/lti/jwks").json()
    lms.platform.tool_jwks = lambda: jwks
    lms.platform.message_type = "LtiDeepLinkingRequest"
    r = lms.launch("ivy", browser=b)
    assert r.headers["location"].startswith("/lti/deep-linking/")
    b.cookies.update(r.cookies)
    page = b.get(r.headers["location"])
    assert page.status_code == 200 and 'value="hw/hw2"' in page.text
    token = page.text.split('name="csrf_token" value="')[1].split('"', maxsplit=1)[0]
    empty = b.post(r.headers["location"], data={"csrf_token": token})
    assert empty.status_code == 422 and "choose at least one" in empty.text
    back = b.post(
        r.headers["location"],
        data={"csrf_token": token, "assessments": ["hw/hw1", "hw/hw2"]},
    )
    assert back.status_code == 200
    assert f"form-action {lms.platform.base}" in back.headers["content-security-policy"]
    action, fields = auto_post(back.text.split('id="lti-autopost"', 1)[1])
    assert action == lms.platform.base + "/deep-link-return"
    answer = httpx.post(action, data=fields, timeout=10)
    assert answer.status_code == 200, answer.text
    items = lms.platform.deep_linked
    assert [i["custom"]["assessment"] for i in items] == ["hw/hw1", "hw/hw2"]
    assert all(i["lineItem"]["scoreMaximum"] == 100 for i in items)
    assert lms.platform.deep_linked_data == "opaque-data-42"
    # Answered once.
    assert b.get(r.headers["location"]).status_code == 422
    assert lms.history("lti.deep_link")[0]["assessments"] == ["hw/hw1", "hw/hw2"]


def test_a_learners_deep_linking_launch_is_just_a_launch(lms: Lms) -> None:
    _link(lms)
    lms.platform.message_type = "LtiDeepLinkingRequest"
    r = lms.launch("learner")
    assert r.headers["location"] == "/courses/CG%20101/instances/Sp24"
