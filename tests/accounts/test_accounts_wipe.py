"""Wiping: every step, the safety rules, hooks, and a wipe killed part-way (kill -9) that the
next run finishes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from accounts_support import ADMIN, INSTRUCTOR, TA, AccWorld, password_in
from sqlalchemy import func, select

from coursegate.cli import demo_world as demo
from coursegate.services.accounts import common, homes, service, wipe_request, wipe_steps
from coursegate.services.accounts.hooks import WipeHook, WipeTarget
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Invalid, Refused
from coursegate.services.common.places import find_course_instance
from coursegate.services.people import signin
from coursegate.store.models import (
    AccountEvent,
    AccountKey,
    AccountWipe,
    ApiToken,
    Assessment,
    AssessmentInstance,
    ClassAccount,
    Course,
    CourseInstance,
    Credential,
    EmailAlias,
    Enrollment,
    ExamReservation,
    HistoryEntry,
    RoleAssignmentRow,
    User,
    WebSession,
)

DAY = 86_400 * 1_000_000


def _fill_home(world: AccWorld, account: str, outside: Path) -> None:
    home = world.home / account
    (home / "deep" / "er").mkdir(parents=True)
    (home / "deep" / "er" / "work.txt").write_text("homework")
    (home / ".bashrc").write_text("alias ll='ls -l'")
    os.symlink(outside, home / "link-to-outside")
    os.symlink(outside / "keep.txt", home / "deep" / "file-link")


def _uid(c: Ctx, uid: str) -> User:
    return c.session.scalars(select(User).where(User.uid == uid)).one()


def test_a_wipe_does_every_step(world: AccWorld, tmp_path: Path) -> None:
    world.stem()
    world.students(2)
    password = password_in(world.mail_to("student0@school.edu")[0])
    student = Ctx  # for readability below
    del student
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("not the student's")
    _fill_home(world, "sc558aa", outside)

    def activity(c: Ctx) -> None:
        assert signin.sign_in(c, "sc558aa", password).error is None
        signin.create_token(Ctx(c.session, "sc558aa", c.at), "script", ["read"])
        user = _uid(c, "sc558aa")
        hw = c.session.scalars(select(Assessment).where(Assessment.aid == "hw/hw1")).first()
        assert hw is not None
        c.session.add(
            AssessmentInstance(assessment_id=hw.id, user_id=user.id, open=True, started_at=c.at)
        )
        c.session.add(
            ExamReservation(
                external_id="r1",
                user_id=user.id,
                exam_uuid="e" * 36,
                access_start=c.at + DAY,
                access_end=c.at + 2 * DAY,
                created_at=c.at,
            )
        )

    world.sys(activity)
    keys_before = world.sys(
        lambda c: set(
            c.session.scalars(
                select(AccountKey.fingerprint).where(AccountKey.user_id == _uid(c, "sc558aa").id)
            )
        )
    )
    at = world.at + DAY
    run = world.wipe(["sc558aa"], at=at)
    assert run.ok and run.wiped == ["sc558aa"]

    def after(c: Ctx) -> dict[str, object]:
        s = c.session
        u = _uid(c, "sc558aa")
        row = s.get(ClassAccount, u.id)
        assert row is not None
        return {
            "user": (u.email, u.name, u.status, u.class_account, u.class_course_instance_id),
            "row": (row.state, row.role, row.course_instance_id, row.mail_to_user_id),
            "sessions": s.scalar(
                select(func.count()).where(
                    WebSession.user_id == u.id, WebSession.revoked_at.is_(None)
                )
            ),
            "tokens": s.scalar(
                select(func.count()).where(ApiToken.user_id == u.id, ApiToken.revoked_at.is_(None))
            ),
            "open": s.scalar(
                select(func.count()).where(
                    AssessmentInstance.user_id == u.id, AssessmentInstance.open.is_(True)
                )
            ),
            "closed": s.scalar(select(func.count()).where(AssessmentInstance.user_id == u.id)),
            "roles": [
                (r.role, r.end_at)
                for r in s.scalars(
                    select(RoleAssignmentRow).where(RoleAssignmentRow.user_id == u.id)
                )
            ],
            "enrollments": [
                e.status for e in s.scalars(select(Enrollment).where(Enrollment.user_id == u.id))
            ],
            "reservation": s.scalar(
                select(ExamReservation.cancelled_at).where(ExamReservation.user_id == u.id)
            ),
            "password": s.get(Credential, u.id).password_hash.startswith("!randomised:"),  # type: ignore[union-attr]
            "aliases": s.scalar(select(func.count()).where(EmailAlias.user_id == u.id)),
            "keys": set(
                s.scalars(
                    select(AccountKey.fingerprint).where(
                        AccountKey.user_id == u.id, AccountKey.revoked_at.is_(None)
                    )
                )
            ),
            "wiped": s.scalar(select(func.count()).where(AccountEvent.kind == "wiped")),
        }

    facts = world.sys(after)
    keys = facts.pop("keys")
    assert isinstance(keys, set) and len(keys) == 2 and not keys & keys_before
    assert facts == {
        "user": ("sc558aa@unassigned.invalid", "unassigned class account", "locked", True, None),
        "row": ("free", "", None, None),
        "sessions": 0,
        "tokens": 0,
        "open": 0,
        "closed": 1,
        "roles": [("st", at)],  # ended, record kept
        "enrollments": ["removed"],  # record kept
        "reservation": at,
        "password": True,
        "aliases": 0,
        "wiped": 1,
    }
    # Files: all gone, the home directory stays, nothing outside was touched.
    assert list((world.home / "sc558aa").iterdir()) == []
    assert (outside / "keep.txt").read_text() == "not the student's"
    assert world.sys(lambda c: signin.sign_in(c, "sc558aa", password)).error is not None
    assert world.sys(lambda c: common.forward_address(c, "sc558aa@users.example.edu")) is None
    # Every step is in the history, by the acting user.
    steps = world.sys(
        lambda c: [
            (h.action, h.actor)
            for h in c.session.scalars(
                select(HistoryEntry)
                .where(
                    HistoryEntry.action.like("accounts.wipe.%"), HistoryEntry.subject == "sc558aa"
                )
                .order_by(HistoryEntry.id)
            )
        ]
    )
    assert steps == [
        (f"accounts.wipe.{name}", INSTRUCTOR) for name in ["request", *wipe_steps.step_names(())]
    ]
    # The other student is untouched.
    assert world.accounts()["sc558ab"].state == "assigned"


def test_wiping_twice_does_no_harm(world: AccWorld) -> None:
    world.stem()
    world.students(1)
    assert world.wipe(["sc558aa"]).wiped == ["sc558aa"]
    before = world.dump()
    ci = world.ci_id()
    request = world.run(INSTRUCTOR, lambda c: wipe_request.request_wipes(c, uids=["sc558aa"]))
    assert request.already_free == ["sc558aa"] and not request.wipe_ids
    assert world.dump() == before
    # Not found in the course instance once free: it belongs to no course now.
    with pytest.raises(Invalid, match="no class account 'sc558aa' in CG 101 Sp24"):
        world.run(
            INSTRUCTOR,
            lambda c: wipe_request.request_wipes(c, uids=["sc558aa"], course_instance_id=ci),
        )


def test_never_the_account_of_a_ta_or_an_instructor(world: AccWorld) -> None:
    world.stem()
    world.students(2)
    world.assign("tia@school.edu", role="ta")  # sc558ac
    world.run(TA, lambda c: service.set_incomplete(c, "sc558ab"))
    with pytest.raises(Invalid) as refused:
        world.wipe(["sc558aa", "sc558ac", INSTRUCTOR, "sc558ab"])
    message = refused.value.message
    assert "sc558ac: holds ta at /" in message and "never wiped" in message
    assert f"{INSTRUCTOR}: there is no class account" in message
    assert "sc558ab: has an incomplete" in message
    assert world.accounts()["sc558aa"].state == "assigned"  # all or nothing
    # The whole class: the TA's account and the incomplete are left alone, and said so.
    ci = world.ci_id()
    request = world.run(
        INSTRUCTOR, lambda c: wipe_request.request_wipes(c, course_instance_id=ci, whole_class=True)
    )
    assert request.started == ["sc558aa"]
    assert [a for a, _ in request.skipped] == ["sc558ab", "sc558ac"]
    # Once the TA role has ended, the TA's pool account may be recycled.
    area = world.sys(
        lambda c: common.instance_area(find_course_instance(c, demo.COURSE, "Sp24")).path
    )  # type: ignore[attr-defined]
    from coursegate.services.people.grants import revoke_role

    world.run(INSTRUCTOR, lambda c: revoke_role(c, "sc558ac", "ta", area))
    run = world.wipe(["sc558ac"], reason="recycle")
    assert run.wiped == ["sc558ac"]
    assert world.accounts(None)["sc558ac"].state == "free"


@pytest.mark.parametrize("actor", [TA, demo.OTHER_INSTRUCTOR.uid, demo.STUDENTS[0].uid])
def test_only_instructors_and_administrators_wipe(world: AccWorld, actor: str) -> None:
    world.stem()
    world.students(1)
    with pytest.raises(Refused):
        world.wipe(["sc558aa"], actor=actor)
    assert world.wipe(["sc558aa"], actor=ADMIN).wiped == ["sc558aa"]


@pytest.mark.parametrize(
    ("root", "why"),
    [
        ("", "home_root is not set"),
        ("/", "the root of the file system"),
        ("relative/home", "must be an absolute path"),
        ("/nonexistent/coursegate-home", "not an existing directory"),
        ("/tmp/../tmp", "must not contain '..'"),
    ],
)
def test_an_unsafe_home_root_stops_the_wipe_before_any_file(
    world: AccWorld, root: str, why: str
) -> None:
    world.stem()
    world.students(1)
    work = world.home / "sc558aa" / "work.txt"
    work.parent.mkdir()
    work.write_text("kept")
    good = world.site
    from dataclasses import replace

    world.site = replace(good, home_root=root)
    run = world.wipe(["sc558aa"])
    assert not run.ok and run.wiped == []
    [(account, error, left)] = run.unfinished
    assert account == "sc558aa" and why in error
    assert left[0] == "files"
    line = world.accounts()["sc558aa"]
    assert line.state == "wiping" and line.status == "locked"  # never reported wiped
    assert work.read_text() == "kept"
    assert (
        world.sys(
            lambda c: c.session.scalar(select(func.count()).where(AccountEvent.kind == "wiped"))
        )
        == 0
    )
    # With the setting fixed, the next run finishes it.
    world.site = good
    report = world.schedule(world.at)
    assert report.resumed is not None and report.resumed.wiped == ["sc558aa"]
    assert not work.exists()


def test_delete_home_never_follows_links(tmp_path: Path) -> None:
    root = tmp_path / "home"
    root.mkdir()
    outside = tmp_path / "precious"
    (outside / "dir").mkdir(parents=True)
    (outside / "dir" / "f").write_text("x")
    os.symlink(outside, root / "sc558aa")  # the home itself is a link
    assert homes.delete_home(root, "sc558aa") == 1
    assert not (root / "sc558aa").exists() and (outside / "dir" / "f").exists()
    # Deep trees are removed without recursion.
    path = root / "sc558ab"
    deep = path
    for i in range(300):
        deep = deep / f"d{i}"
    deep.mkdir(parents=True)
    (deep / "f").write_text("x")
    assert homes.delete_home(root, "sc558ab") == 301
    assert path.is_dir() and list(path.iterdir()) == []
    assert homes.delete_home(root, "sc558ab") == 0  # again: nothing left
    assert homes.delete_home(root, "sc558zz") == 0  # no home at all
    with pytest.raises(homes.UnsafeHome, match="not shaped like a class account"):
        homes.delete_home(root, "../precious")


def test_the_persons_address_moves_to_their_other_account(world: AccWorld) -> None:
    """amy has class accounts in two courses; the first holds her address, the second follows
    it. Wiping the first moves her address to the second: nothing is lost."""
    world.stem()
    world.assign("amy@school.edu")  # sc558aa holds the address

    def second_course(c: Ctx) -> int:
        course = Course(name="CS 200", timezone="America/Chicago", institution="Example University")
        c.session.add(course)
        c.session.flush()
        ci = CourseInstance(
            course_id=course.id, short_name="Sp24", timezone="America/Chicago", config={}
        )
        c.session.add(ci)
        c.session.flush()
        service.set_stem(c, "CS 200", "cs200")
        return ci.id

    ci2 = world.sys(second_course)
    report = world.sys(
        lambda c: service.assign(
            c, world.site, world.site.issuer(), ci2, service.parse_list("amy@school.edu")
        )
    )
    assert report.assigned[0].account == "cs200aa"
    assert report.assigned[0].mail_follows == "sc558aa"
    assert world.wipe(["sc558aa"]).ok
    assert (
        world.sys(lambda c: common.forward_address(c, "cs200aa@users.example.edu"))
        == "amy@school.edu"
    )
    assert world.sys(lambda c: _uid(c, "cs200aa").email) == "amy@school.edu"


def test_a_recycled_account_goes_to_the_next_term_not_back_to_this_one(world: AccWorld) -> None:
    world.stem()
    world.students(2)
    world.wipe(["sc558aa"], reason="recycle")
    # In Sp24 a new student gets a never-used account: sc558aa met its former holder's work here.
    again = world.assign("late@school.edu")
    assert [a.account for a in again.assigned] == ["sc558ac"]
    # Next term it is reused first, and counted as re-assigned.
    later = world.assign("next.term@school.edu", instance="Fa14", actor=ADMIN)
    assert [(a.account, a.reassigned) for a in later.assigned] == [("sc558aa", True)]
    rows = {
        (r.term, r.assigned, r.reassigned, r.wiped, r.generated) for r in world.sys(service.metrics)
    }
    assert rows == {("Sp24", 3, 0, 1, 3), ("Fa14", 1, 1, 0, 0)}


def test_site_hooks_run_inside_the_procedure_and_a_failure_resumes(world: AccWorld) -> None:
    world.stem()
    world.students(3)
    seen: list[WipeTarget] = []
    broken = {"sc558ab"}

    def experiments(target: WipeTarget) -> str:
        if target.account in broken:
            raise RuntimeError("the testbed is down")
        seen.append(target)
        return f"ended 2 experiments of {target.account}"

    world.with_hooks(WipeHook("experiments", experiments))
    ci = world.ci_id()
    run = world.wipe([], whole_class=True)
    assert run.wiped == ["sc558aa", "sc558ac"]
    [(account, error, left)] = run.unfinished
    assert account == "sc558ab" and "the testbed is down" in error
    assert left[0] == "hook:experiments"
    assert [t.account for t in seen] == ["sc558aa", "sc558ac"]
    assert seen[0].course_instance == "CG 101 Sp24" and seen[0].home == world.home / "sc558aa"
    failed = world.sys(
        lambda c: c.session.scalars(
            select(HistoryEntry.reason).where(HistoryEntry.action == "accounts.wipe.failed")
        ).all()
    )
    assert failed == ["step hook:experiments failed: RuntimeError: the testbed is down"]
    assert world.accounts()["sc558ab"].state == "wiping"
    broken.clear()
    report = world.schedule(world.at)
    assert report.resumed is not None and report.resumed.wiped == ["sc558ab"]
    assert [t.account for t in seen] == ["sc558aa", "sc558ac", "sc558ab"]  # once each
    notes = world.sys(
        lambda c: [
            h.details["note"]
            for h in c.session.scalars(
                select(HistoryEntry).where(HistoryEntry.action == "accounts.wipe.hook:experiments")
            )
        ]
    )
    assert sorted(notes) == [f"ended 2 experiments of sc558a{x}" for x in "abc"]
    del ci


# -- kill -9 ----------------------------------------------------------------------------------

N = 30


def _wipe_command(world: AccWorld) -> list[str]:
    return [
        sys.executable,
        "-m",
        "coursegate.cli.main",
        "accounts",
        "wipe",
        demo.COURSE,
        "Sp24",
        "--all",
        "--json",
        "--at",
        "2024-02-01T00:00:00Z",
    ]


@pytest.mark.parametrize(("step", "n"), [("access", 12), ("files", 15), ("email", 20)])
def test_a_wipe_killed_part_way_is_finished_by_the_next_run(
    world: AccWorld, tmp_path: Path, step: str, n: int
) -> None:
    world.stem()
    accounts = world.students(N)
    for a in accounts:
        (world.home / a / "sub").mkdir(parents=True)
        (world.home / a / "sub" / "work.txt").write_text(a)
    marker = tmp_path / "paused"
    env = world.child_env()
    env["COURSEGATE_TEST_WIPE_PAUSE"] = f"{step}:{n}:{marker}"
    env["COURSEGATE_TEST_PAUSE_SECONDS"] = "120"
    child = subprocess.Popen(
        _wipe_command(world), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    try:
        while not marker.exists():
            if child.poll() is not None:
                out, err = child.communicate()
                pytest.fail(f"the wipe ended before the pause:\n{out}\n{err}")
            assert time.monotonic() < deadline, "the wipe never reached the pause"
            time.sleep(0.05)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        assert child.stdout is not None and child.stderr is not None
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL

    # Killed: nothing is reported wiped while any step is left.
    lines = world.accounts()
    assert {lines[a].state for a in accounts} == {"wiping"}
    wiped = world.sys(
        lambda c: c.session.scalar(select(func.count()).where(AccountEvent.kind == "wiped"))
    )
    assert wiped == 0
    names = wipe_steps.step_names(())
    done = world.sys(lambda c: [list(w.steps_done) for w in c.session.scalars(select(AccountWipe))])
    # Every step before the killed one is done and recorded for every account; the killed one
    # for none (its transaction was rolled back); nothing after it.
    before = names[: names.index(step)]
    assert all(d == before for d in done), done

    # The next run (any run of the schedule) finishes it.
    report = world.schedule(world.at + DAY)
    assert report.resumed is not None
    assert report.resumed.wiped == sorted(accounts) and report.resumed.ok
    lines = world.accounts(None)
    assert {lines[a].state for a in accounts} == {"free"}
    assert all(list((world.home / a).iterdir()) == [] for a in accounts)
    counts = world.sys(
        lambda c: dict(
            c.session.execute(
                select(HistoryEntry.action, func.count())
                .where(HistoryEntry.action.like("accounts.wipe.%"))
                .group_by(HistoryEntry.action)
            ).all()
        )
    )
    assert counts == {f"accounts.wipe.{s}": N for s in ["request", *names]}
    assert (
        world.sys(
            lambda c: c.session.scalar(select(func.count()).where(AccountEvent.kind == "wiped"))
        )
        == N
    )
    # And running it again does nothing.
    state = world.dump()
    world.schedule(world.at + DAY)
    assert world.dump() == state
