"""class accounts: stems, accounts, keys, wipes, the term schedule, metrics, mail

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_stems",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stem", sa.String(length=16), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("generated", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_account_stems_course_id_courses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_stems")),
        sa.UniqueConstraint("stem", name=op.f("uq_account_stems_stem")),
    )
    op.create_index(
        op.f("ix_account_stems_course_id"), "account_stems", ["course_id"], unique=False
    )
    op.create_table(
        "account_mail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("course_instance_id", sa.Integer(), nullable=True),
        sa.Column("account", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("to_addr", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.BigInteger(), nullable=True),
        sa.Column("outbox_key", sa.String(length=200), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_instance_id"],
            ["course_instances.id"],
            name=op.f("fk_account_mail_course_instance_id_course_instances"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_mail")),
    )
    op.create_index(
        op.f("ix_account_mail_course_instance_id"),
        "account_mail",
        ["course_instance_id"],
        unique=False,
    )
    op.create_index(op.f("ix_account_mail_sent_at"), "account_mail", ["sent_at"], unique=False)
    op.create_table(
        "account_terms",
        sa.Column("course_instance_id", sa.Integer(), nullable=False),
        sa.Column("end_override", sa.BigInteger(), nullable=True),
        sa.Column("locked_for", sa.BigInteger(), nullable=True),
        sa.Column("reminded_for", sa.BigInteger(), nullable=True),
        sa.Column("wiped_for", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_instance_id"],
            ["course_instances.id"],
            name=op.f("fk_account_terms_course_instance_id_course_instances"),
        ),
        sa.PrimaryKeyConstraint("course_instance_id", name=op.f("pk_account_terms")),
    )
    op.create_table(
        "account_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("course_instance_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_account_events_course_id_courses")
        ),
        sa.ForeignKeyConstraint(
            ["course_instance_id"],
            ["course_instances.id"],
            name=op.f("fk_account_events_course_instance_id_course_instances"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_account_events_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_events")),
    )
    op.create_index(
        op.f("ix_account_events_course_id"), "account_events", ["course_id"], unique=False
    )
    op.create_table(
        "account_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("public", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=100), nullable=False),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_account_keys_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_keys")),
    )
    op.create_index(op.f("ix_account_keys_user_id"), "account_keys", ["user_id"], unique=False)
    op.create_table(
        "account_wipes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("course_instance_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("requested_at", sa.BigInteger(), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("steps_done", sa.JSON(), nullable=False),
        sa.Column("finished_at", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_instance_id"],
            ["course_instances.id"],
            name=op.f("fk_account_wipes_course_instance_id_course_instances"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_account_wipes_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_wipes")),
    )
    op.create_index(op.f("ix_account_wipes_user_id"), "account_wipes", ["user_id"], unique=False)
    op.create_table(
        "class_accounts",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("stem_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("course_instance_id", sa.Integer(), nullable=True),
        sa.Column("assigned_at", sa.BigInteger(), nullable=True),
        sa.Column("times_assigned", sa.Integer(), nullable=False),
        sa.Column("mail_to_user_id", sa.Integer(), nullable=True),
        sa.Column("incomplete_at", sa.BigInteger(), nullable=True),
        sa.Column("lock_reason", sa.String(length=20), nullable=True),
        sa.Column("status_before_lock", sa.String(length=20), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_instance_id"],
            ["course_instances.id"],
            name=op.f("fk_class_accounts_course_instance_id_course_instances"),
        ),
        sa.ForeignKeyConstraint(
            ["mail_to_user_id"], ["users.id"], name=op.f("fk_class_accounts_mail_to_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["stem_id"], ["account_stems.id"], name=op.f("fk_class_accounts_stem_id_account_stems")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_class_accounts_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_class_accounts")),
        sa.UniqueConstraint("stem_id", "position", name=op.f("uq_class_accounts_stem_id")),
    )
    op.create_index(
        op.f("ix_class_accounts_course_instance_id"),
        "class_accounts",
        ["course_instance_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_class_accounts_mail_to_user_id"),
        "class_accounts",
        ["mail_to_user_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_class_accounts_mail_to_user_id"), table_name="class_accounts")
    op.drop_index(op.f("ix_class_accounts_course_instance_id"), table_name="class_accounts")
    op.drop_table("class_accounts")
    op.drop_index(op.f("ix_account_wipes_user_id"), table_name="account_wipes")
    op.drop_table("account_wipes")
    op.drop_index(op.f("ix_account_keys_user_id"), table_name="account_keys")
    op.drop_table("account_keys")
    op.drop_index(op.f("ix_account_events_course_id"), table_name="account_events")
    op.drop_table("account_events")
    op.drop_table("account_terms")
    op.drop_index(op.f("ix_account_mail_sent_at"), table_name="account_mail")
    op.drop_index(op.f("ix_account_mail_course_instance_id"), table_name="account_mail")
    op.drop_table("account_mail")
    op.drop_index(op.f("ix_account_stems_course_id"), table_name="account_stems")
    op.drop_table("account_stems")
