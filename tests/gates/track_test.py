"""Gate II: agent state is not left out of git, and evidence trailers name tracked files."""
from __future__ import annotations

import subprocess
from typing import Any

import pytest

from agentops_hooks import gates
from agentops_hooks.change import load_commits
from agentops_hooks.gates.track import evidence_path
from agentops_hooks.git import Repo
from agentops_hooks.gates import policy
from conftest import GitRepo
from conftest import agent_message
from conftest import gate_findings
from conftest import run_hook


def run(repo: GitRepo, message: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    return run_hook(repo, message, capsys, "--gate", "track")


def committed(repo: GitRepo, rev: str = "HEAD") -> list[Any]:
    return gate_findings("track", rev)


@pytest.fixture
def base(repo: GitRepo) -> GitRepo:
    repo.stage("app.py", "x = 1\n")
    repo.stage(".agents/research/known.md", "# What we found\n")
    repo.commit("base")
    repo.stage("app.py", "x = 2\n")
    return repo


# --- agent state under .agents -------------------------------------------------------

def test_untracked_state_is_refused(base: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    base.write(".agents/handoff.md", "next: parser\n")
    base.write(".agents/plans/p 1.md", "plan\n")
    code, out = run(base, agent_message(), capsys)
    assert code == 1
    assert "[II Track Everything in Git] track: track-untracked-state" in out
    assert "2 file(s) of agent state under .agents/ are not in git: .agents/handoff.md, .agents/plans/p 1.md" in out
    assert "fix: git add -- .agents/handoff.md '.agents/plans/p 1.md'" in out


def test_ignored_state_is_refused_naming_the_rule(base: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    base.stage(".gitignore", "*.log\n.agents/cache/\n")
    base.write(".agents/cache/session.json", "{}\n")
    base.write(".agents/run.log", "log\n")
    code, out = run(base, agent_message(), capsys)
    assert code == 1
    assert "track-ignored-state" in out
    assert "track-untracked-state" not in out
    assert "2 file(s) of agent state under .agents/ are ignored by git" in out
    assert "`*.log` at .gitignore:1" in out and "`.agents/cache/` at .gitignore:2" in out
    assert ".agents/cache/session.json, .agents/run.log" in out
    assert "git add -f -- .agents/cache/session.json .agents/run.log" in out


def test_info_exclude_counts_as_ignored(base: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    (base.root / ".git" / "info").mkdir(exist_ok=True)
    (base.root / ".git" / "info" / "exclude").write_text(".agents/scratch\n")
    base.write(".agents/scratch", "x\n")
    code, out = run(base, agent_message(), capsys)
    assert code == 1
    assert "`.agents/scratch` at .git/info/exclude:1" in out


def test_tracked_state_passes(base: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    base.write(".agents/handoff.md", "next: parser\n")
    base.git("add", ".agents")
    code, out = run(base, agent_message(), capsys)
    assert code == 0, out
    assert "passed track" in out


def test_no_state_directory_passes(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.stage("app.py", "x = 1\n")
    code, out = run(repo, agent_message(), capsys)
    assert code == 0, out


def test_untracked_files_elsewhere_are_not_state(base: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    base.write("scratch.txt", "x\n")
    base.write("agents/notes.md", "x\n")
    code, out = run(base, agent_message(), capsys)
    assert code == 0, out


def test_state_dir_is_configurable(base: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    base.write(".agentops.toml", '[track]\nstate_dir = "agent-state/"\n')
    base.write(".agents/untracked.md", "x\n")
    base.write("agent-state/run.md", "x\n")
    code, out = run(base, agent_message(), capsys)
    assert code == 1
    assert "agent-state/run.md" in out
    assert ".agents/untracked.md" not in out


def test_many_untracked_files_are_counted_and_added_as_a_directory(
    base: GitRepo, capsys: pytest.CaptureFixture[str],
) -> None:
    for i in range(12):
        base.write(f".agents/log/{i:02}.md", "x\n")
    code, out = run(base, agent_message(), capsys)
    assert code == 1
    assert ".agents/log/09.md and 2 more" in out
    assert "fix: git add -- .agents   then" in out


def test_commit_a_sees_its_own_index(base: GitRepo) -> None:
    base.install_agentops_hook("--gate", "track")
    base.write(".agents/handoff.md", "next\n")
    refused = base.commit(agent_message("Work"), "-a", check=False)
    assert refused.returncode != 0
    assert b"track-untracked-state" in refused.stdout + refused.stderr
    base.git("add", ".agents/handoff.md")
    base.commit(agent_message("Work"), "-a")


def test_a_commit_already_made_has_no_work_tree_to_judge(base: GitRepo) -> None:
    base.commit(agent_message("Work"))
    base.write(".agents/handoff.md", "left behind\n")
    assert committed(base) == []


# --- evidence trailers -------------------------------------------------------------

@pytest.mark.parametrize("key", ["Research", "Verdict-Evidence", "Evidence", "research"])
def test_reference_to_a_missing_file_is_refused(
    base: GitRepo, capsys: pytest.CaptureFixture[str], key: str,
) -> None:
    code, out = run(base, agent_message("Add", f"{key}: .agents/research/missing.md"), capsys)
    assert code == 1
    assert "track-missing-evidence" in out
    shown = "Research" if key == "research" else key   # named as configured
    assert (f"`{shown}: .agents/research/missing.md` points at .agents/research/missing.md, which is "
            "not a file in the index") in out
    assert "git add -- .agents/research/missing.md" in out


@pytest.mark.parametrize("value", [
    ".agents/research/known.md",
    "./.agents/research/known.md",
    ".agents/research/../research/known.md",
    "app.py:2",
    "app.py:1-2",
    "app.py#L2",
    "app.py::test_one",
])
def test_reference_to_a_tracked_file_passes(
    base: GitRepo, capsys: pytest.CaptureFixture[str], value: str,
) -> None:
    code, out = run(base, agent_message("Add", f"Research: {value}"), capsys)
    assert code == 0, out


def test_a_file_staged_with_the_change_counts(base: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    base.write(".agents/research/new.md", "findings\n")
    message = agent_message("Add", "Research: .agents/research/new.md")
    code, out = run(base, message, capsys)
    assert code == 1                      # in the work tree only: not in git
    assert "track-untracked-state" in out and "track-missing-evidence" in out
    base.git("add", ".agents/research/new.md")
    code, out = run(base, message, capsys)
    assert code == 0, out


@pytest.mark.parametrize(("value", "why"), [
    ("/tmp/pytest-output.log", "is outside the repository"),
    ("../elsewhere/notes.md", "is outside the repository"),
    (".agents/research", "is not a file"),    # a directory, not a file
])
def test_references_git_cannot_hold_are_refused(
    base: GitRepo, capsys: pytest.CaptureFixture[str], value: str, why: str,
) -> None:
    code, out = run(base, agent_message("Add", f"Evidence: {value}"), capsys)
    assert code == 1
    assert why in out


@pytest.mark.parametrize("value", [
    "pytest 214 passed; ruff clean",
    "PROJ-142",
    "https://ci.example.com/runs/7/log.txt",
    "owner/repo#12",
    "v1.2.3",
    "see-the-PR",
    "bob@example.com",
])
def test_values_that_are_not_paths_are_ignored(
    base: GitRepo, capsys: pytest.CaptureFixture[str], value: str,
) -> None:
    code, out = run(base, agent_message("Add", f"Verdict-Evidence: {value}"), capsys)
    assert code == 0, out


def test_other_trailers_are_not_checked_unless_configured(
    base: GitRepo, capsys: pytest.CaptureFixture[str],
) -> None:
    message = agent_message("Add", "Notes: docs/missing.md", "Research: docs/also-missing.md")
    code, out = run(base, message, capsys)
    assert code == 1
    assert "docs/also-missing.md" in out and "Notes: docs/missing.md" not in out
    base.write(".agentops.toml", '[track]\npath_trailers = ["Notes"]\n')
    code, out = run(base, message, capsys)
    assert code == 1
    assert "Notes: docs/missing.md" in out and "docs/also-missing.md" not in out


def test_every_bad_reference_is_named(base: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    message = agent_message("Add", "Research: a/one.md", "Evidence: a/two.md",
                            "Evidence: .agents/research/known.md")
    code, out = run(base, message, capsys)
    assert code == 1
    assert out.count("track: track-missing-evidence\n") == 2


# --- who it applies to ------------------------------------------------------------

def test_humans_pass_unless_everyone(base: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    base.write(".agents/handoff.md", "x\n")
    message = "Human change\n\nResearch: notes/missing.md\n"
    code, out = run(base, message, capsys)
    assert code == 0, out
    base.write(".agentops.toml", '[track]\nrequired_for = "everyone"\n')
    code, out = run(base, message, capsys)
    assert code == 1
    assert "track-untracked-state" in out and "track-missing-evidence" in out


# --- the committed form -------------------------------------------------------------

def test_a_commit_is_checked_against_its_own_tree(base: GitRepo) -> None:
    base.commit(agent_message("Cite research", "Research: .agents/research/later.md"))
    cited = base.head()
    base.stage(".agents/research/later.md", "added afterwards\n")
    base.commit(agent_message("Add it", "Research: .agents/research/later.md"))
    (finding,) = committed(base, cited)
    assert finding.rule == "track-missing-evidence"
    assert finding.commit == cited
    assert f"is not a file in commit {cited[:12]}" in finding.message
    assert f"agentops check --commit {cited[:12]}" in finding.fix
    assert committed(base) == []


def count_processes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    started: list[tuple[str, ...]] = []
    real = subprocess.Popen

    class Counted(real):  # type: ignore[valid-type,misc]
        def __init__(self, args: Any, *rest: Any, **kwargs: Any) -> None:
            started.append(tuple(str(a) for a in args))
            super().__init__(args, *rest, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", Counted)
    return started


@pytest.mark.parametrize("commits", [3, 15])
def test_a_range_checks_every_reference_in_one_git_process(
    base: GitRepo, monkeypatch: pytest.MonkeyPatch, commits: int,
) -> None:
    base.commit("start")
    base.git("tag", "start")
    for i in range(commits):
        base.stage(f"notes/{i}.md", "x\n")
        cited = f"notes/{i}.md" if i % 3 else f"notes/missing-{i}.md"
        base.commit(agent_message(f"Step {i}", f"Evidence: {cited}", "Research: app.py"))
    repo = Repo()
    config = policy(base.root)
    changes = load_commits(repo, ["start..HEAD"])
    changes.reverse()
    evidence = gates.Evidence(repo)
    for change in changes:  # what the gate does not start: trailer config, the patch-ids thread
        change.trailers  # noqa: B018
        change.patch_id  # noqa: B018
    started = count_processes(monkeypatch)
    refused = []
    for change in changes:
        ctx = gates.Context(change, config, evidence, range_changes=changes)
        refused += [f.message.split("`")[1] for f in gates.run(ctx, ["track"])]
    assert refused == [f"Evidence: notes/missing-{i}.md" for i in range(0, commits, 3)]
    assert [args[1:3] for args in started] == [("cat-file", "--batch-check")]


# --- which values are paths -----------------------------------------------------------

@pytest.mark.parametrize(("value", "path"), [
    (".agents/research/auth.md", ".agents/research/auth.md"),
    ("  notes.md  ", "notes.md"),
    ("./a/b.md", "a/b.md"),
    ("a/./b/../c.md", "a/c.md"),
    ("tests/test_x.py::TestA::test_b", "tests/test_x.py"),
    ("src/app.py:12", "src/app.py"),
    ("src/app.py:12:5", "src/app.py"),
    ("src/app.py:3-9", "src/app.py"),
    ("src/app.py#L3-L9", "src/app.py"),
    ("Makefile/", "Makefile"),
    ("results.json", "results.json"),
    ("/abs/out.log", "/abs/out.log"),
    ("../up.md", "../up.md"),
    ("pytest 214 passed", None),
    ("PROJ-142", None),
    ("1.2", None),
    ("v1.2.3", None),
    ("https://example.com/a.md", None),
    ("git@github.com:o/r.git", None),
    ("owner/repo#12", None),
    ("", None),
])
def test_evidence_path(value: str, path: str | None) -> None:
    assert evidence_path(value) == path


def test_paths_are_from_the_top_when_run_in_a_subdirectory(
    base: GitRepo, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from click.testing import CliRunner

    from agentops_hooks.commands import cli

    base.stage(".gitignore", ".agents/cache/\n")
    base.write(".agents/cache/x.json", "{}\n")
    message = base.message_file(agent_message("Add", "Research: .agents/research/known.md"))
    (base.root / "src").mkdir()
    monkeypatch.chdir(base.root / "src")
    result = CliRunner().invoke(cli, ["check", "--staged", "--message-file", str(message),
                                      "--gate", "track"], catch_exceptions=False)
    assert result.exit_code == 1
    assert "`.agents/cache/` at .gitignore:1" in result.output
    assert "track-missing-evidence" not in result.output
