"""Every course file of PrairieLearn's own example and test courses loads, validates and decides."""

from __future__ import annotations

from pathlib import Path

import pytest

from coursegate.core.engine import Facts, timelines
from coursegate.core.instants import MAX_INSTANT, MIN_INSTANT
from coursegate.core.model import Role, UserFacts
from coursegate.courses.loader import load_course

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "prairielearn"
COURSES = sorted(p.name for p in CORPUS.iterdir()) if CORPUS.is_dir() else []

pytestmark = pytest.mark.skipif(not COURSES, reason=f"no corpus at {CORPUS}")

# Findings that are real and explained (see docs/course-files.md, "The PrairieLearn corpus").
EXPECTED_WARNINGS = {
    "testCourse/courseInstances/Sp15/assessments/hw19-accessControlUi/infoAssessment.json": (
        "applies to no one"
    ),
}


@pytest.mark.parametrize("name", COURSES)
def test_corpus_course_loads_without_errors(name: str) -> None:
    loaded = load_course(CORPUS / name)
    assert loaded.errors == []
    for w in loaded.warnings:
        hits = [msg for f, msg in EXPECTED_WARNINGS.items() if w.file.endswith(f)]
        assert hits and hits[0] in w.message, w
    files = sorted((CORPUS / name).glob("**/infoAssessment.json"))
    loaded_count = sum(len(i.assessments) for i in loaded.instances.values())
    assert loaded_count == len(files)


@pytest.mark.parametrize("name", COURSES)
def test_corpus_assessments_get_decisions_and_timelines(name: str) -> None:
    loaded = load_course(CORPUS / name)
    for inst in loaded.instances.values():
        for src in inst.assessments.values():
            for role in (Role.STUDENT, Role.INSTRUCTOR):
                facts = Facts(
                    user=UserFacts(uid="s@x.edu", role=role, sections=frozenset({"Section A"}))
                )
                _, tl = timelines(inst.policy, src.config, facts, inst.tz)
                assert tl is not None
                for a, b, v in tl.intervals():
                    assert MIN_INSTANT <= a < b <= MAX_INSTANT
                    assert v.explanation
                    if role is Role.INSTRUCTOR:
                        assert v.access


def test_corpus_semantics_spot_checks() -> None:
    """A few corpus files whose meaning we know."""
    loaded = load_course(CORPUS / "testCourse")
    inst = loaded.instances["Sp15"]
    from coursegate.core.instants import parse_date

    def at(s: str) -> int:
        return parse_date(s, inst.tz)[0]

    student = Facts(user=UserFacts(uid="s@x.edu"))
    hw8 = inst.assessments["hw8-activeAccessRestriction"].config
    _, tl = timelines(inst.policy, hw8, student, inst.tz)
    assert tl is not None
    assert tl.at(at("2025-06-01T00:00")).credit == 75  # late deadline until 2030
    done = tl.at(at("2035-01-01T00:00"))
    assert done.complete and not done.questions_visible  # hidden until 2040
    assert tl.at(at("2045-01-01T00:00")).questions_visible  # revealed 2040-2049
    assert not tl.at(at("2050-01-01T00:00")).questions_visible  # hidden again
    hw19 = inst.assessments["hw19-accessControlUi"].config
    sec_a = Facts(user=UserFacts(uid="s@x.edu", sections=frozenset({"Section A"})))
    _, tla = timelines(inst.policy, hw19, sec_a, inst.tz)
    _, tlb = timelines(inst.policy, hw19, student, inst.tz)
    assert tla is not None and tlb is not None
    assert tla.at(at("2026-05-10T00:00")).credit == 100
    assert tlb.at(at("2026-05-10T00:00")).credit == 0
