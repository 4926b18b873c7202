"""The matrix as the instructor's page shows it: every student × every assessment, each cell the
student's own state — their attempt (submitted or started, and its score), what they may do
now, and their personal due date when it differs from the assessment's — with the columns in
due-date order, the rows filtered, sorted and cut into pages.

Where each part comes from (nothing here decides access or credit):

* **now** — :func:`~coursegate.services.access.decisions.matrix.build_matrix` over the course
  instance compiled as if nobody had started anything (``attempts=False``), kept between
  requests while the store's decision counters say nothing it depends on changed (one query,
  :func:`~coursegate.services.access.decisions.cache.read_everyone`). Only cells without an
  attempt show it, and for them it is exact; whether a student *can start* does not depend on
  their attempt in the core, so the "can start now" filter is exact too;
* **the due date** — read off the student's own timeline
  (:func:`~coursegate.services.access.decisions.schedule.read_schedule`, the rule the student's
  own pages and calendar use: their timeline with an attempt assumed open), compiled by the
  core for the rows shown only (one :class:`~coursegate.core.engine.CompiledCourseInstance`,
  which shares the work between students whose facts are alike); an **assessment's** due date
  is that of a student the rules do not single out (no section override, no exception);
* **the attempt** — the latest assessment instance of each student, in one query for the rows
  shown (and one for the column sorted by, when it is an assessment).

Sorting (:func:`cell_order`) is a rule of this page: by an assessment, students without an
attempt come first, then those who started, then those who submitted, each by score; then by
what they may do now, and their due date.
"""

from __future__ import annotations

import math
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import tzinfo

from sqlalchemy import select

from coursegate.core.engine import CompiledCourseInstance
from coursegate.core.instants import MAX_INSTANT, Instant
from coursegate.core.model import InstanceFacts
from coursegate.services.access.calendar import short_name
from coursegate.services.access.decisions.cache import Config, Signature, read_everyone
from coursegate.services.access.decisions.matrix import (
    CourseMatrix,
    MatrixCell,
    MatrixStudent,
    build_matrix,
)
from coursegate.services.access.decisions.request_values import known_assessment
from coursegate.services.access.decisions.schedule import read_schedule
from coursegate.services.access.view_permissions import require_view_all
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Invalid
from coursegate.services.common.places import find_course_instance, instance_label
from coursegate.services.courses.roster import RosterEntry, compile_course_instance
from coursegate.services.courses.state import InstanceState
from coursegate.store.models import AssessmentInstance, CourseInstance, Section

PER_PAGE = 100
"""Rows on one page of the matrix."""
MAX_PER_PAGE = 500
SORT_STUDENT = "student"
SORT_SECTIONS = "sections"

_ASSUMED_OPEN = InstanceFacts(open=True, date_limit=None)
"""Dates are read off a timeline with an attempt assumed open (as the student's own pages do,
:mod:`coursegate.services.access.decisions.student`)."""


@dataclass(frozen=True, slots=True)
class Attempt:
    """A student's latest attempt at an assessment."""

    submitted: bool
    """Finished (closed): what they submitted is final."""
    score: float
    """The score as a percentage (``score_percent``)."""


@dataclass(frozen=True, slots=True)
class ViewCell:
    now: MatrixCell
    """What the student may do now (the core's cell)."""
    attempt: Attempt | None
    due: Instant | None
    """The student's own due date (None: none — credit never stops, or never starts)."""
    own_due: bool
    """Their due date differs from the assessment's (a section's dates, or an exception)."""

    @property
    def exception(self) -> bool:
        """The student holds an exception of their own for this assessment (or its set)."""
        return self.now.exception


@dataclass(frozen=True, slots=True)
class ViewColumn:
    aid: str
    title: str
    set_name: str
    number: str
    due: Instant | None
    """The assessment's due date: that of a student the rules single out in no way."""

    @property
    def short(self) -> str:
        """``hw1`` for ``hw/hw1``."""
        return short_name(self.aid)

    @property
    def full_title(self) -> str:
        """``Homework 1: Logic gates (hw/hw1)``."""
        head = f"{self.set_name} {self.number}".strip()
        return f"{head}: {self.title} ({self.aid})" if head else f"{self.title} ({self.aid})"


@dataclass(frozen=True, slots=True)
class ViewRow:
    student: MatrixStudent
    cells: tuple[ViewCell, ...]


@dataclass(frozen=True)
class MatrixView:
    at: Instant
    tz: tzinfo
    columns: tuple[ViewColumn, ...]
    """In due-date order (assessments without a due date last)."""
    rows: tuple[ViewRow, ...]
    """The rows of this page (or every matching row: ``per_page=0``)."""
    matching: int
    """Students matching the filters (on every page)."""
    everyone: int
    """Students in the course instance."""
    page: int
    pages: int
    per_page: int
    sort: str
    descending: bool


def matrix_view(
    ctx: Ctx,
    course: str,
    course_instance: str,
    *,
    sections: Iterable[str] | None = None,
    assessments: Iterable[str] | None = None,
    can_start_now: bool = False,
    search: str = "",
    sort: str = SORT_STUDENT,
    descending: bool = False,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> MatrixView:
    """The matrix page's data at ``ctx.at``; needs ``vst``.

    ``sections``: only students in at least one of them; ``assessments``: only these columns;
    ``can_start_now``: only students who can start one of them now; ``search``: a part of the
    uid or name. ``sort``: :data:`SORT_STUDENT`, :data:`SORT_SECTIONS` or an assessment id
    (shown); ``page`` counts from 1 (past the last: the last); ``per_page=0``: every row.
    """
    ci = find_course_instance(ctx, course, course_instance)
    require_view_all(ctx, ci)
    wanted = _known_sections(ctx, ci.id, instance_label(ci), sections)
    if per_page < 0 or per_page > MAX_PER_PAGE:
        raise Invalid(f"rows per page must be between 1 and {MAX_PER_PAGE}", "per_page")
    kept = _kept(ctx, ci)
    compiled, roster, state = kept.compiled, kept.roster, kept.state
    aids = None if assessments is None else [known_assessment(state, a) for a in assessments]
    m = build_matrix(
        compiled,
        roster,
        ctx.at,
        course=ci.course.name,
        course_instance=ci.short_name,
        sections=wanted,
        assessments=aids,
        can_start_now=can_start_now,
    )
    needle = search.strip().lower()
    found = [
        r
        for r, s in enumerate(m.students)
        if not needle or needle in s.uid.lower() or needle in s.name.lower()
    ]
    builder = _Builder(ctx, kept, m)
    column_of = {a.aid: c for c, a in enumerate(m.assessments)}
    if sort not in (SORT_STUDENT, SORT_SECTIONS) and sort not in column_of:
        raise Invalid(
            f"the matrix cannot be sorted by {sort!r}: say 'student', 'sections' or one of the"
            " assessments shown",
            "sort",
        )
    found = builder.sorted(found, sort, descending, column_of.get(sort))
    size = per_page or max(len(found), 1)
    pages = max(1, math.ceil(len(found) / size))
    page = min(max(page, 1), pages)
    shown = found[(page - 1) * size : page * size]
    order = builder.column_order()
    return MatrixView(
        at=ctx.at,
        tz=compiled.tz,
        columns=tuple(builder.columns[c] for c in order),
        rows=builder.rows(shown, order),
        matching=len(found),
        everyone=len(roster),
        page=page,
        pages=pages,
        per_page=per_page,
        sort=sort,
        descending=descending,
    )


@dataclass
class _Kept:
    """A course instance compiled for its students as if nobody had started anything (the
    cells of students with an attempt show the attempt), with the counters it was compiled
    at and the due dates read so far: used while the counters hold."""

    config: Config
    signatures: dict[int, Signature]
    compiled: CompiledCourseInstance
    roster: list[RosterEntry]
    state: InstanceState
    dues: dict[tuple[int, int], Instant | None] = field(default_factory=dict)
    """(student row, assessment column) of :attr:`compiled` → the student's own due date."""


MAX_KEPT = 8
_KEPT: OrderedDict[tuple[object, int], _Kept] = OrderedDict()
_LOCK = threading.Lock()


def _kept(ctx: Ctx, ci: CourseInstance) -> _Kept:
    """``ci`` compiled for its students, kept between requests while the store's counters of
    its configuration and of every student (enrollment, sections, exceptions, reservations,
    account) are those it was compiled at — read in one query per request
    (:func:`~coursegate.services.access.decisions.cache.read_everyone`, the decision cache's
    check). Kept only when nothing changed while it was compiled."""
    key = (ctx.session.get_bind(), ci.id)
    before = read_everyone(ctx.session, ci)
    with _LOCK:
        hit = _KEPT.get(key)
        if hit is not None and hit.config == before.config and hit.signatures == before.signatures:
            _KEPT.move_to_end(key)
            return hit
    compiled, roster, state = compile_course_instance(ctx.session, ci, attempts=False)
    fresh = _Kept(before.config, before.signatures, compiled, roster, state)
    after = read_everyone(ctx.session, ci)
    if after.config == before.config and after.signatures == before.signatures:
        with _LOCK:
            _KEPT[key] = fresh
            _KEPT.move_to_end(key)
            while len(_KEPT) > MAX_KEPT:
                _KEPT.popitem(last=False)
    return fresh


def forget_kept() -> None:
    """Forget every kept compilation (tests and benchmarks)."""
    with _LOCK:
        _KEPT.clear()


def _known_sections(
    ctx: Ctx, ci_id: int, label: str, sections: Iterable[str] | None
) -> frozenset[str] | None:
    if sections is None:
        return None
    wanted = frozenset(sections)
    known = set(
        ctx.session.scalars(select(Section.name).where(Section.course_instance_id == ci_id))
    )
    unknown = sorted(wanted - known)
    if unknown:
        raise Invalid(
            f"{label} has no section {', '.join(map(repr, unknown))}"
            f" (sections: {', '.join(sorted(known)) or 'none'})",
            "sections",
        )
    return wanted


_RANK_NOW = {"start": 3, "submit": 2, "view": 1, "none": 0}


def now_word(cell: MatrixCell) -> str:
    """What a student without an attempt may do now: ``start``, ``submit``, ``view`` or
    ``none``."""
    if cell.can_start:
        return "start"
    if cell.access and cell.submittable:
        return "submit"
    return "view" if cell.access else "none"


def cell_order(cell: ViewCell) -> tuple[int, float, int, float, Instant]:
    """Sorting by an assessment: no attempt, started, submitted (each by score); then what
    they may do now, their credit now, their due date (none last)."""
    a = cell.attempt
    due = MAX_INSTANT if cell.due is None else cell.due
    if a is not None:
        return (2 if a.submitted else 1, a.score, 0, 0.0, due)
    return (0, 0.0, _RANK_NOW[now_word(cell.now)], cell.now.credit, due)


class _Builder:
    """The cells of the rows asked for, from the matrix, the students' own timelines and their
    attempts (each read once, for all the rows at once)."""

    def __init__(self, ctx: Ctx, kept: _Kept, m: CourseMatrix) -> None:
        self.ctx = ctx
        self.compiled = compiled = kept.compiled
        self.roster = kept.roster
        self.state = kept.state
        self.m = m
        self.row_of = [compiled.student_index[s.uid] for s in m.students]
        """Matrix row → the student's row of ``compiled`` (and of ``roster``)."""
        self.j_of = [compiled.assessment_index[a.aid] for a in m.assessments]
        """Matrix column → the assessment's column of ``compiled``."""
        self._dues = kept.dues
        self._typical = [self._typical_student(j) for j in self.j_of]
        typical = [(i, j) for i, j in zip(self._typical, self.j_of, strict=True)]
        self._due_for((i, j) for i, j in typical if i is not None)
        self.columns = [
            ViewColumn(
                a.aid, a.title, a.set_name, a.number, None if i is None else self._dues[(i, j)]
            )
            for a, (i, j) in zip(m.assessments, typical, strict=True)
        ]

    def _typical_student(self, j: int) -> int | None:
        """A student (row of ``compiled``) with the column's default timeline: singled out by
        no section override, exception or attempt."""
        idx = self.compiled.column(j)[1]
        plain = next((i for i in range(len(self.roster)) if i not in idx.special), None)
        if plain is not None or not self.roster:
            return plain
        # Everyone is singled out: a student with the timeline most of them share.
        slots = Counter(idx.special.values())
        common = slots.most_common(1)[0][0]
        return next(i for i, k in idx.special.items() if k == common)

    def _due_for(self, wanted: Iterable[tuple[int, int]]) -> None:
        """The due dates of these (student row, assessment column) pairs of ``compiled``,
        each read off the student's own timeline compiled with an attempt assumed open (kept
        with the compiled course instance for the next requests)."""
        dues = self._dues
        todo = list(dict.fromkeys(k for k in wanted if k not in dues))
        if not todo:
            return
        people = sorted({i for i, _ in todo})
        cols = sorted({j for _, j in todo})
        configs = [self.compiled.assessments[j] for j in cols]
        ids = [a.id for a in configs]
        students = [
            replace(self.roster[i].student, instances=dict.fromkeys(ids, _ASSUMED_OPEN))
            for i in people
        ]
        dated = CompiledCourseInstance(
            self.state.settings.policy, configs, students, self.compiled.tz
        )
        person = {i: k for k, i in enumerate(people)}
        column = {c: k for k, c in enumerate(cols)}
        memo: dict[int, Instant | None] = {}
        for i, j in todo:
            tl = dated.timeline(person[i], column[j])
            key = id(tl)
            if key not in memo:
                memo[key] = read_schedule(tl).due
            dues[(i, j)] = memo[key]

    def _attempts(self, rows: Sequence[int], cols: Sequence[int]) -> dict[tuple[int, int], Attempt]:
        """The latest attempt of each of these students (matrix rows) at each of these
        assessments (matrix columns), in one query."""
        if not rows or not cols:
            return {}
        ids = self.state.assessment_ids
        col_of_id = {ids[self.m.assessments[c].aid]: c for c in cols}
        user_rows = {self.roster[self.row_of[r]].user_id: r for r in rows}
        q = (
            select(
                AssessmentInstance.user_id,
                AssessmentInstance.assessment_id,
                AssessmentInstance.open,
                AssessmentInstance.score_percent,
            )
            .where(AssessmentInstance.assessment_id.in_(list(col_of_id)))
            .order_by(AssessmentInstance.number)
        )
        if len(rows) < len(self.m.students):
            q = q.where(AssessmentInstance.user_id.in_(list(user_rows)))
        out: dict[tuple[int, int], Attempt] = {}
        for user_id, assessment_id, is_open, score in self.ctx.session.execute(q):
            r = user_rows.get(user_id)
            c = col_of_id.get(assessment_id)
            if r is not None and c is not None:
                out[(r, c)] = Attempt(not is_open, float(score))
        return out

    def cells(self, rows: Sequence[int], cols: Sequence[int]) -> dict[tuple[int, int], ViewCell]:
        """Every cell of these rows × columns of the matrix."""
        j_of, row_of = self.j_of, self.row_of
        self._due_for((row_of[r], j_of[c]) for r in rows for c in cols)
        attempts = self._attempts(rows, cols)
        out: dict[tuple[int, int], ViewCell] = {}
        for r in rows:
            i = row_of[r]
            for c in cols:
                due = self._dues[(i, j_of[c])]
                own = self._typical[c] is not None and due != self.columns[c].due
                out[(r, c)] = ViewCell(self.m.cell(r, c), attempts.get((r, c)), due, own)
        return out

    def sorted(self, rows: list[int], sort: str, descending: bool, col: int | None) -> list[int]:
        students = self.m.students
        if col is not None:
            cells = self.cells(rows, [col])
            by_name = sorted(rows, key=lambda r: _name_key(students[r]))
            return sorted(by_name, key=lambda r: cell_order(cells[(r, col)]), reverse=descending)
        if sort == SORT_SECTIONS:
            return sorted(
                rows,
                key=lambda r: (", ".join(students[r].sections), _name_key(students[r])),
                reverse=descending,
            )
        return sorted(rows, key=lambda r: _name_key(students[r]), reverse=descending)

    def column_order(self) -> list[int]:
        """The matrix's columns by due date (none last), then as listed."""
        return sorted(
            range(len(self.columns)),
            key=lambda c: (
                self.columns[c].due is None,
                self.columns[c].due or 0,
                c,
            ),
        )

    def rows(self, shown: Sequence[int], order: Sequence[int]) -> tuple[ViewRow, ...]:
        cells = self.cells(shown, order)
        return tuple(
            ViewRow(self.m.students[r], tuple(cells[(r, c)] for c in order)) for r in shown
        )


def _name_key(s: MatrixStudent) -> tuple[str, str]:
    return ((s.name or s.uid).casefold(), s.uid)
