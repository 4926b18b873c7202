"""Enrollment: self-enrollment, invitations, blocking, sections and the roster.

An enrollment is ``invited``, ``joined``, ``blocked`` or ``removed`` (no longer enrolled).
Joining — enrolling oneself, or accepting an invitation — also gives the user the Student role
(``st``) at the course instance's area; blocking ends it (``end_at`` is set, the record stays).

Who may do what:

* self-enrollment: the user themselves, when the decision core's :func:`may_self_enroll` says
  so for the course instance's stored policy (enabled, before its date, same institution,
  enrollment code);
* invitations (users of any institution), blocking, unblocking, the enrollment code, sections
  and memberships: ``men`` (manage enrollment) in the course instance;
* the roster: ``vst`` (view students) in the course instance.

Publishing extensions are the exceptions service's.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, or_, select

from coursegate.core.course_instance import may_self_enroll
from coursegate.core.model import EnrollmentFacts, Role, UserFacts
from coursegate.roles import Area, AreaError, AuthKind, RoleIndex
from coursegate.roles import User as RoleUser
from coursegate.services.authz import require, unassigned_class_account
from coursegate.services.context import Ctx
from coursegate.services.course_instances import (
    course_instance_by_id,
    find_course_instance,
    instance_area,
    instance_label,
)
from coursegate.services.course_state import read_instance
from coursegate.services.errors import Invalid, NotFound, Refused
from coursegate.services.history import record
from coursegate.services.users import (
    BadCsv,
    CsvProblem,
    ImportReport,
    chunks,
    flush_or_conflict,
    read_csv,
    translate_conflicts,
)
from coursegate.store.models import (
    CourseInstance,
    Enrollment,
    RoleAssignmentRow,
    Section,
    SectionMembership,
    User,
)

STUDENT = "st"
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


# -- finding things ---------------------------------------------------------------------------


def enrollment_of(ctx: Ctx, ci: CourseInstance, user: User) -> Enrollment | None:
    return ctx.session.scalars(
        select(Enrollment).where(
            Enrollment.course_instance_id == ci.id, Enrollment.user_id == user.id
        )
    ).one_or_none()


def _open_instance(ctx: Ctx, course_instance_id: int) -> CourseInstance:
    ci = course_instance_by_id(ctx, course_instance_id)
    if ci.retired_at is not None:
        raise Invalid(
            f"course_instance_id: {instance_label(ci)} is retired (removed from the course "
            "files); nobody enrolls in it",
            "course_instance_id",
        )
    return ci


def _managed(ctx: Ctx, course_instance_id: int, what: str) -> CourseInstance:
    """The course instance, once the actor's ``men`` there is confirmed."""
    ci = _open_instance(ctx, course_instance_id)
    require(ctx, "men", instance_area(ci), f"{what} in {instance_label(ci)}")
    return ci


# -- class accounts and the Student role ------------------------------------------------------


def class_account_refusal(ctx: Ctx, user: User, ci: CourseInstance) -> str | None:
    """Why ``user`` may not be a student of ``ci`` (a class account of another course), as the
    roles core words it; None when nothing stands in the way."""
    standing = unassigned_class_account(ctx, user)
    if standing is not None:  # free in its pool, recycled or being wiped
        return standing
    if not user.class_account:
        return None
    own = (
        ctx.session.get(CourseInstance, user.class_course_instance_id)
        if user.class_course_instance_id is not None
        else None
    )
    target = RoleUser(
        user.uid,
        user.domain.name,
        AuthKind(user.auth),
        class_account=True,
        class_course=instance_area(own) if own is not None else None,
    )
    return RoleIndex().class_account_problem(target, STUDENT, instance_area(ci))


def _refuse_class_account(ctx: Ctx, user: User, ci: CourseInstance) -> None:
    why = class_account_refusal(ctx, user, ci)
    if why is not None:
        raise Refused(f"{user.uid} may not be enrolled in {instance_label(ci)}: {why}", "uid")


def _give_student_role(ctx: Ctx, user: User, ci: CourseInstance) -> bool:
    """Add a Student role at the course instance from now on, unless one is in force or
    coming; True when added."""
    area = instance_area(ci).path
    live = ctx.session.scalar(
        select(func.count())
        .select_from(RoleAssignmentRow)
        .where(
            RoleAssignmentRow.user_id == user.id,
            RoleAssignmentRow.role == STUDENT,
            RoleAssignmentRow.area == area,
            or_(RoleAssignmentRow.end_at.is_(None), RoleAssignmentRow.end_at > ctx.at),
        )
    )
    if live:
        return False
    ctx.session.add(
        RoleAssignmentRow(
            user_id=user.id,
            role=STUDENT,
            area=area,
            start_at=ctx.at,
            end_at=None,
            created_by=ctx.actor,
            created_at=ctx.at,
        )
    )
    return True


def _end_student_roles(ctx: Ctx, user: User, ci: CourseInstance) -> int:
    """End every Student role of ``user`` in the course instance and its sections now (one
    that has not begun is closed at its start); the records stay. Returns how many."""
    area = instance_area(ci).path
    rows = ctx.session.scalars(
        select(RoleAssignmentRow).where(
            RoleAssignmentRow.user_id == user.id,
            RoleAssignmentRow.role == STUDENT,
            or_(RoleAssignmentRow.area == area, RoleAssignmentRow.area.startswith(area + "/")),
            or_(RoleAssignmentRow.end_at.is_(None), RoleAssignmentRow.end_at > ctx.at),
        )
    ).all()
    for row in rows:
        row.end_at = row.start_at if row.start_at is not None and row.start_at > ctx.at else ctx.at
    return len(rows)


def _had_student_role(ctx: Ctx, user: User, ci: CourseInstance) -> bool:
    return bool(
        ctx.session.scalar(
            select(func.count())
            .select_from(RoleAssignmentRow)
            .where(
                RoleAssignmentRow.user_id == user.id,
                RoleAssignmentRow.role == STUDENT,
                RoleAssignmentRow.area == instance_area(ci).path,
            )
        )
    )


def _set_status(ctx: Ctx, ci: CourseInstance, user: User, status: str) -> Enrollment:
    enrollment = enrollment_of(ctx, ci, user)
    if enrollment is None:
        enrollment = Enrollment(
            course_instance_id=ci.id, user_id=user.id, status=status, updated_at=ctx.at
        )
        ctx.session.add(enrollment)
    else:
        enrollment.status = status
        enrollment.updated_at = ctx.at
    return enrollment


# -- self-enrollment and invitations ----------------------------------------------------------


@translate_conflicts
def self_enroll(ctx: Ctx, course_instance_id: int, *, code: str | None = None) -> Enrollment:
    """Enroll the acting user in a course instance (or accept their invitation).

    Whether they may is the decision core's :func:`may_self_enroll`, with the course instance's
    stored policy and enrollment code. Enrolling again when already joined changes nothing.
    """
    ci = _open_instance(ctx, course_instance_id)
    user = _self(ctx, "enroll")
    _refuse_class_account(ctx, user, ci)
    enrollment = enrollment_of(ctx, ci, user)
    policy = read_instance(ctx.session, ci).settings.policy
    verdict = may_self_enroll(
        policy,
        UserFacts(uid=user.uid, role=Role.STUDENT, institution=user.domain.title),
        EnrollmentFacts(enrollment.status, enrollment.publishing_extension_end)
        if enrollment is not None
        else None,
        ctx.at,
        code=normalise_code(code) if code is not None else None,
        expected_code=ci.enrollment_code,
    )
    if not verdict.allowed:
        raise Refused(
            f"{user.uid} may not enroll in {instance_label(ci)}: {verdict.reason}",
            "code" if "code" in verdict.reason else "course_instance_id",
        )
    if enrollment is not None and enrollment.status == "joined":
        return enrollment
    return _join(ctx, ci, user, enrollment, "enrollment.self")


@translate_conflicts
def join_invitation(ctx: Ctx, course_instance_id: int) -> Enrollment:
    """Accept the acting user's invitation: invited → joined (with the Student role)."""
    ci = _open_instance(ctx, course_instance_id)
    user = _self(ctx, "accept an invitation")
    enrollment = enrollment_of(ctx, ci, user)
    if enrollment is None or enrollment.status != "invited":
        now = "not enrolled" if enrollment is None else enrollment.status
        raise Invalid(
            f"course_instance_id: {user.uid} has no invitation to {instance_label(ci)} "
            f"(their enrollment is {now})",
            "course_instance_id",
        )
    _refuse_class_account(ctx, user, ci)
    return _join(ctx, ci, user, enrollment, "enrollment.join")


def _self(ctx: Ctx, what: str) -> User:
    """The acting user, when they act for themselves as an active account."""
    if ctx.is_system:
        raise Refused(f"the system may not {what}: only a user enrolls themselves", "actor")
    if ctx.viewing_as:
        raise Refused(
            f"{ctx.actor} may not {what} while viewing as {ctx.acting_as}: only the user "
            "themselves enrolls",
            "acting_as",
        )
    user = ctx.user(ctx.actor, "actor")
    if user.status != "active":
        raise Refused(f"{user.uid} may not {what}: the account is {user.status}", "actor")
    return user


def _join(
    ctx: Ctx, ci: CourseInstance, user: User, enrollment: Enrollment | None, action: str
) -> Enrollment:
    old = enrollment.status if enrollment is not None else "none"
    enrollment = _set_status(ctx, ci, user, "joined")
    role_added = _give_student_role(ctx, user, ci)
    record(
        ctx, action, "enrollment", user.uid,
        course_instance_id=ci.id, old=old, new="joined", student_role_added=role_added,
    )  # fmt: skip
    flush_or_conflict(ctx)
    return enrollment


@translate_conflicts
def invite(ctx: Ctx, course_instance_id: int, uid: str, *, reason: str = "") -> Enrollment:
    """Invite a user of any institution; they join with :func:`join_invitation` (or by
    enrolling themselves). Inviting someone already invited or joined changes nothing."""
    ci = _managed(ctx, course_instance_id, f"invite {uid}")
    user = ctx.user(uid)
    _refuse_class_account(ctx, user, ci)
    enrollment = enrollment_of(ctx, ci, user)
    if enrollment is not None and enrollment.status in ("invited", "joined"):
        return enrollment
    old = enrollment.status if enrollment is not None else "none"
    if old == "blocked":
        raise Invalid(f"uid: {uid} is blocked from {instance_label(ci)}; unblock them first", "uid")
    enrollment = _set_status(ctx, ci, user, "invited")
    record(
        ctx, "enrollment.invite", "enrollment", uid,
        course_instance_id=ci.id, reason=reason, old=old, new="invited",
    )  # fmt: skip
    flush_or_conflict(ctx)
    return enrollment


@translate_conflicts
def enroll(ctx: Ctx, course_instance_id: int, uid: str, *, reason: str = "") -> Enrollment:
    """Enroll a user directly (staff with ``men``, class-account assignment, the operator):
    joined, with the Student role. Enrolling someone already joined changes nothing; a blocked
    user must be unblocked first."""
    ci = _managed(ctx, course_instance_id, f"enroll {uid}")
    user = ctx.user(uid)
    _refuse_class_account(ctx, user, ci)
    enrollment = enrollment_of(ctx, ci, user)
    if enrollment is not None and enrollment.status == "joined":
        return enrollment
    if enrollment is not None and enrollment.status == "blocked":
        raise Invalid(f"uid: {uid} is blocked from {instance_label(ci)}; unblock them first", "uid")
    return _join(ctx, ci, user, enrollment, "enrollment.enroll")


# -- blocking ---------------------------------------------------------------------------------


@translate_conflicts
def block(ctx: Ctx, course_instance_id: int, uid: str, *, reason: str = "") -> Enrollment:
    """Block a user from a course instance (enrolled or not): their Student role there ends
    now, and they may not enroll themselves again. Blocking twice changes nothing."""
    ci = _managed(ctx, course_instance_id, f"block {uid}")
    user = ctx.user(uid)
    enrollment = enrollment_of(ctx, ci, user)
    if enrollment is not None and enrollment.status == "blocked":
        return enrollment
    old = enrollment.status if enrollment is not None else "none"
    enrollment = _set_status(ctx, ci, user, "blocked")
    ended = _end_student_roles(ctx, user, ci)
    record(
        ctx, "enrollment.block", "enrollment", uid,
        course_instance_id=ci.id, reason=reason, old=old, new="blocked",
        student_roles_ended=ended,
    )  # fmt: skip
    flush_or_conflict(ctx)
    return enrollment


@translate_conflicts
def unblock(ctx: Ctx, course_instance_id: int, uid: str, *, reason: str = "") -> Enrollment:
    """Lift a block. A user who had joined before is joined again (with a new Student role);
    one who never had is simply no longer enrolled (``removed``) and may enroll or be invited.
    """
    ci = _managed(ctx, course_instance_id, f"unblock {uid}")
    user = ctx.user(uid)
    enrollment = enrollment_of(ctx, ci, user)
    if enrollment is None or enrollment.status != "blocked":
        now = "not enrolled" if enrollment is None else enrollment.status
        raise Invalid(f"uid: {uid} is not blocked from {instance_label(ci)} ({now})", "uid")
    rejoin = _had_student_role(ctx, user, ci) and class_account_refusal(ctx, user, ci) is None
    enrollment = _set_status(ctx, ci, user, "joined" if rejoin else "removed")
    role_added = _give_student_role(ctx, user, ci) if rejoin else False
    record(
        ctx, "enrollment.unblock", "enrollment", uid,
        course_instance_id=ci.id, reason=reason, old="blocked", new=enrollment.status,
        student_role_added=role_added,
    )  # fmt: skip
    flush_or_conflict(ctx)
    return enrollment


# -- the enrollment code ----------------------------------------------------------------------


def normalise_code(code: str) -> str:
    """Enrollment codes are compared without case or surrounding spaces."""
    return code.strip().upper()


@translate_conflicts
def set_enrollment_code(ctx: Ctx, course_instance_id: int, code: str | None = None) -> str:
    """Set the code students give when the course instance's ``selfEnrollment`` asks for one
    (``useEnrollmentCode``); without ``code`` a new random one is made. Returns the code."""
    ci = _managed(ctx, course_instance_id, "set the enrollment code")
    if code is None:
        code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
    code = normalise_code(code)
    if not 4 <= len(code) <= 64 or not code.replace("-", "").isalnum():
        raise Invalid(
            f"code: an enrollment code has 4 to 64 letters, digits or '-'; {code!r} does not fit",
            "code",
        )
    ci.enrollment_code = code
    record(ctx, "enrollment.code", "course_instance", ci.short_name, course_instance_id=ci.id)
    flush_or_conflict(ctx)
    return code


def enrollment_code(ctx: Ctx, course_instance_id: int) -> str | None:
    """The current enrollment code (None when none is set); needs ``men``."""
    ci = course_instance_by_id(ctx, course_instance_id)
    require(ctx, "men", instance_area(ci), f"see the enrollment code of {instance_label(ci)}")
    return ci.enrollment_code


# -- sections ---------------------------------------------------------------------------------


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
    ci = _managed(ctx, course_instance_id, f"create section {name}")
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
    ci = _managed(ctx, course_instance_id, f"rename section {name}")
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
    ci = _managed(ctx, course_instance_id, f"delete section {name}")
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
    ci = _managed(ctx, course_instance_id, f"put {uid} in section {section}")
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
    ci = _managed(ctx, course_instance_id, f"take {uid} out of section {section}")
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
    ci = _managed(ctx, course_instance_id, "import section memberships")
    rows = read_csv(csv_text, ("uid", "section"))
    sections = {
        s.name: s
        for s in ctx.session.scalars(select(Section).where(Section.course_instance_id == ci.id))
    }
    users = _enrollment_by_uid(ctx, ci, sorted({row["uid"] for _, row in rows}))
    problems: list[CsvProblem] = []
    wanted: dict[tuple[int, int], tuple[str, str]] = {}
    for line, row in rows:
        uid, name = row["uid"], row["section"]
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


# -- the roster -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RosterLine:
    """One enrolled user as staff see them: uid and full name together."""

    uid: str
    name: str
    email: str | None
    status: str
    sections: tuple[str, ...]

    @property
    def who(self) -> str:
        """``jdoe (Jane Doe)``."""
        return f"{self.uid} ({self.name})"

    def render(self) -> str:
        sections = ", ".join(self.sections) or "no section"
        return f"{self.who}  {self.status}  {sections}"


def list_roster(ctx: Ctx, course_instance_id: int) -> list[RosterLine]:
    """Every invited, joined or blocked user of a course instance, by uid, with their full
    name, sections and enrollment status."""
    ci = course_instance_by_id(ctx, course_instance_id)
    require(ctx, "vst", instance_area(ci), f"view the roster of {instance_label(ci)}")
    pairs = ctx.session.execute(
        select(User, Enrollment.status)
        .join(Enrollment, Enrollment.user_id == User.id)
        .where(Enrollment.course_instance_id == ci.id, Enrollment.status != "removed")
        .order_by(User.uid)
    ).all()
    sections: dict[int, list[str]] = defaultdict(list)
    for user_id, name in ctx.session.execute(
        select(SectionMembership.user_id, Section.name)
        .join(Section, Section.id == SectionMembership.section_id)
        .where(Section.course_instance_id == ci.id)
        .order_by(Section.name)
    ):
        sections[user_id].append(name)
    return [
        RosterLine(u.uid, u.name, u.email, status, tuple(sections[u.id])) for u, status in pairs
    ]


def roster_line(ctx: Ctx, enrollment: Enrollment) -> RosterLine:
    """One enrollment as a roster line (for answering the use case that just changed it; no
    privilege check: the caller has just been allowed to change it, or it is their own)."""
    user = ctx.session.get(User, enrollment.user_id)
    assert user is not None
    names = ctx.session.scalars(
        select(Section.name)
        .join(SectionMembership, SectionMembership.section_id == Section.id)
        .where(
            Section.course_instance_id == enrollment.course_instance_id,
            SectionMembership.user_id == user.id,
        )
        .order_by(Section.name)
    ).all()
    return RosterLine(user.uid, user.name, user.email, enrollment.status, tuple(names))


@dataclass(frozen=True)
class SectionLine:
    """A section with its members (uid and full name together)."""

    name: str
    description: str
    from_files: bool
    members: tuple[tuple[str, str], ...]
    """``(uid, full name)`` of every member, by uid."""


def list_sections(ctx: Ctx, course_instance_id: int) -> list[SectionLine]:
    """The sections of a course instance, by name, with their members; needs ``vst``."""
    ci = course_instance_by_id(ctx, course_instance_id)
    require(ctx, "vst", instance_area(ci), f"view the sections of {instance_label(ci)}")
    members: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for section_id, uid, name in ctx.session.execute(
        select(SectionMembership.section_id, User.uid, User.name)
        .join(User, User.id == SectionMembership.user_id)
        .join(Section, Section.id == SectionMembership.section_id)
        .where(Section.course_instance_id == ci.id)
        .order_by(User.uid)
    ):
        members[section_id].append((uid, name))
    return [
        SectionLine(s.name, s.description, s.from_files, tuple(members[s.id]))
        for s in ctx.session.scalars(
            select(Section).where(Section.course_instance_id == ci.id).order_by(Section.name)
        )
    ]


__all__ = [
    "RosterLine",
    "SectionLine",
    "add_to_section",
    "block",
    "class_account_refusal",
    "create_section",
    "delete_section",
    "enroll",
    "enrollment_code",
    "find_course_instance",
    "import_section_memberships",
    "invite",
    "join_invitation",
    "list_roster",
    "list_sections",
    "remove_from_section",
    "rename_section",
    "roster_line",
    "self_enroll",
    "set_enrollment_code",
    "unblock",
]
