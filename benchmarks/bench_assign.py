"""Handing out items: the latency of ``claim`` (the next item of a reviewer's shuffled queue,
leased under the overlap rule) and of a submit through it, on SQLite and PostgreSQL, for
tasks of 1k and 100k items, against the same submit of an item assigned beforehand (the
baseline, measured in the same run).

    python benchmarks/bench_assign.py [--items 1000 100000] [--rounds 200] [--no-postgres]

Prints one JSON object. Figures only; no goal is asserted here.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from argon2 import PasswordHasher

from interpret_review.judgments import JudgmentStore
from interpret_review.tasks import TaskSettings

POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REVIEWERS = 20


def _ms(samples: list[float]) -> dict[str, float]:
    values = np.asarray(samples) * 1000
    return {
        "p50_ms": round(float(np.percentile(values, 50)), 2),
        "p95_ms": round(float(np.percentile(values, 95)), 2),
        "mean_ms": round(statistics.fmean(values), 2),
    }


def _submit(store: JudgmentStore, key: str, reviewer: str) -> None:
    now = datetime.now(timezone.utc)
    store.submit(
        client_id=str(uuid.uuid4()), project="p", task="t", key=key, reviewer=reviewer,
        answers={"label": "x", "category": "stroke"}, task_version=1,
        started_at=now - timedelta(seconds=2), submitted_at=now,
    )  # fmt: skip


def bench(url: str, n_items: int, rounds: int) -> dict[str, object]:
    store = JudgmentStore(url, password_hasher=PasswordHasher(time_cost=1, memory_cost=64))
    store.migrate()
    store.ensure_project("p")
    store.ensure_task(
        "p", "t", kind="neuron", title="", instructions="", answer_schema={},
        settings=TaskSettings(overlap=3),
    )  # fmt: skip
    started = time.perf_counter()
    store.add_items("p", "t", [(f"neuron:r/l/{u}", "fp") for u in range(n_items)])
    add_s = time.perf_counter() - started
    names = [f"r{i:02d}" for i in range(REVIEWERS)]
    for name in names:
        store.add_reviewer(name, "pw")
    claim, claim_submit, baseline = [], [], []
    for i in range(rounds):
        name = names[i % REVIEWERS]
        t0 = time.perf_counter()
        item = store.claim("p", "t", name)
        t1 = time.perf_counter()
        assert item is not None
        _submit(store, item.key, name)
        t2 = time.perf_counter()
        claim.append(t1 - t0)
        claim_submit.append(t2 - t0)
        # the baseline: an item assigned beforehand, then the same submit
        other = names[(i + 7) % REVIEWERS]
        key = f"neuron:r/l/{(i * 7919 + 13) % n_items}"
        try:
            store.assign("p", "t", key, other)
        except Exception:  # full or already answered: pick the next round's
            continue
        t3 = time.perf_counter()
        _submit(store, key, other)
        baseline.append(time.perf_counter() - t3)
    store.close()
    return {
        "items": n_items,
        "add_items_s": round(add_s, 2),
        "claim": _ms(claim),
        "claim_then_submit": _ms(claim_submit),
        "submit_of_an_assigned_item": _ms(baseline),
        "ratio_claim_then_submit_to_submit_p50": round(
            float(np.median(claim_submit) / np.median(baseline)), 2
        ),
    }


def _postgres_url() -> tuple[str, str]:
    name = "ir_bench_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return sa.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(False), name


def _drop(name: str) -> None:
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    out: dict[str, object] = {"benchmark": "assign", "reviewers": REVIEWERS, "overlap": 3}
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.items:
            url = "sqlite:///" + str(Path(tmp) / f"j{n}.sqlite")
            out[f"sqlite_{n}"] = bench(url, n, args.rounds)
            if not args.no_postgres:
                url, name = _postgres_url()
                try:
                    out[f"postgres_{n}"] = bench(url, n, args.rounds)
                finally:
                    _drop(name)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
