"""`agentops init --phase`: adopt the factors one phase at a time."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from agentops_hooks.commands import cli
from agentops_hooks.gates import policy
from agentops_hooks.gates.learnings import LearningsConfig
from conftest import GitRepo


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


@pytest.mark.parametrize(("phase", "gates"), [
    ("prepare", ["context", "track", "scope"]),
    ("bound", ["context", "track", "scope", "privilege", "research", "isolate"]),
    ("select", ["context", "track", "scope", "privilege", "research", "isolate",
                "verdict", "ratchet", "learnings"]),
    ("govern", ["context", "track", "scope", "privilege", "research", "isolate",
                "verdict", "ratchet", "learnings", "knowledge", "supervise"]),
])
def test_phase_writes_its_gates_and_those_before(repo: GitRepo, phase: str, gates: list[str]) -> None:
    code, out = invoke("init", "--phase", phase)
    assert code == 0, out
    assert policy(repo.root).gates == tuple(gates)


def test_existing_config_is_kept(repo: GitRepo) -> None:
    repo.write(".agentops.toml", 'gates = [\n  "verdict",\n]\n\n[learnings]\nmin_changed_lines = 3\n')
    code, out = invoke("init", "--phase", "bound")
    assert code == 0, out
    loaded = policy(repo.root)
    assert loaded.gates == ("context", "track", "scope", "privilege", "research", "isolate")
    assert loaded.section(LearningsConfig).min_changed_lines == 3


def test_broken_config_is_not_overwritten(repo: GitRepo) -> None:
    repo.write(".agentops.toml", "[learnings\n")
    code, out = invoke("init", "--phase", "prepare")
    assert code == 2
    assert (repo.root / ".agentops.toml").read_text() == "[learnings\n"


def test_pyproject_config_is_not_shadowed(repo: GitRepo) -> None:
    repo.write("pyproject.toml", "[tool.agentops.learnings]\nmin_changed_lines = 3\n")
    code, out = invoke("init", "--phase", "prepare")
    assert code == 2
    assert "set gates = " in out and "pyproject.toml" in out
    assert not (repo.root / ".agentops.toml").exists()


@pytest.mark.parametrize(("files", "judges"), [
    ({"conftest.py": ""}, [("pytest", "python -m pytest -q")]),
    ({"tests/test_x.py": "def test_x(): pass\n"}, [("pytest", "python -m pytest -q")]),
    ({"package.json": '{"scripts": {"test": "jest"}}'},
     [("npm-test", "npm ci --no-audit --no-fund && npm test")]),
    ({"package.json": '{"scripts": {"test": "echo \\"Error: no test specified\\" && exit 1"}}'}, []),
    ({"Cargo.toml": "[package]\n", "go.mod": "module x\n"},
     [("cargo-test", "cargo test"), ("go-test", "go test ./...")]),
    ({"README.md": "# nothing to test\n"}, []),
])
def test_select_offers_a_tests_judge_from_what_it_finds(
        repo: GitRepo, files: dict[str, str], judges: list[tuple[str, str]]) -> None:
    for path, content in files.items():
        repo.write(path, content)
    code, out = invoke("init", "--phase", "select", "--no-signing")
    assert code == 0, out
    found = policy(repo.root).judge.judges
    assert [(j.name, j.command) for j in found] == judges
    assert ("[judge] runs your tests" in out) == bool(judges)
    code, out = invoke("init", "--phase", "govern", "--no-signing")  # offered once
    assert code == 0 and len(policy(repo.root).judge.judges) == len(judges)


def test_bound_offers_no_judge(repo: GitRepo) -> None:
    repo.write("conftest.py", "")
    code, out = invoke("init", "--phase", "bound", "--no-signing")
    assert code == 0 and not policy(repo.root).judge.judges
