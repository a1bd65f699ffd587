"""The commit-time entry point stays light: it runs on every commit."""
from __future__ import annotations

import json
import subprocess
import sys

from conftest import GitRepo
from conftest import agent_message

PROBE = """
import json, sys
from agentops_hooks import hook
code = hook.main(sys.argv[1:])
heavy = sorted(m for m in ("pydantic", "click", "git", "jsonschema", "yaml", "unidiff", "dataclasses")
               if m in sys.modules)
print(json.dumps({"code": code, "heavy": heavy}))
"""


def probe(repo: GitRepo, *args: str) -> dict:  # type: ignore[type-arg]
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=repo.root, env=repo.env,
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_no_heavy_imports_without_a_config(repo: GitRepo) -> None:
    repo.stage("a.py", "x = 1\n")
    msg = repo.message_file(agent_message())
    result = probe(repo, str(msg))
    assert result == {"code": 1, "heavy": []}


def test_pydantic_only_when_a_config_file_exists(repo: GitRepo) -> None:
    repo.stage("a.py", "x = 1\n")
    repo.write(".agentops.toml", "[learnings]\nmin_changed_lines = 5\n")
    msg = repo.message_file(agent_message())
    result = probe(repo, str(msg))
    assert result == {"code": 1, "heavy": ["dataclasses", "pydantic"]}


def test_quiet_flag_prints_nothing_on_pass(repo: GitRepo) -> None:
    repo.stage("a.py", "x = 1\n")
    msg = repo.message_file("Human\n")
    proc = subprocess.run([sys.executable, "-m", "agentops_hooks.hook", "--quiet", str(msg)],
                          cwd=repo.root, env=repo.env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0
    assert proc.stdout == ""


def test_push_mode_without_pre_commit_env_checks_unpushed_commits(repo: GitRepo) -> None:
    """A root push: pre-commit names only the local branch; nothing is on a remote yet."""
    repo.stage("a.py", "x = 1\n")
    repo.git("commit", "-q", "--no-verify", "-m", agent_message())
    env = {**repo.env, "PRE_COMMIT_LOCAL_BRANCH": "refs/heads/main", "PRE_COMMIT_REMOTE_NAME": "origin"}
    proc = subprocess.run([sys.executable, "-m", "agentops_hooks.hook", "--push"], cwd=repo.root,
                          env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert "refs/heads/main (commits on no remote yet)" in proc.stdout
