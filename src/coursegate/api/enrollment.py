"""API v1: sections and their members, the roster, enrolling, invitations, blocking,
self-enrollment and the enrollment code.

Changes need ``men`` (manage enrollment: course coordinators, instructors, domain coordinators)
in the course instance; reading the roster and the sections needs ``vst``. A student enrolls
themselves or accepts an invitation as any signed-in user: whether they may is the decision
core's (``may_self_enroll``: turned on, before its date, same institution, the code).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query, Response
from pydantic import BaseModel, Field

from coursegate.api.exceptions import Body, every_problem
from coursegate.http.deps import CALLER, Caller
from coursegate.http.policy import Routes, needs, signed_in
from coursegate.services.access.students import person
from coursegate.services.common.places import find_course_instance
from coursegate.services.courses import enrollment as E
from coursegate.services.courses import roster_views as V
from coursegate.services.courses import sections as S
from coursegate.services.people.csv_import import ImportReport

routes = Routes(prefix="/api/v1", tags=["enrollment"])

CI = "/courses/{course}/instances/{instance}"
Status = Literal["invited", "joined", "blocked"]


# -- shapes -----------------------------------------------------------------------------------


class EnrollmentOut(BaseModel):
    """One user's enrollment in the course instance."""

    uid: str = Field(examples=["ana@example.edu"])
    name: str = Field(examples=["Ana Alvarez"])
    student: str = Field(description="uid and full name together")
    email: str | None = Field(examples=["ana@example.edu"])
    status: Literal["invited", "joined", "blocked", "removed"] = Field(
        description="removed: no longer enrolled (free to enroll or be invited)"
    )
    sections: list[str] = Field(examples=[["lab-a"]])


def enrollment_out(line: V.RosterLine) -> EnrollmentOut:
    return EnrollmentOut(
        uid=line.uid,
        name=line.name,
        student=person(line.uid, line.name),
        email=line.email,
        status=line.status,  # type: ignore[arg-type]
        sections=list(line.sections),
    )


class UidReason(Body):
    uid: str = Field(min_length=1, max_length=200, examples=["eve@example.edu"])
    reason: str = Field("", max_length=2000, examples=["added after the drop deadline"])


class EnrollmentReason(Body):
    reason: str = Field("", max_length=2000, examples=["academic integrity case 2024-17"])


class SelfEnrollIn(Body):
    code: str | None = Field(
        None,
        max_length=200,
        description="the enrollment code, when the course instance asks for one",
        examples=["K7QM-2XPR"],
    )


class CodeIn(Body):
    code: str | None = Field(
        None,
        max_length=200,
        description="4-64 letters, digits or '-' (compared without case); null or absent: a new "
        "random one",
        examples=["CG101-SPRING"],
    )


class CodeOut(BaseModel):
    code: str | None = Field(description="null: none set (nobody gets in by code)")


class SectionMember(BaseModel):
    uid: str
    name: str
    student: str = Field(description="uid and full name together")


class SectionOut(BaseModel):
    name: str = Field(examples=["lab-a"])
    description: str
    from_files: bool = Field(
        description="named in the course files: rename or remove it there, not here"
    )
    members: list[SectionMember]


def section_out(s: V.SectionLine) -> SectionOut:
    return SectionOut(
        name=s.name,
        description=s.description,
        from_files=s.from_files,
        members=[SectionMember(uid=u, name=n, student=person(u, n)) for u, n in s.members],
    )


class SectionIn(Body):
    name: str = Field(min_length=1, max_length=200, examples=["makeup-exam"])
    description: str = Field("", max_length=2000, examples=["students taking the make-up exam"])


class SectionRename(Body):
    name: str = Field(min_length=1, max_length=200, description="the new name", examples=["lab-c"])


class MembershipOut(BaseModel):
    section: str
    uid: str
    added: bool = Field(description="false: they were already in the section (nothing changed)")


class CsvIn(Body):
    csv: str = Field(
        max_length=5_000_000,
        description="the file's text, with a header line",
        examples=["uid,section\nana@example.edu,lab-a\nben@example.edu,lab-b\n"],
    )


class ImportOut(BaseModel):
    created: int
    unchanged: int
    lines: list[str] = Field(description="one line per row that changed something")


def import_out(report: ImportReport) -> ImportOut:
    return ImportOut(created=report.created, unchanged=report.unchanged, lines=report.lines)


# -- sections ---------------------------------------------------------------------------------


@routes.get(
    CI + "/sections",
    policy=needs("vst", why="view the course instance's sections"),
    response_model=list[SectionOut],
)
def list_sections(course: str, instance: str, c: Caller = CALLER) -> list[SectionOut]:
    """Every section, by name, with its members (uid and full name)."""
    ci = find_course_instance(c.ctx, course, instance)
    return [section_out(s) for s in V.list_sections(c.ctx, ci.id)]


def _section(c: Caller, ci_id: int, name: str) -> SectionOut:
    found = next(s for s in V.list_sections(c.ctx, ci_id) if s.name == name)
    return section_out(found)


@routes.post(
    CI + "/sections",
    policy=needs("men", why="manage enrollment and sections"),
    status_code=201,
    response_model=SectionOut,
)
def create_section(course: str, instance: str, body: SectionIn, c: Caller = CALLER) -> SectionOut:
    """A new section (its name works as a roles area: letters, digits, ``_ - .``)."""
    ci = find_course_instance(c.ctx, course, instance)
    made = S.create_section(c.ctx, ci.id, body.name, description=body.description)
    return _section(c, ci.id, made.name)


@routes.patch(
    CI + "/sections/{section}",
    policy=needs("men", why="manage enrollment and sections"),
    response_model=SectionOut,
)
def rename_section(
    course: str, instance: str, section: str, body: SectionRename, c: Caller = CALLER
) -> SectionOut:
    """Rename a section (not one named in the course files)."""
    ci = find_course_instance(c.ctx, course, instance)
    renamed = S.rename_section(c.ctx, ci.id, section, body.name)
    return _section(c, ci.id, renamed.name)


@routes.delete(
    CI + "/sections/{section}",
    policy=needs("men", why="manage enrollment and sections"),
    status_code=204,
)
def delete_section(course: str, instance: str, section: str, c: Caller = CALLER) -> Response:
    """Delete a section with no members (not one named in the course files)."""
    ci = find_course_instance(c.ctx, course, instance)
    S.delete_section(c.ctx, ci.id, section)
    return Response(status_code=204)


@routes.put(
    CI + "/sections/{section}/members/{uid}",
    policy=needs("men", why="manage enrollment and sections"),
    response_model=MembershipOut,
)
def add_member(
    course: str, instance: str, section: str, uid: str, c: Caller = CALLER
) -> MembershipOut:
    """Put an enrolled student in the section (a student may be in several)."""
    ci = find_course_instance(c.ctx, course, instance)
    added = S.add_to_section(c.ctx, ci.id, uid, section)
    return MembershipOut(section=section, uid=uid, added=added)


@routes.delete(
    CI + "/sections/{section}/members/{uid}",
    policy=needs("men", why="manage enrollment and sections"),
    status_code=204,
)
def remove_member(
    course: str, instance: str, section: str, uid: str, c: Caller = CALLER
) -> Response:
    ci = find_course_instance(c.ctx, course, instance)
    S.remove_from_section(c.ctx, ci.id, uid, section)
    return Response(status_code=204)


@routes.post(
    CI + "/section-memberships/import",
    policy=needs("men", why="manage enrollment and sections"),
    response_model=ImportOut,
)
def import_memberships(course: str, instance: str, body: CsvIn, c: Caller = CALLER) -> Any:
    """Add the memberships of a CSV file (``uid,section``), all or nothing: every bad line is
    listed in ``errors`` (line, column, message). It adds, never removes; importing the same
    file again changes nothing."""
    ci = find_course_instance(c.ctx, course, instance)
    return every_problem(
        c, lambda: import_out(S.import_section_memberships(c.ctx, ci.id, body.csv))
    )


# -- the roster and enrollments ---------------------------------------------------------------


@routes.get(
    CI + "/enrollments",
    policy=needs("vst", why="view the roster"),
    response_model=list[EnrollmentOut],
)
def roster(
    course: str,
    instance: str,
    status: Annotated[Status | None, Query()] = None,
    section: str | None = Query(None, max_length=200),
    c: Caller = CALLER,
) -> list[EnrollmentOut]:
    """Every invited, joined or blocked user, by uid, with full name, email, sections."""
    ci = find_course_instance(c.ctx, course, instance)
    return [
        enrollment_out(line)
        for line in V.list_roster(c.ctx, ci.id)
        if (status is None or line.status == status)
        and (section is None or section in line.sections)
    ]


@routes.post(
    CI + "/enrollments",
    policy=needs("men", why="enroll students"),
    response_model=EnrollmentOut,
)
def enroll(course: str, instance: str, body: UidReason, c: Caller = CALLER) -> EnrollmentOut:
    """Enroll a user directly (joined, with the Student role). Enrolling someone already
    joined changes nothing; a blocked user must be unblocked first."""
    ci = find_course_instance(c.ctx, course, instance)
    return enrollment_out(
        V.roster_line(c.ctx, E.enroll(c.ctx, ci.id, body.uid, reason=body.reason))
    )


@routes.post(
    CI + "/invitations",
    policy=needs("men", why="invite students"),
    response_model=EnrollmentOut,
)
def invite(course: str, instance: str, body: UidReason, c: Caller = CALLER) -> EnrollmentOut:
    """Invite a user of any institution; they accept with ``POST .../invitation/accept``."""
    ci = find_course_instance(c.ctx, course, instance)
    return enrollment_out(
        V.roster_line(c.ctx, E.invite(c.ctx, ci.id, body.uid, reason=body.reason))
    )


@routes.post(
    CI + "/enrollments/{uid}/block",
    policy=needs("men", why="block students"),
    response_model=EnrollmentOut,
)
def block(
    course: str, instance: str, uid: str, body: EnrollmentReason, c: Caller = CALLER
) -> EnrollmentOut:
    """Block a user (enrolled or not): their Student role ends now and they may not enroll
    themselves again."""
    ci = find_course_instance(c.ctx, course, instance)
    return enrollment_out(V.roster_line(c.ctx, E.block(c.ctx, ci.id, uid, reason=body.reason)))


@routes.post(
    CI + "/enrollments/{uid}/unblock",
    policy=needs("men", why="unblock students"),
    response_model=EnrollmentOut,
)
def unblock(
    course: str, instance: str, uid: str, body: EnrollmentReason, c: Caller = CALLER
) -> EnrollmentOut:
    """Lift a block: someone who had joined is joined again; anyone else is ``removed`` (free
    to enroll or be invited)."""
    ci = find_course_instance(c.ctx, course, instance)
    return enrollment_out(V.roster_line(c.ctx, E.unblock(c.ctx, ci.id, uid, reason=body.reason)))


@routes.post(
    CI + "/invitation/accept",
    policy=signed_in("a user accepts their own invitation"),
    response_model=EnrollmentOut,
)
def accept_invitation(course: str, instance: str, c: Caller = CALLER) -> EnrollmentOut:
    """Accept one's invitation: joined, with the Student role."""
    ci = find_course_instance(c.ctx, course, instance)
    return enrollment_out(V.roster_line(c.ctx, E.join_invitation(c.ctx, ci.id)))


@routes.post(
    CI + "/self-enrollment",
    policy=signed_in("a user enrolls themselves; the decision core says whether they may"),
    response_model=EnrollmentOut,
)
def self_enroll(
    course: str, instance: str, body: SelfEnrollIn | None = None, c: Caller = CALLER
) -> EnrollmentOut:
    """Enroll oneself (or accept one's invitation), with the code when the course instance asks
    for one. Refusals say why: turned off, closed since a date, another institution, a missing
    or wrong code (field ``code``), blocked."""
    ci = find_course_instance(c.ctx, course, instance)
    code = body.code if body is not None else None
    return enrollment_out(V.roster_line(c.ctx, E.self_enroll(c.ctx, ci.id, code=code)))


@routes.get(
    CI + "/enrollment-code",
    policy=needs("men", why="manage enrollment", secret=True),
    response_model=CodeOut,
)
def get_code(course: str, instance: str, c: Caller = CALLER) -> CodeOut:
    """The code students give to enroll themselves (when ``selfEnrollment`` asks for one)."""
    ci = find_course_instance(c.ctx, course, instance)
    return CodeOut(code=E.enrollment_code(c.ctx, ci.id))


@routes.put(
    CI + "/enrollment-code",
    policy=needs("men", why="manage enrollment"),
    response_model=CodeOut,
)
def set_code(course: str, instance: str, body: CodeIn | None = None, c: Caller = CALLER) -> CodeOut:
    """Set the enrollment code, or rotate it (no code given: a new random one). The old code
    stops working at once."""
    ci = find_course_instance(c.ctx, course, instance)
    code = body.code if body is not None else None
    return CodeOut(code=E.set_enrollment_code(c.ctx, ci.id, code))
