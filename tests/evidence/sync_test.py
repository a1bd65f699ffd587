"""Sharing notes between clones: fetch, push, sync, and many writers at once."""
from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import JUDGE
from conftest import GitRepo

WRITERS = 8
VERDICTS_EACH = 3


def agentops(repo: GitRepo, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agentops_hooks.commands", *args], cwd=repo.root,
                          env=repo.env, capture_output=True, text=True, check=False)


@pytest.fixture
def shared(repo: GitRepo, tmp_path: Path) -> tuple[Path, GitRepo]:
    """A bare repository with three commits, and the first clone of it (`repo`)."""
    bare = tmp_path / "shared.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    for i in range(3):
        repo.stage("f.txt", f"{i}\n")
        repo.commit(f"commit {i}")
    repo.git("remote", "add", "origin", str(bare))
    repo.git("push", "-q", "origin", "HEAD:refs/heads/main")
    return bare, repo


def clone(bare: Path, where: Path, env: dict[str, str]) -> GitRepo:
    subprocess.run(["git", "clone", "-q", str(bare), str(where)], check=True, env=env,
                   capture_output=True)
    r = GitRepo(where, env)
    r.git("checkout", "-q", "main")
    return r


def all_records(repo: GitRepo) -> list[dict]:  # type: ignore[type-arg]
    listing = repo.out("notes", "--ref=agentops/verdicts", "list")
    records = []
    for line in listing.splitlines():
        blob = line.split()[0]
        for text in repo.out("cat-file", "blob", blob).splitlines():
            records.append(json.loads(text))
    return records


def test_push_fetch_and_merge_keep_both_sides(shared: tuple[Path, GitRepo], tmp_path: Path) -> None:
    bare, a = shared
    b = clone(bare, tmp_path / "b", a.env)
    assert agentops(a, "verdict", "pass", "--judge", JUDGE, "--commit", "HEAD").returncode == 0
    assert agentops(b, "verdict", "fail", "--judge", "Other <o@example.com>", "--commit", "HEAD").returncode == 0
    assert agentops(a, "notes", "push").returncode == 0
    pushed = agentops(b, "notes", "push")  # rejected first: a pushed before; merged and retried
    assert pushed.returncode == 0, pushed.stderr
    assert "after 1 retries" in pushed.stdout
    assert agentops(a, "notes", "fetch").returncode == 0
    judges = sorted(r["judge"] for r in all_records(a))
    assert judges == sorted([JUDGE, "Other <o@example.com>"])
    assert agentops(a, "notes", "verify").returncode == 0


def test_sync_with_nothing_to_share(shared: tuple[Path, GitRepo]) -> None:
    _, a = shared
    proc = agentops(a, "notes", "sync")
    assert proc.returncode == 0, proc.stderr


def test_unknown_remote_is_a_clear_error(shared: tuple[Path, GitRepo]) -> None:
    _, a = shared
    for verb in ("fetch", "push", "sync"):
        proc = agentops(a, "notes", verb, "nowhere")
        assert proc.returncode == 2
        assert "no remote named 'nowhere' (configured remotes: origin)" in proc.stderr
        assert "Traceback" not in proc.stderr


def test_many_writers_at_once_lose_nothing(shared: tuple[Path, GitRepo], tmp_path: Path) -> None:
    bare, first = shared
    writers = [clone(bare, tmp_path / f"w{i}", first.env) for i in range(WRITERS)]
    commits = first.out("rev-list", "HEAD").split()

    def work(i: int) -> list[str]:
        w = writers[i]
        errors = []
        for j in range(VERDICTS_EACH):
            judge = f"Judge {i}-{j} <judge{i}-{j}@example.com>"
            proc = agentops(w, "verdict", "pass", "--judge", judge, "--commit", commits[j % len(commits)])
            if proc.returncode:
                errors.append(proc.stderr)
            proc = agentops(w, "notes", "sync")
            if proc.returncode:
                errors.append(proc.stderr)
        return errors

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        failures = [e for errs in pool.map(work, range(WRITERS)) for e in errs]
    assert failures == []

    check = clone(bare, tmp_path / "check", first.env)
    assert agentops(check, "notes", "fetch").returncode == 0
    judges = {r["judge"] for r in all_records(check)}
    expected = {f"Judge {i}-{j} <judge{i}-{j}@example.com>"
                for i in range(WRITERS) for j in range(VERDICTS_EACH)}
    assert judges == expected
    verify = agentops(check, "notes", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
