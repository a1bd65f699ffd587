"""Every --format json output matches its schema in schemas/, and names every field.

One history, made once with real git and the installed CLI, gives the outputs:
each must validate, and renaming any one of its fields must not.
"""
from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from conftest import JUDGE
from conftest import SCHEMAS
from conftest import GitRepo
from conftest import agent_message
from conftest import isolated_env
from conftest import json_output
from conftest import output_validator
from conftest import run_agentops

DOCS = Path(__file__).parents[1] / "docs"
CONFIG = '[ratchet.metrics.score]\ncommand = "cat score.txt"\ndirection = "higher"\n'
OUTPUT_SCHEMAS = ["check", "check-range", "review", "report", "ratchet-check", "ratchet-show", "ratchet-history"]
MAPS = {"values", "reversals", "metrics", "dates"}
"""Objects keyed by metric names or commit ids, not by field names."""

# (name, schema, arguments; in the clone that has no notes when `clone`)
COMMANDS = [
    ("check commit", "check", ["check", "--format", "json"], False),
    ("check staged", "check", ["check", "--staged", "--message-file", ".git/AGENT_MSG", "--format", "json"], False),
    ("check range", "check-range", ["check", "--range", "base..HEAD", "--format", "json"], False),
    ("check range, notes missing", "check-range", ["check", "--range", "base..HEAD", "--format", "json"], True),
    ("review", "review", ["review", "--format", "json"], False),
    ("report", "report", ["report", "--format", "json"], False),
    ("report, no adoption", "report", ["report", "base", "--format", "json"], False),
    ("ratchet check, reversed", "ratchet-check",
     ["ratchet", "check", "--message-file", ".git/REVERSAL_MSG", "--format", "json"], False),
    ("ratchet check, regressed", "ratchet-check", ["ratchet", "check", "--format", "json"], False),
    ("ratchet show", "ratchet-show", ["ratchet", "show", "--format", "json"], False),
    ("ratchet show, none", "ratchet-show", ["ratchet", "show", "--format", "json"], True),
    ("ratchet history", "ratchet-history", ["ratchet", "history", "--format", "json"], False),
]


def _verdict_trailer(repo: GitRepo, message: str) -> str:
    """The message with a judge's PASS for what is staged, as `agentops verdict` writes it."""
    path = repo.message_file(message, "JUDGED_MSG")
    code, out = run_agentops(repo, "verdict", "pass", "--judge", JUDGE, "--message-file", str(path))
    assert code == 0, out
    return path.read_text()


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str]]:
    """Each command's (exit code, output) over one history: a human base with a ratchet
    baseline; an agent commit admitted by a trailer; one that lowers the score with a
    reversal and a FAIL in the notes; a human commit; a staged agent change."""
    top = tmp_path_factory.mktemp("outputs")
    home = top / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n")
    repo = GitRepo(top / "repo", isolated_env(home))
    repo.root.mkdir()
    repo.git("init", "-q")
    repo.stage(".agentops.toml", CONFIG)
    repo.stage("score.txt", "5\n")
    repo.stage("app.py", "v = 0\n")
    repo.commit("base")
    repo.git("tag", "base")
    assert run_agentops(repo, "ratchet", "record")[0] == 0
    repo.stage("app.py", "v = 1\n")
    repo.commit(_verdict_trailer(repo, agent_message("Parser fix", "Task: T-1")), "--no-verify")
    repo.stage("score.txt", "4\n")
    repo.commit(agent_message("Slower but right", "Ratchet-Reversal: score: correctness over speed"),
                "--no-verify")
    assert run_agentops(repo, "verdict", "fail", "--judge", JUDGE, "--commit", "HEAD")[0] == 0
    assert run_agentops(repo, "ratchet", "record")[0] == 0
    repo.stage("README.md", "docs\n")
    repo.commit("Docs")
    clone = GitRepo(top / "clone", repo.env)
    repo.git("clone", "-q", str(repo.root), str(clone.root))
    repo.stage("app.py", "v = 2\n" * 20)
    repo.message_file(agent_message("Unfinished"), "AGENT_MSG")
    repo.write("score.txt", "3\n")
    repo.message_file("Lower\n\nRatchet-Reversal: score: a slower, exact method\n", "REVERSAL_MSG")
    return {name: run_agentops(clone if in_clone else repo, *args) for name, _, args, in_clone in COMMANDS}


@pytest.mark.parametrize("name, schema", [(name, schema) for name, schema, _, _ in COMMANDS])
def test_real_output_matches_its_schema(outputs: dict[str, tuple[int, str]], name: str, schema: str) -> None:
    code, out = outputs[name]
    assert code in (0, 1), out
    json_output(out, schema)


def test_the_history_shows_every_variant(outputs: dict[str, tuple[int, str]]) -> None:
    """The outputs above hold the cases their schemas describe, not only the easy ones."""
    data = {name: json.loads(out) for name, (_, out) in outputs.items()}
    assert data["check staged"]["change"] == "staged" and data["check staged"]["findings"]
    assert any(c["unjudged_notes_missing"] for c in data["check range, notes missing"]["commits"])
    assert data["check range, notes missing"]["range_findings"]
    assert {v["where"] for r in data["review"] for v in r["verdicts"]} >= {"trailer"}
    assert any(v["where"].startswith("note on ") for r in data["review"] for v in r["verdicts"])
    assert data["report"]["adoption"] is not None and data["report, no adoption"]["adoption"] is None
    assert [r["verdict"] for r in data["ratchet check, reversed"]["results"]] == ["reversed"]
    assert [r["verdict"] for r in data["ratchet check, regressed"]["results"]] == ["regressed"]
    assert data["ratchet show, none"] is None and data["ratchet show"]["reversals"]
    assert len(data["ratchet history"]) == 2


def _renamed(value: Any, parent: str = "") -> Iterator[tuple[str, Any]]:
    """(path, the value with that one field renamed) for every field at any depth."""
    if isinstance(value, list):
        for i, item in enumerate(value):
            for path, changed in _renamed(item):
                copied = list(value)
                copied[i] = changed
                yield f"[{i}]{path}", copied
    elif isinstance(value, dict) and parent not in MAPS:
        for key, item in value.items():
            renamed = {(k + "_renamed" if k == key else k): v for k, v in value.items()}
            yield f".{key}", renamed
            for path, changed in _renamed(item, key):
                yield f".{key}{path}", {**value, key: changed}


@pytest.mark.parametrize("name, schema", [(name, schema) for name, schema, _, _ in COMMANDS])
def test_renaming_any_field_fails_the_schema(outputs: dict[str, tuple[int, str]], name: str, schema: str) -> None:
    data = json.loads(outputs[name][1])
    validator = output_validator(schema)
    renamed = list(_renamed(copy.deepcopy(data)))
    assert renamed or data is None
    passing = [path for path, changed in renamed if validator.is_valid(changed)]
    assert passing == [], f"{name}: renamed fields the schema accepts: {passing}"


@pytest.mark.parametrize("schema", OUTPUT_SCHEMAS)
def test_schema_is_draft_2020_12_with_its_own_id(schema: str) -> None:
    document = json.loads((SCHEMAS / f"{schema}.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(document)
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert document["$id"] == f"https://agentops-hooks.dev/schemas/{schema}.schema.json"


def _json_blocks(page: str, heading: str) -> list[Any]:
    """The whole JSON documents in one section of docs/PAGE: its ```json blocks, and the
    output of its ```console blocks that run one `--format json` command."""
    text = (DOCS / page).read_text()
    start = text.index(heading + "\n")
    level = heading.split(" ")[0]
    end = re.search(rf"^{level} ", text[start + len(heading):], re.M)
    section = text[start:start + len(heading) + end.start()] if end else text[start:]
    blocks = []
    found = re.findall(r"```json\n(.*?)```", section, re.S)
    found += re.findall(r"```console\n\$ [^\n]*--format json\n(.*?)```", section, re.S)
    for block in found:
        try:
            blocks.append(json.loads(block))
        except json.JSONDecodeError:
            continue  # an excerpt of a field, not a whole output
    return blocks


@pytest.mark.parametrize("page, heading, schema", [
    ("formats.md", "## `agentops check --format json`", "check"),
    ("formats.md", "## `agentops review --format json`", "review"),
    ("formats.md", "## `agentops ratchet check --format json`", "ratchet-check"),
    ("ci.md", "### json", "check-range"),
])
def test_the_documented_samples_match_the_schemas(page: str, heading: str, schema: str) -> None:
    blocks = _json_blocks(page, heading)
    assert blocks, f"no JSON sample under {heading} in docs/{page}"
    for block in blocks:
        output_validator(schema).validate(block)
