"""The demo world: the example course synced, and a user of every role with a password.

``make demo`` builds it in the embedded SQLite database and starts the server; the API and page
tests build the same world, so what a newcomer clicks through is what the tests check. Seeding
is idempotent: running it again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from coursegate.core.instants import Instant, parse_date, zone
from coursegate.services.accounts.site import Site
from coursegate.services.common.context import Ctx
from coursegate.services.common.places import (
    domain_name,
    ensure_domain,
    find_course_instance,
    instance_area,
)
from coursegate.services.courses import enrollment
from coursegate.services.courses.sections import add_to_section
from coursegate.services.courses.sync import sync_course
from coursegate.services.people import signin
from coursegate.services.people.users import create_user
from coursegate.store.models import (
    CourseInstance,
    RoleAssignmentRow,
    StudentOverride,
    User,
)

EXAMPLE_COURSE = Path(__file__).resolve().parents[3] / "examples" / "course"
COURSE = "CG 101"
INSTANCE = "Sp24"
OTHER_INSTANCE = "Fa14"
DOMAIN = "exampleuniversity"
DEMO_AT = "2024-01-24T20:00:00"
"""When the demo's clock starts (wall time in America/Chicago): the evening before homework 1's
early deadline, so every kind of decision is visible."""


@dataclass(frozen=True)
class DemoUser:
    uid: str
    name: str
    password: str
    role: str
    """What the person is, in words (printed by ``make demo``)."""
    sections: tuple[str, ...] = ()


ADMIN = DemoUser(
    "admin@example.edu", "Ada Admin", "admin-demo-1", "domain coordinator (dc) of the university"
)
SUPERUSER = DemoUser(
    "root@example.edu", "Sam Superuser", "superuser-demo-1", "superuser (su): the whole system"
)
INSTRUCTOR = DemoUser(
    "instructor@example.edu", "Ivy Instructor", "instructor-demo-1", "instructor of CG 101 Sp24"
)
TA = DemoUser("ta@example.edu", "Tom Assistant", "ta-demo-pass-1", "TA of CG 101 Sp24")
OTHER_INSTRUCTOR = DemoUser(
    "other@example.edu", "Olga Other", "other-demo-pass-1", "instructor of CG 101 Fa14 only"
)
STUDENTS = (
    DemoUser("ana@example.edu", "Ana Alvarez", "student-demo-1", "student, lab-a", ("lab-a",)),
    DemoUser(
        "ben@example.edu",
        "Ben Brown",
        "student-demo-2",
        "student, lab-b, extra time",
        ("lab-b", "extra-time"),
    ),
    DemoUser(
        "chloe@example.edu",
        "Chloe Chen",
        "student-demo-3",
        "student, lab-b, disability centre",
        ("lab-b", "drc"),
    ),
    DemoUser(
        "dan@example.edu",
        "Dan Diaz",
        "student-demo-4",
        "student with an extension on hw/hw2",
    ),
)
EVERYONE = (SUPERUSER, ADMIN, INSTRUCTOR, TA, OTHER_INSTRUCTOR, *STUDENTS)


def demo_instant() -> Instant:
    return parse_date(DEMO_AT, zone("America/Chicago"))[0]


STEM = "cg101"
CLASS_ACCOUNT_EMAILS = ("eve@student.example.edu", "finn@student.example.edu")
"""Two students of Sp24 who work on class accounts (cg101aa, cg101ab)."""


def seed(
    ctx: Ctx, course_dir: str | Path = EXAMPLE_COURSE, *, site: Site | None = None
) -> list[DemoUser]:
    """Sync the course and create the demo users, roles, enrollments, sections and one
    extension; with a ``site``, also the course's class-account stem and two assigned class
    accounts (their credentials go to the site's outbox once the caller delivers the mail).
    ``ctx`` is the operator's. Returns the users (with their passwords)."""
    sync_course(ctx, course_dir)
    ensure_domain(ctx, DOMAIN, "Example University")
    ci = find_course_instance(ctx, COURSE, INSTANCE)
    other = find_course_instance(ctx, COURSE, OTHER_INSTANCE)
    area = instance_area(ci).path
    for person in EVERYONE:
        user = _user(ctx, person)
        if person is SUPERUSER:
            _role(ctx, user, "su", "/")
        elif person is ADMIN:
            _role(ctx, user, "dc", f"/{domain_name(ci.course.institution)}/")
        elif person is INSTRUCTOR:
            _role(ctx, user, "in", area)
            _role(ctx, user, "cc", area)
        elif person is TA:
            _role(ctx, user, "ta", area)
        elif person is OTHER_INSTRUCTOR:
            _role(ctx, user, "in", instance_area(other).path)
        else:
            _enroll(ctx, ci, user, person.sections)
    dan = ctx.user(STUDENTS[3].uid)
    if not ctx.session.scalars(
        select(StudentOverride).where(StudentOverride.user_id == dan.id)
    ).first():
        tz = zone(ci.timezone)
        ctx.session.add(
            StudentOverride(
                course_instance_id=ci.id,
                user_id=dan.id,
                scope="assessment",
                target="hw/hw2",
                body={"due": parse_date("2024-02-10T23:59", tz)[0]},
                reason="illness (demo)",
                created_by=INSTRUCTOR.uid,
                updated_at=ctx.at,
            )
        )
    ctx.session.flush()
    if site is not None:
        _class_accounts(ctx, ci, site)
    return list(EVERYONE)


def _class_accounts(ctx: Ctx, ci: CourseInstance, site: Site) -> None:
    from coursegate.services.accounts import service as accounts

    if accounts.list_stems(ctx, COURSE):
        return
    accounts.set_stem(ctx, COURSE, STEM, reason="demo")
    entries = accounts.parse_list("\n".join(CLASS_ACCOUNT_EMAILS))
    accounts.assign(ctx, site, site.issuer(), ci.id, entries, reason="demo")
    accounts.generate(ctx, site.issuer(), COURSE, 4)


def _user(ctx: Ctx, person: DemoUser) -> User:
    found = ctx.session.scalars(select(User).where(User.uid == person.uid)).one_or_none()
    if found is None:
        found = create_user(ctx, person.uid, person.name, person.uid, domain=DOMAIN)
        signin.store_password(ctx, found, person.password)
    return found


def _role(ctx: Ctx, user: User, role: str, area: str) -> None:
    exists = ctx.session.scalars(
        select(RoleAssignmentRow).where(
            RoleAssignmentRow.user_id == user.id,
            RoleAssignmentRow.role == role,
            RoleAssignmentRow.area == area,
        )
    ).first()
    if exists is None:
        ctx.session.add(
            RoleAssignmentRow(
                user_id=user.id, role=role, area=area, created_by=ctx.actor, created_at=ctx.at
            )
        )
        ctx.session.flush()


def _enroll(ctx: Ctx, ci: CourseInstance, user: User, sections: tuple[str, ...]) -> None:
    enrollment.enroll(ctx, ci.id, user.uid, reason="demo")
    for name in sections:
        add_to_section(ctx, ci.id, user.uid, name)


def seed_demo_lms(ctx: Ctx, base_url: str) -> None:
    """Register the demo LMS (:mod:`coursegate.server.demo_lms`, served at ``/demo-lms`` of the
    demo server) as an LTI platform, linking people by email, with its course linked to the
    example course instance — unless it is registered already."""
    from sqlalchemy import select

    from coursegate.server.demo_lms import CONTEXT, PREFIX, Platform
    from coursegate.services.common.places import find_course_instance
    from coursegate.services.lti.platforms import NewPlatform, register_platform
    from coursegate.store.models import LtiContext, LtiPlatform

    lms = base_url.rstrip("/") + PREFIX
    if ctx.session.scalars(select(LtiPlatform).where(LtiPlatform.issuer == lms)).first():
        return
    platform = Platform()
    row = register_platform(
        ctx,
        NewPlatform(
            name="Demo LMS",
            issuer=lms,
            client_id=platform.client_id,
            auth_url=lms + "/auth",
            token_url=lms + "/token",
            jwks_url=lms + "/jwks",
            domain=DOMAIN,
            deployment_ids=(platform.deployment_id,),
            match_email=True,
        ),
    )
    ci = find_course_instance(ctx, COURSE, INSTANCE)
    ctx.session.add(
        LtiContext(
            platform_id=row.id,
            context_id=CONTEXT["id"],
            title=CONTEXT["title"],
            label=CONTEXT["label"],
            course_instance_id=ci.id,
            linked_by=ctx.actor,
            linked_at=ctx.at,
            created_at=ctx.at,
        )
    )
    ctx.session.flush()
