"""What the install tests share: a clean environment, commands that must succeed, fresh
virtual environments, the built sdist and wheel, a server's first answer."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TORCH = os.environ.get("TORCH", "torch==2.13.0")


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without what would let the checkout leak into the venv."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", PYTHONDONTWRITEBYTECODE="1")
    env.update(extra)
    return env


def sh(
    *args: object, cwd: Path, env: dict[str, str] | None = None, timeout: float = 900, ok=True
) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env or clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if ok and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, args))} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}"
        )
    return result


def make_venv(python: str | Path, where: Path) -> Path:
    sh(python, "-m", "venv", where, cwd=where.parent)
    sh(where / "bin" / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip", cwd=where)
    return where / "bin"


def pip_install(bin: Path, *requirements: object) -> None:
    """``pip install`` into the venv of ``bin``, without compiling every module to bytecode
    up front (Python compiles what it imports; for torch alone this saves ~20 s)."""
    sh(bin / "python", "-m", "pip", "install", "--quiet", "--no-compile", *requirements,
       cwd=bin.parent)  # fmt: skip


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``(sdist, wheel)``, the wheel built from the sdist (``python -m build``)."""
    out = tmp_path_factory.mktemp("dist")
    sh(sys.executable, "-m", "build", "--outdir", out, ROOT, cwd=ROOT)
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return sdist, wheel


def served(command: list[object], cwd: Path, env: dict[str, str], port: int) -> int:
    """Start ``command`` (a server on ``port``), return the status of GET /login, stop it."""
    process = subprocess.Popen(
        [str(c) for c in command], cwd=cwd, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"the server exited: {process.stdout.read()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as r:
                    return int(r.status)
            except OSError:
                time.sleep(0.2)
        raise AssertionError("the server did not answer within 120 s")
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


ANSWER_ONE = """
import uuid, sys
import interpret_review as ir
from interpret_review.review import ReviewSession, RunSet, sync_project

project = ir.load_project(sys.argv[1])
with ir.JudgmentStore(project.database_url) as store, RunSet(project) as runs:
    sync_project(project, store, runs)
    session = ReviewSession(store, project, "describe-neurons", "alice", runs)
    item = session.item(session.first_open())
    session.submit(client_id=str(uuid.uuid4()), key=item.address, duration_ms=4000,
                   answers={"label": "a loop", "category": "loop", "confidence": 2})
print("answered", item.address)
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def copy_demo(source: Path, target: Path) -> Path:
    """A copy of a built demo without its judgment store (other tests answer in theirs);
    returns its project file."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.sqlite*"))
    return target / "digits-demo.toml"
