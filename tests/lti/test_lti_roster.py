"""Roster sync from the LMS (Names and Role Provisioning Services 2.0) over HTTP against the
test LMS: the tool's client-credentials token, the membership list's pages, a dry run that
writes nothing, joins, departures that keep history, role changes, the test student ignored."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from lti_platform import INSTRUCTOR, LEARNER, TA, TEST_USER
from lti_support import Lms
from sqlalchemy import func, select
from test_lti_contexts import _enrolled, _link, _roles

from coursegate.lti.roster import Member, Person, plan_roster
from coursegate.store.models import Enrollment


def _member(i: int, roles: list[str] | None = None, status: str = "Active") -> dict[str, Any]:
    return {
        "user_id": f"sub-m{i}",
        "name": f"Member {i}",
        "email": f"m{i}@lms.example.edu",
        "roles": roles or [LEARNER],
        "status": status,
    }


def _instructor(lms: Lms) -> Any:
    """The demo instructor's browser, signed in through the LMS, the course linked."""
    b = lms.browser()
    _link(lms, browser=b)
    jwks = lms.browser().get("/lti/jwks").json()  # read now: the LMS asks while a request runs
    lms.platform.tool_jwks = lambda: jwks
    return b


def _csrf(page: str) -> str:
    return page.split('name="csrf_token" value="')[1].split('"', maxsplit=1)[0]


def _run(b: Any, action: str) -> Any:
    """Start a run from the roster page (``dry_run`` or ``sync``: the conftest runs it at once)
    and open the run's page, where its outcome is."""
    page = b.get("/lti/contexts/1/roster")
    assert page.status_code == 200, page.text
    started = b.post(
        "/lti/contexts/1/roster", data={"csrf_token": _csrf(page.text), "action": action}
    )
    assert started.status_code == 303, started.text
    assert "/lti/contexts/1/roster/runs/" in started.headers["location"]
    done = b.get(started.headers["location"])
    assert done.status_code == 200, done.text
    return done


def dry_run(b: Any) -> Any:
    return _run(b, "dry_run")


def sync(b: Any) -> Any:
    return _run(b, "sync")


def test_a_dry_run_shows_the_changes_and_writes_nothing_then_a_sync_applies_them(
    lms: Lms,
) -> None:
    b = _instructor(lms)
    lms.platform.page_size = 2  # five members: three pages
    lms.platform.roster = [*(_member(i) for i in range(4)), _member(9, [LEARNER, TEST_USER])]
    with lms.world.ctx() as ctx:
        before = ctx.session.scalar(select(func.count()).select_from(Enrollment))
    page = dry_run(b)
    summary = page.text.split('<p id="roster-summary">')[1].split("</p>")[0]
    assert "5 members in the LMS: 4 join" in summary, summary
    assert "1 test student(s) ignored" in summary, summary
    with lms.world.ctx() as ctx:
        assert ctx.session.scalar(select(func.count()).select_from(Enrollment)) == before
    assert "Sync now: make these changes" in page.text
    done = b.post("/lti/contexts/1/roster", data={"csrf_token": _csrf(page.text), "action": "sync"})
    assert done.status_code == 303, done.text
    assert "Roster synced. 5 members in the LMS: 4 join" in b.get(done.headers["location"]).text
    assert all(_enrolled(lms, f"m{i}@lms.example.edu") for i in range(4))
    assert not _enrolled(lms, "")  # the test student made no account
    # Again: nothing to change.
    assert "nothing to change" in dry_run(b).text


def test_departures_end_enrollments_and_role_changes_apply(lms: Lms) -> None:
    b = _instructor(lms)
    lms.platform.roster = [_member(1), _member(2), _member(3)]
    sync(b)
    # m1 left the LMS course, m2 is Inactive, m3 is a TA now (and no longer a learner).
    lms.platform.roster = [_member(2, status="Inactive"), _member(3, [INSTRUCTOR, TA])]
    assert "3 leave, 1 role changes" in dry_run(b).text
    sync(b)
    assert not _enrolled(lms, "m1@lms.example.edu")
    assert not _enrolled(lms, "m2@lms.example.edu")
    assert any(role == "ta" for role, _ in _roles(lms, "m3@lms.example.edu"))
    with lms.world.ctx() as ctx:
        statuses = set(ctx.session.scalars(select(Enrollment.status)))
    assert "removed" in statuses  # ended, not deleted
    [synced, *_] = reversed(lms.history("lti.roster_synced"))
    assert "leave" in synced["summary"]


def test_only_staff_who_manage_enrollment_may_sync(lms: Lms) -> None:
    _instructor(lms)
    b = lms.browser()
    r = lms.launch("learner", browser=b)
    b.cookies.update(r.cookies)
    page = b.get("/lti/contexts/1/roster")
    assert page.status_code == 403


# -- the plan, pure ----------------------------------------------------------------------------

SUBS = st.sampled_from([f"s{i}" for i in range(6)])
ROLE_SETS = st.sampled_from([(LEARNER,), (INSTRUCTOR,), (INSTRUCTOR, TA), (LEARNER, TEST_USER), ()])


@given(
    st.lists(st.tuples(SUBS, ROLE_SETS, st.booleans()), max_size=6, unique_by=lambda t: t[0]),
    st.lists(st.tuples(SUBS, st.booleans(), st.booleans()), max_size=6, unique_by=lambda t: t[0]),
)
def test_the_plan_never_enrolls_a_test_student_and_never_takes_what_the_lms_did_not_give(
    raw_members: list[tuple[str, tuple[str, ...], bool]],
    raw_people: list[tuple[str, bool, bool]],
) -> None:
    members = [Member(s, s, f"{s}@x.edu", roles, active) for s, roles, active in raw_members]
    people = [
        Person(f"u-{s}", s, enrolled, frozenset({"ta"}), mine) for s, enrolled, mine in raw_people
    ]
    plan = plan_roster(members, people)
    tests = {m.sub for m in members if TEST_USER in m.lti_roles}
    for change in plan.changes:
        if change.kind == "join":
            assert change.sub not in tests
        if change.kind == "end_roles":
            assert next(p for p in people if p.sub == change.sub).brought_by_lms
    assert plan.test_users == len(tests)
