"""The rules of class accounts, as pure functions: no I/O, no clock, no database.

* **Stems and suffixes.** A stem (``sc558``) is a lower-case letter followed by letters or
  digits, 2 to 8 characters; its accounts are the stem plus ``aa``, ``ab``, ... ``zz``, in that
  order: 676 per stem (:func:`suffix`, :func:`accounts_to_generate`).
* **The term-end schedule** (:func:`term_due`, :func:`account_action`): on the course
  instance's end date every student account is locked and the instructors are told; two weeks
  later a reminder; four weeks later every student account is wiped. Everything is computed
  from the end date, so moving the end date postpones all of it, and a step already done is
  remembered *for the end date it was done for*. Students with an incomplete are not locked
  (or are unlocked) and never wiped.
* **Who acts over whom** (:func:`may_act_over`): instructors over students and TAs, TAs over
  students only, administrators over both; never the reverse.
* **Addresses** (:func:`alias_for`, :func:`placeholder_email`): the forwarding alias and the
  placeholder address of an unassigned account.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from coursegate.core.instants import MICROS, Instant

LETTERS = "abcdefghijklmnopqrstuvwxyz"
PER_STEM = len(LETTERS) ** 2
"""676 accounts per stem: ``aa`` .. ``zz``."""
STEM_MIN, STEM_MAX = 2, 8
_STEM = re.compile(r"[a-z][a-z0-9]*")
_ACCOUNT = re.compile(r"[a-z][a-z0-9]*[a-z]{2}")

DAY = 86_400 * MICROS
REMINDER_AFTER = 14 * DAY
"""The reminder to the instructors: two weeks after the end date."""
WIPE_AFTER = 28 * DAY
"""Student accounts are wiped four weeks after the end date."""

PLACEHOLDER_DOMAIN = "unassigned.invalid"
"""Unassigned accounts carry ``<account>@unassigned.invalid``: ``.invalid`` is reserved
(RFC 2606), so no mail can ever reach anyone through it."""
PLACEHOLDER_NAME = "unassigned class account"

STUDENT, TA = "st", "ta"
ROLES = {STUDENT: "student", TA: "TA"}


# -- stems and suffixes -----------------------------------------------------------------------


def check_stem(text: str) -> str:
    """The stem, stripped and lower-cased; :class:`ValueError` saying what is wrong."""
    stem = text.strip().lower()
    if not stem:
        raise ValueError("the stem is empty; give one like sc558")
    if not STEM_MIN <= len(stem) <= STEM_MAX:
        raise ValueError(
            f"the stem {stem!r} has {len(stem)} characters; a stem has {STEM_MIN} to "
            f"{STEM_MAX} (accounts add two letters: {stem[:STEM_MAX]}aa)"
        )
    if not _STEM.fullmatch(stem):
        raise ValueError(
            f"the stem {stem!r} may hold only lower-case letters and digits, starting with a "
            "letter (like sc558)"
        )
    return stem


def suffix(position: int) -> str:
    """The two letters of the account at ``position`` (0 → ``aa``, 1 → ``ab``, 675 → ``zz``)."""
    if not 0 <= position < PER_STEM:
        raise ValueError(f"position {position} is outside 0..{PER_STEM - 1}")
    return LETTERS[position // 26] + LETTERS[position % 26]


def position_of(two: str) -> int:
    """The inverse of :func:`suffix`."""
    if len(two) != 2 or any(c not in LETTERS for c in two):
        raise ValueError(f"{two!r} is not a two-letter suffix aa..zz")
    return LETTERS.index(two[0]) * 26 + LETTERS.index(two[1])


def account_name(stem: str, position: int) -> str:
    return stem + suffix(position)


def is_account_name(uid: str) -> bool:
    """Whether ``uid`` has the shape of a class account (stem + two letters): only such names
    are ever joined to the home root."""
    return bool(_ACCOUNT.fullmatch(uid)) and STEM_MIN + 2 <= len(uid) <= STEM_MAX + 2


@dataclass(frozen=True)
class StemRoom:
    """A stem and how many of its accounts exist already."""

    stem: str
    generated: int


@dataclass(frozen=True)
class GenerationPlan:
    """Which accounts to generate, in order, or why it cannot be done."""

    accounts: tuple[tuple[str, int], ...]
    """(stem, position) pairs."""
    problem: str | None = None


def accounts_to_generate(stems: list[StemRoom], count: int, course: str) -> GenerationPlan:
    """The next ``count`` accounts of a course's stems, in order (the first stem is filled
    before the next is used). When the stems have room for fewer, nothing is planned and the
    problem names the 676 limit and what to do."""
    if count < 0:
        return GenerationPlan((), "the number of accounts to generate cannot be negative")
    if not stems:
        return GenerationPlan(
            (),
            f"{course} has no account stem yet; an administrator sets one first "
            "(coursegate accounts stem)",
        )
    planned: list[tuple[str, int]] = []
    for room in stems:
        position = room.generated
        while len(planned) < count and position < PER_STEM:
            planned.append((room.stem, position))
            position += 1
    if len(planned) < count:
        free = len(planned)
        full = ", ".join(
            f"{r.stem} ({r.stem}aa..{r.stem}zz)" for r in stems if r.generated >= PER_STEM
        )
        return GenerationPlan(
            (),
            f"{course} needs {count} new accounts but its stems have room for {free}: a stem "
            f"holds at most {PER_STEM} accounts (aa..zz)"
            + (f" and {full} {'is' if ',' not in full else 'are'} full" if full else "")
            + "; an administrator gives the course another stem (coursegate accounts stem), or "
            "wipe accounts to return them to the pool",
        )
    return GenerationPlan(tuple(planned))


# -- addresses --------------------------------------------------------------------------------


def alias_for(account: str, mail_domain: str) -> str:
    """The forwarding alias: ``sc558aa@users.example.edu``."""
    return f"{account}@{mail_domain.strip().lower()}"


def placeholder_email(account: str) -> str:
    return f"{account}@{PLACEHOLDER_DOMAIN}"


def is_placeholder(email: str | None) -> bool:
    return email is None or email.endswith("@" + PLACEHOLDER_DOMAIN)


# -- the term-end schedule --------------------------------------------------------------------


class Phase(Enum):
    NO_END_DATE = "no end date"
    TERM = "term running"
    LOCKED = "locked (term ended)"
    REMINDED = "locked; the reminder is due (two weeks after the end)"
    WIPE = "wipe (four weeks after the end)"


@dataclass(frozen=True)
class TermDone:
    """What was done already, each marked with the end date it was done for (so moving the end
    date makes it due again at the new date)."""

    locked_for: Instant | None = None
    reminded_for: Instant | None = None
    wiped_for: Instant | None = None


@dataclass(frozen=True)
class TermDue:
    """What is due at ``at`` for one course instance."""

    phase: Phase
    end: Instant | None
    lock_at: Instant | None
    remind_at: Instant | None
    wipe_at: Instant | None
    notify_lock: bool = False
    """Tell the instructors their students' accounts are locked (once per end date; not when
    the wipe is already due: the wipe notice says it all)."""
    remind: bool = False
    """Remind the instructors the wipe is near (once per end date, only before the wipe)."""
    notify_wiped: bool = False
    """Tell the instructors the accounts were wiped (once per end date)."""

    def upcoming(self, at: Instant) -> tuple[str, Instant] | None:
        """The next step after ``at`` and when it is due (None: nothing more, or no end)."""
        steps = (("lock", self.lock_at), ("reminder", self.remind_at), ("wipe", self.wipe_at))
        for name, t in steps:
            if t is not None and t > at:
                return name, t
        return None


def _phase(end: Instant | None, at: Instant) -> Phase:
    if end is None:
        return Phase.NO_END_DATE
    if at < end:
        return Phase.TERM
    if at < end + REMINDER_AFTER:
        return Phase.LOCKED
    if at < end + WIPE_AFTER:
        return Phase.REMINDED
    return Phase.WIPE


def term_due(end: Instant | None, at: Instant, done: TermDone) -> TermDue:
    """What is due at ``at`` given the end date and what has been done."""
    phase = _phase(end, at)
    if end is None:
        return TermDue(phase, None, None, None, None)
    ended = phase is not Phase.TERM
    return TermDue(
        phase,
        end,
        end,
        end + REMINDER_AFTER,
        end + WIPE_AFTER,
        notify_lock=ended and phase is not Phase.WIPE and done.locked_for != end,
        remind=phase is Phase.REMINDED and done.reminded_for != end,
        notify_wiped=phase is Phase.WIPE and done.wiped_for != end,
    )


class Action(Enum):
    NONE = "none"
    LOCK = "lock"
    UNLOCK = "unlock"
    WIPE = "wipe"


def account_action(
    phase: Phase, *, role: str, state: str, incomplete: bool, lock_reason: str | None
) -> Action:
    """What the schedule does to one account of the course instance.

    Only assigned student accounts follow the schedule (TAs' accounts never do). An account
    with an incomplete is unlocked if the schedule locked it, and never wiped. An account the
    schedule locked is unlocked again when the end date moves past ``at``; an account locked by
    hand stays locked until unlocked by hand (or wiped with the class).
    """
    if role != STUDENT or state != "assigned":
        return Action.NONE
    if incomplete:
        return Action.UNLOCK if lock_reason == "term" else Action.NONE
    if phase is Phase.WIPE:
        return Action.WIPE
    if phase in (Phase.LOCKED, Phase.REMINDED):
        return Action.LOCK if lock_reason is None else Action.NONE
    if lock_reason == "term":  # the term is running again: the end date moved
        return Action.UNLOCK
    return Action.NONE


# -- who acts over whom -----------------------------------------------------------------------

ADMIN_RANK = 4
"""Administrators (su, dc) act over every account of every course of their domain."""
RANKS = {"cc": 3, "in": 3, "ta": 2, "st": 1}
"""The roles core's view-as ranks: instructors 3, TAs 2, students 1."""


def rank_of(roles_in_course: list[str], *, administrator: bool) -> int:
    """The actor's rank in a course instance from the roles they hold there."""
    if administrator:
        return ADMIN_RANK
    return max((RANKS.get(r, 0) for r in roles_in_course), default=0)


def may_act_over(actor_rank: int, target_role: str) -> str | None:
    """None when an actor of ``actor_rank`` may act over an account holding ``target_role``
    (``st`` or ``ta``); otherwise why not."""
    target = RANKS.get(target_role, 0)
    if actor_rank > target:
        return None
    if actor_rank == RANKS["ta"] and target_role == TA:
        return "a TA acts over the course's students only, never over another TA"
    if actor_rank == RANKS["st"] or actor_rank == 0:
        return "only the course's instructors and TAs act over its class accounts"
    return "instructors act over their students and TAs, TAs over students; never the reverse"


__all__ = [
    "ADMIN_RANK",
    "PER_STEM",
    "PLACEHOLDER_DOMAIN",
    "PLACEHOLDER_NAME",
    "REMINDER_AFTER",
    "STUDENT",
    "TA",
    "WIPE_AFTER",
    "Action",
    "GenerationPlan",
    "Phase",
    "StemRoom",
    "TermDone",
    "TermDue",
    "account_action",
    "account_name",
    "accounts_to_generate",
    "alias_for",
    "check_stem",
    "is_account_name",
    "is_placeholder",
    "may_act_over",
    "placeholder_email",
    "position_of",
    "rank_of",
    "suffix",
    "term_due",
]
