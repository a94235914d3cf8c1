"""Accounts and trust tiers: the ``reviewers`` and ``tier_changes`` tables."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from interpret_review.errors import JudgmentError
from interpret_review.judgments import accounts, tiers
from interpret_review.judgments import queries as q
from interpret_review.judgments.base import StoreCore
from interpret_review.judgments.records import Reviewer, TierChange
from interpret_review.judgments.tables import reviewers

__all__ = ["AccountMethods"]


class AccountMethods(StoreCore):
    """The methods of :class:`~interpret_review.judgments.JudgmentStore` on these tables."""

    def add_reviewer(
        self,
        username: str,
        password: str,
        *,
        role: str = "reviewer",
        display_name: str | None = None,
    ) -> Reviewer:
        """Create an account; JudgmentError if ``username`` is taken."""
        values = accounts.account_values(self._passwords, username, password, role, display_name)
        return self._write("adding a reviewer", accounts.insert_reviewer, values)

    def ensure_reviewer(
        self,
        username: str,
        password: str,
        *,
        role: str = "reviewer",
        display_name: str | None = None,
    ) -> Reviewer:
        """The account ``username``, created if missing. An existing account is returned
        unchanged (its password, role and display name are kept)."""
        existing = self.get_reviewer(username)
        if existing is not None:
            return existing
        try:
            return self.add_reviewer(username, password, role=role, display_name=display_name)
        except JudgmentError:
            existing = self.get_reviewer(username)  # created meanwhile by another process
            if existing is None:
                raise
            return existing

    def verify_password(self, username: str, password: str) -> Reviewer | None:
        """The account when ``password`` is right and the account active, else None.

        An unknown user costs the same hashing time as a known one. A hash made with
        older argon2 parameters is replaced by a new one on success.
        """
        with self._read("checking a password") as conn:
            row = conn.execute(sa.select(reviewers).where(reviewers.c.username == username)).first()
        if not self._passwords.check(None if row is None else row.password_hash, str(password)):
            return None
        if row is None:  # check() never accepts a missing hash; this only narrows the type
            return None
        if self._passwords.needs_rehash(row.password_hash):
            new_hash = self._passwords.hash(password)
            self._write(
                "updating a password hash",
                lambda conn: conn.execute(
                    reviewers.update()
                    .where(reviewers.c.id == row.id, reviewers.c.password_hash == row.password_hash)
                    .values(password_hash=new_hash)
                ),
            )
        return q.to_reviewer(row) if row.active else None

    def set_active(self, username: str, active: bool) -> Reviewer:
        """(De)activate an account: a deactivated one cannot log in or submit."""
        return self._write("changing an account", accounts.set_active, username, active)

    def set_role(self, username: str, role: str) -> Reviewer:
        """Give an account another role (``reviewer``, ``adjudicator`` or ``researcher``)."""
        return self._write("changing a role", accounts.set_role, username, role)

    def get_reviewer(self, username: str) -> Reviewer | None:
        with self._read("reading an account") as conn:
            row = conn.execute(sa.select(reviewers).where(reviewers.c.username == username)).first()
        return None if row is None else q.to_reviewer(row)

    def reviewers(self) -> list[Reviewer]:
        """All accounts, by user name."""
        with self._read("listing accounts") as conn:
            rows = conn.execute(sa.select(reviewers).order_by(reviewers.c.username)).all()
        return [q.to_reviewer(r) for r in rows]

    def tiers(self, project: str) -> dict[str, TierChange]:
        """``username -> current tier`` (their latest change) of reviewers with a tier."""
        with self._read("reading trust tiers") as conn:
            return tiers.current(conn, q.project_id(conn, project))

    def tier_history(self, project: str, reviewer: str | None = None) -> list[TierChange]:
        """Every tier change in the project (of one reviewer), oldest first."""
        with self._read("reading trust tiers") as conn:
            reviewer_id = None if reviewer is None else q.reviewer_row(conn, reviewer).id
            return tiers.history(conn, q.project_id(conn, project), reviewer_id)

    def set_tier(
        self,
        project: str,
        reviewer: str,
        tier: str,
        *,
        reason: str,
        paused: bool = False,
        role: str | None = None,
        source: str = "researcher",
        pinned: bool | None = None,
        evidence: dict[str, Any] | None = None,
        by: str | None = None,
    ) -> TierChange:
        """Record a change of ``reviewer``'s tier in ``project`` and return it.

        ``reason`` is required (it is what the record is for). ``source`` is ``researcher``
        (an override by account ``by``, pinned unless ``pinned=False``: rules leave a pinned
        tier alone) or ``rule``. ``paused`` stops new items; ``role`` also gives the account
        that role. ``evidence`` holds the figures the change was made on (JSON)."""
        change = tiers.checked_change(
            tier=tier,
            reason=reason,
            paused=paused,
            role=role,
            source=source,
            pinned=pinned,
            evidence=evidence,
        )
        return self._write("recording a tier change", tiers.change, project, reviewer, change, by)
