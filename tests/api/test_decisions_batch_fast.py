"""The batch endpoint's grouped way (services.access.decisions.batch) answers every batch with
exactly the bytes of the one-by-one way (answers.answer_batch, kept as its oracle): seeded random
batches mixing valid, invalid, forbidden, duplicate requests, instants and zones, asked by every
persona, in Public and in Exam mode."""

from __future__ import annotations

import gc
import random
from collections import Counter
from typing import Any

import orjson
import pytest
from api_support import COURSE, INSTANCE, PERSONAS, World

from coursegate.cli import demo_world as demo
from coursegate.core.model import Mode
from coursegate.services.access import attempts
from coursegate.services.access.decisions import answers, batch
from coursegate.services.access.exam_mode import RequestMode
from coursegate.services.access.reservations import record_reservation
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import ServiceError
from coursegate.services.common.places import find_course_instance

ANA, BEN, CHLOE, DAN = demo.STUDENTS
EXAM2_UUID = "d7fcbf5c-a803-4d7e-94bf-68e68fa3dc85"
AIDS = ("hw/hw1", "hw/hw2", "quizzes/quiz1", "exams/exam1", "exams/exam2", "exams/final")
ATS = (
    None, "2024-01-20T10:00", "2024-01-24T20:00", "2024-01-24T23:59:00-06:00",
    "2024-02-08T11:00", "2024-02-08T11:00:00Z", "2024-03-01T09:00", "2024-03-10T02:30",
    "not a date", "",
)  # fmt: skip
ZONES = (None, None, "America/Chicago", "Europe/Paris", "Asia/Kolkata", "Mars/Olympus")
EXAM = RequestMode(Mode.EXAM, "Exam mode: the request comes from a testing centre", "network")


def _valid(rng: random.Random, asker: str) -> dict[str, Any]:
    out: dict[str, Any] = {"course": COURSE, "course_instance": INSTANCE}
    if rng.random() < 0.9:
        out["assessment"] = rng.choice(AIDS) if rng.random() < 0.95 else "hw/nope"
    if rng.random() < 0.85:
        people = [u.uid for u in demo.EVERYONE] + ["ghost@example.edu"]
        out["user"] = {"uid": asker if rng.random() < 0.3 else rng.choice(people)}
    at = rng.choice(ATS)
    if at is not None:
        out["at"] = at
    tz = rng.choice(ZONES)
    if tz is not None:
        out["timezone"] = tz
    if rng.random() < 0.5:
        out["mode"] = rng.choice(("Public", "Exam", "Exam", "exam"))
    keys = list(out)
    rng.shuffle(keys)  # the order of the fields decides which error is named first
    return {k: out[k] for k in keys}


def _odd(rng: random.Random, asker: str) -> Any:
    """A request that is wrong, or about somewhere else."""
    base = _valid(rng, asker)
    kind = rng.randrange(12)
    if kind == 0:
        return rng.choice(["not an object", 7, None, [base]])
    if kind == 1:
        base[rng.choice(("enrollment", "instance", "colour"))] = {"status": "joined"}
    elif kind == 2:
        base["user"] = rng.choice(({"uid": ""}, {"uid": 3}, {"role": "in"}, "ana", {"x": 1}))
    elif kind == 3:
        base[rng.choice(("assessment", "at", "course_instance", "timezone"))] = rng.choice(
            (1, True, 1.0, ["x"])
        )
    elif kind == 4:
        base["course_instance"] = demo.OTHER_INSTANCE
    elif kind == 5:
        base.pop("course_instance")
    elif kind == 6:
        base["course"] = rng.choice(("NOPE 1", "", "  "))
    elif kind == 7:
        base.pop("course")
    elif kind == 8:
        base["course_instance"] = "Su99"
    elif kind == 9:
        base["mode"] = rng.choice(("Public", "Exam"))
        base["user"] = {"uid": asker}
    elif kind == 10:
        base["timezone"] = "Nowhere/Special"
    else:
        base["at"] = "2024-13-45T99:00"
    return base


def random_batch(rng: random.Random, asker: str, size: int) -> list[Any]:
    out: list[Any] = []
    for _ in range(size):
        roll = rng.random()
        if out and roll < 0.15:
            out.append(rng.choice(out))  # a duplicate, the same object or an equal copy
            if rng.random() < 0.5:
                out[-1] = orjson.loads(orjson.dumps(out[-1]))
        elif roll < 0.35:
            out.append(_odd(rng, asker))
        else:
            out.append(_valid(rng, asker))
    return out


def _store(world: World) -> None:
    """Attempts (open, closed, two students sharing a slot) and a reservation."""
    with world.ctx(ANA.uid) as ctx:
        ci = find_course_instance(ctx, COURSE, INSTANCE)
        attempts.start(ctx, ci.id, "hw/hw1")
    for person in (CHLOE, DAN):
        with world.ctx(person.uid) as ctx:
            started = attempts.start(ctx, ci.id, "hw/hw1")
        with world.ctx(person.uid) as ctx:
            attempts.close(ctx, started.id)
    with world.ctx() as ctx:
        record_reservation(ctx, "pt-2", BEN.uid, EXAM2_UUID, "2024-02-08T10:00", "2024-02-08T14:00")


def _both(ctx: Ctx, raw: Any, mode: RequestMode | None, grouped_first: bool) -> tuple[bytes, bytes]:
    if grouped_first:
        grouped = batch.answer_batch_grouped(ctx, raw, mode)
        return answers.answer_batch(ctx, raw, mode), grouped
    one_by_one = answers.answer_batch(ctx, raw, mode)
    return one_by_one, batch.answer_batch_grouped(ctx, raw, mode)


def test_the_grouped_way_gives_the_bytes_of_the_one_by_one_way(world: World) -> None:
    _store(world)
    seen: Counter[str] = Counter()
    for seed in range(12):
        rng = random.Random(seed)
        persona = list(PERSONAS)[seed % len(PERSONAS)]
        asker = PERSONAS[persona].uid
        requests = random_batch(rng, asker, 150)
        mode = EXAM if seed % 3 == 0 else None
        with world.ctx(asker) as ctx:
            want, got = _both(ctx, {"requests": requests}, mode, seed % 2 == 0)
        assert got == want, (seed, persona)
        for item in orjson.loads(want)["results"]:
            seen[item["error"]["code"] if "error" in item else "decision"] += 1
    # the batches are not vacuous: decisions and every kind of error were compared
    assert seen["decision"] > 300
    for code in ("invalid", "not_found", "forbidden"):
        assert seen[code] > 10, seen


def test_the_comparison_sees_a_difference(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test above can fail: a grouped way that memoised one input too many (here, the
    instant, by zone only) gives other bytes for the same random batch."""
    rng = random.Random(1)
    requests = random_batch(rng, ANA.uid, 150)
    real = batch._Grouped.instant

    def by_zone_only(self: batch._Grouped, q: answers.Question) -> Any:
        key = (None, q.timezone)
        if key not in self.instants:
            self.instants[key] = real(self, q)
        return self.instants[key]

    monkeypatch.setattr(batch._Grouped, "instant", by_zone_only)
    with world.ctx(demo.ADMIN.uid) as ctx:
        want, got = _both(ctx, {"requests": requests}, None, False)
    assert got != want


def test_the_endpoint_answers_with_the_grouped_bytes(world: World) -> None:
    requests = random_batch(random.Random(99), demo.TA.uid, 200)
    r = world.client("ta").post("/api/v1/decisions/batch", json={"requests": requests})
    assert r.status_code == 200, r.text
    with world.ctx(demo.TA.uid) as ctx:
        want = answers.answer_batch(ctx, {"requests": requests})
    assert r.content == want


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ([], 422),
        ({"requests": {}}, 422),
        ({"requests": [], "extra": 1}, 422),
        ({"requests": [{}] * (answers.MAX_BATCH + 1)}, 413),
    ],
)
def test_a_batch_that_is_not_one_is_refused_the_same_way(world: World, raw: Any, code: int) -> None:
    r = world.client("ta").post("/api/v1/decisions/batch", json=raw)
    assert r.status_code == code, r.text
    with world.ctx(demo.TA.uid) as ctx:
        for way in (answers.answer_batch, batch.answer_batch_grouped):
            with pytest.raises(ServiceError) as caught:
                way(ctx, raw)
            assert caught.value.status == code


def test_the_collector_is_paused_during_a_batch_and_enabled_after_even_on_error() -> None:
    assert gc.isenabled()
    with batch.collector_paused():
        assert not gc.isenabled()
        with batch.collector_paused():  # another batch at once
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), batch.collector_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()
    gc.disable()  # turned off by someone else: left off
    try:
        with batch.collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
