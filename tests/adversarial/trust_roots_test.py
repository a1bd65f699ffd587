"""Class 7: trust roots (the allowed signers, `verdict.judges`,
`privilege.human_judges`) come from the protected side — the range's base in
CI, the protected ref's old tip on the server — never from the commits being
judged.

Attacks tried:

- a branch cut before a judge's key was rotated out of the allowed signers on
  `main` carries an agent commit with a verdict signed by the retired key;
  merged into `main` (a merge commit) and checked in CI, pushed to the server;
- an agent's commit adds its own key to the allowed signers, and the next
  agent commit's verdict is signed with that key (the parent of the second
  commit holds the key);
- a pushed commit adds an accomplice to `privilege.human_judges` and
  `verdict.judges`, and a later commit of the same push is "judged" by them;
- the same key trick at pre-push (advice, but it should not admit what CI refuses).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import JUDGE
from conftest import GitRepo
from conftest import agent_commit
from conftest import push
from conftest import remote
from conftest import run_agentops
from conftest import signer_line
from conftest import text

SIGNERS = ".agentops/allowed_signers"
POLICY = f'[verdict]\nrequire_signature = true\nallowed_signers = "{SIGNERS}"\n'
NOTES = "refs/notes/agentops/verdicts"


def signed_verdict(repo: GitRepo, rev: str, key: Path) -> None:
    code, out = run_agentops(repo, "verdict", "pass", "--judge", JUDGE, "--commit", rev,
                             "--sign-key", str(key))
    assert code == 0, out


@pytest.fixture
def rotated(server: tuple, keys: dict[str, Path]) -> tuple:
    """main requires signed verdicts; a branch `feature` is cut while the retired
    key is listed, with an agent commit signed by it; then main rotates it out."""
    bare, repo = server
    repo.stage(SIGNERS, signer_line("riley@example.com", keys["retired"]))
    repo.stage(".agentops.toml", POLICY)
    repo.commit("Signed verdicts, Riley's key")
    assert push(repo, "main").returncode == 0
    repo.git("checkout", "-q", "-b", "feature")
    agent = agent_commit(repo, "b.py", "b = 1\n", "Agent work", "Learning: b holds the one")
    signed_verdict(repo, agent, keys["retired"])
    repo.git("checkout", "-q", "main")
    repo.stage(SIGNERS, signer_line("riley@example.com", keys["riley"]))
    repo.commit("Rotate Riley's key: the old one leaked")
    assert push(repo, "main").returncode == 0
    return bare, repo, agent


def test_the_retired_key_still_verifies_against_the_branch_point(rotated: tuple) -> None:
    """The control: on its own branch, judged by the policy it was cut from, it passes."""
    _, repo, agent = rotated
    code, out = run_agentops(repo, "check", "--range", f"{agent}~1..{agent}")
    assert code == 0, out


def test_a_key_rotated_out_on_main_admits_nothing_in_ci(rotated: tuple) -> None:
    _, repo, agent = rotated
    base = repo.head()
    repo.git("merge", "-q", "--no-ff", "--no-verify", "-m", "Merge feature", "feature")
    code, out = run_agentops(repo, "check", "--range", f"{base}..HEAD")
    assert code == 1, out
    assert "verdict-signature-invalid" in out and agent[:12] in out
    assert f"{SIGNERS} at {base[:12]}" in out


def test_a_key_rotated_out_on_main_admits_nothing_on_the_server(rotated: tuple) -> None:
    bare, repo, agent = rotated
    tip = repo.head()
    repo.git("merge", "-q", "--no-ff", "--no-verify", "-m", "Merge feature", "feature")
    proc = push(repo, "main", NOTES)
    assert proc.returncode != 0
    assert "verdict-signature-invalid" in text(proc)
    assert remote(bare, "refs/heads/main") == tip


def test_a_key_an_agent_commit_adds_admits_nothing_later_in_the_range(
    server: tuple, keys: dict[str, Path],
) -> None:
    bare, repo = server
    repo.stage(SIGNERS, signer_line("riley@example.com", keys["riley"]))
    repo.stage(".agentops.toml", POLICY)
    repo.commit("Signed verdicts")
    assert push(repo, "main").returncode == 0
    base = repo.head()
    agent_commit(repo, SIGNERS, signer_line("riley@example.com", keys["riley"])
                 + signer_line("riley@example.com", keys["agent"]), "Add a key")
    later = agent_commit(repo, "b.py", "b = 1\n", "Agent work", "Learning: b holds the one")
    signed_verdict(repo, later, keys["agent"])
    # The parent of `later` lists the agent's key; the range's base does not.
    code, out = run_agentops(repo, "check", "--range", f"{base}..HEAD", "--gate", "verdict")
    assert code == 1, out
    assert "verdict-signature-invalid" in out and later[:12] in out
    proc = push(repo, "main", NOTES)
    assert proc.returncode != 0 and remote(bare, "refs/heads/main") == base


def test_judges_a_push_adds_do_not_judge_the_same_push(server: tuple) -> None:
    bare, repo = server
    repo.stage(".agentops.toml", '[privilege]\nhuman_judges = ["hugo@example.com"]\n')
    repo.commit("Hugo judges privileged changes")
    assert push(repo, "main").returncode == 0
    tip = repo.head()
    accomplice = "Acc Omplice <acc@example.com>"
    repo.stage(".agentops.toml", '[privilege]\nhuman_judges = ["hugo@example.com", "acc@example.com"]\n'
               '[verdict]\njudges = ["acc@example.com"]\n')
    repo.commit("More judges")  # a human's policy change: accepted on its own
    agent_commit(repo, ".pre-commit-config.yaml", "repos: []\n", "Drop the hooks",
                 "Learning: hooks slow the agent down")
    for rev in ("HEAD~1", "HEAD"):
        code, out = run_agentops(repo, "verdict", "pass", "--judge", accomplice, "--commit", rev)
        assert code == 0, out
    proc = push(repo, "main", NOTES)
    assert proc.returncode != 0
    assert "privilege-protected-path" in text(proc) and "not in privilege.human_judges" in text(proc)
    assert remote(bare, "refs/heads/main") == tip


def test_pre_push_reads_the_trust_roots_from_what_the_remote_has(
    repo: GitRepo, keys: dict[str, Path],
) -> None:
    """pre-push is advice, but it should not admit what CI will refuse."""
    repo.stage(SIGNERS, signer_line("riley@example.com", keys["riley"]))
    repo.stage(".agentops.toml", POLICY)
    repo.commit("Signed verdicts")
    base = repo.head()
    agent_commit(repo, SIGNERS, signer_line("riley@example.com", keys["riley"])
                 + signer_line("riley@example.com", keys["agent"]), "Add a key")
    later = agent_commit(repo, "b.py", "b = 1\n", "Agent work", "Learning: b holds the one")
    signed_verdict(repo, later, keys["agent"])
    proc = subprocess.run(
        [sys.executable, "-m", "agentops_hooks.places.commit", "--push", "--gate", "verdict"],
        cwd=repo.root, capture_output=True, text=True,
        env={**repo.env, "PRE_COMMIT_FROM_REF": base, "PRE_COMMIT_TO_REF": later})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "verdict-signature-invalid" in proc.stdout and later[:12] in proc.stdout


# --- a trust root from outside the repository: `--trust FILE` in CI, the server's config ----

@pytest.fixture
def tree_lists_the_agent(server: tuple, keys: dict[str, Path], tmp_path: Path) -> tuple:
    """The tree's allowed signers (on main) list the agent's key for Riley too; the
    trust root kept outside the repository lists only Riley's real key."""
    bare, repo = server
    repo.stage(SIGNERS, signer_line("riley@example.com", keys["riley"])
               + signer_line("riley@example.com", keys["agent"]))
    repo.stage(".agentops.toml", f'[verdict]\nallowed_signers = "{SIGNERS}"\n')
    repo.commit("Allowed signers (one key too many)")
    assert push(repo, "main").returncode == 0
    base = repo.head()
    outside = tmp_path / "ci-trust"
    outside.write_text(signer_line("riley@example.com", keys["riley"]))
    agent = agent_commit(repo, "b.py", "b = 1\n", "Agent work", "Learning: b holds the one")
    return bare, repo, base, agent, outside


def test_trust_file_wins_over_the_tree_in_ci(tree_lists_the_agent: tuple, keys: dict[str, Path]) -> None:
    _, repo, base, agent, outside = tree_lists_the_agent
    signed_verdict(repo, agent, keys["agent"])
    code, out = run_agentops(repo, "check", "--range", f"{base}..{agent}")
    assert code == 0, out  # the tree's file admits the agent's key
    assert "unsigned verdicts accepted: any agent can type one" in out
    code, out = run_agentops(repo, "check", "--range", f"{base}..{agent}", "--trust", str(outside))
    assert code == 1, out
    assert "verdict-signature-invalid" in out and f"--trust {outside}" in out
    assert "unsigned verdicts accepted" not in out
    signed_verdict(repo, agent, keys["riley"])
    code, out = run_agentops(repo, "check", "--range", f"{base}..{agent}", "--trust", str(outside))
    assert code == 0, out


def test_trust_file_requires_signatures_whatever_the_policy(tree_lists_the_agent: tuple) -> None:
    _, repo, base, agent, outside = tree_lists_the_agent
    code, out = run_agentops(repo, "verdict", "pass", "--judge", JUDGE, "--commit", agent)
    assert code == 0, out
    assert run_agentops(repo, "check", "--range", f"{base}..{agent}")[0] == 0
    code, out = run_agentops(repo, "check", "--range", f"{base}..{agent}", "--trust", str(outside))
    assert code == 1 and "verdict-unsigned" in out, out


@pytest.mark.parametrize(("content", "says"), [
    (None, "cannot read --trust"),
    ("riley@example.com ssh-ed25519\n", "line 1 is not an allowed-signers line"),
    ("# nobody\n", "lists no judge"),
    (b"\xff\xfe\n", "not UTF-8"),
])
def test_a_trust_file_that_does_not_parse_is_one_line_exit_2(
    tree_lists_the_agent: tuple, tmp_path: Path, content: str | bytes | None, says: str,
) -> None:
    _, repo, base, agent, _ = tree_lists_the_agent
    bad = tmp_path / "bad-trust"
    if isinstance(content, bytes):
        bad.write_bytes(content)
    elif content is not None:
        bad.write_text(content)
    code, out = run_agentops(repo, "check", "--range", f"{base}..{agent}", "--trust", str(bad))
    assert code == 2, out
    assert says in out and len(out.strip().splitlines()) == 1


def test_the_servers_allowed_signers_win_over_the_tree(
    tree_lists_the_agent: tuple, keys: dict[str, Path],
) -> None:
    bare, repo, base, agent, outside = tree_lists_the_agent
    subprocess.run(["git", "config", "agentops.allowedSigners", str(outside)], cwd=bare, check=True)
    signed_verdict(repo, agent, keys["agent"])
    pushed = push(repo, f"{agent}:refs/heads/main", NOTES)
    assert pushed.returncode != 0
    assert "verdict-signature-invalid" in text(pushed) and "agentops.allowedSigners" in text(pushed)
    assert remote(bare, "refs/heads/main") == base
    signed_verdict(repo, agent, keys["riley"])
    pushed = push(repo, f"{agent}:refs/heads/main", NOTES)
    assert pushed.returncode == 0, text(pushed)


def test_the_servers_require_signature_refuses_unsigned_verdicts(server: tuple) -> None:
    bare, repo = server
    agent = agent_commit(repo, "b.py", "b = 1\n", "Agent work", "Learning: b holds the one")
    assert run_agentops(repo, "verdict", "pass", "--judge", JUDGE, "--commit", agent)[0] == 0
    subprocess.run(["git", "config", "agentops.requireSignature", "true"], cwd=bare, check=True)
    pushed = push(repo, "main", NOTES)
    assert pushed.returncode != 0 and "verdict-unsigned" in text(pushed), text(pushed)
    subprocess.run(["git", "config", "agentops.requireSignature", "false"], cwd=bare, check=True)
    pushed = push(repo, "main", NOTES)
    assert pushed.returncode == 0, text(pushed)
    assert "unsigned verdicts accepted" in text(pushed)


def test_a_server_trust_file_that_does_not_parse_refuses_the_push(server: tuple, tmp_path: Path) -> None:
    bare, repo = server
    bad = tmp_path / "bad"
    bad.write_text("not a signers line\n")
    subprocess.run(["git", "config", "agentops.allowedSigners", str(bad)], cwd=bare, check=True)
    repo.stage("c.py", "c = 1\n")
    repo.commit("Human work")
    pushed = push(repo, "main")
    assert pushed.returncode != 0
    assert "the check could not run" in text(pushed) and "line 1" in text(pushed)
