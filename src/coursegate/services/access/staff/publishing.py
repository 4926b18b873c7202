"""The "published" marks of the staff's pages: whether students reach the course instance, and
whether an assessment's own rules ever list it to some students (see ``docs/web.md``), each
with what to change when they do not.

Students see an assessment when two things hold:

* the **course instance** is published: a plain enrolled student (no section) has access to it
  at some time (modern ``publishing`` dates, the RFC's ``published``, or legacy rules);
* the **assessment** lists itself to some students at some time in Public mode — the defaults,
  or the students of one of its label overrides (a section) — with the course instance taken as
  open, so that the two marks say separately what to change; or it links a PrairieTest exam
  (students reach it through their reservations).

Both are read off the decision core's timelines, for stand-in students of each group the rules
distinguish (:func:`stand_ins`, which the timeline lanes share).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from coursegate.core.course_instance import CourseInstancePolicy, compile_course_instance
from coursegate.core.engine import AssessmentConfig, CompiledCourseInstance, Student
from coursegate.core.instants import MAX_INSTANT, Instant, format_for_people
from coursegate.core.model import EnrollmentFacts, Form, InstanceFacts, Role, UserFacts
from coursegate.services.access.reservations import exam_uuids
from coursegate.services.access.view_permissions import require_view_all
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import NotFound
from coursegate.services.common.places import instance_label
from coursegate.services.courses.state import InstanceState, read_instance
from coursegate.store.models import CourseInstance

OPEN_INSTANCE = InstanceFacts(open=True, date_limit=None)


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
        instances=dict.fromkeys(aids, OPEN_INSTANCE),
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


def _rule_groups(config: AssessmentConfig) -> list[tuple[str, frozenset[str]]]:
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


def stand_ins(
    config: AssessmentConfig, institution: str | None
) -> tuple[list[tuple[str, frozenset[str]]], list[Student]]:
    """The groups of students the rules distinguish (:func:`_rule_groups`) and a stand-in
    student for each (uid ``(name)``), then, for legacy rules, one per uid the rules name."""
    groups = _rule_groups(config)
    students = [_student(f"({name})", secs, institution) for name, secs in groups]
    if config.form is Form.LEGACY:
        students += [_student(uid, frozenset(), institution) for uid in sorted(config.uids_named)]
    return groups, students


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
    groups, students = stand_ins(config, ci.course.institution)
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


def publishing_of(ctx: Ctx, ci: CourseInstance, aid: str) -> tuple[Publishing, Publishing]:
    """The course instance's and the assessment's published marks; needs ``vst``."""
    require_view_all(ctx, ci)
    state = read_instance(ctx.session, ci)
    src = state.assessments.get(aid)
    if src is None:
        raise NotFound(f"assessment: {instance_label(ci)} has no assessment {aid!r}", "assessment")
    return instance_publishing(ci, state, ctx.at), assessment_publishing(ci, state, src.config)


__all__ = [
    "OPEN_INSTANCE",
    "Publishing",
    "assessment_publishing",
    "instance_publishing",
    "publishing_of",
    "stand_ins",
]
