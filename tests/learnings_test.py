"""Gate IX: a non-trivial agent change leaves a learning behind."""
from __future__ import annotations

import pytest

from agentops_hooks.gates.learnings import front_matter
from agentops_hooks.gates.learnings import is_docs
from agentops_hooks.config import LearningsConfig
from conftest import GitRepo
from conftest import agent_message
from conftest import run_hook

BIG = "".join(f"value_{i} = {i}\n" for i in range(20))
GOOD_FRONT = """---
date: 2026-11-20
author: claude-code session=42
area: billing/rounding
evidence: tests/test_rounding.py::test_half_even
confidence: high
kind: learning
---
Round money half-even; half-up drifts by a cent per thousand invoices.
"""


def run(repo: GitRepo, message: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    return run_hook(repo, message, capsys, "--gate", "learnings")


@pytest.fixture
def big(repo: GitRepo) -> GitRepo:
    repo.stage("README.md", "# project\n")
    repo.stage("learnings.md", "# Learnings\n\n## Old lesson (2026-01-01)\n\n- old\n")
    repo.commit("base")
    repo.stage("app.py", BIG)
    return repo


def test_large_agent_change_without_learning_is_refused(big: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(big, agent_message(), capsys)
    assert code == 1
    assert "[IX Extract Learnings] learnings: learning-missing" in out
    assert "20 changed lines" in out
    assert 'agentops learn "' in out


def test_small_change_needs_no_learning(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.stage("app.py", "x = 1\n")
    code, out = run(repo, agent_message(), capsys)
    assert code == 0, out


def test_threshold_is_configurable(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write(".agentops.toml", "[learnings]\nmin_changed_lines = 0\n")
    repo.stage("app.py", "x = 1\n")
    code, out = run(repo, agent_message(), capsys)
    assert code == 1


def test_human_change_needs_no_learning(big: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(big, "Human change\n", capsys)
    assert code == 0, out


def test_learning_trailer_counts(big: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(big, agent_message("Add", "Learning: constants belong in one module"), capsys)
    assert code == 0, out


def test_empty_learning_trailer_does_not_count(big: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(big, agent_message("Add", "Learning:"), capsys)
    assert code == 1


def test_new_dated_section_with_bullet_counts(big: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    big.stage("learnings.md", "# Learnings\n\n## Old lesson (2026-01-01)\n\n- old\n\n"
                              "## Constants (2026-11-21)\n\n- keep them in one module\n")
    code, out = run(big, agent_message(), capsys)
    assert code == 0, out


@pytest.mark.parametrize("added", [
    "## Constants (2026-11-21)\n\n",                        # no bullet
    "## Constants\n\n- no date\n",                          # no date
    "## Constants (2026-13-45)\n\n- impossible date\n",     # not a date
    "- a bullet under the old section\n",                    # not a new section
    "### Constants (2026-11-21)\n\n- wrong level\n",        # not a ## section
])
def test_not_a_new_section(big: GitRepo, capsys: pytest.CaptureFixture[str], added: str) -> None:
    big.stage("learnings.md", "# Learnings\n\n## Old lesson (2026-01-01)\n\n- old\n" + added)
    code, out = run(big, agent_message(), capsys)
    assert code == 1, added


def test_learnings_file_is_configurable(big: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    big.write(".agentops.toml", '[learnings]\nfile = "docs/LESSONS.md"\n')
    big.stage("docs/LESSONS.md", "## Constants (2026-11-21)\n\n- one module\n")
    code, out = run(big, agent_message(), capsys)
    assert code == 0, out


def test_learning_file_with_valid_front_matter_counts(big: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    big.stage(".agents/learnings/2026-11-20-rounding.md", GOOD_FRONT)
    code, out = run(big, agent_message(), capsys)
    assert code == 0, out


@pytest.mark.parametrize(("broken", "says"), [
    (GOOD_FRONT.replace("kind: learning", "kind: rumour"), "kind"),
    (GOOD_FRONT.replace("confidence: high\n", ""), "confidence"),
    (GOOD_FRONT.replace("date: 2026-11-20", "date: yesterday"), "date"),
    (GOOD_FRONT.replace("confidence: high", "confidence: 7"), "confidence"),
    ("Just text, no front matter\n", "front matter"),
    (GOOD_FRONT.split("---\nRound")[0] + "---\n", "empty"),
])
def test_learning_file_that_fails_the_schema_is_named(
    big: GitRepo, capsys: pytest.CaptureFixture[str], broken: str, says: str,
) -> None:
    big.stage(".agents/learnings/bad.md", broken)
    code, out = run(big, agent_message(), capsys)
    assert code == 1
    assert ".agents/learnings/bad.md" in out
    assert says in out


def test_docs_only_change_is_exempt_unless_configured(big: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    big.git("reset", "-q")
    big.stage("docs/guide.md", BIG)
    code, out = run(big, agent_message(), capsys)
    assert code == 0, out
    big.write(".agentops.toml", "[learnings]\nexempt_docs_only = false\n")
    code, out = run(big, agent_message(), capsys)
    assert code == 1


def test_binary_file_counts_no_lines(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.stage("blob.bin", bytes(range(256)) * 40)
    code, out = run(repo, agent_message(), capsys)
    assert code == 0, out


def test_front_matter_reader() -> None:
    data, body = front_matter(GOOD_FRONT) or ({}, "")
    assert data["confidence"] == "high"
    assert data["date"] == "2026-11-20"
    assert body.startswith("Round money")
    assert front_matter("---\nno closing line\n") is None
    assert front_matter('---\nconfidence: 0.5\nquoted: "a: b"\n---\n') == ({"confidence": 0.5, "quoted": "a: b"}, "")


@pytest.mark.parametrize(("path", "docs"), [
    ("README.md", True), ("docs/deep/page.html", True), ("src/app.py", False),
    ("notes.txt", True), ("src/docs.py", False),
])
def test_docs_patterns(path: str, docs: bool) -> None:
    assert is_docs(path, LearningsConfig()) is docs
