"""Class 9: with the setup `agentops init` makes and one judge key, an agent with
full control of its clone cannot land an unjudged change on a protected branch.

The judge (Riley) has git SSH signing set up and runs `agentops init`; a human
commits the trust root it writes. Then the agent, owning its shell, git config,
hooks, notes and messages, tries each way in, and each is refused by CI
(`agentops check --range`) and by the server (a real push to a bare repository
running pre-receive):

- typing a `Verdict:` trailer in the judge's name;
- recording a verdict note with git plumbing (`git notes add`);
- signing a verdict with a key it generated itself;
- adding its key to the allowed-signers file in its change;
- unsetting its session variables so `agentops verdict` writes for it.

The control: Riley's signed verdict admits the same change at both.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentops_hooks.authorship import Identity
from agentops_hooks.evidence import signatures
from conftest import GitRepo
from conftest import agent_commit
from conftest import agent_message
from conftest import judge_env
from conftest import push
from conftest import remote
from conftest import run_agentops
from conftest import signer_line

JUDGE = "Riley Reviewer <riley@example.com>"
NOTES = "refs/notes/agentops/verdicts"
SIGNERS = ".agentops/allowed_signers"


@pytest.fixture
def guarded(server: tuple, keys: dict[str, Path]) -> tuple[Path, GitRepo, str]:
    """`agentops init` by the judge, committed by a human; the agent's branch cut from it."""
    bare, repo = server
    code, out = run_agentops(repo, "init", "--no-hooks", env=judge_env(keys["riley"]))
    assert code == 0, out
    assert "added you (Riley Reviewer <riley@example.com>) as a judge" in out
    repo.git("add", ".agentops.toml", SIGNERS)
    repo.commit("Signed verdicts: Riley judges")
    assert push(repo, "main").returncode == 0
    base = repo.head()
    repo.git("checkout", "-q", "-b", "feature")
    return bare, repo, base


def patch_id(repo: GitRepo, commit: str) -> str:
    _, out = run_agentops(repo, "check", "--commit", commit, "--format", "json")
    return str(json.loads(out)["patch_id"])


def refused_everywhere(bare: Path, repo: GitRepo, base: str, commit: str, rule: str) -> None:
    code, out = run_agentops(repo, "check", "--range", f"{base}..{commit}")
    assert code == 1, out
    assert rule in out, out
    has_notes = repo.git("rev-parse", "-q", "--verify", NOTES, check=False).returncode == 0
    pushed = push(repo, f"{commit}:refs/heads/main", *([f"+{NOTES}:{NOTES}"] if has_notes else []))
    said = pushed.stderr.decode()
    assert pushed.returncode != 0, said
    assert rule in said, said
    assert remote(bare, "refs/heads/main") == base


def agent_work(repo: GitRepo, *trailers: str) -> str:
    return agent_commit(repo, "b.py", "b = 1\n", "Agent work", "Learning: b holds the one", *trailers)


def note(repo: GitRepo, commit: str, **fields: str) -> None:
    record = {"v": 1, "status": "PASS", "judge": JUDGE, "patch_id": patch_id(repo, commit),
              "recorded_at": "2026-12-01T00:00:00Z", "source": "note", **fields}
    repo.git("notes", "--ref", NOTES, "add", "-f", "-m", json.dumps(record), commit)


def forged_signature(repo: GitRepo, commit: str, key: Path) -> str:
    """A PASS in Riley's name signed with `key`, by ssh-keygen directly."""
    judge = Identity.parse(JUDGE)
    assert judge is not None
    return signatures.sign(signatures.payload("PASS", judge, patch_id(repo, commit)), key)


def test_the_judges_signed_verdict_lands(guarded: tuple, keys: dict[str, Path]) -> None:
    bare, repo, base = guarded
    commit = agent_work(repo)
    code, out = run_agentops(repo, "verdict", "pass", "--sign", "--commit", commit,
                             env=judge_env(keys["riley"]))
    assert code == 0, out
    code, out = run_agentops(repo, "check", "--range", f"{base}..{commit}")
    assert code == 0, out
    assert "unsigned verdicts accepted" not in out
    assert push(repo, f"{commit}:refs/heads/main", NOTES).returncode == 0
    assert remote(bare, "refs/heads/main") == commit


def test_a_typed_verdict_trailer_is_refused(guarded: tuple) -> None:
    bare, repo, base = guarded
    first = agent_work(repo)
    typed = f'Verdict: PASS judge="{JUDGE}" patch={patch_id(repo, first)}'
    repo.git("commit", "-q", "--amend", "--no-verify", "-m",
             agent_message("Agent work", "Learning: b holds the one", typed))
    refused_everywhere(bare, repo, base, repo.head(), "verdict-unsigned")


def test_a_notes_verdict_written_with_plumbing_is_refused(guarded: tuple) -> None:
    bare, repo, base = guarded
    commit = agent_work(repo)
    note(repo, commit)
    refused_everywhere(bare, repo, base, commit, "verdict-unsigned")


def test_a_verdict_signed_with_a_key_the_agent_made_is_refused(
    guarded: tuple, keys: dict[str, Path],
) -> None:
    bare, repo, base = guarded
    commit = agent_work(repo)
    note(repo, commit, signature=forged_signature(repo, commit, keys["agent"]))
    refused_everywhere(bare, repo, base, commit, "verdict-signature-invalid")


def test_adding_its_key_to_the_allowed_signers_is_refused(guarded: tuple, keys: dict[str, Path]) -> None:
    bare, repo, base = guarded
    listed = (repo.root / SIGNERS).read_text()
    repo.stage(SIGNERS, listed + signer_line("riley@example.com", keys["agent"]))
    commit = agent_work(repo)
    note(repo, commit, signature=forged_signature(repo, commit, keys["agent"]))
    refused_everywhere(bare, repo, base, commit, "verdict-signature-invalid")
    # and the change to the trust root is itself a privileged path for an agent
    code, out = run_agentops(repo, "check", "--range", f"{base}..{commit}", "--gate", "privilege")
    assert code == 1 and "privilege" in out, out


def test_unsetting_the_session_variables_gets_only_an_unsigned_verdict(guarded: tuple) -> None:
    bare, repo, base = guarded
    commit = agent_work(repo)
    code, out = run_agentops(repo, "verdict", "pass", "--judge", JUDGE, "--commit", commit,
                             env={"CLAUDECODE": "1"})
    assert code == 1, out  # inside its session: refused
    code, out = run_agentops(repo, "verdict", "pass", "--judge", JUDGE, "--commit", commit)
    assert code == 0, out  # variables unset: written, but unsigned
    refused_everywhere(bare, repo, base, commit, "verdict-unsigned")
