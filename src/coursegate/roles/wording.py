"""The words people read for the role table's codes: privilege and role names, and who can
give a privilege.

Pages, API error messages and the CLI say "view students", never ``vst``; the codes stay in
an expandable "Details". The short privilege names are :data:`PRIVILEGE_NAMES` (a verb phrase,
so a sentence can say "You can't view students"); role names are the role table's plain names
(``rolesplain.tab``: "Teaching Assistant"). A code without a short name falls back to the
table's plain name, then to the code itself.
"""

from __future__ import annotations

from collections.abc import Mapping

from coursegate.roles.privileges import Level, Privilege, StandardRole
from coursegate.roles.table import RoleTable

__all__ = ["PRIVILEGE_NAMES", "privilege_name", "role_name", "who_can_give"]

P = Privilege

PRIVILEGE_NAMES: Mapping[str, str] = {
    P.GRANT_SUPERUSER: "grant the Superuser role",
    P.GRANT_DOMAIN_COORDINATOR: "grant the Domain Coordinator role",
    P.GRANT_COURSE_COORDINATOR: "grant the Course Coordinator role",
    P.GRANT_INSTRUCTOR: "grant the Instructor role",
    P.GRANT_TEACHING_ASSISTANT: "grant the Teaching Assistant role",
    P.GRANT_EXAM_PROCTOR: "grant the Exam Proctor role",
    P.GRANT_CUSTOM_ROLE: "grant custom roles",
    P.GRANT_STUDENT: "grant the Student role",
    P.GRANT_ADMINISTRATOR: "grant the Administrator role",
    P.GRANT_LIBRARIAN: "grant the Librarian role",
    P.GRANT_AUTHOR: "grant the Author role",
    P.GRANT_DOMAIN_GUEST: "grant the Domain Guest role",
    P.GRANT_CO_AUTHOR: "grant the Co-Author role",
    P.CREATE_CUSTOM_ROLE: "define custom roles",
    P.MODIFY_AUTHENTICATION: "manage accounts and sign-in",
    P.BROWSE_RESOURCES: "browse resources",
    P.ASSEMBLE_RESOURCES: "assemble resources",
    P.COPY_RESOURCES: "copy resources",
    P.EDIT_RESOURCES: "edit resources",
    P.MODIFY_METADATA: "edit metadata",
    P.VIEW_GRADES: "view grades",
    P.MODIFY_GRADES: "change grades",
    P.ANONYMOUS_STATISTICS: "see anonymous statistics",
    P.DISABLE_COMMUNICATION: "turn off communication among students",
    P.SEND_MAIL: "send mail",
    P.SEND_BROADCAST: "send announcements",
    P.POST_TO_CHAT: "post to discussions",
    P.DELETE_MESSAGES: "delete discussion posts",
    P.POST_ANONYMOUSLY: "post anonymously",
    P.REVEAL_ANONYMOUS: "reveal anonymous posters",
    P.LOCK_ASSESSMENTS: "lock assessments",
    P.SET_PARAMETERS: "set assessment parameters",
    P.ASSUME_IDENTITY: "view as a student",
    P.DELETE_ROLE: "delete role records",
    # coursegate's own actions (roles.tab's header names them)
    "gex": "grant exceptions",
    "mus": "manage class accounts",
    "men": "manage enrollment",
    "mrs": "record exam reservations",
    "vst": "view students",
    "vhi": "view the history log",
}
"""The short name of every privilege of the shipped table: what people read."""


def privilege_name(code: str, table: RoleTable | None = None) -> str:
    """``view students`` for ``vst``; the table's plain name (or the code) for a code without
    a short name (a deployment's own)."""
    found = PRIVILEGE_NAMES.get(code)
    if found is not None:
        return found
    name = (table or RoleTable.default()).name(code)
    return name[:1].lower() + name[1:] if name != code else code


def role_name(code: str, table: RoleTable | None = None) -> str:
    """``Teaching Assistant`` for ``ta``; ``custom role helproom`` for ``cr/msu/smith/helproom``
    (its name, the last part); the code itself when the table has no name for it."""
    if code.startswith(StandardRole.CUSTOM.value + "/"):
        return f"custom role {code.rsplit('/', 1)[-1]}"
    return (table or RoleTable.default()).name(code)


_ARTICLE = {"a", "e", "i", "o", "u"}


def _a(name: str) -> str:
    return ("an " if name[:1].lower() in _ARTICLE else "a ") + name.lower()


def who_can_give(privilege: str, table: RoleTable | None = None) -> str:
    """Who can give someone ``privilege`` in a course, from the table: the holders of the right
    to grant a standard role that carries it, in the course (``a course coordinator of the
    course``) or in its domain (``a domain coordinator``). ``an administrator`` when no role
    of a course carries it."""
    t = table or RoleTable.default()
    carriers = [
        role
        for role in t.roles
        if role != StandardRole.CUSTOM and privilege in t.row(role, Level.COURSE)
    ]
    grants = {t.grant_privilege(role) for role in carriers}
    in_course = [r for r in t.roles if grants & set(t.row(r, Level.COURSE))]
    in_domain = [r for r in t.roles if grants & set(t.row(r, Level.DOMAIN))]
    who = [f"{_a(role_name(r, t))} of the course" for r in in_course]
    who += [_a(role_name(r, t)) for r in in_domain if r not in in_course]
    if not who:
        return "an administrator"
    return " or ".join([", ".join(who[:-1]), who[-1]] if len(who) > 2 else who)
