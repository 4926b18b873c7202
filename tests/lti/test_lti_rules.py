"""The pure LTI rules: the launch checks one by one, and the role mapping (with properties)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coursegate.lti.claims import (
    CONTEXT,
    DEEP_LINKING,
    DEPLOYMENT_ID,
    LEEWAY_SECONDS,
    MESSAGE_TYPE,
    RESOURCE_LINK,
    ROLES,
    VERSION,
    LaunchRefused,
    Registration,
    check_launch,
)
from coursegate.lti.membership import (
    INSTRUCTOR_SUB,
    MEMBERSHIP,
    TEST_USER,
    course_roles,
)

REG = Registration("https://lms.example.edu", "tool-1", frozenset({"dep-1"}))
NOW = 1_707_000_000


def claims(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": REG.issuer,
        "aud": "tool-1",
        "sub": "s-1",
        "iat": NOW,
        "exp": NOW + 300,
        "nonce": "n-1",
        MESSAGE_TYPE: "LtiResourceLinkRequest",
        VERSION: "1.3.0",
        DEPLOYMENT_ID: "dep-1",
        ROLES: [MEMBERSHIP + "Learner"],
        RESOURCE_LINK: {"id": "rl-1"},
        CONTEXT: {"id": "c-1", "title": "Computing"},
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def refused(c: dict[str, Any], *, nonce: str = "n-1", at: int = NOW) -> str:
    with pytest.raises(LaunchRefused) as caught:
        check_launch(c, REG, nonce=nonce, at_seconds=at)
    return caught.value.what


def test_a_good_launch_is_believed() -> None:
    launch = check_launch(claims(), REG, nonce="n-1", at_seconds=NOW)
    assert launch.sub == "s-1" and launch.deployment_id == "dep-1"
    assert launch.context is not None and launch.context.title == "Computing"
    assert launch.resource_link_id == "rl-1"


@pytest.mark.parametrize(
    ("changes", "what"),
    [
        ({"iss": "https://other.example.edu"}, "issuer"),
        ({"aud": "tool-2"}, "audience"),
        ({"aud": ["tool-1", "tool-2"]}, "audience"),  # several audiences, no azp
        ({"aud": ["tool-1", "tool-2"], "azp": "tool-2"}, "audience"),
        ({"aud": None}, "audience"),
        ({"exp": NOW - LEEWAY_SECONDS - 1}, "expired"),
        ({"iat": NOW + LEEWAY_SECONDS + 1, "exp": NOW + 900}, "issued_in_future"),
        ({"iat": NOW - 7200, "exp": NOW + 10}, "expired"),
        ({"exp": "soon"}, "claims"),
        ({"nonce": "n-2"}, "nonce"),
        ({DEPLOYMENT_ID: "dep-2"}, "deployment"),
        ({MESSAGE_TYPE: "LtiStartProctoring"}, "message_type"),
        ({VERSION: "1.1.0"}, "version"),
        ({"sub": ""}, "claims"),
        ({ROLES: None}, "claims"),
        ({ROLES: "Learner"}, "claims"),
        ({RESOURCE_LINK: None}, "claims"),
        ({MESSAGE_TYPE: "LtiDeepLinkingRequest"}, "claims"),  # without its settings
        ({CONTEXT: "c-1"}, "claims"),
    ],
)
def test_each_check_refuses_alone(changes: dict[str, Any], what: str) -> None:
    assert refused(claims(**changes)) == what


def test_several_audiences_with_our_azp_pass_and_the_leeway_holds() -> None:
    check_launch(claims(aud=["tool-1", "x"], azp="tool-1"), REG, nonce="n-1", at_seconds=NOW)
    check_launch(claims(exp=NOW - LEEWAY_SECONDS), REG, nonce="n-1", at_seconds=NOW)
    deep = claims(**{MESSAGE_TYPE: "LtiDeepLinkingRequest", DEEP_LINKING: {"accept_types": []}})
    assert check_launch(deep, REG, nonce="n-1", at_seconds=NOW).deep_linking is not None


def test_an_empty_expected_nonce_never_matches() -> None:
    assert refused(claims(nonce=""), nonce="") == "nonce"


@given(st.one_of(st.text(max_size=20), st.lists(st.text(max_size=20), max_size=4)))
def test_a_token_not_addressed_to_us_is_never_believed(aud: Any) -> None:
    audiences = [aud] if isinstance(aud, str) else aud
    if "tool-1" in audiences:
        return
    assert refused(claims(aud=aud)) == "audience"


# -- roles -----------------------------------------------------------------------------------

CONTEXT_ROLES = [
    MEMBERSHIP + "Instructor",
    MEMBERSHIP + "Learner",
    MEMBERSHIP + "ContentDeveloper",
    MEMBERSHIP + "Administrator",
    MEMBERSHIP + "Mentor",
    MEMBERSHIP + "TeachingAssistant",
    INSTRUCTOR_SUB + "TeachingAssistant",
    "Instructor",
    "Learner",
    "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator",
    TEST_USER,
]


@pytest.mark.parametrize(
    ("lti", "allow", "given_roles"),
    [
        ([MEMBERSHIP + "Instructor"], False, {"in"}),
        ([MEMBERSHIP + "Instructor", INSTRUCTOR_SUB + "TeachingAssistant"], False, {"ta"}),
        (["Learner"], False, {"st"}),
        ([MEMBERSHIP + "ContentDeveloper"], False, set()),
        ([MEMBERSHIP + "ContentDeveloper"], True, {"au"}),
        ([MEMBERSHIP + "Administrator"], False, set()),
        ([MEMBERSHIP + "Administrator"], True, {"dc"}),
        ([MEMBERSHIP + "Mentor"], False, set()),
        (["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"], True, set()),
    ],
)
def test_roles_map_as_the_table_says(lti: list[str], allow: bool, given_roles: set[str]) -> None:
    got = course_roles(tuple(lti), allow_administrator=allow, allow_author=allow).roles
    assert got == given_roles


def test_the_two_consents_are_separate() -> None:
    both = (MEMBERSHIP + "Administrator", MEMBERSHIP + "ContentDeveloper")
    only_dc = course_roles(both, allow_administrator=True, allow_author=False)
    only_au = course_roles(both, allow_administrator=False, allow_author=True)
    assert (only_dc.roles, only_au.roles) == ({"dc"}, {"au"})
    assert only_dc.ignored == (MEMBERSHIP + "ContentDeveloper",)


@given(st.lists(st.sampled_from(CONTEXT_ROLES), max_size=6), st.booleans(), st.booleans())
def test_roles_are_never_invented(lti: list[str], allow: bool, author: bool) -> None:
    m = course_roles(tuple(lti), allow_administrator=allow, allow_author=author)
    assert m.test_user == (TEST_USER in lti)
    if "dc" in m.roles:
        assert allow and MEMBERSHIP + "Administrator" in lti
    if "au" in m.roles:
        assert author and MEMBERSHIP + "ContentDeveloper" in lti
    if "in" in m.roles:
        assert "ta" not in m.roles
    if not any("Learner" in r for r in lti):
        assert "st" not in m.roles
    if "Instructor" not in " ".join(lti) and "TeachingAssistant" not in " ".join(lti):
        assert not m.roles & {"in", "ta"}
