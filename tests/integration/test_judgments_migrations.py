"""Alembic migrations of the judgment store, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from interpret_review.judgments import JudgmentStore
from interpret_review.judgments.migrate import current_revision, head_revision
from interpret_review.judgments.tables import METADATA

TABLES = {
    "reviewers",
    "projects",
    "tasks",
    "task_versions",
    "items",
    "judgments",
    "task_members",
    "assignments",
    "simulation_scores",
    "tier_changes",
    "runs",
}


def test_upgrade_head_on_an_empty_database_creates_every_table(store_url: str) -> None:
    engine = sa.create_engine(store_url)
    try:
        assert set(sa.inspect(engine).get_table_names()) == set()
        assert current_revision(engine) is None
        JudgmentStore(store_url).migrate()
        assert TABLES <= set(sa.inspect(engine).get_table_names())
        assert current_revision(engine) == head_revision() == "0005"
    finally:
        engine.dispose()


def test_migrated_schema_matches_the_metadata(store_url: str) -> None:
    JudgmentStore(store_url).migrate()
    engine = sa.create_engine(store_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, METADATA) == []
    finally:
        engine.dispose()


def test_migrate_twice_is_a_no_op_and_keeps_data(judgment_store: JudgmentStore) -> None:
    judgment_store.ensure_project("kept")
    judgment_store.migrate()
    judgment_store.migrate()
    assert judgment_store.ensure_project("kept") == 1
    assert judgment_store.ensure_project("second") == 2


def test_two_processes_migrate_one_sqlite_file_at_once(tmp_path: Path) -> None:
    url = "sqlite:///" + str(tmp_path / "j.sqlite")
    script = textwrap.dedent(
        f"""
        from interpret_review.judgments import JudgmentStore
        store = JudgmentStore({url!r})
        store.migrate()
        store.ensure_project("p")
        print("ok")
        """
    )
    root = str(Path(__file__).resolve().parents[2])
    env = {"PYTHONPATH": root, "PATH": "/usr/bin:/bin"}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    results = [child.communicate(timeout=120) for child in children]
    for child, (out, err) in zip(children, results, strict=True):
        assert child.returncode == 0, err.decode()
        assert out.strip() == b"ok"
    store = JudgmentStore(url)
    try:
        assert store.ensure_project("p") == 1  # both processes saw the same project
        assert store.ensure_project("q") == 2
    finally:
        store.close()


def test_upgrading_a_0001_store_keeps_its_judgments_as_done_slots(store_url: str) -> None:
    """A store written before assignments existed: its items get keys, its judgments count
    as done slots, and the reviewer's next claim skips what they answered."""
    from datetime import datetime, timezone

    from interpret_review.judgments.base import _now
    from interpret_review.judgments.migrate import upgrade

    store = JudgmentStore(store_url)
    upgrade(store._engine, "0001")
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with store._engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO reviewers (id, username, display_name, password_hash, role, active, "
            "created_at) VALUES (1, 'ann', 'ann', 'x', 'reviewer', true, '2026-01-01')"
        )
        conn.exec_driver_sql(
            "INSERT INTO projects (id, name, title, created_at) VALUES (1, 'p', 'p', '2026-01-01')"
        )
        conn.exec_driver_sql(
            "INSERT INTO tasks (id, project_id, name, kind, title, created_at) "
            "VALUES (1, 1, 't', 'neuron', 't', '2026-01-01')"
        )
        conn.exec_driver_sql(
            "INSERT INTO task_versions (id, task_id, version, instructions, answer_schema, "
            "created_at) VALUES (1, 1, 1, '', '{}', '2026-01-01')"
        )
        for i in (1, 2):
            conn.exec_driver_sql(
                "INSERT INTO items (id, task_id, address, run_fingerprint, position) "
                f"VALUES ({i}, 1, 'neuron:r/l/{i}', 'f', {i})"
            )
        conn.execute(
            sa.text(
                "INSERT INTO judgments (client_id, item_id, reviewer_id, task_version_id, answers, "
                "started_at, submitted_at, stored_at, duration_ms) VALUES "
                "('00000000-0000-4000-8000-000000000001', 1, 1, 1, '{}', :t, :t, :t, 5)"
            ),
            {"t": now},
        )
    store.migrate()
    try:
        assert [i.key for i in store.items("p", "t")] == ["neuron:r/l/1", "neuron:r/l/2"]
        [slot] = store.assignments("p")
        assert (slot.item, slot.reviewer, slot.status) == ("neuron:r/l/1", "ann", "done")
        assert store.claim("p", "t", "ann").key == "neuron:r/l/2"
        assert store.current("p", "t", "ann")["neuron:r/l/1"].duration_ms == 5
        # 0004: the judgment keeps the fingerprint of the run its item was on
        assert store.current("p", "t", "ann")["neuron:r/l/1"].run_fingerprint == "f"
        assert _now() > now
    finally:
        store.close()


def test_upgrading_a_0004_store_types_its_task_settings(store_url: str) -> None:
    """A task kept with the untyped ``spec`` of revision 0004 reads back as the same typed
    settings: its table, its fingerprint and its adaptive rule."""
    from interpret_review.judgments.migrate import upgrade
    from interpret_review.tasks import AdaptiveRule

    store = JudgmentStore(store_url)
    upgrade(store._engine, "0004")
    spec = {
        "table": {"name": "t", "kind": "neuron", "max_overlap": 4},
        "fingerprint": "f" * 32,
        "adaptive": {"field": "category", "min_agreement": 0.75, "max_overlap": 4},
    }
    with store._engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO projects (id, name, title, created_at) VALUES (1, 'p', 'p', '2026-01-01')"
        )
        for tid, value in ((1, spec), (2, None)):
            conn.execute(
                sa.text(
                    "INSERT INTO tasks (id, project_id, name, kind, title, created_at, overlap, "
                    "spec, origin) VALUES (:id, 1, :name, 'neuron', 't', '2026-01-01', 2, "
                    ":spec, 'admin')"
                ).bindparams(sa.bindparam("spec", type_=sa.JSON(none_as_null=True))),
                {"id": tid, "name": f"t{tid}", "spec": value},
            )
            conn.exec_driver_sql(
                "INSERT INTO task_versions (id, task_id, version, instructions, answer_schema, "
                f"created_at) VALUES ({tid}, {tid}, 1, '', '{{}}', '2026-01-01')"
            )
    try:
        typed = store.task_version("p", "t1").settings  # read without migrate(): upgraded
        assert current_revision(store._engine) == head_revision()
        assert typed.adaptive == AdaptiveRule("category", 0.75, 4)
        assert typed.fingerprint == "f" * 32 and typed.definition == spec["table"]
        assert typed.origin == "admin" and typed.overlap == 2
        bare = store.task_version("p", "t2").settings
        assert (bare.adaptive, bare.fingerprint, dict(bare.definition)) == (None, "", {})
    finally:
        store.close()


def test_a_store_from_a_newer_version_is_refused_not_misread(store_url: str) -> None:
    import pytest

    from interpret_review.errors import JudgmentError

    store = JudgmentStore(store_url)
    store.migrate()
    with store._engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0099'")
    later = JudgmentStore(store_url)
    try:
        with pytest.raises(JudgmentError, match="'0099'.*newer version; upgrade interpret-review"):
            later.reviewers()
    finally:
        later.close()
        store.close()
