"""Judgment-store parts that need no database: URLs, submissions, passwords, the public API."""

from __future__ import annotations

import types
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from argon2 import PasswordHasher

import interpret_review.judgments as judgments
import interpret_review.tasks as tasks
from interpret_review.errors import ConfigError, InvalidAnswerError, JudgmentError
from interpret_review.judgments.engine import mask_url
from interpret_review.judgments.passwords import Passwords
from interpret_review.judgments.submission import Submission

T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)


def test_public_api_is_exactly_all() -> None:
    public = {
        name
        for name, value in vars(judgments).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    public.discard("annotations")  # from __future__
    assert public == set(judgments.__all__)
    assert judgments.__all__ == sorted(judgments.__all__)


def test_the_task_model_is_public_and_pure() -> None:
    public = {
        name
        for name, value in vars(tasks).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    public.discard("annotations")
    assert public == set(tasks.__all__) and tasks.__all__ == sorted(tasks.__all__)
    assert tasks.ROLES == ("reviewer", "adjudicator", "researcher")
    assert tasks.role_allows("researcher", "adjudicator")
    assert not tasks.role_allows("reviewer", "adjudicator")


def test_adaptive_overlap_is_a_pure_decision() -> None:
    rule = tasks.AdaptiveRule("category", 0.75, 4)
    agree = [{"category": "a"}] * 3
    split = [{"category": "a"}, {"category": "a"}, {"category": "b"}]
    decide = tasks.wants_another_reviewer
    assert not decide(overlap=3, slots=3, counted=agree, ignored=0, rule=rule)
    assert decide(overlap=3, slots=3, counted=split, ignored=0, rule=rule)  # 2/3 < 0.75
    assert not decide(overlap=3, slots=4, counted=split + split[:1], ignored=0, rule=rule)
    # a paused reviewer's answer is replaced, with or without a rule, beyond the cap
    assert decide(overlap=3, slots=3, counted=agree[:2], ignored=1, rule=None)
    assert decide(overlap=3, slots=4, counted=split, ignored=1, rule=rule)
    assert not decide(overlap=3, slots=3, counted=split, ignored=0, rule=None)
    # blank answers do not count as disagreement
    blank = [{"category": "a"}, {"category": "a"}, {"category": ""}]
    assert not decide(overlap=3, slots=3, counted=blank, ignored=0, rule=rule)


def test_urls_are_masked_and_checked() -> None:
    assert mask_url("postgresql+psycopg://u:hunter2@h/db") == "postgresql+psycopg://u:***@h/db"
    store = judgments.JudgmentStore("postgresql+psycopg://u:hunter2@h/db")
    assert "hunter2" not in store.url and "hunter2" not in repr(store)
    with pytest.raises(ConfigError, match="is not a database URL"):
        judgments.JudgmentStore("judgments.sqlite")
    with pytest.raises(ConfigError, match="SQLite or PostgreSQL, not 'mysql'"):
        judgments.JudgmentStore("mysql://u:hunter2@h/db")


def test_sqlite_beside_a_project_file(tmp_path) -> None:  # noqa: ANN001
    store = judgments.JudgmentStore.sqlite_beside(tmp_path / "digits.toml")
    assert store.url == "sqlite:///" + str(tmp_path / "digits.judgments.sqlite")


def _build(**changes: object) -> Submission:
    values: dict[str, object] = dict(
        client_id=str(uuid.uuid4()),
        project="p",
        task="t",
        key="attribution:r/1",
        reviewer="a",
        answers={"x": 1},
        task_version=1,
        started_at=T0,
        submitted_at=T0 + timedelta(milliseconds=1234),
        supersedes=None,
    )
    values.update(changes)
    return Submission.build(**values)


def test_a_submission_is_normalised() -> None:
    cid = uuid.uuid4()
    built = _build(
        client_id=str(cid).upper(),
        answers={"x": (1, 2)},
        started_at=T0.astimezone(timezone(timedelta(hours=-5))),
    )
    assert built.client_id == str(cid) and built.answers == {"x": [1, 2]}
    assert built.started_at == T0 and built.started_at.tzinfo == timezone.utc
    assert built.duration_ms == 1234


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"client_id": "abc"}, JudgmentError, "UUID"),
        ({"supersedes": "abc"}, JudgmentError, "supersedes must be a UUID"),
        ({"answers": ["x"]}, InvalidAnswerError, "dict"),
        ({"answers": {"x": float("nan")}}, InvalidAnswerError, "JSON"),
        ({"task_version": 0}, JudgmentError, ">= 1"),
        ({"submitted_at": datetime(2025, 1, 1)}, JudgmentError, "timezone-aware"),
    ],
)
def test_bad_submissions_are_refused(changes: dict, error: type, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(error, match=message):
        _build(**changes)


def test_passwords_check_and_spend_time_on_unknown_users() -> None:
    passwords = Passwords(PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    stored = passwords.hash("pw")
    # the password is never stored: the hash is salted (a two-letter password may appear in
    # base64 by chance, so look for a long one)
    secret = "correct-horse-battery-staple"
    assert stored.startswith("$argon2id$") and secret not in passwords.hash(secret)
    assert passwords.hash("pw") != stored  # salted: another hash each time
    assert passwords.check(stored, "pw") and not passwords.check(stored, "wrong")
    assert not passwords.check("not a hash", "pw")
    assert not passwords.check(None, "pw")
    assert passwords._dummy is not None  # the unknown user's check ran a real verification
    assert passwords.needs_rehash("not a hash")
    assert Passwords().needs_rehash(stored) and not passwords.needs_rehash(stored)
