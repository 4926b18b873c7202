"""User ids in their canonical form (:func:`coursegate.core.model.canonical_uid`: an
email-shaped id lower-cased as a whole), and the clashes that keep some from it.

Migration 0008 brought every stored user id to its canonical form with plain ``UPDATE``\\ s (no
table is rebuilt, so migration 0007's triggers stay). Where two users' ids differ only by case
(``Ana@example.edu`` and ``ana@example.edu``) it merges nothing: both rows stay exactly as they
were, and the clash is reported — by the migration, and whenever an administrator runs
``coursegate db uid-clashes``. Until someone decides which account is the person's, each is
reached by its own id typed exactly.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy import Connection

from coursegate.core.model import canonical_uid

log = logging.getLogger("coursegate.store.canonical_uids")

_USERS = sa.table("users", sa.column("id", sa.Integer), sa.column("uid", sa.String))
"""The two columns used, named here so that the migration does not follow later models."""


@dataclass(frozen=True)
class UidClash:
    canonical: str
    """The one id these users' ids would all become."""
    uids: tuple[str, ...]
    """The stored ids (sorted), all left as they are."""

    def sentence(self) -> str:
        listed = ", ".join(repr(u) for u in self.uids)
        return (
            f"the users {listed} have the same user id but for upper/lower case "
            f"({self.canonical!r}); none was changed or merged: decide which account is the "
            "person's (freeze the other), and each is signed in to by typing its id exactly"
        )


@dataclass
class Canonicalised:
    renamed: list[tuple[str, str]] = field(default_factory=list)
    """``(old, new)`` for each id changed."""
    clashes: list[UidClash] = field(default_factory=list)


def _groups(conn: Connection) -> dict[str, list[tuple[int, str]]]:
    groups: dict[str, list[tuple[int, str]]] = defaultdict(list)
    rows = conn.execute(sa.select(_USERS.c.id, _USERS.c.uid).where(_USERS.c.uid.contains("@")))
    for user_id, uid in rows:
        groups[canonical_uid(uid)].append((int(user_id), str(uid)))
    return groups


def uid_clashes(conn: Connection) -> list[UidClash]:
    """Every set of users whose ids are one id but for case, sorted by that id."""
    return [
        UidClash(key, tuple(sorted(uid for _, uid in rows)))
        for key, rows in sorted(_groups(conn).items())
        if len(rows) > 1
    ]


def canonicalise_uids(conn: Connection) -> Canonicalised:
    """Give every user id its canonical form, except those in a clash (left as they are, and
    logged as warnings). Plain ``UPDATE``\\ s in the caller's transaction."""
    done = Canonicalised()
    changes: list[dict[str, object]] = []
    for key, rows in sorted(_groups(conn).items()):
        if len(rows) > 1:
            clash = UidClash(key, tuple(sorted(uid for _, uid in rows)))
            done.clashes.append(clash)
            log.warning("user id clash: %s", clash.sentence())
            continue
        user_id, uid = rows[0]
        if uid != key:
            changes.append({"user_id": user_id, "canonical": key})
            done.renamed.append((uid, key))
    if changes:  # one statement, many rows
        conn.execute(
            sa.update(_USERS)
            .where(_USERS.c.id == sa.bindparam("user_id"))
            .values(uid=sa.bindparam("canonical")),
            changes,
        )
    if done.renamed:
        log.info("user ids made canonical (lower case): %d", len(done.renamed))
    return done
