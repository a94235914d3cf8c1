"""interpret-review as users get it: built into an sdist and a wheel, installed with pip into
fresh virtual environments outside the checkout, run from an empty directory.

- the sdist holds the whole project, and the wheel is built from the sdist;
- with ``[generate,app,export]``: ``python -m interpret_review``, ``demo --no-serve``,
  ``generate planted-text``, ``info``, an answer through the Python API, ``export``, the
  server answering HTTP, the README's Python examples and the notebooks' code;
- with the core alone: ``info`` works, and every command that needs an extra says in one
  line which (``serve``, ``quality``, ``generate``, ``demo``, Parquet ``export``, a
  PostgreSQL URL), as does the Python API;
- on Python 3.10 (the oldest supported): ``test_install_py310.py``, in a process of its own.

pip uses its cache and this machine's package indexes; torch comes from ``$TORCH`` (the
Makefile's CPU build). Nothing here is skipped.
"""

from __future__ import annotations

import json
import re
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.install_helpers import (
    ANSWER_ONE,
    ROOT,
    TORCH,
    clean_env,
    copy_demo,
    free_port,
    make_venv,
    pip_install,
    served,
    sh,
)

pytestmark = [pytest.mark.slow, pytest.mark.install]


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
