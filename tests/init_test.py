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
    # The defaults (privilege, verdict, learnings, supervise) stay on in every phase.
    ("prepare", ["context", "track", "scope", "privilege", "verdict", "learnings", "supervise"]),
    ("bound", ["context", "track", "scope", "privilege", "research", "isolate", "verdict",
               "learnings", "supervise"]),
    ("select", ["context", "track", "scope", "privilege", "research", "isolate",
                "verdict", "ratchet", "learnings", "supervise"]),
    ("govern", ["context", "track", "scope", "privilege", "research", "isolate",
                "verdict", "ratchet", "learnings", "knowledge", "supervise"]),
])
def test_phase_adds_its_gates_and_those_before_to_the_defaults(repo: GitRepo, phase: str,
                                                                gates: list[str]) -> None:
    code, out = invoke("init", "--phase", phase, "--no-signing")
    assert code == 0, out
    assert policy(repo.root).gates == tuple(gates)
    assert f"agentops: .agentops.toml: gates = {gates} (phase {phase} and before, and the " \
           "gates already on)" in out


def test_existing_config_is_kept(repo: GitRepo) -> None:
    repo.write(".agentops.toml", 'gates = [\n  "verdict",\n]\n\n[learnings]\nmin_changed_lines = 3\n')
    code, out = invoke("init", "--phase", "bound", "--no-signing")
    assert code == 0, out
    loaded = policy(repo.root)
    # Its own gates stay on (verdict); the defaults it turned off stay off.
    assert loaded.gates == ("context", "track", "scope", "privilege", "research", "isolate", "verdict")
    assert loaded.section(LearningsConfig).min_changed_lines == 3


def test_a_phase_never_turns_a_gate_off(repo: GitRepo) -> None:
    repo.write(".agentops.toml", 'gates = ["knowledge", "verdict"]\n')
    code, out = invoke("init", "--phase", "prepare", "--no-signing")
    assert code == 0, out
    assert policy(repo.root).gates == ("context", "track", "scope", "verdict", "knowledge")


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
