"""Helpers for class-account tests: the demo world with a home root, an outbox and a clock."""

from __future__ import annotations

import email
import email.policy
import mailbox
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from coursegate.cli import demo_world as demo
from coursegate.core.instants import Instant, parse_date, zone
from coursegate.services.accounts import service, wipe, wipe_request
from coursegate.services.accounts.hooks import WipeHook
from coursegate.services.accounts.mail import Delivery, deliver_pending
from coursegate.services.accounts.schedule import ScheduleReport, run_schedule
from coursegate.services.accounts.site import Site
from coursegate.services.common.context import SYSTEM, Ctx
from coursegate.services.common.places import find_course_instance
from coursegate.store.db import session_factory, transaction
from databases import every_row

ROOT = Path(__file__).resolve().parents[2]
INSTRUCTOR = demo.INSTRUCTOR.uid
TA = demo.TA.uid
ADMIN = demo.ADMIN.uid
OTHER = demo.OTHER_INSTRUCTOR.uid
ANA = demo.STUDENTS[0].uid
CHICAGO = zone("America/Chicago")
T = TypeVar("T")


def local(text: str) -> Instant:
    """Wall time in Chicago (the example course's zone)."""
    return parse_date(text, CHICAGO)[0]


END = local("2024-05-17T23:59:59")
"""Sp24's publishing end (the end date the schedule counts from)."""


@dataclass
class AccWorld:
    engine: Engine
    factory: sessionmaker[Session]
    url: str
    schema: str | None
    tmp: Path
    site: Site
    at: Instant
    hooks: list[WipeHook] = field(default_factory=list)

    @property
    def home(self) -> Path:
        return Path(self.site.home_root)

    def with_hooks(self, *hooks: WipeHook) -> None:
        self.site = replace(self.site, hooks=tuple(hooks))

    def run(
        self,
        actor: str,
        fn: Callable[[Ctx], T],
        *,
        at: Instant | None = None,
        acting_as: str | None = None,
    ) -> T:
        with transaction(self.factory) as s:
            return fn(Ctx(s, actor, self.at if at is None else at, acting_as))

    def sys(self, fn: Callable[[Ctx], T], *, at: Instant | None = None) -> T:
        return self.run(SYSTEM, fn, at=at)

    def ci_id(self, short: str = "Sp24") -> int:
        return self.sys(lambda c: find_course_instance(c, demo.COURSE, short).id)

    def stem(self, stem: str = "sc558", course: str = demo.COURSE) -> service.StemInfo:
        return self.sys(lambda c: service.set_stem(c, course, stem))

    def assign(
        self,
        text: str,
        *,
        role: str = "st",
        actor: str = INSTRUCTOR,
        instance: str = "Sp24",
        csv: bool = False,
        at: Instant | None = None,
    ) -> service.AssignReport:
        ci = self.ci_id(instance)
        return self.run(
            actor,
            lambda c: service.assign(
                c, self.site, self.site.issuer(), ci, service.parse_list(text, csv=csv), role=role
            ),
            at=at,
        )

    def students(self, n: int, start: int = 0) -> list[str]:
        """Assign ``n`` fresh students; their accounts in order."""
        report = self.assign("\n".join(f"student{i}@school.edu" for i in range(start, start + n)))
        return [a.account for a in report.assigned]

    def deliver(self, at: Instant | None = None) -> Delivery:
        return deliver_pending(self.factory, self.site, at=self.at if at is None else at)

    def messages(self) -> list[EmailMessage]:
        """Every message in the outbox (delivered first), oldest first."""
        self.deliver()
        if not self.site.outbox_dir.exists():
            return []
        box = mailbox.Maildir(self.site.outbox_dir, create=False)
        found = []
        for key in box.iterkeys():
            msg = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
            assert isinstance(msg, EmailMessage)
            seconds, _, rest = key.partition(".")
            micros = rest.split("P")[0].lstrip("M")
            found.append((parsedate_to_datetime(str(msg["Date"])), int(seconds), int(micros), msg))
        return [m for *_, m in sorted(found, key=lambda f: f[:3])]

    def mail_to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages() if m["To"] == address]

    def wipe(
        self,
        accounts: list[str],
        *,
        actor: str = INSTRUCTOR,
        whole_class: bool = False,
        at: Instant | None = None,
        reason: str = "wipe",
    ) -> wipe.WipeRun:
        ci = self.ci_id()
        req = self.run(
            actor,
            lambda c: wipe_request.request_wipes(
                c, uids=accounts, course_instance_id=ci, whole_class=whole_class, reason=reason
            ),
            at=at,
        )
        return wipe.run_wipes(
            self.factory,
            self.site,
            at=self.at if at is None else at,
            actor=actor,
            wipe_ids=req.wipe_ids,
        )

    def schedule(self, at: Instant, *, dry_run: bool = False) -> ScheduleReport:
        return run_schedule(self.factory, self.site, at=at, dry_run=dry_run)

    def accounts(self, instance: str | None = "Sp24") -> dict[str, service.AccountLine]:
        ci = self.ci_id(instance) if instance else None
        lines = self.sys(lambda c: service.list_accounts(c, self.site, demo.COURSE, ci))
        return {line.account: line for line in lines}

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table, in a stable order."""
        return every_row(self.factory)

    def child_env(self) -> dict[str, str]:
        """The environment of a ``coursegate`` child process on this world."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("COURSEGATE_")}
        env["COURSEGATE_DATABASE_URL"] = self.url
        env["COURSEGATE_DATA_DIR"] = str(self.site.data_dir)
        env["COURSEGATE_HOME_ROOT"] = self.site.home_root
        env["COURSEGATE_MAIL_DOMAIN"] = self.site.mail_domain
        env["COURSEGATE_TEST_CHEAP_HASHES"] = "1"
        if self.schema is not None:
            env["PGOPTIONS"] = f"-csearch_path={self.schema}"
        return env


def build(engine: Engine, url: str, schema: str | None, tmp: Path) -> AccWorld:
    factory = session_factory(engine)
    at = demo.demo_instant()
    with transaction(factory) as s:
        demo.seed(Ctx(s, SYSTEM, at))
    home = tmp / "home"
    home.mkdir()
    site = Site(home_root=str(home), data_dir=tmp / "data", mail_domain="users.example.edu")
    return AccWorld(engine, factory, url, schema, tmp, site, at)


def attachment(msg: EmailMessage, filename: str) -> str:
    for part in msg.iter_attachments():
        if part.get_filename() == filename:
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    raise AssertionError(f"no attachment {filename} in {msg['Subject']}")


def password_in(msg: EmailMessage) -> str:
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None
    for line in body.get_content().splitlines():
        if line.strip().startswith("password:"):
            return line.split()[1]
    raise AssertionError("no password in the message")
