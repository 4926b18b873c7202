"""exception ids are never reused (SQLite AUTOINCREMENT on student_overrides)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 06:10:00

The API names an exception by id; on SQLite a deleted exception's id would be handed to the next
one, so an editor holding a stale id (and version 1) could change another student's exception.
PostgreSQL sequences never reuse ids: nothing to do there.
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "student_overrides", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ):
        pass


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("student_overrides", recreate="always"):
        pass
