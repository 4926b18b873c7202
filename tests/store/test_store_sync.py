"""Course sync: validate first, one transaction, idempotent, retire instead of delete."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select
from store_support import EXAMPLE_COURSE, Store, utc

from coursegate.courses.problems import CourseError
from coursegate.services.courses.sync import sync_course
from coursegate.store.models import AccessDate, Assessment, CourseInstance, HistoryEntry, Section

AT = utc(2024, 3, 1)


def count(store: Store, model: type) -> int:
    with store.factory() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_sync_twice_changes_nothing_the_second_time(store: Store, tmp_path: Path) -> None:
    first = store.system(AT, lambda c: sync_course(c, EXAMPLE_COURSE))
    assert first.changed  # type: ignore[attr-defined]
    n = count(store, Assessment), count(store, HistoryEntry), count(store, AccessDate)
    second = store.system(AT, lambda c: sync_course(c, EXAMPLE_COURSE))
    assert not second.changed  # type: ignore[attr-defined]
    assert (count(store, Assessment), count(store, HistoryEntry), count(store, AccessDate)) == n
    assert count(store, CourseInstance) == 3
    with store.factory() as s:
        labels = set(s.scalars(select(Section.name)))
    assert {"lab-a", "lab-b", "extra-time", "drc"} <= labels


def test_invalid_course_changes_nothing(store: Store, tmp_path: Path) -> None:
    course = tmp_path / "course"
    shutil.copytree(EXAMPLE_COURSE, course)
    store.system(AT, lambda c: sync_course(c, course))
    before = count(store, HistoryEntry)
    bad = course / "courseInstances/Sp24/assessments/hw/hw2/infoAssessment.json"
    data = json.loads(bad.read_text())
    data["accessControl"][0]["dateControl"]["relase"] = {"date": "2024-01-01"}
    bad.write_text(json.dumps(data))
    (course / "courseInstances/Sp24/assessments/hw/hw9").mkdir()
    (course / "courseInstances/Sp24/assessments/hw/hw9/infoAssessment.json").write_text(
        json.dumps({"title": "new", "accessControl": [{}]})
    )
    with pytest.raises(CourseError) as err:
        store.system(AT, lambda c: sync_course(c, course))
    assert any("relase" in p.message for p in err.value.problems)
    assert count(store, HistoryEntry) == before
    with store.factory() as s:
        assert s.scalar(select(func.count()).where(Assessment.aid == "hw/hw9")) == 0


def test_removed_assessment_is_retired_and_restored(store: Store, tmp_path: Path) -> None:
    course = tmp_path / "course"
    shutil.copytree(EXAMPLE_COURSE, course)
    store.system(AT, lambda c: sync_course(c, course))
    moved = tmp_path / "hw2"
    shutil.move(course / "courseInstances/Sp24/assessments/hw/hw2", moved)
    rep = store.system(utc(2024, 3, 2), lambda c: sync_course(c, course))
    assert [c.kind for c in rep.changes] == ["retired"]  # type: ignore[attr-defined]
    with store.factory() as s:
        row = s.scalars(select(Assessment).where(Assessment.aid == "hw/hw2")).one()
        assert row.retired_at == utc(2024, 3, 2)
    shutil.move(moved, course / "courseInstances/Sp24/assessments/hw/hw2")
    rep = store.system(utc(2024, 3, 3), lambda c: sync_course(c, course))
    assert [c.kind for c in rep.changes] == ["restored"]  # type: ignore[attr-defined]
