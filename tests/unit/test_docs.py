"""The docs stay true: settings, CLI commands, the README's two commands and CI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from interpret_review.cli import parser
from interpret_review.settings import SETTINGS

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]


def test_every_setting_is_documented_with_its_default() -> None:
    doc = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    for setting in SETTINGS:
        row = re.search(rf"^\| `{setting.name}` \| ([^|]*) \| ([^|]*) \|$", doc, re.M)
        assert row, f"setting {setting.name} is not in docs/settings.md"
        default = row.group(1).strip().strip("`")
        assert default == (str(setting.default) if setting.default != "" else "(empty)")
        assert row.group(2).strip() == setting.help


def test_the_readme_starts_with_the_two_commands() -> None:
    block = re.search(r"```sh\n(.*?)```", README, re.S)
    assert block and README.index("```sh") < README.index("---")
    lines = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    assert lines[:2] == ["make demo", "make test"]


def test_ci_runs_the_readme_test_command_unchanged() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^make test$", ci, re.M)
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^test: ", makefile, re.M) and re.search(r"^demo: ", makefile, re.M)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_an_example_and_a_readme_row(command: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        parser().parse_args([command, "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert f"Example:\n  interpret-review {command}" in text
    assert f"`interpret-review {command}" in README


def test_the_commands_are_the_ones_the_readme_lists() -> None:
    listed = set(re.findall(r"^\| `interpret-review (\w+)", README, re.M))
    assert listed == set(COMMANDS)


def test_every_rule_figure_model_and_policy_is_documented() -> None:
    from interpret_review.quality import FLAGS, MODELS, POLICIES
    from interpret_review.review.rules import FIGURES

    text = (ROOT / "docs" / "quality.md").read_text(encoding="utf-8")
    for name in (*FIGURES, *FLAGS, *POLICIES, *(m for m in MODELS if m != "majority")):
        assert f"`{name}`" in text, name


def test_every_export_column_is_documented() -> None:
    from interpret_review.export.rows import EXTRA_ANSWERS, SHAPES

    text = (ROOT / "docs" / "export.md").read_text(encoding="utf-8")
    for shape, columns in SHAPES.items():
        for column in columns:
            assert f"| `{column.name}` | {column.type} |" in text, (shape, column.name)
    assert f"`{EXTRA_ANSWERS.name}`" in text
