"""Gate VII: an agent's change needs an independent PASS verdict bound to it."""
from __future__ import annotations

import pytest

from agentops_hooks.change import CommitChange
from agentops_hooks.change import StagedChange
from agentops_hooks.git import Repo
from conftest import CLAUDE_TRAILER
from conftest import JUDGE
from conftest import GitRepo
from conftest import agent_message
from conftest import run_hook


def staged_patch_id() -> str:
    return StagedChange.from_message_file(Repo(), None).patch_id


def verdict(status: str = "PASS", judge: str = JUDGE, patch: str | None = None) -> str:
    return f'Verdict: {status} judge="{judge}" patch={patch or staged_patch_id()}'


def run(repo: GitRepo, message: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    return run_hook(repo, message, capsys, "--gate", "verdict")


@pytest.fixture
def change(repo: GitRepo) -> GitRepo:
    repo.stage("app.py", "print('v1')\n")
    repo.commit("base")
    repo.stage("app.py", "print('v2')\n")
    return repo


def test_human_change_needs_no_verdict(change: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(change, "Human change\n", capsys)
    assert code == 0, out
    assert "human-authored" in out


def test_agent_change_without_verdict_is_refused(change: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(change, agent_message(), capsys)
    assert code == 1
    assert "[VII Validate Externally] verdict: verdict-missing" in out
    assert staged_patch_id() in out
    assert "ask an independent judge to review it" in out
    assert "the judge runs: agentops verdict pass --sign --message-file" in out
    assert "Claude Code" in out


def test_independent_bound_pass_is_accepted(change: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(change, agent_message("Add", verdict()), capsys)
    assert code == 0, out


@pytest.mark.parametrize("status", ["FAIL", "NOT_PROVEN", "not-proven", "fail"])
def test_non_pass_is_refused(change: GitRepo, capsys: pytest.CaptureFixture[str], status: str) -> None:
    code, out = run(change, agent_message("Add", verdict(status)), capsys)
    assert code == 1
    assert "verdict-not-pass" in out


def test_lower_case_pass_reads_as_git_reads_it(change: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    line = verdict("pass").replace("Verdict:", "verdict:")
    code, out = run(change, agent_message("Add", line), capsys)
    assert code == 0, out


def test_disagreeing_verdicts_are_refused(change: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(change, agent_message("Add", verdict("PASS"), verdict("FAIL", "Other <o@example.com>")), capsys)
    assert code == 1
    assert "verdict-conflict" in out


@pytest.mark.parametrize("judge", [
    "Hana Human <hana@example.com>",        # the author (and committer)
    "Hana <HANA@Example.COM>",              # the author, in other case
    "Hana <hana+review@example.com>",       # the author, +tagged
    "Claude <noreply@anthropic.com>",       # a co-author
])
def test_self_judged_is_refused(change: GitRepo, capsys: pytest.CaptureFixture[str], judge: str) -> None:
    code, out = run(change, agent_message("Add", verdict(judge=judge)), capsys)
    assert code == 1
    assert "verdict-self-judged" in out


def test_committer_cannot_judge(change: GitRepo, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Ada Agent")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "ada@example.com")
    code, out = run(change, agent_message("Add", verdict(judge="Hana Human <hana@example.com>")), capsys)
    assert code == 1
    assert "verdict-self-judged" in out


def test_verdict_for_another_patch_is_refused(change: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    stale = staged_patch_id()
    change.stage("app.py", "print('v3, edited after judging')\n")
    code, out = run(change, agent_message("Add", verdict(patch=stale)), capsys)
    assert code == 1
    assert "verdict-wrong-patch" in out
    assert stale in out


@pytest.mark.parametrize("message", [
    # in the body, not the trailer block
    "Add\n\n{v}\n\nSome more prose.\n\n" + CLAUDE_TRAILER + "\n",
    # after the --- divider
    "Add\n\n" + CLAUDE_TRAILER + "\n---\n{v}\n",
    # inside a comment
    "Add\n\n" + CLAUDE_TRAILER + "\n# {v}\n",
    # under the scissors line
    "Add\n\n" + CLAUDE_TRAILER + "\n# ------------------------ >8 ------------------------\n{v}\n",
])
def test_verdict_outside_the_trailer_block_does_not_count(
    change: GitRepo, capsys: pytest.CaptureFixture[str], message: str,
) -> None:
    code, out = run(change, message.format(v=verdict()), capsys)
    assert code == 1
    assert "verdict-missing" in out


@pytest.mark.parametrize(("value", "says"), [
    ("PASS", "no judge"),
    ('PASS judge="Riley <riley@example.com>"', "no patch"),
    ("MAYBE judge=x patch=y", "not one of"),
    ('PASS judge="nobody" patch=abc', "not \"Name <email>\""),
    ('PASS judge="R <r@example.com>" patch=xyz', "hex"),
])
def test_malformed_verdict_is_refused_with_the_reason(
    change: GitRepo, capsys: pytest.CaptureFixture[str], value: str, says: str,
) -> None:
    code, out = run(change, agent_message("Add", f"Verdict: {value}"), capsys)
    assert code == 1
    assert "verdict-malformed" in out
    assert says in out


def test_configured_judges(change: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    change.write(".agentops.toml", '[verdict]\njudges = ["*@review.example.com", "Lead <lead@example.com>"]\n')
    code, out = run(change, agent_message("Add", verdict()), capsys)
    assert code == 1
    assert "verdict-judge-not-listed" in out
    code, out = run(change, agent_message("Add", verdict(judge="Bot <bot@review.example.com>")), capsys)
    assert code == 0, out
    code, out = run(change, agent_message("Add", verdict(judge="The Lead <LEAD@example.com>")), capsys)
    assert code == 0, out


def test_aliases_make_one_person(change: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    change.write(".agentops.toml", '[verdict]\naliases = [["hana@example.com", "hana@home.example"]]\n')
    code, out = run(change, agent_message("Add", verdict(judge="Hana <hana@home.example>")), capsys)
    assert code == 1
    assert "verdict-self-judged" in out


def test_policy_can_demand_verdicts_from_everyone(change: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    change.write(".agentops.toml", '[verdict]\nrequired_for = "everyone"\n')
    code, out = run(change, "Human change\n", capsys)
    assert code == 1
    assert "every change (policy)" in out


def test_agent_detected_from_environment(change: GitRepo, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAUDECODE", "1")
    code, out = run(change, "Plain message\n", capsys)
    assert code == 1
    assert "CLAUDECODE" in out


def test_configured_agent_identity(change: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    change.write(".agentops.toml", '[agents]\nemails = ["hana@example.com"]\n')
    code, out = run(change, "Looks human\n", capsys)
    assert code == 1
    assert "verdict-missing" in out


def test_same_verdict_admits_the_committed_change(change: GitRepo) -> None:
    """A verdict written before the commit still binds after it (CI's view)."""
    change.commit(agent_message("Add", verdict()))
    from agentops_hooks import gates
    from agentops_hooks.config import Config

    committed = CommitChange.load(Repo(), "HEAD")
    assert gates.run(gates.Context(committed, Config()), ["verdict"]) == []
