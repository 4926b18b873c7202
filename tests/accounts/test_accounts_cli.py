"""``coursegate accounts ...`` through typer's runner on both databases: every command prints
what it did, ``--dry-run`` lists exactly what would change and changes nothing, ``--json`` for
scripts, errors as ``{"errors": [...]}`` with exit status 2."""

from __future__ import annotations

import csv
import email
import email.policy
import json
import shutil
import subprocess
from email.message import EmailMessage
from pathlib import Path

import pytest
from accounts_support import INSTRUCTOR, AccWorld, attachment, password_in
from typer.testing import CliRunner, Result

from coursegate.cli.main import app
from coursegate.services.accounts.credentials import ssh_keypair

runner = CliRunner()
AT = "2024-02-01T00:00:00Z"


def invoke(world: AccWorld, *args: str, stdin: str | None = None) -> Result:
    env: dict[str, str | None] = {**world.child_env(), "COURSEGATE_CONFIG": None}
    return runner.invoke(app, ["accounts", *args], env=env, input=stdin)


def ok(world: AccWorld, *args: str, stdin: str | None = None) -> Result:
    res = invoke(world, *args, stdin=stdin)
    assert res.exit_code == 0, res.stdout + repr(res.exception)
    return res


def test_every_command_is_there() -> None:
    res = runner.invoke(app, ["accounts", "--help"])
    for name in [
        "stem",
        "generate",
        "assign",
        "list",
        "lock",
        "unlock",
        "incomplete",
        "wipe",
        "recycle",
        "freeze",
        "thaw",
        "reset-password",
        "reset-keys",
        "resend",
        "email",
        "end-date",
        "run-schedule",
        "report",
        "export-sudoers",
        "export-authorized-keys",
        "add-key",
        "outbox",
    ]:
        assert name in res.stdout, name


def test_stem_generate_assign_list(world: AccWorld, tmp_path: Path) -> None:
    before = world.dump()
    dry = ok(world, "stem", "CG 101", "sc558", "--dry-run", "--at", AT)
    assert "dry run: nothing was changed" in dry.stdout and "stem sc558 of CG 101" in dry.stdout
    assert world.dump() == before
    ok(world, "stem", "CG 101", "sc558", "--at", AT)
    listed = json.loads(ok(world, "stem", "--json").stdout)
    assert [s["stem"] for s in listed] == ["sc558"]

    gen = ok(world, "generate", "CG 101", "--count", "2", "--at", AT)
    assert "generated 2 account(s) sc558aa..sc558ab" in gen.stdout

    emails = tmp_path / "emails.txt"
    emails.write_text("amy@school.edu\nBob Bell <bob@school.edu>\ncarl@school.edu\n")
    before = world.dump()
    dry = ok(world, "assign", "CG 101", "Sp24", "--emails", str(emails), "--dry-run", "--at", AT)
    assert "line 3: sc558ac -> carl@school.edu" in dry.stdout
    assert "generated sc558ac" in dry.stdout
    assert world.dump() == before
    assert not world.site.outbox_dir.exists()

    res = ok(world, "assign", "CG 101", "Sp24", "--emails", str(emails), "--json", "--at", AT)
    data = json.loads(res.stdout)
    assert [a["account"] for a in data["assigned"]] == ["sc558aa", "sc558ab", "sc558ac"]
    assert data["assigned"][1]["alias"] == "sc558ab@users.example.edu"
    assert len(list((world.site.outbox_dir / "new").iterdir())) == 3

    again = ok(
        world, "assign", "CG 101", "Sp24", "--emails", "-", "--at", AT, stdin="amy@school.edu\n"
    )
    assert "amy@school.edu already holds sc558aa (CG 101 Sp24)" in again.stdout

    rows = json.loads(ok(world, "list", "CG 101", "Sp24", "--json").stdout)
    assert [(r["account"], r["email"]) for r in rows] == [
        ("sc558aa", "amy@school.edu"),
        ("sc558ab", "bob@school.edu"),
        ("sc558ac", "carl@school.edu"),
    ]
    text = ok(world, "list", "CG 101").stdout
    assert "sc558ab" in text and "Bob Bell" in text

    outbox = ok(world, "outbox", "CG 101", "Sp24").stdout
    assert "in the outbox" in outbox and "Your class account for CG 101 Sp24: sc558aa" in outbox
    first = json.loads(ok(world, "outbox", "CG 101", "Sp24", "--json").stdout)[-1]
    full = ok(world, "outbox", "CG 101", "Sp24", "--show", str(first["id"])).stdout
    assert "password:" in full and "sc558aa_ed25519" in full


def test_only_the_operator_reads_a_message_whole_and_every_read_is_recorded(
    world: AccWorld,
) -> None:
    """Issue 13, finding 4: a message's secrets (the password, the private keys) go to the
    account's holder; staff read the message with them withheld; the operator alone reads it
    whole (``outbox --show``), and each such read is a ``secret.read`` history entry."""
    from sqlalchemy import select

    from coursegate.services.accounts import service
    from coursegate.services.common.errors import Refused
    from coursegate.store.models import HistoryEntry

    ok(world, "stem", "CG 101", "sc558", "--at", AT)
    ok(world, "assign", "CG 101", "Sp24", "--emails", "-", "--at", AT, stdin="amy@school.edu\n")
    [mailed] = world.mail_to("amy@school.edu")
    password = password_in(mailed)
    [listed] = json.loads(ok(world, "outbox", "CG 101", "Sp24", "--json").stdout)
    assert listed["credentials"] == ["password", "SSH key", "certificate"]

    def reads() -> list[HistoryEntry]:
        return world.sys(
            lambda c: list(
                c.session.scalars(select(HistoryEntry).where(HistoryEntry.action == "secret.read"))
            )
        )

    def private_key(text: str) -> str:
        msg = email.message_from_string(text, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        return attachment(msg, "sc558aa_ed25519")

    show = ("outbox", "CG 101", "Sp24", "--show", str(listed["id"]))
    dry = ok(world, *show, "--dry-run")
    assert password not in dry.stdout and "PRIVATE KEY" not in private_key(dry.stdout)
    assert "password:  (sent to the holder only, once" in dry.stdout
    assert reads() == []
    full = ok(world, *show)
    assert password in full.stdout
    assert private_key(full.stdout) == attachment(mailed, "sc558aa_ed25519")
    as_json = json.loads(ok(world, *show, "--json").stdout)
    assert password in as_json["text"] and "password" in as_json["withheld"]
    recorded = reads()
    assert len(recorded) == 2
    assert {(e.actor, e.subject, e.details["reader"]) for e in recorded} == {
        ("system", "sc558aa", "system")
    }
    assert recorded[0].details["secrets"] == [
        "password",
        "private key sc558aa_ed25519",
        "private key sc558aa.key.pem",
    ]
    assert password not in str([e.details for e in recorded])
    # Nobody else reads the secrets, whatever their privileges.
    ci = world.ci_id()
    with pytest.raises(Refused, match="goes to its holder only"):
        world.run(INSTRUCTOR, lambda c: service.outbox_secrets(c, world.site, ci, listed["id"]))
    shown = world.run(INSTRUCTOR, lambda c: service.outbox_message(c, world.site, ci, listed["id"]))
    assert shown.text is not None and password not in shown.text
    assert len(reads()) == 2


def test_errors_are_json_with_status_2(world: AccWorld, tmp_path: Path) -> None:
    res = invoke(world, "assign", "CG 101", "Sp24", "--emails", "-", stdin="a@school.edu\n")
    assert res.exit_code == 2
    assert json.loads(res.stdout)["errors"][0]["message"].startswith(
        "course: CG 101 has no account stem"
    )
    ok(world, "stem", "CG 101", "sc558")
    res = invoke(world, "assign", "CG 101", "Sp24", "--emails", "-", stdin="a@x.edu\nnope\n")
    assert res.exit_code == 2
    errors = json.loads(res.stdout)["errors"]
    assert errors == [
        {
            "file": "command line",
            "path": "emails",
            "message": "line 2: 'nope' is not an email address; write it as name@example.edu",
        }
    ]
    res = invoke(world, "stem", "CG 101", "s!")
    assert res.exit_code == 2 and "stem:" in json.loads(res.stdout)["errors"][0]["message"]
    res = invoke(world, "wipe", "CG 101", "Sp24")
    assert res.exit_code == 2
    res = invoke(world, "freeze", "nobody1")
    assert res.exit_code == 2 and "no class account" in res.stdout


def test_account_actions(world: AccWorld) -> None:
    ok(world, "stem", "CG 101", "sc558")
    ok(world, "assign", "CG 101", "Sp24", "--emails", "-", stdin="amy@school.edu\n")
    assert "active -> frozen" in ok(world, "freeze", "sc558aa").stdout
    assert "frozen -> active" in ok(world, "thaw", "sc558aa").stdout
    res = ok(world, "reset-password", "sc558aa", "--json")
    assert json.loads(res.stdout)["mail_to"] == "amy@school.edu"
    assert "new keys mailed" in ok(world, "reset-keys", "sc558aa").stdout
    assert "new credentials mailed" in ok(world, "resend", "sc558aa").stdout
    assert (
        "mail now goes to amy.b@school.edu"
        in ok(world, "email", "sc558aa", "amy.b@school.edu").stdout
    )
    before = world.dump()
    assert (
        "incomplete granted"
        in ok(world, "incomplete", "CG 101", "Sp24", "sc558aa", "--dry-run").stdout
    )
    assert world.dump() == before
    ok(world, "incomplete", "CG 101", "Sp24", "sc558aa")
    ok(world, "incomplete", "CG 101", "Sp24", "sc558aa", "--withdraw")
    assert "sc558aa: locked" in ok(world, "lock", "CG 101", "Sp24").stdout
    assert "sc558aa: already locked" in ok(world, "lock", "CG 101", "Sp24", "sc558aa").stdout
    assert "sc558aa: unlocked" in ok(world, "unlock", "CG 101", "Sp24").stdout
    assert len(world.mail_to("amy@school.edu")) == 4
    assert len(world.mail_to("amy.b@school.edu")) == 0


def test_end_date_and_the_schedule(world: AccWorld) -> None:
    ok(world, "stem", "CG 101", "sc558")
    ok(world, "assign", "CG 101", "Sp24", "--emails", "-", stdin="amy@school.edu\n")
    shown = ok(world, "end-date", "CG 101", "Sp24", "--at", AT).stdout
    assert "end 2024-05-17T23:59:59-05:00 (course files)" in shown
    moved = ok(world, "end-date", "CG 101", "Sp24", "2024-06-01T12:00", "--json", "--at", AT)
    assert json.loads(moved.stdout)["end"] == "2024-06-01T12:00:00-05:00"
    before = world.dump()
    dry = ok(world, "run-schedule", "--at", "2024-06-02T00:00:00Z", "--dry-run")
    assert "would lock sc558aa" in dry.stdout
    assert world.dump() == before
    run = ok(world, "run-schedule", "--at", "2024-06-02T00:00:00Z", "--json")
    data = json.loads(run.stdout)
    assert data["terms"][0]["locked"] == ["sc558aa"]
    assert data["mail"]["sent"] == [
        "instructor@example.edu: CG 101 Sp24: student accounts locked at the end of the term"
    ]
    again = json.loads(ok(world, "run-schedule", "--at", "2024-06-02T00:00:00Z", "--json").stdout)
    assert again["terms"][0]["locked"] == [] and again["mail"]["sent"] == []
    cleared = ok(world, "end-date", "CG 101", "Sp24", "--clear")
    assert "(course files)" in cleared.stdout
    res = invoke(world, "end-date", "CG 101", "Sp24", "tomorrow")
    assert res.exit_code == 2 and "date:" in res.stdout


def test_wipe_recycle_and_report(world: AccWorld, tmp_path: Path) -> None:
    ok(world, "stem", "CG 101", "sc558")
    ok(world, "assign", "CG 101", "Sp24", "--emails", "-", stdin="a@s.edu\nb@s.edu\nc@s.edu\n")
    (world.home / "sc558aa").mkdir()
    (world.home / "sc558aa" / "f.txt").write_text("x")
    before = world.dump()
    dry = ok(world, "wipe", "CG 101", "Sp24", "sc558aa", "--dry-run")
    assert "sc558aa: wipe started" in dry.stdout
    assert "sc558aa: would run access, instances, roles, files" in dry.stdout
    assert f"delete 1 entr(ies) in {world.home / 'sc558aa'}" in dry.stdout
    assert world.dump() == before and (world.home / "sc558aa" / "f.txt").exists()
    res = ok(world, "wipe", "CG 101", "Sp24", "sc558aa")
    assert "sc558aa: wiped (back in the pool)" in res.stdout
    assert not (world.home / "sc558aa" / "f.txt").exists()
    rec = json.loads(ok(world, "recycle", "sc558ab", "--json").stdout)
    assert rec["started"] == ["sc558ab"] and rec["run"]["wiped"] == ["sc558ab"]
    assert "already wiped" in ok(world, "recycle", "sc558ab").stdout
    res = ok(world, "wipe", "CG 101", "Sp24", "--all")
    assert "sc558ac: wiped" in res.stdout

    report = tmp_path / "metrics.csv"
    out = ok(world, "report", "--csv", str(report)).stdout
    assert "CG 101           Sp24" in out and f"wrote {report}" in out
    rows = list(csv.DictReader(report.open()))
    assert rows == [
        {
            "course": "CG 101",
            "term": "Sp24",
            "generated": "3",
            "assigned": "3",
            "reassigned": "0",
            "wiped": "3",
        }
    ]
    dry = ok(world, "report", "--csv", str(tmp_path / "no.csv"), "--dry-run")
    assert "would write" in dry.stdout and not (tmp_path / "no.csv").exists()


def test_a_failed_wipe_exits_1_and_run_schedule_finishes_it(world: AccWorld) -> None:
    ok(world, "stem", "CG 101", "sc558")
    ok(world, "assign", "CG 101", "Sp24", "--emails", "-", stdin="a@s.edu\n")
    env = {**world.child_env(), "COURSEGATE_HOME_ROOT": "", "COURSEGATE_CONFIG": None}
    res = runner.invoke(app, ["accounts", "wipe", "CG 101", "Sp24", "sc558aa"], env=env)
    assert res.exit_code == 1
    assert "sc558aa: NOT wiped yet" in res.stdout and "home_root is not set" in res.stdout
    fin = ok(world, "run-schedule")
    assert "sc558aa: wiped (back in the pool)" in fin.stdout


def test_exports(world: AccWorld, tmp_path: Path) -> None:
    ok(world, "stem", "CG 101", "sc558")
    ok(world, "assign", "CG 101", "Sp24", "--emails", "-", stdin="a@s.edu\nb@s.edu\n")
    ok(world, "assign", "CG 101", "Sp24", "--role", "ta", "--emails", "-", stdin="t@s.edu\n")
    key = tmp_path / "ivy.pub"
    key.write_text(ssh_keypair("ivy@laptop").public_line + "\n")
    ok(world, "add-key", INSTRUCTOR, str(key))
    sudoers = tmp_path / "sudoers.classes"
    ok(world, "export-sudoers", "--output", str(sudoers))
    text = sudoers.read_text()
    assert 'Runas_Alias CG_CI3_STUDENTS = "sc558aa", "sc558ab"' in text
    assert 'Runas_Alias CG_CI3_TA_ACCOUNTS = "sc558ac", "ta@example.edu"' in text
    assert 'User_Alias CG_CI3_INSTRUCTORS = "instructor@example.edu"' in text
    assert 'User_Alias CG_CI3_TAS = "sc558ac", "ta@example.edu"' in text
    assert "CG_CI3_INSTRUCTORS ALL = (CG_CI3_STUDENTS, CG_CI3_TA_ACCOUNTS) ALL" in text
    assert "CG_CI3_TAS ALL = (CG_CI3_STUDENTS) ALL" in text
    visudo = shutil.which("visudo") or next(
        (p for p in ("/usr/sbin/visudo", "/sbin/visudo") if Path(p).exists()), None
    )
    if visudo is None:
        pytest.skip("visudo is not installed (apt-get install -y sudo); the syntax is unchecked")
    checked = subprocess.run(
        [visudo, "-c", "-f", str(sudoers)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    keys = ok(world, "export-authorized-keys", "CG 101", "Sp24").stdout
    lines = [line for line in keys.splitlines() if not line.startswith("#")]
    assert len(lines) == 2  # the instructor's uploaded key, the TA account's generated key
    assert any(line.endswith("instructor@example.edu (instructor, CG 101 Sp24)") for line in lines)
    assert any(line.endswith("sc558ac (TA, CG 101 Sp24)") for line in lines)
    assert "# ta@example.edu (TA) has no public key registered" in keys


def test_visudo_rejects_a_broken_file_so_the_check_means_something(tmp_path: Path) -> None:
    visudo = shutil.which("visudo") or (
        "/usr/sbin/visudo" if Path("/usr/sbin/visudo").exists() else None
    )
    if visudo is None:
        pytest.skip("visudo is not installed (apt-get install -y sudo)")
    bad = tmp_path / "bad"
    bad.write_text('Runas_Alias lower = "x"\n')
    assert (
        subprocess.run([visudo, "-c", "-f", str(bad)], capture_output=True, check=False).returncode
        != 0
    )
