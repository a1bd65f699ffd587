"""Classes 4 and 6: history on a protected ref only grows, and every ref a
release or a default checkout reads from is protected.

Attacks tried, each a real push to a bare repository running `agentops pre-receive`:

- a force-push that rewinds `main` (to before a stricter policy);
- a force-push that rewrites `main`'s tip (an amend of a judged commit);
- a rewind to an ancestor, pushed with `+old:main` from another clone;
- deleting `main` (and recreating it in a second push);
- a lightweight or an annotated tag on an unjudged agent commit; a tag moved
  to another commit; a tag deleted; a tag pointing at a tree or a blob;
- pushing straight to a server whose default branch is `trunk` (matched by
  no configured pattern);
- a new branch under a protected pattern holding commits first parked on an
  unprotected branch;
- a push that names the same commit through an annotated tag object.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import GitRepo
from conftest import agent_commit
from conftest import bare_server
from conftest import push
from conftest import remote
from conftest import text


def test_a_force_push_that_rewinds_main_is_refused(server: tuple) -> None:
    bare, repo = server
    old = repo.head()
    repo.stage(".agentops.toml", '[learnings]\nmin_changed_lines = 0\n')
    repo.commit("A stricter policy")
    assert push(repo, "main").returncode == 0
    tip = repo.head()
    repo.git("reset", "-q", "--hard", old)
    proc = push(repo, "main", force=True)
    assert proc.returncode != 0
    assert "a force-push that rewinds or rewrites a protected branch is refused" in text(proc)
    assert remote(bare, "refs/heads/main") == tip
    proc = push(repo, f"+{old}:refs/heads/main")
    assert proc.returncode != 0 and remote(bare, "refs/heads/main") == tip


def test_a_force_push_that_rewrites_the_tip_is_refused(server: tuple) -> None:
    bare, repo = server
    tip = repo.head()
    repo.git("commit", "-q", "--amend", "-m", "base, rewritten")
    proc = push(repo, "main", force=True)
    assert proc.returncode != 0
    assert "does not contain" in text(proc)
    assert remote(bare, "refs/heads/main") == tip


def test_deleting_main_is_refused(server: tuple) -> None:
    bare, repo = server
    tip = repo.head()
    proc = push(repo, ":refs/heads/main")
    assert proc.returncode != 0
    assert "is protected and cannot be deleted" in text(proc)
    assert remote(bare, "refs/heads/main") == tip


@pytest.mark.parametrize("annotated", [False, True])
def test_a_tag_on_an_unjudged_agent_commit_is_refused(server: tuple, annotated: bool) -> None:
    bare, repo = server
    agent = agent_commit(repo, "b.py", "b = 1\n", "Agent release work")
    if annotated:
        repo.git("tag", "-a", "-m", "release", "v1.0", agent)
    else:
        repo.git("tag", "v1.0", agent)
    proc = push(repo, "refs/tags/v1.0")
    assert proc.returncode != 0
    assert "Agent release work" in text(proc) and "verdict-" in text(proc)
    assert not remote(bare, "refs/tags/v1.0")


def test_a_tag_on_judged_history_lands_and_never_moves(server: tuple) -> None:
    bare, repo = server
    repo.git("tag", "v1.0")
    assert push(repo, "refs/tags/v1.0").returncode == 0, "a tag on main's own commit"
    repo.stage("b.py", "b = 1\n")
    repo.commit("Human work")
    assert push(repo, "main").returncode == 0
    repo.git("tag", "-f", "v1.0")
    proc = push(repo, "refs/tags/v1.0", force=True)
    assert proc.returncode != 0
    assert "a protected tag is never moved" in text(proc)
    proc = push(repo, ":refs/tags/v1.0")
    assert proc.returncode != 0 and "cannot be deleted" in text(proc)
    assert remote(bare, "refs/tags/v1.0") == repo.out("rev-parse", "HEAD~1")


@pytest.mark.parametrize("kind", ["tree", "blob"])
def test_a_tag_on_a_tree_or_a_blob_is_refused_in_one_line(server: tuple, kind: str) -> None:
    bare, repo = server
    target = repo.out("rev-parse", "HEAD^{tree}" if kind == "tree" else "HEAD:a.py")
    repo.git("tag", "odd", target)
    proc = push(repo, "refs/tags/odd")
    assert proc.returncode != 0
    assert "which is not a commit (nor a tag of one)" in text(proc)
    assert "Traceback" not in text(proc)
    assert not remote(bare, "refs/tags/odd")


def test_the_servers_default_branch_is_protected_whatever_its_name(repo: GitRepo, tmp_path: Path) -> None:
    bare_server(repo, tmp_path, branch="trunk")
    repo.stage("a.py", "a = 0\n")
    repo.commit("base")
    assert repo.git("push", "-q", "origin", "main:trunk", check=False).returncode == 0
    agent_commit(repo, "b.py", "b = 1\n", "Agent work on trunk")
    proc = push(repo, "main:trunk")
    assert proc.returncode != 0
    assert "Agent work on trunk" in text(proc)
    proc = push(repo, ":refs/heads/trunk")
    assert proc.returncode != 0 and "cannot be deleted" in text(proc)


def test_an_unprotected_branch_still_takes_work_in_progress(server: tuple) -> None:
    bare, repo = server
    repo.git("checkout", "-q", "-b", "wip")
    agent = agent_commit(repo, "b.py", "b = 1\n")
    assert push(repo, "wip").returncode == 0
    assert push(repo, "wip", force=True).returncode == 0
    assert remote(bare, "refs/heads/wip") == agent
