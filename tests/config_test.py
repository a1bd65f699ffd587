"""Config: `.agentops.toml` or `[tool.agentops]`, strict, and its schema in step."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from agentops_hooks import config
from agentops_hooks.config import ConfigError
from agentops_hooks.gates import policy
from agentops_hooks.gates import SECTIONS
from agentops_hooks.gates.learnings import LearningsConfig
from agentops_hooks.gates.verdict import VerdictConfig
from conftest import GitRepo

SCHEMA_FILE = Path(__file__).parents[1] / "schemas" / "config.schema.json"


def test_schema_file_is_generated_from_the_model() -> None:
    """Regenerate with: agentops schema config > schemas/config.schema.json"""
    assert json.loads(SCHEMA_FILE.read_text()) == config.json_schema(SECTIONS)


def test_defaults_without_a_file(tmp_path: Path) -> None:
    loaded = policy(tmp_path)
    assert loaded == config.Config()
    assert loaded.gates == ("verdict", "learnings", "privilege", "supervise")
    assert loaded.section(LearningsConfig).min_changed_lines == 10
    assert loaded.section(LearningsConfig).min_words == 3
    assert loaded.section(VerdictConfig).required_for == "agents"


FULL = """
gates = ["verdict"]
[agents]
emails = ["bot@example.com"]
patterns = ["\\\\[bot\\\\]"]
env = ["MY_AGENT=1"]
trailers = ["X-Agent"]
[verdict]
required_for = "everyone"
judges = ["*@review.example.com"]
aliases = [["a@example.com", "a@home.example"]]
[learnings]
min_changed_lines = 25
min_words = 5
file = "docs/LEARNINGS.md"
directory = "notes/learnings"
exempt_docs_only = false
docs_patterns = ["*.md"]
[judge]
identity = "CI Judge <ci-judge@example.com>"
at_least = 1
admits = ["verdict", "privilege"]
[[judge.judges]]
name = "tests"
command = "python -m pytest -q"
timeout = 120
env = ["CI"]
[[judge.judges]]
name = "review"
kind = "reviewer"
command = "review-bot"
required = false
"""


def test_every_key_is_read(tmp_path: Path) -> None:
    (tmp_path / ".agentops.toml").write_text(FULL)
    loaded = policy(tmp_path)
    assert loaded.gates == ("verdict",)
    assert loaded.agents.patterns == ("\\[bot\\]",)
    assert loaded.section(VerdictConfig).aliases == (("a@example.com", "a@home.example"),)
    assert loaded.section(LearningsConfig).file == "docs/LEARNINGS.md"
    assert loaded.section(LearningsConfig).min_words == 5
    assert loaded.source and loaded.source.endswith(".agentops.toml")
    assert [(j.name, j.kind, j.timeout, j.required) for j in loaded.judge.judges] == [
        ("tests", "check", 120.0, True), ("review", "reviewer", 600.0, False)]
    assert loaded.judge.at_least == 1 and loaded.judge.admits == ("verdict", "privilege")


def test_full_example_validates_against_the_schema(tmp_path: Path) -> None:
    import tomllib

    jsonschema.validate(tomllib.loads(FULL), json.loads(SCHEMA_FILE.read_text()))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"verdict": {"judgez": []}}, json.loads(SCHEMA_FILE.read_text()))


def test_pyproject_tool_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.agentops.learnings]\nmin_changed_lines = 3\n')
    assert policy(tmp_path).section(LearningsConfig).min_changed_lines == 3


def test_pyproject_without_our_table_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert policy(tmp_path) == config.Config()


@pytest.mark.parametrize(("text", "says"), [
    ("[verdict]\njudgez = []\n", ".agentops.toml: verdict.judgez: unknown key"),
    ("colour = 1\n", ".agentops.toml: colour: unknown key"),
    ("[learnings]\nmin_changed_lines = \"many\"\n", ".agentops.toml: learnings.min_changed_lines:"),
    ("[learnings]\nmin_changed_lines = -1\n", "learnings.min_changed_lines: must be 0 or more"),
    ("[learnings]\nmin_words = 0\n", ".agentops.toml: learnings.min_words: must be 1 or more"),
    ("[learnings]\nmin_words = \"three\"\n", ".agentops.toml: learnings.min_words:"),
    ("[verdict]\nrequired_for = \"robots\"\n", ".agentops.toml: verdict.required_for:"),
    ("gates = [\"verdict\", \"vibes\"]\n", "gates: unknown gate 'vibes'"),
    ("[agents]\npatterns = [\"(\"]\n", "agents.patterns[0]: not a valid regular expression"),
    ("[agents]\nenv = [\"=1\"]\n", "agents.env[0]: empty variable name"),
    ("source = \"x\"\n", "source: unknown key"),
    ("[verdict\n", ".agentops.toml: not valid TOML"),
])
def test_bad_config_names_file_and_key(tmp_path: Path, text: str, says: str) -> None:
    (tmp_path / ".agentops.toml").write_text(text)
    with pytest.raises(config.ConfigError) as e:
        policy(tmp_path)
    assert says in str(e.value)


def test_pyproject_errors_name_the_tool_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.agentops]\nnope = 1\n")
    with pytest.raises(config.ConfigError) as e:
        policy(tmp_path)
    assert "pyproject.toml: tool.agentops.nope: unknown key" in str(e.value)


def test_bad_config_exits_2_from_the_cli(repo: GitRepo) -> None:
    from click.testing import CliRunner

    from agentops_hooks.commands import cli

    repo.stage("a", "a\n")
    repo.commit("a")
    repo.write(".agentops.toml", "[verdict]\njudgez = []\n")
    result = CliRunner().invoke(cli, ["check"])
    assert result.exit_code == 2
    assert "verdict.judgez: unknown key" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("table", "says"), [
    ('[[judge.judges]]\nname = "a"\ncommand = "x"\n[[judge.judges]]\nname = "a"\ncommand = "y"\n',
     "judge.judges[0].name: 'a' names two judges"),
    ('[judge]\nat_least = 2\n[[judge.judges]]\nname = "a"\ncommand = "x"\n',
     "judge.at_least: must be between 0 and the number of judges (1)"),
    ('[judge]\nidentity = "no email"\n', 'judge.identity: must be "Name <email>"'),
    ('[judge]\nadmits = ["verdikt"]\n', "judge.admits: unknown gate 'verdikt'"),
    ('[[judge.judges]]\nname = "a b"\ncommand = "x"\n', "judge.judges[0].name: must be one word"),
    ('[[judge.judges]]\nname = "a"\ncommand = "x"\nkind = "oracle"\n', "judge.judges[0].kind"),
])
def test_a_bad_judge_table_names_the_key(tmp_path: Path, table: str, says: str) -> None:
    (tmp_path / ".agentops.toml").write_text(table)
    with pytest.raises(ConfigError) as e:
        policy(tmp_path)
    assert says in str(e.value) and ".agentops.toml" in str(e.value)
