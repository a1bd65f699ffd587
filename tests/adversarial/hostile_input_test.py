"""Hostile and odd input: the hook and `agentops check` give a clear answer, never a traceback.

Every case runs the real commit-msg hook in-process and/or `agentops check`
through click's runner, and asserts the exit code (0 passed, 1 refused,
2 could not run), what the output names, and that nothing was written or lost.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from agentops_hooks.places import commit as hook
from agentops_hooks.change import StagedChange
from agentops_hooks.commands import cli
from agentops_hooks.git import Repo
from conftest import CLAUDE_TRAILER
from conftest import JUDGE
from conftest import GitRepo
from conftest import agent_message
from conftest import run_hook

NOTES = "refs/notes/agentops/verdicts"


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def clean(out: str) -> str:
    assert "Traceback" not in out, out
    return out


def verdict_for_staged(subject: str = "Agent work") -> str:
    """An agent message carrying a PASS verdict bound to what is staged now."""
    patch = StagedChange.from_message_file(Repo(), None).patch_id
    return agent_message(subject, f'Verdict: PASS judge="{JUDGE}" patch={patch}')


def refs(repo: GitRepo) -> str:
    """Every ref and what it names: a check must change none of them."""
    return repo.git("for-each-ref", "--format=%(refname) %(objectname)").stdout.decode()


@pytest.fixture
def based(repo: GitRepo) -> GitRepo:
    repo.stage("app.py", "x = 1\n")
    repo.commit("base")
    repo.git("tag", "base")
    return repo


# --- the commit message ------------------------------------------------------

@pytest.mark.parametrize(("message", "code", "says"), [
    pytest.param(b"Caf\xe9 \xff\xfe change\n\n" + CLAUDE_TRAILER.encode() + b"\n", 1, "verdict-missing",
                 id="not-utf8-agent"),
    pytest.param(b"\xff\xfe\xfd\n\n\x80\x81 body\n", 0, "human-authored", id="not-utf8-human"),
    pytest.param(b"", 0, "human-authored", id="empty"),
    pytest.param(b"\n\n\n", 0, "human-authored", id="blank-lines"),
    pytest.param(b"# only a comment\n", 0, "human-authored", id="only-comment"),
    pytest.param(agent_message("CRLF subject").replace("\n", "\r\n").encode(), 1, "verdict-missing",
                 id="crlf-agent"),
    pytest.param(b"CRLF human\r\n\r\nbody\r\n", 0, "human-authored", id="crlf-human"),
    pytest.param(b"s\x00with nul\n\n" + CLAUDE_TRAILER.encode() + b"\n", 1, "verdict-missing", id="nul-byte"),
])
def test_odd_message(based: GitRepo, capsys: pytest.CaptureFixture[str],
                     message: bytes, code: int, says: str) -> None:
    based.stage("app.py", "x = 2\n")
    got, out = run_hook(based, message, capsys, "--gate", "verdict")
    assert got == code, out
    assert says in clean(out)
    assert (based.root / ".git" / "COMMIT_EDITMSG").read_bytes() == message


def test_crlf_verdict_is_read(based: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    based.stage("app.py", "x = 2\n")
    message = verdict_for_staged().replace("\n", "\r\n")
    got, out = run_hook(based, message, capsys, "--gate", "verdict")
    assert got == 0, clean(out)


def test_five_megabyte_message(based: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    based.stage("app.py", "x = 2\n")
    body = ("lorem ipsum dolor sit amet " * 3 + "\n") * 62_000  # ~5 MB
    assert len(body) > 5_000_000
    message = "Huge message\n\n" + body + "\n" + CLAUDE_TRAILER + "\n"
    start = time.monotonic()
    got, out = run_hook(based, message, capsys, "--gate", "verdict", "--gate", "learnings")
    assert time.monotonic() - start < 20
    assert got == 1
    assert "verdict-missing" in clean(out)
    assert len(out) < 100_000  # the message is not echoed back
    # the same message with a valid verdict passes
    message = message.replace(CLAUDE_TRAILER + "\n", verdict_for_staged().split("\n\n", 1)[1])
    got, out = run_hook(based, message, capsys, "--gate", "verdict")
    assert got == 0, clean(out)


# --- the staged diff ----------------------------------------------------------

def test_binary_diff(based: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    based.stage("blob.bin", bytes(range(256)) * 40)
    got, out = run_hook(based, agent_message(), capsys, "--gate", "verdict", "--gate", "learnings")
    assert got == 1
    assert "verdict-missing" in clean(out)
    got, out = run_hook(based, verdict_for_staged(), capsys, "--gate", "verdict")
    assert got == 0, clean(out)
    based.commit(verdict_for_staged())
    based.stage("blob.bin", bytes(range(255, -1, -1)) * 40)
    based.git("commit", "-q", "--no-verify", "-m", agent_message("Binary again"))
    code, out = invoke("check", "--range", "base..HEAD", "--gate", "verdict")
    assert code == 1
    assert clean(out).count("verdict-") >= 1 and "Binary again" in out


def test_fifty_thousand_line_diff(based: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    based.stage("big.py", "".join(f"x{i} = {i}\n" for i in range(50_000)))
    start = time.monotonic()
    got, out = run_hook(based, agent_message(), capsys, "--gate", "verdict", "--gate", "learnings")
    assert got == 1
    assert "verdict-missing" in clean(out) and "learning" in out
    got, out = run_hook(based, verdict_for_staged() + "Learning: big files diff slowly\n", capsys,
                        "--gate", "verdict", "--gate", "learnings")
    assert got == 0, clean(out)
    based.commit(verdict_for_staged() + "Learning: big files diff slowly\n")
    code, out = invoke("check", "--range", "base..HEAD", "--gate", "verdict", "--gate", "learnings")
    assert code == 0, clean(out)
    assert time.monotonic() - start < 30


@pytest.mark.parametrize("path", ["new\nline.py", "tab\there.py", "naïve/文件 ü.py", "-dash.py",
                                  'quote"d.py', "back\\slash.py"])
def test_odd_path(based: GitRepo, capsys: pytest.CaptureFixture[str], path: str) -> None:
    based.stage(path, "y = 1\n")
    change = StagedChange.from_message_file(Repo(), None)
    assert [p.path for p in change.paths] == [path]
    got, out = run_hook(based, agent_message(), capsys, "--gate", "verdict")
    assert got == 1 and "verdict-missing" in clean(out)
    message = verdict_for_staged()
    got, out = run_hook(based, message, capsys, "--gate", "verdict")
    assert got == 0, clean(out)
    based.commit(message)
    code, out = invoke("check", "--range", "base..HEAD", "--gate", "verdict")
    assert code == 0, clean(out)
    code, out = invoke("check", "--commit", "HEAD", "--gate", "verdict")
    assert code == 0, clean(out)


def test_empty_commit(based: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    """Nothing staged: the empty patch is still a patch an agent must have judged."""
    got, out = run_hook(based, agent_message("Nothing staged"), capsys, "--gate", "verdict",
                        "--gate", "learnings")
    assert got == 1
    assert "verdict-missing" in clean(out) and "learnings-" not in out
    message = verdict_for_staged("Empty but judged")
    got, out = run_hook(based, message, capsys, "--gate", "verdict", "--gate", "learnings")
    assert got == 0, clean(out)
    based.commit(message, "--allow-empty")
    based.commit(agent_message("Empty unjudged"), "--allow-empty", "--no-verify")
    before = refs(based)
    code, out = invoke("check", "--range", "base..HEAD", "--gate", "verdict", "--gate", "learnings",
                       "--verbose")
    assert code == 1
    assert "2 commit(s)" in clean(out) and "Empty unjudged" in out and "Empty but judged" in out
    code, out = invoke("check", "--commit", "HEAD", "--gate", "verdict")
    assert code == 1 and "verdict-missing" in clean(out)
    code, out = invoke("check", "--commit", "HEAD~1", "--gate", "verdict")
    assert code == 0, clean(out)
    assert refs(based) == before


def test_root_commit(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.stage("first.py", "a = 1\n")
    got, out = run_hook(repo, agent_message(), capsys, "--gate", "verdict")
    assert got == 1 and "verdict-missing" in clean(out)
    message = verdict_for_staged("Root")
    got, out = run_hook(repo, message, capsys, "--gate", "verdict")
    assert got == 0, clean(out)
    repo.commit(message)
    code, out = invoke("check", "--commit", "HEAD", "--gate", "verdict")
    assert code == 0, clean(out)
    code, out = invoke("check", "--range", "HEAD", "--gate", "verdict")  # the whole history
    assert code == 0 and "1 commit(s)" in clean(out)
    repo.stage("second.py", "b = 1\n")
    repo.git("commit", "-q", "--no-verify", "-m", agent_message("Second"))
    root = repo.out("rev-list", "--max-parents=0", "HEAD")
    code, out = invoke("check", "--range", f"{root}..HEAD", "--gate", "verdict")
    assert code == 1 and "Second" in clean(out)


def test_octopus_merge_in_a_range(based: GitRepo) -> None:
    for name in ("one", "two", "three"):
        based.git("checkout", "-q", "-b", name, "base")
        based.stage(f"{name}.py", f"{name} = 1\n")
        based.commit(f"{name} work")
    based.git("checkout", "-q", "main")
    based.git("merge", "-q", "--no-edit", "-m", agent_message("Octopus"), "one", "two", "three")
    assert len(based.out("rev-list", "--parents", "-n1", "HEAD").split()) == 4
    before = refs(based)
    # git cannot remerge an octopus, so an agent's is judged as a whole: its
    # diff against the first parent, in a range as alone
    code, out = invoke("check", "--commit", "HEAD", "--gate", "verdict")
    assert code == 1 and "verdict-missing" in clean(out)
    code, out = invoke("check", "--range", "base..HEAD")
    assert code == 1 and "4 commit(s)" in out and "Octopus" in clean(out)
    assert refs(based) == before
    assert invoke("verdict", "pass", "--judge", JUDGE, "--commit", "HEAD")[0] == 0
    for fmt in ("text", "json", "markdown"):
        code, out = invoke("check", "--range", "base..HEAD", "--format", fmt, "--verbose")
        assert code == 0, out
        assert "Octopus" in clean(out) and "three work" in out


def test_detached_head_range(based: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    based.stage("app.py", "x = 2\n")
    based.git("commit", "-q", "--no-verify", "-m", agent_message("Unjudged"))
    based.git("checkout", "-q", "--detach", "HEAD")
    code, out = invoke("check", "--range", "base..HEAD", "--gate", "verdict")
    assert code == 1 and "Unjudged" in clean(out)
    based.stage("app.py", "x = 3\n")
    got, out = run_hook(based, verdict_for_staged(), capsys, "--gate", "verdict")
    assert got == 0, clean(out)


# --- odd repositories -----------------------------------------------------------

def test_sha256_repository(repo: GitRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "sha256"
    proc = subprocess.run(["git", "init", "-q", "--object-format=sha256", str(root)],
                          env=repo.env, capture_output=True, check=False)
    if proc.returncode != 0:
        pytest.skip("this git cannot make sha256 repositories")
    os.chdir(root)
    r = GitRepo(root, repo.env)
    r.stage("a.py", "a = 0\n")
    r.commit("base")
    assert len(r.head()) == 64
    r.stage("a.py", "a = 1\n")
    got, out = run_hook(r, agent_message(), capsys, "--gate", "verdict")
    assert got == 1 and "verdict-missing" in clean(out)
    message = verdict_for_staged()
    got, out = run_hook(r, message, capsys, "--gate", "verdict")
    assert got == 0, clean(out)
    r.commit(message)
    code, out = invoke("check", "--range", "HEAD~1..HEAD", "--gate", "verdict")
    assert code == 0, clean(out)
    code, out = invoke("verdict", "pass", "--judge", JUDGE, "--commit", "HEAD~1")
    assert code == 0, clean(out)
    code, out = invoke("check", "--range", "HEAD~1..HEAD")
    assert code in (0, 1)
    clean(out)


def test_linked_worktree(based: GitRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree = tmp_path / "linked"
    based.git("worktree", "add", "-q", "-b", "feature", str(tree))
    os.chdir(tree)
    w = GitRepo(tree, based.env)
    w.stage("app.py", "x = 5\n")
    git_dir = Path(w.out("rev-parse", "--absolute-git-dir"))
    assert git_dir != based.root / ".git"

    def hook_in_worktree(message: str) -> tuple[int, str]:
        msg = git_dir / "COMMIT_EDITMSG"
        msg.write_text(message, encoding="utf-8")
        code = hook.main(["--gate", "verdict", str(msg)])
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    got, out = hook_in_worktree(agent_message())
    assert got == 1 and "verdict-missing" in clean(out)
    message = verdict_for_staged()
    got, out = hook_in_worktree(message)
    assert got == 0, clean(out)
    w.commit(message)
    code, out = invoke("check", "--range", "base..HEAD", "--gate", "verdict")
    assert code == 0, clean(out)
    code, out = invoke("verdict", "pass", "--judge", JUDGE, "--commit", "HEAD")
    assert code == 0, clean(out)
    # the note is shared with the main worktree: one repository, one notes ref
    assert based.out("notes", "--ref=agentops/verdicts", "list", w.head())


def test_submodule_change(based: GitRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sub = GitRepo(tmp_path / "sub", based.env)
    sub.root.mkdir()
    sub.git("init", "-q")
    sub.stage("lib.py", "v = 1\n")
    sub.commit("lib 1")
    based.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub.root), "vendor/lib")
    change = StagedChange.from_message_file(Repo(), None)
    assert sorted(p.path for p in change.paths) == [".gitmodules", "vendor/lib"]
    got, out = run_hook(based, agent_message("Add submodule"), capsys, "--gate", "verdict",
                        "--gate", "learnings")
    assert got == 1 and "verdict-missing" in clean(out)
    message = verdict_for_staged("Add submodule")
    got, out = run_hook(based, message, capsys, "--gate", "verdict")
    assert got == 0, clean(out)
    based.commit(message)
    # move the submodule's pointer: a gitlink-only diff
    inner = GitRepo(based.root / "vendor" / "lib", based.env)
    inner.stage("lib.py", "v = 2\n")
    inner.commit("lib 2")
    based.git("add", "vendor/lib")
    got, out = run_hook(based, agent_message("Bump lib"), capsys, "--gate", "verdict")
    assert got == 1 and "verdict-missing" in clean(out)
    message = verdict_for_staged("Bump lib")
    got, out = run_hook(based, message, capsys, "--gate", "verdict")
    assert got == 0, clean(out)
    based.commit(message)
    code, out = invoke("check", "--range", "base..HEAD", "--gate", "verdict", "--gate", "learnings")
    assert code == 0, clean(out)


def test_hooks_path_set(based: GitRepo, tmp_path: Path) -> None:
    """The hook installed under core.hooksPath refuses through real `git commit`."""
    hooks = tmp_path / "shared-hooks"
    hooks.mkdir()
    based.git("config", "core.hooksPath", str(hooks))
    script = hooks / "commit-msg"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m agentops_hooks.places.commit --gate verdict "$@"\n')
    script.chmod(0o755)
    based.stage("app.py", "x = 2\n")
    head = based.head()
    proc = based.commit(agent_message("Unjudged"), check=False)
    assert proc.returncode != 0
    err = (proc.stdout + proc.stderr).decode()
    assert "verdict-missing" in err and "Traceback" not in err
    assert based.head() == head
    proc = based.commit(verdict_for_staged(), check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    code, out = invoke("check", "--range", "base..HEAD", "--gate", "verdict")
    assert code == 0, clean(out)


@pytest.mark.parametrize("char", ["auto", ";"])
def test_comment_char(based: GitRepo, capsys: pytest.CaptureFixture[str], char: str) -> None:
    based.git("config", "core.commentChar", char)
    based.stage("app.py", "x = 2\n")
    real = verdict_for_staged()
    verdict_line = real.splitlines()[-1]
    shown = "#" if char == "auto" else char
    # a verdict only inside git's comment lines does not count
    commented = agent_message() + f"{shown} {verdict_line}\n{shown} Please enter the commit message\n"
    got, out = run_hook(based, commented, capsys, "--gate", "verdict")
    assert got == 1, out
    assert "verdict-missing" in clean(out)
    got, out = run_hook(based, real + f"{shown} Please enter the commit message\n", capsys, "--gate", "verdict")
    assert got == 0, clean(out)
    # through real git: the message git writes, with its comments, is judged the same
    based.install_agentops_hook("--gate", "verdict")
    proc = based.git("commit", "-q", "--cleanup=strip", "-F", "-", input=real.encode(), check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    code, out = invoke("check", "--range", "base..HEAD", "--gate", "verdict")
    assert code == 0, clean(out)


def test_shallow_clone_range_past_history(based: GitRepo, tmp_path: Path) -> None:
    for i in range(3):
        based.stage("app.py", f"x = {i + 10}\n")
        based.commit(f"step {i}")
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{based.root}", str(clone)],
                   check=True, env=based.env, capture_output=True)
    os.chdir(clone)
    base = based.out("rev-parse", "base")
    for spec in (f"{base}..HEAD", "HEAD~2..HEAD", "HEAD~1..HEAD"):
        code, out = invoke("check", "--range", spec)
        assert code == 2, (spec, out)
        assert "fetch-depth: 0" in clean(out), spec


# --- corrupt evidence and policy ------------------------------------------------

NOTE_GARBAGE = [
    b"not json at all\n",
    b"\xff\xfe\x00\x01 binary junk\n",
    b'{"v": 1, "status": "PASS"\n',
    b'{"v": 999, "status": "PASS", "judge": "x", "patch_id": null}\n',
    b"null\n[]\n\"string\"\n42\n",
    b'{"v": 1, "status": "PASS", "judge": "' + b"A" * 200_000 + b'"}\n',
    b"\r\n\r\n\t\n",
]


def test_corrupt_notes_lines(based: GitRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    based.stage("app.py", "x = 2\n")
    based.git("commit", "-q", "--no-verify", "-m", agent_message("Unjudged"))
    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"".join(NOTE_GARBAGE))
    for rev in ("HEAD", "base"):
        based.git("notes", "--ref=agentops/verdicts", "add", "-F", str(garbage), rev)
    before = refs(based)
    code, out = invoke("check", "--range", "base..HEAD", "--gate", "verdict")
    assert code == 1
    assert "verdict-missing" in clean(out) and "Unjudged" in out
    code, out = invoke("check", "--gate", "verdict")
    assert code == 1 and "verdict-missing" in clean(out)
    code, out = invoke("review", "--format", "json")
    assert code in (0, 1)
    clean(out)
    based.stage("app.py", "x = 3\n")
    got, out = run_hook(based, agent_message(), capsys, "--gate", "verdict")
    assert got == 1 and "verdict-missing" in clean(out)
    assert refs(based) == before


def test_notes_ref_naming_a_blob(based: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    blob = based.git("hash-object", "-w", "--stdin", input=b"not a notes commit\n").stdout.decode().strip()
    based.git("update-ref", NOTES, blob)
    based.stage("app.py", "x = 2\n")
    based.git("commit", "-q", "--no-verify", "-m", agent_message("Unjudged"))
    code, out = invoke("check", "--range", "base..HEAD", "--gate", "verdict")
    assert code == 2, out  # cannot read the evidence: never a pass
    assert clean(out).startswith("agentops: error:")
    based.stage("app.py", "x = 3\n")
    got, out = run_hook(based, agent_message(), capsys, "--gate", "verdict")
    assert got == 2, out
    assert clean(out).startswith("agentops: error:")
    assert f"{NOTES} ({blob[:12]}) is not a notes commit" in out
    assert f"git update-ref -d {NOTES}" in out
    assert based.out("rev-parse", NOTES) == blob


@pytest.mark.parametrize("text", ["[verdict\n", "gates = [\n", "x = = 1\n", "\xff\n"])
def test_config_not_valid_toml(based: GitRepo, capsys: pytest.CaptureFixture[str], text: str) -> None:
    path = based.root / ".agentops.toml"
    path.write_bytes(text.encode("utf-8", "surrogateescape") if text != "\xff\n" else b"\xff\n")
    based.stage("app.py", "x = 2\n")
    got, out = run_hook(based, agent_message(), capsys)
    assert got == 2, out
    assert ".agentops.toml" in clean(out)
    code, out = invoke("check", "--staged")
    assert code == 2 and ".agentops.toml" in clean(out)
    # committed at the base of a range, the policy of the range is unreadable
    based.git("add", ".agentops.toml")
    based.git("commit", "-q", "--no-verify", "-m", "bad config")
    based.git("tag", "badbase")
    based.stage("app.py", "x = 3\n")
    based.git("commit", "-q", "--no-verify", "-m", "after")
    code, out = invoke("check", "--range", "badbase..HEAD")
    assert code == 2, out
    assert ".agentops.toml" in clean(out)


def test_hanging_metric_command(based: GitRepo) -> None:
    based.write(".agentops.toml", '[ratchet.metrics.m]\ncommand = "sleep 30"\ntimeout = 1\ndirection = "higher"\n')
    before = refs(based)
    for verb in ("check", "record"):
        start = time.monotonic()
        code, out = invoke("ratchet", verb)
        assert time.monotonic() - start < 10, verb
        assert code == 2, out
        assert "m" in clean(out) and ("1 s" in out or "timeout" in out or "did not finish" in out)
    assert refs(based) == before
