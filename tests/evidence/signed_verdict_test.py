"""Signed verdicts in gate VII: only a signature from a listed key, for this very verdict, counts."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from agentops_hooks.evidence import signatures
from agentops_hooks.evidence import verdicts
from agentops_hooks.authorship import Identity
from agentops_hooks.change import StagedChange
from agentops_hooks.commands import cli
from agentops_hooks.git import Repo
from conftest import JUDGE
from conftest import GitRepo
from conftest import agent_message
from conftest import run_hook
from conftest import signer_line

SIGNERS = ".agentops/allowed_signers"
CONFIG = f'[verdict]\nrequire_signature = true\nallowed_signers = "{SIGNERS}"\n'


@pytest.fixture
def signed_repo(repo: GitRepo, keys: dict[str, Path]) -> GitRepo:
    repo.stage(SIGNERS, signer_line("riley@example.com", keys["riley"]))
    repo.stage(".agentops.toml", CONFIG)
    repo.commit("policy: signed verdicts")
    repo.stage("app.py", "x = 1\n")
    return repo


def verdict_lines(*args: str) -> str:
    result = CliRunner().invoke(cli, ["verdict", "pass", "--judge", JUDGE, "--staged", "--no-record", *args],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return "\n".join(line for line in result.output.splitlines() if not line.startswith("agentops:"))


def test_signed_verdict_passes(signed_repo: GitRepo, keys: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    lines = verdict_lines("--sign-key", str(keys["riley"]))
    assert "Verdict-Signature: " in lines
    code, out = run_hook(signed_repo, agent_message("Add", *lines.splitlines()), capsys)
    assert code == 0, out


def test_unsigned_verdict_is_refused(signed_repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_hook(signed_repo, agent_message("Add", *verdict_lines().splitlines()), capsys)
    assert code == 1
    assert "verdict-unsigned" in out


def forged_lines(key: Path) -> str:
    """A verdict signed with a key of the agent's own (agentops verdict refuses to
    sign with a key the trust root lacks, so the agent runs ssh-keygen itself)."""
    lines = verdict_lines()
    value = lines.splitlines()[0].removeprefix("Verdict: ")
    v = verdicts.parse(value)
    sig = signatures.sign(signatures.payload(v.status, v.judge, v.patch_id), key)
    return f"{lines}\nVerdict-Signature: {sig}"


def test_key_not_listed_is_refused(signed_repo: GitRepo, keys: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    lines = forged_lines(keys["agent"])
    code, out = run_hook(signed_repo, agent_message("Add", *lines.splitlines()), capsys)
    assert code == 1
    assert "verdict-signature-invalid" in out


@pytest.mark.parametrize("char", ["", "*", "?", "!", ","])
def test_a_judge_email_that_is_a_pattern_is_refused(
    repo: GitRepo, keys: dict[str, Path], capsys: pytest.CaptureFixture[str], char: str,
) -> None:
    """A key listed for `*@example.com` verifies any email there, `ri*ley@example.com`
    too; an email holding a pattern character names no one judge, so it is refused
    ("" is the control: the same verdict for an ordinary email passes)."""
    repo.stage(SIGNERS, signer_line("*@example.com", keys["riley"]))
    repo.stage(".agentops.toml", CONFIG)
    repo.commit("policy: the review team's key")
    repo.stage("app.py", "x = 1\n")
    patch = StagedChange.from_message_file(Repo(), None).patch_id
    judge = Identity.parse(f"Riley Reviewer <ri{char}ley@example.com>")
    assert judge is not None and judge.email == f"ri{char}ley@example.com"
    signature = signatures.sign(signatures.payload("PASS", judge, patch), keys["riley"])
    message = agent_message("Add", f'Verdict: PASS judge="{judge}" patch={patch}',
                            f"Verdict-Signature: {signature}")
    code, out = run_hook(repo, message, capsys)
    if not char:
        assert code == 0, out
        return
    assert code == 1
    assert "verdict-signature-invalid" in out and "the judge's email holds a pattern character" in out


def test_tampered_payload_is_refused(signed_repo: GitRepo, keys: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    patch = StagedChange.from_message_file(Repo(), None).patch_id
    judge = Identity.parse(JUDGE)
    assert judge is not None
    signed_fail = signatures.sign(signatures.payload("FAIL", judge, patch), keys["riley"])
    message = agent_message("Add", f'Verdict: PASS judge="{JUDGE}" patch={patch}',
                            f"Verdict-Signature: {signed_fail}")
    code, out = run_hook(signed_repo, message, capsys)
    assert code == 1
    assert "verdict-signature-invalid" in out


def test_signature_for_another_patch_is_refused(signed_repo: GitRepo, keys: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    old_lines = verdict_lines("--sign-key", str(keys["riley"]))
    old_signature = next(l for l in old_lines.splitlines() if l.startswith("Verdict-Signature:"))
    signed_repo.stage("app.py", "x = 2  # not what the judge saw\n")
    patch = StagedChange.from_message_file(Repo(), None).patch_id
    message = agent_message("Add", f'Verdict: PASS judge="{JUDGE}" patch={patch}', old_signature)
    code, out = run_hook(signed_repo, message, capsys)
    assert code == 1
    assert "verdict-signature-invalid" in out


def test_wrong_namespace_is_refused(signed_repo: GitRepo, keys: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    patch = StagedChange.from_message_file(Repo(), None).patch_id
    judge = Identity.parse(JUDGE)
    assert judge is not None
    data = tmp_path / "payload"
    data.write_bytes(signatures.payload("PASS", judge, patch))
    subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-n", "git", "-f", str(keys["riley"]), str(data)],
                   check=True, capture_output=True)
    armored = (tmp_path / "payload.sig").read_text().splitlines()
    one_line = "".join(l for l in armored if not l.startswith("-----"))
    message = agent_message("Add", f'Verdict: PASS judge="{JUDGE}" patch={patch}',
                            f"Verdict-Signature: {one_line}")
    code, out = run_hook(signed_repo, message, capsys)
    assert code == 1
    assert "verdict-signature-invalid" in out


def test_key_added_by_the_change_itself_does_not_count(signed_repo: GitRepo, keys: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """The agent lists its own key as the judge's: signers are read from the base commit."""
    signed_repo.stage(SIGNERS, signer_line("riley@example.com", keys["riley"])
                      + signer_line("riley@example.com", keys["agent"]))
    lines = forged_lines(keys["agent"])
    code, out = run_hook(signed_repo, agent_message("Add", *lines.splitlines()), capsys)
    assert code == 1
    assert "verdict-signature-invalid" in out


def test_signed_verdict_in_notes_counts(signed_repo: GitRepo, keys: dict[str, Path]) -> None:
    signed_repo.commit(agent_message("Add"), "--no-verify")
    runner = CliRunner()
    assert runner.invoke(cli, ["check"]).exit_code == 1
    result = runner.invoke(cli, ["verdict", "pass", "--judge", JUDGE, "--commit", "HEAD",
                                 "--sign-key", str(keys["riley"])])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["check"])
    assert result.exit_code == 0, result.output
    review = runner.invoke(cli, ["review", "-n", "1"])
    assert "verified" in review.output


@pytest.mark.parametrize("content", [b"", b"not a key\n", b"-----BEGIN OPENSSH PRIVATE KEY-----\ngarbage\n"])
def test_garbage_key_file_is_a_clear_error_and_writes_nothing(signed_repo: GitRepo, tmp_path: Path, content: bytes) -> None:
    key = tmp_path / "bad_key"
    key.write_bytes(content)
    key.chmod(0o600)
    msg = signed_repo.message_file(agent_message("Add"))
    before = msg.read_text()
    result = CliRunner().invoke(cli, ["verdict", "pass", "--judge", JUDGE, "--message-file", str(msg),
                                      "--sign-key", str(key)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert msg.read_text() == before
    assert signed_repo.git("rev-parse", "-q", "--verify", "refs/notes/agentops/verdicts", check=False).returncode != 0


def test_require_signature_needs_allowed_signers(repo: GitRepo) -> None:
    repo.write(".agentops.toml", "[verdict]\nrequire_signature = true\n")
    result = CliRunner().invoke(cli, ["check", "--staged"])
    assert result.exit_code == 2
    assert "verdict.require_signature: needs verdict.allowed_signers" in result.output
