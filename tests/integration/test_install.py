"""interpret-review as users get it: built into an sdist and a wheel, installed with pip into
fresh virtual environments outside the checkout, run from an empty directory.

- the sdist holds the whole project, and the wheel is built from the sdist;
- with ``[generate,app,export]``: ``python -m interpret_review``, ``demo --no-serve``,
  ``generate planted-text``, ``info``, an answer through the Python API, ``export``, the
  server answering HTTP, the README's Python examples and the notebooks' code;
- with the core alone: ``info`` works, and every command that needs an extra says in one
  line which (``serve``, ``quality``, ``generate``, ``demo``, Parquet ``export``, a
  PostgreSQL URL), as does the Python API;
- on Python 3.10 (the oldest supported): the review side (``info``, ``export``,
  ``quality``, ``serve``) on a demo built by this Python, and the unit tests that need
  neither torch nor the reference packages.

pip uses its cache and this machine's package indexes; torch comes from ``$TORCH`` (the
Makefile's CPU build). Nothing here is skipped: a missing Python 3.10 fails the test.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.install]

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
    sh(bin / "python", "-m", "pip", "install", "--quiet", *requirements, cwd=bin.parent)


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``(sdist, wheel)``, the wheel built from the sdist (``python -m build``)."""
    out = tmp_path_factory.mktemp("dist")
    sh(sys.executable, "-m", "build", "--outdir", out, ROOT, cwd=ROOT)
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return sdist, wheel


def test_the_sdist_holds_the_project_and_the_wheel_the_package(dist) -> None:
    sdist, wheel = dist
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for needed in ("LICENSE", "CHANGELOG.md", "README.md", "Makefile", "pyproject.toml",
                   "datasets/digits/recipe.toml", "datasets/topics/project.toml",
                   "docs/settings.md", "notebooks/quickstart.ipynb", "tests/conftest.py",
                   "benchmarks/bench_install.py", "viewers/interpret_review_viewers/neuron.py",
                   "interpret_review/app/assets/form.js", "tools/system-deps.sh"):  # fmt: skip
        assert needed in names, f"the sdist lacks {needed}"
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    with zipfile.ZipFile(wheel) as archive:
        files = set(archive.namelist())
    for needed in ("interpret_review/py.typed", "interpret_review/__main__.py",
                   "interpret_review/datasets/digits/recipe.toml",
                   "interpret_review/datasets/digits/project.toml",
                   "interpret_review/datasets/planted-text/recipe.toml",
                   "interpret_review/datasets/topics/project.toml",
                   "interpret_review/app/assets/form.js",
                   "interpret_review/judgments/migrations/script.py.mako",
                   "interpret_review_viewers/py.typed"):  # fmt: skip
        assert needed in files, f"the wheel lacks {needed}"
    assert any(f.endswith(".dist-info/licenses/LICENSE") for f in files)
    # the recipes live inside the package: never a top-level `datasets` (HuggingFace's name)
    assert not [f for f in files if f.split("/")[0] in ("datasets", "tests", "viewers")]
    metadata = next(f for f in files if f.endswith(".dist-info/METADATA"))
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read(metadata).decode()
    assert 'Requires-Dist: tomli>=1.1; python_version < "3.11"' in text
    app = [line for line in text.splitlines() if 'extra == "app"' in line]
    assert app and not [line for line in app if re.search(r"crowd|statsmodels|transformers", line)]


# -- the wheel with its extras, on this Python -------------------------------------------


@pytest.fixture(scope="module")
def installed(dist, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, str]]:
    """``(bin, working directory, what demo printed)`` of a fresh venv with torch and the
    wheel's ``[generate,app,export]``, where ``interpret-review demo --no-serve`` built the
    digits demo in ``demo/`` of the working directory (else empty)."""
    home = tmp_path_factory.mktemp("wheel-venv")
    bin = make_venv(sys.executable, home / "venv")
    pip_install(bin, TORCH)
    pip_install(bin, f"{dist[1]}[generate,app,export]")
    work = home / "work"
    work.mkdir()
    built = sh(bin / "interpret-review", "demo", "--no-serve", "--dir", "demo", "--quiet", cwd=work)
    yield bin, work, built.stdout


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
    session.submit(client_id=str(uuid.uuid4()), address=item.address, duration_ms=4000,
                   answers={"label": "a loop", "category": "loop", "confidence": 2})
print("answered", item.address)
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_wheel_runs_the_demo_generates_exports_and_serves(installed) -> None:
    bin, work, built = installed
    version = sh(bin / "python", "-m", "interpret_review", "--version", cwd=work).stdout
    assert version.startswith("interpret-review ") and "0+unknown" not in version

    assert "Demo project:" in built and "rita   rita-demo" in built
    project = work / "demo" / "digits-demo.toml"
    assert project.is_file() and (work / "demo" / "runs" / "digits.h5").is_file()

    sh(bin / "interpret-review", "generate", "planted-text", "--out", "runs/planted.h5",
       "--quiet", cwd=work)  # fmt: skip
    info = json.loads(sh(bin / "interpret-review", "info", "runs/planted.h5", "--json",
                         cwd=work).stdout)  # fmt: skip
    assert info["name"] == "planted-text" and info["modality"] == "text"

    answered = sh(bin / "python", "-c", ANSWER_ONE, project, cwd=work)
    assert answered.stdout.startswith("answered neuron:digits/")
    exported = sh(bin / "interpret-review", "export", project, "--out", "labels.jsonl",
                  cwd=work)  # fmt: skip
    assert "1 judgments written" in exported.stdout
    rows = [json.loads(line) for line in (work / "labels.jsonl").read_text().splitlines()]
    assert [r["answers"]["category"] for r in rows] == ["loop"]
    sh(bin / "interpret-review", "export", project, "--out", "labels.parquet", cwd=work)

    port = free_port()
    status = served([bin / "interpret-review", "serve", project, "--port", port], work,
                    clean_env(), port)  # fmt: skip
    assert status == 200


def copy_demo(source: Path, target: Path) -> Path:
    """A copy of a built demo without its judgment store (other tests answer in theirs);
    returns its project file."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.sqlite*"))
    return target / "digits-demo.toml"


def python_blocks(path: Path) -> list[str]:
    """The ```python blocks of a Markdown file, but for those under a "not run" comment."""
    found = re.findall(
        r"(<!-- not run[^>]*-->\n)?```python\n(.*?)```", path.read_text("utf-8"), re.S
    )
    return [code for skip, code in found if not skip]


def test_the_readme_python_examples_run_from_the_wheel(installed, tmp_path: Path) -> None:
    bin = installed[0]
    code = "\n".join(python_blocks(ROOT / "README.md"))
    assert "ir.serve(" in code and "ir.run_recipe(" in code
    script = tmp_path / "readme.py"
    # ir.serve(...) would block: the real one builds the server, which is then stopped
    script.write_text(
        "import interpret_review as ir\n"
        "_serve = ir.serve\n"
        "def _built(*args, **kwargs):\n"
        "    _serve(*args, **{**kwargs, 'start': False}).stop()\n"
        "    print('server built')\n"
        "ir.serve = _built\n" + code,
        encoding="utf-8",
    )
    result = sh(bin / "python", script, cwd=tmp_path, timeout=900)
    assert "server built" in result.stdout


@pytest.mark.parametrize("name", sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb")))
def test_the_notebooks_code_runs_from_the_wheel(installed, tmp_path: Path, name: str) -> None:
    bin = installed[0]
    notebook = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))
    cells = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
    script = tmp_path / f"{name}.py"
    script.write_text("\n\n".join(cells) + "\nprint('notebook done')\n", encoding="utf-8")
    result = sh(bin / "python", script, cwd=tmp_path, env=clean_env(MPLBACKEND="Agg"))
    assert result.stdout.rstrip().endswith("notebook done")


# -- the core alone: missing extras are named ---------------------------------------------


@pytest.fixture(scope="module")
def core(dist, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    home = tmp_path_factory.mktemp("core-venv")
    bin = make_venv(sys.executable, home / "venv")
    pip_install(bin, dist[1])
    return bin, home


def test_the_core_names_the_extra_each_command_needs(core, installed) -> None:
    bin, home = core
    demo = home / "demo"
    project = copy_demo(installed[1] / "demo", demo)
    assert "run 'digits'" in sh(bin / "interpret-review", "info", demo / "runs" / "digits.h5",
                                cwd=home).stdout  # fmt: skip
    postgres = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    cases = [
        ("app", ["serve", project]),
        ("quality", ["quality", project]),
        ("generate", ["generate", "digits", "--out", "x.h5"]),
        ("generate", ["demo", "--no-serve", "--dir", "other"]),
        ("generate,app", ["demo", "--dir", "other"]),
        ("export", ["export", project, "--out", "labels.parquet"]),
        ("quality", ["export", project, "--out", "labels.jsonl"]),  # the card's figures
        ("export", ["export", project, "--probe-bundle", "--format", "parquet", "--out", "b"]),
        ("postgres", ["export", project, "--out", "l.jsonl", "--database-url", postgres]),
    ]
    for extra, args in cases:
        result = sh(bin / "interpret-review", *args, cwd=home, ok=False)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 1 and len(lines) == 1, (args, result.stderr)
        assert lines[0].startswith("error: ") and f"interpret-review[{extra}]" in lines[0], lines
    assert not list(home.glob("labels.*")) and not (home / "b").exists()  # nothing written
    # what the core does alone: review sessions and JSONL / CSV label files (no card)
    sh(bin / "python", "-c", ANSWER_ONE, project, cwd=home)
    for out in ("labels.jsonl", "labels.csv"):
        written = sh(bin / "interpret-review", "export", project, "--out", out, "--no-card",
                     cwd=home)  # fmt: skip
        assert "1 judgments written" in written.stdout
    api = sh(bin / "python", "-c", "import interpret_review as ir; ir.serve", cwd=home, ok=False)
    assert "MissingDependencyError" in api.stderr and "interpret-review[app]" in api.stderr


def test_a_mistyped_variable_gets_a_warning_with_a_close_match(core) -> None:
    bin, home = core
    result = sh(bin / "python", "-m", "interpret_review", "info", "missing.h5", cwd=home,
                env=clean_env(INTERPRET_REVIEW_PROT="5007"), ok=False)  # fmt: skip
    assert result.stderr.splitlines()[0] == (
        "warning: environment variable INTERPRET_REVIEW_PROT is not a setting and is ignored; "
        "did you mean INTERPRET_REVIEW_PORT?"
    )


# -- Python 3.10 ----------------------------------------------------------------------------


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


def test_python_310_serves_exports_and_passes_the_unit_tests(dist, installed, tmp_path) -> None:
    bin = make_venv(python310(), tmp_path / "venv")
    pip_install(bin, f"{dist[1]}[app,export,postgres]", "pytest>=8", "pytest-timeout>=2.3")
    assert "3.10" in sh(bin / "python", "--version", cwd=tmp_path).stdout
    demo = tmp_path / "demo"
    project = copy_demo(installed[1] / "demo", demo)
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
