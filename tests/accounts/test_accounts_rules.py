"""The pure rules of class accounts: stems, suffixes, the term-end schedule, who acts over
whom."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coursegate.services.accounts import rules
from coursegate.services.accounts.rules import DAY, Action, Phase, StemRoom, TermDone


def test_suffixes_run_aa_to_zz_in_order() -> None:
    names = [rules.suffix(i) for i in range(rules.PER_STEM)]
    assert names[:3] == ["aa", "ab", "ac"]
    assert names[25:27] == ["az", "ba"]
    assert names[-1] == "zz"
    assert names == sorted(names)
    assert len(set(names)) == 676
    with pytest.raises(ValueError, match="outside"):
        rules.suffix(676)


@given(st.integers(min_value=0, max_value=675))
def test_position_is_the_inverse_of_suffix(position: int) -> None:
    assert rules.position_of(rules.suffix(position)) == position


@pytest.mark.parametrize(
    ("text", "stem"),
    [("sc558", "sc558"), (" SC558 ", "sc558"), ("ab", "ab"), ("a1234567", "a1234567")],
)
def test_good_stems(text: str, stem: str) -> None:
    assert rules.check_stem(text) == stem


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty"),
        ("a", "1 characters"),
        ("abcdefghi", "9 characters"),
        ("5c558", "starting with a letter"),
        ("sc-58", "lower-case letters and digits"),
        ("sc 58", "lower-case letters and digits"),
    ],
)
def test_bad_stems_say_why(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        rules.check_stem(text)


def test_account_names_are_recognised_and_nothing_else() -> None:
    assert rules.is_account_name("sc558aa")
    for bad in ("sc558a1", "../etc", "sc558/aa", "SC558AA", "sc558aa ", "", "a", "x.y"):
        assert not rules.is_account_name(bad), bad


def test_generation_fills_the_first_stem_then_the_next() -> None:
    plan = rules.accounts_to_generate([StemRoom("sc558", 674), StemRoom("sc559", 0)], 4, "CG 101")
    assert plan.problem is None
    assert [rules.account_name(s, p) for s, p in plan.accounts] == [
        "sc558zy",
        "sc558zz",
        "sc559aa",
        "sc559ab",
    ]


def test_the_676_limit_is_reported_clearly_and_nothing_is_planned() -> None:
    plan = rules.accounts_to_generate([StemRoom("sc558", 670)], 10, "CG 101")
    assert plan.accounts == ()
    assert plan.problem is not None
    assert "CG 101 needs 10 new accounts but its stems have room for 6" in plan.problem
    assert "676" in plan.problem
    full = rules.accounts_to_generate([StemRoom("sc558", 676)], 1, "CG 101").problem
    assert full is not None and "sc558 (sc558aa..sc558zz) is full" in full
    assert "another stem" in full


def test_no_stem_no_accounts() -> None:
    problem = rules.accounts_to_generate([], 1, "CG 101").problem
    assert problem is not None and "no account stem" in problem


def test_placeholder_addresses_cannot_deliver() -> None:
    assert rules.placeholder_email("sc558aa") == "sc558aa@unassigned.invalid"
    assert rules.is_placeholder("sc558aa@unassigned.invalid")
    assert rules.is_placeholder(None)
    assert not rules.is_placeholder("ana@example.edu")
    assert rules.alias_for("sc558aa", "Users.Example.EDU") == "sc558aa@users.example.edu"


# -- the schedule -----------------------------------------------------------------------------

END = 1_700_000_000_000_000


@pytest.mark.parametrize(
    ("offset", "phase"),
    [
        (-1, Phase.TERM),
        (0, Phase.LOCKED),
        (14 * DAY - 1, Phase.LOCKED),
        (14 * DAY, Phase.REMINDED),
        (28 * DAY - 1, Phase.REMINDED),
        (28 * DAY, Phase.WIPE),
        (400 * DAY, Phase.WIPE),
    ],
)
def test_phases_follow_the_end_date(offset: int, phase: Phase) -> None:
    assert rules.term_due(END, END + offset, TermDone()).phase is phase


def test_no_end_date_nothing_is_due() -> None:
    due = rules.term_due(None, END, TermDone())
    assert due.phase is Phase.NO_END_DATE
    assert not (due.notify_lock or due.remind or due.notify_wiped)
    assert due.upcoming(END) is None


def test_each_notice_is_due_once_per_end_date() -> None:
    at = END + 15 * DAY
    first = rules.term_due(END, at, TermDone())
    assert first.notify_lock and first.remind and not first.notify_wiped
    done = TermDone(locked_for=END, reminded_for=END)
    again = rules.term_due(END, at, done)
    assert not again.notify_lock and not again.remind
    # Moving the end date makes them due again at the new date, and not before.
    moved = END + 30 * DAY
    assert rules.term_due(moved, at, done).phase is Phase.TERM
    later = rules.term_due(moved, moved + 1, done)
    assert later.notify_lock and not later.remind


def test_no_reminder_once_the_wipe_is_due() -> None:
    due = rules.term_due(END, END + 40 * DAY, TermDone())
    assert due.phase is Phase.WIPE
    assert not due.remind and not due.notify_lock  # the wipe notice says it all
    assert due.notify_wiped


def test_upcoming_names_the_next_step() -> None:
    due = rules.term_due(END, END - DAY, TermDone())
    assert due.upcoming(END - DAY) == ("lock", END)
    due = rules.term_due(END, END + DAY, TermDone())
    assert due.upcoming(END + DAY) == ("reminder", END + 14 * DAY)
    assert due.upcoming(END + 29 * DAY) is None


@pytest.mark.parametrize(
    ("phase", "incomplete", "lock_reason", "action"),
    [
        (Phase.TERM, False, None, Action.NONE),
        (Phase.TERM, False, "term", Action.UNLOCK),  # the end date moved later
        (Phase.TERM, False, "manual", Action.NONE),  # a lock by hand stays
        (Phase.LOCKED, False, None, Action.LOCK),
        (Phase.LOCKED, False, "term", Action.NONE),
        (Phase.LOCKED, False, "manual", Action.NONE),
        (Phase.REMINDED, False, None, Action.LOCK),
        (Phase.LOCKED, True, None, Action.NONE),
        (Phase.LOCKED, True, "term", Action.UNLOCK),
        (Phase.WIPE, False, "term", Action.WIPE),
        (Phase.WIPE, False, "manual", Action.WIPE),
        (Phase.WIPE, True, None, Action.NONE),
        (Phase.WIPE, True, "term", Action.UNLOCK),
        (Phase.NO_END_DATE, False, "term", Action.UNLOCK),
    ],
)
def test_what_the_schedule_does_to_a_student_account(
    phase: Phase, incomplete: bool, lock_reason: str | None, action: Action
) -> None:
    got = rules.account_action(
        phase, role="st", state="assigned", incomplete=incomplete, lock_reason=lock_reason
    )
    assert got is action


@pytest.mark.parametrize("phase", list(Phase))
def test_tas_and_free_accounts_never_follow_the_schedule(phase: Phase) -> None:
    for role, state in (("ta", "assigned"), ("", "free"), ("st", "wiping")):
        assert (
            rules.account_action(phase, role=role, state=state, incomplete=False, lock_reason=None)
            is Action.NONE
        )


@given(
    end=st.integers(min_value=0, max_value=10**16),
    at=st.integers(min_value=0, max_value=10**16),
    incomplete=st.booleans(),
    lock_reason=st.sampled_from([None, "term", "manual"]),
)
def test_an_incomplete_is_never_wiped_or_locked(
    end: int, at: int, incomplete: bool, lock_reason: str | None
) -> None:
    phase = rules.term_due(end, at, TermDone()).phase
    action = rules.account_action(
        phase, role="st", state="assigned", incomplete=incomplete, lock_reason=lock_reason
    )
    if incomplete:
        assert action in (Action.NONE, Action.UNLOCK)
    if at < end:
        assert action in (Action.NONE, Action.UNLOCK)


# -- who acts over whom -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor_roles", "admin", "target", "ok"),
    [
        (["in"], False, "st", True),
        (["cc"], False, "ta", True),
        (["ta"], False, "st", True),
        (["ta"], False, "ta", False),
        (["st"], False, "st", False),
        ([], False, "st", False),
        ([], True, "ta", True),
        (["ta", "in"], False, "ta", True),
    ],
)
def test_instructors_over_students_and_tas_tas_over_students(
    actor_roles: list[str], admin: bool, target: str, ok: bool
) -> None:
    why = rules.may_act_over(rules.rank_of(actor_roles, administrator=admin), target)
    assert (why is None) is ok
    if actor_roles == ["ta"] and target == "ta":
        assert why is not None and "students only" in why
