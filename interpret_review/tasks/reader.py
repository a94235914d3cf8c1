"""Reading TOML tables with errors that name the file, the key and what is expected."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from interpret_review.errors import ConfigError, ProjectError, UnknownNameError

__all__ = ["TableReader"]

T = TypeVar("T")


class TableReader:
    """Typed access to the tables of one file (a project file, or the admin page's form):
    every error is a :class:`ProjectError` of the form ``FILE: [KEY] what is wrong``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, message: str) -> ProjectError:
        return ProjectError(f"{self.path}: [{key}] {message}")

    def get(
        self,
        table: Mapping[str, Any],
        key: str,
        where: str,
        kind: type | tuple[type, ...],
        default: Any = ...,
    ) -> Any:
        if key not in table:
            if default is ...:
                raise self.fail(where, f"missing required key '{key}'")
            return default
        value = table[key]
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            names = (
                kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            )
            raise self.fail(f"{where}.{key}", f"must be {names}, got {value!r}")
        return value

    def check_keys(self, table: Mapping[str, Any], where: str, allowed: Sequence[str]) -> None:
        for key in table:
            if key not in allowed:
                raise self.fail(where, str(UnknownNameError("key", key, allowed)))

    def require_table(self, raw: Any, where: str) -> None:
        if not isinstance(raw, dict):
            raise self.fail(where, f"must be a table, got {raw!r}")

    def wrap(self, where: str, func: Callable[..., T], *args: Any) -> T:
        try:
            return func(*args)
        except (ConfigError, ProjectError) as exc:
            raise self.fail(where, str(exc)) from None

    def whole(self, raw: Mapping[str, Any], key: str, where: str, default: int, low: int) -> int:
        value = self.get(raw, key, where, int, default)
        if value < low:
            raise self.fail(f"{where}.{key}", f"must be a whole number >= {low}, got {value}")
        return int(value)
