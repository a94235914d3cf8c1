"""Project files: a good one loads; each bad one names the file, the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from interpret_review.errors import ProjectError
from interpret_review.review import load_project

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
