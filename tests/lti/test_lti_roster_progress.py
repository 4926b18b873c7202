"""A roster sync as a run the page follows (services/lti/roster_runs.py): progress written page
by page where other requests see it, the JSON the run page polls, a dry run that writes nothing
but its run, a sync applied all or nothing, a failing LMS, one run of a course at a time, and
only staff with ``men`` starting or reading a run.

The conftest runs a started run at once (in the request's background task); one test runs it in
the server's own thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from lti_platform import LEARNER, TEST_USER
from lti_support import Lms
from sqlalchemy import func, select
from test_lti_contexts import _enrolled
from test_lti_roster import _csrf, _instructor, _member

from coursegate.server.jobs import in_thread
from coursegate.services.lti import roster_runs, roster_sync
from coursegate.store.models import Enrollment, LtiContext, LtiRosterRun

ROSTER = "/lti/contexts/1/roster"


def _start(b: Any, action: str) -> Any:
    page = b.get(ROSTER)
    assert page.status_code == 200, page.text
    return b.post(ROSTER, data={"csrf_token": _csrf(page.text), "action": action})


def _runs(lms: Lms) -> list[LtiRosterRun]:
    with lms.world.ctx() as ctx:
        return list(ctx.session.scalars(select(LtiRosterRun).order_by(LtiRosterRun.id)))


def _enrollments(lms: Lms) -> int:
    with lms.world.ctx() as ctx:
        return ctx.session.scalar(select(func.count()).select_from(Enrollment)) or 0


def _five_members_in_three_pages(lms: Lms) -> None:
    lms.platform.page_size = 2
    lms.platform.roster = [*(_member(i) for i in range(4)), _member(9, [LEARNER, TEST_USER])]


def _each_page(lms: Lms, hook: Callable[[int], None]) -> None:
    """Call ``hook(page number)`` as the LMS is asked for each page of its list."""
    original = lms.platform.members
    asked = [0]

    def members() -> list[dict[str, Any]]:
        asked[0] += 1
        hook(asked[0])
        return original()

    lms.platform.members = members  # type: ignore[method-assign]


JSON_KEYS = {
    "id", "context_id", "dry_run", "state", "step", "pages", "members", "finished", "progress",
    "summary", "error",
}  # fmt: skip


def test_progress_is_written_page_by_page_and_the_page_follows_it(lms: Lms) -> None:
    b = _instructor(lms)
    _five_members_in_three_pages(lms)
    watcher = lms.browser()  # another request of the same instructor, while the run runs
    watcher.cookies.update(b.cookies)
    seen: list[dict[str, Any]] = []

    def look(_page: int) -> None:
        [*_, run] = _runs(lms)
        answer = watcher.get(f"{ROSTER}/runs/{run.id}.json")
        assert answer.status_code == 200, answer.text
        assert answer.headers["cache-control"] == "no-store"
        seen.append(answer.json())

    _each_page(lms, look)
    started = _start(b, "dry_run")
    assert started.status_code == 303, started.text
    run_url = started.headers["location"]
    assert run_url == f"{ROSTER}/runs/1"
    assert [(s["state"], s["pages"], s["members"]) for s in seen] == [
        ("running", 0, 0),
        ("running", 1, 2),
        ("running", 2, 4),
    ]
    assert seen[0]["progress"] == "Asking the LMS for its roster…"
    assert seen[2]["progress"] == "Reading the LMS's roster: page 2, 4 members so far…"
    assert all(set(s) == JSON_KEYS and not s["finished"] and s["dry_run"] for s in seen)
    done = b.get(run_url + ".json").json()
    assert set(done) == JSON_KEYS
    assert (done["state"], done["pages"], done["members"], done["finished"]) == (
        "done", 3, 5, True,
    )  # fmt: skip
    assert done["summary"].startswith("5 members in the LMS: 4 join")
    assert done["error"] is None


def test_a_running_run_page_refreshes_itself_without_inline_script(lms: Lms) -> None:
    b = _instructor(lms)
    held: list[Callable[[], None]] = []
    lms.world.app.state.lti_roster_runner = held.append  # started, not run yet
    started = _start(b, "dry_run")
    page = b.get(started.headers["location"])
    assert page.status_code == 200
    assert "Asking the LMS for its roster…" in page.text
    assert 'data-poll="/lti/contexts/1/roster/runs/1.json"' in page.text
    assert '<script src="/static/lti_roster.js" defer></script>' in page.text
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in page.text
    assert "<script>" not in page.text  # the CSP allows no inline script
    assert b.get("/static/lti_roster.js").status_code == 200
    [job] = held
    job()
    assert "Sync now: make these changes" in b.get(started.headers["location"]).text


def test_a_dry_run_shows_the_plan_and_changes_nothing(lms: Lms) -> None:
    b = _instructor(lms)
    _five_members_in_three_pages(lms)
    before = _enrollments(lms)
    started = _start(b, "dry_run")
    page = b.get(started.headers["location"])
    assert "5 members in the LMS: 4 join" in page.text
    assert page.text.count("joins (enrolled)") == 4
    assert _enrollments(lms) == before
    assert lms.history("lti.roster_synced") == []
    [run] = _runs(lms)
    assert run.dry_run and run.state == "done" and run.plan is not None
    kinds = [c["kind"] for c in run.plan["changes"]]
    assert kinds.count("join") == 4 and set(kinds) <= {"join", "keep_roles"}
    with lms.world.ctx() as ctx:
        context = ctx.session.get(LtiContext, 1)
        assert context is not None and context.roster_synced_at is None


def test_a_sync_run_applies_the_plan(lms: Lms) -> None:
    b = _instructor(lms)
    _five_members_in_three_pages(lms)
    started = _start(b, "sync")
    page = b.get(started.headers["location"])
    assert "Roster synced. 5 members in the LMS: 4 join" in page.text
    assert all(_enrolled(lms, f"m{i}@lms.example.edu") for i in range(4))
    [run] = _runs(lms)
    assert (run.dry_run, run.state, run.pages, run.members) == (False, "done", 3, 5)
    assert run.finished_at == lms.world.clock.now
    [synced] = lms.history("lti.roster_synced")
    assert synced["summary"].startswith("5 members in the LMS: 4 join")


def test_a_failing_lms_fails_the_run_and_changes_nothing(lms: Lms) -> None:
    b = _instructor(lms)
    _five_members_in_three_pages(lms)
    before = _enrollments(lms)

    def down_at_the_second_page(page: int) -> None:
        if page == 2:
            raise RuntimeError("the LMS fell over")

    _each_page(lms, down_at_the_second_page)
    started = _start(b, "sync")
    page = b.get(started.headers["location"])
    assert "The roster sync failed: Test LMS&#39;s roster could not be read at" in page.text
    assert "Nothing was changed." in page.text
    [run] = _runs(lms)
    assert (run.state, run.pages, run.members) == ("failed", 1, 2)
    assert run.error is not None and "500" in run.error
    assert _enrollments(lms) == before
    assert lms.history("lti.roster_synced") == []
    answer = b.get(started.headers["location"] + ".json").json()
    assert (answer["state"], answer["finished"]) == ("failed", True)
    assert answer["error"] == run.error


def test_a_failure_while_applying_changes_nothing(
    lms: Lms, monkeypatch: pytest.MonkeyPatch
) -> None:
    """All or nothing: the plan is applied in one transaction, rolled back on any failure."""
    b = _instructor(lms)
    _five_members_in_three_pages(lms)
    before = _enrollments(lms)
    apply = roster_sync.plan_and_apply

    def apply_then_fail(*args: Any, **kw: Any) -> Any:
        apply(*args, **kw)
        assert _enrolled_in_session(args[0])  # the changes were made in the transaction…
        raise RuntimeError("a bug after the changes")

    def _enrolled_in_session(ctx: Any) -> bool:
        return bool(ctx.session.scalar(select(func.count()).select_from(Enrollment)) > before)

    monkeypatch.setattr(roster_sync, "plan_and_apply", apply_then_fail)
    started = _start(b, "sync")
    assert "stopped on an unexpected error" in b.get(started.headers["location"]).text
    assert b.get(started.headers["location"] + ".json").json()["error"] == roster_runs.UNEXPECTED
    assert _enrollments(lms) == before  # …and rolled back
    assert not _enrolled(lms, "m0@lms.example.edu")
    assert lms.history("lti.roster_synced") == []
    [run] = _runs(lms)
    assert run.state == "failed"


def test_one_run_of_a_course_at_a_time_and_a_stale_one_gives_way(lms: Lms) -> None:
    b = _instructor(lms)
    held: list[Callable[[], None]] = []
    lms.world.app.state.lti_roster_runner = held.append
    assert _start(b, "dry_run").status_code == 303
    second = _start(b, "sync")
    assert second.status_code == 409, second.text
    assert "a roster dry run of this course, started by" in second.text
    assert "is still running (asking the LMS for its roster): wait for it" in second.text
    assert 'href="/lti/contexts/1/roster/runs/1"' in second.text  # the page links the run
    assert len(_runs(lms)) == 1 and len(held) == 1
    held.pop()()
    assert _start(b, "dry_run").status_code == 303  # the first is done: a new one may start
    # A run its server stopped running (not updated for STALE) no longer blocks the course.
    lms.world.clock.now += roster_runs.STALE
    assert "failed: the run stopped without finishing" in b.get(ROSTER).text
    assert _start(b, "sync").status_code == 303
    states = [(r.id, r.state) for r in _runs(lms)]
    assert states == [(1, "done"), (2, "failed"), (3, "running")]
    held[0]()  # the stopped one's job, if it ever ran, does nothing: its run is over
    assert _runs(lms)[1].error == roster_runs.STOPPED


def test_a_run_is_a_dry_run_or_a_sync(lms: Lms) -> None:
    b = _instructor(lms)
    wrong = _start(b, "delete_everyone")
    assert wrong.status_code == 422
    assert "choose to check the LMS&#39;s roster or to sync it" in wrong.text
    assert _runs(lms) == []
    page = b.get(ROSTER)
    plain = b.post(ROSTER, data={"csrf_token": _csrf(page.text)})  # no action: a sync
    assert plain.status_code == 303
    [run] = _runs(lms)
    assert not run.dry_run


def test_only_staff_who_manage_enrollment_start_or_read_a_run(lms: Lms) -> None:
    b = _instructor(lms)
    assert _start(b, "dry_run").status_code == 303
    learner = lms.browser()
    r = lms.launch("learner", browser=learner)
    learner.cookies.update(r.cookies)
    token = learner.get("/courses").text.split('name="csrf-token" content="')[1].split('"')[0]
    for action in ("dry_run", "sync"):
        refused = learner.post(ROSTER, data={"csrf_token": token, "action": action})
        assert refused.status_code == 403, refused.text
    assert len(_runs(lms)) == 1
    assert learner.get(f"{ROSTER}/runs/1").status_code == 403
    answer = learner.get(f"{ROSTER}/runs/1.json")
    assert answer.status_code == 403
    assert set(answer.json()) == {"error"} and answer.json()["error"]["code"] == "forbidden"
    # Another course's LMS link does not reach this run either.
    assert b.get("/lti/contexts/1/roster/runs/99").status_code == 404
    assert b.get("/lti/contexts/2/roster/runs/1.json").status_code == 404


def test_the_server_runs_it_in_a_thread_of_its_own(lms: Lms) -> None:
    b = _instructor(lms)
    _five_members_in_three_pages(lms)
    threads: list[threading.Thread] = []
    lms.world.app.state.lti_roster_runner = lambda job: threads.append(in_thread(job))
    started = _start(b, "sync")
    [thread] = threads
    assert thread.name == "coursegate: roster run"
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert b.get(started.headers["location"] + ".json").json()["state"] == "done"
    assert all(_enrolled(lms, f"m{i}@lms.example.edu") for i in range(4))
