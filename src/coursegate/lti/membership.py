"""Which coursegate role an LMS membership role gives (LTI Core 1.3 §A.2, the LIS vocabulary).

=====================================================  ==========================================
LTI role (context membership)                          coursegate role (LON-CAPA code)
=====================================================  ==========================================
``membership#Instructor``                              instructor (``in``)
``membership/Instructor#TeachingAssistant`` (or        teaching assistant (``ta``) — and not
``membership#TeachingAssistant``)                      instructor, though the principal role
                                                       Instructor comes with it, as the spec says
``membership#Learner``                                 student (``st``)
``membership#ContentDeveloper``                        Author (``au``) in the person's own domain,
                                                       only where the administrator allowed it for
                                                       the platform
``membership#Administrator``                           domain coordinator (``dc``), only where the
                                                       administrator allowed it for the platform
anything else (Mentor, Manager, Member, institution    nothing: a role the LMS does not send is
and system roles)                                      not invented, and one we don't know is not
                                                       guessed
=====================================================  ==========================================

The system role ``system/person#TestUser`` marks a test student ("view as student", Canvas's
Test Student): such a launch works but is marked, and never counts in rosters or metrics.
Simple names (``Instructor``, ``Learner``), which LTI 1.3 still allows for context roles, are
read as the full URIs.

Two LMS roles reach beyond the LMS course, so each needs the administrator's consent for the
platform: the seed's domain coordinator runs a whole domain, and its Author (the LON-CAPA role
for making content; coursegate has no author role scoped to one course) edits and syncs every
course of its domain. Without that consent the role is ignored, and the launch page says so.
"""

from __future__ import annotations

from dataclasses import dataclass

MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
INSTRUCTOR_SUB = "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#"
SYSTEM_PERSON = "http://purl.imsglobal.org/vocab/lis/v2/system/person#"
TEST_USER = SYSTEM_PERSON + "TestUser"

INSTRUCTOR = "in"
TEACHING_ASSISTANT = "ta"
STUDENT = "st"
AUTHOR = "au"
DOMAIN_COORDINATOR = "dc"

_PRINCIPAL = {
    "Instructor": INSTRUCTOR,
    "TeachingAssistant": TEACHING_ASSISTANT,
    "Learner": STUDENT,
    "ContentDeveloper": AUTHOR,
    "Administrator": DOMAIN_COORDINATOR,
}


@dataclass(frozen=True)
class Membership:
    """The course roles a launch gives, whether it is a test student's, and the LTI roles that
    gave nothing (for the explanation)."""

    roles: frozenset[str]
    test_user: bool
    ignored: tuple[str, ...]

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & {INSTRUCTOR, TEACHING_ASSISTANT, DOMAIN_COORDINATOR})


def _name(uri: str) -> str | None:
    """The principal role a URI (or a simple name) stands for, if it is a context role."""
    if uri in _PRINCIPAL:
        return uri
    if uri.startswith(MEMBERSHIP):
        return uri[len(MEMBERSHIP) :]
    if uri == INSTRUCTOR_SUB + "TeachingAssistant":
        return "TeachingAssistant"
    return None


def course_roles(
    lti_roles: tuple[str, ...], *, allow_administrator: bool, allow_author: bool = False
) -> Membership:
    """The coursegate roles for the LTI roles of one launch or roster member."""
    names = {uri: _name(uri) for uri in lti_roles}
    given: set[str] = set()
    ignored: list[str] = []
    for uri, name in names.items():
        code = _PRINCIPAL.get(name) if name is not None else None
        if (
            code is None
            or (code == DOMAIN_COORDINATOR and not allow_administrator)
            or (code == AUTHOR and not allow_author)
        ):
            if uri != TEST_USER:
                ignored.append(uri)
            continue
        given.add(code)
    if TEACHING_ASSISTANT in given:
        given.discard(INSTRUCTOR)  # the principal role that comes with the sub-role
    return Membership(frozenset(given), TEST_USER in lti_roles, tuple(ignored))
