"""The schema: migrations build exactly the tables the models describe, on both databases."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from store_support import Store

from coursegate.store.migrate import current, upgrade
from coursegate.store.models import Base


def test_migrations_match_the_models_and_are_idempotent(store: Store) -> None:
    upgrade(store.engine)  # a second time: nothing to do
    assert current(store.engine) is not None
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_sqlite_runs_in_wal_mode_with_foreign_keys(store: Store) -> None:
    if not store.url.startswith("sqlite"):
        return
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_a_removed_exceptions_id_is_never_given_to_another(tmp_path: Path) -> None:
    """SQLite reuses the largest rowid after a delete unless the table is AUTOINCREMENT."""
    from sqlalchemy import text

    from coursegate.store.db import make_engine
    from coursegate.store.migrate import upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'ids.sqlite3'}")
    upgrade(engine)
    with engine.connect() as conn:
        sql = conn.execute(
            text("SELECT sql FROM sqlite_master WHERE name = 'student_overrides'")
        ).scalar_one()
    assert "AUTOINCREMENT" in sql.upper()
    engine.dispose()
