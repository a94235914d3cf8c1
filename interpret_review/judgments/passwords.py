"""Password hashing with argon2 (argon2-cffi). Passwords are never stored or logged in clear."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["Passwords"]


class Passwords:
    """Hash and check passwords; checking an unknown user costs as much as a known one."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher if hasher is not None else PasswordHasher()
        self._dummy: str | None = None

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def check(self, stored_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; with ``stored_hash=None`` spends the time, says no."""
        if stored_hash is None:
            if self._dummy is None:
                self._dummy = self.hasher.hash("no such user: this hash only spends time")
            try:
                self.hasher.verify(self._dummy, password)
            except (VerificationError, InvalidHashError):
                pass
            return False
        try:
            return self.hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        try:
            return self.hasher.check_needs_rehash(stored_hash)
        except (InvalidHashError, ValueError):
            return True
