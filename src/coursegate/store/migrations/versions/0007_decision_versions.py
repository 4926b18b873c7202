"""decision versions: counters raised by triggers whenever what a decision depends on changes

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 07:00:00

Server processes keep compiled course instances, API tokens and users' facts between requests.
Instead of re-reading the rows behind them on every request, each request reads a few counters
(``decision_versions``, one indexed query); the triggers made here raise them in the very
transaction that changes a row those things depend on, whoever writes it. See
``coursegate.store.models.DecisionVersion`` for what each counter covers.

**Later migrations:** on SQLite, ``batch_alter_table`` rebuilds a table and drops its triggers.
A migration that rebuilds one of the tables in :data:`WATCHED` must create that table's
triggers again (``tests/store/test_decision_versions.py`` checks that every trigger is there
at the head revision).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Target = tuple[str, str]
"""(course instance, user) as SQL over the changed row ``R`` (``R.`` becomes NEW. or OLD.)."""

_SECTION_CI = "COALESCE((SELECT course_instance_id FROM sections WHERE id = R.section_id), 0)"
_ASSESSMENT_CI = (
    "COALESCE((SELECT course_instance_id FROM assessments WHERE id = R.assessment_id), 0)"
)

WATCHED: dict[str, tuple[tuple[Target, ...], tuple[str, ...] | None]] = {
    # table: (the counters a changed row raises, the columns whose update counts (None: any))
    "course_instances": ((("R.id", "0"), ("0", "0")), None),
    "sections": ((("R.course_instance_id", "0"),), None),
    "assessments": ((("R.course_instance_id", "0"),), None),
    "access_dates": (((_ASSESSMENT_CI, "0"),), None),
    "enrollments": ((("R.course_instance_id", "R.user_id"),), None),
    "section_memberships": (((_SECTION_CI, "R.user_id"),), None),
    "student_overrides": ((("R.course_instance_id", "R.user_id"),), None),
    "users": ((("0", "R.id"),), None),
    "exam_reservations": ((("0", "R.user_id"),), None),
    "role_assignments": ((("0", "R.user_id"),), None),
    "api_tokens": (
        (("0", "R.user_id"),),
        ("user_id", "scopes", "expires_at", "revoked_at", "mode"),
    ),
    "domains": ((("0", "0"),), None),
    "courses": ((("0", "0"),), None),
    "exam_networks": ((("0", "0"),), None),
}
"""Every table a kept decision, token or user's facts depends on. ``course_instances`` raises
the catalogue too (a course instance added or renamed changes what a name means);
``api_tokens`` only when it is revoked, expires, changes scope or mode — not when it is used."""


def _sqlite_bump(ci: str, user: str) -> str:
    return (
        "INSERT INTO decision_versions (course_instance_id, user_id, version)"
        f" VALUES ({ci}, {user}, 1)"
        " ON CONFLICT (course_instance_id, user_id) DO UPDATE SET version = version + 1;"
    )


def _sqlite(table: str, targets: tuple[Target, ...], columns: tuple[str, ...] | None) -> list[str]:
    out = []
    for op_name, rows in (("INSERT", ("NEW",)), ("UPDATE", ("OLD", "NEW")), ("DELETE", ("OLD",))):
        if op_name == "INSERT" and columns is not None:
            continue  # a token that is only made, not yet changed, is looked up when used
        event = (
            op_name if op_name != "UPDATE" or columns is None else f"UPDATE OF {', '.join(columns)}"
        )
        body = " ".join(
            _sqlite_bump(ci.replace("R.", f"{row}."), user.replace("R.", f"{row}."))
            for row in rows
            for ci, user in targets
        )
        out.append(
            f"CREATE TRIGGER dv_{table}_{op_name.lower()} AFTER {event} ON {table}"
            f" FOR EACH ROW BEGIN {body} END"
        )
    return out


_PG_BUMP = """
CREATE OR REPLACE FUNCTION dv_bump(ci integer, uid integer) RETURNS void LANGUAGE sql AS $$
  INSERT INTO decision_versions (course_instance_id, user_id, version) VALUES (ci, uid, 1)
  ON CONFLICT (course_instance_id, user_id)
  DO UPDATE SET version = decision_versions.version + 1
$$
"""


def _postgresql(
    table: str, targets: tuple[Target, ...], columns: tuple[str, ...] | None
) -> list[str]:
    def calls(row: str) -> str:
        return " ".join(
            f"PERFORM dv_bump({ci.replace('R.', row + '.')}, {user.replace('R.', row + '.')});"
            for ci, user in targets
        )

    events = "INSERT OR UPDATE OR DELETE"
    if columns is not None:
        events = f"UPDATE OF {', '.join(columns)} OR DELETE"
    return [
        f"CREATE OR REPLACE FUNCTION dv_{table}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        f" IF TG_OP <> 'INSERT' THEN {calls('OLD')} END IF;"
        f" IF TG_OP <> 'DELETE' THEN {calls('NEW')} END IF;"
        " RETURN NULL; END $$",
        f"CREATE TRIGGER dv_{table} AFTER {events} ON {table}"
        f" FOR EACH ROW EXECUTE FUNCTION dv_{table}()",
    ]


def upgrade() -> None:
    op.create_table(
        "decision_versions",
        sa.Column("course_instance_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("course_instance_id", "user_id", name=op.f("pk_decision_versions")),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute(_PG_BUMP)
    for table, (targets, columns) in WATCHED.items():
        make = _postgresql if postgresql else _sqlite
        for statement in make(table, targets, columns):
            op.execute(statement)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table, (_targets, columns) in WATCHED.items():
        if postgresql:
            op.execute(f"DROP TRIGGER IF EXISTS dv_{table} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS dv_{table}()")
            continue
        for op_name in ("insert", "update", "delete"):
            if not (op_name == "insert" and columns is not None):
                op.execute(f"DROP TRIGGER IF EXISTS dv_{table}_{op_name}")
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS dv_bump(integer, integer)")
    op.drop_table("decision_versions")
