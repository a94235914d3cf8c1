"""Write-side SQL of accounts. Passwords are hashed before any transaction starts, so the
write lock is never held while argon2 runs."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from interpret_review.errors import ConfigError, JudgmentError, UnknownNameError
from interpret_review.judgments import queries as q
from interpret_review.judgments.passwords import Passwords
from interpret_review.judgments.records import Reviewer
from interpret_review.judgments.tables import reviewers
from interpret_review.tasks import ROLES

__all__ = ["account_values", "insert_reviewer", "set_active", "set_role"]


def account_values(
    passwords: Passwords, username: str, password: str, role: str, display_name: str | None
) -> dict[str, Any]:
    """The checked ``reviewers`` row of a new account (password hashed)."""
    if not isinstance(username, str) or not username.strip() or len(username) > 100:
        raise ConfigError(f"user name must be 1-100 characters, got {username!r}")
    if username != username.strip():
        raise ConfigError(f"user name {username!r} starts or ends with spaces; remove them")
    if not isinstance(password, str) or not password:
        raise ConfigError(f"the password of {username!r} must be a non-empty string")
    if role not in ROLES:
        raise UnknownNameError("role", role, ROLES)
    return {
        "username": username,
        "display_name": display_name if display_name else username,
        "password_hash": passwords.hash(password),
        "role": role,
        "active": True,
        "created_at": datetime.now(timezone.utc),
    }


def _reviewer(conn: sa.Connection, reviewer_id: int) -> Reviewer:
    return q.to_reviewer(
        conn.execute(sa.select(reviewers).where(reviewers.c.id == reviewer_id)).one()
    )


def insert_reviewer(conn: sa.Connection, values: dict[str, Any]) -> Reviewer:
    username = values["username"]
    if conn.execute(sa.select(reviewers.c.id).where(reviewers.c.username == username)).first():
        raise JudgmentError(
            f"reviewer {username!r} already exists; pick another user name, or use "
            "ensure_reviewer() to keep the existing account"
        )
    return _reviewer(conn, q.new_id(conn.execute(reviewers.insert().values(**values))))


def set_active(conn: sa.Connection, username: str, active: bool) -> Reviewer:
    row = q.reviewer_row(conn, username)
    conn.execute(reviewers.update().where(reviewers.c.id == row.id).values(active=bool(active)))
    return _reviewer(conn, row.id)


def set_role(conn: sa.Connection, username: str, role: str) -> Reviewer:
    if role not in ROLES:
        raise UnknownNameError("role", role, ROLES)
    row = q.reviewer_row(conn, username)
    conn.execute(reviewers.update().where(reviewers.c.id == row.id).values(role=role))
    return _reviewer(conn, row.id)
