"""Engines for the judgment store, and database errors turned into our own.

SQLite (the default, one file beside the project) is opened in WAL mode with
``synchronous=FULL`` (a returned submit survives a power cut), ``foreign_keys=ON`` and a
busy timeout. The driver's own transaction handling is switched off so that we emit
``BEGIN`` ourselves: writes use ``BEGIN IMMEDIATE``, which takes the write lock up front
and so waits (busy timeout) instead of failing when two processes write at once.
PostgreSQL is used when the URL says so (``postgresql+psycopg://...``).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.pool import StaticPool

from interpret_review.errors import (
    ConfigError,
    JudgmentError,
    MissingDependencyError,
    StoreUnavailableError,
    StoreUnreachableError,
    missing_module,
)

__all__ = ["BUSY_TIMEOUT_S", "create_store_engine", "mask_url", "translate_errors"]

#: How long a SQLite writer waits for another process's write lock before giving up.
BUSY_TIMEOUT_S = 30.0

_WRITE = "interpret_review_write"


def mask_url(url: str | sa.URL) -> str:
    """The URL as text with its password replaced by ``***``."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return "<unparseable database URL>"


def create_store_engine(url: str) -> sa.Engine:
    """An engine for ``url``; raises ConfigError for a URL that cannot be used."""
    try:
        parsed = sa.make_url(url)
    except exc.ArgumentError:
        raise ConfigError(
            f"{url!r} is not a database URL: use 'sqlite:///PATH/TO/FILE.sqlite' or "
            "'postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE'"
        ) from None
    shown = mask_url(parsed)
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"{shown}: the judgment store runs on SQLite or PostgreSQL, not {backend!r}; "
            "use a sqlite:/// or postgresql+psycopg:// URL"
        )
    try:
        if backend == "sqlite":
            return _sqlite_engine(parsed)
        return sa.create_engine(parsed, pool_pre_ping=True)
    except exc.NoSuchModuleError:
        raise ConfigError(
            f"{shown}: the database driver {parsed.drivername!r} is not installed; "
            "for PostgreSQL install interpret-review[postgres] and use postgresql+psycopg://"
        ) from None
    except ModuleNotFoundError as error:  # the dialect is known, its driver is not installed
        missing = missing_module(error)
        if backend == "sqlite":
            raise ConfigError(
                f"{shown}: this Python has no SQLite module ({missing}); use a Python built "
                "with sqlite3, or a PostgreSQL store (postgresql+psycopg://, "
                "interpret-review[postgres])"
            ) from None
        if missing != "psycopg":
            raise ConfigError(
                f"{shown}: the driver of {parsed.drivername!r} ({missing}) is not installed; "
                "use a postgresql+psycopg:// URL and install interpret-review[postgres]"
            ) from None
        raise MissingDependencyError(f"the judgment store {shown}", missing, "postgres") from None


def _set_wal(cursor: Any) -> None:
    """``PRAGMA journal_mode = WAL``, retried while another connection holds the file: on a
    new file two connections switching at once can deadlock on the lock upgrade, and SQLite
    then answers "database is locked" at once instead of waiting out the busy timeout."""
    import sqlite3  # here: a PostgreSQL store needs no SQLite module

    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.01 + random.random() * 0.04)


def _sqlite_engine(url: sa.URL) -> sa.Engine:
    database = url.database or ""
    memory = database in ("", ":memory:") or database.startswith("file::memory:")
    if database.startswith("file:") and url.query.get("uri") == "true":
        database = database[len("file:") :]
    if not memory:
        folder = Path(database).expanduser().resolve().parent
        if not folder.is_dir():
            raise ConfigError(
                f"{mask_url(url)}: the folder {folder} does not exist; create it or point "
                "database_url at an existing folder"
            )
    options: dict[str, Any] = {"connect_args": {"timeout": BUSY_TIMEOUT_S}}
    if memory:  # one shared connection, or every checkout would see an empty database
        options.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    engine = sa.create_engine(url, **options)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see module doc)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            _set_wal(cursor)
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        write = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def writer(engine: sa.Engine) -> sa.Engine:
    """The same engine (same pool) whose transactions take the SQLite write lock at BEGIN."""
    return engine.execution_options(**{_WRITE: True})


@contextmanager
def translate_errors(url: str, action: str) -> Iterator[None]:
    """Turn driver errors met while doing ``action`` into ConfigError / JudgmentError."""
    try:
        yield
    except exc.DBAPIError as error:
        if isinstance(error, exc.IntegrityError):
            raise
        raise _translate(error, url, action) from error


def _translate(error: exc.DBAPIError, url: str, action: str) -> Exception:
    original = error.orig if error.orig is not None else error
    text = str(original).strip().splitlines()[0] if str(original).strip() else repr(original)
    low = str(original).lower()
    sqlstate = getattr(original, "sqlstate", None)
    where = f"judgment store {url}"
    if "no such table" in low or sqlstate == "42P01":
        return ConfigError(
            f"{where} has no tables yet ({text}) while {action}: nothing was ever stored "
            "there. Serve the project once (interpret-review serve PROJECT creates the tables) "
            "or call JudgmentStore(url).migrate(); if judgments should be there, check the "
            "project's database or the database_url setting"
        )
    if "file is not a database" in low or "file is encrypted" in low:
        return ConfigError(
            f"{where}: the file is not an SQLite database ({text}); point database_url at a "
            "judgments .sqlite file, or move the file away so a new store can be created"
        )
    if "readonly" in low or "read-only" in low:
        return JudgmentError(
            f"{where} is read-only ({text}) while {action}: give this user write permission "
            "on the file and on its folder (SQLite also writes FILE-wal and FILE-shm there)"
        )
    if sqlstate in ("40P01", "40001"):  # deadlock or serialization failure: retry
        return StoreUnavailableError(
            f"{where}: {action} conflicted with concurrent writes ({text}); retry"
        )
    if "database is locked" in low or "database is busy" in low:
        return StoreUnavailableError(
            f"{where} stayed locked by another process for more than {BUSY_TIMEOUT_S:g} s "
            f"while {action}: retry, and close any program that holds a long write "
            "transaction on it (a DB browser, a stuck script)"
        )
    if "unable to open database file" in low:
        return ConfigError(
            f"{where} cannot be opened ({text}): check that the file and its folder exist "
            "and are readable and writable by this user"
        )
    if isinstance(error, (exc.OperationalError, exc.InterfaceError)) and (
        "connect" in low or "connection" in low or "does not exist" in low or sqlstate == "3D000"
    ):
        return StoreUnreachableError(
            f"cannot connect to {where} ({text}): start the PostgreSQL server or fix "
            "database_url (setting INTERPRET_REVIEW_DATABASE_URL)"
        )
    return JudgmentError(f"{where}: database error while {action}: {text}")
