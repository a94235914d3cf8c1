"""Project files: a good one loads; each bad one names the file, the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from interpret_review.errors import ProjectError
from interpret_review.review import load_project
from interpret_review.tasks import AdaptiveRule

GOOD = """
[project]
name = "p"
title = "P"

[[runs]]
name = "digits"
path = "runs/digits.h5"

[[tasks]]
name = "describe"
kind = "neuron"
layers = ["conv1"]

[[tasks]]
name = "rate"
kind = "attribution"
examples = [1, 2, 3]
methods = ["Saliency"]

[[reviewers]]
username = "alice"
password = "pw"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "project.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_project_loads(tmp_path: Path) -> None:
    project = load_project(write(tmp_path, GOOD))
    assert project.name == "p"
    assert project.runs["digits"].path == tmp_path / "runs" / "digits.h5"
    assert project.task("describe").layers == ("conv1",)
    assert project.task("describe").run == "digits"  # the only run is the default
    assert project.task("rate").examples == (1, 2, 3)
    assert project.database_url == "sqlite:///" + str(tmp_path / "project.judgments.sqlite")
    assert [r.username for r in project.reviewers] == ["alice"]


@pytest.mark.parametrize(
    "change, where, message",
    [
        (("[project]", "[projekt]"), "top level", "did you mean 'project'"),
        (('kind = "neuron"', 'kind = "nueron"'), "tasks[0].kind", "did you mean 'neuron'"),
        (('layers = ["conv1"]', 'layers = ["conv1"]\nrun = "digts"'), "tasks[0].run", "digits"),
        (("examples = [1, 2, 3]", "examples = -4"), "tasks[1].examples", "positive"),
        (('layers = ["conv1"]', "colour = 1"), "tasks[0]", "unknown key 'colour'"),
        (('password = "pw"', 'password = "pw"\nrole = "boss"'), "reviewers[0].role", "role"),
        (('name = "rate"', 'name = "describe"'), "tasks[1]", "used twice"),
        (('name = "p"', 'name = "a/b"'), "project.name", "letters, digits"),
    ],
)
def test_bad_projects_name_file_key_and_fix(tmp_path, change, where, message) -> None:
    path = write(tmp_path, GOOD.replace(*change, 1))
    with pytest.raises(ProjectError) as error:
        load_project(path)
    text = str(error.value)
    assert text.startswith(str(path)) and f"[{where}]" in text and message in text, text


def test_not_toml_and_missing_files_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="not valid TOML"):
        load_project(write(tmp_path, "[project\nname="))
    with pytest.raises(ProjectError, match="no such project file"):
        load_project(tmp_path / "missing.toml")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00\x01")
    with pytest.raises(ProjectError, match="UTF-8"):
        load_project(binary)


def test_password_env_reads_the_environment(tmp_path, monkeypatch) -> None:
    text = GOOD.replace('password = "pw"', 'password_env = "IR_TEST_PW"')
    monkeypatch.setenv("IR_TEST_PW", "from-env")
    assert load_project(write(tmp_path, text)).reviewers[0].password == "from-env"
    monkeypatch.delenv("IR_TEST_PW")
    with pytest.raises(ProjectError, match="IR_TEST_PW is not set"):
        load_project(write(tmp_path, text))


TEAM = (
    GOOD.replace(
        'layers = ["conv1"]\n',
        'layers = ["conv1"]\noverlap = 3\nlease_minutes = 10\nshuffle = false\n'
        'reviewers = ["alice"]\ninstructions_file = "describe.md"\n'
        '\n[[tasks.gold]]\naddress = "neuron:digits/conv1/3"\nanswers = { category = "curve" }\n'
        '\n[[tasks.worked_examples]]\naddress = "neuron:digits/conv1/0"\n'
        'answers = { label = "a stroke" }\nwhy = "Because."\n',
        1,
    )
    + """
[[tasks]]
name = "verify"
kind = "neuron"
stage = "verify"
source = "describe"
held_out = { high = 2, medium = 2, low = 2 }

[[tasks]]
name = "judge"
kind = "neuron"
stage = "adjudicate"
source = "verify"

[[tasks]]
name = "yes-no"
kind = "attribution"

[[tasks.fields]]
name = "faithful"
type = "choice"
choices = ["yes", "no"]
keys = ["y", "n"]
required = true

[[tasks.fields]]
name = "note"
type = "text"
key = "c"
"""
)


def test_a_team_project_loads_with_stages_gold_and_schemas(tmp_path: Path) -> None:
    (tmp_path / "describe.md").write_text("# Describe\nLook at **the top examples**.")
    project = load_project(write(tmp_path, TEAM))
    describe = project.task("describe")
    assert (describe.overlap, describe.lease_seconds, describe.shuffle) == (3, 600, False)
    assert describe.reviewers == ("alice",) and describe.instructions.startswith("# Describe")
    assert describe.gold == {"neuron:digits/conv1/3": {"category": "curve"}}
    assert describe.worked_examples[0].answers == {"label": "a stroke"}
    verify, judge = project.task("verify"), project.task("judge")
    assert (verify.stage, verify.source, verify.held_out["high"]) == ("verify", "describe", 2)
    assert verify.schema.names == ["predictions", "comment"]
    assert (judge.stage, judge.role) == ("adjudicate", "adjudicator")
    assert "rationale" in judge.schema.names
    assert project.task("yes-no").schema.names == ["faithful", "note"]
    settings = describe.settings
    assert settings.members == ("alice",) and settings.fingerprint == describe.fingerprint


@pytest.mark.parametrize(
    "change, where, message",
    [
        (('stage = "verify"\n', ""), "tasks[2].source", "only a 'verify' or 'adjudicate'"),
        (('source = "describe"\n', ""), "tasks[2]", "needs 'source'"),
        (('source = "describe"', 'source = "describ"'), "tasks[2].source", "did you mean"),
        (('source = "verify"', 'source = "judge"'), "tasks[3].source", "define it above"),
        (('source = "describe"', 'source = "rate"'), "tasks[2].kind", "must be 'attribution'"),
        (('stage = "adjudicate"', 'stage = "decide"'), "tasks[3].stage", "did you mean"),
        (("overlap = 3", "overlap = 0"), "tasks[0].overlap", ">= 1"),
        (("overlap = 3", "overlap = true"), "tasks[0].overlap", "must be int"),
        (('keys = ["y", "n"]', 'keys = ["y", "c"]'), "tasks[4].fields", "used twice"),
        (('keys = ["y", "n"]', 'keys = ["y", "?"]'), "tasks[4].fields", "kept by the review"),
        (('keys = ["y", "n"]', 'keys = ["y", "n", "x"]'), "tasks[4].fields[0].keys", "one key per"),
        (('type = "choice"', 'type = "choise"'), "tasks[4].fields[0].type", "did you mean"),
        (('choices = ["yes", "no"]', "choices = []"), "tasks[4].fields[0]", "needs 'choices'"),
        (("category = \"curve\"", "category = \"spiral\""), "tasks[0].gold[0].answers",
         "must be one of"),
        (("category = \"curve\"", "colour = 1"), "tasks[0].gold[0].answers", "unknown answer field"),
        (('address = "neuron:digits/conv1/3"', 'address = "attribution:digits/3"'),
         "tasks[0].gold[0].address", "not a neuron item"),
        (("high = 2", "high = 0, wide = 1"), "tasks[2].held_out", "unknown key 'wide'"),
        (('instructions_file = "describe.md"', 'instructions_file = "gone.md"'),
         "tasks[0].instructions_file", "cannot read"),
        (('stage = "verify"\n', 'stage = "verify"\nlayers = ["conv1"]\n'), "tasks[2].layers",
         "takes its items from its source"),
    ],
)  # fmt: skip
def test_bad_team_projects_name_the_key(tmp_path: Path, change, where, message) -> None:
    (tmp_path / "describe.md").write_text("Describe.")
    path = write(tmp_path, TEAM.replace(*change, 1))
    with pytest.raises(ProjectError) as error:
        load_project(path)
    text = str(error.value)
    assert text.startswith(str(path)) and f"[{where}]" in text and message in text, text


QUALITY = """
[quality]
min_items = 8
model = "mace"

[[quality.tiers]]
name = "paused"
when = "random_odds >= 99 or (gold_items >= 10 and gold_accuracy < 0.4)"
pause = true

[[quality.tiers]]
name = "trusted"
when = "items >= 30 and not near_chance"
role = "adjudicator"
"""


def test_quality_rules_and_adaptive_overlap_load(tmp_path: Path) -> None:
    text = GOOD.replace(
        'layers = ["conv1"]',
        'layers = ["conv1"]\noverlap = 3\nmax_overlap = 6\nmin_agreement = 0.8\n'
        'consensus = "adjudicated"',
    )
    project = load_project(write(tmp_path, text + QUALITY))
    quality = project.quality
    assert (quality.min_items, quality.model, quality.default_tier) == (8, "mace", "standard")
    paused, trusted = quality.tiers
    assert paused.pause and trusted.role == "adjudicator"
    assert paused.when.holds({"random_odds": 120.0})
    assert not paused.when.holds({"random_odds": None, "gold_items": 12, "gold_accuracy": None})
    assert trusted.when.holds({"items": 40, "near_chance": False})
    task = project.task("describe")
    assert (task.consensus, task.consensus_field) == ("adjudicated", "category")
    assert task.settings.adaptive == AdaptiveRule("category", 0.8, 6)
    assert project.task("rate").consensus_field is None  # ratings: no single value
    assert project.task("rate").settings.adaptive is None


@pytest.mark.parametrize(
    "change, where, message",
    [
        (
            ("gold_items >= 10", "gold_itmes >= 10"),
            "quality.tiers[0].when",
            "did you mean 'gold_items'",
        ),
        (("gold_items >= 10", "__import__('os')"), "quality.tiers[0].when", "is not allowed"),
        (("items >= 30", "items >= 'x'"), "quality.tiers[1].when", "only numbers"),
        (('model = "mace"', 'model = "glad"'), "quality.model", "one-coin"),
        (('role = "adjudicator"', 'role = "adjudicater"'), "quality.tiers[1].role", "did you mean"),
        (('name = "trusted"', 'name = "paused"'), "quality.tiers[1].name", "defined twice"),
        (("min_items = 8", "min_items = 1"), "quality.min_items", ">= 2"),
    ],
)
def test_bad_quality_tables_name_the_key(tmp_path: Path, change, where, message) -> None:
    with pytest.raises(ProjectError) as error:
        load_project(write(tmp_path, GOOD + QUALITY.replace(*change)))
    assert f"[{where}]" in str(error.value) and message in str(error.value)


@pytest.mark.parametrize(
    "keys, where, message",
    [
        ('consensus = "majorty"', "tasks[0].consensus", "Known consensus policies"),
        ('consensus_field = "label"', "tasks[0].consensus_field", "not a choice, scale or boolean"),
        ("max_overlap = 4", "tasks[0]", "needs both 'max_overlap'"),
        ("max_overlap = 1\nmin_agreement = 0.8", "tasks[0].max_overlap", "must be above overlap"),
        ("max_overlap = 4\nmin_agreement = 1.5", "tasks[0].min_agreement", "at most 1"),
    ],
)
def test_bad_consensus_keys_name_the_key(tmp_path: Path, keys, where, message) -> None:
    text = GOOD.replace('layers = ["conv1"]', f'layers = ["conv1"]\n{keys}')
    with pytest.raises(ProjectError) as error:
        load_project(write(tmp_path, text))
    assert f"[{where}]" in str(error.value) and message in str(error.value)
