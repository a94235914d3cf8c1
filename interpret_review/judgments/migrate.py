"""Run the Alembic migrations in code (no alembic.ini needed).

``upgrade`` holds a lock for the whole migration so two processes may call it at once:
on SQLite the transaction starts with ``BEGIN IMMEDIATE`` (the second process waits for
the first to commit, then finds the schema at head); on PostgreSQL a transaction-level
advisory lock does the same.

SQLite cannot alter most constraints, so a migration may copy a table into a new one; while
it runs, foreign keys are switched off on its connection (the procedure SQLite documents for
schema changes) and checked with ``PRAGMA foreign_key_check`` before the commit.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from interpret_review.judgments.engine import writer

__all__ = [
    "MIGRATIONS_DIR",
    "current_revision",
    "head_revision",
    "known_revisions",
    "upgrade",
]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_LOCK_KEY = 0x1A7E_5EED  # arbitrary, constant advisory-lock key of interpret-review


def _config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache  # the scripts ship with the package: read them once per process
def head_revision() -> str | None:
    """The newest revision shipped with this version of interpret-review."""
    return ScriptDirectory.from_config(_config()).get_current_head()


@cache
def known_revisions() -> frozenset[str]:
    """Every revision shipped with this version of interpret-review."""
    return frozenset(s.revision for s in ScriptDirectory.from_config(_config()).walk_revisions())


def current_revision(engine: sa.Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the database to ``revision``; a no-op when it is there already."""
    with writer(engine).connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:  # outside any transaction, where this pragma takes effect
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys = OFF")  # type: ignore[union-attr]
        try:
            with connection.begin():
                if not sqlite:
                    connection.execute(
                        sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY}
                    )
                command.upgrade(_config(connection), revision)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"migration broke foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                connection.connection.dbapi_connection.execute("PRAGMA foreign_keys = ON")  # type: ignore[union-attr]
