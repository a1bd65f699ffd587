"""Gate III: an agent change names exactly one task and stays within the size limits."""
from __future__ import annotations

from pathlib import Path

import pytest

from agentops_hooks.places.range_check import check_range
from agentops_hooks.findings import Finding
from agentops_hooks.git import Repo
from agentops_hooks.gates import policy
from conftest import GitRepo
from conftest import agent_message
from conftest import gate_findings
from conftest import run_hook

PATTERN = '[scope]\ntask_pattern = "PROJ-[0-9]+"\n'


def run(repo: GitRepo, message: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    return run_hook(repo, message, capsys, "--gate", "scope")


def committed(repo: GitRepo, message: str) -> list[Finding]:
    """Commit what is staged with `message`, then judge the commit as a range check does."""
    repo.commit(message)
    return gate_findings("scope")


@pytest.fixture
def staged(repo: GitRepo) -> GitRepo:
    repo.stage("app.py", "x = 1\n")
    repo.commit("base")
    repo.stage("app.py", "x = 2\n")
    return repo


def test_agent_change_without_task_is_refused(staged: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(staged, agent_message(), capsys)
    assert code == 1
    assert "[III One Agent, One Job] scope: scope-no-task" in out
    assert "no `Task:` trailer" in out
    assert "scope.task_pattern is not set" in out
    assert 'agentops trailer add Task "<task id>" --message-file .git/COMMIT_EDITMSG' in out


def test_one_task_trailer_passes(staged: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(staged, agent_message("Fix rounding", "Task: PROJ-7"), capsys)
    assert code == 0, out


@pytest.mark.parametrize("trailers", [
    ("Task:",),                     # empty: no task
    ("Task:   ",),
])
def test_empty_task_trailer_is_no_task(
    staged: GitRepo, capsys: pytest.CaptureFixture[str], trailers: tuple[str, ...],
) -> None:
    code, out = run(staged, agent_message("Fix", *trailers), capsys)
    assert code == 1
    assert "scope-no-task" in out


def test_two_tasks_are_refused_and_named(staged: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(staged, agent_message("Fix", "Task: PROJ-7", "Task: PROJ-8"), capsys)
    assert code == 1
    assert "scope-many-tasks" in out
    assert "names 2 tasks (PROJ-7, PROJ-8)" in out
    assert "one commit per task" in out


@pytest.mark.parametrize("trailers", [
    ("Task: PROJ-7", "Task: PROJ-7"),
    ("Task: PROJ-7", "Task: proj-7"),
    ("Task: PROJ-7", "Task:  PROJ-7 "),
])
def test_the_same_task_twice_is_one_task(
    staged: GitRepo, capsys: pytest.CaptureFixture[str], trailers: tuple[str, ...],
) -> None:
    code, out = run(staged, agent_message("Fix", *trailers), capsys)
    assert code == 0, out


@pytest.mark.parametrize(("subject", "trailers", "rule"), [
    ("PROJ-12: fix rounding", (), None),
    ("Fix rounding (PROJ-12)", ("Task: PROJ-12",), None),
    ("Fix rounding", ("Task: PROJ-12",), None),
    ("PROJ-12 and PROJ-13 in one go", (), "scope-many-tasks"),
    ("PROJ-13: fix", ("Task: PROJ-12",), "scope-many-tasks"),
    ("PROJ-12 again PROJ-12", (), None),
    ("Fix rounding", (), "scope-no-task"),
])
def test_task_pattern_finds_tasks_in_the_subject(
    staged: GitRepo, capsys: pytest.CaptureFixture[str],
    subject: str, trailers: tuple[str, ...], rule: str | None,
) -> None:
    staged.write(".agentops.toml", PATTERN)
    code, out = run(staged, agent_message(subject, *trailers), capsys)
    if rule is None:
        assert code == 0, out
    else:
        assert code == 1
        assert rule in out


def test_task_pattern_searches_only_the_subject(staged: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    staged.write(".agentops.toml", PATTERN)
    message = "Fix rounding\n\nAlso see PROJ-12 for context.\n\nCo-authored-by: Claude <noreply@anthropic.com>\n"
    code, out = run(staged, message, capsys)
    assert code == 1
    assert "nothing in the subject matches scope.task_pattern = 'PROJ-[0-9]+'" in out


def test_subject_is_not_searched_without_a_pattern(staged: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(staged, agent_message("PROJ-12: fix"), capsys)
    assert code == 1
    assert "scope-no-task" in out


def test_human_change_passes_by_default(staged: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(staged, "Human change, no task\n", capsys)
    assert code == 0, out
    assert "human-authored" in out


def test_everyone_holds_humans_too(staged: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    staged.write(".agentops.toml", '[scope]\nrequired_for = "everyone"\n')
    code, out = run(staged, "Human change, no task\n", capsys)
    assert code == 1
    assert "every change (policy) must name the one task" in out
    code, out = run(staged, "Human change\n\nTask: PROJ-1\n", capsys)
    assert code == 0, out


def test_severity_warning_reports_without_refusing(staged: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    staged.write(".agentops.toml", '[scope]\nseverity = "warning"\n')
    code, out = run(staged, agent_message(), capsys)
    assert code == 0
    assert "scope: warning: scope-no-task" in out


@pytest.mark.parametrize(("files", "refused"), [(3, False), (4, True)])
def test_max_files(repo: GitRepo, capsys: pytest.CaptureFixture[str], files: int, refused: bool) -> None:
    repo.write(".agentops.toml", "[scope]\nmax_files = 3\n")
    for i in range(files - 1):
        repo.stage(f"src/m{i}.py", "x = 1\n")
    repo.stage("logo.png", bytes(range(256)))  # a binary file counts as a file
    code, out = run(repo, agent_message("Add", "Task: T-1"), capsys)
    assert code == (1 if refused else 0), out
    if refused:
        assert "scope-too-many-files" in out
        assert "touches 4 files (over scope.max_files = 3)" in out
        assert "git restore --staged" in out


def test_default_max_files_is_50(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    for i in range(50):
        repo.write(f"src/m{i}.py", "x = 1\n")
    repo.git("add", "src")
    code, out = run(repo, agent_message("Add", "Task: T-1"), capsys)
    assert code == 0, out
    repo.stage("src/m50.py", "x = 1\n")
    code, out = run(repo, agent_message("Add", "Task: T-1"), capsys)
    assert code == 1
    assert "touches 51 files (over scope.max_files = 50)" in out


@pytest.mark.parametrize(("added", "refused"), [(4, False), (5, True)])
def test_max_lines_counts_added_and_removed(
    repo: GitRepo, capsys: pytest.CaptureFixture[str], added: int, refused: bool,
) -> None:
    repo.write(".agentops.toml", "[scope]\nmax_lines = 10\n")
    repo.stage("app.py", "".join(f"old_{i} = {i}\n" for i in range(6)))
    repo.commit("base")
    # 6 removed plus `added` added lines; a line starting with "--" is content, not a header.
    repo.stage("app.py", "".join(f"-- new {i}\n" for i in range(added)))
    code, out = run(repo, agent_message("Rewrite", "Task: T-1"), capsys)
    assert code == (1 if refused else 0), out
    if refused:
        assert "scope-too-many-lines" in out
        assert f"changes {6 + added} lines, added plus removed (over scope.max_lines = 10)" in out


@pytest.mark.parametrize("attributes", ["", "*.bin binary\n"])
def test_binary_files_count_their_lines(
    repo: GitRepo, capsys: pytest.CaptureFixture[str], attributes: str,
) -> None:
    """Diffs are --text: neither a NUL byte nor an attribute makes a change smaller."""
    repo.write(".agentops.toml", "[scope]\nmax_lines = 10\n")
    if attributes:
        repo.stage(".gitattributes", attributes)
        repo.commit("attributes")
    repo.stage("blob.bin", bytes(range(256)) * 50)  # 50 newlines, and a last line without one
    code, out = run(repo, agent_message("Add", "Task: T-1"), capsys)
    assert code == 1, out
    assert "changes 51 lines, added plus removed" in out


def test_every_broken_rule_is_reported(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write(".agentops.toml", "[scope]\nmax_files = 1\nmax_lines = 1\n")
    repo.stage("a.py", "a = 1\n")
    repo.stage("b.py", "b = 1\n")
    code, out = run(repo, agent_message("Add", "Task: T-1", "Task: T-2"), capsys)
    assert code == 1
    for rule in ("scope-many-tasks", "scope-too-many-files", "scope-too-many-lines"):
        assert rule in out
    assert "3 findings" in out


def test_committed_change_is_judged_the_same(staged: GitRepo) -> None:
    staged.write(".agentops.toml", PATTERN)
    staged.git("add", ".agentops.toml")
    base = staged.out("rev-parse", "HEAD")
    findings = committed(staged, agent_message("PROJ-1 and PROJ-2"))
    assert [f.rule for f in findings] == ["scope-many-tasks"]
    head = staged.head()
    assert findings[0].commit == head
    assert f"git rebase -i {base[:12]}, mark {head[:12]} `edit`" in findings[0].fix
    assert f"agentops check --range {base[:12]}..HEAD" in findings[0].fix


def test_committed_change_without_task(staged: GitRepo) -> None:
    findings = committed(staged, agent_message("Fix"))
    assert [f.rule for f in findings] == ["scope-no-task"]
    assert "`reword`" in findings[0].fix
    assert 'git commit --amend --trailer "Task: <task id>"' in findings[0].fix


def test_range_check_judges_each_commit(repo: GitRepo) -> None:
    repo.stage(".agentops.toml", "[scope]\nmax_files = 2\n")
    repo.commit("base")
    base = repo.head()
    for name in ("b.py", "c.py", "d.py"):
        repo.stage(name, "x = 1\n")
    repo.commit(agent_message("Too wide", "Task: T-1"))
    wide = repo.head()
    repo.stage("a.py", "a = 1\n")
    repo.commit(agent_message("One task", "Task: T-2"))
    good = repo.head()
    repo.stage("e.py", "e = 1\n")
    repo.stage("f.py", "f = 1\n")
    repo.commit(agent_message("Two files", "Task: T-3"))
    two = repo.head()
    config = policy(Path(repo.root))
    report = check_range(Repo(), config, [f"{base}..HEAD"], "range", ["scope"])
    rules = {r.change.commit: [f.rule for f in r.findings] for r in report.results}
    assert rules == {wide: ["scope-too-many-files"], good: [], two: []}
