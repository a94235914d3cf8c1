"""Accounts: argon2 hashes, password checks, roles, idempotent creation, rehash."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from interpret_review.errors import ConfigError, JudgmentError, UnknownNameError
from interpret_review.judgments import JudgmentStore
from interpret_review.judgments.tables import reviewers
from interpret_review.tasks import ROLES


def _stored_hash(store_url: str, username: str) -> str:
    engine = sa.create_engine(store_url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                sa.select(reviewers.c.password_hash).where(reviewers.c.username == username)
            ).scalar_one()
    finally:
        engine.dispose()


def test_password_is_stored_as_an_argon2_hash(
    judgment_store: JudgmentStore, store_url: str
) -> None:
    judgment_store.add_reviewer("alice", "correct horse", display_name="Alice A.")
    stored = _stored_hash(store_url, "alice")
    assert stored.startswith("$argon2id$")
    assert "correct horse" not in stored
    assert PasswordHasher().verify(stored, "correct horse")


def test_verify_password(judgment_store: JudgmentStore) -> None:
    created = judgment_store.add_reviewer("alice", "s3cret", role="adjudicator")
    assert created.role == "adjudicator" and created.active and created.display_name == "alice"
    assert judgment_store.verify_password("alice", "s3cret") == created
    assert judgment_store.verify_password("alice", "S3cret") is None
    assert judgment_store.verify_password("alice", "") is None
    assert judgment_store.verify_password("mallory", "s3cret") is None


def test_roles_are_validated(judgment_store: JudgmentStore, store_url: str) -> None:
    with pytest.raises(UnknownNameError, match="unknown role 'admin'"):
        judgment_store.add_reviewer("bob", "pw", role="admin")
    assert judgment_store.get_reviewer("bob") is None
    for role in ROLES:
        assert judgment_store.add_reviewer(f"user-{role}", "pw", role=role).role == role
    # The database refuses a bad role too (CHECK constraint), whoever writes it.
    engine = sa.create_engine(store_url)
    try:
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(
                reviewers.insert().values(
                    username="x",
                    display_name="x",
                    password_hash="h",
                    role="root",
                    active=True,
                    created_at=sa.func.now(),
                )
            )
    finally:
        engine.dispose()


def test_bad_account_values_are_refused(judgment_store: JudgmentStore) -> None:
    with pytest.raises(ConfigError, match="user name"):
        judgment_store.add_reviewer("", "pw")
    with pytest.raises(ConfigError, match="spaces"):
        judgment_store.add_reviewer(" alice", "pw")
    with pytest.raises(ConfigError, match="password"):
        judgment_store.add_reviewer("alice", "")
    judgment_store.add_reviewer("alice", "pw")
    with pytest.raises(JudgmentError, match="'alice' already exists"):
        judgment_store.add_reviewer("alice", "other")


def test_ensure_reviewer_is_idempotent_and_keeps_the_password(
    judgment_store: JudgmentStore,
) -> None:
    first = judgment_store.ensure_reviewer("carol", "one", role="researcher")
    again = judgment_store.ensure_reviewer("carol", "two", role="reviewer")
    assert again == first and again.role == "researcher"
    assert judgment_store.verify_password("carol", "one") == first
    assert judgment_store.verify_password("carol", "two") is None
    assert [r.username for r in judgment_store.reviewers()] == ["carol"]


def test_an_old_hash_is_replaced_on_login(judgment_store: JudgmentStore, store_url: str) -> None:
    judgment_store.add_reviewer("dave", "pw")  # cheap test parameters
    old = _stored_hash(store_url, "dave")
    stronger = PasswordHasher(time_cost=2, memory_cost=128, parallelism=1)
    upgraded = JudgmentStore(store_url, password_hasher=stronger)
    try:
        assert upgraded.verify_password("dave", "pw") is not None
        new = _stored_hash(store_url, "dave")
        assert new != old and not stronger.check_needs_rehash(new)
        assert upgraded.verify_password("dave", "pw") is not None
        assert _stored_hash(store_url, "dave") == new  # no rehash when current
    finally:
        upgraded.close()


def test_a_deactivated_account_cannot_log_in(judgment_store: JudgmentStore) -> None:
    judgment_store.add_reviewer("erin", "pw")
    assert judgment_store.set_active("erin", False).active is False
    assert judgment_store.verify_password("erin", "pw") is None
    assert judgment_store.set_active("erin", True).active is True
    assert judgment_store.verify_password("erin", "pw") is not None
