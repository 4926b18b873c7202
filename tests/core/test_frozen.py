"""quick_init: a frozen dataclass built by the faster ``__init__`` is the one the generated
``__init__`` builds (equal, hashed alike, frozen, defaults and factories applied)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pytest

from coursegate.core.decision import AssessmentDecision, new_assessment_decision
from coursegate.core.frozen import quick_factory, quick_init
from coursegate.core.model import Form, Grant, Visibility


@dataclass(frozen=True, slots=True)
class _Plain:
    a: int
    b: str = "b"
    c: tuple[int, ...] = field(default_factory=lambda: (1, 2))


@quick_init
@dataclass(frozen=True, slots=True)
class _Quick:
    a: int
    b: str = "b"
    c: tuple[int, ...] = field(default_factory=lambda: (1, 2))


def _fields(x: object) -> tuple[object, ...]:
    return tuple(getattr(x, f.name) for f in dataclasses.fields(x))  # type: ignore[arg-type]


def test_quick_init_sets_every_field_with_defaults_and_factories() -> None:
    assert _fields(_Quick(1)) == _fields(_Plain(1)) == (1, "b", (1, 2))
    assert _fields(_Quick(1, "x", (3,))) == (1, "x", (3,))
    assert _fields(_Quick(a=2, c=())) == (2, "b", ())
    assert _Quick(1) == _Quick(1) and hash(_Quick(1)) == hash(_Quick(1))
    assert _Quick(1) != _Quick(2)
    assert repr(_Quick(1)).endswith("_Quick(a=1, b='b', c=(1, 2))")
    with pytest.raises(TypeError):
        _Quick()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        _Quick(1, "b", (), 4)  # type: ignore[call-arg]


def test_quick_init_keeps_instances_frozen_and_replace_working() -> None:
    q = _Quick(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        q.a = 3  # type: ignore[misc]
    assert _fields(dataclasses.replace(q, b="z")) == (1, "z", (1, 2))


def test_quick_init_refuses_what_it_cannot_build() -> None:
    @dataclass(slots=True)
    class Mutable:
        a: int

    with pytest.raises(TypeError, match="frozen"):
        quick_init(Mutable)

    @dataclass(frozen=True, slots=True)
    class Hooked:
        a: int

        def __post_init__(self) -> None:
            pass

    with pytest.raises(TypeError, match="__post_init__"):
        quick_init(Hooked)


def test_core_values_built_quickly_equal_their_fields() -> None:
    d = AssessmentDecision(
        Form.MODERN, True, True, True, True, 100, "100%", None, False, False, False, True, True,
        None, ("why",),
    )  # fmt: skip
    assert d.next_change is None and d.with_next(5).next_change == 5
    assert d.with_next(5).with_next(None) == d
    g = Grant(source="s")
    assert g.questions == Visibility() and g.questions is not Grant(source="s").questions


def test_quick_factory_builds_the_value_the_class_builds() -> None:
    make = quick_factory(_Plain)
    made = make(1, "x", (3,))
    assert type(made) is _Plain and made == _Plain(1, "x", (3,))
    assert hash(made) == hash(_Plain(1, "x", (3,))) and repr(made) == repr(_Plain(1, "x", (3,)))
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.a = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        make(1, "x")  # every field is given
    d = new_assessment_decision(
        Form.MODERN, True, True, True, True, 100, "100%", None, False, False, False, True, True,
        None, ("why",), 7,
    )  # fmt: skip
    assert d == AssessmentDecision(
        Form.MODERN, True, True, True, True, 100, "100%", None, False, False, False, True, True,
        None, ("why",), 7,
    )  # fmt: skip
