"""Durability, concurrency and database errors (SQLite files, and an unreachable PostgreSQL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from interpret_review.errors import ConfigError, JudgmentError
from interpret_review.judgments import JudgmentStore
from interpret_review.tasks import TaskSettings

ROOT = str(Path(__file__).resolve().parents[2])
SETUP = """
import sys, uuid
from datetime import datetime, timezone
from argon2 import PasswordHasher
from interpret_review.judgments import JudgmentStore
store = JudgmentStore(sys.argv[1], password_hasher=PasswordHasher(1, 64, 1))
def submit(address, reviewer, client_id=None):
    now = datetime.now(timezone.utc)
    store.assign("p", "t", address, reviewer)
    return store.submit(
        client_id=client_id or str(uuid.uuid4()), project="p", task="t", key=address,
        reviewer=reviewer, answers={"label": "x"}, task_version=1, started_at=now,
        submitted_at=now,
    )
"""


def _python(code: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(SETUP) + textwrap.dedent(code), *args],
        env={"PYTHONPATH": ROOT, "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _seeded(tmp_path: Path, n_items: int) -> str:
    url = "sqlite:///" + str(tmp_path / "j.sqlite")
    store = JudgmentStore(url)
    store.migrate()
    store.ensure_project("p")
    store.ensure_task(
        "p",
        "t",
        kind="neuron",
        title="",
        instructions="",
        answer_schema={},
        settings=TaskSettings(overlap=2),
    )
    store.add_items("p", "t", [(f"neuron:r/l/{i}", "fp") for i in range(n_items)])
    store.close()
    return url


def test_a_returned_submit_survives_sigkill(tmp_path: Path) -> None:
    url = _seeded(tmp_path, 2)
    seed = JudgmentStore(url)
    seed.ensure_reviewer("alice", "pw")
    seed.close()
    child = _python(
        """
        j = submit("neuron:r/l/1", "alice")
        print(j.client_id, flush=True)
        import time
        time.sleep(60)
        """,
        url,
    )
    assert child.stdout is not None
    client_id = child.stdout.readline().decode().strip()
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    reopened = JudgmentStore(url)
    try:
        assert reopened.current("p", "t", "alice")["neuron:r/l/1"].client_id == client_id
    finally:
        reopened.close()


def test_two_processes_submitting_at_once_lose_nothing(tmp_path: Path) -> None:
    per_process = 40
    url = _seeded(tmp_path, per_process)
    seed = JudgmentStore(url)
    for name in ("alice", "bob"):
        seed.ensure_reviewer(name, "pw")
    seed.close()
    code = """
        for i in range(int(sys.argv[3])):
            submit(f"neuron:r/l/{i}", sys.argv[2])
        print("done")
        """
    children = [_python(code, url, name, str(per_process)) for name in ("alice", "bob")]
    for child in children:
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0, err.decode()
        assert out.strip() == b"done"
    store = JudgmentStore(url)
    try:
        rows = list(store.iter_judgments("p"))
        assert len(rows) == 2 * per_process
        assert len({j.client_id for j in rows}) == 2 * per_process
        assert store.progress("p", "t", "alice") == store.progress("p", "t", "bob") == (40, 40)
    finally:
        store.close()


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_bytes(b"these are my notes, not a database\n" * 200)
    store = JudgmentStore("sqlite:///" + str(path))
    with pytest.raises(ConfigError, match=r"notes\.sqlite: the file is not an SQLite database"):
        store.migrate()


def test_a_read_only_database(tmp_path: Path) -> None:
    _seeded(tmp_path, 1)
    # Opened read-only through SQLite's URI syntax (file permissions do not bind root).
    read_only = "sqlite:///file:" + str(tmp_path / "j.sqlite") + "?mode=ro&uri=true"
    store = JudgmentStore(read_only)
    try:
        assert [t.task for t in store.tasks("p")] == ["t"]  # reading works
        with pytest.raises(JudgmentError, match=r"j\.sqlite.* is read-only .*write permission"):
            store.ensure_project("q")
    finally:
        store.close()


def test_tables_missing_and_folder_missing(tmp_path: Path) -> None:
    store = JudgmentStore("sqlite:///" + str(tmp_path / "fresh.sqlite"))
    with pytest.raises(ConfigError, match=r"fresh\.sqlite has no tables yet .*\.migrate\(\)"):
        store.ensure_project("p")
    with pytest.raises(ConfigError, match="does not exist"):
        JudgmentStore("sqlite:///" + str(tmp_path / "missing" / "j.sqlite"))


def test_unreachable_postgres_names_the_url_without_its_password() -> None:
    store = JudgmentStore("postgresql+psycopg://ir:hunter2@127.0.0.1:9/judgments")
    assert "hunter2" not in store.url and "hunter2" not in repr(store)
    with pytest.raises(ConfigError, match=r"cannot connect .*127\.0\.0\.1:9/judgments") as info:
        store.migrate()
    assert "hunter2" not in str(info.value)
    assert "start the PostgreSQL server or fix database_url" in str(info.value)


def test_switching_a_new_file_to_wal_waits_for_another_connections_lock(tmp_path: Path) -> None:
    """SQLite answers "database is locked" at once, without waiting out the busy timeout,
    when the journal mode cannot change (two new connections switching together deadlock
    the same way); the store's connection retries until the lock is gone."""
    import sqlite3
    import threading

    from interpret_review.judgments.engine import _set_wal

    path = tmp_path / "j.sqlite"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    waiter = sqlite3.connect(path, timeout=0, isolation_level=None)
    cursor = waiter.cursor()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        cursor.execute("PRAGMA journal_mode = WAL")
    release = threading.Timer(0.3, holder.rollback)
    release.start()
    try:
        _set_wal(cursor)
        assert waiter.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        release.join()
        waiter.close()
        holder.close()
