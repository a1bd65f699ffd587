"""Class 5: a diff is the same bytes in every clone and on the server, so what
the gates read and the patch-id a verdict binds are functions of the commits.

Attacks tried:

- a committed `.gitattributes` with `*.py -diff` (or `binary`) turns a Python
  change binary: its added lines (a secret) and its size (a learning's
  threshold) would vanish; committed earlier by a human, or in the agent's
  own commit;
- the clone's own settings do the same: `core.attributesFile`,
  `.git/info/attributes`, `core.bigFileThreshold`, a `diff.<driver>.binary`
  or `textconv` driver, `diff.external`;
- a judge whose clone has such settings binds a verdict to a patch-id that the
  bare server (which reads no work-tree attributes) would compute differently.
"""
from __future__ import annotations


import pytest

from conftest import json_output
from conftest import JUDGE
from conftest import SECRET_LINE
from conftest import GitRepo
from conftest import agent_commit
from conftest import push
from conftest import remote
from conftest import run_agentops
from conftest import text

BIG_CHANGE = "".join(f"value_{i} = {i}\n" for i in range(30))

# Each: what the clone is told, as (path under .git or None for config, content or key=value).
HOSTILE_CLONES = {
    "attributes file": [("config", "core.attributesFile={home}/attributes"),
                        ("home:attributes", "*.py binary\n")],
    "info/attributes": [("info/attributes", "* -diff\n")],
    "big file threshold": [("config", "core.bigFileThreshold=1")],
    "binary driver": [("info/attributes", "*.py diff=py\n"), ("config", "diff.py.binary=true")],
    "textconv driver": [("info/attributes", "*.py diff=py\n"), ("config", "diff.py.textconv=tr a-z A-Z <")],
    "external diff": [("config", "diff.external=false")],
}


def make_hostile(repo: GitRepo, kind: str) -> None:
    home = repo.root.parent / "home"
    for where, what in HOSTILE_CLONES[kind]:
        if where == "config":
            key, _, value = what.partition("=")
            repo.git("config", key, value.format(home=home))
        elif where.startswith("home:"):
            (home / where[5:]).write_text(what)
        else:
            target = repo.root / ".git" / where
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(what)


def patch_ids(repo: GitRepo, spec: str) -> dict[str, str]:
    code, out = run_agentops(repo, "check", "--range", spec, "--format", "json")
    assert code in (0, 1), out
    return {c["commit"]: c["patch_id"] for c in json_output(out, "check-range")["commits"]}


@pytest.fixture
def minus_diff(server: tuple) -> tuple:
    """A server whose main holds a human's `*.py -diff`."""
    bare, repo = server
    repo.stage(".gitattributes", "*.py -diff\n")
    repo.commit("Python diffs are binary here")
    assert push(repo, "main").returncode == 0
    return bare, repo


def test_an_attribute_does_not_hide_a_secret_or_the_size(minus_diff: tuple) -> None:
    bare, repo = minus_diff
    base = repo.head()
    agent = agent_commit(repo, "settings.py", SECRET_LINE + BIG_CHANGE)
    assert "Binary files" in repo.out("show", "--format=", agent)  # what plain git shows
    code, out = run_agentops(repo, "check", "--range", f"{base}..{agent}")
    assert code == 1, out
    assert "privilege-secret" in out and "settings.py:1" in out
    assert "learning-missing" in out and "31 changed lines" in out
    proc = push(repo, "main")
    assert proc.returncode != 0
    assert "privilege-secret" in text(proc) and "learning-missing" in text(proc)
    assert remote(bare, "refs/heads/main") == base


def test_an_attribute_in_the_agents_own_commit_hides_nothing(server: tuple) -> None:
    bare, repo = server
    base = repo.head()
    repo.stage(".gitattributes", "*.py binary\n")
    agent = agent_commit(repo, "settings.py", SECRET_LINE)
    code, out = run_agentops(repo, "check", "--range", f"{base}..{agent}", "--gate", "privilege")
    assert code == 1, out
    assert "privilege-secret" in out and "settings.py:1" in out


@pytest.mark.parametrize("kind", sorted(HOSTILE_CLONES))
def test_the_clone_settings_change_no_byte_of_the_patch(repo: GitRepo, kind: str) -> None:
    repo.stage("a.py", "a = 0\n")
    repo.commit("base")
    base = repo.head()
    agent_commit(repo, "settings.py", SECRET_LINE + BIG_CHANGE)
    agent_commit(repo, "a.py", "a = 1\n" + "\0binary\n", "A binary edit")
    plain = patch_ids(repo, f"{base}..HEAD")
    make_hostile(repo, kind)
    assert patch_ids(repo, f"{base}..HEAD") == plain
    code, out = run_agentops(repo, "check", "--range", f"{base}..HEAD", "--gate", "privilege")
    assert code == 1 and "settings.py:1" in out, out


@pytest.mark.parametrize("kind", ["attributes file", "textconv driver", "big file threshold"])
def test_a_verdict_from_a_clone_with_odd_settings_admits_on_the_bare_server(
    minus_diff: tuple, kind: str,
) -> None:
    bare, repo = minus_diff
    make_hostile(repo, kind)
    base = repo.head()
    agent = agent_commit(repo, "calc.py", BIG_CHANGE, "Agent work", "Learning: constants go in one module")
    code, out = run_agentops(repo, "verdict", "pass", "--judge", JUDGE, "--commit", agent)
    assert code == 0, out
    proc = push(repo, "main", "refs/notes/agentops/verdicts")
    assert proc.returncode == 0, text(proc)
    assert remote(bare, "refs/heads/main") == agent != base
