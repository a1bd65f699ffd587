"""Placeholder learnings: an agent satisfies factor IX with a learning that says nothing.

Gate IX asks a non-trivial agent change for a learning. The cheapest way past
it is a learning in form only, so each test below plays one, with real git,
and asserts it is refused, by rule id and with the rejected text quoted, at
all three places the gate runs: at commit time (the commit-msg hook), by
`agentops check --range` (CI), and by `agentops pre-receive` on a push to a
bare repository (where `--no-verify` cannot reach). The variants, in the order
an agent would try them:

- `Learning: x`, then `Learning: .`, `Learning: TODO`, `Learning: <lesson>`
  (our own fix line's slot) and `Learning: fixed the bug` (three words);
- three placeholder words: `Learning: n/a n/a n/a`, `Learning: todo tbd wip`;
- three `Learning:` trailers, each a placeholder;
- unicode: a fullwidth `ｘ`, a Cyrillic `ТОDО`, `x` padded with zero-width
  spaces, `TODO` padded with word joiners, `x` padded with Hangul fillers
  (a letter to Python, invisible on screen);
- a reference instead of a lesson: only a URL, only a commit id;
- the other two forms: a new learnings.md section whose bullet is `- x`, one
  whose three bullets are `- n/a`, and a new `.agents/learnings/` file with
  valid front matter and the body `x`.

A real learning passes in all three places, so a refusal here is the
placeholder's and no other gate's.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from agentops_hooks.commands import cli
from conftest import GitRepo
from conftest import bare_server
from conftest import agent_message
from conftest import run_hook

BIG = "".join(f"limit_{i} = {i}\n" for i in range(20))
POLICY = 'gates = ["learnings"]\n'
LEARNINGS = "# Learnings\n\n## Clocks (2026-01-02)\n\n- use time.monotonic for intervals\n"
FRONT = """---
date: 2026-11-21
author: claude-code session=42
area: limits
evidence: tests/test_limits.py
confidence: high
kind: learning
---
"""
COMMIT_ID = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

# (form, learning text, how the refusal quotes it)
ATTACKS = [
    pytest.param("trailer", "x", '"x"', id="x"),
    pytest.param("trailer", ".", '"."', id="dot"),
    pytest.param("trailer", "TODO", '"TODO"', id="todo"),
    pytest.param("trailer", "<lesson>", '"<lesson>"', id="fix-line-slot"),
    pytest.param("trailer", "fixed the bug", '"fixed the bug"', id="three-empty-words"),
    pytest.param("trailer", "n/a n/a n/a", '"n/a n/a n/a"', id="na-three-times"),
    pytest.param("trailer", "todo tbd wip", '"todo tbd wip"', id="three-placeholders"),
    pytest.param("trailers", "x", '"x"', id="three-trailers"),
    pytest.param("trailer", "\uff58", '"\uff58"', id="fullwidth-x"),
    pytest.param("trailer", "\u0422\u041eD\u041e", '"\u0422\u041eD\u041e"', id="cyrillic-todo"),
    pytest.param("trailer", "\u200bx\u200b", '"\\u200bx\\u200b"', id="zero-width-x"),
    pytest.param("trailer", "\u2060TODO\u2060", '"\\u2060TODO\\u2060"', id="word-joiner-todo"),
    pytest.param("trailer", "x\u3164\u3164", '"x\u3164\u3164"', id="hangul-filler-x"),
    pytest.param("trailer", "https://example.com/issues/42", '"https://example.com/issues/42"',
                 id="only-a-url"),
    pytest.param("trailer", COMMIT_ID, f'"{COMMIT_ID}"', id="only-a-commit-id"),
    pytest.param("section", "- x\n", '"x"', id="section-bullet-x"),
    pytest.param("section", "- n/a\n- n/a\n- n/a\n", '"n/a n/a n/a"', id="section-three-na"),
    pytest.param("file", "x\n", '"x"', id="learning-file-x"),
]
REAL = "limits live in one module, read once at start-up"


def attack(repo: GitRepo, form: str, text: str) -> str:
    """Stage a 20-line agent change carrying the learning; its commit message."""
    repo.stage("limits.py", BIG)
    if form == "trailer":
        return agent_message("Add limits", f"Learning: {text}")
    if form == "trailers":
        return agent_message("Add limits", *[f"Learning: {text}"] * 3)
    if form == "section":
        repo.stage("learnings.md", LEARNINGS + f"\n## Limits (2026-11-21)\n\n{text}")
    else:
        repo.stage(".agents/learnings/2026-11-21-limits.md", FRONT + text)
    return agent_message("Add limits")


@pytest.fixture
def base(repo: GitRepo) -> GitRepo:
    """A human's first commit: the policy (only gate IX, so only it can refuse) and a learning."""
    repo.stage(".agentops.toml", POLICY)
    repo.stage("learnings.md", LEARNINGS)
    repo.commit("base")
    repo.git("tag", "base")
    return repo


def assert_refused(out: str, shown: str) -> None:
    # The hook and the range report print a finding differently; both name the rule.
    assert "learning-placeholder" in out and "IX" in out, out
    assert f"{shown} " in out and "Not accepted: " in out, out
    assert "say what this change taught, in at least 3 words" in out, out


@pytest.mark.parametrize(("form", "text", "shown"), ATTACKS)
def test_refused_at_commit_time(base: GitRepo, capsys: pytest.CaptureFixture[str],
                                form: str, text: str, shown: str) -> None:
    code, out = run_hook(base, attack(base, form, text), capsys, "--gate", "learnings")
    assert code == 1
    assert_refused(out, shown)


@pytest.mark.parametrize(("form", "text", "shown"), ATTACKS)
def test_refused_by_a_range_check(base: GitRepo, form: str, text: str, shown: str) -> None:
    base.commit(attack(base, form, text), "--no-verify")
    result = CliRunner().invoke(cli, ["check", "--range", "base..HEAD"], catch_exceptions=False)
    assert result.exit_code == 1
    assert_refused(result.output, shown)


@pytest.fixture
def server(base: GitRepo, tmp_path: Path) -> Path:
    """A bare repository holding `base`, with `agentops pre-receive` as its hook."""
    bare = bare_server(base, tmp_path)
    base.git("push", "-q", "origin", "main")
    return bare


def server_tip(bare: Path) -> str:
    return subprocess.run(["git", "rev-parse", "main"], cwd=bare, capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.mark.parametrize(("form", "text", "shown"), ATTACKS)
def test_refused_on_push(base: GitRepo, server: Path, form: str, text: str, shown: str) -> None:
    before = server_tip(server)
    base.commit(attack(base, form, text), "--no-verify")
    proc = base.git("push", "origin", "main", check=False)
    out = proc.stdout.decode() + proc.stderr.decode()
    assert proc.returncode != 0
    assert "pre-receive hook declined" in out
    assert_refused(out, shown)
    assert server_tip(server) == before


def test_a_real_learning_passes_everywhere(base: GitRepo, server: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    message = attack(base, "trailer", REAL)
    code, out = run_hook(base, message, capsys, "--gate", "learnings")
    assert code == 0, out
    base.commit(message, "--no-verify")
    result = CliRunner().invoke(cli, ["check", "--range", "base..HEAD"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    proc = base.git("push", "origin", "main", check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    assert server_tip(server) == base.head()
