"""Database fixtures for judgment-store tests (import them from ``tests/conftest.py``).

``store_url`` yields a fresh, empty database URL for each backend: a SQLite file in
``tmp_path``, and a uniquely named PostgreSQL database on 127.0.0.1:5432 (user
``postgres``, trust auth) created for the test and dropped after it.
``judgment_store`` yields a migrated ``JudgmentStore`` on it with cheap argon2 parameters.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from interpret_review.judgments import JudgmentStore

__all__ = [
    "POSTGRES_ADMIN_URL",
    "cheap_hasher",
    "judgment_store",
    "postgres_database_url",
    "store_url",
]

POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def cheap_hasher() -> PasswordHasher:
    """argon2id with tiny costs: hashes in well under a millisecond (tests only)."""
    return PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)


def postgres_database_url() -> Iterator[str]:
    """A new, empty PostgreSQL database's URL, dropped when the generator is closed."""
    name = "ir_test_" + uuid.uuid4().hex[:16]
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield sa.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield "sqlite:///" + str(tmp_path / "judgments.sqlite")
    else:
        yield from postgres_database_url()


@pytest.fixture
def judgment_store(store_url: str) -> Iterator[JudgmentStore]:
    """A migrated JudgmentStore on ``store_url``, closed afterwards."""
    store = JudgmentStore(store_url, password_hasher=cheap_hasher())
    store.migrate()
    try:
        yield store
    finally:
        store.close()
