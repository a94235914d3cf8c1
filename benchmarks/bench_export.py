"""Label export at scale: 1 million judgments from SQLite to Parquet, JSONL and CSV.

A SQLite store is filled with ``--judgments`` judgments (a neuron task's answers: a label,
a category, a confidence, flags and marked examples; 50 reviewers; written straight into
the tables, the fast way a benchmark can afford) and exported with ``export_judgments``
in each format (no card). Each export runs in a fresh process so its peak memory
(``ru_maxrss``) is its own; a second, 10x smaller export measures how memory grows with the
number of judgments. Printed as one JSON object:

* ``formats``: per format, seconds, rows per second and the file's size;
* ``memory``: peak resident memory of the process for the small and the full Parquet
  export, and their ratio (flat streaming: about 1 for 10x the judgments);
* ``card_s``: seconds to write the dataset card (its agreement figures not computed: the
  store holds no project file).

    python benchmarks/bench_export.py [--judgments 1000000] [--formats parquet,jsonl,csv]

Goal (issue 5): 1 million judgments to Parquet in under 10 seconds on the 2-core machine.
Figures only; nothing is asserted here.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa
from argon2 import PasswordHasher

from interpret_review.judgments import JudgmentStore
from interpret_review.judgments.tables import judgments
from interpret_review.tasks.answers import default_schema

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
REVIEWERS = 50
CATEGORIES = ("stroke", "curve", "loop", "corner", "edge", "blob", "background", "other")


def fill(path: Path, n: int) -> None:
    store = JudgmentStore(
        f"sqlite:///{path}", password_hasher=PasswordHasher(time_cost=1, memory_cost=64)
    )
    store.migrate()
    store.ensure_project("bench")
    schema = default_schema("neuron").to_dict()
    store.ensure_task(
        "bench", "describe", kind="neuron", title="", instructions="", answer_schema=schema
    )
    n_items = max(1, n // 5)
    store.add_items(
        "bench", "describe", [(f"neuron:digits/conv2/{i}", "fp") for i in range(n_items)]
    )
    for r in range(REVIEWERS):
        store.add_reviewer(f"reviewer{r}", "pw")
    store.close()
    rng = random.Random(0)
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        batch = []
        for i in range(n):
            at = T0 + timedelta(seconds=i)
            batch.append(
                {
                    "client_id": str(uuid.UUID(int=i + 1)),
                    "item_id": i % n_items + 1,
                    "reviewer_id": (i // n_items) * 7 % REVIEWERS + 1,
                    "task_version_id": 1,
                    "answers": {
                        "label": f"strokes at the top of the digit, unit {i % n_items}",
                        "category": rng.choice(CATEGORIES),
                        "confidence": rng.randint(1, 5),
                        "flags": ["polysemantic"] if rng.random() < 0.1 else [],
                        "fits": sorted(rng.sample(range(450), 4)),
                    },
                    "supersedes_id": None,
                    "started_at": at,
                    "submitted_at": at + timedelta(seconds=9),
                    "stored_at": at + timedelta(seconds=9),
                    "duration_ms": 9000,
                    "run_fingerprint": "fp",
                }
            )
            if len(batch) == 20_000:
                conn.execute(judgments.insert(), batch)
                batch = []
        if batch:
            conn.execute(judgments.insert(), batch)
    engine.dispose()


def export_once(path: Path, fmt: str, out: Path) -> dict[str, float]:
    """Runs in its own process (see ``main``): one export, its time and peak memory."""
    from interpret_review.export import export_judgments

    with JudgmentStore(f"sqlite:///{path}") as store:
        start = time.perf_counter()
        result = export_judgments(store, "bench", format=fmt, out=out, card=False)
        seconds = time.perf_counter() - start
        card_start = time.perf_counter()
        from interpret_review.export.card import write_card
        from interpret_review.export.rows import RowContext
        from interpret_review.review.provenance import RunHistory

        write_card(
            out.with_suffix(".card.md"),
            store,
            "bench",
            report=None,
            context=RowContext(RunHistory(store.runs("bench")), store.pseudonyms("bench")),
            files={out.name: "bench"},
        )
        card_s = time.perf_counter() - card_start
    return {
        "seconds": round(seconds, 2),
        "rows": result.rows,
        "rows_per_s": round(result.rows / seconds),
        "mb": round(out.stat().st_size / 1e6, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "card_s": round(card_s, 2),
    }


def _in_process(path: Path, fmt: str, out: Path) -> dict[str, float]:
    code = (
        "import json, sys; from pathlib import Path; sys.path.insert(0, 'benchmarks');"
        "from bench_export import export_once;"
        f"print(json.dumps(export_once(Path({str(path)!r}), {fmt!r}, Path({str(out)!r}))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--judgments", type=int, default=1_000_000)
    parser.add_argument("--formats", default="parquet,jsonl,csv")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        full, small = Path(folder) / "full.sqlite", Path(folder) / "small.sqlite"
        start = time.perf_counter()
        fill(full, args.judgments)
        fill(small, args.judgments // 10)
        fill_s = time.perf_counter() - start
        formats = {
            fmt: _in_process(full, fmt, Path(folder) / f"labels.{fmt}")
            for fmt in args.formats.split(",")
        }
        small_run = _in_process(small, "parquet", Path(folder) / "small.parquet")
    big_run = formats.get("parquet") or _in_process(full, "parquet", Path(folder) / "x.parquet")
    print(
        json.dumps(
            {
                "judgments": args.judgments,
                "fill_s": round(fill_s, 1),
                "formats": formats,
                "memory": {
                    "small_judgments": args.judgments // 10,
                    "small_peak_rss_mb": small_run["peak_rss_mb"],
                    "full_peak_rss_mb": big_run["peak_rss_mb"],
                    "ratio": round(big_run["peak_rss_mb"] / small_run["peak_rss_mb"], 2),
                },
                "card_s": big_run["card_s"],
                "goal_parquet_s": 10.0,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
