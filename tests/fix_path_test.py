"""The way from a refused agent commit to an accepted one, as the refusal tells it.

Real commits through the commit-msg hook; the refusal's fix lines are run as
printed, in the order printed: learning first, the verdict (which binds the
staged change) last.
"""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CLAUDE_TRAILER
from conftest import JUDGE
from conftest import GitRepo

AGENT = "Add the parser\n\n" + CLAUDE_TRAILER + "\n"
LESSON = "Staging after a verdict voids it, so the judge goes last"


def findings(text: str) -> list[tuple[str, str]]:
    """(header, fix) of each finding of a refusal, in the order printed."""
    return re.findall(r"^(\[[^\]]+\] \S+ \S+)\n  .*\n  fix: (.*)$", text, re.M)


def agentops(repo: GitRepo, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    proc = subprocess.run([sys.executable, "-m", "agentops_hooks.commands", *args], cwd=repo.root,
                          env=env or repo.env, capture_output=True, text=True)
    return proc.returncode, proc.stdout, proc.stderr


def commit(repo: GitRepo, *args: str) -> tuple[int, str]:
    proc = repo.git("commit", "-q", *args, check=False)
    return proc.returncode, proc.stdout.decode() + proc.stderr.decode()


@pytest.fixture
def judge_env(repo: GitRepo, keys: dict[str, Path], tmp_path: Path) -> dict[str, str]:
    """The judge's own git: their identity and signing key, as `git commit -S` finds it."""
    home = tmp_path / "judge"
    home.mkdir()
    name, email = JUDGE[:-1].split(" <")
    (home / ".gitconfig").write_text(f"[user]\n\tname = {name}\n\temail = {email}\n"
                                     f"\tsigningkey = {keys['riley']}\n[gpg]\n\tformat = ssh\n")
    env = {k: v for k, v in repo.env.items() if not k.startswith(("GIT_AUTHOR_", "GIT_COMMITTER_"))}
    return {**env, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}


@pytest.fixture
def refused(repo: GitRepo) -> str:
    """An agent's change of 30 lines refused at commit time: its refusal."""
    repo.install_agentops_hook()
    repo.stage("README", "hello\n")
    repo.commit("Initial commit by a human")
    repo.message_file(AGENT)
    repo.stage("parser.py", "".join(f"line_{i} = {i}\n" for i in range(30)))
    code, out = commit(repo, "-F", ".git/COMMIT_EDITMSG")
    assert code == 1, out
    return out


def test_the_refusal_lists_the_learning_first_and_the_verdict_last(refused: str) -> None:
    assert [header for header, _ in findings(refused)] == [
        "[IX Extract Learnings] learnings: learning-missing",
        "[VII Validate Externally] verdict: verdict-missing",
    ]
    assert findings(refused)[1][1] == (
        "last, as the verdict binds the staged change and any later staging (git add, agentops "
        "learn) voids it: ask an independent judge to review it (no agent grades its own work); "
        "the judge runs: agentops verdict pass --sign --message-file .git/COMMIT_EDITMSG; then "
        "git commit --cleanup=strip -F .git/COMMIT_EDITMSG"
    )


def test_following_the_refusal_in_order_lands_the_commit(
        repo: GitRepo, refused: str, judge_env: dict[str, str]) -> None:
    (_, learning), (_, verdict) = findings(refused)
    # The learning's line: its command with the placeholders filled in, then the retry.
    learn, retry = learning.split(";")[0].split("   then ")
    learn = learn.replace("<what this change taught>", LESSON).replace("<short title>", "Judge last")
    code, out, err = agentops(repo, *shlex.split(learn)[1:])
    assert code == 0 and err == "", err  # nothing was judged yet: no warning
    code, out = commit(repo, *shlex.split(retry)[2:])
    assert code == 1 and [h for h, _ in findings(out)] == [
        "[VII Validate Externally] verdict: verdict-missing"]
    # The verdict's line: the judge's command, then the retry.
    judge_runs, retry = verdict.split("the judge runs: ")[1].split("; then ")
    code, out, err = agentops(repo, *shlex.split(judge_runs)[1:], env=judge_env)
    assert code == 0, err
    code, out = commit(repo, *shlex.split(retry)[2:])
    assert code == 0, out
    message = repo.out("log", "-1", "--format=%B")
    assert message.count("Verdict: PASS") == 1 and "Verdict-Signature:" in message
    assert LESSON in repo.out("show", "HEAD:learnings.md")


def test_a_verdict_before_the_learning_is_warned_about_named_and_replaced(
        repo: GitRepo, refused: str, judge_env: dict[str, str]) -> None:
    code, out, err = agentops(repo, "verdict", "pass", "--message-file", ".git/COMMIT_EDITMSG",
                              env=judge_env)
    assert code == 0, err
    judged = re.search(r"patch=([0-9a-f]{40})", out)[1]  # type: ignore[index]
    code, out, err = agentops(repo, "learn", LESSON, "--title", "Judge last")
    assert code == 0, err
    assert err == (
        f"agentops: warning: the verdict of {JUDGE} bound the staged change as it was; staging "
        "the learning changed it, so that verdict no longer counts: ask the judge to review it "
        "again (agentops verdict pass --message-file .git/COMMIT_EDITMSG replaces the stale "
        "trailer)\n")
    staged_tree = repo.out("write-tree")
    now = agentops(repo, "check", "--staged", "--format", "json")[1]
    patch = re.search(r'"patch_id": "([0-9a-f]{40})"', now)[1]  # type: ignore[index]

    code, out = commit(repo, "--cleanup=strip", "-F", ".git/COMMIT_EDITMSG")
    assert code == 1
    (header, _), = findings(out)
    assert header == "[VII Validate Externally] verdict: verdict-wrong-patch"
    tree_judged = [line for line in repo.out("notes", "--ref", "agentops/verdicts", "list").splitlines()]
    assert len(tree_judged) == 1 and staged_tree not in tree_judged[0]
    judged_on = tree_judged[0].split()[1]
    assert (f"the verdict of {JUDGE} (trailer) is bound to patch {judged}, but this change is "
            f"patch {patch}: it was edited after judging (learnings.md changed since the judge "
            f"saw it as {judged_on[:12]}).") in out

    code, out, err = agentops(repo, "verdict", "pass", "--message-file", ".git/COMMIT_EDITMSG",
                              env=judge_env)
    assert code == 0, err
    assert (f"agentops: replaced your verdict for patch {judged[:12]} (the change as it was when "
            "you judged it) in .git/COMMIT_EDITMSG\n") in err
    message = (repo.root / ".git" / "COMMIT_EDITMSG").read_text()
    assert message == f"{AGENT}Verdict: PASS judge=\"{JUDGE}\" patch={patch}\n"
    code, out = commit(repo, "--cleanup=strip", "-F", ".git/COMMIT_EDITMSG")
    assert code == 0, out


def test_verdict_replaces_only_its_own_stale_trailers(repo: GitRepo, refused: str,
                                                      judge_env: dict[str, str]) -> None:
    stale = "0" * 40
    other = f'Verdict: FAIL judge="Olga Other <olga@example.com>" patch={stale}\n'
    mine = (f'Verdict: PASS judge="{JUDGE}" patch={stale}\nVerdict-Evidence: read it\n'
            "Verdict-Signature: AAAA\n  BBBB\n")
    repo.message_file(f"Add the parser\n\nWhy: the old one\nwas slow.\n\n{CLAUDE_TRAILER}\n{other}{mine}")
    code, out, err = agentops(repo, "verdict", "pass", "--message-file", ".git/COMMIT_EDITMSG",
                              env=judge_env)
    assert code == 0, err
    kept = (repo.root / ".git" / "COMMIT_EDITMSG").read_text()
    assert kept.startswith(f"Add the parser\n\nWhy: the old one\nwas slow.\n\n{CLAUDE_TRAILER}\n{other}"
                           "Verdict: PASS ")
    assert stale not in kept.split(other)[1] and "BBBB" not in kept and "read it" not in kept
    assert kept.count("Verdict: ") == 2


def test_learn_without_a_verdict_says_nothing_more(repo: GitRepo, refused: str) -> None:
    code, out, err = agentops(repo, "learn", LESSON, "--title", "Judge last")
    assert (code, err) == (0, "")
    assert out == 'agentops: added "Judge last" to learnings.md (staged)\n'
    assert os.path.exists(repo.root / "learnings.md")
