"""Read-only views the web pages need that no other use case gives: one's course instances, the
staff's assessment list with its "published" marks, the lanes of an assessment's timeline,
a student's attempts, sections, role grants and the history log.

Nothing here decides anything: every answer is read off the decision core's timelines (compiled
through :class:`~coursegate.core.engine.CompiledCourseInstance`, as the other services do) or
off the store, and every function asks the roles core first (``vst`` to look at students,
``vhi`` for the history).

**Published** (see ``docs/web.md``). Students see an assessment when two things hold:

* the **course instance** is published: a plain enrolled student (no section) has access to it
  at some time (modern ``publishing`` dates, the RFC's ``published``, or legacy rules);
* the **assessment** lists itself to some students at some time in Public mode — the defaults,
  or the students of one of its label overrides (a section) — with the course instance taken as
  open, so that the two marks say separately what to change; or it links a PrairieTest exam
  (students reach it through their reservations).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select

from coursegate.core.course_instance import CourseInstancePolicy, compile_course_instance
from coursegate.core.decision import AssessmentDecision
from coursegate.core.engine import AssessmentConfig, CompiledCourseInstance, Student
from coursegate.core.instants import MAX_INSTANT, Instant, format_for_people
from coursegate.core.model import EnrollmentFacts, Form, InstanceFacts, Role, UserFacts
from coursegate.core.timeline import Timeline
from coursegate.courses.normalise import InstanceSettings
from coursegate.services.authz import allowed
from coursegate.services.context import Ctx
from coursegate.services.course_instances import instance_area, instance_label
from coursegate.services.course_state import InstanceState, read_instance
from coursegate.services.decisions import read_schedule, require_view_all, require_view_student
from coursegate.services.errors import NotFound
from coursegate.services.reservations import exam_uuids
from coursegate.services.roster import load_roster
from coursegate.store.models import (
    Assessment,
    AssessmentInstance,
    Course,
    CourseInstance,
    CustomRoleRow,
    Enrollment,
    RoleAssignmentRow,
    Section,
    SectionMembership,
    StudentOverride,
    User,
)

VIEW_STUDENTS = "vst"
VIEW_HISTORY = "vhi"
ENROLLED = ("invited", "joined", "blocked")
_OPEN = InstanceFacts(open=True, date_limit=None)


# -- one's course instances -------------------------------------------------------------------


@dataclass(frozen=True)
class MyCourseInstance:
    course: str
    instance: str
    title: str
    long_name: str
    enrolled: str | None
    """The effective user's enrollment status (None: not enrolled)."""
    staff: bool
    """The effective user may look at the students (``vst``)."""

    @property
    def label(self) -> str:
        return f"{self.course} {self.instance}"


def my_course_instances(ctx: Ctx) -> list[MyCourseInstance]:
    """The live course instances where the effective user is enrolled or holds a role (a role
    in the domain counts for all of its course instances), newest first."""
    me = ctx.user(ctx.effective)
    enrolled = dict(
        ctx.session.execute(
            select(Enrollment.course_instance_id, Enrollment.status).where(
                Enrollment.user_id == me.id, Enrollment.status.in_(ENROLLED)
            )
        ).all()
    )
    areas = [
        a
        for a, end in ctx.session.execute(
            select(RoleAssignmentRow.area, RoleAssignmentRow.end_at).where(
                RoleAssignmentRow.user_id == me.id,
                or_(RoleAssignmentRow.start_at.is_(None), RoleAssignmentRow.start_at <= ctx.at),
            )
        ).all()
        if end is None or end > ctx.at
    ]
    out: list[MyCourseInstance] = []
    rows = ctx.session.scalars(
        select(CourseInstance)
        .join(Course, Course.id == CourseInstance.course_id)
        .where(CourseInstance.retired_at.is_(None))
        .order_by(Course.name, CourseInstance.start_at.desc(), CourseInstance.short_name)
    ).all()
    for ci in rows:
        if ctx.viewing_as and ci.id != ctx.acting_in:
            continue  # view-as shows the viewed course instance only
        path = instance_area(ci).path
        related = ci.id in enrolled or any(
            path.startswith(a) or a.startswith(path + "/") or a == path for a in areas
        )
        if not related:
            continue
        staff, _ = allowed(ctx, VIEW_STUDENTS, instance_area(ci))
        if ci.id not in enrolled and not staff:
            continue
        out.append(
            MyCourseInstance(
                ci.course.name,
                ci.short_name,
                ci.course.title,
                ci.long_name,
                enrolled.get(ci.id),
                staff,
            )
        )
    return out


def may(ctx: Ctx, privilege: str, ci: CourseInstance) -> bool:
    """Whether the effective user holds ``privilege`` in the course instance now (for showing
    or hiding links; the routes and services check again)."""
    ok, _ = allowed(ctx, privilege, instance_area(ci))
    return ok


def may_in_domain(ctx: Ctx, privilege: str) -> bool:
    """Whether the effective user holds ``privilege`` in their own domain now (for links)."""
    from coursegate.roles import Area

    me = ctx.user(ctx.effective)
    ok, _ = allowed(ctx, privilege, Area.of_domain(me.domain.name))
    return ok


# -- published --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Publishing:
    """Whether students see something, in words, and what to change when they do not."""

    published: bool
    words: str
    fix: str = ""
    since: Instant | None = None
    until: Instant | None = None


def _student(
    uid: str,
    sections: frozenset[str],
    institution: str | None,
    aids: Sequence[str] = (),
) -> Student:
    return Student(
        user=UserFacts(uid=uid, role=Role.STUDENT, sections=sections, institution=institution),
        enrollment=EnrollmentFacts("joined"),
        instances=dict.fromkeys(aids, _OPEN),
    )


def instance_publishing(ci: CourseInstance, state: InstanceState, at: Instant) -> Publishing:
    """Whether a plain enrolled student (no section) reaches the course instance now, or
    when."""
    tz = state.tz
    facts = UserFacts(uid="", role=Role.STUDENT, institution=ci.course.institution)
    tl = compile_course_instance(state.settings.policy, facts, EnrollmentFacts("joined"), tz)
    spans = [(a, b) for a, b, d in tl.intervals() if d.access]
    where = f"infoCourseInstance.json of {ci.short_name}"
    form = state.settings.policy.form
    fix = {
        "modern": f'set "publishing": {{"startDate": ..., "endDate": ...}} in {where}',
        "rfc": f'set "accessControl": {{"published": true, ...}} in {where}',
        "legacy": f"add an allowAccess rule for students with the dates in {where}",
    }.get(form, f"check the access settings in {where}")
    if not spans:
        return Publishing(False, "not published: students never have access", fix)
    now = next(((a, b) for a, b in spans if a <= at < b), None)
    if now is not None:
        until = "" if now[1] >= MAX_INSTANT else f" until {format_for_people(now[1] - 1, tz)}"
        return Publishing(True, f"published: students have access{until}", "", now[0], now[1])
    later = [s for s in spans if s[0] > at]
    if later:
        a, b = later[0]
        return Publishing(
            False,
            f"not published yet: students have access from {format_for_people(a, tz)}",
            fix,
            a,
            b,
        )
    a, b = spans[-1]
    return Publishing(
        False,
        f"no longer published: students' access ended {format_for_people(b, tz)}",
        fix,
        a,
        b,
    )


def _groups(config: AssessmentConfig) -> list[tuple[str, frozenset[str]]]:
    """The groups of students the rules distinguish: the defaults, and each label override
    (set-wide ones first), as (name, sections)."""
    out: list[tuple[str, frozenset[str]]] = [("defaults", frozenset())]
    access = config.access
    if access is None:
        return out
    for patch in (*access.set_overrides, *access.overrides):
        if patch.labels:
            out.append((patch.source, patch.labels))
    return out


def _fix_for(config: AssessmentConfig) -> str:
    if config.form is Form.LEGACY:
        return "add an allowAccess rule for students (without uids or an Exam mode)"
    if config.form is Form.RFC:
        return 'set "published": true (with an availableDate) in accessControl'
    if config.access is None:
        return "give it an accessControl list: defaults with a dateControl release date"
    return (
        "give the defaults a dateControl with a release date (and beforeRelease listed to "
        "show it earlier)"
    )


def assessment_publishing(
    ci: CourseInstance, state: InstanceState, config: AssessmentConfig
) -> Publishing:
    """Whether the assessment's own rules ever list it to some students (the course instance
    taken as open), or it links a PrairieTest exam."""
    groups = _groups(config)
    inst = ci.course.institution
    students = [_student(f"({name})", secs, inst) for name, secs in groups]
    if config.form is Form.LEGACY:
        students += [_student(uid, frozenset(), inst) for uid in sorted(config.uids_named)]
    compiled = CompiledCourseInstance(CourseInstancePolicy(), [config], students, state.tz)
    seen = [
        i
        for i in range(len(students))
        if any(v.listed or v.access for _, _, v in compiled.timeline(i, 0).intervals())
    ]
    exams = exam_uuids(config)
    if 0 in seen:
        return Publishing(True, "published")
    if seen:
        names = [groups[i][0] if i < len(groups) else students[i].user.uid for i in seen]
        return Publishing(True, "published only to " + "; ".join(names))
    if exams:
        return Publishing(True, "published through the testing centre (reservations only)")
    return Publishing(False, "not published: no student ever sees it", _fix_for(config))


def assessment_titles(ctx: Ctx, ci: CourseInstance) -> list[tuple[str, str]]:
    """``(assessment id, "Set number: title")`` of every live assessment, in the list's order
    (set, number); needs ``vst``."""
    require_view_all(ctx, ci)
    state = read_instance(ctx.session, ci)
    items = sorted(
        state.assessments.values(),
        key=lambda s: (s.config.set_name, _natural(s.config.number), s.config.id),
    )
    return [
        (s.config.id, f"{s.config.set_name} {s.config.number}: {s.config.title}") for s in items
    ]


def publishing_of(ctx: Ctx, ci: CourseInstance, aid: str) -> tuple[Publishing, Publishing]:
    """The course instance's and the assessment's published marks; needs ``vst``."""
    require_view_all(ctx, ci)
    state = read_instance(ctx.session, ci)
    src = state.assessments.get(aid)
    if src is None:
        raise NotFound(f"assessment: {instance_label(ci)} has no assessment {aid!r}", "assessment")
    return instance_publishing(ci, state, ctx.at), assessment_publishing(ci, state, src.config)


@dataclass(frozen=True)
class StaffAssessment:
    aid: str
    title: str
    set_name: str
    number: str
    form: str
    publishing: Publishing
    exceptions: int
    """Students' own exceptions for it (or its set)."""


@dataclass(frozen=True)
class StaffOverview:
    course: str
    instance: str
    long_name: str
    timezone: str
    publishing: Publishing
    assessments: tuple[StaffAssessment, ...]


def staff_overview(ctx: Ctx, ci: CourseInstance) -> StaffOverview:
    """The course instance's assessments with their published marks; needs ``vst``."""
    require_view_all(ctx, ci)
    state = read_instance(ctx.session, ci)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for scope, target, n in ctx.session.execute(
        select(StudentOverride.scope, StudentOverride.target, func.count())
        .where(StudentOverride.course_instance_id == ci.id)
        .group_by(StudentOverride.scope, StudentOverride.target)
    ).all():
        counts[(scope, target)] = int(n)
    items = []
    for aid, src in state.assessments.items():
        c = src.config
        items.append(
            StaffAssessment(
                aid,
                c.title,
                c.set_name,
                c.number,
                c.form.value,
                assessment_publishing(ci, state, c),
                counts[("assessment", aid)] + counts[("set", c.set_name)],
            )
        )
    items.sort(key=lambda a: (a.set_name, _natural(a.number), a.aid))
    return StaffOverview(
        ci.course.name,
        ci.short_name,
        ci.long_name,
        state.tz.key,
        instance_publishing(ci, state, ctx.at),
        tuple(items),
    )


def _natural(text: str) -> tuple[tuple[int, int | str], ...]:
    return tuple(
        (0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", text) if p != ""
    )


# -- an assessment's timeline, lane by lane ---------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """``[start, end)`` of one lane: ``kind`` is credit, practice, view, listed or none."""

    start: Instant
    end: Instant
    kind: str
    credit: float
    text: str
    time_limit_minutes: int | None
    password_required: bool


@dataclass(frozen=True)
class Lane:
    name: str
    """``defaults``, ``accessControl[1]: lab-b``, or a student (uid and full name)."""
    kind: str
    """defaults | override | student"""
    segments: tuple[Segment, ...]
    due: Instant | None
    early: tuple[tuple[Instant, float], ...]
    late: tuple[tuple[Instant, float], ...]


@dataclass(frozen=True)
class AssessmentTimeline:
    aid: str
    title: str
    form: str
    lanes: tuple[Lane, ...]
    at: Instant
    course_instance: Publishing
    publishing: Publishing


def _segments(tl: Timeline[AssessmentDecision]) -> tuple[Segment, ...]:
    out: list[Segment] = []
    for a, b, d in tl.intervals():
        active = d.can_start or d.submittable
        if d.access and active and d.credit > 0:
            kind = "credit"
        elif d.access and active:
            kind = "practice"
        elif d.access:
            kind = "view"
        elif d.listed:
            kind = "listed"
        else:
            kind = "none"
        seg = Segment(
            a, b, kind, d.credit, d.credit_text, d.time_limit_minutes, d.password_required
        )
        last = out[-1] if out else None
        if last is not None and last.end == a and (last.kind, last.credit) == (kind, d.credit):
            out[-1] = replace(last, end=b)
        else:
            out.append(seg)
    return tuple(out)


def assessment_timeline(
    ctx: Ctx, ci: CourseInstance, aid: str, *, config: AssessmentConfig | None = None
) -> AssessmentTimeline:
    """One lane per group of students the rules distinguish (the defaults, each label
    override) and one per student holding their own exception for it. ``config`` draws the
    same for rules not yet synced (the editor's preview). Needs ``vst``."""
    require_view_all(ctx, ci)
    state = read_instance(ctx.session, ci)
    src = state.assessments.get(aid)
    if src is None:
        raise NotFound(f"assessment: {instance_label(ci)} has no assessment {aid!r}", "assessment")
    if config is None:
        config = src.config
    inst = ci.course.institution
    groups = _groups(config)
    people = [_student(f"({name})", secs, inst) for name, secs in groups]
    if config.form is Form.LEGACY:
        people += [_student(u, frozenset(), inst) for u in sorted(config.uids_named)]
    names = [
        (groups[i][0], "defaults" if i == 0 else "override")
        if i < len(groups)
        else (f"allowAccess uids: {p.user.uid}", "override")
        for i, p in enumerate(people)
    ]
    holders = list(
        ctx.session.scalars(
            select(User.id)
            .join(StudentOverride, StudentOverride.user_id == User.id)
            .where(
                StudentOverride.course_instance_id == ci.id,
                or_(
                    (StudentOverride.scope == "assessment") & (StudentOverride.target == aid),
                    (StudentOverride.scope == "set") & (StudentOverride.target == config.set_name),
                ),
            )
            .distinct()
        )
    )
    if holders:
        for entry in load_roster(ctx.session, ci, state, user_ids=holders):
            people.append(replace(entry.student, instances={}))
            who = f"{entry.name} ({entry.uid})" if entry.name else entry.uid
            names.append((who, "student"))
    policy = state.settings.policy
    # What a student who has not started sees (the lanes), and what an attempt open at each
    # instant earns (the due date and deadlines, as students' lists read them).
    now = CompiledCourseInstance(policy, [config], people, state.tz)
    started = [replace(p, instances={aid: _OPEN}) for p in people]
    dated = CompiledCourseInstance(policy, [config], started, state.tz)
    lanes: list[Lane] = []
    for i, (name, kind) in enumerate(names):
        s = read_schedule(dated.timeline(i, 0))
        lanes.append(Lane(name, kind, _segments(now.timeline(i, 0)), s.due, s.early, s.late))
    return AssessmentTimeline(
        aid,
        config.title,
        config.form.value,
        tuple(lanes),
        ctx.at,
        instance_publishing(ci, state, ctx.at),
        assessment_publishing(ci, state, config),
    )


@dataclass(frozen=True)
class EditorContext:
    """What the access-rule editor needs: the stored assessment, the course instance's
    settings (labels, set-wide rules) and zone, for checking as ``coursegate validate``."""

    row: Assessment
    settings: InstanceSettings
    tz: ZoneInfo
    stored: dict[str, Any]


def editor_context(ctx: Ctx, ci: CourseInstance, aid: str) -> EditorContext:
    """Needs ``vst`` (the routes ask for ``opa`` to edit)."""
    require_view_all(ctx, ci)
    row = ctx.session.scalars(
        select(Assessment).where(
            Assessment.course_instance_id == ci.id,
            Assessment.aid == aid,
            Assessment.retired_at.is_(None),
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"assessment: {instance_label(ci)} has no assessment {aid!r}", "assessment")
    state = read_instance(ctx.session, ci)
    return EditorContext(row, state.settings, state.tz, dict(row.access))


# -- a student's attempts ---------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    id: int
    aid: str
    open: bool
    started_at: Instant
    date_limit: Instant | None
    closed_at: Instant | None
    points: float
    max_points: float
    score_percent: float
    version: int


def attempts_of(ctx: Ctx, ci: CourseInstance, uid: str) -> dict[str, Attempt]:
    """The student's latest attempt at each assessment (the student, or ``vst``)."""
    require_view_student(ctx, ci, uid)
    user = ctx.user(uid)
    out: dict[str, Attempt] = {}
    for row, aid in ctx.session.execute(
        select(AssessmentInstance, Assessment.aid)
        .join(Assessment, Assessment.id == AssessmentInstance.assessment_id)
        .where(Assessment.course_instance_id == ci.id, AssessmentInstance.user_id == user.id)
        .order_by(AssessmentInstance.number)
    ).all():
        out[aid] = Attempt(
            row.id,
            aid,
            row.open,
            row.started_at,
            row.date_limit,
            row.closed_at,
            row.points,
            row.max_points,
            row.score_percent,
            row.version,
        )
    return out


# -- people -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SectionInfo:
    name: str
    description: str
    from_files: bool
    members: int


def sections_of(ctx: Ctx, ci: CourseInstance) -> list[SectionInfo]:
    """The course instance's sections with their member counts; needs ``vst``."""
    require_view_all(ctx, ci)
    counts = dict(
        ctx.session.execute(
            select(SectionMembership.section_id, func.count())
            .join(Section, Section.id == SectionMembership.section_id)
            .where(Section.course_instance_id == ci.id)
            .group_by(SectionMembership.section_id)
        ).all()
    )
    return [
        SectionInfo(s.name, s.description, s.from_files, int(counts.get(s.id, 0)))
        for s in ctx.session.scalars(
            select(Section).where(Section.course_instance_id == ci.id).order_by(Section.name)
        )
    ]


def people_named(ctx: Ctx, uids: Sequence[str]) -> dict[str, str]:
    """Full names of these users (for showing uid and name together)."""
    if not uids:
        return {}
    return dict(
        ctx.session.execute(select(User.uid, User.name).where(User.uid.in_(list(uids)))).all()
    )


def students_with_exceptions(ctx: Ctx, ci: CourseInstance) -> list[str]:
    """The uids of students holding at least one exception in the course instance (``vst``)."""
    require_view_all(ctx, ci)
    return list(
        ctx.session.scalars(
            select(User.uid)
            .join(StudentOverride, StudentOverride.user_id == User.id)
            .where(StudentOverride.course_instance_id == ci.id)
            .distinct()
            .order_by(User.uid)
        )
    )


@dataclass(frozen=True)
class RoleGrant:
    uid: str
    name: str
    role: str
    area: str
    start_at: Instant | None
    end_at: Instant | None
    created_by: str

    def live(self, at: Instant) -> bool:
        return (self.start_at is None or self.start_at <= at) and (
            self.end_at is None or self.end_at > at
        )


def role_grants(ctx: Ctx, ci: CourseInstance, *, students: bool = False) -> list[RoleGrant]:
    """Role assignments in the course instance and its sections (without the Student roles
    unless ``students``), newest first; needs ``vst``."""
    require_view_all(ctx, ci)
    path = instance_area(ci).path
    q = (
        select(RoleAssignmentRow, User.uid, User.name)
        .join(User, User.id == RoleAssignmentRow.user_id)
        .where(or_(RoleAssignmentRow.area == path, RoleAssignmentRow.area.startswith(path + "/")))
        .order_by(RoleAssignmentRow.id.desc())
    )
    if not students:
        q = q.where(RoleAssignmentRow.role != "st")
    return [
        RoleGrant(uid, name, r.role, r.area, r.start_at, r.end_at, r.created_by)
        for r, uid, name in ctx.session.execute(q).all()
    ]


@dataclass(frozen=True)
class CustomRoleInfo:
    name: str
    """``cr/<domain>/<author>/<name>``: what is granted."""
    author: str
    system: str
    domain_privs: str
    course: str


def custom_roles(ctx: Ctx, ci: CourseInstance) -> list[CustomRoleInfo]:
    """Every custom role defined (anyone may grant one they hold ``ccr`` for); needs ``vst``
    in the course instance to be listed here."""
    require_view_all(ctx, ci)
    return [
        CustomRoleInfo(
            f"cr/{r.domain}/{r.author}/{r.name}", r.author, r.system, r.domain_privs, r.course
        )
        for r in ctx.session.scalars(
            select(CustomRoleRow).order_by(
                CustomRoleRow.domain, CustomRoleRow.author, CustomRoleRow.name
            )
        )
    ]


__all__ = [
    "AssessmentTimeline",
    "Attempt",
    "EditorContext",
    "Lane",
    "MyCourseInstance",
    "Publishing",
    "RoleGrant",
    "SectionInfo",
    "Segment",
    "StaffAssessment",
    "StaffOverview",
    "assessment_publishing",
    "assessment_timeline",
    "assessment_titles",
    "attempts_of",
    "custom_roles",
    "editor_context",
    "instance_publishing",
    "may",
    "may_in_domain",
    "my_course_instances",
    "people_named",
    "publishing_of",
    "role_grants",
    "sections_of",
    "staff_overview",
    "students_with_exceptions",
]
