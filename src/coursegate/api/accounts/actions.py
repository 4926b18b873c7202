"""API v1: one class account of a course instance — reading it, and the instructors' and TAs'
actions over it: recycling, new password, keys or credentials, freezing and thawing, correcting
the email, granting or withdrawing an incomplete (policies in
:mod:`coursegate.api.accounts.course`)."""

from __future__ import annotations

from fastapi import BackgroundTasks, Request

from coursegate.api.accounts.course import CI, find_ci
from coursegate.api.accounts.shapes import (
    AccountOut,
    DoneOut,
    EmailIn,
    ReasonIn,
    WipeOut,
    account_out,
)
from coursegate.http.background import after_commit, site_of
from coursegate.http.deps import CALLER, Caller
from coursegate.http.policy import Routes, needs
from coursegate.services.accounts import service, wipe_request
from coursegate.services.common.errors import NotFound
from coursegate.services.common.places import course_zone

routes = Routes(prefix="/api/v1", tags=["class accounts"])

ACCOUNT = CI + "/accounts/{account}"


@routes.get(
    ACCOUNT,
    policy=needs("mus", why="see one of the course instance's class accounts"),
    response_model=AccountOut,
)
def get_account(
    course: str, instance: str, account: str, request: Request, c: Caller = CALLER
) -> AccountOut:
    ci = find_ci(c, course, instance)
    for line in service.list_accounts(c.ctx, site_of(request), ci.course.name, ci.id):
        if line.account == account:
            return account_out(line, course_zone(ci))
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
    ci = find_ci(c, course, instance)
    req = wipe_request.request_wipes(
        c.ctx, uids=[account], course_instance_id=ci.id, reason="recycle"
    )
    after_commit(request, tasks, req.wipe_ids, c.ctx.actor)
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
    ci = find_ci(c, course, instance)
    done = service.reset_password(
        c.ctx, site_of(request), account, course_instance_id=ci.id, reason=body.reason
    )
    after_commit(request, tasks)
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
    ci = find_ci(c, course, instance)
    site = site_of(request)
    done = service.reset_keys(
        c.ctx, site, site.issuer(), account, course_instance_id=ci.id, reason=body.reason
    )
    after_commit(request, tasks)
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
    ci = find_ci(c, course, instance)
    site = site_of(request)
    done = service.resend_credentials(
        c.ctx, site, site.issuer(), account, course_instance_id=ci.id, reason=body.reason
    )
    after_commit(request, tasks)
    return _done(done)


@routes.post(
    ACCOUNT + "/freeze",
    policy=needs("mus", why="freeze a class account's web access"),
    response_model=DoneOut,
)
def freeze(course: str, instance: str, account: str, body: ReasonIn, c: Caller = CALLER) -> DoneOut:
    """Stop the account's web access (its sessions end)."""
    ci = find_ci(c, course, instance)
    return _done(service.freeze(c.ctx, account, course_instance_id=ci.id, reason=body.reason))


@routes.post(
    ACCOUNT + "/thaw",
    policy=needs("mus", why="thaw (unfreeze) a class account's web access"),
    response_model=DoneOut,
)
def thaw(course: str, instance: str, account: str, body: ReasonIn, c: Caller = CALLER) -> DoneOut:
    """Give a frozen class account its web access back (failed sign-ins never freeze one)."""
    ci = find_ci(c, course, instance)
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
    ci = find_ci(c, course, instance)
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
    ci = find_ci(c, course, instance)
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
    ci = find_ci(c, course, instance)
    return _done(service.set_incomplete(c.ctx, account, granted=False, course_instance_id=ci.id))
