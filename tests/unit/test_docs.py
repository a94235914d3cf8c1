"""The docs stay true: settings, CLI commands, the README's two commands and CI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from interpret_review.cli import parser
from interpret_review.settings import SETTINGS, command_settings, settings_markdown

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]


def test_the_settings_tables_are_the_ones_the_settings_declare() -> None:
    doc = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    table = re.search(
        r"<!-- settings table:[^>]*-->\n\n(.*)<!-- end of settings table -->", doc, re.S
    )
    assert table, "docs/settings.md lost its generated settings table"
    assert table.group(1) == settings_markdown(), (
        "docs/settings.md is out of date: paste settings_markdown() between the markers"
    )
    for setting in SETTINGS:
        assert f"| `{setting.name}` |" in table.group(1)
        if setting.type is int:  # every number says which values it takes
            assert setting.low is not None, setting.name


@pytest.mark.parametrize("command", COMMANDS)
def test_every_setting_flag_is_a_flag_of_its_command(command: str, capsys) -> None:
    with pytest.raises(SystemExit):
        parser().parse_args([command, "--help"])
    text = capsys.readouterr().out
    for setting in command_settings(command):
        assert setting.flag in text, f"{command} lacks {setting.flag}"
        assert setting.help.split()[0] in text


def test_a_setting_flag_reaches_the_settings() -> None:
    from interpret_review.cli import _settings

    args = parser().parse_args(["serve", "p.toml", "--port", "7001", "--num-procs", "2"])
    settings = _settings(args)
    assert (settings.port, settings.num_procs) == (7001, 2)
    args = parser().parse_args(["generate", "digits", "--out", "r.h5", "--feature-viz", "0"])
    assert args.feature_viz == 0


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
