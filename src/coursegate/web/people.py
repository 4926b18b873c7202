"""People of a course instance: the roster (invitations, enrollment, blocking, the enrollment
code, freezing and thawing accounts), sections and their members, role grants and custom roles,
and the history log. Each form calls one use case of :mod:`coursegate.services`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from coursegate.http.deps import CALLER, Caller
from coursegate.http.policy import needs
from coursegate.http.schemas import parse_instant
from coursegate.roles import Area, RoleTable
from coursegate.roles.wording import role_name
from coursegate.services.access.staff.people import (
    custom_roles,
    people_named,
    role_grants,
    sections_of,
)
from coursegate.services.common.authz import allowed, holds_at_all
from coursegate.services.common.errors import Invalid, ServiceError
from coursegate.services.common.places import course_zone, instance_area, instance_title, place_of
from coursegate.services.courses import enrollment as N
from coursegate.services.courses import roster_views as V
from coursegate.services.courses import sections as SEC
from coursegate.services.history.log import HistoryFilter, course_history
from coursegate.services.people import users as U
from coursegate.services.people.uids import split_uids
from coursegate.services.roles import assignments as R
from coursegate.store.models import CourseInstance
from coursegate.web.pages import (
    FORM,
    Pages,
    act_then_redirect,
    ci_path,
    course_instance,
    render,
    text,
    values,
)
from coursegate.web.staff.frame import person, staff_common, uid_from

pages = Pages(tags=["pages: people"])

S = "/courses/{course}/instances/{instance}/staff"
TABLE = RoleTable.default()


def _each(uids: list[str], action: Callable[[str], object]) -> int:
    if not uids:
        raise Invalid("uids: give at least one uid", "uids")
    for uid in uids:
        action(uid)
    return len(uids)


def _done(
    request: Request,
    c: Caller,
    ci: CourseInstance,
    page: Callable[..., HTMLResponse],
    action: Callable[[], str],
    form: FormData,
    back: str,
) -> Response:
    return act_then_redirect(
        request,
        c,
        action,
        back=ci_path(ci, back),
        again=lambda e: page(request, c, ci, error=e, filled=values(form), status=e.status),
    )


# -- the roster -------------------------------------------------------------------------------


def _roster_page(
    request: Request,
    c: Caller,
    ci: CourseInstance,
    *,
    error: ServiceError | None = None,
    filled: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    lines = V.list_roster(c.ctx, ci.id)
    statuses = _account_statuses(c, [r.uid for r in lines])
    can_freeze, _ = allowed(c.ctx, "mau", Area.of_domain(c.ctx.user(c.ctx.actor).domain.name))
    return render(
        request,
        "staff_roster.html",
        status=status,
        lines=lines,
        statuses=statuses,
        can_freeze=can_freeze and not c.ctx.acting_as,
        code=ci.enrollment_code,
        error=error,
        filled=filled or {},
        person=person,
        **staff_common(c, ci, "roster"),
    )


def _account_statuses(c: Caller, uids: list[str]) -> dict[str, str]:
    from sqlalchemy import select

    from coursegate.store.models import User

    if not uids:
        return {}
    return dict(
        c.ctx.session.execute(select(User.uid, User.status).where(User.uid.in_(uids))).all()
    )


@pages.get(S + "/roster", policy=needs("vst", why="the students and invitations"))
def roster(request: Request, course: str, instance: str, c: Caller = CALLER) -> HTMLResponse:
    return _roster_page(request, c, course_instance(c, course, instance))


ENROLLMENT_ACTIONS: dict[str, tuple[str, Any]] = {
    "invite": ("invited", N.invite),
    "enroll": ("enrolled", N.enroll),
    "block": ("blocked", N.block),
    "unblock": ("unblocked", N.unblock),
}


@pages.post(S + "/roster", policy=needs("men", why="invite, enroll, block and unblock students"))
def roster_change(
    request: Request, course: str, instance: str, form: FormData = FORM, c: Caller = CALLER
) -> Response:
    ci = course_instance(c, course, instance)
    action = text(form, "action")

    def act() -> str:
        if action not in ENROLLMENT_ACTIONS:
            raise Invalid("action: choose invite, enroll, block or unblock", "action")
        word, fn = ENROLLMENT_ACTIONS[action]
        uids = [uid_from(u) for u in split_uids(text(form, "uids"))]
        reason = text(form, "reason")
        n = _each(uids, lambda u: fn(c.ctx, ci.id, u, reason=reason))
        return f"{n} user(s) {word}: {', '.join(uids)}."

    return _done(request, c, ci, _roster_page, act, form, "staff/roster")


@pages.post(
    S + "/roster/code", policy=needs("men", why="set the course instance's enrollment code")
)
def enrollment_code(
    request: Request, course: str, instance: str, form: FormData = FORM, c: Caller = CALLER
) -> Response:
    ci = course_instance(c, course, instance)

    def act() -> str:
        code = N.set_enrollment_code(c.ctx, ci.id, text(form, "code") or None)
        return f"The enrollment code is now {code}."

    return _done(request, c, ci, _roster_page, act, form, "staff/roster")


@pages.post(
    S + "/roster/account",
    policy=needs(
        "mau",
        "domain",
        why="freeze or thaw a person's web access: an administrator's act on their account"
        " (the service checks the person is below the administrator); never course staff",
    ),
)
def account(
    request: Request, course: str, instance: str, form: FormData = FORM, c: Caller = CALLER
) -> Response:
    ci = course_instance(c, course, instance)
    uid = text(form, "uid")
    action = text(form, "action")

    def act() -> str:
        if action == "freeze":
            U.freeze_user(c.ctx, uid, reason=text(form, "reason"))
            return f"Web access of {uid} is frozen."
        if action == "thaw":
            U.thaw_user(c.ctx, uid, reason=text(form, "reason"))
            return f"Web access of {uid} is thawed."
        raise Invalid("action: freeze or thaw", "action")

    return _done(request, c, ci, _roster_page, act, form, "staff/roster")


# -- sections ---------------------------------------------------------------------------------


def _sections_page(
    request: Request,
    c: Caller,
    ci: CourseInstance,
    *,
    error: ServiceError | None = None,
    filled: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    lines = V.list_roster(c.ctx, ci.id)
    members: dict[str, list[str]] = {}
    for r in lines:
        for s in r.sections:
            members.setdefault(s, []).append(person(r.name, r.uid))
    return render(
        request,
        "staff_sections.html",
        status=status,
        sections=sections_of(c.ctx, ci),
        members=members,
        error=error,
        filled=filled or {},
        **staff_common(c, ci, "sections"),
    )


@pages.get(S + "/sections", policy=needs("vst", why="sections and their students"))
def sections(request: Request, course: str, instance: str, c: Caller = CALLER) -> HTMLResponse:
    return _sections_page(request, c, course_instance(c, course, instance))


@pages.post(S + "/sections", policy=needs("men", why="create, rename and delete sections"))
def section_change(
    request: Request, course: str, instance: str, form: FormData = FORM, c: Caller = CALLER
) -> Response:
    ci = course_instance(c, course, instance)
    action = text(form, "action")
    name = text(form, "name")

    def act() -> str:
        if action == "create":
            SEC.create_section(c.ctx, ci.id, name, description=text(form, "description"))
            return f"Section {name} created."
        if action == "rename":
            new = text(form, "new_name")
            SEC.rename_section(c.ctx, ci.id, name, new)
            return f"Section {name} is now {new}."
        if action == "delete":
            SEC.delete_section(c.ctx, ci.id, name)
            return f"Section {name} deleted."
        raise Invalid("action: create, rename or delete", "action")

    return _done(request, c, ci, _sections_page, act, form, "staff/sections")


@pages.post(
    S + "/sections/members", policy=needs("men", why="put students in sections or take them out")
)
def section_members(
    request: Request, course: str, instance: str, form: FormData = FORM, c: Caller = CALLER
) -> Response:
    ci = course_instance(c, course, instance)
    action = text(form, "action")
    name = text(form, "section")

    def act() -> str:
        uids = [uid_from(u) for u in split_uids(text(form, "uids"))]
        if action == "add":
            n = _each(uids, lambda u: SEC.add_to_section(c.ctx, ci.id, u, name))
            return f"{n} student(s) added to {name}."
        if action == "remove":
            n = _each(uids, lambda u: SEC.remove_from_section(c.ctx, ci.id, u, name))
            return f"{n} student(s) taken out of {name}."
        if action == "import":
            report = SEC.import_section_memberships(c.ctx, ci.id, text(form, "csv"))
            return f"Imported: {report}."
        raise Invalid("action: add, remove or import", "action")

    return _done(request, c, ci, _sections_page, act, form, "staff/sections")


# -- roles ------------------------------------------------------------------------------------


def _roles_page(
    request: Request,
    c: Caller,
    ci: CourseInstance,
    *,
    error: ServiceError | None = None,
    filled: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    area = instance_area(ci).path
    secs = sections_of(c.ctx, ci)
    grants = role_grants(c.ctx, ci)
    customs = custom_roles(c.ctx, ci)
    choices = [(code, role_name(code)) for code in ("st", "ta", "in", "cc", "ep")] + [
        (r.name, f"custom role {r.name}") for r in customs
    ]
    title = instance_title(ci)
    areas = [(area, f"the whole course instance, {title}")] + [
        (f"{area}/{s.name}", f"section {s.name} only") for s in secs
    ]
    places = {area: title} | {f"{area}/{s.name}": f"section {s.name}" for s in secs}
    for g in grants:
        if g.area not in places:
            places[g.area] = place_of(c.ctx, Area.parse(g.area))
    # Revoke is offered where the viewer holds the role's grant privilege (the service decides
    # each revocation again, with its conditions): a TA, who grants nothing, sees no button.
    revocable = {
        (role, where)
        for role, where in {(g.role, g.area) for g in grants}
        if holds_at_all(c.ctx, TABLE.grant_privilege(role), Area.parse(where))
    }
    return render(
        request,
        "staff_roles.html",
        status=status,
        grants=grants,
        customs=customs,
        choices=choices,
        areas=areas,
        places=places,
        revocable=revocable,
        privilege_codes=sorted(TABLE.privileges),
        error=error,
        filled=filled or {},
        person=person,
        **staff_common(c, ci, "roles"),
    )


@pages.get(S + "/roles", policy=needs("vst", why="who holds which role here"))
def roles(request: Request, course: str, instance: str, c: Caller = CALLER) -> HTMLResponse:
    return _roles_page(request, c, course_instance(c, course, instance))


def _when(form: FormData, name: str, ci: CourseInstance) -> int | None:
    raw = text(form, name)
    return None if not raw else parse_instant(raw, name, course_zone(ci))


@pages.post(
    S + "/roles/grant",
    policy=needs(
        "vst", why="course staff; the roles core then checks the grant privilege (cta, cin...)"
    ),
)
def grant_role(
    request: Request, course: str, instance: str, form: FormData = FORM, c: Caller = CALLER
) -> Response:
    ci = course_instance(c, course, instance)

    def act() -> str:
        uid = uid_from(text(form, "uid"))
        role = text(form, "role")
        if not role:
            raise Invalid("role: choose the role to grant", "role")
        area = text(form, "area") or instance_area(ci).path
        R.grant_role(
            c.ctx,
            uid,
            role,
            area,
            start=_when(form, "start", ci),
            end=_when(form, "end", ci),
            reason=text(form, "reason"),
        )
        return f"{uid} is now {role_name(role)} in {place_of(c.ctx, Area.parse(area))}."

    return _done(request, c, ci, _roles_page, act, form, "staff/roles")


@pages.post(
    S + "/roles/revoke",
    policy=needs("vst", why="course staff; the roles core then checks the revoke privilege"),
)
def revoke_role(
    request: Request, course: str, instance: str, form: FormData = FORM, c: Caller = CALLER
) -> Response:
    ci = course_instance(c, course, instance)

    def act() -> str:
        uid, role, area = text(form, "uid"), text(form, "role"), text(form, "area")
        R.revoke_role(c.ctx, uid, role, area, reason=text(form, "reason"))
        where = place_of(c.ctx, Area.parse(area))
        return f"{uid}'s role {role_name(role)} in {where} ends now (the record stays)."

    return _done(request, c, ci, _roles_page, act, form, "staff/roles")


@pages.post(
    S + "/roles/custom",
    policy=needs("vst", why="course staff; the roles core then checks mcr and the template"),
)
def define_custom_role(
    request: Request, course: str, instance: str, form: FormData = FORM, c: Caller = CALLER
) -> Response:
    ci = course_instance(c, course, instance)

    def act() -> str:
        row = R.define_custom_role(
            c.ctx,
            text(form, "name"),
            course=text(form, "course_privs"),
            domain_privs=text(form, "domain_privs"),
            system=text(form, "system_privs"),
            reason=text(form, "reason"),
        )
        return f"Custom role cr/{row.domain}/{row.author}/{row.name} defined."

    return _done(request, c, ci, _roles_page, act, form, "staff/roles")


# -- history ----------------------------------------------------------------------------------

HISTORY_PAGE = 100


@pages.get(S + "/history", policy=needs("vhi", why="the history log"))
def history_page(
    request: Request,
    course: str,
    instance: str,
    action: str = "",
    who: str = "",
    cursor: str | None = None,
    c: Caller = CALLER,
) -> HTMLResponse:
    ci = course_instance(c, course, instance)
    filters = HistoryFilter(action=action.strip() or None, person=who.strip() or None)
    page = course_history(c.ctx, ci.id, filters, limit=HISTORY_PAGE, cursor=cursor)
    lines = page.entries
    uids = sorted({x for h in lines for x in (h.actor, h.acting_as)})
    return render(
        request,
        "staff_history.html",
        lines=lines,
        names=people_named(c.ctx, uids),
        action=action,
        who=who,
        more=page.next_cursor,
        **staff_common(c, ci, "history"),
    )
