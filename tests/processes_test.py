"""A range is read in a constant number of git processes, whatever its length."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "perf"))
from generate import generate  # noqa: E402


def git_calls(repo: Path, shim_dir: Path, log: Path, *args: str) -> list[str]:
    log.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["PATH"] = f"{shim_dir}{os.pathsep}{env['PATH']}"
    env["AGENTOPS_GIT_LOG"] = str(log)
    proc = subprocess.run([sys.executable, "-m", "agentops_hooks.commands", *args], cwd=repo, env=env,
                          capture_output=True, text=True, check=False)
    assert proc.returncode in (0, 1), proc.stderr
    return [line for line in log.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A `git` first on PATH that logs each call, then runs the real git."""
    real = subprocess.run(["sh", "-c", "command -v git"], capture_output=True, text=True,
                          check=True).stdout.strip()
    d = tmp_path_factory.mktemp("shim")
    script = d / "git"
    script.write_text(f'#!/bin/sh\necho "$*" >> "$AGENTOPS_GIT_LOG"\nexec "{real}" "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return d


@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    base = tmp_path_factory.mktemp("ranges")
    return {n: (generate(base / str(n), n), base / str(n))[1] for n in (10, 1000)}


@pytest.mark.parametrize("fmt", ["text", "json"])  # json names every commit's patch-id
def test_git_processes_do_not_grow_with_the_range(
    repos: dict[int, Path], shim: Path, tmp_path: Path, fmt: str,
) -> None:
    counts = {}
    for n, repo in repos.items():
        root = subprocess.run(["git", "rev-list", "--max-parents=0", "HEAD"], cwd=repo,
                              capture_output=True, text=True, check=True).stdout.split()[0]
        calls = git_calls(repo, shim, tmp_path / "log", "check", "--range", f"{root}..HEAD",
                          "--format", fmt)
        counts[n] = calls
    assert len(counts[10]) == len(counts[1000]), counts
    # layout, range ends, policy at the base, rev-list, cat-file, diff-tree|patch-id,
    # config, and the notes (tip, ls-tree, cat-file): a handful, never per commit
    assert len(counts[1000]) <= 16, counts[1000]
    assert any(call.startswith("patch-id") for call in counts[1000])


def merges(root: Path, count: int, agent: bool) -> Path:
    """base, then `count` clean merges of one-commit branches into main (by an agent or not)."""
    trailer = "\n\nCo-authored-by: Claude <noreply@anthropic.com>\n" if agent else "\n"
    lines = ["commit refs/heads/main", "mark :1", "committer H <h@example.com> 0 +0000",
             "data 4", "base", "M 644 inline base.txt", "data 2", "b", ""]
    for i in range(count):
        side, merge, message = 2 * i + 2, 2 * i + 3, f"Merge b{i}{trailer}"
        lines += [f"commit refs/heads/b{i}", f"mark :{side}", "committer H <h@example.com> 0 +0000",
                  "data 4", f"b{i:02}", "from :1", f"M 644 inline b{i}.txt", "data 2", "s", "",
                  "commit refs/heads/main", f"mark :{merge}", "committer H <h@example.com> 0 +0000",
                  f"data {len(message)}", message, f"from :{merge - 2 if i else 1}",
                  f"merge :{side}", f"M 644 inline b{i}.txt", "data 2", "s", ""]
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, check=True,
                   input="\n".join(lines).encode())
    return root


@pytest.mark.parametrize("agent", [True, False])
def test_git_processes_do_not_grow_with_the_merges(
    shim: Path, tmp_path: Path, agent: bool,
) -> None:
    counts = {}
    for n in (2, 20):
        repo = merges(tmp_path / str(n), n, agent)
        base = subprocess.run(["git", "rev-list", "--max-parents=0", "main"], cwd=repo,
                              capture_output=True, text=True, check=True).stdout.strip()
        counts[n] = git_calls(repo, shim, tmp_path / "log", "check", "--range", f"{base}..main")
    assert len(counts[2]) == len(counts[20]), counts
    remerges = [call for call in counts[20] if "--remerge-diff" in call]
    # one git process remerges every agent merge; a human's merge costs none
    assert len(remerges) == (1 if agent else 0), counts[20]
