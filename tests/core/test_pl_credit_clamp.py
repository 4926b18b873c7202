"""Issue 15, class 2: credit never rises, even when overrides stack.

Several label overrides (and a student's own) may each agree with the defaults and still merge
into a timeline whose credit would rise: a late deadline from one, a lower due credit or an
``afterLastDeadline`` from another. PrairieLearn does not refuse the combination; it clamps the
merged timeline (an early deadline gives at least the due credit, a late one at most it, and no
segment more than the one before it). coursegate does the same at decision time.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coursegate.core.access_control import (
    AccessControlConfig,
    AccessPatch,
    AfterLastDeadline,
    DateControlPatch,
    Deadline,
    Due,
    resolve_settings,
)
from coursegate.core.course_instance import CourseInstancePolicy
from coursegate.core.engine import AssessmentConfig, Facts, decide_directly
from coursegate.core.instants import MINUTE, zone
from coursegate.core.model import Form, UserFacts
from helpers import assess

UUIDS = [
    "0b31c53c-0a94-4380-bd01-c75b8f5d3fc1",
    "0b31c53c-0a94-4380-bd01-c75b8f5d3fc2",
    "0b31c53c-0a94-4380-bd01-c75b8f5d3fc3",
]


def homework(*overrides: dict[str, Any]) -> dict[str, Any]:
    """Released 14 March, due 21 March (100%); each override for its own label."""
    return {
        "accessControl": [
            {
                "dateControl": {
                    "release": {"date": "2024-03-14T00:00:00"},
                    "due": {"date": "2024-03-21T23:59:00"},
                }
            },
            *(
                {"uuid": UUIDS[i], "labels": [f"lab-{i}"], "dateControl": dc}
                for i, dc in enumerate(overrides)
            ),
        ]
    }


def credit(cfg: dict[str, Any], at: str, sections: list[str]) -> float:
    d = assess(cfg, at, user={"sections": sections})
    assert d["access"], d
    return float(d["credit"])


LATE_80 = {"lateDeadlines": [{"date": "2024-03-25T23:59:00", "credit": 80}]}
DUE_50 = {"due": {"date": "2024-03-21T23:59:00", "credit": 50}}


def test_a_late_deadline_from_one_override_never_beats_a_lower_due_credit_from_another() -> None:
    cfg = homework(LATE_80, DUE_50)
    # Each override alone is fine.
    assert credit(cfg, "2024-03-23T12:00", ["lab-0"]) == 80
    assert credit(cfg, "2024-03-20T12:00", ["lab-1"]) == 50
    # Together: 50% until the due date, then the late deadline's 80% is clamped to 50%.
    both = ["lab-0", "lab-1"]
    assert credit(cfg, "2024-03-20T12:00", both) == 50
    assert credit(cfg, "2024-03-23T12:00", both) == 50


def test_after_last_deadline_from_one_override_is_clamped_to_the_late_credit_of_another() -> None:
    cfg = homework(LATE_80, {"afterLastDeadline": {"allowSubmissions": True, "credit": 90}})
    both = ["lab-0", "lab-1"]
    assert credit(cfg, "2024-03-23T12:00", both) == 80
    d = assess(cfg, "2024-03-27T12:00", user={"sections": both})
    assert d["submittable"] and d["credit"] == 80


def test_an_early_deadline_gives_at_least_the_due_credit_of_another_override() -> None:
    early = {"earlyDeadlines": [{"date": "2024-03-17T23:59:00", "credit": 110}]}
    due_120 = {"due": {"date": "2024-03-21T23:59:00", "credit": 120}}
    cfg = homework(early, due_120)
    both = ["lab-0", "lab-1"]
    # PrairieLearn floors the early deadline to the due credit: 120% throughout, never 110%
    # then 120%.
    assert credit(cfg, "2024-03-15T12:00", both) == 120
    assert credit(cfg, "2024-03-19T12:00", both) == 120


# Property: whatever overrides stack, credit never rises with time.

TZ = zone("America/Chicago")
BASE = 1_710_000_000 * 1_000_000
CI = CourseInstancePolicy()
EXAMPLES = int(os.environ.get("COURSEGATE_PROPERTY_EXAMPLES", "150"))
minutes = st.integers(min_value=1, max_value=20_000)


def at(m: int) -> int:
    return BASE + m * MINUTE


@st.composite
def date_controls(draw: st.DrawFn) -> DateControlPatch:
    """An override's date control: any mix of due, early, late and afterLastDeadline."""
    kw: dict[str, Any] = {}
    if draw(st.booleans()):
        due_at = draw(st.one_of(st.none(), minutes))
        kw["due"] = Due(None if due_at is None else at(due_at), draw(st.integers(0, 150)))
    for key in ("early", "late"):
        if draw(st.booleans()):
            items = draw(st.lists(st.tuples(minutes, st.integers(0, 200)), max_size=3))
            kw[key] = tuple(Deadline(at(m), c) for m, c in items)
    if draw(st.booleans()):
        kw["after_last"] = AfterLastDeadline(draw(st.booleans()), draw(st.integers(0, 99)))
    return DateControlPatch(**kw)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    date_controls(),
    st.lists(date_controls(), min_size=1, max_size=4),
    st.lists(st.integers(0, 25_000), min_size=2, max_size=12),
)
def test_credit_never_rises_with_time_however_overrides_stack(
    defaults: DateControlPatch, stacked: list[DateControlPatch], ms: list[int]
) -> None:
    base = AccessPatch(source="accessControl[0]", date_control=replace_release(defaults))
    overrides = tuple(
        AccessPatch(source=f"accessControl[{i + 1}]", labels=frozenset({f"l{i}"}), date_control=dc)
        for i, dc in enumerate(stacked)
    )
    access = AccessControlConfig(Form.MODERN, base, overrides)
    config = AssessmentConfig(id="a", form=Form.MODERN, access=access)
    sections = frozenset(f"l{i}" for i in range(len(stacked)))
    user = UserFacts(uid="s", sections=sections)
    assert resolve_settings(access, sections).date_control is not None
    facts = Facts(user=user)
    decisions = [decide_directly(CI, config, facts, at(m), TZ) for m in sorted(ms)]
    credits = [d.credit for d in decisions if d.access and d.submittable]
    assert all(a >= b for a, b in itertools.pairwise(credits)), credits


def replace_release(dc: DateControlPatch) -> DateControlPatch:
    """The defaults always carry a release (at minute 0)."""
    return replace(dc, release=at(0))
