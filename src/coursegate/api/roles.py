"""API v1: role grants and revocations, who holds what, and custom roles.

Who may grant which role is the roles core's decision (``cst``, ``cta``, ``cin``, ``ccr``, ...
with their U/I/K/E letters), so the grant and revoke routes are open to any signed-in user and
the service answers 403 with the core's reason. Revoking ends the assignment now and keeps it:
it is a ``POST .../revocations``, not a ``DELETE``.
"""

from __future__ import annotations

from typing import Any

from fastapi import Query, Response
from pydantic import BaseModel, ConfigDict, Field

from coursegate.http.deps import CALLER, Caller
from coursegate.http.policy import Routes, needs, signed_in
from coursegate.http.schemas import parse_instant
from coursegate.services.common.places import course_zone, find_course_instance
from coursegate.services.roles import assignments as roles

routes = Routes(prefix="/api/v1", tags=["roles"])

CI = "/courses/{course}/instances/{instance}"
GRANTS_DECIDED = (
    "the roles core decides who may grant or revoke which role (cst, cta, cin, ccr, ... in the"
    " course instance or the user's domain); a refusal carries its reason"
)

REFUSALS: dict[int | str, dict[str, Any]] = {
    403: {"description": "the roles core's refusal, with its reason"},
    409: {
        "description": "you may grant this role, but the user already holds it in an overlapping"
        " window (grant) or holds nothing left to end (revoke); the core's reason says which"
    },
}

# -- shapes -----------------------------------------------------------------------------------


class AssignmentOut(BaseModel):
    """One role assignment: who holds which role where, from when until when."""

    id: int
    uid: str = Field(examples=["ta@example.edu"])
    name: str = Field(examples=["Tom Assistant"])
    role: str = Field(
        examples=["ta"], description="the role's code, or cr/<domain>/<author>/<name>"
    )
    role_title: str = Field(examples=["Teaching Assistant"])
    area: str = Field(examples=["/exampleuniversity/CG_101.Sp24"])
    section: str | None = Field(None, examples=[None], description="set for a section role")
    start: str | None = Field(examples=["2024-01-24T20:00:00-06:00"], description="inclusive")
    end: str | None = Field(examples=[None], description="exclusive; null: no end")
    state: str = Field(examples=["in force"], description="in force | ended | not yet begun")
    created_by: str = Field(examples=["instructor@example.edu"])
    created_at: str = Field(examples=["2024-01-24T20:00:00-06:00"])


class GrantIn(BaseModel):
    """A role to give someone in this course instance, or in one of its sections."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"uid": "newta@example.edu", "role": "ta", "reason": "second TA for the labs"},
                {
                    "uid": "ben@example.edu",
                    "role": "cr/exampleuniversity/instructor@example.edu/grader",
                    "section": "lab-b",
                    "start": "2024-02-01T00:00:00",
                    "end": "2024-05-18T00:00:00",
                },
            ]
        },
    )
    uid: str = Field(min_length=1, max_length=200, examples=["newta@example.edu"])
    role: str = Field(
        min_length=1,
        max_length=200,
        examples=["ta"],
        description="st, ta, in, ep, cc, ad, or a custom role cr/<domain>/<author>/<name>",
    )
    section: str | None = Field(
        None, max_length=200, examples=["lab-a"], description="hold it in this section only"
    )
    start: str | None = Field(
        None,
        examples=["2024-02-01T00:00:00"],
        description="ISO 8601; without an offset, wall time in the course's zone; default: now",
    )
    end: str | None = Field(
        None, examples=["2024-05-18T00:00:00"], description="exclusive; default: no end"
    )
    reason: str = Field("", max_length=2000, examples=["second TA for the labs"])


class RevokeIn(BaseModel):
    """End someone's role now (the assignment is kept, with its end)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"uid": "newta@example.edu", "role": "ta", "reason": "left the course"}]
        },
    )
    uid: str = Field(min_length=1, max_length=200, examples=["newta@example.edu"])
    role: str = Field(min_length=1, max_length=200, examples=["ta"])
    section: str | None = Field(None, max_length=200, examples=[None])
    reason: str = Field("", max_length=2000, examples=["left the course"])


class DomainGrantIn(BaseModel):
    """A role to give someone anywhere in a domain (a domain coordinator's form)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"uid": "ana@example.edu", "role": "dg", "reason": "library access"},
                {
                    "uid": "newta@example.edu",
                    "role": "ta",
                    "area": "/exampleuniversity/CG_101.Sp24",
                    "end": "2024-05-18T00:00:00-05:00",
                },
            ]
        },
    )
    uid: str = Field(min_length=1, max_length=200, examples=["ana@example.edu"])
    role: str = Field(min_length=1, max_length=200, examples=["dg"])
    area: str | None = Field(
        None,
        max_length=300,
        examples=["/exampleuniversity/CG_101.Sp24"],
        description="/dom/, /dom/course or /dom/course/section inside the domain; default /dom/",
    )
    start: str | None = Field(
        None, examples=["2024-02-01T00:00:00-06:00"], description="ISO 8601 with an offset"
    )
    end: str | None = Field(None, examples=[None], description="ISO 8601 with an offset")
    reason: str = Field("", max_length=2000)


class DomainRevokeIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"uid": "ana@example.edu", "role": "dg"}]},
    )
    uid: str = Field(min_length=1, max_length=200, examples=["ana@example.edu"])
    role: str = Field(min_length=1, max_length=200, examples=["dg"])
    area: str | None = Field(None, max_length=300, examples=[None])
    reason: str = Field("", max_length=2000)


class CustomRoleIn(BaseModel):
    """The privileges of a custom role, per level, in the table's format (``code&LETTERS``
    separated by ``:``). Each must fit the template rows ``cr:s``, ``cr:d``, ``cr:c``; the
    template's letters always apply."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"course": "bre&R:vgr&SCR:mgr&SCR", "reason": "graders for the labs"}]
        },
    )
    course: str = Field("", max_length=2000, examples=["bre&R:vgr&SCR:mgr&SCR"])
    domain_privs: str = Field("", max_length=2000, examples=["sma"])
    system: str = Field("", max_length=2000, examples=[""])
    reason: str = Field("", max_length=2000, examples=["graders for the labs"])


class CustomRoleOut(BaseModel):
    role: str = Field(
        examples=["cr/exampleuniversity/instructor@example.edu/grader"],
        description="the name to grant",
    )
    domain: str = Field(examples=["exampleuniversity"])
    author: str = Field(examples=["instructor@example.edu"])
    name: str = Field(examples=["grader"])
    system: str = Field(examples=[""])
    domain_privs: str = Field(examples=[""])
    course: str = Field(examples=["bre&R:vgr&SCR:mgr&SCR"])
    created: bool | None = Field(
        None, description="on a definition: true when new, false when redefined"
    )


def _out(view: roles.AssignmentView, tz: Any = None) -> AssignmentOut:
    return AssignmentOut.model_validate(view.to_json(tz))


def _when(text: str | None, field: str, tz: Any = None) -> int | None:
    return None if text is None or not text.strip() else parse_instant(text, field, tz)


STATE_QUERY = Query(
    None,
    max_length=30,
    description="in_force | ended | not_yet_begun (default: all, ended ones included)",
    examples=["in_force"],
)


# -- a course instance ------------------------------------------------------------------------


@routes.get(
    CI + "/roles",
    policy=needs("vst", why="see who holds which role in the course instance"),
    response_model=list[AssignmentOut],
)
def list_course_roles(
    course: str,
    instance: str,
    uid: str | None = Query(None, max_length=200, examples=["ta@example.edu"]),
    role: str | None = Query(None, max_length=200, examples=["ta"]),
    state: str | None = STATE_QUERY,
    c: Caller = CALLER,
) -> list[AssignmentOut]:
    """Every role held in the course instance and its sections — ended assignments too
    (revoking keeps them), each with its ``state`` now. Times in the course's zone."""
    ci = find_course_instance(c.ctx, course, instance)
    tz = course_zone(ci)
    found = roles.course_roles(c.ctx, ci.id, uid=uid, role=role, state=state)
    return [_out(v, tz) for v in found]


@routes.post(
    CI + "/roles",
    policy=signed_in(GRANTS_DECIDED),
    response_model=AssignmentOut,
    status_code=201,
    responses=REFUSALS,
)
def grant(course: str, instance: str, body: GrantIn, c: Caller = CALLER) -> AssignmentOut:
    """Give someone a role in the course instance (or a section), from ``start`` (default now)
    until ``end`` (default: no end). Course coordinators and instructors holding ``cta`` grant
    TAs; a TA grants nothing. Takes effect on the user's next request."""
    ci = find_course_instance(c.ctx, course, instance)
    tz = course_zone(ci)
    view = roles.grant_in_course(
        c.ctx,
        ci.id,
        body.uid,
        body.role,
        section=body.section,
        start=_when(body.start, "start", tz),
        end=_when(body.end, "end", tz),
        reason=body.reason,
    )
    return _out(view, tz)


@routes.post(
    CI + "/roles/revocations",
    policy=signed_in(GRANTS_DECIDED),
    response_model=list[AssignmentOut],
    responses=REFUSALS,
)
def revoke(course: str, instance: str, body: RevokeIn, c: Caller = CALLER) -> list[AssignmentOut]:
    """End someone's role in the course instance (or a section) now. The assignments stay,
    with their end; one that had not begun is closed at its start. Access ends on the user's
    next request. Returns the assignments ended."""
    ci = find_course_instance(c.ctx, course, instance)
    tz = course_zone(ci)
    ended = roles.revoke_in_course(
        c.ctx, ci.id, body.uid, body.role, section=body.section, reason=body.reason
    )
    return [_out(v, tz) for v in ended]


# -- a domain (administrators) ----------------------------------------------------------------


@routes.get(
    "/domains/{domain}/roles",
    policy=signed_in("vst in the domain (domain coordinators), checked by the service"),
    response_model=list[AssignmentOut],
)
def list_domain_roles(
    domain: str,
    uid: str | None = Query(None, max_length=200, examples=["ta@example.edu"]),
    role: str | None = Query(None, max_length=200, examples=["dc"]),
    state: str | None = STATE_QUERY,
    c: Caller = CALLER,
) -> list[AssignmentOut]:
    """Every role held in the domain, its course instances and sections (times in UTC)."""
    found = roles.domain_roles(c.ctx, domain, uid=uid, role=role, state=state)
    return [_out(v) for v in found]


@routes.post(
    "/domains/{domain}/roles",
    policy=signed_in(GRANTS_DECIDED),
    response_model=AssignmentOut,
    status_code=201,
    responses=REFUSALS,
)
def grant_in_domain(domain: str, body: DomainGrantIn, c: Caller = CALLER) -> AssignmentOut:
    """Give someone a role at an area of the domain (default: the domain itself, for domain
    roles such as ``dg``, ``li``, ``au``). Times need an offset."""
    view = roles.grant_in_domain(
        c.ctx,
        domain,
        body.uid,
        body.role,
        area=body.area,
        start=_when(body.start, "start"),
        end=_when(body.end, "end"),
        reason=body.reason,
    )
    return _out(view)


@routes.post(
    "/domains/{domain}/roles/revocations",
    policy=signed_in(GRANTS_DECIDED),
    response_model=list[AssignmentOut],
    responses=REFUSALS,
)
def revoke_in_domain(domain: str, body: DomainRevokeIn, c: Caller = CALLER) -> list[AssignmentOut]:
    """End someone's role at an area of the domain now (kept, with its end)."""
    ended = roles.revoke_in_domain(
        c.ctx, domain, body.uid, body.role, area=body.area, reason=body.reason
    )
    return [_out(v) for v in ended]


# -- custom roles -----------------------------------------------------------------------------


@routes.get(
    "/custom-roles",
    policy=signed_in("a custom role's definition lists privileges, not people"),
    response_model=list[CustomRoleOut],
)
def list_custom_roles(
    domain: str | None = Query(None, max_length=100, examples=["exampleuniversity"]),
    author: str | None = Query(None, max_length=200, examples=["instructor@example.edu"]),
    c: Caller = CALLER,
) -> list[CustomRoleOut]:
    """The custom roles defined, with their privileges (template letters applied)."""
    found = roles.custom_roles(c.ctx, domain=domain, author=author)
    return [CustomRoleOut.model_validate(v.to_json()) for v in found]


@routes.put(
    "/custom-roles/{name}",
    policy=needs("mcr", on="system", why="define custom roles"),
    response_model=CustomRoleOut,
    responses={201: {"description": "defined"}, 200: {"description": "redefined"}},
)
def define_custom_role(
    name: str, body: CustomRoleIn, response: Response, c: Caller = CALLER
) -> CustomRoleOut:
    """Define (or redefine) your custom role ``cr/<your domain>/<you>/<name>``. Grant it like
    any role (``ccr``); holders get a redefinition on their next request."""
    view, created = roles.define(
        c.ctx,
        name,
        course=body.course,
        domain_privs=body.domain_privs,
        system=body.system,
        reason=body.reason,
    )
    response.status_code = 201 if created else 200
    return CustomRoleOut(**view.to_json(), created=created)
