"""Gate XI: after N FAIL verdicts on one task, the same worker hands it over."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from agentops_hooks.commands import cli
from conftest import CLAUDE_TRAILER
from conftest import JUDGE
from conftest import GitRepo
from conftest import run_hook


def attempt_message(session: str = "s1", task: str | None = "T-1", *extra: str) -> str:
    lines = ["Try to fix the parser", ""]
    if task:
        lines.append(f"Task: {task}")
    lines += [f"Agent: claude-code session={session}", CLAUDE_TRAILER, *extra]
    return "\n".join(lines) + "\n"


def fail_attempt(repo: GitRepo, n: int, message: str) -> None:
    repo.stage("parser.py", f"attempt = {n}\n")
    msg = repo.message_file(message, name=f"ATTEMPT{n}")
    result = CliRunner().invoke(cli, ["verdict", "fail", "--judge", JUDGE, "--message-file", str(msg)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output


def run(repo: GitRepo, message: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    return run_hook(repo, message, capsys, "--gate", "supervise")


@pytest.fixture
def stuck(repo: GitRepo) -> GitRepo:
    repo.stage("parser.py", "attempt = 0\n")
    repo.commit("base")
    for n in range(1, 4):
        fail_attempt(repo, n, attempt_message())
    repo.stage("parser.py", "attempt = 4\n")
    return repo


def test_fourth_attempt_by_the_same_worker_is_refused(stuck: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(stuck, attempt_message(), capsys)
    assert code == 1
    assert "[XI Supervise Hierarchically] supervise: supervise-escalate" in out
    assert "task T-1 already has 3 FAIL verdicts from attempts by session s1" in out
    assert "Escalated-To" in out


def test_a_fresh_agent_may_take_the_task(stuck: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(stuck, attempt_message(session="s2"), capsys)
    assert code == 0, out


def test_escalation_trailer_records_the_handover(stuck: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(stuck, attempt_message("s1", "T-1", "Escalated-To: Hana Human <hana@example.com>"), capsys)
    assert code == 0, out


def test_another_task_is_not_affected(stuck: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(stuck, attempt_message(task="T-2"), capsys)
    assert code == 0, out


def test_threshold_is_configurable(stuck: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    stuck.write(".agentops.toml", "[supervise]\nmax_failures = 4\n")
    code, out = run(stuck, attempt_message(), capsys)
    assert code == 0, out


def test_below_the_threshold_passes(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.stage("parser.py", "attempt = 0\n")
    repo.commit("base")
    for n in range(1, 3):
        fail_attempt(repo, n, attempt_message())
    repo.stage("parser.py", "attempt = 3\n")
    code, out = run(repo, attempt_message(), capsys)
    assert code == 0, out


def test_without_a_task_the_patch_is_the_task(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.stage("parser.py", "attempt = 0\n")
    repo.commit("base")
    message = attempt_message(task=None)
    for judge in ("A <a@example.com>", "B <b@example.com>", "C <c@example.com>"):
        repo.stage("parser.py", "same attempt\n")
        msg = repo.message_file(message, name="SAME")
        CliRunner().invoke(cli, ["verdict", "fail", "--judge", judge, "--message-file", str(msg)])
    code, out = run(repo, message, capsys)
    assert code == 1
    assert "this exact change" in out
    repo.stage("parser.py", "a different attempt\n")
    code, out = run(repo, message, capsys)
    assert code == 0, out


def test_humans_are_not_supervised_by_default(stuck: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(stuck, "Task: T-1\n", capsys)
    assert code == 0, out


def test_the_same_fail_recorded_twice_counts_once(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.stage("parser.py", "attempt = 0\n")
    repo.commit("base")
    for _ in range(3):
        fail_attempt(repo, 1, attempt_message())
    repo.stage("parser.py", "attempt = 2\n")
    code, out = run(repo, attempt_message(), capsys)
    assert code == 0, out
