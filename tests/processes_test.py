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
    proc = subprocess.run([sys.executable, "-m", "agentops_hooks.cli", *args], cwd=repo, env=env,
                          capture_output=True, text=True, check=False)
    assert proc.returncode in (0, 1), proc.stderr
    return [line.split()[0] for line in log.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A `git` first on PATH that logs each call, then runs the real git."""
    real = subprocess.run(["sh", "-c", "command -v git"], capture_output=True, text=True,
                          check=True).stdout.strip()
    d = tmp_path_factory.mktemp("shim")
    script = d / "git"
    script.write_text(f'#!/bin/sh\necho "$1 $2" >> "$AGENTOPS_GIT_LOG"\nexec "{real}" "$@"\n')
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
    assert "patch-id" in counts[1000]
