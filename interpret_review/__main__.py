"""``python -m interpret_review``: the ``interpret-review`` command (also under ``torchrun``)."""

from __future__ import annotations

import sys

from interpret_review.cli import main

if __name__ == "__main__":
    sys.exit(main())
