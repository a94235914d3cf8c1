# The two commands of the README:
#   make demo   set up .venv and serve the digits demo (review app + SQLite)
#   make test   set up .venv with everything the tests need, then run every test
# .ci/run calls `make test` unchanged. For the edit loop: make test-fast (no browser, no
# install, nothing marked slow).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The CPU build of torch, installed before anything else can ask for torch and pull a
# multi-GB CUDA build. Users elsewhere may set TORCH="torch --index-url ...".
TORCH ?= torch==2.13.0
PYTEST_ARGS ?=
# Test processes (pytest-xdist): tests that drive a browser, a server or a notebook kernel
# wait much of the time. A test file runs in one process, so its module fixtures (a run, a
# built wheel, an executed notebook) are made once.
JOBS ?= auto
XDIST := -n $(JOBS) --dist loadfile

.PHONY: demo test test-fast setup setup-test system-deps lint bench clean

demo: $(VENV)/.installed-app
	$(BIN)/interpret-review demo

# TORCH also reaches the install tests, which put the same build into fresh venvs.
test: $(VENV)/.installed-all system-deps lint
	TORCH="$(TORCH)" $(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

# The edit loop: everything but the browser, install and slow tests (PostgreSQL included).
test-fast: $(VENV)/.installed-all
	$(BIN)/python -m pytest $(XDIST) -m "not browser and not install and not slow" $(PYTEST_ARGS)

setup: $(VENV)/.installed-app
setup-test: $(VENV)/.installed-all system-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-torch: | $(BIN)/python
	$(BIN)/pip install --quiet $(TORCH)
	touch $@

$(VENV)/.installed-app: pyproject.toml $(VENV)/.installed-torch
	$(BIN)/pip install --quiet -e '.[generate,app]'
	touch $@

$(VENV)/.installed-all: pyproject.toml $(VENV)/.installed-torch
	$(BIN)/pip install --quiet -e '.[all]'
	touch $@

# Debian's Chromium for the browser tests, a PostgreSQL server for the store tests and a
# Python 3.10 for the install tests.
system-deps:
	VENV=$(VENV) tools/system-deps.sh

lint: $(VENV)/.installed-all
	$(BIN)/ruff check interpret_review viewers tests benchmarks
	$(BIN)/ruff format --check interpret_review viewers tests benchmarks
	$(BIN)/mypy interpret_review viewers/interpret_review_viewers

bench: $(VENV)/.installed-all system-deps
	$(BIN)/python benchmarks/bench_generate.py
	$(BIN)/python benchmarks/bench_runfile.py
	$(BIN)/python benchmarks/bench_app.py
	$(BIN)/python benchmarks/bench_assign.py
	$(BIN)/python benchmarks/bench_quality.py
	$(BIN)/python benchmarks/bench_export.py
	$(BIN)/python benchmarks/bench_text.py
	$(BIN)/python benchmarks/bench_sanity.py
	$(BIN)/python benchmarks/bench_feature_viz.py
	$(BIN)/python benchmarks/bench_install.py

clean:
	rm -rf $(VENV) interpret-review-demo .pytest_cache build dist *.egg-info
