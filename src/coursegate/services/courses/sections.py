"""Sections of a course instance: creating, renaming and deleting them, and putting enrolled
students in them one by one or from a CSV file (``uid,section``). All of it needs ``men``
(manage enrollment) in the course instance; sections named in the course files are the sync's."""

from __future__ import annotations

from sqlalchemy import func, select

from coursegate.core.model import canonical_uid
from coursegate.roles import Area, AreaError
from coursegate.services.common.conflicts import flush_or_conflict, translate_conflicts
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Invalid, NotFound
from coursegate.services.common.places import (
    instance_area,
    instance_label,
)
from coursegate.services.courses.enrollment import enrollment_of, managed_instance
from coursegate.services.history.log import record
from coursegate.services.people.csv_import import BadCsv, CsvProblem, ImportReport, chunks, read_csv
from coursegate.store.models import (
    CourseInstance,
    Enrollment,
    Section,
    SectionMembership,
    User,
)


def _section_name(ci: CourseInstance, name: str, field: str = "name") -> str:
    """A section name that works as a roles area (``/dom/course/section``)."""
    name = name.strip()
    area = instance_area(ci)
    try:
        Area.of_section(area.domain, area.course, name)
    except AreaError as error:
        raise Invalid(f"{field}: {error}", field) from None
    return name


def section_of(ctx: Ctx, ci: CourseInstance, name: str, field: str = "section") -> Section:
    found = ctx.session.scalars(
        select(Section).where(Section.course_instance_id == ci.id, Section.name == name)
    ).one_or_none()
    if found is None:
        raise NotFound(f"{field}: {instance_label(ci)} has no section {name!r}", field)
    return found


def _editable(section: Section, ci: CourseInstance, verb: str) -> None:
    if section.from_files:
        raise Invalid(
            f"section: {section.name} is named in the course files of {instance_label(ci)}; "
            f"{verb} it there (the next sync would bring it back)",
            "section",
        )


@translate_conflicts
def create_section(
    ctx: Ctx, course_instance_id: int, name: str, *, description: str = ""
) -> Section:
    ci = managed_instance(ctx, course_instance_id, f"create section {name}")
    name = _section_name(ci, name)
    exists = ctx.session.scalar(
        select(Section.id).where(Section.course_instance_id == ci.id, Section.name == name)
    )
    if exists is not None:
        raise Invalid(f"name: {instance_label(ci)} already has a section {name!r}", "name")
    section = Section(course_instance_id=ci.id, name=name, description=description)
    ctx.session.add(section)
    record(ctx, "section.create", "section", name, course_instance_id=ci.id)
    flush_or_conflict(ctx)
    return section


@translate_conflicts
def rename_section(ctx: Ctx, course_instance_id: int, name: str, new_name: str) -> Section:
    ci = managed_instance(ctx, course_instance_id, f"rename section {name}")
    section = section_of(ctx, ci, name)
    _editable(section, ci, "rename")
    new_name = _section_name(ci, new_name, "new_name")
    if new_name == name:
        return section
    clash = ctx.session.scalar(
        select(Section.id).where(Section.course_instance_id == ci.id, Section.name == new_name)
    )
    if clash is not None:
        raise Invalid(
            f"new_name: {instance_label(ci)} already has a section {new_name!r}", "new_name"
        )
    section.name = new_name
    record(ctx, "section.rename", "section", new_name, course_instance_id=ci.id, old=name)
    flush_or_conflict(ctx)
    return section


@translate_conflicts
def delete_section(ctx: Ctx, course_instance_id: int, name: str) -> None:
    """Delete a section that has no members (move or remove them first)."""
    ci = managed_instance(ctx, course_instance_id, f"delete section {name}")
    section = section_of(ctx, ci, name)
    _editable(section, ci, "remove")
    members = ctx.session.scalar(
        select(func.count())
        .select_from(SectionMembership)
        .where(SectionMembership.section_id == section.id)
    )
    if members:
        raise Invalid(
            f"section: {name} still has {members} member(s); remove them before deleting it",
            "section",
        )
    ctx.session.delete(section)
    record(ctx, "section.delete", "section", name, course_instance_id=ci.id)
    flush_or_conflict(ctx)


def _require_enrolled(ctx: Ctx, ci: CourseInstance, user: User, field: str = "uid") -> None:
    enrollment = enrollment_of(ctx, ci, user)
    if enrollment is None or enrollment.status == "removed":
        raise Invalid(
            f"{field}: {user.uid} is not enrolled in {instance_label(ci)}; invite them first",
            field,
        )


def _membership(ctx: Ctx, section: Section, user: User) -> SectionMembership | None:
    return ctx.session.scalars(
        select(SectionMembership).where(
            SectionMembership.section_id == section.id, SectionMembership.user_id == user.id
        )
    ).one_or_none()


@translate_conflicts
def add_to_section(ctx: Ctx, course_instance_id: int, uid: str, section: str) -> bool:
    """Put an enrolled student in a section (a student may be in several). False when they
    were already there (nothing changes)."""
    ci = managed_instance(ctx, course_instance_id, f"put {uid} in section {section}")
    user = ctx.user(uid)
    found = section_of(ctx, ci, section)
    _require_enrolled(ctx, ci, user)
    if _membership(ctx, found, user) is not None:
        return False
    ctx.session.add(SectionMembership(section_id=found.id, user_id=user.id))
    record(ctx, "section.add", "section_membership", uid, course_instance_id=ci.id,
           section=section)  # fmt: skip
    flush_or_conflict(ctx)
    return True


@translate_conflicts
def remove_from_section(ctx: Ctx, course_instance_id: int, uid: str, section: str) -> None:
    ci = managed_instance(ctx, course_instance_id, f"take {uid} out of section {section}")
    user = ctx.user(uid)
    found = section_of(ctx, ci, section)
    membership = _membership(ctx, found, user)
    if membership is None:
        raise Invalid(f"uid: {uid} is not in section {section}", "uid")
    ctx.session.delete(membership)
    record(ctx, "section.remove", "section_membership", uid, course_instance_id=ci.id,
           section=section)  # fmt: skip
    flush_or_conflict(ctx)


@translate_conflicts
def import_section_memberships(ctx: Ctx, course_instance_id: int, csv_text: str) -> ImportReport:
    """Add the memberships of a CSV file (``uid,section`` with a header line).

    All or nothing: an unknown user or section, or a user not enrolled in the course instance,
    is reported with its line and nothing is written. Memberships already stored are left
    alone (importing the same file again changes nothing); the file adds, it never removes.
    """
    ci = managed_instance(ctx, course_instance_id, "import section memberships")
    rows = read_csv(csv_text, ("uid", "section"))
    sections = {
        s.name: s
        for s in ctx.session.scalars(select(Section).where(Section.course_instance_id == ci.id))
    }
    users = _enrollment_by_uid(ctx, ci, sorted({canonical_uid(row["uid"]) for _, row in rows}))
    problems: list[CsvProblem] = []
    wanted: dict[tuple[int, int], tuple[str, str]] = {}
    for line, row in rows:
        uid, name = canonical_uid(row["uid"]), row["section"]
        found = users.get(uid)
        if found is None:
            problems.append(CsvProblem(line, "uid", f"there is no user {uid!r}"))
        elif found[1] in (None, "removed"):
            problems.append(
                CsvProblem(line, "uid", f"{uid} is not enrolled in {instance_label(ci)}")
            )
        if name not in sections:
            listed = ", ".join(sorted(sections)) or "none yet"
            problems.append(
                CsvProblem(line, "section", f"there is no section {name!r} (sections: {listed})")
            )
        if found is not None and name in sections:
            wanted[(sections[name].id, found[0].id)] = (uid, name)
    if problems:
        raise BadCsv(problems)
    stored = _stored_memberships(ctx, ci)
    report = ImportReport()
    for (section_id, user_id), (uid, name) in sorted(wanted.items(), key=lambda kv: kv[1]):
        if (section_id, user_id) in stored:
            continue
        ctx.session.add(SectionMembership(section_id=section_id, user_id=user_id))
        record(ctx, "section.add", "section_membership", uid, course_instance_id=ci.id,
               section=name, via="csv")  # fmt: skip
        report.created += 1
        report.lines.append(f"{uid} joins section {name}")
    report.unchanged = len(rows) - report.created
    flush_or_conflict(ctx)
    return report


def _enrollment_by_uid(
    ctx: Ctx, ci: CourseInstance, uids: list[str]
) -> dict[str, tuple[User, str | None]]:
    found: dict[str, tuple[User, str | None]] = {}
    for part in chunks(uids):
        for user, status in ctx.session.execute(
            select(User, Enrollment.status)
            .outerjoin(
                Enrollment,
                (Enrollment.user_id == User.id) & (Enrollment.course_instance_id == ci.id),
            )
            .where(User.uid.in_(part))
        ):
            found[user.uid] = (user, status)
    return found


def _stored_memberships(ctx: Ctx, ci: CourseInstance) -> set[tuple[int, int]]:
    return {
        (section_id, user_id)
        for section_id, user_id in ctx.session.execute(
            select(SectionMembership.section_id, SectionMembership.user_id)
            .join(Section, Section.id == SectionMembership.section_id)
            .where(Section.course_instance_id == ci.id)
        )
    }


__all__ = [
    "add_to_section",
    "create_section",
    "delete_section",
    "import_section_memberships",
    "remove_from_section",
    "rename_section",
]
