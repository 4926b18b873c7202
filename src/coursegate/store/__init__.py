"""The store: tables, migrations and database sessions (SQLite by default, PostgreSQL by URL).

Nothing here decides anything: the services read and write the store and ask the core.
"""
