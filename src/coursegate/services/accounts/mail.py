"""Mail to students and instructors: queued in the database with the change that caused it,
delivered after that change commits.

A message is a row of ``account_mail`` written in the use case's own transaction, so a change
that rolls back sends nothing, and a change that commits always has its message. The shell
(the command line after its commit, the server's periodic job) then calls
:func:`deliver_pending`: by SMTP when ``smtp_url`` is set (``smtp://host:port``,
``smtp+starttls://user:password@host:587``, ``smtps://host:465``), otherwise into the local
outbox, a Maildir under the data directory (``<data dir>/outbox``) that instructors and
administrators read with ``coursegate accounts outbox`` or the API. Each message is delivered
in its own transaction; once delivered its text is emptied in the database (the outbox keeps
it, SMTP does not). A process killed between delivering and recording it delivers that one
message again on the next run (at least once, never lost).
"""

from __future__ import annotations

import io
import mailbox
import re
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass, field
from email import message_from_string, policy
from email.charset import QP, Charset
from email.encoders import encode_base64
from email.generator import Generator
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.utils import format_datetime, make_msgid
from urllib.parse import unquote, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from coursegate.core.instants import Instant, from_instant
from coursegate.services.accounts.rules import is_placeholder
from coursegate.services.accounts.site import Site
from coursegate.services.common.context import Ctx
from coursegate.store.db import private_dir, transaction
from coursegate.store.models import AccountMail

HEADER_COURSE = "X-Coursegate-Course-Instance"
HEADER_ACCOUNT = "X-Coursegate-Account"
HEADER_KIND = "X-Coursegate-Kind"
_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP  # readable in the outbox (a name like Zoë stays legible)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: str
    mime: str = "application/octet-stream"


def compose(
    site: Site,
    *,
    to: str,
    subject: str,
    body: str,
    at: Instant,
    course: str = "",
    account: str = "",
    kind: str = "",
    attachments: Sequence[Attachment] = (),
) -> str:
    """The message as RFC 5322 text (LF line ends, as a Maildir keeps them; SMTP delivery
    converts them). Built with :mod:`email.mime` (the "compat32" API), which is several times
    faster than :class:`email.message.EmailMessage` for the hundreds of messages of one
    assignment; headers are not folded (RFC 5322 allows lines up to 998 characters)."""
    text = MIMENonMultipart("text", "plain")
    text.set_payload(body, "us-ascii" if body.isascii() else _UTF8_QP)
    if attachments:
        msg: Message = MIMEMultipart()
        msg.attach(text)
        for a in attachments:
            maintype, _, subtype = a.mime.partition("/")
            part = MIMEBase(maintype, subtype)
            part.set_payload(a.content.encode())
            encode_base64(part)
            part.add_header("Content-Disposition", "attachment", filename=a.filename)
            msg.attach(part)
    else:
        msg = text
    msg["From"] = f"coursegate <noreply@{site.mail_domain}>"
    msg["To"] = to
    msg["Subject"] = subject if subject.isascii() else Header(subject, "utf-8").encode()
    msg["Date"] = format_datetime(from_instant(at))
    msg["Message-ID"] = make_msgid(domain=site.mail_domain)
    for name, value in ((HEADER_COURSE, course), (HEADER_ACCOUNT, account), (HEADER_KIND, kind)):
        if value:
            msg[name] = value if value.isascii() else Header(value, "utf-8").encode()
    out = io.StringIO()
    Generator(out, mangle_from_=False, maxheaderlen=0).flatten(msg)
    return out.getvalue()


def queue(
    ctx: Ctx,
    site: Site,
    *,
    kind: str,
    to: str | None,
    subject: str,
    body: str,
    course_instance_id: int | None,
    course: str = "",
    account: str = "",
    attachments: Sequence[Attachment] = (),
) -> AccountMail | None:
    """Queue a message in the caller's transaction; None (nothing queued) when there is no real
    address to send it to."""
    if to is None or is_placeholder(to):
        return None
    text = compose(
        site,
        to=to,
        subject=subject,
        body=body,
        at=ctx.at,
        course=course,
        account=account,
        kind=kind,
        attachments=attachments,
    )
    row = AccountMail(
        created_at=ctx.at,
        course_instance_id=course_instance_id,
        account=account,
        kind=kind,
        to_addr=to,
        subject=subject,
        message=text,
        attempts=0,
        last_error="",
    )
    ctx.session.add(row)
    return row


# -- delivery ---------------------------------------------------------------------------------


@dataclass
class Delivery:
    sent: list[str] = field(default_factory=list)
    """``to: subject`` of each message delivered."""
    failed: list[str] = field(default_factory=list)
    transport: str = ""


def transport_of(site: Site) -> str:
    return f"SMTP {_safe_url(site.smtp_url)}" if site.smtp_url else f"the outbox {site.outbox_dir}"


def _safe_url(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def deliver_pending(
    factory: sessionmaker[Session], site: Site, *, at: Instant, limit: int | None = None
) -> Delivery:
    """Deliver every queued message (oldest first), each in its own transaction. Rows another
    process is delivering are skipped."""
    report = Delivery(transport=transport_of(site))
    with factory() as s:
        ids = list(
            s.scalars(
                select(AccountMail.id)
                .where(AccountMail.sent_at.is_(None))
                .order_by(AccountMail.id)
                .limit(limit)
            )
        )
    for mail_id in ids:
        with transaction(factory) as s:
            row = s.scalars(
                select(AccountMail)
                .where(AccountMail.id == mail_id, AccountMail.sent_at.is_(None))
                .with_for_update(skip_locked=True)
                .execution_options(populate_existing=True)
            ).one_or_none()
            if row is None:
                continue
            try:
                key = _deliver(site, row)
            except (OSError, smtplib.SMTPException) as error:
                row.attempts += 1
                row.last_error = f"{type(error).__name__}: {error}"[:2000]
                report.failed.append(f"{row.to_addr}: {row.subject}: {row.last_error}")
                continue
            row.sent_at = at
            row.outbox_key = key
            row.message = ""
            row.attempts += 1
            row.last_error = ""
            report.sent.append(f"{row.to_addr}: {row.subject}")
    return report


def _deliver(site: Site, row: AccountMail) -> str | None:
    if site.smtp_url:
        _smtp_send(site.smtp_url, row.message)
        return None
    private_dir(site.outbox_dir.parent)  # the outbox holds credentials: the owner's alone
    box = mailbox.Maildir(site.outbox_dir, create=True)
    key = box.add(row.message.encode())
    return str(key)


def _smtp_send(url: str, text: str) -> None:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = parts.hostname or "localhost"
    if scheme not in ("smtp", "smtps", "smtp+starttls"):
        raise OSError(f"smtp_url: the scheme must be smtp, smtp+starttls or smtps, not {scheme!r}")
    msg = message_from_string(text, policy=policy.SMTP)
    client: smtplib.SMTP
    if scheme == "smtps":
        client = smtplib.SMTP_SSL(host, parts.port or 465, timeout=30)
    else:
        client = smtplib.SMTP(host, parts.port or 25, timeout=30)
    with client:
        if scheme == "smtp+starttls":
            client.starttls()
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(msg)


# -- secrets withheld -------------------------------------------------------------------------

PASSWORD_WITHHELD = "(sent to the holder only, once; reset the password to issue a new one)"
PRIVATE_KEY_WITHHELD = (
    "(withheld: this private key was sent to the account's holder only, once; reset the keys "
    "to issue a new one)\n"
)
PASSWORD, SSH_KEY, CERTIFICATE = "password", "SSH key", "certificate"
"""The kinds of credential a message issues."""

_SECRET_LINE = re.compile(
    r"^(?P<head>[ \t]*(?P<what>password|passphrase)[ \t]*:[ \t]*)(?P<value>\S.*)$",
    re.IGNORECASE | re.MULTILINE,
)
_PRIVATE_BLOCK = re.compile(
    r"-----BEGIN (?P<kind>[A-Z0-9 ]*)PRIVATE KEY-----.*?(?:-----END (?P=kind)PRIVATE KEY-----|\Z)",
    re.DOTALL,
)
_PRIVATE_MARKERS = (b"PRIVATE KEY-----", b"PuTTY-User-Key-File")


@dataclass(frozen=True)
class Redacted:
    """A message as staff may read it: every secret value replaced by a sentence saying where it
    went."""

    text: str
    withheld: tuple[str, ...]
    """What was taken out: ``password``, ``private key sc558aa_ed25519``, ..."""
    credentials: tuple[str, ...]
    """The credentials the message issued (:data:`PASSWORD`, :data:`SSH_KEY`,
    :data:`CERTIFICATE`), values or not."""

    @property
    def had_secrets(self) -> bool:
        return bool(self.withheld)


def redact(text: str) -> Redacted:
    """``text`` (an RFC 5322 message) with its secrets withheld: the value on a ``password:``
    (or ``passphrase:``) line of the text, every PEM or OpenSSH private key block in the text,
    and every attachment holding a private key. What they were, and which credentials the
    message issued, are kept (the holder got the values, once; staff regenerate, never read).
    A message without secrets comes back unchanged."""
    msg = message_from_string(text)
    withheld: list[str] = []
    issued: dict[str, None] = {}
    for part in msg.walk():
        if part.is_multipart():
            continue
        raw = part.get_payload(decode=True)
        payload = raw if isinstance(raw, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            if b"BEGIN CERTIFICATE" in payload:
                issued[CERTIFICATE] = None
            if b"OPENSSH PRIVATE KEY" in payload or payload.startswith(b"ssh-"):
                issued[SSH_KEY] = None
            if any(marker in payload for marker in _PRIVATE_MARKERS):
                withheld.append(f"private key {filename}")
                _replace_payload(part, PRIVATE_KEY_WITHHELD, attachment=True)
            continue
        charset = part.get_content_charset() or "utf-8"
        body = payload.decode(charset, "replace")
        found: list[str] = []

        def line(m: re.Match[str], found: list[str] = found) -> str:
            found.append(m["what"].lower())
            return m["head"] + PASSWORD_WITHHELD

        def block(m: re.Match[str], found: list[str] = found) -> str:
            found.append("private key")
            return PRIVATE_KEY_WITHHELD.strip()

        redacted = _PRIVATE_BLOCK.sub(block, _SECRET_LINE.sub(line, body))
        if found:
            withheld += found
            if PASSWORD in found:
                issued[PASSWORD] = None
            _replace_payload(part, redacted, attachment=False)
    if not withheld:
        return Redacted(text, (), tuple(issued))
    out = io.StringIO()
    Generator(out, mangle_from_=False, maxheaderlen=0).flatten(msg)
    return Redacted(out.getvalue(), tuple(withheld), tuple(issued))


def _replace_payload(part: Message, content: str, *, attachment: bool) -> None:
    del part["Content-Transfer-Encoding"]
    if attachment:
        part.set_payload(content.encode())
        encode_base64(part)
    else:
        part.set_payload(content, "us-ascii" if content.isascii() else _UTF8_QP)


# -- reading the outbox -----------------------------------------------------------------------


def outbox_text(site: Site, row: AccountMail) -> str | None:
    """The full text of a message: still queued (from the database), or delivered to the
    outbox (from the Maildir); None when it went out by SMTP (not kept)."""
    if row.sent_at is None:
        return row.message
    if row.outbox_key is None:
        return None
    try:
        box = mailbox.Maildir(site.outbox_dir, create=False)
        return box.get_bytes(row.outbox_key).decode("utf-8", "replace")
    except (KeyError, OSError):
        return None


__all__ = [
    "CERTIFICATE",
    "HEADER_ACCOUNT",
    "HEADER_COURSE",
    "PASSWORD",
    "PASSWORD_WITHHELD",
    "PRIVATE_KEY_WITHHELD",
    "SSH_KEY",
    "Attachment",
    "Delivery",
    "Redacted",
    "compose",
    "deliver_pending",
    "outbox_text",
    "queue",
    "redact",
    "transport_of",
]
