"""Class accounts over HTTP: stems and the pool (administrators), assigning, the outbox, the
instructors' and TAs' actions with their ranks, the schedule, wiping, metrics, SSH keys, and the
server's periodic schedule job."""

from __future__ import annotations

import email
import email.message
import email.policy
import mailbox
import time
from dataclasses import replace
from typing import Any

from api_support import CI_PATH, World, body
from fastapi.testclient import TestClient
from sqlalchemy import select

from coursegate.cli import demo_world as demo
from coursegate.core.instants import parse_date, zone
from coursegate.server import create_app
from coursegate.server.jobs import start
from coursegate.store.models import User

ACCOUNTS = f"{CI_PATH}/accounts"
STEMS = "/api/v1/courses/CG 101/account-stems"
POOL = "/api/v1/courses/CG 101/account-pool"
CHICAGO = zone("America/Chicago")


def _ready(world: World, emails: str = "amy@school.edu\nbob@school.edu") -> dict[str, Any]:
    (world.data_dir / "home").mkdir(exist_ok=True)
    r = world.client("admin").post(STEMS, json={"stem": "sc558"})
    assert r.status_code == 201, r.text
    r = world.client("instructor").post(ACCOUNTS, json={"emails": emails})
    assert r.status_code == 201, r.text
    return dict(body(r))


def _holders_mail(world: World, account: str) -> list[email.message.EmailMessage]:
    """The credentials messages the holder of ``account`` received (the Maildir the server
    delivers to), oldest first: staff never read them whole."""
    box = mailbox.Maildir(world.data_dir / "outbox", create=False)
    found = []
    for key in box.iterkeys():
        msg = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
        assert isinstance(msg, email.message.EmailMessage)
        if msg["X-Coursegate-Account"] == account and msg["X-Coursegate-Kind"] == "credentials":
            seconds, _, rest = key.partition(".")  # <seconds>.M<microseconds>P<pid>...
            found.append((int(seconds), int(rest.split("P")[0].lstrip("M")), msg))
    return [msg for *_, msg in sorted(found, key=lambda f: f[:2])]


def _password(world: World, account: str) -> str:
    """The password the holder of ``account`` was mailed last."""
    for msg in reversed(_holders_mail(world, account)):
        text = msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        for line in text.splitlines():
            if "password:" in line:
                return line.split()[1]
    raise AssertionError(f"{account}'s holder got no password")


def test_stems_and_the_pool_are_for_administrators(world: World) -> None:
    r = world.client("instructor").post(STEMS, json={"stem": "sc558"})
    assert r.status_code == 403
    r = world.client("admin").post(STEMS, json={"stem": "SC558"})
    assert r.status_code == 201 and body(r)["stem"] == "sc558" and body(r)["room"] == 676
    r = world.client("admin").post(POOL, json={"count": 3})
    assert r.status_code == 201 and body(r)["generated"] == ["sc558aa", "sc558ab", "sc558ac"]
    pool = body(world.client("admin").get(POOL))
    assert [(a["account"], a["state"], a["status"]) for a in pool] == [
        (f"sc558a{x}", "free", "locked") for x in "abc"
    ]
    stems = body(world.client("admin").get("/api/v1/account-stems"))
    assert stems[0]["generated"] == 3 and stems[0]["last"] == "sc558ac"
    r = world.client("admin").post(STEMS, json={"stem": "s!"})
    assert r.status_code == 422 and body(r)["error"]["field"] == "stem"
    r = world.client("admin").post(POOL, json={"count": 0})
    assert r.status_code == 422


def test_assign_then_the_student_signs_in_with_the_mailed_password(world: World) -> None:
    out = _ready(world, "Amy Ames <amy@school.edu>\nbob@school.edu\n")
    assert [(a["account"], a["email"], a["alias"]) for a in out["assigned"]] == [
        ("sc558aa", "amy@school.edu", "sc558aa@users.example.edu"),
        ("sc558ab", "bob@school.edu", "sc558ab@users.example.edu"),
    ]
    again = body(world.client("instructor").post(ACCOUNTS, json={"emails": "amy@school.edu"}))
    assert again["assigned"] == [] and again["already"][0]["account"] == "sc558aa (CG 101 Sp24)"
    listed = body(world.client("ta").get(ACCOUNTS))
    assert [(a["account"], a["name"], a["status"]) for a in listed] == [
        ("sc558aa", "Amy Ames", "active"),
        ("sc558ab", "bob@school.edu", "active"),
    ]
    assert listed[0]["assigned_at"] == "2024-01-24T20:00:00-06:00"  # the course's zone
    student = world.sign_in("sc558aa", _password(world, "sc558aa"))
    assert body(student.get("/api/v1/session"))["uid"] == "sc558aa"
    bad = world.client("instructor").post(ACCOUNTS, json={"emails": "amy@school.edu\nnope"})
    assert bad.status_code == 422 and "line 2" in body(bad)["error"]["message"]


def test_tas_over_students_instructors_over_tas(world: World) -> None:
    _ready(world)
    r = world.client("instructor").post(ACCOUNTS, json={"emails": "tia@school.edu", "role": "ta"})
    assert r.status_code == 201 and body(r)["assigned"][0]["account"] == "sc558ac"
    r = world.client("ta").post(ACCOUNTS, json={"emails": "x@school.edu"})
    assert r.status_code == 403
    ta, instructor = world.client("ta"), world.client("instructor")
    r = ta.post(f"{ACCOUNTS}/sc558aa/reset-password", json={"reason": "forgot it"})
    assert r.status_code == 200 and body(r)["mail_to"] == "amy@school.edu"
    r = ta.post(f"{ACCOUNTS}/sc558ac/reset-password", json={})
    assert r.status_code == 403
    assert "a TA acts over the course's students only" in body(r)["error"]["message"]
    assert instructor.post(f"{ACCOUNTS}/sc558ac/freeze", json={}).status_code == 200
    assert body(instructor.get(f"{ACCOUNTS}/sc558ac"))["status"] == "frozen"
    assert body(instructor.post(f"{ACCOUNTS}/sc558ac/thaw", json={}))["changed"] is True
    r = world.client("other_instructor").post(f"{ACCOUNTS}/sc558aa/freeze", json={})
    assert r.status_code == 403
    # An account of another course instance is not found through this one.
    r = world.client("admin").get("/api/v1/courses/CG 101/instances/Fa14/accounts/sc558aa")
    assert r.status_code == 404


def test_actions_over_one_account(world: World) -> None:
    _ready(world)
    ta = world.client("ta")
    assert ta.post(f"{ACCOUNTS}/sc558aa/reset-keys", json={}).status_code == 200
    r = ta.post(f"{ACCOUNTS}/sc558aa/resend", json={})
    assert r.status_code == 200 and "new credentials mailed" in body(r)["message"]
    r = ta.put(f"{ACCOUNTS}/sc558aa/email", json={"email": "Amy.Ames@School.edu"})
    assert body(r)["mail_to"] == "amy.ames@school.edu"
    assert body(ta.get(f"{ACCOUNTS}/sc558aa"))["email"] == "amy.ames@school.edu"
    r = ta.put(f"{ACCOUNTS}/sc558aa/email", json={"email": "broken"})
    assert r.status_code == 422 and body(r)["error"]["field"] == "email"
    assert body(ta.put(f"{ACCOUNTS}/sc558aa/incomplete", json={"reason": "ill"}))["changed"]
    assert body(ta.get(f"{ACCOUNTS}/sc558aa"))["incomplete"] is True
    assert body(ta.delete(f"{ACCOUNTS}/sc558aa/incomplete"))["changed"]
    r = world.client("instructor").post(f"{ACCOUNTS}/lock", json={"accounts": ["sc558ab"]})
    assert [d["message"] for d in body(r)] == ["sc558ab: locked"]
    r = world.client("instructor").post(f"{ACCOUNTS}/unlock", json={})
    assert [d["changed"] for d in body(r)] == [False, True]
    # The TA views the course as the student (the existing view-as).
    r = ta.post(f"{CI_PATH}/view-as", json={"uid": "sc558aa"})
    assert r.status_code == 200 and r.headers["X-Coursegate-Viewing-As"] == "sc558aa"
    assert ta.delete("/api/v1/view-as").status_code == 200


def test_the_schedule_and_moving_the_end_date(world: World) -> None:
    _ready(world)
    view = body(world.client("ta").get(f"{CI_PATH}/account-schedule"))
    assert view["end"] == "2024-05-17T23:59:59-05:00" and view["end_from"] == "course files"
    assert view["next_step"] == {"step": "lock", "at": "2024-05-17T23:59:59-05:00"}
    assert (
        world.client("ta").put(f"{CI_PATH}/account-schedule", json={"end": None}).status_code == 403
    )
    r = world.client("instructor").put(
        f"{CI_PATH}/account-schedule", json={"end": "2024-06-01T12:00", "reason": "late exam"}
    )
    assert r.status_code == 200
    moved = body(r)
    assert moved["end"] == "2024-06-01T12:00:00-05:00" and moved["end_from"] == "moved"
    assert moved["wipe_at"] == "2024-06-29T12:00:00-05:00"
    r = world.client("instructor").put(f"{CI_PATH}/account-schedule", json={"end": "soon"})
    assert r.status_code == 422


def test_deleting_an_account_recycles_it_and_the_class_is_wiped(world: World) -> None:
    _ready(world, "a@school.edu\nb@school.edu\nc@school.edu")
    home = world.data_dir / "home" / "sc558aa"
    home.mkdir(parents=True)
    (home / "work.txt").write_text("x")
    assert world.client("ta").delete(f"{ACCOUNTS}/sc558aa").status_code == 403
    r = world.client("instructor").delete(f"{ACCOUNTS}/sc558aa")
    assert r.status_code == 200 and body(r)["started"] == ["sc558aa"]
    # The wipe ran right after the request committed.
    assert not (home / "work.txt").exists()
    assert world.client("instructor").get(f"{ACCOUNTS}/sc558aa").status_code == 404
    pool = {a["account"]: a["state"] for a in body(world.client("admin").get(POOL))}
    assert pool == {"sc558aa": "free", "sc558ab": "assigned", "sc558ac": "assigned"}
    world.client("instructor").put(f"{ACCOUNTS}/sc558ab/incomplete", json={})
    r = world.client("instructor").post(f"{ACCOUNTS}/wipe", json={"all": True})
    assert body(r)["started"] == ["sc558ac"]
    assert body(r)["skipped"] == [
        {"account": "sc558ab", "why": "has an incomplete (never wiped while it stands)"}
    ]
    r = world.client("instructor").post(f"{ACCOUNTS}/wipe", json={"accounts": ["sc558ab"]})
    assert r.status_code == 422 and "has an incomplete" in body(r)["error"]["message"]
    metrics = body(world.client("admin").get("/api/v1/account-metrics"))
    assert metrics == [
        {
            "course": "CG 101",
            "term": "Sp24",
            "generated": 3,
            "assigned": 3,
            "reassigned": 0,
            "wiped": 2,
        }
    ]
    assert world.client("instructor").get("/api/v1/account-metrics").status_code == 403


def test_ssh_keys_are_ones_own(world: World) -> None:
    from coursegate.services.accounts.credentials import ssh_keypair

    line = ssh_keypair("ivy@laptop").public_line
    r = world.client("instructor").post("/api/v1/ssh-keys", json={"public_key": line})
    assert r.status_code == 201
    key = body(r)
    assert key["uid"] == demo.INSTRUCTOR.uid and key["origin"] == "uploaded"
    assert [k["id"] for k in body(world.client("instructor").get("/api/v1/ssh-keys"))] == [
        key["id"]
    ]
    assert body(world.client("ta").get("/api/v1/ssh-keys")) == []
    assert world.client("ta").delete(f"/api/v1/ssh-keys/{key['id']}").status_code == 404
    assert world.client("instructor").delete(f"/api/v1/ssh-keys/{key['id']}").status_code == 204
    r = world.client("instructor").post("/api/v1/ssh-keys", json={"public_key": "nonsense"})
    assert r.status_code == 422


def test_a_public_key_is_checked_and_every_refusal_says_why(world: World) -> None:
    """Issue 13, finding 9: an unknown key type answered 500 (cryptography's
    UnsupportedAlgorithm went through); now every bad key is a 422 with a sentence."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    from coursegate.services.accounts.credentials import ssh_keypair

    def openssh(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
        public = key.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        return public.decode() + " ivy@laptop"

    ivy = world.client("instructor")
    pair = ssh_keypair("ivy@laptop")

    def refused(key: str) -> str:
        r = ivy.post("/api/v1/ssh-keys", json={"public_key": key})
        assert r.status_code == 422, (key[:40], r.status_code, r.text[:300])
        error = body(r)["error"]
        assert error["field"] == "public_key"
        return str(error["message"])

    unknown = refused("ssh-foo AAAAB3NzaC1yc2EAAAADAQABAAABAQ== ivy@laptop")
    assert "'ssh-foo' is not a key type accepted here" in unknown
    assert "ssh-ed25519" in unknown and "ecdsa-sha2-nistp256" in unknown and "ssh-rsa" in unknown
    assert "is not a key type" in refused("ecdsa-sha2-nistp999 AAAA ivy@laptop")
    assert "no longer accepted" in refused("ssh-dss AAAAB3NzaC1kc3MAAACBAP== ivy@laptop")
    said = refused(pair.private_openssh)
    assert "this is a private key" in said and "AAAA" not in said  # never repeated back
    assert "control" in refused(pair.public_line.replace("ivy", "i\x07vy"))
    assert "control or formatting" in refused(pair.public_line + " \u202e")
    assert "several lines" in refused(pair.public_line + "\n" + pair.public_line)
    assert "longer than 16 KiB" in refused(pair.public_line + " " + "x" * 17_000)
    weak = refused(openssh(rsa.generate_private_key(public_exponent=65537, key_size=1024)))
    assert "1024 bits" in weak and "2048" in weak
    assert "not a valid ssh-rsa key" in refused("ssh-rsa " + pair.public_line.split()[1])
    # What is accepted: a line of a .pub file (its end of line too).
    for good in (
        pair.public_line + "\n",
        openssh(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        openssh(ec.generate_private_key(ec.SECP384R1())),
    ):
        r = ivy.post("/api/v1/ssh-keys", json={"public_key": good})
        assert r.status_code == 201, r.text
    assert len(body(ivy.get("/api/v1/ssh-keys"))) == 3


def test_staff_see_that_credentials_were_issued_never_their_values(world: World) -> None:
    """Issue 13, finding 4: the outbox gave instructors a class account's password and private
    key. Now the holder gets them (once, by mail); staff see who got which credentials, when,
    and whether it was delivered, with every secret withheld; the history says what was issued,
    never the value."""
    _ready(world, "Amy Ames <amy@school.edu>")
    [mailed] = _holders_mail(world, "sc558aa")  # what the holder got: the real thing
    password = _password(world, "sc558aa")
    private = next(
        str(p.get_content())
        for p in mailed.iter_attachments()
        if p.get_filename() == "sc558aa_ed25519"
    )
    assert "OPENSSH PRIVATE KEY" in private
    secrets = [password, *private.splitlines()[1:-1]]
    assert world.client("ta").post(f"{ACCOUNTS}/sc558aa/reset-password", json={}).status_code == 200
    assert world.client("instructor").post(f"{ACCOUNTS}/sc558aa/resend", json={}).status_code == 200
    secrets.append(_password(world, "sc558aa"))
    for persona in ("instructor", "admin"):
        staff = world.client(persona)
        listed = staff.get(f"{CI_PATH}/account-outbox")
        assert listed.status_code == 200
        assert not any(secret in listed.text for secret in secrets)
        for m in body(listed):
            r = staff.get(f"{CI_PATH}/account-outbox/{m['id']}")
            assert r.status_code == 200
            assert not any(secret in r.text for secret in secrets), "a secret reached staff"
            shown = body(r)
            assert shown["to"] == "amy@school.edu" and "PRIVATE KEY-----" not in shown["text"]
            assert "password:  (sent to the holder only, once" in shown["text"]
            assert "password" in shown["withheld"]
        assert [(m["account"], m["credentials"], m["status"]) for m in body(listed)] == [
            ("sc558aa", ["password", "SSH key", "certificate"], "in the outbox"),  # resend
            ("sc558aa", ["password"], "in the outbox"),  # reset-password
            ("sc558aa", ["password", "SSH key", "certificate"], "in the outbox"),  # assigned
        ]
    full = body(world.client("admin").get(f"{CI_PATH}/account-outbox/{body(listed)[-1]['id']}"))
    assert full["withheld"] == [
        "password",
        "private key sc558aa_ed25519",
        "private key sc558aa.key.pem",
    ]
    msg = email.message_from_string(full["text"], policy=email.policy.default)
    names = [p.get_filename() for p in msg.iter_attachments()]  # type: ignore[attr-defined]
    assert names == ["sc558aa_ed25519", "sc558aa_ed25519.pub", "sc558aa.pem", "sc558aa.key.pem"]
    # The history says what was issued and where it went, never a value.
    history = body(
        world.client("instructor").get(f"{CI_PATH}/history", params={"subject": "sc558aa"})
    )
    issued = {
        e["action"]: e["details"] for e in history["entries"] if e["action"].startswith("accounts.")
    }
    assert issued["accounts.assign"]["issued"] == ["password", "SSH key", "certificate"]
    assert issued["accounts.assign"]["mailed_to"] == "amy@school.edu"
    assert issued["accounts.assign"]["ssh_fingerprint"].startswith("SHA256:")
    assert issued["accounts.reset_password"]["issued"] == ["password"]
    assert issued["accounts.resend"]["issued"] == ["password", "SSH key", "certificate"]
    raw = str(history)
    assert not any(secret in raw for secret in secrets)
    # ... and the holder signs in with what they received.
    student = world.sign_in("sc558aa", secrets[-1])
    assert body(student.get("/api/v1/session"))["uid"] == "sc558aa"


def test_the_server_runs_the_schedule_periodically(world: World) -> None:
    _ready(world)
    end = parse_date("2024-05-18T09:00", CHICAGO)[0]
    world.clock.now = end
    settings = replace(world.app.state.settings, schedule_interval_seconds=1)
    app = create_app(settings, engine=world.engine, clock=world.clock)
    with TestClient(app):  # the lifespan starts the job
        deadline = time.monotonic() + 20
        while True:
            with world.ctx() as ctx:
                status = ctx.session.scalar(select(User.status).where(User.uid == "sc558aa"))
            if status == "locked":
                break
            assert time.monotonic() < deadline, "the periodic job never locked the account"
            time.sleep(0.1)
    fresh = world.sign_in(demo.INSTRUCTOR.uid, demo.INSTRUCTOR.password)  # May: a new session
    notices = body(fresh.get(f"{CI_PATH}/account-outbox"))
    assert [n["kind"] for n in notices if n["kind"] != "credentials"] == ["lock-notice"]
    assert (
        start(create_app(replace(settings, schedule_interval_seconds=0), engine=world.engine)) == []
    )
