"""LMS platforms: whether ContentDeveloper gives the Author role; LMS courses' dates

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 12:00:00

The seed's Author role is held in a domain and edits (syncs) every course there, so, like the
LMS's Administrator role, an LMS's ContentDeveloper gives it only where the administrator
allowed it for that platform (``lti_platforms.allow_author``, off for every platform already
registered). An LMS course keeps the dates its launches send (``lti_contexts.first_day``,
``last_day``), which a course instance made from a template takes. Plain ``ADD COLUMN``s: no
table is rebuilt.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "lti_platforms",
        sa.Column("allow_author", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("lti_contexts", sa.Column("first_day", sa.String(length=10), nullable=True))
    op.add_column("lti_contexts", sa.Column("last_day", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lti_contexts") as batch:
        batch.drop_column("last_day")
        batch.drop_column("first_day")
    with op.batch_alter_table("lti_platforms") as batch:
        batch.drop_column("allow_author")
