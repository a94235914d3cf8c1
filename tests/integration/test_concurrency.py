"""Two processes, twenty reviewers, one store (SQLite and PostgreSQL): leases, overlap and
idempotent submits stay correct under concurrent work, and every acknowledged judgment is
stored exactly once."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from interpret_review.judgments import JudgmentStore
from interpret_review.tasks import TaskSettings

ROOT = str(Path(__file__).resolve().parents[2])
N_ITEMS, OVERLAP, REVIEWERS = 30, 3, 20

WORKER = textwrap.dedent(
    """
    import json, os, random, sys, threading, time, uuid
    from datetime import datetime, timedelta, timezone
    from interpret_review.errors import StoreUnavailableError
    from interpret_review.judgments import JudgmentStore

    url, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    store = JudgmentStore(url)
    lock = threading.Lock()

    def say(**line):
        with lock:
            print(json.dumps(line), flush=True)

    def send(name, key, client_id):
        now = datetime.now(timezone.utc)
        for attempt in range(20):  # what the browser's queue does: resend until stored
            try:
                return store.submit(
                    client_id=client_id, project="p", task="t", key=key, reviewer=name,
                    answers={"label": f"{name} on {key}"}, task_version=1,
                    started_at=now - timedelta(seconds=1), submitted_at=now,
                )
            except StoreUnavailableError:
                continue
        raise RuntimeError("the store stayed busy")

    def complete():
        [total] = [r for r in store.progress_by_reviewer("p") if r.reviewer is None]
        return total.done == total.items

    def reviewer(name):
        try:
            work(name)
        except BaseException as error:  # a reviewer who dies would hold a lease: fail fast
            say(error=repr(error), reviewer=name)
            os._exit(3)

    def work(name):
        rng = random.Random(name)
        for _ in range(2_000):
            item = store.claim("p", "t", name)
            if item is None:
                if complete():
                    return
                time.sleep(0.05)  # held by others, who may skip it: come back in a moment
                continue
            if rng.random() < 0.1:
                store.skip("p", "t", item.key, name, "simulated: cannot tell")
                say(skipped=item.key, reviewer=name)
                continue
            client_id = str(uuid.uuid4())
            stored = send(name, item.key, client_id)
            if rng.random() < 0.3:  # the acknowledgement was lost: the browser sends again
                again = send(name, item.key, client_id)
                assert again.id == stored.id
            say(ack=client_id, item=item.key, reviewer=name)

    threads = [
        threading.Thread(target=reviewer, args=(f"r{i:02d}",)) for i in range(first, first + count)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    say(done=True)
    """
)


@pytest.mark.slow
def test_two_processes_and_twenty_reviewers_lose_and_double_nothing(store_url: str) -> None:
    store = JudgmentStore(store_url)
    store.migrate()
    store.ensure_project("p")
    store.ensure_task(
        "p", "t", kind="neuron", title="", instructions="", answer_schema={},
        settings=TaskSettings(overlap=OVERLAP),
    )  # fmt: skip
    store.add_items("p", "t", [(f"neuron:r/l/{u}", "fp") for u in range(N_ITEMS)])
    for i in range(REVIEWERS):
        store.ensure_reviewer(f"r{i:02d}", "pw")
    half = REVIEWERS // 2
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, store_url, str(first), str(half)],
            env={"PYTHONPATH": ROOT, "PATH": "/usr/bin:/bin"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for first in (0, half)
    ]
    lines = []
    for worker in workers:
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, out[-2000:] + err[-2000:]
        lines += [json.loads(line) for line in out.splitlines()]
    assert sum(1 for line in lines if line.get("done")) == 2
    acked = [line for line in lines if "ack" in line]
    skipped = [line for line in lines if "skipped" in line]

    stored = list(store.iter_judgments("p"))
    by_client = Counter(j.client_id for j in stored)
    assert all(by_client[line["ack"]] == 1 for line in acked)  # every acknowledged one, once
    assert len(stored) == len(acked)  # and nothing that was not acknowledged
    per_item = Counter(j.item for j in stored)
    assert per_item == {f"neuron:r/l/{u}": OVERLAP for u in range(N_ITEMS)}  # exact overlap
    assert len({(j.item, j.reviewer) for j in stored}) == len(stored)  # distinct reviewers
    assert not {(s["skipped"], s["reviewer"]) for s in skipped} & {
        (j.item, j.reviewer) for j in stored
    }  # a skipped item is never answered by the one who skipped it
    statuses = Counter(a.status for a in store.assignments("p"))
    assert statuses["done"] == N_ITEMS * OVERLAP and statuses["skipped"] == len(skipped)
    assert statuses["leased"] == 0
    store.close()
