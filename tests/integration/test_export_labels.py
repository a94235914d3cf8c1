"""Label exports (JSONL, CSV) read back and compared with the store, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import json
import tracemalloc
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from interpret_review.errors import ExportError, UnknownNameError
from interpret_review.export import COLUMNS, export_judgments, restore_cell
from interpret_review.judgments import Judgment, JudgmentStore
from interpret_review.judgments.records import TaskSettings
from interpret_review.judgments.tables import judgments

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
SCHEMA = {
    "fields": [
        {"name": "label", "type": "text"},
        {"name": "flags", "type": "multi_choice"},
        {"name": "confidence", "type": "scale"},
    ]
}
HOSTILE = [
    "<script>alert(1)</script>",
    "say \"hi\", 'quoted'",
    "line one\nline two\r\nline three",
    "emoji 🧠🔥 and ünïcödé",
    '=HYPERLINK("http://evil.example","click")',
    "+1 -2 @SUM(A1) \ttabbed",
    "'already quoted",
]


def _store(store: JudgmentStore, n_items: int = 8) -> list[str]:
    store.ensure_project("p")
    store.ensure_task(
        "p",
        "t",
        kind="neuron",
        title="",
        instructions="",
        answer_schema=SCHEMA,
        settings=TaskSettings(overlap=2),
    )
    addresses = [f"neuron:digits/conv2/{i}" for i in range(n_items)]
    store.add_items("p", "t", [(a, "fp-1") for a in addresses])
    for name in ("alice", "=bob"):
        store.add_reviewer(name, "pw")
    return addresses


def _submit(store: JudgmentStore, address: str, answers: dict[str, Any], **more: Any) -> Judgment:
    reviewer = more.pop("reviewer", "alice")
    store.assign("p", "t", address, reviewer)
    return store.submit(
        client_id=str(uuid.uuid4()),
        project="p",
        task="t",
        address=address,
        reviewer=reviewer,
        answers=answers,
        task_version=1,
        started_at=T0,
        submitted_at=T0 + timedelta(milliseconds=1500),
        **more,
    )


def _expected(j: Judgment) -> dict[str, Any]:
    kind, _, rest = j.address.partition(":")
    return {
        "client_id": j.client_id,
        "project": "p",
        "task": "t",
        "task_version": 1,
        "address": j.address,
        "kind": kind,
        "run": rest.split("/")[0],
        "run_fingerprint": "fp-1",
        "reviewer": j.reviewer,
        "answers": j.answers,
        "started_at": j.started_at.isoformat(),
        "submitted_at": j.submitted_at.isoformat(),
        "stored_at": j.stored_at.isoformat(),
        "duration_ms": j.duration_ms,
        "supersedes": j.supersedes,
        "source": None,
        "superseded": j.superseded,
    }


def _hostile_judgments(store: JudgmentStore) -> list[Judgment]:
    addresses = _store(store)
    made = [
        _submit(store, addresses[i], {"label": text, "flags": [text, "ok"], "confidence": i})
        for i, text in enumerate(HOSTILE)
    ]
    made.append(
        _submit(store, addresses[0], {"label": "-3", "extra": {"k": "=1"}}, reviewer="=bob")
    )
    return made


def test_jsonl_round_trips_hostile_text_exactly(
    judgment_store: JudgmentStore, tmp_path: Path
) -> None:
    _hostile_judgments(judgment_store)
    out = tmp_path / "labels.jsonl"
    assert export_judgments(judgment_store, "p", format="jsonl", out=out) == len(HOSTILE) + 1
    text = out.read_text(encoding="utf-8")
    assert "🧠" in text and "\\u" not in text  # nothing escaped that need not be
    assert len(text.splitlines()) == len(HOSTILE) + 1  # newlines inside values are escaped
    rows = [json.loads(line) for line in text.splitlines()]
    assert [list(r) for r in rows] == [list(COLUMNS)] * len(rows)
    assert rows == [_expected(j) for j in judgment_store.iter_judgments("p")]
    assert [r["answers"]["label"] for r in rows[: len(HOSTILE)]] == HOSTILE
    assert not (tmp_path / "labels.jsonl.partial").exists()


def test_csv_round_trips_and_neutralises_formulas(
    judgment_store: JudgmentStore, tmp_path: Path
) -> None:
    made = _hostile_judgments(judgment_store)
    out = tmp_path / "labels.csv"
    assert export_judgments(judgment_store, "p", format="csv", out=out) == len(made)
    with open(out, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    header = list(rows[0])
    at = COLUMNS.index("answers")
    answer_columns = ["answer.label", "answer.flags", "answer.confidence", "answer.extra"]
    assert header == [*COLUMNS[:at], *answer_columns, *COLUMNS[at + 1 :]]
    for row in rows:  # no cell would run as a formula in a spreadsheet
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    stored = list(judgment_store.iter_judgments("p"))
    for row, j in zip(rows, stored, strict=True):
        expected = _expected(j)
        for column in COLUMNS[:at] + COLUMNS[at + 1 :]:
            value = expected[column]
            if isinstance(value, bool):
                value = "true" if value else "false"
            assert restore_cell(row[column]) == ("" if value is None else str(value)), column
        assert restore_cell(row["answer.label"]) == j.answers["label"]
        flags = row["answer.flags"]
        assert (json.loads(restore_cell(flags)) if flags else None) == j.answers.get("flags")
    assert row["answer.confidence"] == "" and json.loads(restore_cell(row["answer.extra"])) == {
        "k": "=1"
    }
    assert rows[0]["answer.confidence"] == "0" and rows[4]["answer.label"].startswith("'=HYPERLINK")
    assert rows[-1]["reviewer"] == "'=bob" and rows[-1]["answer.label"] == "'-3"


def test_superseded_rows_are_left_out_unless_asked(
    judgment_store: JudgmentStore, tmp_path: Path
) -> None:
    addresses = _store(judgment_store)
    first = _submit(judgment_store, addresses[0], {"label": "old"})
    edit = _submit(judgment_store, addresses[0], {"label": "new"}, supersedes=first.client_id)
    other = _submit(judgment_store, addresses[1], {"label": "other"})
    for fmt in ("jsonl", "csv"):
        out = tmp_path / f"latest.{fmt}"
        assert export_judgments(judgment_store, "p", format=fmt, out=out) == 2
        text = out.read_text(encoding="utf-8")
        assert edit.client_id in text and other.client_id in text
        assert not text.startswith(first.client_id) and f"\n{first.client_id}" not in text
        assert f'"client_id": "{first.client_id}"' not in text
        full = tmp_path / f"all.{fmt}"
        assert (
            export_judgments(
                judgment_store, "p", format=fmt, out=full, task="t", include_superseded=True
            )
            == 3
        )
    rows = [json.loads(line) for line in (tmp_path / "all.jsonl").read_text().splitlines()]
    assert [(r["client_id"], r["superseded"], r["supersedes"]) for r in rows] == [
        (first.client_id, True, None),
        (edit.client_id, False, first.client_id),
        (other.client_id, False, None),
    ]


def test_bad_format_and_bad_destination(judgment_store: JudgmentStore, tmp_path: Path) -> None:
    _store(judgment_store)
    with pytest.raises(
        UnknownNameError, match="unknown export format 'jsnl'; did you mean 'jsonl'"
    ):
        export_judgments(judgment_store, "p", format="jsnl", out=tmp_path / "x")
    with pytest.raises(ExportError, match="does not exist"):
        export_judgments(judgment_store, "p", format="csv", out=tmp_path / "no" / "x.csv")
    assert export_judgments(judgment_store, "p", format="csv", out=tmp_path / "empty.csv") == 0
    assert (tmp_path / "empty.csv").read_text().startswith("client_id,project,task,")


def _bulk_judgments(store: JudgmentStore, store_url: str, n: int) -> None:
    """``n`` judgments written straight into the tables (fast setup for the streaming test)."""
    store.ensure_project("p")
    store.ensure_task("p", "t", kind="neuron", title="", instructions="", answer_schema=SCHEMA)
    store.add_items("p", "t", [(f"neuron:digits/conv2/{i}", "fp-1") for i in range(n)])
    store.add_reviewer("alice", "pw")
    engine = sa.create_engine(store_url)
    try:
        with engine.begin() as conn:
            rows = [
                dict(
                    client_id=str(uuid.UUID(int=i + 1)),
                    item_id=i + 1,
                    reviewer_id=1,
                    task_version_id=1,
                    answers={"label": f"unit {i} " + "x" * 200, "flags": []},
                    supersedes_id=None,
                    started_at=T0,
                    submitted_at=T0,
                    stored_at=T0,
                    duration_ms=0,
                    run_fingerprint="fp-1",
                )
                for i in range(n)
            ]
            for start in range(0, n, 5000):
                conn.execute(judgments.insert(), rows[start : start + 5000])
    finally:
        engine.dispose()


@pytest.mark.slow
def test_a_large_export_is_streamed(
    judgment_store: JudgmentStore, store_url: str, tmp_path: Path
) -> None:
    n = 20_000
    _bulk_judgments(judgment_store, store_url, n)
    out = tmp_path / "big.jsonl"
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        assert export_judgments(judgment_store, "p", format="jsonl", out=out) == n
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Holding every row as Python objects takes several times the file's size; one page of
    # 1,000 rows (1/20 of them) takes about a quarter of it.
    assert peak - base < out.stat().st_size / 2, (peak - base, out.stat().st_size)
    with open(out, encoding="utf-8") as f:
        lines = [json.loads(line) for line in f]
    last = lines[-1] if lines else None
    assert (
        len(lines) == n and last is not None and last["address"] == f"neuron:digits/conv2/{n - 1}"
    )
