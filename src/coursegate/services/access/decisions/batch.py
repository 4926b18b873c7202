"""The batch endpoint's way: ``POST /api/v1/decisions/batch`` answered grouped, with the same
bytes as one by one.

:func:`~coursegate.services.access.decisions.answers.answer_batch` answers a batch request by
request, each through every stage (:mod:`coursegate.services.access.decisions.answers`). A batch
of 10,000 repeats most of that work: the same few users, assessments, instants and zones come
back again and again. Here the same stages are called, in the same order for each request, but
each only once per distinct input, and the rest is memoised:

- **who may see whom** (:func:`~coursegate.services.access.decisions.answers.permitted`): once
  per user asked about, not per request; a refusal is the same error for each of their requests;
- **the instant and zone** (:func:`~coursegate.services.access.decisions.answers.read_instant`):
  once per distinct (``at``, ``timezone``);
- **the user as the core sees them**
  (:func:`~coursegate.services.access.decisions.answers.user_input`: their row of the compiled
  course instance and the assessment's column, or their facts on their own): once per distinct
  (user, assessment, mode, zone) — for users holding no course-staff role, whose input does not
  depend on the instant; for the others, per request as before;
- **the decision** (:func:`~coursegate.services.access.decisions.answers.decide`, a look-up in
  the compiled form): per request (a binary search; memoising whole requests cost more than it
  saved); **its JSON** (:func:`~coursegate.services.access.decisions.answers.render`): the
  instant's part once per distinct (``at``, ``timezone``), the rest once per distinct pair of
  decisions;
- **errors**: serialised once per error object.

No rule is decided here: every answer is what the stages give. Tests feed the same random
batches to both ways and compare the bytes (tests/api/test_decisions_batch_fast.py).

The garbage collector is paused while a batch is answered: a batch allocates hundreds of
thousands of short-lived objects, and each of the collector's full passes it triggers walks
every long-lived compiled course instance of the process (30–50 % of a batch's time, measured
by bench/bench_api.py). It is enabled again at the end, whatever happens.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from zoneinfo import ZoneInfo

from coursegate.core.instants import Instant
from coursegate.core.model import Mode
from coursegate.services.access.decisions.answers import (
    Alone,
    Answer,
    Decided,
    InRow,
    Question,
    Stored,
    answer_questions,
    batch_json,
    batch_requests,
    decide,
    error_json,
    holds_staff_roles,
    permitted,
    read_instant,
    read_questions,
    render_at,
    render_decided,
    user_input,
)
from coursegate.services.access.exam_mode import RequestMode, explained
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import ServiceError
from coursegate.store.models import CourseInstance


class _Pauses:
    """Batches answering now with the collector paused (it is enabled when the last one ends)."""

    lock = threading.Lock()
    count = 0


@contextmanager
def collector_paused() -> Iterator[None]:
    """The garbage collector off for the duration, unless someone else had turned it off."""
    with _Pauses.lock:
        owner = _Pauses.count > 0 or gc.isenabled()  # off, and not by a batch: left alone
        if owner:
            _Pauses.count += 1
            gc.disable()
    try:
        yield
    finally:
        if owner:
            with _Pauses.lock:
                _Pauses.count -= 1
                if _Pauses.count == 0:
                    gc.enable()


def answer_batch_grouped(ctx: Ctx, raw: object, request_mode: RequestMode | None = None) -> bytes:
    """``{"requests": [...]}`` → ``{"results": [...]}``, serialised: the bytes of
    :func:`~coursegate.services.access.decisions.answers.answer_batch`, each distinct piece of
    work done once (see the module docstring)."""
    requests = batch_requests(raw)
    with collector_paused():
        questions = read_questions(requests, ctx.effective)
        answers = answer_questions(ctx, questions, request_mode, per_instance=answer_instance)
        return batch_json(serialised(answers))


def serialised(answers: Sequence[Answer]) -> list[bytes]:
    """The answers as JSON; each error object serialised once."""
    errors: dict[int, bytes] = {}
    out: list[bytes] = []
    for a in answers:
        if isinstance(a, bytes):
            out.append(a)
        else:
            found = errors.get(id(a))
            if found is None:
                found = errors[id(a)] = error_json(a)
            out.append(found)
    return out


def answer_instance(
    ctx: Ctx, ci: CourseInstance, items: Sequence[tuple[int, Question]], out: list[Answer]
) -> None:
    """Stages 3 to 5 for the requests of one course instance, into ``out``: who may see whom
    once per user, then each request from the pieces met before (:class:`_Grouped`)."""
    first: dict[str, tuple[int, Question]] = {}
    for k, q in items:
        if q.uid not in first:
            first[q.uid] = (k, q)
    seen = {q.uid for _, q in permitted(ctx, ci, list(first.values()), out)}
    refused = {uid: out[k] for uid, (k, _) in first.items() if uid not in seen}
    todo: list[tuple[int, Question]] = []
    for k, q in items:
        if q.uid in seen:
            todo.append((k, q))
        else:
            out[k] = refused[q.uid]
    if not todo:
        return
    answer = _Grouped(Stored(ctx, ci, seen)).answer
    for k, q in todo:
        out[k] = answer(q)


Read = tuple[str, ZoneInfo, Instant, bytes]
"""A request's instant read: the zone's name, the zone, the instant and the start of the
answer (:func:`~coursegate.services.access.decisions.answers.render_at`)."""


class _Grouped:
    """The stages for the requests of one course instance, each input met once."""

    def __init__(self, stored: Stored) -> None:
        self.stored = stored
        self.instants: dict[tuple[str | None, str | None], Read | ServiceError] = {}
        self.users: dict[tuple[str, str | None, bool, str], InRow | Alone | ServiceError] = {}
        self.staff: dict[str, bool] = {}
        self.rendered: dict[tuple[int, int, int, ZoneInfo], tuple[Decided, bytes]] = {}
        """The rest of an answer by its decisions (by ``id``: each kept with its bytes)."""

    def instant(self, q: Question) -> Read | ServiceError:
        key = (q.at, q.timezone)
        found = self.instants.get(key)
        if found is None:
            try:
                tz_name, tz, when = read_instant(self.stored, q)
                found = (tz_name, tz, when, render_at(self.stored, when, tz))
            except ServiceError as error:
                found = error
            self.instants[key] = found
        return found

    def user(
        self, q: Question, tz_name: str, tz: ZoneInfo, when: Instant
    ) -> InRow | Alone | ServiceError:
        staff = self.staff.get(q.uid)
        if staff is None:
            staff = self.staff[q.uid] = holds_staff_roles(self.stored, q.uid)
        if staff:  # their role depends on the instant: as one by one
            return user_input(self.stored, q, tz_name, tz, when)
        key = (q.uid, q.assessment, q.mode is Mode.EXAM, tz_name)  # (an enum hashes slowly)
        found = self.users.get(key)
        if found is None:
            try:
                found = user_input(self.stored, q, tz_name, tz, when)
            except ServiceError as error:
                found = error
            self.users[key] = found
        return found

    def rest(self, decided: Decided, tz: ZoneInfo) -> bytes:
        access, assessment, pieces = decided
        key = (id(access), id(assessment), id(pieces), tz)
        found = self.rendered.get(key)
        if found is None:
            found = self.rendered[key] = (decided, render_decided(decided, tz))
        return found[1]

    def answer(self, q: Question) -> Answer:
        """What ``answers._answer_course_instance`` answers ``q``: ``render`` of ``decide`` of
        ``build_input``, from the pieces met before."""
        instant = self.instant(q)
        if isinstance(instant, ServiceError):
            return instant
        tz_name, tz, when, start = instant
        stored = self.stored
        try:
            user = self.user(q, tz_name, tz, when)
            if isinstance(user, ServiceError):
                return user
            decided = decide(stored, user, when)
            if q.own_mode is not None and decided[1] is not None:
                decided = (decided[0], explained(decided[1], q.own_mode), stored.local)
            return start + self.rest(decided, tz)
        except ServiceError as error:
            return error
