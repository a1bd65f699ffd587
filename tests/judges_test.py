"""`agentops judges add|remove|list` and `agentops init`: the trust root an allowed-signers file."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from agentops_hooks.gates import policy
from agentops_hooks.gates.verdict import VerdictConfig
from agentops_hooks.evidence import trust
from conftest import GitRepo
from conftest import run_agentops
from conftest import signer_line

SIGNERS = ".agentops/allowed_signers"


def pub(key: Path) -> str:
    return str(key.parent / f"{key.name}.pub")


def test_add_writes_gits_format_that_ssh_keygen_verifies(repo: GitRepo, keys: dict[str, Path],
                                                          tmp_path: Path) -> None:
    code, out = run_agentops(repo, "judges", "add", "Riley Reviewer <riley@example.com>",
                             pub(keys["riley"]), "--namespace", "agentops-verdict",
                             "--valid-after", "20200101")
    assert code == 0, out
    line = (repo.root / SIGNERS).read_text()
    assert line.startswith('riley@example.com namespaces="agentops-verdict",valid-after="20200101" '
                           "ssh-ed25519 ")
    assert policy(repo.root).section(VerdictConfig).require_signature
    assert policy(repo.root).section(VerdictConfig).allowed_signers == SIGNERS
    # ssh-keygen reads the line as git would
    msg = tmp_path / "msg"
    msg.write_text("hello\n")
    subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-f", str(keys["riley"]), "-n", "agentops-verdict",
                    str(msg)], check=True, capture_output=True)
    with msg.open("rb") as data:
        verify = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(repo.root / SIGNERS), "-I",
                                 "riley@example.com", "-n", "agentops-verdict", "-s", f"{msg}.sig"],
                                stdin=data, capture_output=True, check=False)
    assert verify.returncode == 0, verify.stderr


def test_list_and_remove(repo: GitRepo, keys: dict[str, Path]) -> None:
    for who, key in (("Riley Reviewer <riley@example.com>", "riley"), ("Sam <sam@example.com>", "retired")):
        assert run_agentops(repo, "judges", "add", who, pub(keys[key]))[0] == 0
    code, out = run_agentops(repo, "judges", "list")
    assert code == 0
    fingerprint = subprocess.run(["ssh-keygen", "-lf", pub(keys["riley"])], capture_output=True,
                                 text=True, check=True).stdout.split()[1]
    assert f"riley@example.com  ssh-ed25519 {fingerprint}  (Riley Reviewer)" in out
    assert "sam@example.com" in out
    code, out = run_agentops(repo, "judges", "remove", "sam@example.com")
    assert code == 0, out
    assert "sam@example.com" not in (repo.root / SIGNERS).read_text()
    assert "riley@example.com" in (repo.root / SIGNERS).read_text()


@pytest.mark.parametrize(("args", "says"), [
    (["add", "Riley <riley@example.com>", "/nonexistent.pub"], "cannot read the public key"),
    (["add", "no email", "KEY"], "Name <email>"),
    (["add", "Riley <riley@example.com>", "KEY", "--valid-after", "soon"], "valid-after"),
    (["add", "Riley <riley@example.com>", "GARBAGE"], "is not an SSH public key"),
    (["remove", "nobody@example.com"], "is not a judge"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    repo: GitRepo, keys: dict[str, Path], tmp_path: Path, args: list[str], says: str,
) -> None:
    garbage = tmp_path / "garbage.pub"
    garbage.write_text("ssh-ed25519 not-base64!\n")
    args = [pub(keys["riley"]) if a == "KEY" else str(garbage) if a == "GARBAGE" else a for a in args]
    code, out = run_agentops(repo, "judges", *args)
    assert code == 2, out
    assert says in out and "Traceback" not in out
    assert not (repo.root / SIGNERS).exists() and not (repo.root / ".agentops.toml").exists()


def test_adding_the_same_key_twice_is_refused(repo: GitRepo, keys: dict[str, Path]) -> None:
    assert run_agentops(repo, "judges", "add", "Riley <riley@example.com>", pub(keys["riley"]))[0] == 0
    before = (repo.root / SIGNERS).read_text()
    code, out = run_agentops(repo, "judges", "add", "Riley <riley@example.com>", pub(keys["riley"]))
    assert code == 2 and "already a judge" in out
    assert (repo.root / SIGNERS).read_text() == before


@pytest.mark.parametrize(("line", "says"), [
    ("riley@example.com", "expected"),
    ("riley@example.com ssh-ed25519 AAAA", "not an SSH public key"),
    ('riley@example.com sometimes="x" KEY', "not an option"),
    ('riley@example.com valid-after="tomorrow" KEY', "valid-after needs a time"),
    ('riley@example.com namespaces="x KEY', "quote is not closed"),
])
def test_a_trust_file_that_does_not_parse_names_the_line(keys: dict[str, Path], line: str, says: str) -> None:
    key = " ".join(Path(pub(keys["riley"])).read_text().split()[:2])
    content = f"# judges\n{line.replace('KEY', key)}\n".encode()
    with pytest.raises(trust.TrustFileError, match=f"line 2 .*{says}"):
        trust.parse(content, "signers")


def test_parse_reads_what_ssh_keygen_accepts(keys: dict[str, Path]) -> None:
    text = ("# a comment\n\n" + signer_line("riley@example.com", keys["riley"])
            + 'sam@example.com,s@example.com namespaces="git,agentops-verdict" '
            + " ".join(Path(pub(keys["retired"])).read_text().split()[:2]) + " Sam\n")
    signers = trust.parse(text.encode(), "signers")
    assert [s.principals for s in signers] == ["riley@example.com", "sam@example.com,s@example.com"]
    assert signers[1].names("s@example.com") and signers[1].comment == "Sam"


def test_init_without_git_signing_says_how_and_still_requires_signatures(repo: GitRepo) -> None:
    code, out = run_agentops(repo, "init", "--no-hooks")
    assert code == 0, out
    assert "git config --global gpg.format ssh" in out and "agentops judges add" in out
    verdict = policy(repo.root).section(VerdictConfig)
    assert verdict.require_signature and verdict.allowed_signers == SIGNERS
    assert trust.parse((repo.root / SIGNERS).read_bytes(), SIGNERS) == []
    code, again = run_agentops(repo, "init", "--no-hooks")
    assert code == 0 and "require_signature = true already" in again


def test_init_no_signing_leaves_the_policy(repo: GitRepo) -> None:
    code, out = run_agentops(repo, "init", "--no-signing", "--no-hooks")
    assert code == 0, out
    assert not (repo.root / ".agentops.toml").exists()


def test_a_policy_in_pyproject_is_not_shadowed_and_nothing_is_written(repo: GitRepo, keys: dict[str, Path]) -> None:
    repo.write("pyproject.toml", "[tool.agentops.learnings]\nmin_changed_lines = 3\n")
    code, out = run_agentops(repo, "judges", "add", "Riley <riley@example.com>", pub(keys["riley"]))
    assert code == 2, out
    assert "[tool.agentops.verdict]" in out and len(out.strip().splitlines()) == 1
    assert not (repo.root / SIGNERS).exists() and not (repo.root / ".agentops.toml").exists()
