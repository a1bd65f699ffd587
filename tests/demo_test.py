"""`agentops demo`: the story runs end to end, on the signed path."""
from __future__ import annotations

import subprocess
import sys

from conftest import GitRepo


def test_the_demo_shows_the_signed_path(repo: GitRepo) -> None:
    proc = subprocess.run([sys.executable, "-m", "agentops_hooks.commands", "demo"], cwd=repo.root,
                          env=repo.env, capture_output=True, text=True, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert out.rstrip().endswith("agentops demo: every step behaved as expected")
    assert "agentops: refused: this is a Claude Code session" in out
    assert "$ agentops verdict pass --sign " in out and "Verdict-Signature: U1NIU0lH" in out
    assert "verdict-unsigned" in out  # the typed verdict is refused
    # the judged commit: the tests ran in a fresh worktree, the signed PASS admitted it
    judged = out.split("$ agentops judge --staged", 1)[1]
    assert "agentops: judge tests: PASS in " in judged.split("$ git commit", 1)[0]
    assert "agentops: this commit passed verdict" in judged.split("$ agentops judge --explain", 1)[0]
    assert "judge tests (check): PASS, exit 0" in judged and "Ran 1 test" in judged
    assert "PASS by CI Judge <ci-judge@example.com>" in judged and "(signed)" in judged
