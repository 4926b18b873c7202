"""What instructors and TAs do over their class accounts: list, reset the password or keys,
resend credentials, freeze and thaw, incompletes, locks — and who may act over whom."""

from __future__ import annotations

import pytest
from accounts_support import ADMIN, INSTRUCTOR, OTHER, TA, AccWorld, password_in
from sqlalchemy import select

from coursegate.roles import view_as
from coursegate.services.accounts import service
from coursegate.services.common.authz import index_for
from coursegate.services.common.errors import Invalid, NotFound, Refused
from coursegate.services.common.places import find_course_instance, instance_area
from coursegate.services.people import signin
from coursegate.store.models import AccountKey, ApiToken, Credential, User, WebSession


@pytest.fixture
def two(world: AccWorld) -> AccWorld:
    """sc558aa and sc558ab are students of CG 101 Sp24, sc558ac a TA's account."""
    world.stem()
    world.students(2)
    world.assign("tia@school.edu", role="ta")
    world.messages()
    return world


def _sign_in(world: AccWorld, uid: str, password: str) -> str | None:
    outcome = world.sys(lambda c: signin.sign_in(c, uid, password))
    return None if outcome.error is None else outcome.error.message


def test_staff_list_their_class_accounts(two: AccWorld) -> None:
    ci = two.ci_id()
    lines = two.run(TA, lambda c: service.list_accounts(c, two.site, "CG 101", ci))
    assert [(x.account, x.role, x.email, x.status) for x in lines] == [
        ("sc558aa", "st", "student0@school.edu", "active"),
        ("sc558ab", "st", "student1@school.edu", "active"),
        ("sc558ac", "ta", "tia@school.edu", "active"),
    ]
    with pytest.raises(Refused):
        two.run(OTHER, lambda c: service.list_accounts(c, two.site, "CG 101", ci))
    with pytest.raises(Refused, match="“manage accounts and sign-in”"):
        two.run(INSTRUCTOR, lambda c: service.list_accounts(c, two.site, "CG 101", None))
    assert len(two.run(ADMIN, lambda c: service.list_accounts(c, two.site, "CG 101", None))) == 3


def test_reset_password_mails_a_new_one_and_ends_sessions(two: AccWorld) -> None:
    [first] = two.mail_to("student0@school.edu")
    old = password_in(first)
    assert _sign_in(two, "sc558aa", old) is None
    done = two.run(TA, lambda c: service.reset_password(c, two.site, "sc558aa"))
    assert done.changed and done.mail_to == "student0@school.edu"
    second = two.mail_to("student0@school.edu")[-1]
    new = password_in(second)
    assert new != old
    assert _sign_in(two, "sc558aa", old) is not None
    assert _sign_in(two, "sc558aa", new) is None
    live = two.sys(
        lambda c: c.session.scalars(
            select(WebSession)
            .join(User, User.id == WebSession.user_id)
            .where(User.uid == "sc558aa", WebSession.revoked_at.is_(None))
        ).all()
    )
    assert len(live) == 1  # only the sign-in after the reset


def test_the_first_sign_in_upgrades_the_light_hash(two: AccWorld) -> None:
    password = password_in(two.mail_to("student0@school.edu")[0])

    def stored(c: object) -> str:
        s = c.session  # type: ignore[attr-defined]
        user = s.scalars(select(User).where(User.uid == "sc558aa")).one()
        return str(s.get(Credential, user.id).password_hash)

    assert "m=4096,t=1,p=1" in two.sys(stored)
    assert _sign_in(two, "sc558aa", password) is None
    assert "m=4096,t=1,p=1" not in two.sys(stored)
    assert _sign_in(two, "sc558aa", password) is None


def test_reset_keys_flushes_and_mails_new_ones(two: AccWorld) -> None:
    def live(c: object) -> list[str]:
        s = c.session  # type: ignore[attr-defined]
        return list(
            s.scalars(
                select(AccountKey.fingerprint)
                .join(User, User.id == AccountKey.user_id)
                .where(User.uid == "sc558ab", AccountKey.revoked_at.is_(None))
            )
        )

    before = set(two.sys(live))
    done = two.run(
        INSTRUCTOR, lambda c: service.reset_keys(c, two.site, two.site.issuer(), "sc558ab")
    )
    assert "2 key(s) flushed" in done.message
    after = set(two.sys(live))
    assert len(after) == 2 and not before & after
    msg = two.mail_to("student1@school.edu")[-1]
    assert "sc558ab_ed25519" in [p.get_filename() for p in msg.iter_attachments()]
    assert "password:" not in msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


def test_resend_issues_everything_anew(two: AccWorld) -> None:
    old = password_in(two.mail_to("student1@school.edu")[0])
    two.run(TA, lambda c: service.resend_credentials(c, two.site, two.site.issuer(), "sc558ab"))
    msg = two.mail_to("student1@school.edu")[-1]
    assert msg["Subject"] == "Your class account for CG 101 Sp24: sc558ab"
    new = password_in(msg)
    assert _sign_in(two, "sc558ab", new) is None
    assert _sign_in(two, "sc558ab", old) is not None


def test_freeze_and_thaw(two: AccWorld) -> None:
    password = password_in(two.mail_to("student0@school.edu")[0])
    two.sys(
        lambda c: signin.create_token(c.__class__(c.session, "sc558aa", c.at), "script", ["read"])
    )
    done = two.run(TA, lambda c: service.freeze(c, "sc558aa", reason="shared the password"))
    assert done.message == "sc558aa: active -> frozen"
    assert "frozen" in (_sign_in(two, "sc558aa", password) or "")
    revoked = two.sys(lambda c: c.session.scalars(select(ApiToken.revoked_at)).all())
    assert revoked and all(r is not None for r in revoked)
    again = two.run(TA, lambda c: service.freeze(c, "sc558aa"))
    assert not again.changed
    two.run(TA, lambda c: service.thaw(c, "sc558aa"))
    assert _sign_in(two, "sc558aa", password) is None


def test_failed_sign_ins_never_freeze_and_staff_thaw_the_courses_freeze(two: AccWorld) -> None:
    password = password_in(two.mail_to("student0@school.edu")[0])
    for _ in range(3):  # the free failures of the throttle: others' guesses change nothing
        assert _sign_in(two, "sc558aa", "wrong-password") == "wrong user id or password"
    assert two.accounts()["sc558aa"].status == "active"
    assert _sign_in(two, "sc558aa", password) is None
    # The course's own class account: its staff freeze and thaw it (DeterLab).
    two.run(INSTRUCTOR, lambda c: service.freeze(c, "sc558aa"))
    assert "frozen" in (_sign_in(two, "sc558aa", password) or "")
    assert _sign_in(two, "sc558aa", "wrong-password") == "wrong user id or password"
    two.run(TA, lambda c: service.thaw(c, "sc558aa"))
    assert _sign_in(two, "sc558aa", password) is None


def test_tas_act_over_students_only_instructors_over_tas_too(two: AccWorld) -> None:
    with pytest.raises(Refused, match="a TA acts over the course's students only"):
        two.run(TA, lambda c: service.reset_password(c, two.site, "sc558ac"))
    with pytest.raises(Refused, match="a TA acts over the course's students only"):
        two.run(TA, lambda c: service.freeze(c, "sc558ac"))
    assert two.run(INSTRUCTOR, lambda c: service.freeze(c, "sc558ac")).changed
    assert two.run(ADMIN, lambda c: service.thaw(c, "sc558ac")).changed
    # The TA's own account (a pool account with the TA role) acts over students, not the reverse.
    assert two.run("sc558ac", lambda c: service.freeze(c, "sc558aa")).changed
    with pytest.raises(Refused):
        two.run("sc558aa", lambda c: service.freeze(c, "sc558ac"))
    with pytest.raises(Refused):
        two.run(OTHER, lambda c: service.freeze(c, "sc558aa"))


def test_an_account_of_another_course_instance_is_not_found_there(two: AccWorld) -> None:
    fa14 = two.ci_id("Fa14")
    with pytest.raises(NotFound, match="no class account 'sc558aa' in CG 101 Fa14"):
        two.run(OTHER, lambda c: service.freeze(c, "sc558aa", course_instance_id=fa14))


def test_staff_view_as_a_class_account(two: AccWorld) -> None:
    def may(real: str, target: str) -> bool:
        def ask(c: object) -> bool:
            ci = find_course_instance(c, "CG 101", "Sp24")  # type: ignore[arg-type]
            index = index_for(c, [real, target])  # type: ignore[arg-type]
            at = c.at_datetime  # type: ignore[attr-defined]
            return view_as(index, real, target, instance_area(ci), at=at).ok

        return two.sys(ask)

    assert may(TA, "sc558aa")
    assert may(INSTRUCTOR, "sc558ac")
    assert not may(TA, "sc558ac")
    assert not may("sc558aa", "sc558ab")


def test_incomplete_grant_and_withdraw(two: AccWorld) -> None:
    done = two.run(TA, lambda c: service.set_incomplete(c, "sc558aa", reason="illness"))
    assert done.message == "sc558aa: incomplete granted"
    assert two.accounts()["sc558aa"].incomplete
    assert not two.run(TA, lambda c: service.set_incomplete(c, "sc558aa")).changed
    with pytest.raises(Invalid, match="incompletes are for students"):
        two.run(INSTRUCTOR, lambda c: service.set_incomplete(c, "sc558ac"))
    two.run(TA, lambda c: service.set_incomplete(c, "sc558aa", granted=False))
    assert not two.accounts()["sc558aa"].incomplete


def test_locks_by_hand(two: AccWorld) -> None:
    ci = two.ci_id()
    password = password_in(two.mail_to("student1@school.edu")[0])
    with pytest.raises(Refused, match="men"):
        two.run(TA, lambda c: service.lock_accounts(c, ci))
    done = two.run(INSTRUCTOR, lambda c: service.lock_accounts(c, ci, reason="exam week"))
    assert [(d.account, d.changed) for d in done] == [("sc558aa", True), ("sc558ab", True)]
    assert "locked" in (_sign_in(two, "sc558ab", password) or "")
    assert two.accounts()["sc558ac"].status == "active"  # the TA's account is not a student's
    with pytest.raises(Invalid, match="locked"):
        two.run(TA, lambda c: service.thaw(c, "sc558ab"))
    again = two.run(INSTRUCTOR, lambda c: service.lock_accounts(c, ci))
    assert not any(d.changed for d in again)
    two.run(INSTRUCTOR, lambda c: service.lock_accounts(c, ci, ["sc558ab"], unlock=True))
    assert _sign_in(two, "sc558ab", password) is None
    assert two.accounts()["sc558aa"].status == "locked"


def test_actions_on_a_free_account_say_so(two: AccWorld) -> None:
    two.sys(lambda c: service.generate(c, two.site.issuer(), "CG 101", 1))
    with pytest.raises(Invalid, match="not assigned to anyone"):
        two.sys(lambda c: service.reset_password(c, two.site, "sc558ad"))
    with pytest.raises(NotFound, match=r"no class account 'ta@example\.edu'"):
        two.sys(lambda c: service.reset_password(c, two.site, "ta@example.edu"))


def test_staff_register_public_keys(two: AccWorld) -> None:
    from coursegate.services.accounts.credentials import ssh_keypair

    line = ssh_keypair("ivy@laptop").public_line
    view = two.run(INSTRUCTOR, lambda c: service.add_public_key(c, INSTRUCTOR, line))
    assert view.fingerprint.startswith("SHA256:")
    again = two.run(INSTRUCTOR, lambda c: service.add_public_key(c, INSTRUCTOR, line))
    assert again.id == view.id
    with pytest.raises(Invalid, match="private key"):
        two.run(
            INSTRUCTOR,
            lambda c: service.add_public_key(c, INSTRUCTOR, "-----BEGIN OPENSSH PRIVATE KEY-----"),
        )
    with pytest.raises(Invalid, match="not an OpenSSH public key"):
        two.run(INSTRUCTOR, lambda c: service.add_public_key(c, INSTRUCTOR, "ssh-ed25519 AAAA"))
    with pytest.raises(Refused):
        two.run(TA, lambda c: service.add_public_key(c, INSTRUCTOR, line))
    two.run(INSTRUCTOR, lambda c: service.remove_public_key(c, INSTRUCTOR, view.id))
    assert two.run(INSTRUCTOR, lambda c: service.keys_of(c, INSTRUCTOR)) == []
