"""Issue 15, classes 2 and 3, for a student's exception: it goes through the checks the course
files go through, over the student's whole cascade. What the cascade strands is dropped and its
credit clamped (as PrairieLearn does), so neither is a reason to refuse the exception.

hw/hw2 (Sp24): released 29 January, early deadline 4 February (110%), due 5 February, late
deadline 7 February (80%), then practice for 0%.
"""

from __future__ import annotations

import pytest
from store_support import Store
from test_store_exceptions import AT, S0, S2, TA, World, populate, t


@pytest.fixture
def w(store: Store) -> World:
    ids = store.system(AT, populate)
    assert isinstance(ids, dict)
    return World(store, ids)


def test_a_release_moved_past_the_early_deadline_drops_it(w: World) -> None:
    # Refused before: "early deadline ... is not after the release date".
    w.grant(TA, S0, "assessment", "hw/hw2", release="2024-02-05T00:00")
    assert not w.decide(S0, "hw/hw2", t("2024-02-04T12:00")).access
    d = w.decide(S0, "hw/hw2", t("2024-02-05T12:00"))
    assert d.access and d.credit == 100
    assert w.decide(S2, "hw/hw2", t("2024-02-04T12:00")).credit == 110


def test_a_lower_due_credit_clamps_the_inherited_late_credit(w: World) -> None:
    # Refused before: "credit must decrease over time: 70% ... followed by 80% ...".
    w.grant(TA, S0, "assessment", "hw/hw2", release="2024-02-05T00:00", credit=70)
    assert w.decide(S0, "hw/hw2", t("2024-02-05T12:00")).credit == 70
    d = w.decide(S0, "hw/hw2", t("2024-02-06T12:00"))
    assert d.submittable and d.credit == 70  # the late deadline's 80% never raises it
    assert w.decide(S2, "hw/hw2", t("2024-02-06T12:00")).credit == 80
