"""What differs between the Python versions interpret-review supports (3.10 and newer).

``tomllib`` joined the standard library in 3.11; on 3.10 the same parser comes from
``tomli`` (a dependency on that version only, see ``pyproject.toml``).
"""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised by the Python 3.10 install test
    import tomli as tomllib

__all__ = ["tomllib"]
