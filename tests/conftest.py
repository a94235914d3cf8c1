"""Fixtures shared by every tier: real runs, real stores, a real server, a real browser.

- ``store_url`` / ``judgment_store`` (from ``integration/conftest_db.py``): a fresh SQLite
  file and a fresh PostgreSQL database per test.
- ``tiny_run``: a run of a 2-conv CNN on 12 random 6x6 images (Captum for real, in a second).
- ``demo_dir``: the digits demo built once per test session (run, project file, accounts).
- ``tiny_project``: a project file over ``tiny_run`` with both task kinds and two accounts.
- ``text_run`` / ``text_project``: a run of the planted-word text model whose vocabulary
  holds hostile tokens (HTML and script), and a project over it.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["tests.integration.conftest_db", "tests.integration.install_helpers"]

# Nothing is fetched from a hub: HuggingFace libraries read local files only.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

TESTS = Path(__file__).resolve().parent

#: Trained demo models (digits CNN, planted-text model) are cached here for one test run:
#: made by the first test (or xdist worker, or server, or notebook kernel) that asks, shared
#: by the rest through the environment, removed at the end. Nothing goes to ~/.cache.
CACHE_VARIABLE = "INTERPRET_REVIEW_CACHE_DIR"
_OWN_CACHE: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    import tempfile

    if os.environ.get("IR_TESTS_RUN_DIR") is None:  # the first process of the run
        folder = tempfile.mkdtemp(prefix="interpret-review-tests-")
        os.environ["IR_TESTS_RUN_DIR"] = folder  # xdist workers inherit both
        os.environ[CACHE_VARIABLE] = str(Path(folder) / "cache")
        _OWN_CACHE.append(folder)
    workers = getattr(config.option, "numprocesses", None)
    if workers and os.environ.get("PYTEST_XDIST_WORKER") is None:
        # Several test processes share the cores: one math thread each (and in every server,
        # kernel and venv they start) instead of each taking them all.
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            os.environ.setdefault(name, "1")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Markers from what a test uses: a browser (``browser``), the whole digits demo or an
    executed notebook (``slow``). ``make test-fast`` leaves both out."""
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & {"browser", "page"}:
            item.add_marker(pytest.mark.browser)
        if used & {"demo_dir", "executed_notebooks"}:
            item.add_marker(pytest.mark.slow)


def pytest_unconfigure(config: pytest.Config) -> None:
    import shutil

    for folder in _OWN_CACHE:
        shutil.rmtree(folder, ignore_errors=True)


def load_generate_helpers():
    """``integration/conftest_generate.py`` (TinyCNN, tiny_data) as a module."""
    if "conftest_generate" in sys.modules:
        return sys.modules["conftest_generate"]
    spec = importlib.util.spec_from_file_location(
        "conftest_generate", TESTS / "integration" / "conftest_generate.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["conftest_generate"] = module
    spec.loader.exec_module(module)
    return module


def make_tiny_run(path: Path, n: int = 12) -> Path:
    from interpret_review.generation import generate
    from interpret_review.settings import Settings

    helpers = load_generate_helpers()
    return generate(
        helpers.tiny_model(),
        helpers.tiny_data(n),
        out=path,
        name="tiny",
        methods=["Saliency", "IntegratedGradients", "Occlusion"],
        layers=["conv1", "conv2"],
        settings=Settings(top_k=4, n_quantiles=3, histogram_bins=5, ig_steps=4, batch_size=8),
        progress=False,
    )


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The index file of a tiny real run (do not write into its folder)."""
    return make_tiny_run(tmp_path_factory.mktemp("tiny") / "runs" / "tiny.h5")


#: Words of the planted corpus shown with hostile text instead: the model sees only ids, so
#: the run is a normal one whose token texts try to inject HTML and script.
HOSTILE_TOKENS = {
    "movie": "<script>window.__pwned=1</script>",
    "plot": '<img src=x onerror="window.__pwned=2">',
    "film": '"><b onmouseover="window.__pwned=3">bold</b>',
}


def make_text_run(path: Path, n: int = 48, *, shard_size: int = 16) -> Path:
    from interpret_review.generation import generate
    from interpret_review.generation.text import TextData
    from interpret_review.generation.zoo_text import planted_corpus, planted_text_model, vocabulary
    from interpret_review.settings import Settings

    corpus = planted_corpus(n, seed=1)
    words = [HOSTILE_TOKENS.get(w, w) for w in vocabulary()]
    data = TextData.from_ids(corpus.ids, words, labels=corpus.labels,
                             class_names=("<i>negative</i>", "positive"))  # fmt: skip
    return generate(
        planted_text_model(seed=0),
        data,
        out=path,
        name="planted",
        layers=["block.linear1"],
        max_units=6,
        settings=Settings(
            top_k=4,
            n_quantiles=3,
            histogram_bins=8,
            ig_steps=8,
            batch_size=16,
            shard_size=shard_size,
            context_tokens=7,
        ),  # fmt: skip
        progress=False,
    )


@pytest.fixture(scope="session")
def text_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A text run (48 planted-word sentences in 3 shards, hostile token texts)."""
    return make_text_run(tmp_path_factory.mktemp("text") / "runs" / "planted.h5")


TEXT_PROJECT = """
[project]
name = "text-project"
title = "Planted words"

[[runs]]
name = "planted"
path = "{run}"

[[tasks]]
name = "units"
kind = "neuron"
run = "planted"
title = "Units"
units = {{ "block.linear1" = [0, 1] }}
shuffle = false
instructions = "Describe the unit. <script>window.__pwned = 4</script>"

[[tasks]]
name = "tokens"
kind = "attribution"
run = "planted"
title = "Tokens"
examples = 3
shuffle = false

[[reviewers]]
username = "alice"
password = "alice-pw"
"""


@pytest.fixture
def text_project(tmp_path: Path, text_run: Path) -> Path:
    path = tmp_path / "text-project.toml"
    path.write_text(TEXT_PROJECT.format(run=text_run.as_posix()), encoding="utf-8")
    return path


TINY_PROJECT = """
[project]
name = "tiny-project"
title = "Tiny <b>project</b>"

[[runs]]
name = "tiny"
path = "{run}"

[[tasks]]
name = "neurons"
kind = "neuron"
run = "tiny"
layers = ["conv1"]
overlap = 2
shuffle = false
instructions = "Describe the unit. <script>window.__pwned = 1</script>"

[[tasks]]
name = "maps"
kind = "attribution"
run = "tiny"
examples = 3
shuffle = false

[[reviewers]]
username = "alice"
password = "alice-pw"

[[reviewers]]
username = "bob"
password = "bob-pw"
role = "adjudicator"

[[reviewers]]
username = "rita"
password = "rita-pw"
role = "researcher"
"""


@pytest.fixture
def tiny_project(tmp_path: Path, tiny_run: Path) -> Path:
    """A project file (in its own folder, SQLite store beside it) over ``tiny_run``."""
    path = tmp_path / "tiny-project.toml"
    path.write_text(TINY_PROJECT.format(run=tiny_run.as_posix()), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The digits demo, built once per process (the CNN comes from the run's model cache)."""
    from interpret_review.demo import build_demo
    from interpret_review.settings import Settings

    root = tmp_path_factory.mktemp("demo")
    build_demo(root / "demo", settings=Settings.from_env(), progress=False)
    yield root / "demo"


# -- a real server and a real browser ---------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """``interpret-review serve PROJECT`` in a subprocess, on a free loopback port."""

    def __init__(self, project: Path, port: int | None = None, env: dict | None = None) -> None:
        self.project, self.port = project, port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.process = None

    def start(self, timeout: float = 90.0) -> Server:
        import http.client
        import os
        import subprocess
        import time

        command = [sys.executable, "-m", "interpret_review.cli", "serve", str(self.project)]
        self.log = self.project.with_name(f"server-{self.port}.log")
        self.process = subprocess.Popen(
            [*command, "--port", str(self.port)],
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **(self.env or {})},
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log.read_text()}")
            try:  # the login page, or a redirect to an OAuth provider's
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/login")
                status = connection.getresponse().status
                connection.close()
                if status in (200, 302):
                    return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not answer on {self.url} within {timeout} s")

    def stop(self) -> str:
        import signal
        import subprocess

        if self.process is None:
            return ""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self.process = None
        return self.log.read_text()

    def kill(self) -> None:
        """SIGKILL: the crash a submitted judgment must survive."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=15)
            self.process = None


@pytest.fixture
def server_for():
    """``server_for(project_file)`` starts a server; all are stopped after the test."""
    started: list[Server] = []

    def start(project: Path, **options) -> Server:
        server = Server(project, **options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors  # type: ignore[attr-defined]
    yield page
    context.close()


# -- notebooks, each executed once per test process ---------------------------------------


class ExecutedNotebooks(dict):
    """Notebooks of ``notebooks/`` by file name, each run top to bottom in a Jupyter kernel
    (what a user gets) when first asked for, once per test process: the exception of the
    cell that failed, or the executed notebook."""

    def __init__(self, folder_for) -> None:
        super().__init__()
        self.folder_for = folder_for

    def __missing__(self, name: str) -> object:
        import nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError

        path = TESTS.parent / "notebooks" / name
        notebook = nbformat.read(path, as_version=4)
        try:
            NotebookClient(
                notebook,
                timeout=600,
                kernel_name="python3",
                resources={"metadata": {"path": str(self.folder_for(path.stem))}},
            ).execute()
        except CellExecutionError as error:
            self[name] = error
        else:
            self[name] = notebook
        return self[name]


@pytest.fixture(scope="session")
def executed_notebooks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Every notebook, executed on first use (see :class:`ExecutedNotebooks`). A notebook that
    raises fails the test that asks for it."""
    return ExecutedNotebooks(tmp_path_factory.mktemp)
