"""exam networks: testing-centre networks, and a session's own Exam mode

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 04:40:00

Exam mode as the seed defines it: a request from a testing-centre network (CIDR ranges an
administrator defines, per domain or site-wide, optionally within a window) is in Exam mode,
and an instructor may switch their own session (or API token) to Exam mode to preview
(coursegate.services.access.exam_networks, coursegate.services.people.session_mode).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exam_networks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("cidr", sa.String(length=64), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=True),
        sa.Column("starts_at", sa.BigInteger(), nullable=True),
        sa.Column("ends_at", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("removed_at", sa.BigInteger(), nullable=True),
        sa.Column("removed_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["domain_id"], ["domains.id"], name=op.f("fk_exam_networks_domain_id_domains")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exam_networks")),
    )
    op.create_index(op.f("ix_exam_networks_domain_id"), "exam_networks", ["domain_id"])
    with op.batch_alter_table("web_sessions") as batch:
        batch.add_column(sa.Column("mode", sa.String(length=10), nullable=True))
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("mode", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("mode")
    with op.batch_alter_table("web_sessions") as batch:
        batch.drop_column("mode")
    op.drop_index(op.f("ix_exam_networks_domain_id"), table_name="exam_networks")
    op.drop_table("exam_networks")
