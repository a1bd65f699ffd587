"""A clone that lacks objects (a partial clone cut off from its server, a damaged
repository): the commits git cannot read are named and refused, never passed
and never a traceback; the rest of the range is judged; nothing is written."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import GitRepo
from conftest import agent_commit
from conftest import run_agentops


@pytest.fixture
def history(repo: GitRepo) -> dict[str, str]:
    """base, then three agent commits rewriting f.txt, then a human one: their ids."""
    repo.stage("a.txt", "a\n")
    repo.commit("base")
    repo.git("tag", "base")
    ids = {"base": repo.head()}
    for i in (1, 2, 3):
        ids[f"agent {i}"] = agent_commit(repo, "f.txt", f"content {i}\n", f"agent {i}")
    repo.stage("h.txt", "human\n")
    repo.commit("human work")
    ids["human"] = repo.head()
    return ids


def refs(repo: GitRepo) -> str:
    return repo.out("for-each-ref")


def lose_object(repo: GitRepo, oid: str) -> None:
    """Delete a loose object, as a damaged repository lost it."""
    path = repo.root / ".git" / "objects" / oid[:2] / oid[2:]
    path.chmod(0o644)
    path.unlink()
    missing = repo.git("cat-file", "-e", oid, check=False)
    assert missing.returncode != 0


def test_a_commit_whose_blob_is_missing_is_refused_by_name(repo: GitRepo, history: dict[str, str]) -> None:
    # The blob agent 2 wrote, which agent 3 replaced: gone, and not in the work tree either.
    blob = repo.out("rev-parse", f"{history['agent 2']}:f.txt")
    lose_object(repo, blob)
    before = refs(repo)
    code, out = run_agentops(repo, "check", "--range", "base..HEAD")
    assert code == 1, out
    assert "Traceback" not in out
    lines = out.splitlines()
    agent2 = next(line for line in lines if "agent 2" in line)
    assert agent2.startswith("FAIL")
    unreadable = [line for line in lines if "] commit-unreadable:" in line]
    # Agent 2 added the blob, agent 3 replaced it (its diff reads it too): both named.
    assert len(unreadable) == 2
    assert history["agent 2"][:12] in unreadable[0] and blob in unreadable[0]
    assert history["agent 3"][:12] in unreadable[1]
    assert any(line.startswith("??") and "agent 1" in line for line in lines)  # judged as ever
    assert refs(repo) == before  # nothing written


def test_json_names_the_unreadable_and_reads_the_rest(repo: GitRepo, history: dict[str, str]) -> None:
    lose_object(repo, repo.out("rev-parse", f"{history['agent 2']}:f.txt"))
    code, out = run_agentops(repo, "check", "--range", "base..HEAD", "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert data["passed"] is False
    by_subject = {c["subject"]: c for c in data["commits"]}
    assert by_subject["agent 2"]["patch_id"] is None
    assert [f["rule"] for f in by_subject["agent 2"]["findings"]] == ["commit-unreadable"]
    assert by_subject["agent 1"]["patch_id"] and by_subject["human work"]["patch_id"]
    assert by_subject["agent 1"]["findings"] == []


def test_one_unreadable_commit_is_a_clear_error(repo: GitRepo, history: dict[str, str]) -> None:
    blob = repo.out("rev-parse", f"{history['agent 2']}:f.txt")
    lose_object(repo, blob)
    code, out = run_agentops(repo, "check", "--commit", history["agent 2"])
    assert code == 2
    assert "Traceback" not in out
    line, = out.strip().splitlines()
    assert history["agent 2"][:12] in line and blob in line


def test_a_human_commit_no_gate_reads_is_not_refused(repo: GitRepo, history: dict[str, str]) -> None:
    """Fail closed where a gate judges; a commit no gate reads needs no diff."""
    lose_object(repo, repo.out("rev-parse", f"{history['human']}:h.txt"))
    repo.write("h.txt", "edited\n")  # else git diffs the work tree's copy
    code, out = run_agentops(repo, "check", "--range", f"{history['agent 3']}..HEAD")
    assert code == 0, out
    code, out = run_agentops(repo, "check", "--range", f"{history['agent 3']}..HEAD", "--format", "json")
    assert code == 0, out
    assert json.loads(out)["commits"][0]["patch_id"] is None  # said, not made up


def test_a_partial_clone_cut_off_from_its_server(repo: GitRepo, history: dict[str, str],
                                                 tmp_path: Path) -> None:
    repo.git("commit", "--allow-empty", "-q", "-m", "tip")
    server = tmp_path / "server.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo.root), str(server)], check=True, env=repo.env)
    subprocess.run(["git", "-C", str(server), "config", "uploadpack.allowFilter", "true"], check=True)
    clone_root = tmp_path / "partial"
    subprocess.run(["git", "clone", "-q", "--filter=blob:none", "--no-checkout", f"file://{server}",
                    str(clone_root)], check=True, env=repo.env)
    clone = GitRepo(clone_root, repo.env)
    assert clone.out("config", "remote.origin.promisor") == "true"
    shutil.move(str(server), str(tmp_path / "gone.git"))  # the server is out of reach
    code, out = run_agentops(clone, "check", "--range", "base..HEAD")
    assert code == 1, out
    assert "Traceback" not in out
    refused = [line for line in out.splitlines() if "] commit-unreadable:" in line]
    assert len(refused) == 3  # every agent commit: none of their blobs is here
    assert all("promisor remote" in line for line in refused)
    shutil.move(str(tmp_path / "gone.git"), str(server))  # back: git fetches what it lacks
    code, out = run_agentops(clone, "check", "--range", "base..HEAD")
    assert "commit-unreadable" not in out and "verdict-notes-missing" in out
