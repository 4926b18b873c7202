"""The term-end schedule: lock on the end date (instructors told), a reminder two weeks later,
the wipe four weeks later; incompletes kept; moving the end date postpones all of it; safe to
run at any time, any number of times."""

from __future__ import annotations

from accounts_support import END, INSTRUCTOR, TA, AccWorld, local, password_in
from sqlalchemy import func, select

from coursegate.services.accounts import service
from coursegate.services.accounts.rules import DAY
from coursegate.services.people import signin
from coursegate.store.models import AccountMail, HistoryEntry


def _setup(world: AccWorld) -> dict[str, str]:
    world.stem()
    accounts = world.students(3)
    world.assign("tia@school.edu", role="ta")
    world.run(TA, lambda c: service.set_incomplete(c, accounts[2], reason="illness"))
    passwords = {
        a: password_in(world.mail_to(f"student{i}@school.edu")[0]) for i, a in enumerate(accounts)
    }
    return passwords


def _notices(world: AccWorld) -> list[tuple[str, str]]:
    return [
        (str(m["To"]), str(m["Subject"]))
        for m in world.messages()
        if m["X-Coursegate-Kind"] in ("lock-notice", "reminder", "wiped-notice")
    ]


def test_nothing_happens_during_the_term(world: AccWorld) -> None:
    _setup(world)
    before = world.dump()
    report = world.schedule(END - 1)
    assert [t.phase for t in report.terms] == ["term running"]
    assert not report.terms[0].changed
    after = world.dump()
    # Only the schedule's own bookkeeping row appears (nothing was done for any end date).
    assert after.pop("account_terms") == [(world.ci_id(), None, None, None, None, 1)]
    before.pop("account_terms")
    assert after == before


def test_the_whole_term_end(world: AccWorld) -> None:
    passwords = _setup(world)
    # The end date: student accounts locked (not the incomplete, not the TA), instructor told.
    report = world.schedule(END)
    [term] = report.terms
    assert term.locked == ["sc558aa", "sc558ab"]
    assert term.phase == "locked (term ended)"
    status = {a: line.status for a, line in world.accounts().items()}
    assert status == {
        "sc558aa": "locked",
        "sc558ab": "locked",
        "sc558ac": "active",
        "sc558ad": "active",
    }
    assert "locked" in (
        world.sys(lambda c: signin.sign_in(c, "sc558aa", passwords["sc558aa"])).error.message
    )  # type: ignore[union-attr]
    assert world.sys(lambda c: signin.sign_in(c, "sc558ac", passwords["sc558ac"])).error is None
    assert _notices(world) == [
        (INSTRUCTOR, "CG 101 Sp24: student accounts locked at the end of the term")
    ]
    notice = next(m for m in world.messages() if m["X-Coursegate-Kind"] == "lock-notice")
    text = notice.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "2 student account(s) are now locked: sc558aa, sc558ab." in text
    assert "1 with an incomplete stay open: sc558ac." in text
    assert "Fri 14 Jun 2024, 23:59 CDT" in text
    assert 'coursegate accounts end-date "CG 101" Sp24' in text

    # Running again (any number of times, at any instant before the reminder): nothing new.
    before = world.dump()
    for at in (END, END + DAY, END + 13 * DAY):
        again = world.schedule(at)
        assert not again.terms[0].changed
    assert world.dump() == before

    # Two weeks later: one reminder.
    world.schedule(END + 14 * DAY)
    world.schedule(END + 15 * DAY)
    assert _notices(world)[1:] == [
        (INSTRUCTOR, "CG 101 Sp24: student accounts will be wiped on Fri 14 Jun 2024, 23:59 CDT")
    ]

    # Four weeks later: every student account without an incomplete is wiped.
    report = world.schedule(END + 28 * DAY)
    assert report.ok
    assert report.terms[0].wiping == ["sc558aa", "sc558ab"]
    assert report.terms[0].kept == [("sc558ac", "incomplete")]
    assert report.wipes is not None and report.wipes.wiped == ["sc558aa", "sc558ab"]
    accounts = world.accounts(None)
    assert accounts["sc558aa"].state == accounts["sc558ab"].state == "free"
    assert accounts["sc558ac"].state == "assigned" and accounts["sc558ac"].status == "active"
    assert accounts["sc558ad"].state == "assigned"  # the TA's: never wiped
    assert _notices(world)[-1] == (INSTRUCTOR, "CG 101 Sp24: student accounts wiped")
    before = world.dump()
    world.schedule(END + 40 * DAY)
    assert world.dump() == before

    # The incomplete is withdrawn later: the next run wipes that account too.
    world.run(TA, lambda c: service.set_incomplete(c, "sc558ac", granted=False))
    later = world.schedule(END + 60 * DAY)
    assert later.terms[0].wiping == ["sc558ac"]
    assert world.accounts(None)["sc558ac"].state == "free"


def test_moving_the_end_date_postpones_everything_and_unlocks(world: AccWorld) -> None:
    passwords = _setup(world)
    ci = world.ci_id()
    world.schedule(END + DAY)
    assert world.accounts()["sc558aa"].status == "locked"
    moved = local("2024-06-30T23:59:00")
    view = world.run(INSTRUCTOR, lambda c: service.set_end_date(c, ci, moved), at=END + DAY)
    assert view.end == moved and view.end_from == "moved"
    assert view.next_step == ("lock", moved)
    report = world.schedule(END + 2 * DAY)
    assert report.terms[0].unlocked == ["sc558aa", "sc558ab"]
    assert world.sys(lambda c: signin.sign_in(c, "sc558aa", passwords["sc558aa"])).error is None
    # Nothing at the old reminder and wipe dates.
    world.schedule(END + 14 * DAY)
    world.schedule(END + 29 * DAY)
    assert world.accounts()["sc558aa"].state == "assigned"
    assert [s for _, s in _notices(world)] == [
        "CG 101 Sp24: student accounts locked at the end of the term"
    ]
    # At the new date, it all happens again (a second lock notice, for the new date).
    world.schedule(moved)
    assert world.accounts()["sc558aa"].status == "locked"
    world.schedule(moved + 28 * DAY)
    assert world.accounts(None)["sc558aa"].state == "free"
    assert len([s for _, s in _notices(world) if "locked" in s]) == 2
    # Clearing the moved date goes back to the course files' date.
    view = world.run(INSTRUCTOR, lambda c: service.set_end_date(c, ci, None))
    assert view.end == END and view.end_from == "course files"


def test_granting_an_incomplete_after_the_lock_unlocks(world: AccWorld) -> None:
    passwords = _setup(world)
    world.schedule(END)
    world.run(TA, lambda c: service.set_incomplete(c, "sc558ab"), at=END + DAY)
    assert world.sys(lambda c: signin.sign_in(c, "sc558ab", passwords["sc558ab"])).error is None
    world.schedule(END + 30 * DAY)
    assert world.accounts()["sc558ab"].state == "assigned"


def test_a_dry_run_changes_nothing_and_says_what_would(world: AccWorld) -> None:
    _setup(world)
    before = world.dump()
    sent = len(list((world.site.outbox_dir / "new").iterdir()))
    report = world.schedule(END + DAY, dry_run=True)
    assert report.terms[0].locked == ["sc558aa", "sc558ab"]
    assert "would lock sc558aa" in report.render()
    assert "would notify instructor@example.edu" in report.render()
    report = world.schedule(END + 30 * DAY, dry_run=True)
    assert report.terms[0].wiping == ["sc558aa", "sc558ab"]
    assert "would wipe sc558ab" in report.render()
    assert world.dump() == before
    assert len(list((world.site.outbox_dir / "new").iterdir())) == sent


def test_who_hears_and_what_the_history_says(world: AccWorld) -> None:
    _setup(world)
    world.schedule(END)
    entries = world.sys(
        lambda c: [
            (h.actor, h.action, h.subject)
            for h in c.session.scalars(
                select(HistoryEntry)
                .where(HistoryEntry.action.in_(["accounts.lock", "accounts.lock-notice"]))
                .order_by(HistoryEntry.id)
            )
        ]
    )
    assert entries == [
        ("system", "accounts.lock", "sc558aa"),
        ("system", "accounts.lock", "sc558ab"),
        ("system", "accounts.lock-notice", "CG 101 Sp24"),
    ]
    queued = world.sys(
        lambda c: c.session.scalar(
            select(func.count()).select_from(AccountMail).where(AccountMail.sent_at.is_(None))
        )
    )
    assert queued == 0  # the run delivered its mail


def test_the_schedule_view(world: AccWorld) -> None:
    _setup(world)
    ci = world.ci_id()
    view = world.run(TA, lambda c: service.term_view(c, ci))
    assert (view.students, view.incompletes, view.locked) == (3, 1, 0)
    data = view.to_json()
    assert data["end"] == "2024-05-17T23:59:59-05:00"
    assert data["wipe_at"] == "2024-06-14T23:59:59-05:00"
    assert data["next_step"] == {"step": "lock", "at": "2024-05-17T23:59:59-05:00"}


def test_several_servers_running_the_schedule_at_once(world: AccWorld) -> None:
    """Four runs at the same moment (as four servers would): one lock notice, one lock and one
    wipe per account, every account wiped once."""
    from concurrent.futures import ThreadPoolExecutor

    _setup(world)
    for at in (END + DAY, END + 29 * DAY):
        with ThreadPoolExecutor(4) as pool:
            reports = list(pool.map(world.schedule, [at] * 4))
        assert all(r.ok for r in reports)
    counts = world.sys(
        lambda c: dict(
            c.session.execute(
                select(HistoryEntry.action, func.count())
                .where(
                    HistoryEntry.action.in_(
                        [
                            "accounts.lock",
                            "accounts.lock-notice",
                            "accounts.wipe.finish",
                            "accounts.wiped-notice",
                        ]
                    )
                )
                .group_by(HistoryEntry.action)
            ).all()
        )
    )
    assert counts == {
        "accounts.lock": 2,
        "accounts.lock-notice": 1,
        "accounts.wipe.finish": 2,
        "accounts.wiped-notice": 1,
    }
    assert [s for _, s in _notices(world)] == [
        "CG 101 Sp24: student accounts locked at the end of the term",
        "CG 101 Sp24: student accounts wiped",
    ]
