"""The JSON shapes of the class-account routes (requests and answers), and how a listed
account becomes one."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from coursegate.services.accounts import service


class AccountOut(BaseModel):
    """A class account as its course's staff see it."""

    account: str = Field(examples=["sc558aa"])
    name: str = Field(examples=["Ana Alvarez"])
    email: str | None = Field(
        None, description="where its mail goes: the person's one address", examples=["a@x.edu"]
    )
    alias: str = Field(examples=["sc558aa@users.example.edu"])
    role: str | None = Field(None, description="st | ta (None: free)", examples=["st"])
    state: str = Field(description="free | assigned | wiping", examples=["assigned"])
    status: str = Field(description="active | frozen | locked", examples=["active"])
    course_instance: str | None = Field(None, examples=["CG 101 Sp24"])
    incomplete: bool = False
    lock_reason: str | None = Field(None, description="term | manual | wipe", examples=[None])
    assigned_at: str | None = Field(None, examples=["2024-01-24T20:00:00-06:00"])
    times_assigned: int = Field(0, examples=[1])
    wipe_steps_done: int | None = Field(None, description="while being wiped", examples=[None])


def account_out(line: service.AccountLine, tz: Any = None) -> AccountOut:
    return AccountOut(**line.to_json(tz))


class AssignIn(BaseModel):
    """Addresses to give accounts: pasted (one a line: ``address``, ``address, Full Name`` or
    ``Full Name <address>``) or a CSV file with a header ``email[,name]``."""

    emails: str = Field(
        min_length=1,
        max_length=500_000,
        examples=["ana@example.edu\nBen Brown <ben@example.edu>\ncarl@example.edu, Carl Cruz"],
    )
    csv: bool = Field(False, description="the text is a CSV file with a header")
    role: Literal["st", "ta"] = Field("st", description="st: students; ta: TAs")
    reason: str = Field("", max_length=1000)


class AssignedOut(BaseModel):
    line: int
    account: str = Field(examples=["sc558aa"])
    email: str = Field(examples=["ana@example.edu"])
    name: str
    alias: str = Field(examples=["sc558aa@users.example.edu"])
    reassigned: bool = Field(description="a recycled account")
    mail_follows: str | None = Field(
        None, description="the user whose address it is, when not the account's own"
    )


class AlreadyOut(BaseModel):
    line: int
    email: str
    account: str = Field(description="the account (and course instance) the address holds")


class AssignOut(BaseModel):
    course_instance: str = Field(examples=["CG 101 Sp24"])
    role: str = Field(examples=["st"])
    assigned: list[AssignedOut]
    already: list[AlreadyOut] = Field(description="addresses that hold an account already")
    generated: list[str] = Field(description="accounts generated because the pool was short")


class DoneOut(BaseModel):
    """What an action did."""

    account: str = Field(examples=["sc558aa"])
    action: str = Field(examples=["reset-password"])
    changed: bool
    message: str = Field(examples=["sc558aa: new password mailed to ana@example.edu"])
    mail_to: str | None = None


class ReasonIn(BaseModel):
    reason: str = Field("", max_length=1000, examples=["asked by the student"])


class EmailIn(BaseModel):
    email: str = Field(min_length=1, max_length=320, examples=["ana.alvarez@example.edu"])
    reason: str = Field("", max_length=1000)


class LockIn(BaseModel):
    accounts: list[str] | None = Field(
        None, description="the accounts (None: every student account)", examples=[["sc558aa"]]
    )
    reason: str = Field("", max_length=1000)


class WipeIn(BaseModel):
    accounts: list[str] = Field(default_factory=list, examples=[["sc558aa"]])
    all: bool = Field(
        False, description="every student account (incompletes and TAs are left alone)"
    )
    reason: str = Field("", max_length=1000)


class SkippedOut(BaseModel):
    account: str
    why: str


class WipeOut(BaseModel):
    """Wipes started: the accounts are ``wiping`` until every step is done (just after this
    answer; a wipe interrupted is finished by the periodic job)."""

    reason: str = Field(examples=["wipe"])
    started: list[str]
    resumed: list[str]
    already_free: list[str]
    skipped: list[SkippedOut]


class TermStepOut(BaseModel):
    step: str = Field(examples=["lock"])
    at: str | None = Field(examples=["2024-05-17T23:59:59-05:00"])


class TermOut(BaseModel):
    """Where a course instance stands in the term-end schedule."""

    course_instance: str = Field(examples=["CG 101 Sp24"])
    end: str | None = Field(examples=["2024-05-17T23:59:59-05:00"])
    end_from: str = Field(description="course files | moved | none", examples=["course files"])
    phase: str = Field(examples=["term running"])
    lock_at: str | None
    reminder_at: str | None
    wipe_at: str | None
    next_step: TermStepOut | None
    students: int
    incompletes: int
    locked: int


class EndDateIn(BaseModel):
    end: str | None = Field(
        description="the new end date (ISO 8601; without an offset, wall time in the course "
        "instance's zone); null: back to the course files' publishing end",
        examples=["2024-05-31T23:59:00"],
    )
    reason: str = Field("", max_length=1000)


class MailOut(BaseModel):
    id: int
    created_at: str
    kind: str = Field(examples=["credentials"])
    account: str | None = Field(None, examples=["sc558aa"])
    to: str = Field(examples=["ana@example.edu"])
    subject: str
    sent_at: str | None
    status: str = Field(examples=["in the outbox"])
    last_error: str | None = None
    credentials: list[str] | None = Field(
        None,
        description="the credentials the message issued (password, SSH key, certificate): "
        "their values went to the account's holder only; null when the text is not kept "
        "(sent by SMTP)",
        examples=[["password", "SSH key", "certificate"]],
    )


class MailTextOut(MailOut):
    text: str | None = Field(
        description="the whole message with its secrets withheld: a password or private key "
        "it carried reads as a sentence saying it went to the holder only (reset it to issue "
        "a new one); None when it went out by SMTP (not kept)"
    )
    withheld: list[str] = Field(
        default_factory=list,
        description="what the message carried that only its holder reads",
        examples=[["password", "private key sc558aa_ed25519", "private key sc558aa.key.pem"]],
    )


class StemIn(BaseModel):
    stem: str = Field(min_length=1, max_length=40, examples=["sc558"])
    reason: str = Field("", max_length=1000)


class StemOut(BaseModel):
    stem: str = Field(examples=["sc558"])
    course: str = Field(examples=["CG 101"])
    generated: int
    free: int
    assigned: int
    wiping: int
    room: int = Field(description="accounts the stem can still make (676 in all)")
    first: str = Field(examples=["sc558aa"])
    last: str | None = Field(examples=["sc558bz"])


class GenerateIn(BaseModel):
    count: int = Field(ge=1, le=6760, examples=[50])


class GenerateOut(BaseModel):
    course: str
    generated: list[str]


class MetricOut(BaseModel):
    course: str = Field(examples=["CG 101"])
    term: str = Field(
        description="the course instance; (ahead): generated ahead", examples=["Sp24"]
    )
    generated: int
    assigned: int = Field(description="every assignment, re-assignments included")
    reassigned: int = Field(description="assignments of recycled accounts")
    wiped: int


class KeyIn(BaseModel):
    public_key: str = Field(
        min_length=1,
        max_length=64 * 1024,
        description="one line of a .pub file (at most 16 KiB): ssh-ed25519, "
        "ecdsa-sha2-nistp256/384/521, ssh-rsa of 2048 bits or more, sk-ssh-ed25519@openssh.com "
        "or sk-ecdsa-sha2-nistp256@openssh.com",
        examples=["ssh-ed25519 AAAAC3Nza... ivy@laptop"],
    )


class KeyOut(BaseModel):
    id: int
    uid: str
    kind: str = Field(examples=["ssh"])
    fingerprint: str = Field(examples=["SHA256:4b8V..."])
    public: str | None
    origin: str = Field(examples=["uploaded"])
    created_at: str
