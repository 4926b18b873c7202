"""Mail: queued with the change (a rolled-back change sends nothing), delivered after the commit
by SMTP when configured (here to a small SMTP server in a thread), else into the Maildir outbox;
a failed delivery is kept and retried."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest
from accounts_support import INSTRUCTOR, AccWorld
from sqlalchemy import select

from coursegate.services.accounts import service
from coursegate.services.accounts.mail import deliver_pending
from coursegate.services.common.errors import Invalid
from coursegate.store.models import AccountMail


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough SMTP to accept messages (EHLO, MAIL, RCPT, DATA, QUIT)."""

    received: list[tuple[str, list[str], str]]

    def handle(self) -> None:
        def say(line: str) -> None:
            self.wfile.write((line + "\r\n").encode())

        say("220 test SMTP")
        sender, rcpts = "", []
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            line = raw.decode().rstrip("\r\n")
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                say("250 test")
            elif verb == "MAIL":
                sender = line.split(":", 1)[1].strip()
                say("250 ok")
            elif verb == "RCPT":
                rcpts.append(line.split(":", 1)[1].strip())
                say("250 ok")
            elif verb == "DATA":
                say("354 go on")
                lines = []
                while True:
                    data = self.rfile.readline().decode()
                    if data in (".\r\n", ".\n"):
                        break
                    lines.append(data)
                type(self).received.append((sender, rcpts, "".join(lines)))
                say("250 queued")
            elif verb == "QUIT":
                say("221 bye")
                return
            else:
                say("250 ok")


@pytest.fixture
def smtp() -> Iterator[tuple[str, list[tuple[str, list[str], str]]]]:
    received: list[tuple[str, list[str], str]] = []
    handler = type("Handler", (_Smtp,), {"received": received})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"smtp://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


def test_credentials_go_out_by_smtp_when_configured(
    world: AccWorld, smtp: tuple[str, list[tuple[str, list[str], str]]]
) -> None:
    url, received = smtp
    world.site = replace(world.site, smtp_url=url)
    world.stem()
    world.assign("amy@school.edu")
    done = deliver_pending(world.factory, world.site, at=world.at)
    assert done.sent == ["amy@school.edu: Your class account for CG 101 Sp24: sc558aa"]
    assert done.transport.startswith("SMTP smtp://127.0.0.1:")
    [(sender, rcpts, text)] = received
    assert "<amy@school.edu>" in rcpts[0]
    assert "noreply@users.example.edu" in sender
    assert "password:" in text and "sc558aa_ed25519" in text
    # Delivered: the text is no longer kept; the row says where it went.
    row = world.sys(lambda c: c.session.scalars(select(AccountMail)).one())
    assert row.sent_at == world.at and row.message == "" and row.outbox_key is None
    assert not world.site.outbox_dir.exists()
    ci = world.ci_id()
    shown = world.run(INSTRUCTOR, lambda c: service.outbox_message(c, world.site, ci, row.id))
    assert shown.view.status == "sent by SMTP" and shown.text is None
    assert shown.view.credentials is None  # not kept: the history says what was issued
    assert deliver_pending(world.factory, world.site, at=world.at).sent == []


def test_a_failed_delivery_is_kept_and_retried(world: AccWorld) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    world.site = replace(world.site, smtp_url=f"smtp://127.0.0.1:{port}")
    world.stem()
    world.assign("amy@school.edu")
    done = deliver_pending(world.factory, world.site, at=world.at)
    assert done.sent == [] and len(done.failed) == 1
    row = world.sys(lambda c: c.session.scalars(select(AccountMail)).one())
    assert row.sent_at is None and row.attempts == 1 and "Connection" in row.last_error
    ci = world.ci_id()
    [view] = world.run(INSTRUCTOR, lambda c: service.outbox(c, world.site, ci))
    assert view.status == "failing"
    # The outbox transport works: the next delivery takes it.
    world.site = replace(world.site, smtp_url="")
    assert len(world.mail_to("amy@school.edu")) == 1


def test_a_rolled_back_change_sends_nothing(world: AccWorld) -> None:
    world.stem()
    with pytest.raises(Invalid):
        world.assign("amy@school.edu\nbroken")
    assert world.messages() == []
    assert world.sys(lambda c: c.session.scalars(select(AccountMail)).all()) == []


def test_staff_read_the_outbox_of_their_course_only(world: AccWorld) -> None:
    from accounts_support import ADMIN, OTHER, TA

    from coursegate.services.common.errors import NotFound, Refused

    world.stem()
    world.assign("amy@school.edu")
    world.deliver()
    ci = world.ci_id()
    [view] = world.run(INSTRUCTOR, lambda c: service.outbox(c, world.site, ci))
    assert view.status == "in the outbox" and view.account == "sc558aa"
    text = world.run(INSTRUCTOR, lambda c: service.outbox_message(c, world.site, ci, view.id)).text
    assert text is not None and "Subject: Your class account for CG 101 Sp24: sc558aa" in text
    for actor in (TA, OTHER):
        with pytest.raises(Refused):
            world.run(actor, lambda c: service.outbox(c, world.site, ci))
    fa14 = world.ci_id("Fa14")
    with pytest.raises(NotFound):
        world.run(ADMIN, lambda c: service.outbox_message(c, world.site, fa14, view.id))
