"""Email-shaped user ids are one user whatever their case: stored lower-cased, found from any
spelling, a differently cased duplicate refused; migration 0008 lower-cases the stored ids and
merges nothing (SQLite, and PostgreSQL with COURSEGATE_TEST_DATABASE_URL)."""

from __future__ import annotations

import logging

import pytest
from alembic import command
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from store_support import Store, utc
from typer.testing import CliRunner

from coursegate.core.model import canonical_uid
from coursegate.services.common.errors import Conflict
from coursegate.services.common.places import ensure_domain
from coursegate.services.people import signin
from coursegate.services.people.uids import split_uids
from coursegate.services.people.users import create_user
from coursegate.store.canonical_uids import uid_clashes
from coursegate.store.migrate import alembic_config, current, upgrade
from coursegate.store.models import Domain, User

AT = utc(2024, 1, 10, 15)
DOM = "exampleuniversity"


def test_the_canonical_form_lowercases_whole_email_ids_and_keeps_login_names() -> None:
    assert canonical_uid("  Ana@Example.EDU ") == "ana@example.edu"
    assert canonical_uid("JDoe") == "JDoe"  # a Unix/Kerberos login name keeps its case
    assert split_uids("Ana@Example.edu, ana@example.edu\nBo@x.org") == [
        "ana@example.edu",
        "bo@x.org",
    ]


@given(st.from_regex(r"[A-Za-z0-9_.+\-]{1,20}(@[A-Za-z0-9.\-]{1,20})?", fullmatch=True))
def test_the_canonical_form_is_idempotent_and_case_blind_for_emails(uid: str) -> None:
    once = canonical_uid(uid)
    assert canonical_uid(once) == once
    if "@" in uid:
        assert canonical_uid(uid.swapcase()) == once


def _domain(store: Store) -> None:
    store.system(AT, lambda c: ensure_domain(c, DOM, "Example University"))


def test_a_user_is_created_lower_case_and_signs_in_with_any_case(store: Store) -> None:
    _domain(store)
    store.system(
        AT,
        lambda c: create_user(
            c, "Ana@Example.EDU", "Ana", "ana@example.edu", domain=DOM, password="correct-horse"
        ),
    )
    with store.factory() as s:
        assert s.scalars(select(User.uid)).all() == ["ana@example.edu"]
    out = store.system(AT, lambda c: signin.sign_in(c, "ANA@example.edu", "correct-horse"))
    assert isinstance(out, signin.SignInOutcome) and out.session is not None
    assert out.session.user.uid == "ana@example.edu"


def test_the_sign_in_field_takes_the_email_of_a_user_whose_id_is_a_login_name(
    store: Store,
) -> None:
    _domain(store)
    store.system(
        AT,
        lambda c: create_user(
            c, "jdoe", "Jane", "Jane.Doe@Example.edu", domain=DOM, password="correct-horse"
        ),
    )
    out = store.system(AT, lambda c: signin.sign_in(c, "JANE.DOE@example.EDU", "correct-horse"))
    assert isinstance(out, signin.SignInOutcome) and out.session is not None
    assert out.session.user.uid == "jdoe"
    wrong = store.system(AT, lambda c: signin.sign_in(c, "jane.doe@example.edu", "wrong-horse"))
    assert isinstance(wrong, signin.SignInOutcome) and wrong.session is None
    assert store.system(AT, lambda c: signin.sign_in(c, "JDOE", "correct-horse")).session is None  # type: ignore[attr-defined]


def test_creating_a_differently_cased_existing_id_is_refused_in_words(store: Store) -> None:
    _domain(store)
    store.system(AT, lambda c: create_user(c, "ana@example.edu", "Ana", "a@x.edu", domain=DOM))
    with pytest.raises(Conflict) as caught:
        store.system(AT, lambda c: create_user(c, "Ana@Example.EDU", "Ana", "b@x.edu", domain=DOM))
    assert caught.value.field == "uid"
    assert "there is already a user 'ana@example.edu'" in caught.value.message
    assert "do not depend on upper or lower case" in caught.value.message
    with store.factory() as s:
        assert s.scalars(select(User.uid)).all() == ["ana@example.edu"]


def _rerun_0008(store: Store) -> None:
    """Take the schema back to 0007 (0008 changes no schema) and apply 0008 to the rows."""
    cfg = alembic_config(store.engine)
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0007")
    assert current(store.engine) == "0007"
    upgrade(store.engine)


def test_migration_0008_lowercases_ids_and_reports_clashes_changing_neither(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    _domain(store)

    def rows(c: object) -> None:
        s = c.session  # type: ignore[attr-defined]
        dom = s.scalars(select(Domain.id).where(Domain.name == DOM)).one()
        for i, uid in enumerate(
            ("Ana@Example.edu", "ana@example.EDU", "Bo@Example.edu", "JDoe", "cy@x.org")
        ):
            s.add(User(uid=uid, name=uid, domain_id=dom, created_at=AT, email=f"u{i}@q.io"))

    # the rows an older coursegate could hold (written directly: today's services refuse them)
    store.system(AT, rows)
    with caplog.at_level(logging.WARNING, logger="coursegate.store.canonical_uids"):
        _rerun_0008(store)
    with store.factory() as s:
        assert sorted(s.scalars(select(User.uid))) == sorted(
            ["Ana@Example.edu", "ana@example.EDU", "bo@example.edu", "JDoe", "cy@x.org"]
        )
    clash = [r.getMessage() for r in caplog.records if "clash" in r.getMessage()]
    assert len(clash) == 1
    assert "'Ana@Example.edu', 'ana@example.EDU'" in clash[0] and "ana@example.edu" in clash[0]
    with store.engine.connect() as conn:
        found = uid_clashes(conn)
    assert [(c.canonical, c.uids) for c in found] == [
        ("ana@example.edu", ("Ana@Example.edu", "ana@example.EDU"))
    ]
    # each clashing account is still reached by its own id typed exactly; a third spelling
    # reaches neither silently (it reaches the canonical one only if that exists)
    from coursegate.services.common.context import find_user

    with store.factory() as s:
        assert find_user(s, "Ana@Example.edu").uid == "Ana@Example.edu"  # type: ignore[union-attr]
        assert find_user(s, "ana@example.EDU").uid == "ana@example.EDU"  # type: ignore[union-attr]
        assert find_user(s, "BO@example.edu").uid == "bo@example.edu"  # type: ignore[union-attr]
        assert find_user(s, "ANA@EXAMPLE.EDU") is None


def test_the_cli_reports_clashes_to_an_administrator(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coursegate.cli.main import app

    monkeypatch.setenv("COURSEGATE_DATABASE_URL", store.url)
    if store.schema is not None:
        pytest.skip("the command line reaches PostgreSQL through its own URL, not a test schema")
    runner = CliRunner()
    ok = runner.invoke(app, ["db", "uid-clashes"])
    assert ok.exit_code == 0 and "no user-id clashes" in ok.output
    _domain(store)

    def rows(c: object) -> None:
        s = c.session  # type: ignore[attr-defined]
        dom = s.scalars(select(Domain.id).where(Domain.name == DOM)).one()
        for i, uid in enumerate(("Ana@Example.edu", "ana@example.edu")):
            s.add(User(uid=uid, name=uid, domain_id=dom, created_at=AT, email=f"u{i}@q.io"))

    store.system(AT, rows)
    r = runner.invoke(app, ["db", "uid-clashes"])
    assert r.exit_code == 1
    assert "'Ana@Example.edu', 'ana@example.edu'" in r.output and "none was changed" in r.output


def test_a_csv_import_stores_canonical_ids_and_is_the_same_file_in_any_case(store: Store) -> None:
    from coursegate.services.people.user_import import import_users

    _domain(store)
    first = "uid,name,email\nBo@Example.EDU,Bo,bo@example.edu\n"
    report = store.system(AT, lambda c: import_users(c, first, default_domain=DOM))
    assert report.created == 1  # type: ignore[attr-defined]
    again = "uid,name,email\nbo@example.edu,Bo,BO@example.edu\n"
    report = store.system(AT, lambda c: import_users(c, again, default_domain=DOM))
    assert report.created == 0 and report.unchanged == 1  # type: ignore[attr-defined]
    with store.factory() as s:
        assert s.scalars(select(User.uid)).all() == ["bo@example.edu"]


def test_legacy_rules_in_course_files_name_users_in_any_case() -> None:
    from coursegate.core.instants import zone
    from coursegate.courses.legacy_access import legacy_rules
    from coursegate.courses.reader import Reader

    r = Reader("infoAssessment.json", zone("America/Chicago"))
    rules = legacy_rules(r, [{"uids": ["Ana@Example.EDU", "JDoe"], "credit": 100}], "$.allowAccess")
    assert rules is not None and r.problems == []
    assert rules[0].uids == frozenset({"ana@example.edu", "JDoe"})


def test_a_decision_request_names_its_user_in_any_case() -> None:
    from coursegate.services.access.decisions.answers import read_question

    q = read_question({"course": "CG 101", "user": {"uid": "Ana@Example.EDU"}}, "someone")
    assert q.uid == "ana@example.edu"
