"""`agentops verdict --sign`: the judge's key found the way `git commit -S` finds it.

Real ssh-keygen, a real ssh-agent, real git config: gpg.format = ssh,
user.signingkey as a private key file, a public key whose private half the
agent holds, or a `key::` literal; gpg.ssh.program. And every way the key can
be wrong: one line, exit 2, nothing written.
"""
from __future__ import annotations

import base64
import os
import signal
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentops_hooks.evidence import signing
from conftest import JUDGE
from conftest import GitRepo
from conftest import agent_commit
from conftest import run_agentops
from conftest import signer_line

SIGNERS = ".agentops/allowed_signers"
POLICY = f'[verdict]\nrequire_signature = true\nallowed_signers = "{SIGNERS}"\n'
NOTES = "refs/notes/agentops/verdicts"


@pytest.fixture
def judged(repo: GitRepo, keys: dict[str, Path]) -> tuple[GitRepo, str]:
    """Signed verdicts required, Riley's key listed; an agent commit to judge."""
    repo.stage(SIGNERS, signer_line("riley@example.com", keys["riley"]))
    repo.stage(".agentops.toml", POLICY)
    repo.commit("Signed verdicts")
    return repo, agent_commit(repo, "b.py", "b = 1\n", "Agent work", "Learning: b holds one")


@pytest.fixture
def ssh_agent(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A real ssh-agent of our own; its environment."""
    sock = tmp_path / "agent.sock"
    out = subprocess.run(["ssh-agent", "-s", "-a", str(sock)], capture_output=True, text=True,
                         check=True).stdout
    pid = int(out.split("SSH_AGENT_PID=")[1].split(";")[0])
    try:
        yield {"SSH_AUTH_SOCK": str(sock)}
    finally:
        os.kill(pid, signal.SIGTERM)


def sign_as_riley(repo: GitRepo, commit: str, **env: str) -> tuple[int, str]:
    return run_agentops(repo, "verdict", "pass", "--judge", JUDGE, "--commit", commit, "--sign",
                        env=env)


def set_git(repo: GitRepo, **values: str) -> None:
    for key, value in values.items():
        repo.git("config", key.replace("_", "."), value)


def admitted(repo: GitRepo, commit: str) -> bool:
    code, out = run_agentops(repo, "check", "--range", f"{commit}~1..{commit}", "--gate", "verdict")
    assert code in (0, 1), out
    return code == 0


def test_sign_uses_the_private_key_git_signs_commits_with(judged: tuple, keys: dict[str, Path]) -> None:
    repo, commit = judged
    set_git(repo, gpg_format="ssh", user_signingkey=str(keys["riley"]))
    assert not admitted(repo, commit)
    code, out = sign_as_riley(repo, commit)
    assert code == 0, out
    assert "Verdict-Signature: " in out
    assert admitted(repo, commit)


def test_the_judge_defaults_to_the_git_identity(judged: tuple, keys: dict[str, Path]) -> None:
    repo, commit = judged
    set_git(repo, gpg_format="ssh", user_signingkey=str(keys["riley"]),
            user_name="Riley Reviewer", user_email="riley@example.com")
    code, out = run_agentops(repo, "verdict", "pass", "--commit", commit, "--sign")
    assert code == 0, out
    assert 'judge="Riley Reviewer <riley@example.com>"' in out
    assert admitted(repo, commit)


def test_a_public_key_whose_private_half_is_in_ssh_agent(
    judged: tuple, keys: dict[str, Path], ssh_agent: dict[str, str], tmp_path: Path,
) -> None:
    repo, commit = judged
    subprocess.run(["ssh-add", "-q", str(keys["riley"])], env={**repo.env, **ssh_agent}, check=True,
                   capture_output=True)
    public = tmp_path / "only-public.pub"  # no private key file next to it
    public.write_text((keys["riley"].parent / "riley.pub").read_text())
    set_git(repo, gpg_format="ssh", user_signingkey=str(public))
    code, out = sign_as_riley(repo, commit, **ssh_agent)
    assert code == 0, out
    assert admitted(repo, commit)


def test_a_literal_signing_key_signs_through_the_agent(
    judged: tuple, keys: dict[str, Path], ssh_agent: dict[str, str],
) -> None:
    repo, commit = judged
    literal = " ".join((keys["riley"].parent / "riley.pub").read_text().split()[:2])
    set_git(repo, gpg_format="ssh", user_signingkey=f"key::{literal}")
    code, out = sign_as_riley(repo, commit, **ssh_agent)
    assert code == 2 and "ssh-agent" in out, out  # not loaded yet: a clear error
    assert repo.git("rev-parse", "-q", "--verify", NOTES, check=False).returncode != 0
    subprocess.run(["ssh-add", "-q", str(keys["riley"])], env={**repo.env, **ssh_agent}, check=True,
                   capture_output=True)
    code, out = sign_as_riley(repo, commit, **ssh_agent)
    assert code == 0, out
    assert admitted(repo, commit)


def test_an_encrypted_key_signs_once_the_agent_holds_it(
    judged: tuple, keys: dict[str, Path], ssh_agent: dict[str, str], tmp_path: Path,
) -> None:
    repo, commit = judged
    locked = tmp_path / "locked"
    locked.write_bytes(keys["riley"].read_bytes())
    locked.chmod(0o600)
    subprocess.run(["ssh-keygen", "-q", "-p", "-N", "secret", "-P", "", "-f", str(locked)], check=True)
    set_git(repo, gpg_format="ssh", user_signingkey=str(locked))
    code, out = sign_as_riley(repo, commit, **ssh_agent)
    assert code == 2, out
    assert len(out.strip().splitlines()) == 1 and "ssh-agent" in out
    assert repo.git("rev-parse", "-q", "--verify", NOTES, check=False).returncode != 0
    askpass = tmp_path / "askpass"
    askpass.write_text("#!/bin/sh\necho secret\n")
    askpass.chmod(0o755)
    subprocess.run(["ssh-add", "-q", str(locked)], stdin=subprocess.DEVNULL, check=True,
                   capture_output=True, env={**repo.env, **ssh_agent, "SSH_ASKPASS": str(askpass),
                                             "SSH_ASKPASS_REQUIRE": "force", "DISPLAY": ":0"})
    code, out = sign_as_riley(repo, commit, **ssh_agent)
    assert code == 0, out
    assert admitted(repo, commit)


def test_gpg_ssh_program_is_the_program_that_signs(judged: tuple, keys: dict[str, Path],
                                                    tmp_path: Path) -> None:
    repo, commit = judged
    log = tmp_path / "program.log"
    program = tmp_path / "my-ssh-keygen"
    program.write_text(f'#!/bin/sh\necho "$@" >> {log}\nexec ssh-keygen "$@"\n')
    program.chmod(0o755)
    set_git(repo, gpg_format="ssh", user_signingkey=str(keys["riley"]), gpg_ssh_program=str(program))
    code, out = sign_as_riley(repo, commit)
    assert code == 0, out
    assert "-Y sign" in log.read_text() and "agentops-verdict" in log.read_text()


def _refused(repo: GitRepo, commit: str, out: str, code: int, *words: str) -> None:
    assert code == 2, out
    assert len(out.strip().splitlines()) == 1, out
    assert "Traceback" not in out
    for word in words:
        assert word in out, out
    assert repo.git("rev-parse", "-q", "--verify", NOTES, check=False).returncode != 0


def test_git_not_set_up_for_ssh_signing_says_how(judged: tuple) -> None:
    repo, commit = judged
    code, out = sign_as_riley(repo, commit)
    _refused(repo, commit, out, code, "gpg.format", "git config --global gpg.format ssh")
    set_git(repo, gpg_format="ssh")
    code, out = sign_as_riley(repo, commit)
    _refused(repo, commit, out, code, "user.signingkey is not set")


def test_a_missing_signing_key(judged: tuple, tmp_path: Path) -> None:
    repo, commit = judged
    set_git(repo, gpg_format="ssh", user_signingkey=str(tmp_path / "nowhere"))
    code, out = sign_as_riley(repo, commit)
    _refused(repo, commit, out, code, "does not exist")


def test_a_key_of_an_unsupported_type(judged: tuple, tmp_path: Path) -> None:
    repo, commit = judged
    dsa = tmp_path / "dsa"
    made = subprocess.run(["ssh-keygen", "-q", "-t", "dsa", "-N", "", "-f", str(dsa)],
                          capture_output=True, check=False)
    if made.returncode != 0:
        pytest.skip("this ssh-keygen makes no DSA keys")
    set_git(repo, gpg_format="ssh", user_signingkey=str(dsa))
    code, out = sign_as_riley(repo, commit)
    _refused(repo, commit, out, code, "ssh-dss", "cannot be signed with")


def test_a_key_not_in_the_trust_root_writes_nothing(judged: tuple, keys: dict[str, Path]) -> None:
    repo, commit = judged
    code, out = run_agentops(repo, "verdict", "pass", "--judge", JUDGE, "--commit", commit,
                             "--sign-key", str(keys["agent"]))
    _refused(repo, commit, out, code, "not in the trust root", f"{SIGNERS} at HEAD")


def test_public_keys_are_read_as_ssh_keygen_reads_them(keys: dict[str, Path]) -> None:
    public = (keys["riley"].parent / "riley.pub").read_text()
    from_private = signing.public_key_of(signing.SigningKey(str(keys["riley"])))
    assert from_private is not None and str(from_private) == " ".join(public.split()[:2])
    fingerprint = subprocess.run(["ssh-keygen", "-l", "-f", str(keys["riley"]) + ".pub"],
                                 capture_output=True, text=True, check=True).stdout.split()[1]
    assert from_private.fingerprint == fingerprint


def test_a_private_key_alone_gives_its_public_half(keys: dict[str, Path], tmp_path: Path) -> None:
    """Without the .pub beside it, the public half is read from the private key file."""
    alone = tmp_path / "alone"
    alone.write_bytes(keys["riley"].read_bytes())
    public = (keys["riley"].parent / "riley.pub").read_text()
    found = signing.public_key_of(signing.SigningKey(str(alone)))
    assert found is not None and str(found) == " ".join(public.split()[:2])


def _blob(*strings: bytes) -> str:
    """SSH wire-format strings, base64: what a public key line carries."""
    return base64.b64encode(b"".join(struct.pack(">I", len(s)) + s for s in strings)).decode()


@pytest.mark.parametrize(("line", "read"), [
    ("{kind} {blob}", True),
    ("{kind} {blob} riley@example.com", True),
    ("{kind}", False),
    ("{kind} @{blob}", False),                                  # not strict base64
    ("ssh-rsa {blob}", False),                                  # the blob is of another type
    ("{kind} " + _blob(b"ssh-rsa", b"k" * 32), False),
    ("{kind} AAA=", False),                                     # shorter than a length
    ("{kind} " + base64.b64encode(struct.pack(">I", 40) + b"ssh-ed25519").decode(), False),  # cut short
])
def test_a_public_key_line_counts_only_when_its_blob_names_its_type(
    keys: dict[str, Path], line: str, read: bool,
) -> None:
    kind, blob = (keys["riley"].parent / "riley.pub").read_text().split()[:2]
    text = line.format(kind=kind, blob=blob)
    found = signing.read_blob(text)
    assert (found is not None) is read
    if read:
        assert found is not None and (found.kind, str(found)) == (kind, f"{kind} {blob}")
