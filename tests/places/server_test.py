"""`agentops pre-receive` in a real bare repository, with real pushes over file://."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import JUDGE
from conftest import GitRepo
from conftest import agent_message
from conftest import agentops
from conftest import push
from conftest import remote
from conftest import text

def test_good_push_lands(server: tuple[Path, GitRepo]) -> None:
    bare, repo = server
    repo.stage("b.py", "b = 1\n")
    repo.commit("Human work")
    proc = push(repo, "main")
    assert proc.returncode == 0, text(proc)
    assert remote(bare, "main") == repo.head()


def test_unjudged_agent_commit_is_refused_and_the_ref_does_not_move(server: tuple[Path, GitRepo]) -> None:
    bare, repo = server
    before = remote(bare, "main")
    repo.stage("b.py", "b = 1\n")
    repo.git("commit", "-q", "--no-verify", "-m", agent_message("Agent work, no verdict"))
    proc = push(repo, "main")
    assert proc.returncode != 0
    out = text(proc)
    assert "remote: " in out and "pre-receive hook declined" in out
    assert "Agent work, no verdict" in out and "verdict" in out
    assert remote(bare, "main") == before


def test_verdict_pushed_with_the_commit_in_notes_is_accepted(server: tuple[Path, GitRepo]) -> None:
    bare, repo = server
    repo.stage("b.py", "b = 1\n")
    repo.git("commit", "-q", "--no-verify", "-m", agent_message("Agent work, judged later"))
    agentops(repo, "verdict", "pass", "--judge", JUDGE, "--commit", "HEAD")
    proc = push(repo, "main", "refs/notes/agentops/verdicts")
    assert proc.returncode == 0, text(proc)
    assert remote(bare, "main") == repo.head()


def test_unprotected_branch_is_not_checked(server: tuple[Path, GitRepo]) -> None:
    bare, repo = server
    repo.git("checkout", "-q", "-b", "feature")
    repo.stage("b.py", "b = 1\n")
    repo.git("commit", "-q", "--no-verify", "-m", agent_message("WIP by an agent"))
    proc = push(repo, "feature")
    assert proc.returncode == 0, text(proc)


def test_new_protected_branch_checks_only_new_commits(server: tuple[Path, GitRepo]) -> None:
    bare, repo = server
    repo.git("checkout", "-q", "-b", "release/1.0")
    repo.stage("b.py", "b = 1\n")
    repo.git("commit", "-q", "--no-verify", "-m", agent_message("Agent release fix"))
    proc = push(repo, "release/1.0")
    assert proc.returncode != 0
    assert "Agent release fix" in text(proc)
    assert remote(bare, "refs/heads/release/1.0") == ""


def test_deleting_a_protected_branch_is_refused(server: tuple[Path, GitRepo]) -> None:
    bare, repo = server
    proc = push(repo, ":main")
    assert proc.returncode != 0
    assert "is protected and cannot be deleted" in text(proc)


def test_protected_refs_come_from_the_servers_head(server: tuple[Path, GitRepo]) -> None:
    bare, repo = server
    repo.stage(".agentops.toml", 'protected = ["refs/heads/main", "refs/heads/prod"]\n')
    repo.commit("Protect prod")
    assert push(repo, "main").returncode == 0
    repo.git("checkout", "-q", "-b", "prod")
    repo.stage("b.py", "b = 1\n")
    repo.git("commit", "-q", "--no-verify", "-m", agent_message("Agent on prod"))
    assert push(repo, "prod").returncode != 0
    repo.git("checkout", "-q", "-b", "release/2", "main")
    repo.stage("c.py", "c = 1\n")
    repo.git("commit", "-q", "--no-verify", "-m", agent_message("Agent on release"))
    assert push(repo, "release/2").returncode == 0  # no longer protected by this policy


def test_rewriting_or_deleting_verdict_notes_is_refused(server: tuple[Path, GitRepo]) -> None:
    bare, repo = server
    agentops(repo, "verdict", "fail", "--judge", JUDGE, "--commit", "HEAD")
    assert push(repo, "refs/notes/agentops/verdicts").returncode == 0
    ledger = remote(bare, "refs/notes/agentops/verdicts")
    # Rewrite the note to hide the FAIL, then force-push it.
    repo.git("notes", "--ref=agentops/verdicts", "add", "-f", "-m", "{}", "HEAD")
    repo.git("update-ref", "refs/notes/agentops/verdicts", repo.out("commit-tree", "-m", "rewrite",
             repo.out("rev-parse", "refs/notes/agentops/verdicts^{tree}")))
    proc = push(repo, "refs/notes/agentops/verdicts", force=True)
    assert proc.returncode != 0
    rewritten = repo.out("rev-parse", "refs/notes/agentops/verdicts")
    assert (f"refs/notes/agentops/verdicts: {rewritten[:12]} does not contain {ledger[:12]}: rewriting the "
            "ledger is refused (fetch, merge with `agentops notes sync`, push again)") in text(proc)
    # Append-looking history that still removes a line.
    repo.git("update-ref", "refs/notes/agentops/verdicts", ledger)
    repo.git("notes", "--ref=agentops/verdicts", "add", "-f", "-m", "{}", "HEAD")
    proc = push(repo, "refs/notes/agentops/verdicts")
    assert proc.returncode != 0
    assert "removed or changed 1 line(s)" in text(proc)
    proc = push(repo, ":refs/notes/agentops/verdicts")
    assert proc.returncode != 0
    assert "deleting the ledger is refused" in text(proc)
    assert remote(bare, "refs/notes/agentops/verdicts") == ledger


def test_a_verdict_in_a_refused_notes_update_does_not_count(server: tuple[Path, GitRepo]) -> None:
    """The verdicts of a notes update the push refuses are not read for its commits:
    the agent commit is reported unjudged, not admitted by evidence that was refused."""
    bare, repo = server
    agentops(repo, "verdict", "fail", "--judge", JUDGE, "--commit", "HEAD")
    assert push(repo, "refs/notes/agentops/verdicts").returncode == 0
    repo.stage("b.py", "b = 1\n")
    repo.git("commit", "-q", "--no-verify", "-m", agent_message("Agent work, judged in a rewrite"))
    agentops(repo, "verdict", "pass", "--judge", JUDGE, "--commit", "HEAD")
    tree = repo.out("rev-parse", "refs/notes/agentops/verdicts^{tree}")
    repo.git("update-ref", "refs/notes/agentops/verdicts", repo.out("commit-tree", "-m", "rewrite", tree))
    proc = push(repo, "main", "refs/notes/agentops/verdicts", force=True)
    assert proc.returncode != 0
    out = text(proc)
    assert "rewriting the ledger is refused" in out
    assert "Agent work, judged in a rewrite" in out and "verdict-missing" in out


def test_only_what_a_notes_push_adds_is_judged(server: tuple[Path, GitRepo]) -> None:
    """A removal already in the server's ledger (put there past the hook, by whoever
    administers the server) does not refuse every later append."""
    bare, repo = server
    agentops(repo, "verdict", "fail", "--judge", JUDGE, "--commit", "HEAD")
    assert push(repo, "refs/notes/agentops/verdicts").returncode == 0
    repo.git("notes", "--ref=agentops/verdicts", "add", "-f", "-m", "{}", "HEAD")
    removal = repo.out("rev-parse", "refs/notes/agentops/verdicts")
    subprocess.run(["git", "fetch", "-q", str(repo.root), "refs/notes/agentops/verdicts"], cwd=bare, check=True)
    subprocess.run(["git", "update-ref", "refs/notes/agentops/verdicts", removal], cwd=bare, check=True)
    agentops(repo, "verdict", "pass", "--judge", JUDGE, "--commit", "HEAD")
    proc = push(repo, "refs/notes/agentops/verdicts")
    assert proc.returncode == 0, text(proc)
    assert remote(bare, "refs/notes/agentops/verdicts") == repo.out("rev-parse", "refs/notes/agentops/verdicts")


def test_pre_receive_input_that_is_not_updates_names_its_line() -> None:
    from agentops_hooks.errors import FatalError
    from agentops_hooks.places.server import RefUpdate, parse_updates

    old, new = "a" * 40, "b" * 64
    assert parse_updates(f"\n{old} {new} refs/heads/main\n  \n") == [RefUpdate(old, new, "refs/heads/main")]
    for bad, number in ((f"{old} {new} refs/heads/main\n{old} {new}", 2), (f"\n\n{old[:39]} {new} r", 3),
                        (f"{old} {new} refs/heads/main x", 1)):
        with pytest.raises(FatalError) as e:
            parse_updates(bad)
        line = bad.splitlines()[number - 1]
        assert str(e.value) == f"pre-receive input line {number} is not `<old> <new> <ref>`: {line!r}"


def test_appending_notes_is_accepted(server: tuple[Path, GitRepo]) -> None:
    bare, repo = server
    agentops(repo, "verdict", "fail", "--judge", JUDGE, "--commit", "HEAD")
    assert push(repo, "refs/notes/agentops/verdicts").returncode == 0
    agentops(repo, "verdict", "pass", "--judge", "Other <o@example.com>", "--commit", "HEAD")
    proc = push(repo, "refs/notes/agentops/verdicts")
    assert proc.returncode == 0, text(proc)


def test_internal_error_refuses_the_push(server: tuple[Path, GitRepo]) -> None:
    bare, repo = server
    (bare / "hooks" / "pre-receive").write_text(
        f'#!/bin/sh\necho "garbage line" | "{sys.executable}" -m agentops_hooks.commands pre-receive\n')
    repo.stage("b.py", "b = 1\n")
    repo.commit("Human work")
    proc = push(repo, "main")
    assert proc.returncode != 0
    assert "refused: the check could not run" in text(proc)


def test_bad_server_policy_refuses(server: tuple[Path, GitRepo]) -> None:
    bare, repo = server
    repo.stage(".agentops.toml", 'protected = ["main"]\n')
    repo.git("commit", "-q", "--no-verify", "-m", "Bad policy")
    subprocess.run(["git", "update-ref", "refs/heads/main", repo.head()], cwd=bare, check=False)
    subprocess.run(["git", "fetch", "-q", str(repo.root), "main:main"], cwd=bare, check=False,
                   capture_output=True)
    repo.stage("b.py", "b = 1\n")
    repo.commit("Human work")
    proc = push(repo, "main")
    assert proc.returncode != 0
    assert "is not a ref pattern" in text(proc)


def test_commits_already_on_an_unprotected_branch_are_checked_when_they_reach_a_protected_one(
    server: tuple[Path, GitRepo],
) -> None:
    bare, repo = server
    repo.git("checkout", "-q", "-b", "feature")
    repo.stage("b.py", "b = 1\n")
    repo.git("commit", "-q", "--no-verify", "-m", agent_message("Agent work via a side door"))
    assert push(repo, "feature").returncode == 0
    proc = push(repo, "feature:refs/heads/release/9")
    assert proc.returncode != 0
    assert "Agent work via a side door" in text(proc)
    proc = push(repo, "feature:main")
    assert proc.returncode != 0


def test_a_broken_policy_cannot_reach_the_default_branch(server: tuple[Path, GitRepo]) -> None:
    bare, repo = server
    repo.stage(".agentops.toml", 'protected = ["main"]\n')
    repo.commit("Bad policy")
    proc = push(repo, "main")
    assert proc.returncode != 0
    bad = repo.out("rev-parse", "HEAD")
    assert ("refs/heads/main would get a policy the server cannot read, which would refuse every later "
            f"push: {bad[:12]}:.agentops.toml: protected[0]: 'main' is not a ref pattern") in text(proc)
    repo.stage(".agentops.toml", 'protected = ["refs/heads/main"]\n')
    repo.commit("Fixed policy")
    proc = push(repo, "main")
    assert proc.returncode == 0, text(proc)


def test_missing_notes_on_the_server_says_to_push_them(server: tuple[Path, GitRepo]) -> None:
    bare, repo = server
    repo.stage("b.py", "b = 1\n")
    repo.git("commit", "-q", "--no-verify", "-m", agent_message("Agent work"))
    agentops(repo, "verdict", "pass", "--judge", JUDGE, "--commit", "HEAD")
    proc = push(repo, "main")
    assert proc.returncode != 0
    assert "push the verdict notes together with the commits" in text(proc)


@pytest.mark.parametrize("ref", ["refs/heads/a..b", "refs/heads/x.lock", "refs/heads/a~b", "main"])
def test_an_invalid_ref_name_is_refused_in_one_line(server: tuple[Path, GitRepo], ref: str) -> None:
    bare, repo = server
    tip = repo.head()
    proc = subprocess.run([sys.executable, "-m", "agentops_hooks.commands", "pre-receive"], cwd=bare,
                          input=f"{'0' * 40} {tip} {ref}\n", capture_output=True, text=True)
    assert proc.returncode == 1
    assert f"agentops: refused: {ref!r} is not a valid ref name" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


def test_an_unexpected_error_refuses_the_push(
    server: tuple[Path, GitRepo], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Fail closed: a bug in a gate (here, one made on purpose) refuses, it never accepts."""
    from agentops_hooks.places import server as place

    bare, repo = server
    repo.stage("b.py", "b = 1\n")
    repo.commit("Human work")
    repo.git("push", "-q", "origin", "main:refs/heads/wip")  # the objects reach the server
    new = repo.head()

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr(place, "check_range", broken)
    monkeypatch.chdir(bare)
    code, message = place.main(f"{remote(bare, 'refs/heads/main')} {new} refs/heads/main\n")
    assert code == 1
    assert message == "agentops: refused: internal error (KeyError: 'a bug')"
