"""The review side of the wheel on Python 3.10, the oldest supported: ``info``, ``export``,
``quality`` and ``serve`` on the digits demo, and the unit tests that need neither torch nor
the reference packages. Nothing is skipped: a missing Python 3.10 fails the test.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.install_helpers import (
    ANSWER_ONE,
    ROOT,
    clean_env,
    copy_demo,
    free_port,
    make_venv,
    pip_install,
    served,
    sh,
)

pytestmark = [pytest.mark.slow, pytest.mark.install]


def python310() -> str:
    """A Python 3.10 interpreter: $PYTHON310, python3.10 on PATH, pyenv's, /usr/bin's, or
    the one uv installed (``tools/system-deps.sh`` makes sure there is one)."""
    candidates = [os.environ.get("PYTHON310", ""), shutil.which("python3.10") or ""]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.10*/bin/python3.10")))
    candidates += ["/usr/bin/python3.10", "/usr/local/bin/python3.10"]
    uv = Path(sys.executable).parent / "uv"
    if uv.exists():
        found = subprocess.run([uv, "python", "find", "3.10"], capture_output=True, text=True)
        candidates.append(found.stdout.strip())
    for candidate in filter(None, candidates):
        probe = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2])"],
                               capture_output=True, text=True)  # fmt: skip
        if probe.returncode == 0 and probe.stdout.strip() == "(3, 10)":
            return candidate
    pytest.fail(
        "no Python 3.10 interpreter found (tried $PYTHON310, python3.10 on PATH, "
        "~/.pyenv/versions/3.10*, /usr/bin, uv's): run tools/system-deps.sh or set PYTHON310"
    )


def test_python_310_serves_exports_and_passes_the_unit_tests(dist, demo_dir, tmp_path) -> None:
    bin = make_venv(python310(), tmp_path / "venv")
    pip_install(bin, f"{dist[1]}[app,export,postgres]", "pytest>=8", "pytest-timeout>=2.3")
    assert "3.10" in sh(bin / "python", "--version", cwd=tmp_path).stdout
    demo = tmp_path / "demo"
    project = copy_demo(demo_dir, demo)
    cli = bin / "interpret-review"
    assert "layers" in sh(cli, "info", demo / "runs" / "digits.h5", cwd=tmp_path).stdout
    sh(bin / "python", "-c", ANSWER_ONE, project, cwd=tmp_path)
    for out in ("labels.jsonl", "labels.parquet"):
        written = sh(cli, "export", project, "--out", out, cwd=tmp_path).stdout
        assert "1 judgments written" in written
    report = json.loads(sh(cli, "quality", project, "--json", "--quiet", cwd=tmp_path).stdout)
    assert report["tasks"]["describe-neurons"]["answers"] == 1
    port = free_port()
    assert served([cli, "serve", project, "--port", port], tmp_path, clean_env(), port) == 200
    # the unit tests, on the installed wheel (pytest's script does not put the checkout
    # first), but for the modules marked torch or reference as a whole (they import them)
    marked = re.compile(r"^pytestmark = .*pytest\.mark\.(torch|reference)", re.M)
    left_out = [f"--ignore={p.relative_to(ROOT)}" for p in sorted((ROOT / "tests" / "unit").glob(
        "test_*.py")) if marked.search(p.read_text(encoding="utf-8"))]  # fmt: skip
    assert len(left_out) == 4, left_out
    tests = sh(bin / "pytest", "tests/unit", "-q", "-s", "-p", "no:cacheprovider", *left_out,
               "-m", "not torch and not reference", cwd=ROOT, timeout=600)  # fmt: skip
    assert re.search(r"\d+ passed", tests.stdout) and " failed" not in tests.stdout
    # the tests ran on the installed wheel, whose recipes are its own copy
    assert f"recipes read from {tmp_path / 'venv'}" in tests.stdout
