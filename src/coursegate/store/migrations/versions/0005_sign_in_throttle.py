"""sign-in throttle: failed sign-ins per client address and account as typed

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 09:00:00

Failed sign-ins no longer freeze the account (anyone could lock anyone out): each (address,
account as typed) pair waits longer after each failure instead, and each address has a cap over
every account (coursegate.services.people.throttle).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_throttle",
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("account", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failure_at", sa.BigInteger(), nullable=True),
        sa.Column("last_failure_at", sa.BigInteger(), nullable=True),
        sa.Column("next_allowed_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("address", "account", name=op.f("pk_sign_in_throttle")),
    )
    op.create_index(
        op.f("ix_sign_in_throttle_next_allowed_at"), "sign_in_throttle", ["next_allowed_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_sign_in_throttle_next_allowed_at"), table_name="sign_in_throttle")
    op.drop_table("sign_in_throttle")
