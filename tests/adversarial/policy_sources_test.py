"""Class 3: every file that decides what is checked, or how a diff reads, is a
protected path, so an agent cannot switch the gates off with a verdict it
typed itself.

Attacks tried (each an agent's change, with a self-typed verdict where it
would help):

- adding `[tool.agentops]` to a pyproject.toml that had none (`gates = []`);
- editing an existing `[tool.agentops]` table, as a table, as dotted keys
  (`tool.agentops.gates = []`) or as an inline table;
- making pyproject.toml unreadable TOML, renaming it away, deleting it;
- adding a `.gitattributes`, at the root or in a subdirectory;
- editing hook and CI config that was not listed before (`.husky/`,
  `.github/actions/`, `lefthook.yml`).

Editing the rest of pyproject.toml (dependencies, tools) stays an ordinary change.
"""
from __future__ import annotations

import pytest

from conftest import JUDGE
from conftest import GitRepo
from conftest import agent_commit
from conftest import agent_message
from conftest import push
from conftest import remote
from conftest import run_agentops
from conftest import run_hook
from conftest import text

PYPROJECT = '[project]\nname = "demo"\ndependencies = ["click"]\n'
WITH_TABLE = PYPROJECT + '\n[tool.agentops]\ngates = ["verdict", "learnings", "privilege"]\n'

# name -> (pyproject.toml before, after); None: no file
POLICY_EDITS = {
    "table added": (PYPROJECT, PYPROJECT + "\n[tool.agentops]\ngates = []\n"),
    "table edited": (WITH_TABLE, WITH_TABLE.replace('"verdict", ', "")),
    "dotted keys": (PYPROJECT, 'tool.agentops.gates = []\n' + PYPROJECT),
    "inline table": (PYPROJECT, PYPROJECT + '\n[tool]\nagentops = { gates = [] }\n'),
    "unreadable": (WITH_TABLE, WITH_TABLE + "\n[tool.agentops\n"),
    "deleted": (WITH_TABLE, None),
}


def set_pyproject(repo: GitRepo, content: str | None) -> None:
    if content is None:
        repo.git("rm", "-q", "pyproject.toml")
    else:
        repo.stage("pyproject.toml", content)


def self_verdict(repo: GitRepo) -> str:
    """The trailer an agent would type: a PASS in someone's name, bound to the staged patch."""
    _, out = run_agentops(repo, "verdict", "pass", "--judge", JUDGE, "--staged", "--no-record")
    return next(line for line in out.splitlines() if line.startswith("Verdict:"))


@pytest.mark.parametrize("name", sorted(POLICY_EDITS))
def test_a_change_of_the_policy_table_is_refused_at_commit_time(
    repo: GitRepo, capsys: pytest.CaptureFixture[str], name: str,
) -> None:
    before, after = POLICY_EDITS[name]
    repo.stage("pyproject.toml", before)
    repo.commit("base")
    set_pyproject(repo, after)
    code, out = run_hook(repo, agent_message("Tidy the project file", self_verdict(repo)), capsys)
    if name == "unreadable":  # the work tree's policy cannot be read: the commit cannot be checked
        assert code == 2 and "pyproject.toml: not valid TOML" in out, out
        return
    assert code == 1, out
    assert "privilege-protected-path" in out and "pyproject.toml" in out


@pytest.mark.parametrize("name", sorted(POLICY_EDITS))
def test_a_change_of_the_policy_table_is_refused_in_ci(repo: GitRepo, name: str) -> None:
    before, after = POLICY_EDITS[name]
    repo.stage("pyproject.toml", before)
    repo.commit("base")
    base = repo.head()
    set_pyproject(repo, after)
    repo.commit(agent_message("Tidy the project file"), "--no-verify")
    code, out = run_agentops(repo, "check", "--range", f"{base}..HEAD")
    assert code == 1, out
    assert "privilege-protected-path" in out and "pyproject.toml" in out


def test_a_renamed_pyproject_takes_its_table_away(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.stage("pyproject.toml", WITH_TABLE)
    repo.commit("base")
    repo.git("mv", "pyproject.toml", "project.toml")
    code, out = run_hook(repo, agent_message("Rename", self_verdict(repo)), capsys)
    assert code == 1, out
    assert "privilege-protected-path" in out and "pyproject.toml" in out


def test_the_rest_of_pyproject_is_an_ordinary_change(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.stage("pyproject.toml", WITH_TABLE)
    repo.commit("base")
    repo.stage("pyproject.toml", WITH_TABLE.replace('["click"]', '["click", "rich"]'))
    code, out = run_hook(repo, agent_message("Add rich", self_verdict(repo)), capsys)
    assert code == 0, out


@pytest.mark.parametrize("path", [".gitattributes", "src/.gitattributes", ".husky/pre-commit",
                                  ".github/actions/setup/action.yml", "lefthook.yml"])
def test_attribute_hook_and_ci_files_are_protected(
    repo: GitRepo, capsys: pytest.CaptureFixture[str], path: str,
) -> None:
    repo.stage("a.py", "a = 0\n")
    repo.commit("base")
    repo.stage(path, "*.py -diff\n")
    code, out = run_hook(repo, agent_message("Tweak", self_verdict(repo)), capsys)
    assert code == 1, out
    assert "privilege-protected-path" in out and path in out


def test_the_policy_table_is_protected_in_ci_and_on_the_server(server: tuple) -> None:
    bare, repo = server
    repo.stage("pyproject.toml", PYPROJECT)
    repo.commit("Project file")
    assert push(repo, "main").returncode == 0
    base = repo.head()
    agent_commit(repo, "pyproject.toml", PYPROJECT + "\n[tool.agentops]\ngates = []\n",
                 "Switch the gates off", f"Verdict: PASS judge=\"{JUDGE}\" patch=0")
    code, out = run_agentops(repo, "check", "--range", f"{base}..HEAD", "--gate", "privilege")
    assert code == 1, out
    assert "privilege-protected-path" in out and "[tool.agentops]" in out
    proc = push(repo, "main")
    assert proc.returncode != 0
    assert "privilege-protected-path" in text(proc)
    assert remote(bare, "refs/heads/main") == base
