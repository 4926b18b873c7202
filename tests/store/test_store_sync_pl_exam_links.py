"""Issue 15, class 5 at sync: an exam list linking the same PrairieTest exam twice is refused,
and nothing is written; one exam linked from two assessments is accepted (PrairieLearn checks
duplicates within one list only)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select
from store_support import EXAMPLE_COURSE, Store, utc

from coursegate.courses.problems import CourseError
from coursegate.services.courses.sync import sync_course
from coursegate.store.models import HistoryEntry

AT = utc(2024, 3, 1)
EXAMS = "courseInstances/Sp24/assessments/exams"


def _links(course: Path, aid: str) -> tuple[Path, dict]:  # type: ignore[type-arg]
    path = course / EXAMS / aid / "infoAssessment.json"
    return path, json.loads(path.read_text())


def test_duplicate_exam_uuid_is_refused_at_sync(store: Store, tmp_path: Path) -> None:
    course = tmp_path / "course"
    shutil.copytree(EXAMPLE_COURSE, course)
    store.system(AT, lambda c: sync_course(c, course))
    with store.factory() as s:
        before = s.scalar(select(func.count()).select_from(HistoryEntry))
    path, data = _links(course, "exam2")
    exams = data["accessControl"][0]["integrations"]["prairieTest"]["exams"]
    exams.append(dict(exams[0]))
    path.write_text(json.dumps(data))
    with pytest.raises(CourseError) as err:
        store.system(utc(2024, 3, 2), lambda c: sync_course(c, course))
    (problem,) = [p for p in err.value.problems if p.severity == "error"]
    assert problem.file.endswith("exams/exam2/infoAssessment.json")
    assert problem.path == "$.accessControl[0].integrations.prairieTest.exams[1].examUuid"
    with store.factory() as s:
        assert s.scalar(select(func.count()).select_from(HistoryEntry)) == before


def test_one_exam_linked_from_two_assessments_is_accepted(store: Store, tmp_path: Path) -> None:
    course = tmp_path / "course"
    shutil.copytree(EXAMPLE_COURSE, course)
    _, exam2 = _links(course, "exam2")
    uuid = exam2["accessControl"][0]["integrations"]["prairieTest"]["exams"][0]["examUuid"]
    path, exam3 = _links(course, "exam3")
    exam3["accessControl"][0]["integrations"]["prairieTest"]["exams"][0]["examUuid"] = uuid
    path.write_text(json.dumps(exam3))
    report = store.system(AT, lambda c: sync_course(c, course))
    assert report.changed  # type: ignore[attr-defined]
