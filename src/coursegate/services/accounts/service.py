"""Class accounts: the use cases, in one place to import them from — stems and the pool
(:mod:`~coursegate.services.accounts.pool`), assigning
(:mod:`~coursegate.services.accounts.assign`), the instructors' and TAs' actions
(:mod:`~coursegate.services.accounts.actions`), and reading: the list, the schedule and the end
date, the outbox, the metrics (:mod:`~coursegate.services.accounts.views`).

Every function takes the caller's :class:`Ctx`, checks privileges through the roles core,
records each change in the history with the acting user, and works in the caller's single
transaction. Messages (credentials, notices) are queued in that transaction and delivered by
the shell after it commits (:mod:`coursegate.services.accounts.mail`). Wiping is
:mod:`coursegate.services.accounts.wipe`; the term-end schedule
:mod:`coursegate.services.accounts.schedule`.

Who may do what:

* setting a stem, generating accounts ahead: ``mau`` in the course's domain (a domain
  coordinator, the superuser) or the operator;
* assigning students: ``men`` (manage enrollment) in the course instance; assigning TAs needs
  in addition the right to grant the TA role there (``cta``, checked by the roles core);
* moving the end date, locking and unlocking, wiping, reading the outbox: ``men`` — with every
  secret a message carried (a password, a private key) withheld: its value goes to the
  account's holder only, once; staff reset it to issue a new one. Only the operator reads a
  message whole (:func:`outbox_secrets`), and each such read is in the history
  (``secret.read``);
* over one account (reset the password or keys, resend credentials, freeze, thaw, grant an
  incomplete, correct the email), and listing: ``mus`` in its course instance, and the actor
  must outrank the account: instructors act over students and TAs, TAs over students only.
"""

from __future__ import annotations

from coursegate.services.accounts.actions import (
    Done,
    KeyView,
    add_public_key,
    correct_email,
    freeze,
    keys_of,
    lock_accounts,
    remove_public_key,
    resend_credentials,
    reset_keys,
    reset_password,
    set_incomplete,
    thaw,
)
from coursegate.services.accounts.assign import (
    AssignedLine,
    AssignReport,
    BadList,
    Entry,
    ListProblem,
    assign,
    parse_list,
)
from coursegate.services.accounts.pool import (
    GenerateReport,
    StemInfo,
    generate,
    list_stems,
    set_stem,
)
from coursegate.services.accounts.service_base import MANAGE, OVER_ACCOUNT
from coursegate.services.accounts.views import (
    POOL_TERM,
    AccountLine,
    MailText,
    MailView,
    MetricRow,
    TermView,
    effective_end,
    list_accounts,
    metrics,
    outbox,
    outbox_message,
    outbox_secrets,
    set_end_date,
    term_of,
    term_view,
)

__all__ = [
    "MANAGE",
    "OVER_ACCOUNT",
    "POOL_TERM",
    "AccountLine",
    "AssignReport",
    "AssignedLine",
    "BadList",
    "Done",
    "Entry",
    "GenerateReport",
    "KeyView",
    "ListProblem",
    "MailText",
    "MailView",
    "MetricRow",
    "StemInfo",
    "TermView",
    "add_public_key",
    "assign",
    "correct_email",
    "effective_end",
    "freeze",
    "generate",
    "keys_of",
    "list_accounts",
    "list_stems",
    "lock_accounts",
    "metrics",
    "outbox",
    "outbox_message",
    "outbox_secrets",
    "parse_list",
    "remove_public_key",
    "resend_credentials",
    "reset_keys",
    "reset_password",
    "set_end_date",
    "set_incomplete",
    "set_stem",
    "term_of",
    "term_view",
    "thaw",
]
