"""The commit-time entry point stays light: it runs on every commit."""
from __future__ import annotations

import json
import subprocess
import sys

from conftest import GitRepo
from conftest import agent_message

PROBE = """
import json, sys
from agentops_hooks.places import commit as hook
code = hook.main(sys.argv[1:])
heavy = sorted(m for m in ("pydantic", "click", "git", "jsonschema", "yaml", "unidiff")
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
    assert result == {"code": 1, "heavy": ["pydantic"]}


def test_a_checked_config_is_not_checked_again_until_it_changes(repo: GitRepo) -> None:
    """pydantic costs a commit a quarter of a second: once per config content, not per commit."""
    repo.stage("a.py", "\n".join(f"x{i} = {i}" for i in range(8)) + "\n")  # 8 changed lines
    repo.write(".agentops.toml", "[learnings]\nmin_changed_lines = 5\n")
    msg = repo.message_file(agent_message())
    first = probe(repo, str(msg))
    again = probe(repo, str(msg))
    assert "pydantic" in first["heavy"] and "pydantic" not in again["heavy"]
    assert first["code"] == again["code"] == 1
    out = subprocess.run([sys.executable, "-m", "agentops_hooks.places.commit", str(msg)], cwd=repo.root,
                         env=repo.env, capture_output=True, text=True, check=False).stdout
    assert "learning-missing" in out  # the cached policy is the file's (8 > 5 lines)
    repo.write(".agentops.toml", "[learnings]\nmin_changed_lines = 50\n")
    out = subprocess.run([sys.executable, "-m", "agentops_hooks.places.commit", str(msg)], cwd=repo.root,
                         env=repo.env, capture_output=True, text=True, check=False).stdout
    assert "learning-missing" not in out  # changed bytes: checked again, and the new value holds
    repo.write(".agentops.toml", "[learnings]\nmin_changed_lines = -1\n")
    for _ in range(2):  # a policy that fails the check is never kept
        proc = subprocess.run([sys.executable, "-m", "agentops_hooks.places.commit", str(msg)],
                              cwd=repo.root, env=repo.env, capture_output=True, text=True, check=False)
        assert proc.returncode == 2 and "min_changed_lines" in proc.stderr
    for cached in (repo.root / ".git" / "agentops").glob("config-*.pickle"):
        cached.write_bytes(b"not a pickle")
    repo.write(".agentops.toml", "[learnings]\nmin_changed_lines = 5\n")
    assert probe(repo, str(msg))["code"] == 1  # a broken cache file is only a miss


def test_quiet_flag_prints_nothing_on_pass(repo: GitRepo) -> None:
    repo.stage("a.py", "x = 1\n")
    msg = repo.message_file("Human\n")
    proc = subprocess.run([sys.executable, "-m", "agentops_hooks.places.commit", "--quiet", str(msg)],
                          cwd=repo.root, env=repo.env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0
    assert proc.stdout == ""


def test_push_mode_without_pre_commit_env_checks_unpushed_commits(repo: GitRepo) -> None:
    """A root push: pre-commit names only the local branch; nothing is on a remote yet."""
    repo.stage("a.py", "x = 1\n")
    repo.git("commit", "-q", "--no-verify", "-m", agent_message())
    env = {**repo.env, "PRE_COMMIT_LOCAL_BRANCH": "refs/heads/main", "PRE_COMMIT_REMOTE_NAME": "origin"}
    proc = subprocess.run([sys.executable, "-m", "agentops_hooks.places.commit", "--push"], cwd=repo.root,
                          env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert "refs/heads/main (commits on no remote yet)" in proc.stdout
