"""Stems, generating accounts, and assigning them: credentials, alias, the Student (or TA)
role, the outbox, and the limits of class accounts."""

from __future__ import annotations

import pytest
from accounts_support import (
    ADMIN,
    ANA,
    INSTRUCTOR,
    OTHER,
    TA,
    AccWorld,
    attachment,
    password_in,
)
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func, select, update

from coursegate.cli import demo_world as demo
from coursegate.services.accounts import common, rules, service
from coursegate.services.accounts.credentials import CertificateAuthority
from coursegate.services.common.errors import Conflict, Invalid, Refused
from coursegate.services.common.places import find_course_instance, instance_area
from coursegate.services.courses import enrollment
from coursegate.services.people import grants as roles
from coursegate.services.people import signin
from coursegate.services.people.users import correct_email as users_correct_email
from coursegate.store.models import (
    AccountEvent,
    AccountKey,
    ClassAccount,
    Credential,
    EmailAlias,
    Enrollment,
    HistoryEntry,
    RoleAssignmentRow,
    User,
)

# -- stems ------------------------------------------------------------------------------------


def test_an_administrator_sets_a_stem_once_and_it_is_never_reused(world: AccWorld) -> None:
    info = world.run(ADMIN, lambda c: service.set_stem(c, demo.COURSE, "SC558"))
    assert info.stem == "sc558" and info.generated == 0 and info.room == 676
    again = world.run(ADMIN, lambda c: service.set_stem(c, demo.COURSE, "sc558"))
    assert again.stem == "sc558"  # the same course again: nothing changes
    world.sys(lambda c: c.session.add(_course(c, "CS 200")))
    with pytest.raises(Conflict, match="sc558 is the stem of CG 101; stems are never reused"):
        world.sys(lambda c: service.set_stem(c, "CS 200", "sc558"))
    with pytest.raises(Invalid, match=r"stem: .*lower-case letters and digits"):
        world.sys(lambda c: service.set_stem(c, demo.COURSE, "sc-5"))
    history = world.sys(
        lambda c: c.session.scalars(
            select(HistoryEntry).where(HistoryEntry.action == "accounts.stem")
        ).all()
    )
    assert [(h.actor, h.details["stem"]) for h in history] == [(ADMIN, "sc558")]


def _course(c: object, name: str) -> object:
    from coursegate.store.models import Course

    return Course(name=name, timezone="America/Chicago", institution="Example University")


@pytest.mark.parametrize("actor", [INSTRUCTOR, TA, OTHER, ANA])
def test_only_administrators_set_stems_and_generate(world: AccWorld, actor: str) -> None:
    with pytest.raises(Refused, match="“manage accounts and sign-in”"):
        world.run(actor, lambda c: service.set_stem(c, demo.COURSE, "sc558"))
    world.stem()
    with pytest.raises(Refused, match="“manage accounts and sign-in”"):
        world.run(actor, lambda c: service.generate(c, world.site.issuer(), demo.COURSE, 3))


def test_a_stem_that_would_clash_with_existing_users_is_refused(world: AccWorld) -> None:
    world.sys(
        lambda c: c.session.add(
            User(uid="ab12cd", domain_id=ca_domain(c), created_at=world.at, email="x@y.edu")
        )
    )
    with pytest.raises(Conflict, match="ab12cd"):
        world.sys(lambda c: service.set_stem(c, demo.COURSE, "ab12"))


def ca_domain(c: object) -> int:
    from coursegate.store.models import Domain

    session = c.session  # type: ignore[attr-defined]
    return int(session.scalars(select(Domain.id)).first())


# -- generating -------------------------------------------------------------------------------


def test_pregenerated_accounts_are_in_the_state_of_a_wiped_one(world: AccWorld) -> None:
    world.stem()
    report = world.run(ADMIN, lambda c: service.generate(c, world.site.issuer(), demo.COURSE, 3))
    assert report.accounts == ["sc558aa", "sc558ab", "sc558ac"]

    def state(c: object) -> list[tuple[object, ...]]:
        s = c.session  # type: ignore[attr-defined]
        out = []
        for uid in report.accounts:
            u = s.scalars(select(User).where(User.uid == uid)).one()
            row = s.get(ClassAccount, u.id)
            cred = s.get(Credential, u.id)
            keys = s.scalars(
                select(AccountKey.kind).where(
                    AccountKey.user_id == u.id, AccountKey.revoked_at.is_(None)
                )
            ).all()
            roles_held = s.scalar(select(func.count()).where(RoleAssignmentRow.user_id == u.id))
            aliases = s.scalar(select(func.count()).where(EmailAlias.user_id == u.id))
            out.append(
                (
                    u.email,
                    u.status,
                    u.class_account,
                    row.state,
                    row.role,
                    row.course_instance_id,
                    cred.password_hash.startswith("!randomised:"),
                    sorted(keys),
                    roles_held,
                    aliases,
                )
            )
        return out

    assert world.sys(state) == [
        (f"{uid}@unassigned.invalid", "locked", True, "free", "", None, True, ["cert", "ssh"], 0, 0)
        for uid in report.accounts
    ]
    # Locked and with no usable password: nobody signs in to a free account.
    outcome = world.sys(lambda c: signin.sign_in(c, "sc558aa", "anything-at-all"))
    assert outcome.error is not None
    # The next generation continues in order.
    more = world.sys(lambda c: service.generate(c, world.site.issuer(), demo.COURSE, 2))
    assert more.accounts == ["sc558ad", "sc558ae"]
    events = world.sys(lambda c: c.session.scalars(select(AccountEvent.kind)).all())
    assert events == ["generated"] * 5


def test_generation_stops_at_676_per_stem_and_says_so(world: AccWorld) -> None:
    world.stem("zz9")
    world.sys(lambda c: service.generate(c, world.site.issuer(), demo.COURSE, 670))
    with pytest.raises(Invalid, match=r"needs 7 new accounts but its stems have room for 6"):
        world.sys(lambda c: service.generate(c, world.site.issuer(), demo.COURSE, 7))
    last = world.sys(lambda c: service.generate(c, world.site.issuer(), demo.COURSE, 6))
    assert last.accounts[-1] == "zz9zz"
    # Every account in use (here: all of them held by a wipe): the pool is empty, the stem full.
    world.sys(lambda c: c.session.execute(update(ClassAccount).values(state="wiping")))
    with pytest.raises(Invalid, match=r"zz9 \(zz9aa..zz9zz\) is full; an administrator gives"):
        world.assign("one.more@school.edu")
    world.stem("zz8")  # a second stem for the course
    assert [a.account for a in world.assign("one.more@school.edu").assigned] == ["zz8aa"]


# -- assigning --------------------------------------------------------------------------------


def test_assigning_gives_each_address_an_account_with_everything(world: AccWorld) -> None:
    world.stem()
    report = world.assign("Amy Ames <amy@school.edu>\nbob@school.edu, Bob Bell\n\n# a note\n")
    assert [(a.line, a.account, a.email, a.name) for a in report.assigned] == [
        (1, "sc558aa", "amy@school.edu", "Amy Ames"),
        (2, "sc558ab", "bob@school.edu", "Bob Bell"),
    ]
    assert report.generated == ["sc558aa", "sc558ab"]
    ci = world.ci_id()

    def facts(c: object) -> dict[str, object]:
        s = c.session  # type: ignore[attr-defined]
        u = s.scalars(select(User).where(User.uid == "sc558aa")).one()
        enr = s.scalars(select(Enrollment).where(Enrollment.user_id == u.id)).one()
        held = s.scalars(select(RoleAssignmentRow).where(RoleAssignmentRow.user_id == u.id)).all()
        return {
            "email": u.email,
            "status": u.status,
            "class_of": u.class_course_instance_id,
            "enrollment": (enr.course_instance_id, enr.status),
            "roles": [(r.role, r.area, r.end_at) for r in held],
            "forward": common.forward_address(c, "sc558aa@users.example.edu"),  # type: ignore[arg-type]
        }

    area = world.sys(lambda c: instance_area(find_course_instance(c, demo.COURSE, "Sp24")).path)
    assert world.sys(facts) == {
        "email": "amy@school.edu",
        "status": "active",
        "class_of": ci,
        "enrollment": (ci, "joined"),
        "roles": [("st", area, None)],
        "forward": "amy@school.edu",
    }
    # The credentials went to the student: password, SSH key pair, certificate and its key.
    [msg] = world.mail_to("amy@school.edu")
    assert msg["Subject"] == "Your class account for CG 101 Sp24: sc558aa"
    assert msg["X-Coursegate-Account"] == "sc558aa"
    password = password_in(msg)
    assert world.sys(lambda c: signin.sign_in(c, "sc558aa", password)).error is None
    assert world.sys(lambda c: signin.sign_in(c, "amy@school.edu", password)).error is not None
    private = serialization.load_ssh_private_key(attachment(msg, "sc558aa_ed25519").encode(), None)
    public = attachment(msg, "sc558aa_ed25519.pub").split()
    assert private.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode() == " ".join(public[:2])
    cert = x509.load_pem_x509_certificate(attachment(msg, "sc558aa.pem").encode())
    key = serialization.load_pem_private_key(attachment(msg, "sc558aa.key.pem").encode(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert cert.public_key() == key.public_key()
    assert cert.subject.rfc4514_string().startswith("OU=class accounts,CN=sc558aa")
    ca = CertificateAuthority.from_pem((world.site.ca_dir / "ca.pem").read_bytes())
    cert.verify_directly_issued_by(ca.cert)
    # Only public halves are stored.
    stored = world.sys(
        lambda c: c.session.scalars(
            select(AccountKey.public)
            .join(User, User.id == AccountKey.user_id)
            .where(User.uid == "sc558aa", AccountKey.revoked_at.is_(None))
        ).all()
    )
    assert all("PRIVATE" not in p for p in stored) and len(stored) == 2
    actions = world.sys(
        lambda c: c.session.scalars(
            select(HistoryEntry.actor).where(HistoryEntry.action == "accounts.assign")
        ).all()
    )
    assert actions == [INSTRUCTOR, INSTRUCTOR]


def test_an_address_that_already_holds_an_account_is_reported_not_duplicated(
    world: AccWorld,
) -> None:
    world.stem()
    world.assign("amy@school.edu")
    again = world.assign("carl@school.edu\namy@school.edu\nsc558aa@users.example.edu")
    assert [a.account for a in again.assigned] == ["sc558ab"]
    assert again.already == [
        (2, "amy@school.edu", "sc558aa (CG 101 Sp24)"),
        (3, "sc558aa@users.example.edu", "sc558aa (CG 101 Sp24)"),
    ]
    assert (
        "amy@school.edu already holds sc558aa (CG 101 Sp24); not assigned again" in again.render()
    )
    total = world.sys(lambda c: c.session.scalar(select(func.count()).select_from(ClassAccount)))
    assert total == 2


def test_bad_lines_are_all_named_and_nothing_is_assigned(world: AccWorld) -> None:
    world.stem()
    with pytest.raises(Invalid) as raised:
        world.assign("ok@school.edu\nnot an address\nok@school.edu\nx@unassigned.invalid")
    message = raised.value.message
    assert "line 2: 'not an address' is not an email address" in message
    assert "line 3: ok@school.edu repeats line 1" in message
    assert "line 4: x@unassigned.invalid is the placeholder" in message
    assert "nothing was written" in message
    assert world.accounts() == {}
    with pytest.raises(Invalid, match="no addresses"):
        world.assign("\n# nobody\n")


def test_a_csv_with_names(world: AccWorld) -> None:
    world.stem()
    report = world.assign("name,email\nAmy Ames,amy@school.edu\n,bob@school.edu\n", csv=True)
    assert [(a.line, a.account, a.name) for a in report.assigned] == [
        (2, "sc558aa", "Amy Ames"),
        (3, "sc558ab", "bob@school.edu"),
    ]
    with pytest.raises(Invalid, match="line 1: header: the column 'email' is missing"):
        world.assign("name\nAmy\n", csv=True)


def test_the_pool_is_used_first_in_order_then_more_are_generated(world: AccWorld) -> None:
    world.stem()
    world.sys(lambda c: service.generate(c, world.site.issuer(), demo.COURSE, 2))
    report = world.assign("a@school.edu\nb@school.edu\nc@school.edu")
    assert [a.account for a in report.assigned] == ["sc558aa", "sc558ab", "sc558ac"]
    assert report.generated == ["sc558ac"]


def test_one_address_for_a_person_in_two_courses(world: AccWorld) -> None:
    """ana has her own account (ana@example.edu); her class account's mail follows it, and
    correcting her address once moves both — the seed's defect, fixed."""
    world.stem()
    report = world.assign(ANA)
    [line] = report.assigned
    assert line.mail_follows == ANA
    alias = "sc558aa@users.example.edu"
    assert world.sys(lambda c: common.forward_address(c, alias)) == ANA
    assert world.accounts()["sc558aa"].email == ANA
    world.sys(lambda c: users_correct_email(c, ANA, "ana.alvarez@example.edu"))
    assert world.sys(lambda c: common.forward_address(c, alias)) == "ana.alvarez@example.edu"
    assert world.accounts()["sc558aa"].email == "ana.alvarez@example.edu"
    # The credentials went to her one address.
    assert len(world.mail_to(ANA)) == 1
    # Giving the class account an address of its own (the users service) takes effect too.
    world.sys(lambda c: users_correct_email(c, "sc558aa", "ana.class@example.edu"))
    assert world.sys(lambda c: common.forward_address(c, alias)) == "ana.class@example.edu"
    assert world.accounts()["sc558aa"].email == "ana.class@example.edu"


def test_correcting_the_email_keeps_the_alias_working(world: AccWorld) -> None:
    world.stem()
    world.assign("amy@shcool.edu")  # a typo
    done = world.run(TA, lambda c: service.correct_email(c, "sc558aa", "Amy@School.edu"))
    assert done.changed and done.mail_to == "amy@school.edu"
    assert (
        world.sys(lambda c: common.forward_address(c, "sc558aa@users.example.edu"))
        == "amy@school.edu"
    )
    # The users service's own correction works on class accounts too (one authoritative value).
    world.sys(lambda c: users_correct_email(c, "sc558aa", "amy.ames@school.edu"))
    assert world.accounts()["sc558aa"].email == "amy.ames@school.edu"
    entries = world.sys(
        lambda c: [
            (h.actor, h.details["old"], h.details["new"])
            for h in c.session.scalars(
                select(HistoryEntry).where(HistoryEntry.action == "user.email")
            )
        ]
    )
    assert entries == [
        (TA, "amy@shcool.edu", "amy@school.edu"),
        ("system", "amy@school.edu", "amy.ames@school.edu"),
    ]
    with pytest.raises(Invalid, match="forwarding alias"):
        world.run(TA, lambda c: service.correct_email(c, "sc558aa", "sc558aa@users.example.edu"))


def test_a_correction_to_another_users_address_follows_that_user(world: AccWorld) -> None:
    world.stem()
    world.assign("amy@school.edu")
    world.run(INSTRUCTOR, lambda c: service.correct_email(c, "sc558aa", ANA))
    assert world.sys(lambda c: common.forward_address(c, "sc558aa@users.example.edu")) == ANA
    world.run(INSTRUCTOR, lambda c: service.correct_email(c, "sc558aa", "amy@school.edu"))
    assert (
        world.sys(lambda c: common.forward_address(c, "sc558aa@users.example.edu"))
        == "amy@school.edu"
    )


def test_tas_are_assigned_with_the_ta_role(world: AccWorld) -> None:
    world.stem()
    report = world.assign("tia@school.edu", role="ta")
    [line] = report.assigned
    area = world.sys(lambda c: instance_area(find_course_instance(c, demo.COURSE, "Sp24")).path)
    held = world.sys(
        lambda c: [
            (r.role, r.area)
            for r in c.session.scalars(
                select(RoleAssignmentRow)
                .join(User, User.id == RoleAssignmentRow.user_id)
                .where(User.uid == line.account)
            )
        ]
    )
    assert held == [("ta", area)]
    assert world.accounts()[line.account].role == "ta"
    # Granting TAs needs cta: a TA may not assign TAs (nor students: men).
    with pytest.raises(Refused):
        world.assign("tom@school.edu", role="ta", actor=TA)
    with pytest.raises(Refused, match="men"):
        world.assign("tom@school.edu", actor=TA)


@pytest.mark.parametrize("actor", [TA, OTHER, ANA])
def test_only_the_course_instructors_and_administrators_assign(world: AccWorld, actor: str) -> None:
    world.stem()
    with pytest.raises(Refused):
        world.assign("x@school.edu", actor=actor)
    assert world.assign("x@school.edu", actor=ADMIN).assigned


def test_no_stem_no_assignment(world: AccWorld) -> None:
    with pytest.raises(Invalid, match="CG 101 has no account stem yet"):
        world.assign("x@school.edu")


# -- the limits of class accounts -------------------------------------------------------------


def test_class_accounts_join_no_other_course_and_hold_no_other_role(world: AccWorld) -> None:
    world.stem()
    world.assign("amy@school.edu")
    fa14 = world.ci_id("Fa14")
    with pytest.raises(Refused, match="only in its own course"):
        world.sys(lambda c: enrollment.enroll(c, fa14, "sc558aa"))
    with pytest.raises(Refused, match="only in its own course"):
        world.sys(lambda c: enrollment.invite(c, fa14, "sc558aa"))
    with pytest.raises(Refused, match="only in its own course"):
        world.run("sc558aa", lambda c: enrollment.self_enroll(c, fa14))
    area = world.sys(lambda c: instance_area(find_course_instance(c, demo.COURSE, "Sp24")).path)
    with pytest.raises(Invalid, match="class accounts may hold only the Student"):
        world.sys(lambda c: roles.grant_role(c, "sc558aa", "ta", area))
    with pytest.raises(Refused, match="class accounts may hold only the Student"):
        world.run(INSTRUCTOR, lambda c: roles.grant_role(c, "sc558aa", "ta", area))
    other = world.sys(lambda c: instance_area(find_course_instance(c, demo.COURSE, "Fa14")).path)
    with pytest.raises((Invalid, Refused), match="only in its own course"):
        world.sys(lambda c: roles.grant_role(c, "sc558aa", "st", other))
    # A free account belongs to no course: it may hold no role at all.
    world.sys(lambda c: service.generate(c, world.site.issuer(), demo.COURSE, 1))
    with pytest.raises(Invalid, match="sc558ab is an unassigned class account of CG 101"):
        world.sys(lambda c: roles.grant_role(c, "sc558ab", "st", area))


def test_the_roles_core_loads_a_recycled_accounts_history_and_gives_it_nothing() -> None:
    """Issue 13, finding 7, at its cause: the roles core refused to load a class account whose
    records it may not hold now (a recycled account's ended Student role, an earlier term's
    role of an account reassigned later), so every check naming it crashed. The records load;
    the limits decide what an account may be granted, and records breaking them give nothing."""
    from datetime import UTC, datetime

    from coursegate.roles import Area, RoleAssignment, RoleIndex
    from coursegate.roles import User as RoleUser

    sp24, fa24 = Area.parse("/msu/cg101.Sp24"), Area.parse("/msu/cg101.Fa24")
    jan, may, now = (datetime(2024, m, 1, tzinfo=UTC) for m in (1, 5, 9))
    index = RoleIndex(
        users=[
            RoleUser("cg101aa", "msu", class_account=True),  # recycled: free
            RoleUser("cg101ab", "msu", class_account=True, class_course=fa24),  # next term
        ],
        assignments=[
            RoleAssignment("cg101aa", "st", sp24, start=jan, end=may),
            RoleAssignment("cg101ab", "st", sp24, start=jan, end=may),
            RoleAssignment("cg101ab", "st", fa24, start=may),
            RoleAssignment("cg101aa", "ta", sp24, start=jan),  # a stray live record
        ],
    )
    assert len(index.assignments_of("cg101aa")) == 2  # the history is kept
    assert index.current_assignments("cg101aa", now) == ()
    assert [a.area for a in index.current_assignments("cg101ab", now)] == [fa24]
    stray = index.allowed("cg101aa", "vst", sp24, at=now)
    assert not stray.granted
    assert "counts for nothing" in " ".join(stray.explanation)
    assert "belongs to no course" in " ".join(stray.explanation)
    assert index.allowed("cg101ab", "bre", fa24, at=now).granted
    assert not index.allowed("cg101ab", "bre", sp24, at=datetime(2024, 2, 1, tzinfo=UTC)).granted
    problem = index.assignment_problem(RoleAssignment("cg101aa", "st", sp24, start=now))
    assert problem is not None and "belongs to no course" in problem[1]


def test_the_account_record_matches_the_issue(world: AccWorld) -> None:
    """Enrollment count stays one per student (no duplicate enrollment rows)."""
    world.stem()
    world.students(3)
    world.students(3)  # the same addresses again: nothing new
    count = world.sys(
        lambda c: c.session.scalar(
            select(func.count())
            .select_from(Enrollment)
            .join(User, User.id == Enrollment.user_id)
            .where(User.uid.like("sc558%"))
        )
    )
    assert count == 3
    assert rules.PER_STEM == 676
