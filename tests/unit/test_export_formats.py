"""Export formats: the registry, spreadsheet-safe cells, answer columns."""

from __future__ import annotations

import interpret_review.export as export
from interpret_review.export.formats import _cell
from interpret_review.export.rows import answer_columns, schema_fields


def test_registry_has_one_verb_per_format() -> None:
    assert sorted(export.EXPORTERS) == ["csv", "jsonl", "parquet"]
    for name, exporter in export.EXPORTERS.items():
        assert exporter.name == name and callable(exporter.export)
    assert export.__all__ == sorted(export.__all__)


def test_formula_cells_are_neutralised_reversibly() -> None:
    for text in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "'quoted", '=HYPERLINK("x")']:
        cell = export.neutralise(text)
        assert cell == "'" + text
        assert export.restore_cell(cell) == text
    for text in ["plain", "1-2", "", "<script>alert(1)</script>", "🧠"]:
        assert export.neutralise(text) == text == export.restore_cell(text)


def test_cells() -> None:
    assert _cell(None) == "" and _cell(True) == "true" and _cell(False) == "false"
    assert _cell(-3) == "-3" and _cell(0.5) == "0.5"  # numbers are data, not formulas
    assert _cell(["=a", "ü"]) == '["=a", "ü"]'
    assert _cell({"b": 1, "a": "-x"}) == '{"a": "-x", "b": 1}'
    assert _cell("-x") == "'-x"


def test_answer_columns_follow_the_schemas() -> None:
    v1 = {"fields": [{"name": "label"}, {"name": "flags"}]}
    v2 = {"fields": [{"name": "flags"}, {"name": "confidence"}]}
    legacy = {"properties": {"note": {}, "label": {}}}
    assert schema_fields([v1, v2, legacy, {}]) == ["label", "flags", "confidence", "note"]
    names = [c.name for c in answer_columns([v1, v2, legacy, {}])]
    assert names == ["answer.label", "answer.flags", "answer.confidence", "answer.note",
                     "answers_extra"]  # fmt: skip


def test_answer_columns_are_typed_by_the_schema_field() -> None:
    v1 = {"fields": [{"name": "label", "type": "text"}, {"name": "fits", "type": "marks"},
                     {"name": "confidence", "type": "scale"}, {"name": "ok", "type": "boolean"},
                     {"name": "flags", "type": "multi_choice"}, {"name": "r", "type": "ratings"}]}  # fmt: skip
    v2 = {"fields": [{"name": "confidence", "type": "text"}]}  # retyped in a later version
    columns = {c.name: c.type for c in answer_columns([v1, v2])}
    assert columns == {
        "answer.label": "string",
        "answer.fits": "ints",
        "answer.confidence": "json",
        "answer.ok": "bool",
        "answer.flags": "strings",
        "answer.r": "json",
        "answers_extra": "json",
    }
