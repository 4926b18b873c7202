"""API v1: class accounts — assigning, the instructors' and TAs' actions, the term-end
schedule, wiping, the outbox; stems, generating ahead and metrics for administrators; one's own
public SSH keys.

Policies (the services check again, and also that the actor outranks the account: instructors
act over students and TAs, TAs over students only):

* ``mus`` in the course instance — listing, and actions over one account (reset the password or
  keys, resend credentials, freeze, thaw, correct the email, grant an incomplete) and reading
  the schedule: instructors, TAs, domain coordinators;
* ``men`` in the course instance — assigning, locking, wiping (and recycling), moving the end
  date, reading the outbox: instructors and coordinators;
* ``mau`` in the domain — stems, generating accounts ahead, the whole pool, the metrics:
  domain coordinators (administrators).

Messages are queued with the change and delivered right after the request commits (and by the
periodic job, which also finishes any wipe left unfinished).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import BackgroundTasks, FastAPI, Path, Request, Response
from pydantic import BaseModel, Field

from coursegate.accounts import mail, service, wipe
from coursegate.accounts.site import Site
from coursegate.api.deps import CALLER, Caller
from coursegate.api.policy import Routes, needs, signed_in
from coursegate.api.schemas import parse_instant
from coursegate.services.course_instances import find_course_instance
from coursegate.services.errors import NotFound
from coursegate.services.exceptions import course_zone
from coursegate.store.models import CourseInstance

routes = Routes(prefix="/api/v1", tags=["class accounts"])

CI = "/courses/{course}/instances/{instance}"
ACCOUNT = CI + "/accounts/{account}"
MAIL_ID = Path(ge=1, le=2**31 - 1, description="the message's id", examples=[1])
KEY_ID = Path(ge=1, le=2**31 - 1, description="the key's id", examples=[1])


def site_of(request: Request) -> Site:
    """The site settings of the running server (built once)."""
    return site_of_app(request.app)


def site_of_app(app: FastAPI) -> Site:
    state = app.state
    site: Site | None = getattr(state, "accounts_site", None)
    if site is None:
        site = Site.from_settings(state.settings)
        state.accounts_site = site
    return site


def _after_commit(request: Request, tasks: BackgroundTasks, wipe_ids: list[int] | None = None,
                  actor: str = "system") -> None:  # fmt: skip
    """Run the wipes started by this request, then deliver its mail, once it has committed."""
    app = request.app
    site = site_of(request)

    def work() -> None:
        at = app.state.clock()
        if wipe_ids:
            wipe.run_wipes(app.state.sessions, site, at=at, actor=actor, wipe_ids=wipe_ids)
        mail.deliver_pending(app.state.sessions, site, at=at)

    tasks.add_task(work)


def _ci(c: Caller, course: str, instance: str) -> CourseInstance:
    return find_course_instance(c.ctx, course, instance)


# -- shapes -----------------------------------------------------------------------------------


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


def _account_out(line: service.AccountLine, tz: Any = None) -> AccountOut:
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


# -- a course instance's accounts -------------------------------------------------------------


@routes.get(
    CI + "/accounts",
    policy=needs("mus", why="list the course instance's class accounts"),
    response_model=list[AccountOut],
)
def list_accounts(
    course: str, instance: str, request: Request, c: Caller = CALLER
) -> list[AccountOut]:
    """Every class account assigned in the course instance (students and TAs), with where its
    mail goes, its status and any incomplete."""
    ci = _ci(c, course, instance)
    lines = service.list_accounts(c.ctx, site_of(request), ci.course.name, ci.id)
    return [_account_out(line, course_zone(ci)) for line in lines]


@routes.post(
    CI + "/accounts",
    policy=needs("men", why="assign class accounts to students (or TAs) of the course instance"),
    response_model=AssignOut,
    status_code=201,
)
def assign(
    course: str, instance: str, body: AssignIn, request: Request, tasks: BackgroundTasks,
    c: Caller = CALLER,
) -> AssignOut:  # fmt: skip
    """Give each address a class account (generating more when the pool is short) with a new
    password, SSH keys, a client certificate, the forwarding alias and the Student (or TA) role;
    the credentials are mailed (SMTP, or the outbox). Addresses that already hold an account of
    the course are listed in ``already``. A bad line is an error naming it; nothing is
    assigned then."""
    ci = _ci(c, course, instance)
    site = site_of(request)
    entries = service.parse_list(body.emails, csv=body.csv)
    report = service.assign(
        c.ctx, site, site.issuer(), ci.id, entries, role=body.role, reason=body.reason
    )
    _after_commit(request, tasks)
    return AssignOut(**report.to_json())


@routes.post(
    CI + "/accounts/lock",
    policy=needs("men", why="lock class accounts of the course instance"),
    response_model=list[DoneOut],
)
def lock(course: str, instance: str, body: LockIn, c: Caller = CALLER) -> list[DoneOut]:
    """Lock accounts now (every student account when ``accounts`` is null): no sign-in, sessions
    and tokens end."""
    ci = _ci(c, course, instance)
    done = service.lock_accounts(c.ctx, ci.id, body.accounts, reason=body.reason)
    return [DoneOut(**d.to_json()) for d in done]


@routes.post(
    CI + "/accounts/unlock",
    policy=needs("men", why="unlock class accounts of the course instance"),
    response_model=list[DoneOut],
)
def unlock(course: str, instance: str, body: LockIn, c: Caller = CALLER) -> list[DoneOut]:
    """Unlock accounts locked by hand or by the schedule."""
    ci = _ci(c, course, instance)
    done = service.lock_accounts(c.ctx, ci.id, body.accounts, unlock=True, reason=body.reason)
    return [DoneOut(**d.to_json()) for d in done]


@routes.post(
    CI + "/accounts/wipe",
    policy=needs("men", why="wipe class accounts of the course instance"),
    response_model=WipeOut,
)
def wipe_accounts(
    course: str, instance: str, body: WipeIn, request: Request, tasks: BackgroundTasks,
    c: Caller = CALLER,
) -> WipeOut:  # fmt: skip
    """Wipe the listed accounts, or the whole class (``all``), returning them to the pool. The
    accounts of TAs and instructors are never wiped; accounts with an incomplete are refused
    (or, for the whole class, left alone)."""
    ci = _ci(c, course, instance)
    req = wipe.request_wipes(
        c.ctx, uids=body.accounts, course_instance_id=ci.id, whole_class=body.all,
        reason="wipe", note=body.reason,
    )  # fmt: skip
    _after_commit(request, tasks, req.wipe_ids, c.ctx.actor)
    return WipeOut(**req.to_json())


# -- the schedule -----------------------------------------------------------------------------


def _term_out(view: service.TermView) -> TermOut:
    return TermOut(**view.to_json())


@routes.get(
    CI + "/account-schedule",
    policy=needs("mus", why="see when the class accounts are locked and wiped"),
    response_model=TermOut,
)
def schedule(course: str, instance: str, c: Caller = CALLER) -> TermOut:
    """The end date (the course files' publishing end, or the one set here), when the student
    accounts are locked, the instructors reminded and the accounts wiped, and what is next."""
    ci = _ci(c, course, instance)
    return _term_out(service.term_view(c.ctx, ci.id))


@routes.put(
    CI + "/account-schedule",
    policy=needs("men", why="move the end date the class accounts' schedule counts from"),
    response_model=TermOut,
)
def set_end_date(course: str, instance: str, body: EndDateIn, c: Caller = CALLER) -> TermOut:
    """Move the end date (later postpones the lock, the reminder and the wipe; the next run of
    the schedule unlocks what it had locked). ``null`` goes back to the course files' date."""
    ci = _ci(c, course, instance)
    end = None if body.end is None else parse_instant(body.end, "end", course_zone(ci))
    return _term_out(service.set_end_date(c.ctx, ci.id, end, reason=body.reason))


# -- the outbox -------------------------------------------------------------------------------


@routes.get(
    CI + "/account-outbox",
    policy=needs("men", why="read the messages sent about the class accounts"),
    response_model=list[MailOut],
)
def outbox(course: str, instance: str, request: Request, c: Caller = CALLER) -> list[MailOut]:
    """Credentials and notices about the course instance's accounts, newest first: to whom,
    when, which credentials, delivered or not — never a secret's value."""
    ci = _ci(c, course, instance)
    return [
        MailOut(**v.to_json(course_zone(ci)))
        for v in service.outbox(c.ctx, site_of(request), ci.id)
    ]


@routes.get(
    CI + "/account-outbox/{mail_id}",
    policy=needs(
        "men",
        why="read a message sent about a class account (its credentials withheld)",
        secret=True,
    ),
    response_model=MailTextOut,
)
def outbox_message(
    course: str, instance: str, request: Request, mail_id: int = MAIL_ID, c: Caller = CALLER
) -> MailTextOut:
    """One message from the outbox (a message sent by SMTP is not kept), with every secret it
    carried withheld: a password or private key goes to the account's holder only, once; staff
    reset it to issue a new one, they never read it."""
    ci = _ci(c, course, instance)
    shown = service.outbox_message(c.ctx, site_of(request), ci.id, mail_id)
    return MailTextOut(
        **shown.view.to_json(course_zone(ci)), text=shown.text, withheld=list(shown.withheld)
    )


# -- one account ------------------------------------------------------------------------------


@routes.get(
    ACCOUNT,
    policy=needs("mus", why="see one of the course instance's class accounts"),
    response_model=AccountOut,
)
def get_account(
    course: str, instance: str, account: str, request: Request, c: Caller = CALLER
) -> AccountOut:
    ci = _ci(c, course, instance)
    for line in service.list_accounts(c.ctx, site_of(request), ci.course.name, ci.id):
        if line.account == account:
            return _account_out(line, course_zone(ci))
    raise NotFound(
        f"account: there is no class account {account!r} in {course} {instance}", "account"
    )


@routes.delete(
    ACCOUNT,
    policy=needs("men", why="delete (recycle) a class account of the course instance"),
    response_model=WipeOut,
)
def recycle(
    course: str, instance: str, account: str, request: Request, tasks: BackgroundTasks,
    c: Caller = CALLER,
) -> WipeOut:  # fmt: skip
    """Deleting a class account recycles it: it is wiped and returns to the pool."""
    ci = _ci(c, course, instance)
    req = wipe.request_wipes(c.ctx, uids=[account], course_instance_id=ci.id, reason="recycle")
    _after_commit(request, tasks, req.wipe_ids, c.ctx.actor)
    return WipeOut(**req.to_json())


def _done(d: service.Done) -> DoneOut:
    return DoneOut(**d.to_json())


@routes.post(
    ACCOUNT + "/reset-password",
    policy=needs("mus", why="reset a class account's password"),
    response_model=DoneOut,
)
def reset_password(
    course: str, instance: str, account: str, body: ReasonIn, request: Request,
    tasks: BackgroundTasks, c: Caller = CALLER,
) -> DoneOut:  # fmt: skip
    """A new generated password, mailed to the account's address; its sessions end."""
    ci = _ci(c, course, instance)
    done = service.reset_password(
        c.ctx, site_of(request), account, course_instance_id=ci.id, reason=body.reason
    )
    _after_commit(request, tasks)
    return _done(done)


@routes.post(
    ACCOUNT + "/reset-keys",
    policy=needs("mus", why="reset a class account's SSH keys and certificate"),
    response_model=DoneOut,
)
def reset_keys(
    course: str, instance: str, account: str, body: ReasonIn, request: Request,
    tasks: BackgroundTasks, c: Caller = CALLER,
) -> DoneOut:  # fmt: skip
    """Flush the account's SSH keys and certificates and mail new ones."""
    ci = _ci(c, course, instance)
    site = site_of(request)
    done = service.reset_keys(
        c.ctx, site, site.issuer(), account, course_instance_id=ci.id, reason=body.reason
    )
    _after_commit(request, tasks)
    return _done(done)


@routes.post(
    ACCOUNT + "/resend",
    policy=needs("mus", why="send a class account's credentials again"),
    response_model=DoneOut,
)
def resend(
    course: str, instance: str, account: str, body: ReasonIn, request: Request,
    tasks: BackgroundTasks, c: Caller = CALLER,
) -> DoneOut:  # fmt: skip
    """Send the credentials again: secrets are never kept, so a new password, new keys and a new
    certificate are issued (the old ones stop working)."""
    ci = _ci(c, course, instance)
    site = site_of(request)
    done = service.resend_credentials(
        c.ctx, site, site.issuer(), account, course_instance_id=ci.id, reason=body.reason
    )
    _after_commit(request, tasks)
    return _done(done)


@routes.post(
    ACCOUNT + "/freeze",
    policy=needs("mus", why="freeze a class account's web access"),
    response_model=DoneOut,
)
def freeze(course: str, instance: str, account: str, body: ReasonIn, c: Caller = CALLER) -> DoneOut:
    """Stop the account's web access (its sessions end)."""
    ci = _ci(c, course, instance)
    return _done(service.freeze(c.ctx, account, course_instance_id=ci.id, reason=body.reason))


@routes.post(
    ACCOUNT + "/thaw",
    policy=needs("mus", why="thaw (unfreeze) a class account's web access"),
    response_model=DoneOut,
)
def thaw(course: str, instance: str, account: str, body: ReasonIn, c: Caller = CALLER) -> DoneOut:
    """Give a frozen class account its web access back (failed sign-ins never freeze one)."""
    ci = _ci(c, course, instance)
    return _done(service.thaw(c.ctx, account, course_instance_id=ci.id, reason=body.reason))


@routes.put(
    ACCOUNT + "/email",
    policy=needs("mus", why="correct where a class account's mail goes"),
    response_model=DoneOut,
)
def correct_email(
    course: str, instance: str, account: str, body: EmailIn, c: Caller = CALLER
) -> DoneOut:
    """Correct the student's address (one authoritative address per person: the alias
    ``<account>@<mail domain>`` forwards to it)."""
    ci = _ci(c, course, instance)
    return _done(
        service.correct_email(
            c.ctx, account, body.email, course_instance_id=ci.id, reason=body.reason
        )
    )


@routes.put(
    ACCOUNT + "/incomplete",
    policy=needs("mus", why="grant a student an incomplete"),
    response_model=DoneOut,
)
def grant_incomplete(
    course: str, instance: str, account: str, body: ReasonIn, c: Caller = CALLER
) -> DoneOut:
    """The account is not locked at the end of the term (or is unlocked) and never wiped while
    the incomplete stands."""
    ci = _ci(c, course, instance)
    return _done(
        service.set_incomplete(c.ctx, account, course_instance_id=ci.id, reason=body.reason)
    )


@routes.delete(
    ACCOUNT + "/incomplete",
    policy=needs("mus", why="withdraw a student's incomplete"),
    response_model=DoneOut,
)
def withdraw_incomplete(course: str, instance: str, account: str, c: Caller = CALLER) -> DoneOut:
    """The term-end schedule applies to the account again."""
    ci = _ci(c, course, instance)
    return _done(service.set_incomplete(c.ctx, account, granted=False, course_instance_id=ci.id))


# -- administrators ---------------------------------------------------------------------------


@routes.get(
    "/account-stems",
    policy=needs("mau", on="domain", why="administrators manage class-account stems"),
    response_model=list[StemOut],
)
def list_stems(c: Caller = CALLER) -> list[StemOut]:
    """Every stem of the courses the caller administers, with how many accounts it has."""
    return [StemOut(**s.to_json()) for s in service.list_stems(c.ctx)]


@routes.post(
    "/courses/{course}/account-stems",
    policy=needs("mau", on="domain", why="administrators set class-account stems"),
    response_model=StemOut,
    status_code=201,
)
def add_stem(course: str, body: StemIn, c: Caller = CALLER) -> StemOut:
    """Give a course a stem (``sc558``: accounts ``sc558aa`` .. ``sc558zz``). Stems are unique and
    never reused; a course needing more than 676 accounts gets another stem."""
    return StemOut(**service.set_stem(c.ctx, course, body.stem, reason=body.reason).to_json())


@routes.get(
    "/courses/{course}/account-pool",
    policy=needs("mau", on="domain", why="administrators see every account of a course"),
    response_model=list[AccountOut],
)
def pool(course: str, request: Request, c: Caller = CALLER) -> list[AccountOut]:
    """Every account of the course's stems: free, assigned (in any term) and being wiped."""
    return [_account_out(line) for line in service.list_accounts(c.ctx, site_of(request), course)]


@routes.post(
    "/courses/{course}/account-pool",
    policy=needs("mau", on="domain", why="administrators generate class accounts ahead"),
    response_model=GenerateOut,
    status_code=201,
)
def generate(course: str, body: GenerateIn, request: Request, c: Caller = CALLER) -> GenerateOut:
    """Generate accounts ahead, in order, in the state of a wiped account (free, locked, ready
    to assign)."""
    report = service.generate(c.ctx, site_of(request).issuer(), course, body.count)
    return GenerateOut(**report.to_json())


@routes.get(
    "/account-metrics",
    policy=needs("mau", on="domain", why="administrators report usage to the funders"),
    response_model=list[MetricOut],
)
def metrics(c: Caller = CALLER, course: str | None = None) -> list[MetricOut]:
    """Accounts generated, assigned, re-assigned and wiped per course and term."""
    return [MetricOut(**r.to_json()) for r in service.metrics(c.ctx, course)]


# -- one's own SSH keys -----------------------------------------------------------------------


@routes.get(
    "/ssh-keys",
    policy=signed_in("one's own public SSH keys"),
    response_model=list[KeyOut],
)
def my_keys(c: Caller = CALLER) -> list[KeyOut]:
    """One's public SSH keys and certificates (staff keys reach their students' machines through
    the authorized_keys export)."""
    return [KeyOut(**k.to_json()) for k in service.keys_of(c.ctx, c.uid)]


@routes.post(
    "/ssh-keys",
    policy=signed_in("one's own public SSH keys"),
    response_model=KeyOut,
    status_code=201,
)
def add_key(body: KeyIn, c: Caller = CALLER) -> KeyOut:
    """Register one of one's public SSH keys (``ssh-ed25519 AAAA... comment``). A key of
    another type, longer than 16 KiB, holding control characters, an RSA key under 2048 bits
    or a private key pasted by mistake is refused (422) with the reason."""
    return KeyOut(**service.add_public_key(c.ctx, c.uid, body.public_key).to_json())


@routes.delete(
    "/ssh-keys/{key_id}",
    policy=signed_in("one's own public SSH keys"),
    status_code=204,
)
def remove_key(key_id: int = KEY_ID, c: Caller = CALLER) -> Response:
    service.remove_public_key(c.ctx, c.uid, key_id)
    return Response(status_code=204)
