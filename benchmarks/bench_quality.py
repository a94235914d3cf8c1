"""Planted truth: does the quality machinery recover a known truth?

Simulated reviewers with chosen accuracies (honest ones, spammers answering at random at an
honest pace, adversaries answering the next category) answer items with known labels
through the judgment store, the same claim and submit calls the review page makes (SQLite
file per run). Printed as one JSON object:

* ``grid``: consensus accuracy per policy (majority vote, the one-coin and full Dawid-Skene
  models, MACE) as honest accuracy and a fixed overlap vary, one in five reviewers a spammer;
* ``goal``: base overlap 3 with adaptive overlap (up to ``max_overlap`` while fewer than 80%
  of the answers agree), honest reviewers 0.75 accurate, one in five a spammer, tier rules
  pausing reviewers (on the evidence of random answering, or on gold) while answers come in:
  accuracy per policy, answers per item, how many of their items each spammer gave before
  being flagged, honest reviewers wrongly flagged, over several seeds;
* ``adversaries``: the same with an adversary in the crowd;
* ``competence_correlation``: of estimated (one-coin) with true reviewer accuracy.

    python benchmarks/bench_quality.py [--items 300] [--seeds 3] [--quick]

Goals (issue 4): consensus accuracy >= 0.97 in the goal setting; every spammer flagged within
30 of their items. Figures only; nothing is asserted here.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher

from interpret_review.judgments import JudgmentStore
from interpret_review.quality.simulate import GOLD_RULE, SPAM_RULE, Scenario, simulate


def _run(folder: Path, scenario: Scenario) -> Any:
    path = folder / f"planted-{time.perf_counter_ns()}.sqlite"
    store = JudgmentStore(
        f"sqlite:///{path}", password_hasher=PasswordHasher(time_cost=1, memory_cost=64)
    )
    store.migrate()
    try:
        return simulate(store, scenario)
    finally:
        store.close()


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in values.items()}


def _mean(rows: list[dict[str, float]]) -> dict[str, float]:
    return {k: round(statistics.fmean(r[k] for r in rows), 4) for k in rows[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=300)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a smaller grid")
    args = parser.parse_args()
    started = time.perf_counter()
    out: dict[str, Any] = {"items": args.items, "categories": 5, "reviewers": 10}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        accuracies = (0.75,) if args.quick else (0.65, 0.75, 0.85)
        overlaps = (3,) if args.quick else (1, 3, 5)
        grid = []
        for accuracy in accuracies:
            for overlap in overlaps:
                r = _run(folder, Scenario(items=args.items, accuracy=accuracy, overlap=overlap))
                grid.append(
                    {
                        "honest_accuracy": accuracy,
                        "overlap": overlap,
                        "accuracy": _rounded(r.accuracy),
                        "competence_correlation": r.competence_correlation
                        and round(r.competence_correlation, 3),
                    }
                )
        out["grid"] = grid

        def setting(adversaries: int) -> dict[str, Any]:
            runs = [
                _run(
                    folder,
                    Scenario(
                        items=args.items,
                        accuracy=0.75,
                        honest=8 - adversaries,
                        spammers=2,
                        adversaries=adversaries,
                        overlap=3,
                        max_overlap=7,
                        min_agreement=0.8,
                        tiers=(GOLD_RULE, SPAM_RULE),
                        seed=seed,
                    ),
                )
                for seed in range(args.seeds)
            ]
            flagged = [n for r in runs for n in r.flagged_at.values()]
            return {
                "accuracy_mean": _mean([r.accuracy for r in runs]),
                "accuracy_min": {
                    k: round(min(r.accuracy[k] for r in runs), 4) for k in runs[0].accuracy
                },
                "answers_per_item": round(statistics.fmean(r.answers_per_item for r in runs), 2),
                "flagged_at_items": [r.flagged_at for r in runs],
                "flagged_within_30": sum(1 for n in flagged if n is not None and n <= 30),
                "bad_reviewers": len(flagged),
                "never_flagged": sum(1 for n in flagged if n is None),
                "honest_wrongly_flagged": [r.false_flags for r in runs],
                "paused": [r.paused for r in runs],
                "competence_correlation": [
                    r.competence_correlation and round(r.competence_correlation, 3) for r in runs
                ],
            }

        out["goal"] = setting(0)
        out["goal"]["rules"] = [GOLD_RULE, SPAM_RULE]
        if not args.quick:
            out["adversaries"] = setting(1)
    out["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
