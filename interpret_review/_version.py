"""The installed version of interpret-review (read by the facade, run files and exports)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("interpret-review")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"
