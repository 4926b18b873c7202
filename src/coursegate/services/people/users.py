"""Users: create one, read one, correct an email, freeze and thaw (importing many from a CSV
file is :mod:`coursegate.services.people.user_import`).

Users are identified by their user id (never by an email address) and have one authoritative
email address. Forwarding aliases (``email_aliases``) point at the user, not at an address, so
they follow a corrected email without being touched.

Who may do what (always asked of the roles core through :func:`authz.require`):

* creating or importing users needs ``mau`` (modify users' authentication) in the users'
  domain — a domain coordinator — or the system actor (the operator);
* correcting an email, freezing and thawing act on a person's own account: the person, a
  domain coordinator of their domain or a superuser, over people whose roles are all below
  theirs (:func:`coursegate.roles.over_account`), or the system actor — never course staff,
  and never while viewing as someone;
* reading a record: also staff of a course where the person now holds a role below theirs.
"""

from __future__ import annotations

from coursegate.roles import Area
from coursegate.services.common.authz import require
from coursegate.services.common.conflicts import flush_or_conflict, translate_conflicts
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Conflict, Invalid, NotFound
from coursegate.services.history.log import record
from coursegate.services.people.persons import require_over_account, require_see_person
from coursegate.services.people.signin import (
    check_password_strength,
    end_all_access,
    store_password,
)
from coursegate.services.people.user_fields import (
    NewUser,
    check_new_user,
    domain_ids,
    email_owner,
    normalise_email,
    uid_owner,
    uid_taken,
)
from coursegate.store.models import (
    CourseInstance,
    Credential,
    User,
)

"""Enrollment statuses that make a course instance "the user's course"."""


# -- creating users ---------------------------------------------------------------------------


def require_create_in(ctx: Ctx, domain: str) -> None:
    """Creating users needs ``mau`` in their domain (a domain coordinator) or the system."""
    if ctx.is_system:
        return
    require(ctx, "mau", Area.of_domain(domain), f"create users in the domain {domain}")


@translate_conflicts
def create_user(
    ctx: Ctx,
    uid: str,
    name: str,
    email: str,
    *,
    domain: str,
    auth: str = "internal",
    class_course_instance_id: int | None = None,
    password: str | None = None,
) -> User:
    """Create one user; ``class_course_instance_id`` makes it a class account of that course
    instance (it may then be enrolled there only). ``password`` (internal accounts only) is
    their first password, stored as an argon2id hash and never in the history."""
    domains = domain_ids(ctx)
    new, problems = check_new_user(uid, name, email, auth, domain, domains)
    if new is None:
        raise Invalid("; ".join(f"{f}: {m}" for f, m in problems), problems[0][0])
    require_create_in(ctx, new.domain)
    if password is not None:
        if new.auth != "internal":
            raise Invalid(
                f"password: {new.auth} accounts sign in elsewhere; only internal accounts have "
                "a coursegate password",
                "password",
            )
        check_password_strength(password)
    taken_by = uid_owner(ctx, new.uid)
    if taken_by is not None:
        raise Conflict(f"uid: {uid_taken(new.uid, uid, taken_by)}", "uid")
    owner = email_owner(ctx, new.email)
    if owner is not None:
        raise Conflict(f"email: {new.email} already belongs to {owner}", "email")
    if (
        class_course_instance_id is not None
        and ctx.session.get(CourseInstance, class_course_instance_id) is None
    ):
        raise NotFound(
            f"class_course_instance_id: there is no course instance {class_course_instance_id}",
            "class_course_instance_id",
        )
    user = add_user(ctx, new, domains[new.domain], via="create")
    if class_course_instance_id is not None:
        user.class_account = True
        user.class_course_instance_id = class_course_instance_id
    flush_or_conflict(ctx)
    if password is not None:
        store_password(ctx, user, password)
        flush_or_conflict(ctx)
    return user


def add_user(ctx: Ctx, new: NewUser, domain_id: int, *, via: str) -> User:
    user = User(
        uid=new.uid,
        name=new.name,
        email=new.email,
        auth=new.auth,
        domain_id=domain_id,
        status="active",
        class_account=False,
        created_at=ctx.at,
    )
    ctx.session.add(user)
    record(
        ctx, "user.create", "user", new.uid,
        name=new.name, email=new.email, auth=new.auth, domain=new.domain, via=via,
    )  # fmt: skip
    return user


# -- one user's record ------------------------------------------------------------------------


def get_user(ctx: Ctx, uid: str) -> User:
    """One user's record: the user themselves (the real user: whom one views as is not
    oneself), whoever may act on their account (their domain coordinator, an administrator),
    staff of a course where the user now holds a role below theirs (``vst``), or the system.
    An invitation or a block puts no one under anyone."""
    user = ctx.user(uid)
    require_see_person(ctx, user)
    return user


# -- correcting an email ----------------------------------------------------------------------


@translate_conflicts
def correct_email(ctx: Ctx, uid: str, new_email: str, *, reason: str = "") -> User:
    """Replace ``uid``'s authoritative email. Their forwarding aliases point at the user, so
    they follow. History keeps the old and the new address."""
    user = ctx.user(uid)
    try:
        email = normalise_email(new_email)
    except ValueError as error:
        raise Invalid(f"email: {error}", "email") from None
    authority = require_over_account(ctx, user, f"correct the email of {uid}")
    if email == user.email:
        return user
    owner = email_owner(ctx, email)
    if owner is not None:
        raise Conflict(f"email: {email} already belongs to {owner}", "email")
    old = user.email
    user.email = email
    record(
        ctx, "user.email", "user", uid,
        reason=reason, old=old, new=email, authority=authority.basis,
    )  # fmt: skip
    flush_or_conflict(ctx)
    return user


# -- freezing and thawing ---------------------------------------------------------------------


@translate_conflicts
def freeze_user(ctx: Ctx, uid: str, *, reason: str = "") -> User:
    """Stop ``uid``'s access (status active → frozen): their signed-in sessions and API tokens
    end now, so after a thaw they sign in again and make new tokens (whoever may have used
    them meanwhile is out for good). Freezing a frozen user changes nothing."""
    return _set_status(ctx, uid, "frozen", reason, "freeze")


@translate_conflicts
def thaw_user(ctx: Ctx, uid: str, *, reason: str = "") -> User:
    """Give a frozen user their access back (status frozen → active)."""
    return _set_status(ctx, uid, "active", reason, "thaw")


def _set_status(ctx: Ctx, uid: str, status: str, reason: str, verb: str) -> User:
    user = ctx.user(uid)
    authority = require_over_account(ctx, user, f"{verb} the web access of {uid}")
    if user.status == "locked":
        raise Invalid(
            f"status: {uid} is locked (the account is shut); a locked account is neither "
            "frozen nor thawed",
            "status",
        )
    if user.status == status:
        return user
    old = user.status
    user.status = status
    ended: dict[str, int] = {}
    if status == "active":
        # Thawing starts the count of failed sign-ins afresh (shown to administrators).
        cred = ctx.session.get(Credential, user.id)
        if cred is not None:
            cred.failed_attempts = 0
    else:
        sessions, tokens = end_all_access(ctx, user)
        counts = {"sessions_ended": sessions, "tokens_revoked": tokens}
        ended = {k: n for k, n in counts.items() if n}  # the history says what ended, if any
    record(
        ctx, f"user.{verb}", "user", uid,
        reason=reason, old=old, new=status, authority=authority.basis, **ended,
    )  # fmt: skip
    flush_or_conflict(ctx)
    return user


__all__ = [
    "correct_email",
    "create_user",
    "freeze_user",
    "get_user",
    "thaw_user",
]
