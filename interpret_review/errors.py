"""The exception tree of interpret-review.

Every error the package raises on purpose is one of these. Each message says what was
wrong, the offending value, and how to fix it. The CLI turns them into one-line errors
(see ``cli.py``); nothing else catches them wholesale.

::

    InterpretReviewError
    ├── ConfigError                 bad settings, recipe or call arguments
    │   └── UnknownNameError        an unknown method, kind, layer, setting... ("did you mean")
    ├── ModelError                  the model cannot be analysed as asked
    ├── DataError                   the dataset has the wrong type, shape or size
    ├── RunFileError                a run file cannot be used (always names the file)
    │   ├── NotARunError            an HDF5 (or other) file that is not an interpret-review run
    │   ├── RunVersionError         a run written by a newer schema version
    │   ├── DamagedRunError         unreadable, truncated or with missing/corrupt parts
    │   └── IncompleteRunError      generation has not finished (shards missing)
    ├── ProjectError                a bad project file or project state
    ├── JudgmentError               a judgment that cannot be stored
    │   ├── InvalidAnswerError      answers that do not fit the task's answer schema
    │   ├── AuthorizationError      the account may not do this
    │   │   ├── NotAssignedError    the item is not this reviewer's (the account is fine)
    │   │   └── PausedError         a trust tier paused the reviewer: no new items
    │   └── StoreUnavailableError   the store was busy or out of reach: retry the same call
    │       └── StoreUnreachableError   (also a ConfigError) cannot connect to the store
    └── ExportError                 an export that cannot be written
        └── BundleError             a probe bundle that cannot be read (names the file)
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "AuthorizationError",
    "BundleError",
    "ConfigError",
    "DamagedRunError",
    "DataError",
    "ExportError",
    "IncompleteRunError",
    "InterpretReviewError",
    "InvalidAnswerError",
    "JudgmentError",
    "ModelError",
    "NotARunError",
    "NotAssignedError",
    "PausedError",
    "ProjectError",
    "RunFileError",
    "RunVersionError",
    "StoreUnavailableError",
    "StoreUnreachableError",
    "UnknownNameError",
]


class InterpretReviewError(Exception):
    """Base class of every error raised on purpose by interpret-review."""


class ConfigError(InterpretReviewError, ValueError):
    """A setting, recipe or argument has a value that cannot be used."""


class UnknownNameError(ConfigError, KeyError):
    """A name (method, item kind, layer, setting...) that is not known.

    The message lists the known names and suggests the closest ones.
    """

    def __init__(self, what: str, name: object, known: Iterable[str], hint: str = "") -> None:
        self.what = what
        self.name = name
        self.known = sorted(known)
        self.suggestions = difflib.get_close_matches(str(name), self.known, n=3, cutoff=0.5)
        message = f"unknown {what} {name!r}"
        if self.suggestions:
            message += "; did you mean " + " or ".join(repr(s) for s in self.suggestions) + "?"
        plural = (
            what[:-1] + "ies" if what.endswith("y") and what[-2:-1] not in "aeiou" else what + "s"
        )
        message += f" Known {plural}: " + (", ".join(self.known) if self.known else "(none)") + "."
        if hint:
            message += " " + hint
        super().__init__(message)

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class ModelError(InterpretReviewError, ValueError):
    """The model cannot be analysed as asked (wrong type, output or layer)."""


class DataError(InterpretReviewError, ValueError):
    """The dataset has the wrong type, shape, dtype or size."""


class RunFileError(InterpretReviewError, OSError):
    """A run file cannot be used. ``path`` names the file, ``problem`` says why."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __str__(self) -> str:  # OSError's own __str__ would mangle a one-argument message
        return f"{self.path}: {self.problem}"


class NotARunError(RunFileError):
    """The file exists but is not an interpret-review run file."""


class RunVersionError(RunFileError):
    """The run was written with a newer schema version than this interpret-review reads."""


class DamagedRunError(RunFileError):
    """The run file (or one of its shards) is unreadable, truncated or inconsistent."""


class IncompleteRunError(RunFileError):
    """The run's generation has not finished: resume it with the same command."""


class ProjectError(InterpretReviewError, ValueError):
    """A project file is wrong, or the project's state does not allow the action."""


class JudgmentError(InterpretReviewError):
    """A judgment cannot be stored."""


class InvalidAnswerError(JudgmentError, ValueError):
    """The answers do not fit the task's answer schema."""


class AuthorizationError(JudgmentError, PermissionError):
    """The signed-in account is not allowed to do this."""


class NotAssignedError(AuthorizationError):
    """The item was not handed to this reviewer (or was handed to someone else since); the
    account itself may go on working."""


class PausedError(AuthorizationError):
    """A trust tier paused the reviewer in this project: they get no new items (what they
    already hold may still be submitted) until a researcher lifts the pause."""


class StoreUnavailableError(JudgmentError):
    """The judgment store stayed locked, kept conflicting or could not be reached: nothing
    was stored, and the same call may succeed when retried."""


class StoreUnreachableError(StoreUnavailableError, ConfigError):
    """No connection to the judgment store: a wrong URL, or a database server that is down."""


class ExportError(InterpretReviewError):
    """An export cannot be written."""


class BundleError(ExportError):
    """A probe bundle that cannot be read: missing, not a bundle, newer, or damaged."""
