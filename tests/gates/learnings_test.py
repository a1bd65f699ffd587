"""Gate IX: a non-trivial agent change leaves a learning behind."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from agentops_hooks.gates.learnings import front_matter
from agentops_hooks.gates.learnings import is_docs
from agentops_hooks.gates.learnings import learning_problem
from agentops_hooks.gates.learnings import LearningsConfig
from conftest import GitRepo
from conftest import agent_message
from conftest import gate_findings
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


@pytest.mark.parametrize(("lines", "refused"), [(10, False), (11, True)])
def test_the_threshold_is_over_min_changed_lines_not_at_it(
        repo: GitRepo, capsys: pytest.CaptureFixture[str], lines: int, refused: bool) -> None:
    # The default is 10: a change of exactly 10 changed lines is trivial, 11 is not.
    repo.stage("app.py", "".join(f"v{i} = {i}\n" for i in range(lines)))
    code, out = run(repo, agent_message(), capsys)
    assert (code, "learning-missing" in out) == ((1, True) if refused else (0, False)), out
    if refused:
        assert f"of {lines} changed lines (over learnings.min_changed_lines = 10)" in out


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
    big.stage("docs/LESSONS.md", "## Constants (2026-11-21)\n\n- keep constants in one module\n")
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


def test_a_binary_file_counts_its_lines(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.stage("blob.bin", bytes(range(256)) * 40)  # 41 lines as a --text diff reads them
    code, out = run(repo, agent_message(), capsys)
    assert code == 1, out
    assert "learning-missing" in out and "41 changed lines" in out


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


# --- a learning must say something ------------------------------------------------

PLACEHOLDERS = [
    ("x", "is a placeholder"), ("X", "is a placeholder"), ("none", "is a placeholder"),
    ("n/a", "is a placeholder"), ("N/A.", "is a placeholder"), ("na", "is a placeholder"),
    ("todo", "is a placeholder"), ("TODO:", "is a placeholder"), ("tbd", "is a placeholder"),
    ("wip", "is a placeholder"), ("-", "has no words"), (".", "has no words"),
    ("...", "has no words"), ("?", "has no words"), ("learning", "is a placeholder"),
    ("Lesson", "is a placeholder"), ("nothing", "is a placeholder"),
    ("No learning", "is a placeholder"), ("nothing learned", "is a placeholder"),
    ("Fixed it!", "is a placeholder"), ("<lesson>", "is a placeholder"),
    ("<what this change taught>", "is a placeholder"),
    ("<the thing I will write later>", "is a template slot"),
    ("Lorem ipsum dolor sit amet", "is a placeholder"), ("'none'", "is a placeholder"),
    ("“n/a”", "is a placeholder"), ("1234 5678", "has no words"), ("!!! ???", "has no words"),
    ("wip wip wip", "repeats one word"), ("todo tbd wip", "is only placeholder words"),
    ("x y z", "is only single letters"),
]
SHORT = [("idempotency", "1 word"), ("cache bug", "2 words"), ("see RFC-7231", "2 words")]
REFUSED = [
    *[pytest.param(value, "learning-placeholder", why, id=value) for value, why in PLACEHOLDERS],
    *[pytest.param(value, "learning-too-short",
                   f"is too short: {words}, policy asks for at least 3 (learnings.min_words)", id=value)
      for value, words in SHORT],
]


def learning_run(repo: GitRepo, value: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    return run(repo, agent_message("Add", f"Learning: {value}"), capsys)


@pytest.mark.parametrize(("value", "rule", "why"), REFUSED)
def test_placeholder_or_short_trailer_is_refused(
    big: GitRepo, capsys: pytest.CaptureFixture[str], value: str, rule: str, why: str,
) -> None:
    code, out = learning_run(big, value, capsys)
    assert code == 1, out
    assert f"[IX Extract Learnings] learnings: {rule}" in out
    assert f'Not accepted: the `Learning:` trailer "{value}" {why}' in out
    assert "fix: say what this change taught, in at least 3 words: " in out


@pytest.mark.parametrize("value", [
    "constants belong in one module", "Retry only idempotent requests",
    "缓存需要大小上限",  # no spaces between words in Chinese: each character counts
    "the 4b825dc tree is empty; git hard-codes it",
])
def test_real_learning_passes(big: GitRepo, capsys: pytest.CaptureFixture[str], value: str) -> None:
    code, out = learning_run(big, value, capsys)
    assert code == 0, out


@pytest.mark.parametrize(("value", "passes"), [
    ("one two three four five", True), ("one two three four", False),
    ("one two three four https://example.com/five", False),  # a link is not a word
])
def test_min_words_boundary(big: GitRepo, capsys: pytest.CaptureFixture[str], value: str, passes: bool) -> None:
    big.write(".agentops.toml", "[learnings]\nmin_words = 5\n")
    code, out = learning_run(big, value, capsys)
    assert (code == 0) is passes, out
    if not passes:
        assert "learning-too-short" in out and "4 words" in out
        assert "policy asks for at least 5 (learnings.min_words)" in out


def test_default_boundary_is_three_words(big: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    assert learning_run(big, "keep constants together", capsys)[0] == 0
    code, out = learning_run(big, "keep constants", capsys)
    assert code == 1 and "2 words, policy asks for at least 3" in out


def test_min_words_one_takes_one_word_but_never_a_placeholder(
    big: GitRepo, capsys: pytest.CaptureFixture[str],
) -> None:
    big.write(".agentops.toml", "[learnings]\nmin_words = 1\n")
    code, out = learning_run(big, "idempotency", capsys)
    assert code == 0, out
    code, out = learning_run(big, "TODO", capsys)
    assert code == 1 and "learning-placeholder" in out
    assert 'the `Learning:` trailer "TODO" is a placeholder, not a lesson' in out
    assert "in at least 1 word: " in out


def test_one_good_trailer_among_placeholders_counts(big: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(big, agent_message("Add", "Learning: x", "Learning: constants live in config.py"), capsys)
    assert code == 0, out


def test_every_refused_trailer_is_named(big: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(big, agent_message("Add", "Learning: x", "Learning: cache bug"), capsys)
    assert code == 1
    assert "learning-placeholder" in out  # the worse of the two names the finding
    assert 'the `Learning:` trailer "x" is a placeholder, not a lesson' in out
    assert 'the `Learning:` trailer "cache bug" is too short: 2 words' in out


def test_invisible_padding_is_shown(big: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = learning_run(big, "\u200bx\u200b", capsys)
    assert code == 1
    assert '"\\u200bx\\u200b" is a placeholder' in out


def big_section(repo: GitRepo, body: str) -> None:
    repo.stage("learnings.md", "# Learnings\n\n## Old lesson (2026-01-01)\n\n- old\n\n"
                               f"## Constants (2026-11-21)\n\n{body}")


LEARNING_FILE = ".agents/learnings/2026-11-20-rounding.md"


@pytest.mark.parametrize(("form", "body", "rule", "says"), [
    ("section", "- x\n", "learning-placeholder", 'learnings.md section `Constants`: "x" is a placeholder'),
    ("section", "- n/a\n- todo\n", "learning-placeholder",
     'learnings.md section `Constants`: "n/a todo" is only placeholder words'),
    ("section", "- one module\n", "learning-too-short",
     'learnings.md section `Constants`: "one module" is too short: 2 words'),
    ("file", "x\n", "learning-placeholder", f'{LEARNING_FILE}: the learning itself "x" is a placeholder'),
    ("file", "TBD\n", "learning-placeholder", f'{LEARNING_FILE}: the learning itself "TBD" is a placeholder'),
    ("file", "Round half-even.\n", "learning-too-short",
     f'{LEARNING_FILE}: the learning itself "Round half-even." is too short: 2 words'),
])
def test_placeholder_section_or_file_is_refused(
    big: GitRepo, capsys: pytest.CaptureFixture[str], form: str, body: str, rule: str, says: str,
) -> None:
    if form == "section":
        big_section(big, body)
    else:
        big.stage(LEARNING_FILE, GOOD_FRONT.split("Round money")[0] + body)
    code, out = run(big, agent_message(), capsys)
    assert code == 1
    assert f"learnings: {rule}" in out
    assert says in out


@pytest.mark.parametrize("body", [
    "- keep them\n- in one module\n",              # the bullets' words together
    "- keep them in one\n  module, not scattered\n",  # a bullet wrapped onto a second line
])
def test_section_bullets_are_read_together(big: GitRepo, capsys: pytest.CaptureFixture[str], body: str) -> None:
    big_section(big, body)
    code, out = run(big, agent_message(), capsys)
    assert code == 0, out


def test_placeholder_in_a_commit_already_made_is_refused(big: GitRepo) -> None:
    big.commit(agent_message("Add", "Learning: n/a"), "--no-verify")
    found = gate_findings("learnings")
    assert [f.rule for f in found] == ["learning-placeholder"]
    assert 'the `Learning:` trailer "n/a" is a placeholder' in found[0].message
    assert found[0].fix.startswith("say what this change taught, in at least 3 words: ")


DOCS = Path(__file__).parents[2] / "docs"


def test_formats_md_examples_are_what_the_gate_does() -> None:
    """The examples in formats.md's "What counts as a learning" are judged as it says."""
    text = (DOCS / "formats.md").read_text(encoding="utf-8")
    section = text.split("## What counts as a learning", 1)[1].split("\n## ", 1)[0]
    counts = re.findall(r"^\| `Learning: (.*?)` \| (yes|no)", section, re.MULTILINE)
    assert len(counts) >= 5
    for learning, verdict in counts:
        assert (learning_problem(learning, 3) is None) is (verdict == "yes"), learning
    placeholders = re.findall(r"^\| (?:has|is|starts|repeats)[^|]*\| (.*) \|$", section, re.MULTILINE)
    examples = [e for row in placeholders for e in re.findall(r"`([^`]+)`", row)]
    assert len(examples) >= 20
    for example in examples:
        found = learning_problem(example, 1)
        assert found is not None and found[0] == "placeholder", example
