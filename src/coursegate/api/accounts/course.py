"""API v1: a course instance's class accounts — listing, assigning, locking, wiping, the
term-end schedule and the outbox. The other class-account routes: the actions over one account
(:mod:`coursegate.api.accounts.actions`), stems, the pool and metrics for administrators
(:mod:`coursegate.api.accounts.admin`), one's own public SSH keys (:mod:`coursegate.api.ssh_keys`);
their shapes are :mod:`coursegate.api.accounts.shapes`.

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
periodic job, which also finishes any wipe left unfinished): :func:`after_commit`.
"""

from __future__ import annotations

from fastapi import BackgroundTasks, Path, Request

from coursegate.api.accounts.shapes import (
    AccountOut,
    AssignIn,
    AssignOut,
    DoneOut,
    EndDateIn,
    LockIn,
    MailOut,
    MailTextOut,
    TermOut,
    WipeIn,
    WipeOut,
    account_out,
)
from coursegate.http.background import after_commit, site_of
from coursegate.http.deps import CALLER, Caller
from coursegate.http.policy import Routes, needs
from coursegate.http.schemas import parse_instant
from coursegate.services.accounts import service, wipe_request
from coursegate.services.common.places import course_zone, find_course_instance
from coursegate.store.models import CourseInstance

routes = Routes(prefix="/api/v1", tags=["class accounts"])

CI = "/courses/{course}/instances/{instance}"
MAIL_ID = Path(ge=1, le=2**31 - 1, description="the message's id", examples=[1])


def find_ci(c: Caller, course: str, instance: str) -> CourseInstance:
    return find_course_instance(c.ctx, course, instance)


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
    ci = find_ci(c, course, instance)
    lines = service.list_accounts(c.ctx, site_of(request), ci.course.name, ci.id)
    return [account_out(line, course_zone(ci)) for line in lines]


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
    ci = find_ci(c, course, instance)
    site = site_of(request)
    entries = service.parse_list(body.emails, csv=body.csv)
    report = service.assign(
        c.ctx, site, site.issuer(), ci.id, entries, role=body.role, reason=body.reason
    )
    after_commit(request, tasks)
    return AssignOut(**report.to_json())


@routes.post(
    CI + "/accounts/lock",
    policy=needs("men", why="lock class accounts of the course instance"),
    response_model=list[DoneOut],
)
def lock(course: str, instance: str, body: LockIn, c: Caller = CALLER) -> list[DoneOut]:
    """Lock accounts now (every student account when ``accounts`` is null): no sign-in, sessions
    and tokens end."""
    ci = find_ci(c, course, instance)
    done = service.lock_accounts(c.ctx, ci.id, body.accounts, reason=body.reason)
    return [DoneOut(**d.to_json()) for d in done]


@routes.post(
    CI + "/accounts/unlock",
    policy=needs("men", why="unlock class accounts of the course instance"),
    response_model=list[DoneOut],
)
def unlock(course: str, instance: str, body: LockIn, c: Caller = CALLER) -> list[DoneOut]:
    """Unlock accounts locked by hand or by the schedule."""
    ci = find_ci(c, course, instance)
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
    ci = find_ci(c, course, instance)
    req = wipe_request.request_wipes(
        c.ctx, uids=body.accounts, course_instance_id=ci.id, whole_class=body.all,
        reason="wipe", note=body.reason,
    )  # fmt: skip
    after_commit(request, tasks, req.wipe_ids, c.ctx.actor)
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
    ci = find_ci(c, course, instance)
    return _term_out(service.term_view(c.ctx, ci.id))


@routes.put(
    CI + "/account-schedule",
    policy=needs("men", why="move the end date the class accounts' schedule counts from"),
    response_model=TermOut,
)
def set_end_date(course: str, instance: str, body: EndDateIn, c: Caller = CALLER) -> TermOut:
    """Move the end date (later postpones the lock, the reminder and the wipe; the next run of
    the schedule unlocks what it had locked). ``null`` goes back to the course files' date."""
    ci = find_ci(c, course, instance)
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
    ci = find_ci(c, course, instance)
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
    ci = find_ci(c, course, instance)
    shown = service.outbox_message(c.ctx, site_of(request), ci.id, mail_id)
    return MailTextOut(
        **shown.view.to_json(course_zone(ci)), text=shown.text, withheld=list(shown.withheld)
    )
