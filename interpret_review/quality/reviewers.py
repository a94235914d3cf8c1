"""Per-reviewer figures: gold accuracy, competence, agreement with the consensus, speed and
attention flags.

Flags (each with the evidence that raised it):

* ``too_fast``: a quarter or more of the answers came faster than ``fast_seconds``, the
  least time in which an item can be looked at (five answers or more);
* ``faster_than_peers``: the median time per answer is under a third of everyone else's
  median on the task (five answers or more);
* ``straight_lining``: the same answer given so many times in a row that the task's own
  mix of answers makes it a one-in-a-hundred event;
* ``near_chance`` / ``below_chance``: on the items others answered too (``min_items`` or
  more; on gold items the expected answer stands in for the others'), the reviewer's
  answers match the others' most common answer so seldom that random answering is 19 times
  likelier than answering like the task's typical reviewer (Wald's
  sequential probability ratio test, safe to re-run after every answer); ``below_chance``
  when they match clearly less often than random answers would (systematically wrong:
  below chance even at the top of a one-sided 95% band). Peer
  matches are used rather than the reliability model's competence because they stay honest
  on few answers, where a model's estimate per reviewer is mostly noise.

Each answer is also compared with the reviewer's own pace: ``rushed`` counts the answers
given in under a quarter of their own median time.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from interpret_review.quality.consensus import ConsensusLabel
from interpret_review.quality.data import TaskAnswers
from interpret_review.quality.reliability import Reliability

__all__ = ["FLAGS", "ReviewerFigures", "compute_reviewers", "gold_matches", "merge_reviewers"]

FLAGS = ("too_fast", "faster_than_peers", "straight_lining", "near_chance", "below_chance")
MIN_TIMED = 5  # answers before speed flags are raised
RANDOM_ODDS = math.log(19.0)  # evidence (log odds) that answers are random before a flag


@dataclass(frozen=True)
class ReviewerFigures:
    """One reviewer's figures on one task (or, merged, on a whole project)."""

    reviewer: str
    task: str
    items: int = 0
    gold_items: int = 0
    gold_correct: int = 0
    competence: float | None = None
    competence_support: int = 0
    chance: float | None = None
    peer_agreement: float | None = None  # share of answers equal to the others' most common
    peer_support: int = 0  # answers to items someone else answered too (or gold items)
    random_odds: float | None = None  # how much likelier random answering is than typical
    agreement: float | None = None  # share of answers equal to the consensus
    agreement_items: int = 0
    median_seconds: float | None = None
    fast_share: float | None = None
    rushed: int = 0
    longest_run: int = 0
    flags: tuple[str, ...] = ()
    evidence: dict[str, str] = field(default_factory=dict)

    @property
    def gold_accuracy(self) -> float | None:
        return self.gold_correct / self.gold_items if self.gold_items else None

    def figures(self) -> dict[str, Any]:
        """The figures tier rules see (``review/rules.py``)."""
        out: dict[str, Any] = {
            "items": self.items,
            "gold_items": self.gold_items,
            "gold_accuracy": self.gold_accuracy,
            "competence": self.competence,
            "agreement": self.agreement,
            "peer_agreement": self.peer_agreement,
            "random_odds": self.random_odds,
            "median_seconds": self.median_seconds,
            "fast_share": self.fast_share,
            "flags": len(self.flags),
        }
        out.update({name: name in self.flags for name in FLAGS})
        return out


def _same(expected: Any, given: Any) -> bool:
    if isinstance(expected, str) and isinstance(given, str):
        return " ".join(expected.split()).casefold() == " ".join(given.split()).casefold()
    if isinstance(expected, list) and isinstance(given, list):
        return sorted(map(str, expected)) == sorted(map(str, given))
    return bool(expected == given)


def gold_matches(expected: Mapping[str, Any], given: Mapping[str, Any]) -> bool:
    """Whether an answer gives every expected value of a gold item (text compared without
    case and spacing, lists as sets)."""
    return all(_same(value, given.get(name)) for name, value in expected.items())


def _run(values: list[Any]) -> tuple[int, Any]:
    best, best_value, length, previous = 0, None, 0, object()
    for v in values:
        length = length + 1 if v == previous else 1
        previous = v
        if length > best:
            best, best_value = length, v
    return best, best_value


def compute_reviewers(
    answers: TaskAnswers,
    *,
    field_name: str | None,
    fit: Reliability | None,
    consensus: Iterable[ConsensusLabel] = (),
    min_items: int = 10,
    fast_seconds: float = 2.0,
    paused: set[str] | frozenset[str] = frozenset(),
) -> dict[str, ReviewerFigures]:
    """The figures of every reviewer of one task (``paused`` reviewers' answers are not used
    as anyone's peers)."""
    frame = answers.frame
    agreed = {c.item: c.value for c in consensus}
    values = answers.values(field_name) if field_name else None
    shares: dict[Any, float] = {}
    if values is not None:
        given = values[values.notna()]
        shares = {k: n / len(given) for k, n in given.value_counts().items()} if len(given) else {}
    n_values = max(_n_values(answers, field_name), 2)
    peers = _peer_matches(answers, field_name, paused, n_values) if field_name else {}
    skills = [_skill(m) for m in peers.values() if len(m) >= min_items]
    typical = float(np.median(skills)) if skills else None
    if typical is not None and typical < 0.1:
        typical = None  # the task's reviewers hardly agree: no yardstick to judge anyone by
    out = {}
    for reviewer, rows in frame.groupby("reviewer", sort=True):
        evidence: dict[str, str] = {}
        seconds = rows["seconds"].to_numpy(dtype=float)
        others = frame.loc[frame["reviewer"] != reviewer, "seconds"].to_numpy(dtype=float)
        median, fast_share, rushed = _speed(seconds, others, fast_seconds, evidence)
        gold_items = gold_correct = 0
        for item, given in zip(rows["item"], rows["answers"], strict=True):
            expected = answers.gold.get(item)
            if expected:
                gold_items += 1
                gold_correct += gold_matches(expected, given)
        longest = 0
        agreement, agreement_items = None, 0
        if values is not None:
            mine = [v for v in values.loc[rows.index] if v is not None]
            longest, repeated = _run(mine)
            share = shares.get(repeated, 0.0)
            # chance of a run this long somewhere among the answers, at the task's mix
            if longest >= 8 and 0 < share < 1 and len(mine) * share ** (longest - 1) < 0.01:
                evidence["straight_lining"] = (
                    f"{repeated!r} {longest} times in a row; {share:.0%} of the task's answers"
                )
            judged = [
                (agreed[item], v)
                for item, v in zip(rows["item"], values.loc[rows.index], strict=True)
                if item in agreed and v is not None
            ]
            if judged:
                agreement_items = len(judged)
                agreement = sum(a == v for a, v in judged) / len(judged)
        competence = chance = None
        support = 0
        if fit is not None and reviewer in fit.competence:
            support = fit.support.get(reviewer, 0)
            competence, chance = fit.competence[reviewer], fit.chance
        matches = peers.get(str(reviewer), [])
        peer = sum(m.hit for m in matches) / len(matches) if matches else None
        random_odds = None
        if len(matches) >= min_items and typical is not None:
            random_odds = _random_flag(matches, typical, evidence)
        flags = [flag for flag in FLAGS if flag in evidence]
        out[str(reviewer)] = ReviewerFigures(
            reviewer=str(reviewer),
            task=answers.task,
            items=len(rows),
            gold_items=gold_items,
            gold_correct=gold_correct,
            competence=competence,
            competence_support=support,
            chance=chance,
            peer_agreement=peer,
            peer_support=len(matches),
            random_odds=random_odds,
            agreement=agreement,
            agreement_items=agreement_items,
            median_seconds=median,
            fast_share=fast_share,
            rushed=rushed,
            longest_run=longest,
            flags=tuple(flags),
            evidence=evidence,
        )
    return out


def _speed(
    seconds: np.ndarray, others: np.ndarray, fast_seconds: float, evidence: dict[str, str]
) -> tuple[float | None, float | None, int]:
    """``(median seconds, share under fast_seconds, rushed answers)`` of one reviewer; the
    speed flags raised go into ``evidence``."""
    n = len(seconds)
    if not n:
        return None, None, 0
    median = float(np.median(seconds))
    fast_share = float(np.mean(seconds < fast_seconds))
    rushed = int(np.sum(seconds < median / 4))
    if n >= MIN_TIMED and fast_share >= 0.25:
        evidence["too_fast"] = f"{fast_share:.0%} of {n} answers in under {fast_seconds:g} s"
    if n >= MIN_TIMED and len(others) >= MIN_TIMED:
        pace = float(np.median(others))
        if pace > 0 and median < pace / 3:
            evidence["faster_than_peers"] = f"median {median:.1f} s against {pace:.1f} s"
    return median, fast_share, rushed


def _random_flag(matches: list[_Match], typical: float, evidence: dict[str, str]) -> float:
    """The odds that these answers are random rather than typical; ``near_chance`` or
    ``below_chance`` goes into ``evidence`` when they reach :data:`RANDOM_ODDS`."""
    log_odds = _random_evidence(matches, typical)
    if log_odds >= RANDOM_ODDS:
        hits, n = sum(m.hit for m in matches), len(matches)
        chance = sum(m.chance for m in matches) / n
        band = 1.645 * math.sqrt(chance * (1 - chance) / n)
        flag = "below_chance" if hits / n + band < chance else "near_chance"
        evidence[flag] = (
            f"matches the others' most common answer on {hits} of {n} items ({hits / n:.0%}; "
            f"random answers would match {chance:.0%}): {math.exp(log_odds):,.0f} to 1 that "
            "these answers are random rather than like this task's typical reviewer's"
            + (", and systematically different" if flag == "below_chance" else "")
        )
    return math.exp(min(log_odds, 50.0))


def _n_values(answers: TaskAnswers, name: str | None) -> int:
    if name is None:
        return 2
    f = answers.schema[name]
    if f.type == "scale":
        return f.max - f.min + 1
    return 2 if f.type == "boolean" else len(f.choices)


@dataclass(frozen=True)
class _Match:
    """One answer compared with the others' answers to the same item."""

    hit: bool  # the answer is (one of) the others' most common
    chance: float  # the probability that a random answer would be: tied values / values


def _peer_matches(
    answers: TaskAnswers, name: str, paused: set[str] | frozenset[str], n_values: int
) -> dict[str, list[_Match]]:
    """Per reviewer: each answer to an item others answered too, compared with theirs."""
    values = answers.frame.assign(value=answers.values(name))
    values = values[values["value"].notna()]
    out: dict[str, list[_Match]] = {}
    for item, rows in values.groupby("item", sort=False):
        given = list(zip(rows["reviewer"], rows["value"], strict=True))
        expected = (answers.gold.get(item) or {}).get(name)
        if expected is not None:  # a gold item: compare with the expected answer
            for who, value in given:
                out.setdefault(str(who), []).append(
                    _Match(str(value) == str(expected), 1.0 / n_values)
                )
            continue
        if len(rows) < 2:
            continue
        for who, value in given:
            others = Counter(str(v) for w, v in given if w != who and w not in paused)
            if others:
                top = max(others.values())
                tied = sum(1 for n in others.values() if n == top)
                out.setdefault(str(who), []).append(
                    _Match(others.get(str(value), 0) == top, min(tied / n_values, 1.0))
                )
    return out


def _skill(matches: list[_Match]) -> float:
    """How far above chance a reviewer matches the others: 0 random, 1 always."""
    rate = sum(m.hit for m in matches) / len(matches)
    chance = sum(m.chance for m in matches) / len(matches)
    return (rate - chance) / (1 - chance) if chance < 1 else 0.0


def _random_evidence(matches: list[_Match], skill: float) -> float:
    """Log-likelihood ratio of "answers at random" against "answers with the task's typical
    ``skill``": Wald's sequential test, which may be looked at after every answer without
    inflating its error rates."""
    total = 0.0
    for m in matches:
        if m.chance >= 1:
            continue  # every value was among the others' most common: says nothing
        typical = min(m.chance + (1 - m.chance) * skill, 1 - 1e-6)
        if m.hit:
            total += math.log(m.chance / typical)
        else:
            total += math.log((1 - m.chance) / (1 - typical))
    return total


def _weighted(pairs: list[tuple[float | None, int]]) -> float | None:
    known = [(v, w) for v, w in pairs if v is not None and w > 0]
    total = sum(w for _, w in known)
    return sum(v * w for v, w in known) / total if total else None


def merge_reviewers(per_task: Iterable[ReviewerFigures], reviewer: str) -> ReviewerFigures:
    """One reviewer's figures over several tasks: counts add up, rates are weighted by the
    answers behind them, flags and their evidence are kept (prefixed by the task)."""
    rows = list(per_task)
    if not rows:
        return ReviewerFigures(reviewer, "")
    flags: list[str] = []
    evidence: dict[str, str] = {}
    for r in rows:
        for flag in r.flags:
            if flag not in flags:
                flags.append(flag)
            evidence.setdefault(flag, f"{r.task}: {r.evidence.get(flag, '')}")
    chances = [(r.chance, r.competence_support) for r in rows]
    medians = [r.median_seconds for r in rows if r.median_seconds is not None]
    return replace(
        rows[0],
        task="",
        items=sum(r.items for r in rows),
        gold_items=sum(r.gold_items for r in rows),
        gold_correct=sum(r.gold_correct for r in rows),
        competence=_weighted([(r.competence, r.competence_support) for r in rows]),
        peer_agreement=_weighted([(r.peer_agreement, r.peer_support) for r in rows]),
        peer_support=sum(r.peer_support for r in rows),
        competence_support=sum(r.competence_support for r in rows),
        chance=_weighted(chances),
        agreement=_weighted([(r.agreement, r.agreement_items) for r in rows]),
        agreement_items=sum(r.agreement_items for r in rows),
        median_seconds=float(np.median(medians)) if medians else None,
        fast_share=_weighted([(r.fast_share, r.items) for r in rows]),
        rushed=sum(r.rushed for r in rows),
        random_odds=max((r.random_odds for r in rows if r.random_odds is not None), default=None),
        longest_run=max(r.longest_run for r in rows),
        flags=tuple(flags),
        evidence=evidence,
    )
