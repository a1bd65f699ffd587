"""No self-serve: an agent that was refused does not write its own way in.

Attacks tried: an agent inside its session (Claude Code's CLAUDECODE=1, Codex's
CODEX_THREAD_ID, a configured marker) runs the `agentops verdict` command a
refusal once printed, in a judge's name, for a commit, for the staged change
into its message file, or into the notes. Each is refused, nothing is written;
and the refusal an agent sees names what to ask for, with the judge's command
shown as the judge's.
"""
from __future__ import annotations

import pytest

from conftest import JUDGE
from conftest import GitRepo
from conftest import agent_commit
from conftest import agent_message
from conftest import run_agentops

NOTES = "refs/notes/agentops/verdicts"


@pytest.fixture
def agent_work(repo: GitRepo) -> str:
    repo.stage("a.py", "a = 0\n")
    repo.commit("base")
    return agent_commit(repo, "b.py", "b = 1\n", "Agent work", "Learning: b holds the one and only")


@pytest.mark.parametrize("session", [
    {"CLAUDECODE": "1"}, {"CODEX_THREAD_ID": "thread-7"}, {"GEMINI_CLI": "1"},
])
def test_an_agent_session_cannot_record_a_verdict_in_a_judges_name(
    repo: GitRepo, agent_work: str, session: dict[str, str],
) -> None:
    code, out = run_agentops(repo, "verdict", "pass", "--judge", JUDGE, "--commit", agent_work,
                             env=session)
    assert code == 1, out
    assert "refused" in out and "Ask for review" in out
    assert "Traceback" not in out
    assert repo.git("rev-parse", "-q", "--verify", NOTES, check=False).returncode != 0


def test_an_agent_session_cannot_add_a_verdict_to_its_message(repo: GitRepo, agent_work: str) -> None:
    repo.stage("c.py", "c = 2\n")
    message = agent_message("More work")
    path = repo.message_file(message)
    code, out = run_agentops(repo, "verdict", "pass", "--judge", JUDGE, "--message-file", str(path),
                             env={"CLAUDECODE": "1"})
    assert code == 1, out
    assert path.read_text() == message
    assert repo.git("rev-parse", "-q", "--verify", NOTES, check=False).returncode != 0


def test_a_configured_agent_marker_counts_as_a_session(repo: GitRepo, agent_work: str) -> None:
    repo.write(".agentops.toml", '[agents]\nenv = ["MY_AGENT_RUN"]\n')
    code, out = run_agentops(repo, "verdict", "fail", "--judge", JUDGE, "--commit", agent_work,
                             env={"MY_AGENT_RUN": "42"})
    assert code == 1, out
    assert "MY_AGENT_RUN" in out


def test_outside_an_agent_session_the_judge_records_the_verdict(repo: GitRepo, agent_work: str) -> None:
    code, out = run_agentops(repo, "verdict", "pass", "--judge", JUDGE, "--commit", agent_work)
    assert code == 0, out
    assert repo.out("notes", "--ref", NOTES, "show", agent_work).count("PASS") == 1


def test_the_refusal_an_agent_sees_asks_for_review_and_shows_the_judges_command(
    repo: GitRepo, agent_work: str,
) -> None:
    code, out = run_agentops(repo, "check", "--commit", agent_work)
    assert code == 1, out
    fix = next(line for line in out.splitlines() if "fix:" in line and "judge" in line)
    assert "ask an independent judge to review it" in fix
    assert "the judge runs: agentops verdict pass --sign --commit" in fix
    assert "--judge" not in fix  # no name for the agent to fill in
