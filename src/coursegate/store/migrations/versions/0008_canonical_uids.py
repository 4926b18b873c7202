"""canonical user ids: email-shaped user ids lower-cased, clashes reported and left alone

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 09:00:00

Sign-in and every other place a user id is read match email-shaped ids whatever their case
(``coursegate.core.model.canonical_uid``). This brings the stored ids to that form with plain
``UPDATE``\\ s — no table is rebuilt, so the triggers of migration 0007 stay — and merges
nothing: where two users' ids differ only by case, both rows stay untouched and the clash is
logged as a warning (and reported again by ``coursegate db uid-clashes``).

Downgrading does not restore the old case (it is not kept anywhere); it changes nothing.
"""

from __future__ import annotations

from alembic import op

from coursegate.store.canonical_uids import canonicalise_uids

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    canonicalise_uids(op.get_bind())  # logs each clash as a warning


def downgrade() -> None:
    pass
