"""Who may act on a linked LMS course, and on whom (issue 18): every persona tried against every
LTI action on course A's linked LMS course — roster dry run and sync, the grades page and its
three actions, the deep-linking request A's instructor made, and the LMS course offered to A's
instructor for linking.

Personas (A is CG 101 Sp24, linked to the LMS course ``course-42``; B is CG 101 Fa14):

====  ============================================================================================
I     A's instructor (the control: every action allowed)
O     B's instructor only, same domain, who launches from the same LMS too
T     A's TA: ``vgr&CR`` and ``mgr&CR`` (the resource's own rules decide, R: an LMS gradebook of the
      whole course is no one resource, so they never hold here), no ``men``
S     a student of A (the learner's roster and grades pages: test_lti_roster/test_lti_grades)
D     a domain coordinator of A's domain: ``men`` at ``dc:d``, but no ``vgr``/``mgr``
X     a domain coordinator of another domain
IS    A's instructor viewing A as a student
====  ============================================================================================

The service table (:data:`EXPECTED`) is checked in one world per persona, every refusal with
nothing written; :func:`test_each_route_refuses_with_a_sentence_and_writes_nothing` sends the
same requests through the pages.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from lti_support import Lms
from sqlalchemy import func, select

from coursegate.cli import demo_world as demo
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import ServiceError
from coursegate.services.common.places import ensure_domain, find_course_instance
from coursegate.services.lti import contexts, deep_linking, grades, roster_sync
from coursegate.services.lti.tokens import PlatformTokens
from coursegate.services.people.signin import store_password
from coursegate.services.people.users import create_user
from coursegate.store.db import transaction
from coursegate.store.models import (
    Assessment,
    Enrollment,
    HistoryEntry,
    LtiContext,
    LtiDeepLink,
    LtiIdentity,
    LtiLineItem,
    LtiPlatform,
    LtiScore,
    RoleAssignmentRow,
    User,
)

ANA = demo.STUDENTS[0]
OTHER_DC = demo.DemoUser("dc@other.example.edu", "Otto Other", "other-dc-pass-1", "dc elsewhere")
LINKED, OFFERED, REQUEST = 1, 2, 1
"""A's LMS course (linked), an LMS course offered to A's instructor, A's instructor's request."""


@dataclass(frozen=True)
class Scene:
    sp24: int
    fa14: int


def _scene(lms: Lms) -> Scene:
    """A's LMS course linked to CG 101 Sp24 with a gradebook column and a failed score, another
    LMS course offered to A's instructor, A's instructor's deep-linking request, everyone but
    the domain coordinators linked to the LMS, and a domain coordinator of another domain."""
    base = lms.platform.base
    with lms.world.ctx() as ctx:
        s, at = ctx.session, ctx.at
        platform = s.get(LtiPlatform, lms.platform_id)
        assert platform is not None
        sp24 = find_course_instance(ctx, demo.COURSE, demo.INSTANCE)
        fa14 = find_course_instance(ctx, demo.COURSE, demo.OTHER_INSTANCE)
        users = {u.uid: u for u in s.scalars(select(User))}
        instructor = users[demo.INSTRUCTOR.uid]
        linked = LtiContext(
            platform_id=platform.id, context_id="course-42", title="Computing", label="CG 101",
            course_instance_id=sp24.id, linked_by=instructor.uid, linked_at=at,
            memberships_url=f"{base}/nrps/course-42",
            lineitems_url=f"{base}/ags/course-42/lineitems", created_at=at,
        )  # fmt: skip
        offered = LtiContext(
            platform_id=platform.id, context_id="course-77", title="Computing II",
            label="CG 102", offered_to_user_id=instructor.id, offered_at=at, created_at=at,
        )  # fmt: skip
        s.add_all([linked, offered])
        s.flush()
        assert (linked.id, offered.id) == (LINKED, OFFERED)
        for person in (demo.INSTRUCTOR, demo.OTHER_INSTRUCTOR, demo.TA, ANA):
            s.add(
                LtiIdentity(
                    platform_id=platform.id, sub=f"sub-{person.uid}",
                    user_id=users[person.uid].id, linked_by="email", created_at=at,
                    last_launch_at=at,
                )
            )  # fmt: skip
        hw1 = s.scalars(
            select(Assessment).where(
                Assessment.course_instance_id == sp24.id, Assessment.aid == "hw/hw1"
            )
        ).one()
        item = LtiLineItem(
            context_id=linked.id, assessment_id=hw1.id, url=f"{base}/ags/course-42/lineitems/1",
            label="hw1", created_at=at,
        )  # fmt: skip
        s.add(item)
        s.flush()
        s.add(
            LtiScore(
                line_item_id=item.id, user_id=users[ANA.uid].id, score_given=50.0,
                score_maximum=100.0, activity_progress="Completed",
                grading_progress="FullyGraded", timestamp=at, status="failed", tries=3,
                next_try_at=None, last_error="the LMS answered 400", created_at=at,
            )
        )  # fmt: skip
        request = LtiDeepLink(
            context_id=linked.id, user_id=instructor.id, deployment_id=lms.platform.deployment_id,
            return_url=f"{base}/deep-link-return", data="opaque", created_at=at,
        )  # fmt: skip
        s.add(request)
        s.flush()
        assert request.id == REQUEST
        ensure_domain(ctx, "otheruniversity", "Other University")
        dc = create_user(ctx, OTHER_DC.uid, OTHER_DC.name, OTHER_DC.uid, domain="otheruniversity")
        store_password(ctx, dc, OTHER_DC.password)
        s.add(
            RoleAssignmentRow(
                user_id=dc.id, role="dc", area="/otheruniversity/", created_by="system",
                created_at=at,
            )
        )  # fmt: skip
        return Scene(sp24.id, fa14.id)


def _written(lms: Lms) -> dict[str, Any]:
    """Everything an action on the LMS course could write (a refusal must leave it as it was)."""
    with lms.world.ctx() as ctx:
        s = ctx.session
        return {
            "history": s.scalar(select(func.count()).select_from(HistoryEntry)),
            "users": s.scalar(select(func.count()).select_from(User)),
            "enrollments": sorted(s.execute(select(Enrollment.user_id, Enrollment.status)).all()),
            "roles": s.scalar(select(func.count()).select_from(RoleAssignmentRow)),
            "columns": s.scalar(select(func.count()).select_from(LtiLineItem)),
            "scores": sorted(s.execute(select(LtiScore.id, LtiScore.status, LtiScore.tries)).all()),
            "contexts": sorted(
                s.execute(
                    select(
                        LtiContext.id, LtiContext.course_instance_id, LtiContext.offered_to_user_id
                    )
                ).all()
            ),
            "requests": sorted(s.execute(select(LtiDeepLink.id, LtiDeepLink.answered_at)).all()),
            "lms": (
                len(lms.platform.line_items),
                len(lms.platform.scores),
                len(lms.platform.deep_linked),
            ),
        }


# -- the services --------------------------------------------------------------------------------

PERSONAS: dict[str, tuple[str, str | None]] = {
    "I": (demo.INSTRUCTOR.uid, None),
    "O": (demo.OTHER_INSTRUCTOR.uid, None),
    "T": (demo.TA.uid, None),
    "S": (ANA.uid, None),
    "D": (demo.ADMIN.uid, None),
    "X": (OTHER_DC.uid, None),
    "IS": (demo.INSTRUCTOR.uid, ANA.uid),
}
"""Each persona's real user, and whom they view as."""


def _tokens() -> PlatformTokens:
    return PlatformTokens(post=lambda url, form: {"access_token": "token", "expires_in": 3600})


def _members(url: str, token: str) -> tuple[Any, str | None]:
    member = {"user_id": "sub-new", "name": "New Member", "roles": ["Learner"]}
    return {"members": [member]}, None


def _lms_answers(url: str, token: str, media_type: str, body: dict[str, Any]) -> tuple[int, Any]:
    return 200, {"id": f"{url}/{body.get('resourceId', 'x')}"}


Action = Callable[[Ctx, Scene, str], str]


def _ok(_: object) -> str:
    return "ok"


ACTIONS: dict[str, Action] = {
    "roster dry run": lambda c, sc, p: _ok(
        roster_sync.sync_roster(c, LINKED, tokens=_tokens(), dry_run=True, get=_members)
    ),
    "roster sync": lambda c, sc, p: _ok(
        roster_sync.sync_roster(c, LINKED, tokens=_tokens(), dry_run=False, get=_members)
    ),
    "grades page": lambda c, sc, p: _ok(grades.outbox(c, LINKED)),
    "grades columns": lambda c, sc, p: _ok(
        grades.create_line_items(c, LINKED, tokens=_tokens(), send=_lms_answers)
    ),
    "grades send": lambda c, sc, p: _ok(
        grades.sync_grades(c, LINKED, tokens=_tokens(), send=_lms_answers)
    ),
    "grades resend": lambda c, sc, p: _ok(grades.resend_failed(c, LINKED)),
    "deep-linking page": lambda c, sc, p: _ok(deep_linking.choice(c, REQUEST)),
    "deep-linking answer": lambda c, sc, p: _ok(
        deep_linking.answer(c, REQUEST, ["hw/hw1"], "https://testserver/lti/launch")
    ),
    "context view": lambda c, sc, p: (
        "offer" if contexts.context_view(c, OFFERED).offered else "no offer"
    ),
    # B's instructor tries to link A's offered LMS course to B, which they teach
    "context link": lambda c, sc, p: _ok(
        contexts.link_context(c, OFFERED, sc.fa14 if p == "O" else sc.sp24)
    ),
}

_ACTIONS = tuple(ACTIONS)
_R, _N = "403", "404"
EXPECTED: dict[str, tuple[str, ...]] = {
    # roster: dry run, sync; grades: page, columns, send, resend; deep linking: page, answer;
    # the offered LMS course: view, link
    "I": ("ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "offer", "ok"),
    "O": (_R, _R, _R, _R, _R, _R, _N, _N, "no offer", _N),
    "T": (_R, _R, _R, _R, _R, _R, _N, _N, "no offer", _N),
    "S": (_R, _R, _R, _R, _R, _R, _N, _N, "no offer", _N),
    "D": ("ok", "ok", _R, _R, _R, _R, _N, _N, _N, _N),
    "X": (_R, _R, _R, _R, _R, _R, _N, _N, _N, _N),
    "IS": (_R, _R, _R, _R, _R, _R, _R, _R, "offer", _R),
}
"""persona × action → ``ok`` (or what the view offers), or the refusal's status."""

PRIVILEGE_WORDS = {
    "roster": ("“manage enrollment”", "men"),
    "grades page": ("“view grades”", "vgr"),
    "grades": ("“change grades”", "mgr"),
    "deep-linking": ("“change grades”", "mgr"),
}
"""The privilege a refusal names in words, and its code, which it must not show."""


@contextmanager
def _as(lms: Lms, persona: str) -> Iterator[Ctx]:
    real, viewed = PERSONAS[persona]
    with transaction(lms.world.factory) as s:
        acting_in = None
        if viewed is not None:
            ctx = Ctx(s, real, lms.world.clock.now)
            acting_in = find_course_instance(ctx, demo.COURSE, demo.INSTANCE).id
        yield Ctx(s, real, lms.world.clock.now, viewed, acting_in)


def _try(lms: Lms, scene: Scene, persona: str, action: str) -> tuple[str, str]:
    try:
        with _as(lms, persona) as ctx:
            return ACTIONS[action](ctx, scene, persona), ""
    except ServiceError as e:
        return str(e.status), e.message


@pytest.mark.parametrize("persona", list(EXPECTED))
def test_who_may_act_on_a_linked_lms_course(lms: Lms, persona: str) -> None:
    scene = _scene(lms)
    got: dict[str, str] = {}
    problems: list[str] = []
    for action in _ACTIONS:
        before = _written(lms)
        outcome, message = _try(lms, scene, persona, action)
        got[action] = outcome
        if outcome in (_R, _N):
            if _written(lms) != before:
                problems.append(f"{action}: refused, but something was written")
            if len(message.split()) < 5:
                problems.append(f"{action}: {message!r} is not a sentence")
        if outcome == _R and persona != "IS":
            key = next(k for k in PRIVILEGE_WORDS if action.startswith(k))
            words, code = PRIVILEGE_WORDS[key]
            if words not in message or re.search(rf"\b{code}\b", message):
                problems.append(f"{action}: {message!r} should name {words} (not {code})")
        if outcome == _R and persona == "IS" and f"viewing as {ANA.uid}" not in message:
            problems.append(f"{action}: {message!r} should say who is viewed as")
    assert got == dict(zip(_ACTIONS, EXPECTED[persona], strict=True)), got
    assert not problems, problems


def test_the_allowed_persona_wrote_what_it_did(lms: Lms) -> None:
    """The table's "ok" is real: the roster sync of a domain coordinator enrolls and is in the
    history under their name; A's instructor's link and answer are recorded."""
    scene = _scene(lms)
    assert _try(lms, scene, "D", "roster sync") == ("ok", "")
    [synced] = lms.history("lti.roster_synced")
    assert "1 join" in synced["summary"]
    with lms.world.ctx() as ctx:
        actors = set(
            ctx.session.scalars(
                select(HistoryEntry.actor).where(HistoryEntry.action == "lti.roster_synced")
            )
        )
    assert actors == {demo.ADMIN.uid}
    assert _try(lms, scene, "I", "context link") == ("ok", "")
    assert lms.history("lti.context_linked")[0]["context"] == "course-77"


# -- the pages -----------------------------------------------------------------------------------

ROSTER, GRADES = f"/lti/contexts/{LINKED}/roster", f"/lti/contexts/{LINKED}/grades"
DEEP, CONTEXT = f"/lti/deep-linking/{REQUEST}", f"/lti/contexts/{OFFERED}"


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    data: dict[str, Any] | None = None


CALLS: dict[str, Call] = {
    "roster dry run": Call("GET", ROSTER),
    "roster sync": Call("POST", ROSTER, {}),
    "grades page": Call("GET", GRADES),
    "grades columns": Call("POST", GRADES, {"action": "columns"}),
    "grades send": Call("POST", GRADES, {"action": "send"}),
    "grades resend": Call("POST", GRADES, {"action": "resend"}),
    "deep-linking page": Call("GET", DEEP),
    "deep-linking answer": Call("POST", DEEP, {"assessments": ["hw/hw1"]}),
    "context view": Call("GET", CONTEXT),
    "context link": Call("POST", CONTEXT, {"course_instance": "{target}"}),
}
ALREADY = {("S", "roster dry run"), ("S", "grades page")}
"""Tried by test_lti_roster.py and test_lti_grades.py (a learner's launch)."""


def _client(lms: Lms, persona: str) -> Any:
    real, viewed = PERSONAS[persona]
    password = next(u.password for u in (*demo.EVERYONE, OTHER_DC) if u.uid == real)
    c = lms.world.sign_in(real, password)
    if viewed is not None:
        path = f"/api/v1/courses/{demo.COURSE}/instances/{demo.INSTANCE}/view-as"
        r = c.post(path, json={"uid": viewed})
        assert r.status_code == 200, r.text
    return c


REFUSED_PERSONAS = ("O", "T", "S", "D", "X", "IS")


def _said(page: str) -> str:
    """The refusal a page shows: its alert's sentence, or the error page's first paragraph."""
    found = re.search(r"<strong>Not done:</strong>(.*?)</p>", page, re.S)
    if found:
        return html.unescape(found.group(1)).strip()
    paragraphs = re.findall(r"<p>(.*?)</p>", page, re.S)
    said = [p for p in paragraphs if "You are viewing the course as" not in p]  # the banner
    return html.unescape(said[0]).strip() if said else ""


def _words(persona: str, action: str, method: str, status: str) -> str:
    """What the refusal must say: the privilege in words, that view-as changes nothing, or
    that there is no such thing for the caller."""
    if persona == "IS":
        # a page's own refusal while viewing as is the roles core's reasoning (it names
        # whom the instructor views as); a change is refused by the route's policy
        return "while viewing as" if method == "POST" else f"viewing as {ANA.uid}"
    if status == _N:
        return {
            "deep-linking": "there is no such request from your LMS",
            "context view": "there is no such LMS course for you",
            "context link": "is not waiting for you" if persona in "OTS" else "no such LMS course",
        }[next(k for k in ("deep-linking", "context view", "context link") if action.startswith(k))]
    if action.startswith("grades"):
        # the grades page shows again after a refused action, saying why the action was
        # refused (“change grades”), not why the page is (“view grades”)
        return PRIVILEGE_WORDS["grades page" if method == "GET" else "grades"][0]
    return PRIVILEGE_WORDS[next(k for k in PRIVILEGE_WORDS if action.startswith(k))][0]


@pytest.mark.parametrize("persona", REFUSED_PERSONAS)
def test_each_route_refuses_with_a_sentence_and_writes_nothing(lms: Lms, persona: str) -> None:
    scene = _scene(lms)
    c = _client(lms, persona)
    target = scene.fa14 if persona == "O" else scene.sp24
    problems: list[str] = []
    for action, call in CALLS.items():
        if (persona, action) in ALREADY:
            continue
        expected = EXPECTED[persona][_ACTIONS.index(action)]
        if call.method == "POST" and persona == "IS":
            expected = _R  # the route's policy: view-as changes nothing
        if expected == "ok":
            continue  # a domain coordinator's roster: the test below
        data = {
            k: v.format(target=target) if isinstance(v, str) else v
            for k, v in (call.data or {}).items()
        }
        before = _written(lms)
        r = c.request(call.method, call.path, data=data if call.method == "POST" else None)
        text = r.text
        if expected in (_R, _N):
            said = _said(text)
            words = _words(persona, action, call.method, expected)
            if str(r.status_code) != expected or words not in said:
                problems.append(f"{action}: {r.status_code} {said!r}, wanted {words!r}")
            if _written(lms) != before:
                problems.append(f"{action}: refused, but something was written")
        elif expected == "no offer":
            if r.status_code != 200 or "Which course instance" in text:
                problems.append(f"{action}: {r.status_code}, an offer shown")
        elif r.status_code >= 400:
            problems.append(f"{action}: {r.status_code} {text[:300]!r}")
    assert not problems, problems


def test_a_domain_coordinator_syncs_the_roster_through_the_pages(lms: Lms) -> None:
    """``men`` at ``dc:d`` reaches the course instance: the dry run shows, the sync applies."""
    _scene(lms)
    jwks = lms.browser().get("/lti/jwks").json()  # read now: the LMS asks while a request runs
    lms.platform.tool_jwks = lambda: jwks
    c = _client(lms, "D")
    page = c.get(ROSTER)
    assert page.status_code == 200, page.text
    token = page.text.split('name="csrf_token" value="')[1].split('"', maxsplit=1)[0]
    run = c.post(ROSTER, data={"csrf_token": token, "action": "dry_run"}, follow_redirects=True)
    assert run.status_code == 200 and "members in the LMS" in run.text, run.text
    done = c.post(ROSTER, data={"csrf_token": token, "action": "sync"}, follow_redirects=False)
    assert done.status_code == 303, done.text
    assert lms.history("lti.roster_synced")


def test_a_tas_own_deep_linking_request_is_refused_with_the_privilege_in_words(lms: Lms) -> None:
    """A TA's ``mgr`` holds only where the resource's own rules allow it (R), and a choice of
    the course's assessments for the LMS is no one resource: the TA's own request is refused
    (A's instructor answers it), and nothing is answered."""
    _scene(lms)
    with lms.world.ctx() as ctx:
        ta = ctx.user(demo.TA.uid)
        own = LtiDeepLink(
            context_id=LINKED, user_id=ta.id, deployment_id=lms.platform.deployment_id,
            return_url=f"{lms.platform.base}/deep-link-return", created_at=ctx.at,
        )  # fmt: skip
        ctx.session.add(own)
        ctx.session.flush()
        own_id = own.id
    before = _written(lms)
    for act in (
        lambda ctx: deep_linking.choice(ctx, own_id),
        lambda ctx: deep_linking.answer(ctx, own_id, ["hw/hw1"], "https://testserver/lti/launch"),
    ):
        with pytest.raises(ServiceError) as refused, _as(lms, "T") as ctx:
            act(ctx)
        assert refused.value.status == 403
        assert "“change grades”" in refused.value.message, refused.value.message
        assert not re.search(r"\bmgr\b", refused.value.message)
    assert _written(lms) == before
    page = _client(lms, "T").get(f"/lti/deep-linking/{own_id}")
    assert page.status_code == 403 and "“change grades”" in _said(page.text)


def test_bs_instructor_links_their_own_lms_course_only_to_what_they_teach(lms: Lms) -> None:
    """An LMS course offered to B's instructor (their own launch) may be linked to B, never to
    A: refused with a sentence, nothing written."""
    scene = _scene(lms)
    with lms.world.ctx() as ctx:
        other = ctx.user(demo.OTHER_INSTRUCTOR.uid)
        theirs = LtiContext(
            platform_id=lms.platform_id, context_id="course-99", title="Computing (B)",
            offered_to_user_id=other.id, offered_at=ctx.at, created_at=ctx.at,
        )  # fmt: skip
        ctx.session.add(theirs)
        ctx.session.flush()
        theirs_id = theirs.id
    before = _written(lms)
    with pytest.raises(ServiceError) as refused, _as(lms, "O") as ctx:
        contexts.link_context(ctx, theirs_id, scene.sp24)
    assert refused.value.status == 403
    assert "only to a course instance you teach" in refused.value.message
    assert _written(lms) == before
    with _as(lms, "O") as ctx:
        assert contexts.link_context(ctx, theirs_id, scene.fa14).course_instance_id == scene.fa14
