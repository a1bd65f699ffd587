"""Gate I: the agent-facing context (files, learnings, @-includes) stays under its token budget."""
from __future__ import annotations

import subprocess
from typing import Any

import pytest
from click.testing import CliRunner

from agentops_hooks import gates
from agentops_hooks.change import CommitChange
from agentops_hooks.commands import cli
from agentops_hooks.gates.context import estimate_tokens
from agentops_hooks.gates.context import ObjectReader
from agentops_hooks.gates.context import glob_regex
from agentops_hooks.gates.context import includes
from agentops_hooks.gates.context import resolve_include
from agentops_hooks.git import Repo
from agentops_hooks.gates import policy
from conftest import GitRepo
from conftest import agent_message
from conftest import gate_findings
from conftest import run_hook

SMALL_WINDOW = "[context]\nwindow_tokens = 1000\n"   # budget: 400 tokens


def text(tokens: int, head: str = "") -> str:
    """A file that costs exactly `tokens` (the head line included)."""
    body = head + "\n" if head else ""
    return body + "x" * (4 * tokens - len(body))


def run(repo: GitRepo, message: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    return run_hook(repo, message, capsys, "--gate", "context")


def committed(repo: GitRepo, rev: str = "HEAD") -> list[Any]:
    return gate_findings("context", rev)


@pytest.fixture
def small(repo: GitRepo) -> GitRepo:
    repo.stage(".agentops.toml", SMALL_WINDOW)
    repo.stage("app.py", "x = 1\n")
    repo.commit("base")
    return repo


def count_processes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """Every process started from now on (git's, through subprocess)."""
    started: list[tuple[str, ...]] = []
    real = subprocess.Popen

    class Counted(real):  # type: ignore[valid-type,misc]
        def __init__(self, args: Any, *rest: Any, **kwargs: Any) -> None:
            started.append(tuple(str(a) for a in args))
            super().__init__(args, *rest, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", Counted)
    return started


# --- the budget -------------------------------------------------------------------

def test_claude_md_over_budget_is_refused(small: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    small.stage("CLAUDE.md", text(500))
    code, out = run(small, agent_message(), capsys)
    assert code == 1
    assert "[I Context Is Everything] context: context-over-budget" in out
    assert "the agent-facing context in the index is 500 tokens, 50.0% of the 1,000-token window" in out
    assert "over the budget of 400 tokens (context.budget_percent = 40%)" in out
    assert "CLAUDE.md 500 tokens (50.0%)" in out
    assert "cut at least 100 tokens from the largest files (CLAUDE.md)" in out
    assert "window_tokens" in out


@pytest.mark.parametrize(("tokens", "code"), [(300, 0), (400, 0), (401, 1)])
def test_the_budget_is_a_share_of_the_window(
    small: GitRepo, capsys: pytest.CaptureFixture[str], tokens: int, code: int,
) -> None:
    small.stage("AGENTS.md", text(tokens))
    assert run(small, agent_message(), capsys)[0] == code


def test_budget_percent_is_configurable(small: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    small.stage("CLAUDE.md", text(500))
    small.write(".agentops.toml", SMALL_WINDOW + "budget_percent = 60\n")
    code, out = run(small, agent_message(), capsys)
    assert code == 0, out


def test_default_window_is_200k_tokens_at_40_percent(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.stage("CLAUDE.md", text(80_000))
    assert run(repo, agent_message(), capsys)[0] == 0
    repo.stage("CLAUDE.md", text(80_001))
    code, out = run(repo, agent_message(), capsys)
    assert code == 1
    assert "over the budget of 80,000 tokens" in out


def test_every_configured_file_counts_together(small: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    small.stage("CLAUDE.md", text(150))
    small.stage("AGENTS.md", text(150))
    small.stage(".cursorrules", text(50))
    small.stage(".github/copilot-instructions.md", text(60))
    code, out = run(small, agent_message(), capsys)
    assert code == 1
    assert "is 410 tokens" in out
    for shown in ("CLAUDE.md 150 tokens (15.0%)", "AGENTS.md 150 tokens", ".cursorrules 50 tokens",
                  ".github/copilot-instructions.md 60 tokens (6.0%)"):
        assert shown in out


def test_human_change_passes_unless_everyone(small: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    small.stage("CLAUDE.md", text(500))
    code, out = run(small, "Human change\n", capsys)
    assert code == 0, out
    small.write(".agentops.toml", SMALL_WINDOW + 'required_for = "everyone"\n')
    code, out = run(small, "Human change\n", capsys)
    assert code == 1
    assert "context-over-budget" in out


def test_severity_warning_reports_without_refusing(small: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    small.stage("CLAUDE.md", text(500))
    small.write(".agentops.toml", SMALL_WINDOW + 'severity = "warning"\n')
    code, out = run(small, agent_message(), capsys)
    assert code == 0
    assert "warning: context-over-budget" in out


# --- what the change leaves, not the work tree ------------------------------------

def test_the_index_is_measured_not_the_work_tree(small: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    small.stage("CLAUDE.md", text(500))
    small.write("CLAUDE.md", "short now, but not staged\n")
    assert run(small, agent_message(), capsys)[0] == 1
    small.stage("CLAUDE.md", text(100))
    small.write("CLAUDE.md", text(5000))
    code, out = run(small, agent_message(), capsys)
    assert code == 0, out


def test_commit_a_measures_the_index_git_commits(small: GitRepo) -> None:
    small.stage("CLAUDE.md", text(100))
    small.commit("small context")
    small.install_agentops_hook("--gate", "context")
    small.write("CLAUDE.md", text(500))  # modified, not staged: `commit -a` takes it
    refused = small.commit(agent_message("Grow the context"), "-a", check=False)
    assert refused.returncode != 0
    assert b"context-over-budget" in refused.stdout + refused.stderr
    small.write("CLAUDE.md", text(200))
    small.commit(agent_message("Edit the context"), "-a")


def test_deleting_a_context_file_frees_the_budget(small: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    small.stage("CLAUDE.md", text(500))
    small.commit("human context")
    small.git("rm", "-q", "CLAUDE.md")
    code, out = run(small, agent_message(), capsys)
    assert code == 0, out


# --- @-includes ---------------------------------------------------------------------

def test_include_chain_is_counted_relative_to_each_file(small: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    small.stage("CLAUDE.md", text(150, "Read @docs/a.md first."))
    small.stage("docs/a.md", text(150, "@b.md"))           # docs/b.md, next to docs/a.md
    small.stage("docs/b.md", text(150, "- see @../notes/c.md"))
    small.stage("notes/c.md", text(20))
    small.stage("b.md", text(1000))                        # not the one docs/a.md means
    code, out = run(small, agent_message(), capsys)
    assert code == 1
    assert "is 470 tokens" in out
    assert "docs/a.md (@-included by CLAUDE.md) 150 tokens" in out
    assert "docs/b.md (@-included by docs/a.md) 150 tokens" in out
    assert "notes/c.md (@-included by docs/b.md) 20 tokens" in out
    assert " b.md" not in out.replace("docs/b.md", "")


def test_include_cycles_are_counted_once(small: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    small.stage("CLAUDE.md", text(150, "@CLAUDE.md @docs/a.md"))
    small.stage("docs/a.md", text(150, "@b.md"))
    small.stage("docs/b.md", text(150, "@a.md @../CLAUDE.md @./b.md"))
    code, out = run(small, agent_message(), capsys)
    assert code == 1
    assert "is 450 tokens" in out
    assert out.count("docs/a.md (@-included") == 1
    assert out.count("docs/b.md (@-included") == 1


def test_missing_includes_and_paths_outside_the_repo_are_not_counted(
    small: GitRepo, capsys: pytest.CaptureFixture[str],
) -> None:
    small.stage("CLAUDE.md", text(100, "@docs/later.md @~/.claude/mine.md @/etc/passwd @../up.md @docs"))
    small.stage("docs/other.md", "x\n")
    code, out = run(small, agent_message(), capsys)
    assert code == 0, out
    small.commit("context with a dangling include")
    small.stage("docs/later.md", text(400))   # only the include's target: still context
    code, out = run(small, agent_message(), capsys)
    assert code == 1
    assert "docs/later.md (@-included by CLAUDE.md) 400 tokens" in out


def test_includes_in_code_are_not_followed(small: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    fenced = "Example:\n```md\n@big.md\n```\nand `@big.md` inline, mail me@big.md\n"
    small.stage("CLAUDE.md", fenced)
    small.stage("big.md", text(1000))
    code, out = run(small, agent_message(), capsys)
    assert code == 0, out
    small.stage("CLAUDE.md", fenced + "Now for real: @big.md\n")
    code, out = run(small, agent_message(), capsys)
    assert code == 1
    assert "big.md (@-included by CLAUDE.md) 1,000 tokens" in out


# --- learnings ----------------------------------------------------------------------

def test_learnings_file_and_directory_count(small: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    small.stage("CLAUDE.md", text(100))
    small.stage("learnings.md", text(200))
    small.stage(".agents/learnings/2026-01-01-a.md", text(60))
    small.stage(".agents/learnings/deep/2026-01-02-b.md", text(60))
    code, out = run(small, agent_message(), capsys)
    assert code == 1
    assert "is 420 tokens" in out
    assert "learnings.md 200 tokens (20.0%)" in out
    assert ".agents/learnings/deep/2026-01-02-b.md 60 tokens" in out


def test_learnings_paths_come_from_the_learnings_config(small: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    small.write(".agentops.toml", SMALL_WINDOW + '[learnings]\nfile = "docs/LESSONS.md"\n'
                'directory = "lessons"\n')
    small.stage("learnings.md", text(1000))      # no longer the learnings file
    small.stage("docs/LESSONS.md", text(300))
    small.stage("lessons/one.md", text(200))
    code, out = run(small, agent_message(), capsys)
    assert code == 1
    assert "is 500 tokens" in out
    assert "learnings.md 1,000" not in out


# --- which files: globs ---------------------------------------------------------------

@pytest.mark.parametrize(("pattern", "path", "matched"), [
    ("CLAUDE.md", "CLAUDE.md", True),
    ("CLAUDE.md", "sub/CLAUDE.md", False),
    ("**/CLAUDE.md", "sub/deep/CLAUDE.md", True),
    ("**/CLAUDE.md", "CLAUDE.md", True),
    ("docs/agents/*.md", "docs/agents/a.md", True),
    ("docs/agents/*.md", "docs/agents/deep/a.md", False),
    (".cursor/rules/**", ".cursor/rules/a/b.mdc", True),
    ("notes/[ab].md", "notes/b.md", True),
    ("notes/[!ab].md", "notes/b.md", False),
    ("a?.md", "ab.md", True),
    ("a?.md", "a/.md", False),
    ("a[!x]b", "a/b", False),
])
def test_glob_semantics(pattern: str, path: str, matched: bool) -> None:
    assert bool(glob_regex(pattern).match(path)) is matched


def test_configured_globs_find_files_anywhere(small: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    small.write(".agentops.toml", SMALL_WINDOW + 'files = ["**/AGENTS.md", "docs/agents/*.md"]\n')
    small.stage("services/api/AGENTS.md", text(200))
    small.stage("docs/agents/style.md", text(150))
    small.stage("docs/agents/old/unused.md", text(1000))   # `*` stays in one directory
    small.stage("CLAUDE.md", text(1000))                   # no longer configured
    code, out = run(small, agent_message(), capsys)
    assert code == 0, out
    small.stage("AGENTS.md", text(100))
    code, out = run(small, agent_message(), capsys)
    assert code == 1
    assert "is 450 tokens" in out
    assert "services/api/AGENTS.md 200 tokens" in out


# --- changes that cannot move the budget are skipped ---------------------------------

@pytest.fixture
def over(small: GitRepo) -> GitRepo:
    """A tree already over budget (a human's doing), with an include."""
    small.stage("CLAUDE.md", text(450, "@docs/style.md"))
    small.stage("docs/style.md", text(10))
    small.commit("Human context")
    return small


def test_change_that_touches_no_context_is_skipped(over: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    over.stage("app.py", "x = 2\n")
    code, out = run(over, agent_message(), capsys)
    assert code == 0, out


@pytest.mark.parametrize("path", ["CLAUDE.md", "docs/style.md", "learnings.md",
                                  ".agents/learnings/new.md"])
def test_change_that_touches_context_is_measured(
    over: GitRepo, capsys: pytest.CaptureFixture[str], path: str,
) -> None:
    current = (over.root / path).read_text() if (over.root / path).exists() else ""
    over.stage(path, current + "one more line\n")
    code, out = run(over, agent_message(), capsys)
    assert code == 1
    assert "context-over-budget" in out


def test_renaming_an_included_file_away_touches_the_context(over: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    over.git("mv", "docs/style.md", "docs/moved.md")
    code, out = run(over, agent_message(), capsys)
    assert code == 1
    assert "docs/style.md" not in out.split("fix:")[0]


# --- the committed form, alone and in a range --------------------------------------

def test_a_commit_is_measured_in_its_tree(small: GitRepo) -> None:
    small.stage("CLAUDE.md", text(500))
    small.commit(agent_message("Big context"))
    sha = small.head()
    small.stage("CLAUDE.md", text(10))   # the index moved on; the commit did not
    (finding,) = committed(small)
    assert finding.rule == "context-over-budget"
    assert finding.commit == sha
    assert f"the agent-facing context in commit {sha[:12]} is 500 tokens" in finding.message
    assert f"agentops check --commit {sha[:12]}" in finding.fix
    small.commit(agent_message("Small context"))
    assert committed(small) == []


RANGE_STEPS = [
    ("app.py", "x = 2\n", "Code only", False),
    ("CLAUDE.md", text(450, "@docs/style.md"), "Grow the context", True),
    ("app.py", "x = 3\n", "Code on an over-budget tree", False),
    ("docs/style.md", text(20), "Edit the included file", True),
    ("CLAUDE.md", text(100, "@docs/style.md"), "Shrink the context", False),
    ("docs/style.md", text(30), "Edit the included file again", False),
]


@pytest.fixture
def history(small: GitRepo) -> list[str]:
    """Commits after `start`, oldest first, each refused or not as RANGE_STEPS says."""
    small.stage("CLAUDE.md", text(300, "@docs/style.md"))
    small.stage("docs/style.md", text(10))
    small.commit("Human context")
    small.git("tag", "start")
    shas = []
    for path, content, subject, _ in RANGE_STEPS:
        small.stage(path, content)
        small.commit(agent_message(subject))
        shas.append(small.head())
    return shas


def test_commits_judged_together_share_what_was_read(
    history: list[str], small: GitRepo, monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[str] = []
    real_ask = ObjectReader._ask

    def ask(self: ObjectReader, names: list[str]) -> None:
        asked.extend(names)
        real_ask(self, names)

    monkeypatch.setattr(ObjectReader, "_ask", ask)
    repo = Repo()
    config = policy(small.root)
    evidence = gates.Evidence(repo)
    changes = [CommitChange.load(repo, sha) for sha in history]
    refused, reads = [], []
    for change in changes:
        ctx = gates.Context(change, config, evidence, range_changes=changes)
        refused.append(bool(gates.run(ctx, ["context"])))
        reads.append(len(asked))
    assert refused == [over for *_, over in RANGE_STEPS]
    # "Code on an over-budget tree" follows a measured commit: skipped without a read.
    assert reads[2] == reads[1]
    assert reads[3] > reads[2]


def test_a_range_is_measured_where_the_context_changes(history: list[str]) -> None:
    result = CliRunner().invoke(cli, ["check", "--range", "start..HEAD", "--gate", "context", "--verbose"],
                                catch_exceptions=False)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line[:4] in ("ok  ", "FAIL")]
    assert [line.startswith("FAIL") for line in lines] == [over for *_, over in RANGE_STEPS]
    assert result.output.count("] context-over-budget:") == 2


def test_range_reads_do_not_grow_with_the_commits(small: GitRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    small.git("tag", "start")
    started = count_processes(monkeypatch)
    counts = []
    for n in (2, 12):
        for i in range(n):
            small.stage("CLAUDE.md", text(10 + i, f"@docs/{i}.md"))
            small.stage(f"docs/{i}.md", text(5, f"@{i + 1}.md"))
            small.commit(agent_message(f"Context {i}"))
        started.clear()
        result = CliRunner().invoke(cli, ["check", "--range", "start..HEAD", "--gate", "context", "--verbose"],
                                    catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert result.output.count("ok  ") == n
        counts.append(len(started))
        small.git("tag", "-f", "start")
    assert counts[0] == counts[1], started


def test_a_staged_change_is_read_in_one_git_process(
    small: GitRepo, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    small.stage("CLAUDE.md", text(50, "@docs/a.md @docs/b.md"))
    small.stage("docs/a.md", text(50, "@c.md"))
    small.stage("docs/b.md", text(50))
    small.stage("docs/c.md", text(50))
    small.stage("learnings.md", text(50))
    small.stage(".agents/learnings/x/y.md", text(50))
    small.commit("Human context")
    small.stage("docs/c.md", text(51))
    started = count_processes(monkeypatch)
    code, out = run(small, agent_message(), capsys)
    assert code == 0, out
    assert sum(1 for args in started if "cat-file" in args) == 1, started


# --- the pieces ----------------------------------------------------------------------

@pytest.mark.parametrize(("content", "tokens"), [
    ("", 0),
    ("abcd", 1),
    ("abcde", 2),
    ("x" * 400, 100),
    ("日本語のテキスト", 8),           # one token a character outside ASCII
    ("café", 2),                       # "caf" -> 1, "é" -> 1
])
def test_estimate_tokens(content: str, tokens: int) -> None:
    assert estimate_tokens(content) == tokens


@pytest.mark.parametrize(("content", "found"), [
    ("@a.md", ["a.md"]),
    ("See @docs/a.md, then @b.md.", ["docs/a.md", "b.md"]),
    ("(@a.md) x@b.md", []),                         # `@` not after whitespace
    ("(see @a.md)", ["a.md"]),
    ("mail bob@example.com", []),
    ("`@a.md` and ``x @b.md``", []),
    ("```\n@a.md\n```\n@b.md", ["b.md"]),
    ("~~~~\n@a.md\n~~~\n@still.md\n~~~~\n@c.md", ["c.md"]),
    ("@my\\ notes.md", ["my notes.md"]),
    ("  - @./x/y.md\n\t@../z.md", ["./x/y.md", "../z.md"]),
])
def test_includes(content: str, found: list[str]) -> None:
    assert includes(content) == found


@pytest.mark.parametrize(("including", "target", "path"), [
    ("CLAUDE.md", "docs/a.md", "docs/a.md"),
    ("docs/a.md", "b.md", "docs/b.md"),
    ("docs/a.md", "./b.md", "docs/b.md"),
    ("docs/a.md", "../c.md", "c.md"),
    ("docs/a.md", "../../c.md", None),
    ("CLAUDE.md", "~/.claude/x.md", None),
    ("CLAUDE.md", "/etc/passwd", None),
])
def test_resolve_include(including: str, target: str, path: str | None) -> None:
    assert resolve_include(including, target) == path
