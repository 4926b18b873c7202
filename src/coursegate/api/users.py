"""API v1: users — create one, import a CSV file, read one, correct the email, freeze, thaw.

Users are named by their user id, never by an email address. Creating and importing need
``mau`` in the users' domain (a domain coordinator); correcting an email, freezing and thawing
need ``mus`` in a course instance where the user is enrolled (their instructors and TAs) or in
their domain; reading a user is for themselves and for staff over them (``vst``). Those checks
are the users service's (the routes are open to any signed-in user and the service answers 403
with the reason), because the place that grants the right is the user's, not the path's.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from coursegate.api.enrollment import CsvIn, ImportOut, import_out
from coursegate.api.exceptions import Body, every_problem
from coursegate.http.deps import CALLER, Caller
from coursegate.http.policy import Routes, signed_in
from coursegate.http.schemas import iso
from coursegate.services.people import user_import
from coursegate.services.people import users as U
from coursegate.store.models import User

routes = Routes(prefix="/api/v1", tags=["users"])

OVER_THEM = (
    "a person's own account: a domain coordinator of their domain or a superuser (mau), over"
    " people whose roles are all below theirs; never course staff, never in view-as (checked"
    " by the service)"
)


class UserOut(BaseModel):
    uid: str = Field(examples=["ana@example.edu"])
    name: str = Field(examples=["Ana Alvarez"])
    who: str = Field(description="uid and full name together", examples=["Ana Alvarez (ana)"])
    email: str | None = Field(description="the one authoritative address")
    auth: str = Field(description="internal | unix | kerberos | external")
    domain: str = Field(examples=["exampleuniversity"])
    status: str = Field(description="active | frozen (web access stopped) | locked")
    class_account: bool
    created_at: str


def user_out(user: User) -> UserOut:
    return UserOut(
        uid=user.uid,
        name=user.name,
        who=f"{user.name} ({user.uid})" if user.name else user.uid,
        email=user.email,
        auth=user.auth,
        domain=user.domain.name,
        status=user.status,
        class_account=user.class_account,
        created_at=iso(user.created_at),
    )


class UserIn(Body):
    uid: str = Field(min_length=1, max_length=200, examples=["eve@example.edu"])
    name: str = Field(max_length=200, examples=["Eve Evans"])
    email: str = Field(max_length=320, examples=["eve@example.edu"])
    domain: str | None = Field(
        None, max_length=100, description="default: your own domain", examples=["exampleuniversity"]
    )
    auth: str = Field(
        "internal", max_length=20, description="internal | unix | kerberos | external"
    )
    password: str | None = Field(
        None,
        max_length=1000,
        description="internal accounts: a first password (at least 10 characters)",
    )


class UsersCsvIn(CsvIn):
    domain: str | None = Field(
        None, max_length=100, description="for rows without a domain column; default: yours"
    )
    csv: str = Field(
        max_length=5_000_000,
        description="header uid,name,email[,auth][,domain]",
        examples=["uid,name,email\neve@example.edu,Eve Evans,eve@example.edu\n"],
    )


class EmailIn(Body):
    email: str = Field(max_length=320, examples=["ana.alvarez@example.edu"])
    reason: str = Field("", max_length=2000, examples=["the registrar's record was wrong"])


class AccountReason(Body):
    reason: str = Field("", max_length=2000, examples=["forgot the password"])


def _own_domain(c: Caller) -> str:
    assert c.user is not None
    return c.user.domain.name


@routes.post(
    "/users",
    policy=signed_in("creating users needs mau in their domain (checked by the service)"),
    status_code=201,
    response_model=UserOut,
)
def create_user(body: UserIn, c: Caller = CALLER) -> UserOut:
    """Create a user (a domain coordinator, in their domain)."""
    user = U.create_user(
        c.ctx, body.uid, body.name, body.email, domain=body.domain or _own_domain(c),
        auth=body.auth, password=body.password,
    )  # fmt: skip
    return user_out(user)


@routes.post(
    "/users/import",
    policy=signed_in("creating users needs mau in their domain (checked by the service)"),
    response_model=ImportOut,
)
def import_users(body: UsersCsvIn, c: Caller = CALLER) -> Any:
    """Create the users of a CSV file, all or nothing: every bad cell is listed in ``errors``
    (line, column, message). Rows for users that already exist with the same fields are left
    alone, so importing the same file again changes nothing."""
    domain = body.domain or _own_domain(c)
    return every_problem(
        c, lambda: import_out(user_import.import_users(c.ctx, body.csv, default_domain=domain))
    )


@routes.get(
    "/users/{uid}",
    policy=signed_in(
        "oneself, an administrator over them, or staff of a course where the user now holds a"
        " role below theirs (vst), checked by the service"
    ),
    response_model=UserOut,
)
def get_user(uid: str, c: Caller = CALLER) -> UserOut:
    return user_out(U.get_user(c.ctx, uid))


@routes.put("/users/{uid}/email", policy=signed_in(OVER_THEM), response_model=UserOut)
def correct_email(uid: str, body: EmailIn, c: Caller = CALLER) -> UserOut:
    """Correct the user's one authoritative email (forwarding aliases follow; the history
    keeps the old and the new address)."""
    return user_out(U.correct_email(c.ctx, uid, body.email, reason=body.reason))


@routes.post("/users/{uid}/freeze", policy=signed_in(OVER_THEM), response_model=UserOut)
def freeze(uid: str, body: AccountReason | None = None, c: Caller = CALLER) -> UserOut:
    """Stop the user's access: status frozen; their sessions and API tokens end now."""
    reason = body.reason if body is not None else ""
    return user_out(U.freeze_user(c.ctx, uid, reason=reason))


@routes.post("/users/{uid}/thaw", policy=signed_in(OVER_THEM), response_model=UserOut)
def thaw(uid: str, body: AccountReason | None = None, c: Caller = CALLER) -> UserOut:
    """Unfreeze the user (web access frozen by an administrator; failed sign-ins never freeze
    it): status active; they sign in again."""
    reason = body.reason if body is not None else ""
    return user_out(U.thaw_user(c.ctx, uid, reason=reason))
