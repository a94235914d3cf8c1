"""Build the golden label-export fixture: ``tests/data/golden_export/``.

    .venv/bin/python tools/make_golden_export.py          # builds it (refuses to overwrite)
    .venv/bin/python tools/make_golden_export.py --force  # replaces it (review the diff!)

Two steps, both written into ``tests/data/golden_export/``:

1. **Inputs**, made once: ``golden-export.toml`` (a project file whose run path is relative,
   so the folder can be copied anywhere), ``runs/tiny.h5`` (the 2-conv CNN of
   ``tests/integration/conftest_generate.py`` on 8 examples, layer conv1, two methods, no
   feature visualisation or sanity examples) and ``golden-export.judgments.sqlite``, the
   judgment store beside it, filled through the store's API with fixed client ids and fixed
   start and submit times (the store sets ``stored_at`` itself: a rebuild changes those).
2. **Expected outputs**: every case of ``tests/integration/test_export_golden.py`` exported
   from a copy of the inputs (exactly as the test does) into ``expected/<case>/``, each
   dataset card with its export time replaced as the test does, and ``expected/MANIFEST.json``
   (the pyarrow and interpret-review versions that wrote them, each case's rows).

``--expected-only`` redoes step 2 from the inputs there (when an export is *meant* to change).
Step 1 needs torch (to make the run); step 2 and the test do not.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "data" / "golden_export"
TEST_MODULE = ROOT / "tests" / "integration" / "test_export_golden.py"
PROJECT = "golden-export"

PROJECT_TOML = '''\
# The fixed input of tests/integration/test_export_golden.py (tools/make_golden_export.py).
[project]
name = "golden-export"
title = "Golden <b>export</b> | Zoë’s labels, `ünïcödé` 🧠"

[[runs]]
name = "tiny"
path = "runs/tiny.h5"

[[tasks]]
name = "neurons"
kind = "neuron"
run = "tiny"
title = "Describe conv1 <i>units</i> & more"
layers = ["conv1"]
overlap = 2
shuffle = false
instructions = """
Describe what each unit detects. <script>window.__pwned = 1</script>

| a table | that must not break the card |
Ünïcödé: naïve café, 漢字, emoji 🧠; a `code span` and a line starting with =SUM(A1).
"""

[[tasks.gold]]
address = "neuron:tiny/conv1/1"
answers = { category = "curve" }

[[tasks]]
name = "maps"
kind = "attribution"
run = "tiny"
title = "Rate maps"
examples = 3
overlap = 2
shuffle = false
instructions = "Rate each map. <img src=x onerror=alert(1)>"

[[reviewers]]
username = "alice"
password = "alice-pw"

[[reviewers]]
username = "bob"
password = "bob-pw"
role = "adjudicator"

[[reviewers]]
username = "=carol"
password = "carol-pw"
display_name = "Carol, \\"=hostile\\" 🧪"
'''

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=timezone.utc)
#: The earlier model of run ``tiny``, recorded before the real file is recorded again: the
#: label made while it was current is stale ("regenerated with another model").
OLD_RUN = {"run_fingerprint": "0ld" + "a1" * 14, "model_fingerprint": "0ldm" + "b2" * 14}


def load_test_module() -> Any:
    """``tests/integration/test_export_golden.py`` (its cases and export code)."""
    return _load("test_export_golden", TEST_MODULE)


def _load(name: str, path: Path) -> Any:
    """The Python file ``path`` imported as module ``name`` (a file of tests/, loaded by path)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# -- step 1: the inputs -------------------------------------------------------------------


def make_run(folder: Path) -> Path:
    """The tiny run, written to ``folder/runs/tiny.h5`` (needs torch and Captum)."""
    from interpret_review.generation import generate
    from interpret_review.settings import Settings

    helpers = _load("conftest_generate", ROOT / "tests" / "integration" / "conftest_generate.py")
    return generate(
        helpers.tiny_model(),
        helpers.tiny_data(8),
        out=folder / "runs" / "tiny.h5",
        name="tiny",
        methods=["Saliency", "IntegratedGradients"],
        layers=["conv1"],
        settings=Settings(
            top_k=3,
            n_quantiles=3,
            histogram_bins=5,
            ig_steps=4,
            batch_size=8,
            feature_viz=0,
            sanity_examples=0,
        ),
        progress=False,
    )


class Reviews:
    """Judgments submitted the way the review page does (the item held, the answers checked
    against the task's schema and what the item shows), with fixed ids and times."""

    def __init__(self, store: Any, project: Any, runs: Any) -> None:
        self.store, self.project, self.runs = store, project, runs
        self.n = 0

    def submit(
        self,
        task: str,
        address: str,
        reviewer: str,
        answers: dict[str, Any],
        *,
        seconds: float,
        supersedes: str | None = None,
        checked: bool = True,
    ) -> str:
        from interpret_review.review.items import item_examples, shown_maps

        self.n += 1
        spec = self.project.task(task)
        run = self.runs[spec.run]
        if checked:
            answers = spec.schema.validate(
                answers,
                shown_examples=list(item_examples(spec, run, address)),
                shown_maps=shown_maps(spec, run, address),
            )
        started = T0 + timedelta(minutes=7 * self.n)
        client_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"interpret-review/golden/{self.n}"))
        self.store.assign(PROJECT, task, address, reviewer)
        self.store.submit(
            client_id=client_id,
            project=PROJECT,
            task=task,
            key=address,
            reviewer=reviewer,
            answers=answers,
            task_version=self.store.task_version(PROJECT, task).version,
            started_at=started,
            submitted_at=started + timedelta(seconds=seconds),
            supersedes=supersedes,
        )
        return client_id

    def shown(self, task: str, address: str) -> list[int]:
        from interpret_review.review.items import item_examples

        spec = self.project.task(task)
        return list(item_examples(spec, self.runs[spec.run], address))


def build_inputs(folder: Path) -> None:
    """Write the project file, the run and the judgment store into ``folder``."""
    from interpret_review.review import load_project

    folder.mkdir(parents=True)
    make_run(folder)
    (folder / f"{PROJECT}.toml").write_text(PROJECT_TOML, encoding="utf-8", newline="\n")
    # loaded by a relative name from its folder, so that the run paths the store records
    # are relative ("runs/tiny.h5") and no path of this machine ends up in the fixture
    cwd = Path.cwd()
    os.chdir(folder)
    try:
        _fill_store(load_project(Path(f"{PROJECT}.toml")))
    finally:
        os.chdir(cwd)
    _compact(folder / f"{PROJECT}.judgments.sqlite")


def _fill_store(project: Any) -> None:
    from interpret_review.judgments import JudgmentStore
    from interpret_review.review import RunSet, sync_project
    from interpret_review.review.provenance import record_runs

    with JudgmentStore(project.database_url) as store, RunSet(project) as runs:
        sync_project(project, store, runs)
        real = runs["tiny"]
        r = Reviews(store, project, runs)
        unit = [f"neuron:tiny/conv1/{i}" for i in range(3)]
        example = [f"attribution:tiny/{i}" for i in range(3)]
        methods = ("Saliency", "IntegratedGradients")

        # the run as it was first generated, with another model: bob labels unit 2 on it
        store.record_run(
            PROJECT,
            "tiny",
            dataset_fingerprint=real.dataset_fingerprint,
            path="runs/tiny.h5",
            n_examples=real.n_examples,
            **OLD_RUN,
        )
        r.submit(
            "neurons",
            unit[2],
            "bob",
            {"label": "+1 -2 @SUM(A1) made on the old model", "category": "other", "confidence": 2},
            seconds=31.5,
        )
        # regenerated with the model of runs/tiny.h5: the items move to it, bob's label is stale
        assert record_runs(project, store, runs).moved == {"tiny": 6}

        first = r.submit(
            "neurons",
            unit[0],
            "alice",
            {
                "label": "<script>alert('x')</script> vertical edge",
                "category": "edge",
                "confidence": 4,
                "flags": ["unclear"],
                "fits": r.shown("neurons", unit[0])[:2],
            },
            seconds=12.25,
        )
        r.submit(
            "neurons",
            unit[0],
            "bob",
            {
                "label": 'edge, "left" side\nsecond line, ünïcödé',
                "category": "edge",
                "confidence": 3,
                "fits": r.shown("neurons", unit[0])[-1:],
            },
            seconds=40,
        )
        r.submit(
            "neurons",
            unit[1],
            "alice",
            {
                "label": "Zoë’s curve — naïve café 漢字 🧠",
                "category": "curve",
                "confidence": 5,
            },
            seconds=8.0,
        )
        r.submit(
            "neurons",
            unit[1],
            "=carol",
            {
                "label": '=HYPERLINK("http://evil.example","click")',
                "category": "blob",
                "confidence": 1,
                "flags": ["polysemantic", "dead"],
            },
            seconds=1.5,
        )
        r.submit(
            "neurons",
            unit[0],
            "alice",
            {
                "label": "vertical edge (edited)",
                "category": "edge",
                "confidence": 5,
                "fits": r.shown("neurons", unit[0])[:3],
            },
            seconds=20,
            supersedes=first,
        )
        r.submit(
            "neurons",
            unit[2],
            "=carol",
            {
                "label": "'already quoted, and\ttabbed",
                "category": "other",
                "confidence": 3,
            },
            seconds=65,
        )

        rated = r.submit(
            "maps",
            example[0],
            "alice",
            {
                "ratings": dict(zip(methods, ("yes", "partly"), strict=True)),
                "comment": "-2+3 looks odd <b>bold</b>",
            },
            seconds=14,
        )
        r.submit(
            "maps",
            example[0],
            "bob",
            {
                "ratings": dict.fromkeys(methods, "no"),
                "comment": '@here, "fine"\nnext line',
            },
            seconds=9.75,
        )
        r.submit(
            "maps",
            example[0],
            "alice",
            {
                "ratings": dict.fromkeys(methods, "yes"),
                "comment": "",
            },
            seconds=5,
            supersedes=rated,
        )
        r.submit(
            "maps",
            example[2],
            "alice",
            {
                "ratings": {"Saliency": "no", "IntegratedGradients": "yes"},
                "comment": "Ünïcödé, 😀 and a\nnewline",
            },
            seconds=22.5,
        )
        # written through the Python API, not the page: keys outside the answer schema
        r.submit(
            "maps",
            example[1],
            "=carol",
            {
                "ratings": dict.fromkeys(methods, "partly"),
                "comment": "extra keys",
                "note": "\tleading tab\r\nand CRLF",
                "legacy_score": 0.5,
                "=key": [1, "=2"],
            },
            seconds=3,
            checked=False,
        )

        store.set_tier(PROJECT, "alice", "trusted", reason="gold accuracy 1.0 <script>")
        counted = store.count_judgments(PROJECT, include_superseded=True)
        assert counted == 12 and store.count_judgments(PROJECT, include_superseded=False) == 10


def _compact(database: Path) -> None:
    """Fold the write-ahead log into the file, drop free pages and use small pages: one
    small file (the rows and their ids are as they were)."""
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("PRAGMA journal_mode=DELETE")
    connection.close()
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA page_size=1024")  # dozens of near-empty tables and indexes
    connection.execute("VACUUM")
    connection.close()
    for leftover in (database.with_name(database.name + s) for s in ("-wal", "-shm")):
        if leftover.exists():
            raise RuntimeError(f"{leftover} left beside the store")


# -- step 2: the expected outputs -----------------------------------------------------------


def write_expected(golden: Path) -> dict[str, int]:
    """Export every case from a copy of ``golden``'s inputs into ``golden/expected/``."""
    import pyarrow

    import interpret_review

    test = load_test_module()
    expected = golden / "expected"
    if expected.exists():
        shutil.rmtree(expected)
    with tempfile.TemporaryDirectory() as scratch:
        original = test.GOLDEN
        test.GOLDEN = golden  # the inputs to copy (the same folder unless building elsewhere)
        try:
            project_file = test.copy_inputs(Path(scratch) / "inputs")
        finally:
            test.GOLDEN = original
        results = test.export_all(project_file, Path(scratch) / "out")
        rows = {}
        for case in test.CASES:
            result = results[case.id]
            if result.rows != case.rows:
                raise SystemExit(
                    f"{case.id}: {result.rows} rows, the test expects {case.rows}: "
                    "fix the store or the case"
                )
            folder = expected / case.id
            folder.mkdir(parents=True)
            shutil.copyfile(result.path, folder / case.data_file)
            card = test.normalise_card(result.card.read_bytes().decode("utf-8"))
            (folder / case.card_file).write_bytes(card.encode("utf-8"))
            rows[case.id] = result.rows
    manifest = {
        "about": "written by tools/make_golden_export.py; compared by "
        "tests/integration/test_export_golden.py",
        "pyarrow": pyarrow.__version__,
        "interpret_review": interpret_review.__version__,
        "rows": rows,
    }
    (expected / "MANIFEST.json").write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8", newline="\n"
    )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="replace an existing fixture")
    parser.add_argument(
        "--expected-only", action="store_true", help="keep the inputs; redo expected/ only"
    )
    parser.add_argument("--out", type=Path, default=GOLDEN, help="(default: %(default)s)")
    args = parser.parse_args(argv)
    golden: Path = args.out
    if not args.expected_only:
        if golden.exists() and not args.force:
            parser.error(f"{golden} exists; --force replaces it, --expected-only keeps its inputs")
        with tempfile.TemporaryDirectory() as scratch:
            built = Path(scratch) / "golden"
            build_inputs(built)
            if golden.exists():
                shutil.rmtree(golden)
            shutil.copytree(built, golden)
        # git must keep these bytes as they are (no line-ending conversion on checkout)
        (golden / ".gitattributes").write_text("* -text\n", encoding="utf-8", newline="\n")
    rows = write_expected(golden)
    total = sum(p.stat().st_size for p in golden.rglob("*") if p.is_file())
    print(f"{golden}: {len(rows)} cases, {total / 1024:.0f} KiB in all")
    for case, n in rows.items():
        print(f"  {case}: {n} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
