"""Score from credit: the seed docs' examples."""

import pytest

from coursegate import score


def test_credit_below_100_caps_the_percentage() -> None:
    # The seed: credit 80, maxPoints 10 — 8 points give 80%, 9 or 10 points still 80%.
    assert score(8, 10, credit=80) == 80
    assert score(9, 10, credit=80) == 80
    assert score(10, 10, credit=80) == 80
    assert score(4, 10, credit=80) == 40


def test_credit_above_100_jumps_at_full_points() -> None:
    # The seed: credit 120 — the score rises to 100% then jumps to 120% at maxPoints.
    assert score(8, 10, credit=120) == 80
    assert score(9.99, 10, credit=120) == pytest.approx(99.9)
    assert score(10, 10, credit=120) == 120


def test_score_never_decreases() -> None:
    assert score(5, 10, credit=100, previous_percent=90) == 90
    assert score(10, 10, credit=0, previous_percent=40) == 40


def test_bonus_points_count_up_to_the_bonus() -> None:
    assert score(11, 10, bonus=2, credit=100) == pytest.approx(110)
    assert score(15, 10, bonus=2, credit=100) == pytest.approx(120)
    assert score(11, 10, bonus=0, credit=100) == 100


def test_zero_credit_gives_nothing_new() -> None:
    assert score(10, 10, credit=0) == 0


@pytest.mark.parametrize("args", [(1, 0), (1, 10, -1), (1, 10, 0, -5)])
def test_nonsense_is_refused(args: tuple[float, ...]) -> None:
    with pytest.raises(ValueError):
        score(*args)
