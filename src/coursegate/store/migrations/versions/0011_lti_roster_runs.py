"""LMS roster syncs as runs a page follows: lti_roster_runs

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 13:00:00

A roster sync (or its dry run) of a large LMS course reads the membership list page after page
for tens of seconds: it runs in the background as a run, and the page shows its progress (pages
and members read so far) and then its outcome. A plain ``CREATE TABLE``: no table is rebuilt
(migration 0007's triggers stay).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lti_roster_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.Integer(), nullable=False),
        sa.Column("started_by", sa.String(length=200), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("step", sa.String(length=20), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("finished_at", sa.BigInteger(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("plan", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["context_id"],
            ["lti_contexts.id"],
            name=op.f("fk_lti_roster_runs_context_id_lti_contexts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_roster_runs")),
    )
    op.create_index(op.f("ix_lti_roster_runs_context_id"), "lti_roster_runs", ["context_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_lti_roster_runs_context_id"), table_name="lti_roster_runs")
    op.drop_table("lti_roster_runs")
