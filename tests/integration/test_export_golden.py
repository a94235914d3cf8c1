"""Golden label exports: the exact bytes every exporter writes for one fixed judgment store.

``tests/data/golden_export/`` holds a fixed input set, built once by
``tools/make_golden_export.py``: a project file, the tiny run it names (paths relative to
the project file) and its SQLite judgment store: three reviewers (one named ``=carol``), a
neuron task with a gold item and an attribution task, two edited (superseded) answers, a
label made on an earlier model of the run (stale), answer keys outside the schema, a
trust tier, and answers with HTML, quotes, commas, newlines, non-ASCII text and formula
starts (``= + - @ '``). ``expected/`` holds what each export case below wrote from it.

Each test run copies the inputs into a temporary folder, exports every case again through
the public API and compares the bytes with ``expected/`` (Parquet: the decoded table, the
schema with its metadata and the file's metadata too, so a difference is readable). A
change of any byte fails; an intended change is made by running the tool again and
reviewing the diff of ``expected/``.

The one thing normalised is the export time on the dataset card (see :func:`normalise_card`).
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import interpret_review as ir

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden_export"
EXPECTED = GOLDEN / "expected"
PROJECT_FILE = "golden-export.toml"
#: The inputs copied for a test run: everything in GOLDEN except ``expected/`` (the
#: judgment store is the file ``load_project`` puts beside the project file).
INPUTS = (PROJECT_FILE, "golden-export.judgments.sqlite", "runs")
#: What the tool records of the environment it wrote ``expected/`` in.
MANIFEST = EXPECTED / "MANIFEST.json"
DATA_NAME = "labels"  # each case writes labels.<suffix> and labels.card.md into its folder


@dataclass(frozen=True)
class Case:
    """One export: ``export_judgments(store, project, format=..., shape=..., **options)``
    into ``expected/<id>/labels.<suffix>``, with its dataset card beside it."""

    id: str
    format: str
    shape: str
    rows: int  # the rows the golden store gives: an empty or short export cannot pass
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def data_file(self) -> str:
        return f"{DATA_NAME}.{self.format}"

    @property
    def card_file(self) -> str:
        return f"{DATA_NAME}.card.md"


#: The golden store holds 12 judgments: 10 current (6 neurons, 4 maps), 2 superseded (one
#: per task), and 6 items (3 units, 3 examples).
CASES: tuple[Case, ...] = (
    *(Case(f"judgments-{f}", f, "judgments", 10) for f in ("jsonl", "csv", "parquet")),
    *(
        Case(f"judgments-superseded-{f}", f, "judgments", 12, {"include_superseded": True})
        for f in ("jsonl", "csv", "parquet")
    ),
    *(Case(f"items-{f}", f, "items", 6) for f in ("jsonl", "csv", "parquet")),
    Case("judgments-names-csv", "csv", "judgments", 10, {"names": True}),
    Case("judgments-task-maps-jsonl", "jsonl", "judgments", 4, {"task": "maps"}),
    Case("items-task-neurons-csv", "csv", "items", 3, {"task": "neurons"}),
    Case(
        "judgments-superseded-parquet-batch5",
        "parquet",
        "judgments",
        12,
        {"include_superseded": True, "batch_size": 5},  # three row groups: 5, 5, 2
    ),
)

#: The dataset card says when it was written ("exported 2026-01-31 12:34 UTC by ..."): the
#: one byte range of an export that depends on the clock and not on the store.
_CARD_TIME = re.compile(r"exported \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC by ")
CARD_TIME_PLACEHOLDER = "exported YYYY-MM-DD HH:MM UTC by "


def normalise_card(text: str) -> str:
    """``text`` of a dataset card with its export time replaced by a placeholder, and only
    that: the time is ``datetime.now()`` at export, so two exports of the same store a
    minute apart differ there and nowhere else. Exactly one time must be found (a card that
    moved or reworded it fails here rather than comparing something else)."""
    normalised, count = _CARD_TIME.subn(CARD_TIME_PLACEHOLDER, text)
    assert count == 1, f"expected one export time on the card, found {count}"
    return normalised


def copy_inputs(into: Path) -> Path:
    """Copy the golden inputs into the folder ``into`` and return the project file there."""
    into.mkdir(parents=True, exist_ok=True)
    for name in INPUTS:
        source = GOLDEN / name
        if source.is_dir():
            shutil.copytree(source, into / name)
        else:
            shutil.copy2(source, into / name)
    return into / PROJECT_FILE


def export_case(store: Any, project: Any, case: Case, out: Path) -> Any:
    """Export ``case`` into the folder ``out/<case.id>/`` (created); the ExportResult."""
    folder = out / case.id
    folder.mkdir(parents=True)
    return ir.export_judgments(
        store,
        project,
        format=case.format,
        shape=case.shape,
        out=folder / case.data_file,
        card=True,
        **case.options,
    )


def export_all(project_file: Path, out: Path) -> dict[str, Any]:
    """Every case exported from the project at ``project_file``: ``case id -> result``."""
    project = ir.load_project(project_file)
    with ir.JudgmentStore(project.database_url) as store:
        return {case.id: export_case(store, project, case, out) for case in CASES}


def count_rows(case: Case, data: bytes) -> int:
    """The rows in an export file's bytes, read back as a user would."""
    if case.format == "jsonl":
        return len([json.loads(line) for line in data.decode("utf-8").splitlines()])
    if case.format == "csv":
        return len(list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""))))
    import pyarrow.parquet as pq

    return int(pq.read_metadata(io.BytesIO(data)).num_rows)


# -- the exports, made once per module from a fresh copy of the inputs ----------------------


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """``(folder of the exports, case id -> ExportResult)`` from a copy of the inputs."""
    root = tmp_path_factory.mktemp("golden")
    project_file = copy_inputs(root / "inputs")
    results = export_all(project_file, root / "out")
    return root / "out", results


def test_the_golden_inputs_are_there() -> None:
    for name in (*INPUTS, "expected"):
        assert (GOLDEN / name).exists(), (
            f"{GOLDEN / name} is missing: run tools/make_golden_export.py"
        )
    assert sorted(p.name for p in EXPECTED.iterdir() if p.is_dir()) == sorted(c.id for c in CASES)


def test_every_format_and_shape_is_pinned() -> None:
    from interpret_review.export import EXPORTERS, SHAPES

    pinned = {(c.format, c.shape) for c in CASES}
    assert pinned == {(f, s) for f in EXPORTERS for s in SHAPES}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_row_counts(exported: tuple[Path, dict[str, Any]], case: Case) -> None:
    out, results = exported
    result = results[case.id]
    assert case.rows > 0
    assert (result.format, result.shape, result.rows) == (case.format, case.shape, case.rows)
    assert count_rows(case, (out / case.id / case.data_file).read_bytes()) == case.rows
    assert count_rows(case, (EXPECTED / case.id / case.data_file).read_bytes()) == case.rows
    # the neuron judgment made on the run's earlier model is stale in every export with it
    with_stale = case.options.get("task") != "maps"
    assert result.stale == (1 if with_stale else 0)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_export_bytes_match_the_golden_files(
    exported: tuple[Path, dict[str, Any]], case: Case
) -> None:
    out, _ = exported
    actual = (out / case.id / case.data_file).read_bytes()
    expected = (EXPECTED / case.id / case.data_file).read_bytes()
    if case.format == "parquet":
        _same_parquet(actual, expected)
    else:  # text: compared as text first for a readable diff, then as bytes
        assert actual.decode("utf-8").splitlines() == expected.decode("utf-8").splitlines()
        assert actual == expected


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_dataset_card_matches_the_golden_card(
    exported: tuple[Path, dict[str, Any]], case: Case
) -> None:
    out, results = exported
    card = out / case.id / case.card_file
    assert results[case.id].card == card
    actual = normalise_card(card.read_bytes().decode("utf-8"))
    expected = (EXPECTED / case.id / case.card_file).read_bytes().decode("utf-8")
    assert CARD_TIME_PLACEHOLDER in expected  # the tool writes the card normalised
    assert actual.splitlines() == expected.splitlines()
    assert actual.encode("utf-8") == expected.encode("utf-8")


def test_exporting_again_from_the_same_store_gives_the_same_bytes(
    exported: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """An export records the runs it finds in the store (``last_seen``); the export after it
    from that very store, and one from a second fresh copy, write the same bytes."""
    first, _ = exported
    again = export_all(copy_inputs(tmp_path / "inputs"), tmp_path / "fresh")
    project_file = first.parent / "inputs" / PROJECT_FILE
    twice = export_all(project_file, tmp_path / "twice")
    for case in CASES:
        data = (first / case.id / case.data_file).read_bytes()
        card = normalise_card((first / case.id / case.card_file).read_text(encoding="utf-8"))
        for results in (again, twice):
            result = results[case.id]
            assert result.path.read_bytes() == data, case.id
            assert normalise_card(result.card.read_text(encoding="utf-8")) == card, case.id


def _same_parquet(actual: bytes, expected: bytes) -> None:
    """The decoded table, the Arrow schema with its metadata and the Parquet file metadata
    are the same; and the bytes too when this is the pyarrow that wrote ``expected/``
    (another pyarrow names itself in ``created_by`` and may encode pages differently)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    got, want = pq.ParquetFile(io.BytesIO(actual)), pq.ParquetFile(io.BytesIO(expected))
    assert got.schema_arrow.equals(want.schema_arrow, check_metadata=True), (
        f"{got.schema_arrow}\n!=\n{want.schema_arrow}"
    )
    assert got.schema == want.schema  # the Parquet schema: physical and logical types
    got_table, want_table = got.read(), want.read()
    assert got_table.to_pylist() == want_table.to_pylist()
    assert got_table.equals(want_table, check_metadata=True)
    meta, golden = got.metadata, want.metadata
    assert meta.metadata == golden.metadata  # key-value metadata (the Arrow schema)
    assert (meta.num_rows, meta.num_row_groups, meta.num_columns, meta.format_version) == (
        golden.num_rows,
        golden.num_row_groups,
        golden.num_columns,
        golden.format_version,
    )
    for g in range(golden.num_row_groups):
        assert meta.row_group(g).num_rows == golden.row_group(g).num_rows
        for c in range(golden.num_columns):
            column, wanted = meta.row_group(g).column(c), golden.row_group(g).column(c)
            assert (column.path_in_schema, column.physical_type, column.compression) == (
                wanted.path_in_schema,
                wanted.physical_type,
                wanted.compression,
            )
    writer = json.loads(MANIFEST.read_text(encoding="utf-8"))["pyarrow"]
    if pa.__version__ == writer:
        assert meta.created_by == golden.created_by
        assert actual == expected
