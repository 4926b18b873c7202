"""The matrix of a course instance: every student × every assessment at one instant, as the
core compiled it (:class:`~coursegate.core.engine.CompiledCourseInstance`), with JSON and CSV
renderings. Seeing it needs ``vst`` on the course instance."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from sqlalchemy import select

from coursegate.core.decision import AssessmentDecision
from coursegate.core.engine import ColumnIndex, CompiledCourseInstance
from coursegate.core.instants import Instant, format_instant, zone
from coursegate.services.access.decisions.json_values import json_instant, json_number
from coursegate.services.access.decisions.request_values import known_assessment, read_at
from coursegate.services.access.view_permissions import require_view_all
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Invalid
from coursegate.services.common.places import find_course_instance, instance_label
from coursegate.services.courses.roster import RosterEntry, compile_course_instance
from coursegate.store.models import Section


@dataclass(frozen=True, slots=True)
class MatrixStudent:
    uid: str
    name: str
    sections: tuple[str, ...]
    course_instance_access: bool
    publishing_extension: bool
    """The student holds a publishing extension (from their enrollment or an exception)."""

    @property
    def label(self) -> str:
        """``Ada Lovelace (ada@example.edu)``: uid and full name together."""
        return f"{self.name} ({self.uid})" if self.name else self.uid


@dataclass(frozen=True, slots=True)
class MatrixAssessment:
    aid: str
    title: str
    set_name: str
    number: str


@dataclass(frozen=True, slots=True)
class MatrixCell:
    access: bool
    can_start: bool
    submittable: bool
    credit: float
    credit_text: str
    next_change: Instant | None
    exception: bool
    """The student has their own exception for this assessment (or its set)."""

    def text(self) -> str:
        """A short rendering for tables and CSV: ``can start; 100% until 23:59, Mon, Jan 29``."""
        if self.can_start:
            word = "can start"
        elif self.access:
            word = "submittable" if self.submittable else "view only"
        else:
            word = "no access"
        parts = [word]
        if self.credit_text != "None":
            parts.append(self.credit_text)
        elif self.submittable:
            parts.append("0% (practice)")
        if self.exception:
            parts.append("exception")
        return "; ".join(parts)


class CourseMatrix:
    """Students × assessments at ``at``, kept factorised as the core compiled it: a cell is two
    look-ups, and each distinct decision is summarised once."""

    def __init__(
        self,
        *,
        at: Instant,
        tz: tzinfo,
        course: str,
        course_instance: str,
        students: tuple[MatrixStudent, ...],
        assessments: tuple[MatrixAssessment, ...],
        rows: tuple[int, ...],
        index: tuple[ColumnIndex, ...],
        cells: tuple[tuple[tuple[MatrixCell, MatrixCell], ...], ...],
        exceptions: tuple[frozenset[int], ...],
    ) -> None:
        self.at = at
        self.tz = tz
        self.course = course
        self.course_instance = course_instance
        self.students = students
        self.assessments = assessments
        self._rows = rows
        self._index = index
        self._cells = cells
        self._exceptions = exceptions

    def cell(self, r: int, c: int) -> MatrixCell:
        """Row ``r`` (a student of :attr:`students`), column ``c`` (of :attr:`assessments`)."""
        idx = self._index[c]
        k = idx.special.get(self._rows[r], idx.default)
        return self._cells[c][k][c in self._exceptions[r]]

    def row(self, r: int) -> list[MatrixCell]:
        i, exc = self._rows[r], self._exceptions[r]
        return [
            pair[idx.special.get(i, idx.default)][c in exc]
            for c, (idx, pair) in enumerate(zip(self._index, self._cells, strict=True))
        ]

    def to_json(self) -> dict[str, Any]:
        """The whole matrix as JSON (equal cells share one dict: do not mutate them)."""
        tz = self.tz
        shared = [[tuple(_cell_json(c, tz) for c in pair) for pair in col] for col in self._cells]
        cells = []
        for r in range(len(self.students)):
            i, exc = self._rows[r], self._exceptions[r]
            cells.append(
                [
                    col[idx.special.get(i, idx.default)][c in exc]
                    for c, (idx, col) in enumerate(zip(self._index, shared, strict=True))
                ]
            )
        return {
            "at": format_instant(self.at, tz),
            "course": self.course,
            "course_instance": self.course_instance,
            "timezone": str(tz),
            "assessments": [
                {"assessment": a.aid, "title": a.title, "set": a.set_name, "number": a.number}
                for a in self.assessments
            ],
            "students": [
                {
                    "uid": s.uid,
                    "name": s.name,
                    "sections": list(s.sections),
                    "course_instance_access": s.course_instance_access,
                    "publishing_extension": s.publishing_extension,
                }
                for s in self.students
            ],
            "cells": cells,
        }

    def to_csv(self) -> str:
        """One line per student: ``uid``, ``name``, ``sections``, then one column per assessment
        (its id) holding :meth:`MatrixCell.text`."""
        texts = [[tuple(c.text() for c in pair) for pair in col] for col in self._cells]
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["uid", "name", "sections", *(a.aid for a in self.assessments)])
        for r, s in enumerate(self.students):
            i, exc = self._rows[r], self._exceptions[r]
            w.writerow(
                [
                    _safe(s.uid),
                    _safe(s.name),
                    _safe(";".join(s.sections)),
                    *(
                        col[idx.special.get(i, idx.default)][c in exc]
                        for c, (idx, col) in enumerate(zip(self._index, texts, strict=True))
                    ),
                ]
            )
        return out.getvalue()


def _safe(text: str) -> str:
    """Keep spreadsheets from reading a name such as ``=HYPERLINK(...)`` as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _cell_json(c: MatrixCell, tz: tzinfo) -> dict[str, Any]:
    return {
        "access": c.access,
        "can_start": c.can_start,
        "submittable": c.submittable,
        "credit": json_number(c.credit),
        "credit_text": c.credit_text,
        "next_change": json_instant(c.next_change, tz),
        "exception": c.exception,
    }


def matrix(
    ctx: Ctx,
    course: str,
    course_instance: str,
    at: Instant | None = None,
    *,
    sections: Iterable[str] | None = None,
    assessments: Iterable[str] | None = None,
    can_start_now: bool = False,
) -> CourseMatrix:
    """Every student × every assessment at ``at`` (default ``ctx.at``); needs ``vst``.

    ``sections``: only students in at least one of them; ``assessments``: only these columns
    (in the order given); ``can_start_now``: only students who can start at least one of the
    chosen assessments at ``at``.
    """
    ci = find_course_instance(ctx, course, course_instance)
    require_view_all(ctx, ci)
    wanted_sections: frozenset[str] | None = None
    if sections is not None:
        wanted_sections = frozenset(sections)
        known = set(
            ctx.session.scalars(select(Section.name).where(Section.course_instance_id == ci.id))
        )
        unknown = sorted(wanted_sections - known)
        if unknown:
            raise Invalid(
                f"{instance_label(ci)} has no section {', '.join(map(repr, unknown))}"
                f" (sections: {', '.join(sorted(known)) or 'none'})",
                "sections",
            )
    compiled, roster, state = compile_course_instance(ctx.session, ci)
    aids = None if assessments is None else [known_assessment(state, a) for a in assessments]
    return build_matrix(
        compiled,
        roster,
        ctx.at if at is None else at,
        course=ci.course.name,
        course_instance=ci.short_name,
        sections=wanted_sections,
        assessments=aids,
        can_start_now=can_start_now,
    )


def build_matrix(
    compiled: CompiledCourseInstance,
    roster: Sequence[RosterEntry],
    at: Instant,
    *,
    course: str = "",
    course_instance: str = "",
    sections: frozenset[str] | None = None,
    assessments: Sequence[str] | None = None,
    can_start_now: bool = False,
) -> CourseMatrix:
    """The matrix of an already compiled course instance (no database, no privilege check)."""
    m = compiled.matrix(at)
    cols = (
        list(range(len(compiled.assessments)))
        if assessments is None
        else [compiled.assessment_index[a] for a in assessments]
    )
    index = tuple(m.index[j] for j in cols)
    cells = tuple(
        tuple(
            (
                _cell(d, exception=False),
                _cell(d, exception=True),
            )
            for d in m.columns[j]
        )
        for j in cols
    )
    rows = list(range(len(roster)))
    if sections is not None:
        rows = [i for i in rows if roster[i].student.user.sections & sections]
    if can_start_now:
        startable = [frozenset(k for k, d in enumerate(m.columns[j]) if d.can_start) for j in cols]
        rows = [
            i
            for i in rows
            if any(
                idx.special.get(i, idx.default) in ok
                for idx, ok in zip(index, startable, strict=True)
            )
        ]
    col_of = {j: c for c, j in enumerate(cols)}
    students: list[MatrixStudent] = []
    exceptions: list[frozenset[int]] = []
    for i in rows:
        e = roster[i]
        st = e.student
        own = (col_of.get(compiled.assessment_index[a]) for a in st.personal)
        exceptions.append(frozenset(c for c in own if c is not None))
        students.append(
            MatrixStudent(
                uid=e.uid,
                name=e.name,
                sections=tuple(sorted(st.user.sections)),
                course_instance_access=compiled.decide_course_instance(i, at).access,
                publishing_extension=_has_publishing_extension(e),
            )
        )
    return CourseMatrix(
        at=at,
        tz=compiled.tz,
        course=course,
        course_instance=course_instance,
        students=tuple(students),
        assessments=tuple(
            MatrixAssessment(a.id, a.title, a.set_name, a.number)
            for a in (compiled.assessments[j] for j in cols)
        ),
        rows=tuple(rows),
        index=index,
        cells=cells,
        exceptions=tuple(exceptions),
    )


def _cell(d: AssessmentDecision, *, exception: bool) -> MatrixCell:
    return MatrixCell(
        d.access, d.can_start, d.submittable, d.credit, d.credit_text, d.next_change, exception
    )


def _has_publishing_extension(e: RosterEntry) -> bool:
    enr = e.student.enrollment
    return enr is not None and enr.publishing_extension_end is not None


def matrix_at(
    ctx: Ctx,
    course: str,
    course_instance: str,
    at: str | None,
    *,
    sections: Iterable[str] | None = None,
    assessments: Iterable[str] | None = None,
    can_start_now: bool = False,
) -> CourseMatrix:
    """:func:`matrix` with ``at`` as ISO 8601 text (naive: the course instance's zone; None:
    ``ctx.at``)."""
    ci = find_course_instance(ctx, course, course_instance)
    when = read_at(at, zone(ci.timezone))
    return matrix(
        ctx,
        course,
        course_instance,
        when,
        sections=sections,
        assessments=assessments,
        can_start_now=can_start_now,
    )
