"""LMS platforms: whether the LMS's ContentDeveloper role gives the Author role here

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 12:00:00

The seed's Author role is held in a domain and edits (syncs) every course there, so, like the
LMS's Administrator role, an LMS's ContentDeveloper gives it only where the administrator
allowed it for that platform (``lti_platforms.allow_author``, off for every platform already
registered). A plain ``ADD COLUMN``: no table is rebuilt.
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


def downgrade() -> None:
    with op.batch_alter_table("lti_platforms") as batch:
        batch.drop_column("allow_author")
