"""The Change: the staged and the committed view of one change agree.

A commit-msg hook records what the staged change looks like while git commits
(so GIT_INDEX_FILE, --amend and --author are git's own); after the commit the
committed view of HEAD must give the same patch-id, paths and author.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from agentops_hooks.change import CommitChange
from agentops_hooks.change import StagedChange
from agentops_hooks.change import split_commit_object
from agentops_hooks.git import Repo
from agentops_hooks.git import bind_nul_lines
from conftest import GitRepo

RECORDER = f"""#!{sys.executable}
import json, sys
from agentops_hooks.git import Repo
from agentops_hooks.change import StagedChange
repo = Repo()
change = StagedChange.from_message_file(repo, sys.argv[1])
json.dump({{
    "patch_id": change.patch_id,
    "paths": [[p.status, p.path, p.old_path] for p in change.paths],
    "author": str(change.author),
    "amend": change.amend,
    "trailers": change.trailers,
    "lines": change.changed_lines,
}}, open(repo.git_dir / "staged.json", "w"))
"""


def staged_then_committed(repo: GitRepo, *commit_args: str, message: str = "change\n") -> tuple[dict, CommitChange]:  # type: ignore[type-arg]
    repo.install_hook("commit-msg", RECORDER)
    repo.commit(message, *commit_args)
    staged = json.loads((repo.root / ".git" / "staged.json").read_text())
    (repo.root / ".git" / "staged.json").unlink()
    return staged, CommitChange.load(Repo(), "HEAD")


def base_file(repo: GitRepo) -> None:
    repo.stage("a.txt", "one\ntwo\nthree\n")
    repo.stage("bin.dat", b"\x00\x01\x02\x03")
    repo.stage("script.sh", "echo hi\n")
    repo.commit("base")


SCENARIOS: dict[str, tuple[Callable[[GitRepo], None], tuple[str, ...]]] = {
    "modify": (lambda r: r.stage("a.txt", "one\nTWO\nthree\n"), ()),
    "add": (lambda r: r.stage("new.txt", "fresh\n"), ()),
    "delete": (lambda r: r.git("rm", "-q", "a.txt"), ()),
    "rename": (lambda r: r.git("mv", "a.txt", "b.txt"), ()),
    "binary": (lambda r: r.stage("bin.dat", b"\x00\x01\x02\x04"), ()),
    "mode": (lambda r: (r.root.joinpath("script.sh").chmod(0o755), r.git("add", "script.sh")), ()),
    "spaces and non-ascii": (lambda r: r.stage("dir with space/naïve 文件.txt", "x\n"), ()),
    "commit -a": (lambda r: r.write("a.txt", "one\ntwo\nthree\nfour\n"), ("-a",)),
    "commit paths": (
        lambda r: (r.write("a.txt", "changed\n"), r.stage("new.txt", "staged too\n")),
        ("--", "a.txt"),
    ),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_patch_id_same_before_and_after(repo: GitRepo, name: str) -> None:
    base_file(repo)
    make, args = SCENARIOS[name]
    make(repo)
    staged, committed = staged_then_committed(repo, *args)
    assert staged["patch_id"] == committed.patch_id
    assert [list(map(lambda x: x, [p.status, p.path, p.old_path])) for p in committed.paths] == staged["paths"]
    assert staged["amend"] is False
    # The patch-id is git's own, not something we invented (over lines that
    # bind what follows a NUL byte, when the patch holds one).
    diff = repo.git("diff-tree", "-p", "-M", "--full-index", "--text", "HEAD").stdout
    expected = repo.git("patch-id", "--verbatim", input=bind_nul_lines(diff)).stdout
    assert committed.patch_id == expected.split()[0].decode()


def test_commit_paths_judges_only_the_named_paths(repo: GitRepo) -> None:
    base_file(repo)
    make, args = SCENARIOS["commit paths"]
    make(repo)
    staged, committed = staged_then_committed(repo, *args)
    assert [p[1] for p in staged["paths"]] == ["a.txt"]


def test_root_commit(repo: GitRepo) -> None:
    repo.stage("first.txt", "hello\n")
    staged, committed = staged_then_committed(repo)
    assert staged["patch_id"] == committed.patch_id
    assert committed.base is None
    assert staged["paths"] == [["A", "first.txt", None]]


def test_amend_is_judged_against_the_parent(repo: GitRepo) -> None:
    base_file(repo)
    repo.stage("a.txt", "one\nTWO\nthree\n")
    repo.commit("first try")
    repo.stage("c.txt", "more\n")
    staged, committed = staged_then_committed(repo, "--amend")
    assert staged["amend"] is True
    assert staged["patch_id"] == committed.patch_id
    assert sorted(p[1] for p in staged["paths"]) == ["a.txt", "c.txt"]


def test_amend_through_an_alias(repo: GitRepo) -> None:
    base_file(repo)
    repo.git("config", "alias.fix", "commit --amend")
    repo.stage("a.txt", "changed\n")
    repo.install_hook("commit-msg", RECORDER)
    msg = repo.root.parent / "m.txt"
    msg.write_text("amended\n")
    repo.git("fix", "-q", "-F", str(msg))
    staged = json.loads((repo.root / ".git" / "staged.json").read_text())
    assert staged["amend"] is True
    assert staged["patch_id"] == CommitChange.load(Repo(), "HEAD").patch_id


def test_author_flag_and_env_are_what_git_writes(repo: GitRepo) -> None:
    base_file(repo)
    repo.stage("a.txt", "x\n")
    staged, committed = staged_then_committed(repo, "--author", "Ada Agent <ada@example.com>")
    assert staged["author"] == "Ada Agent <ada@example.com>"
    assert str(committed.author) == "Ada Agent <ada@example.com>"
    repo.stage("a.txt", "y\n")
    repo.install_hook("commit-msg", RECORDER)
    repo.commit("c", env={"GIT_AUTHOR_NAME": "Env Agent", "GIT_AUTHOR_EMAIL": "env@example.com"})
    staged = json.loads((repo.root / ".git" / "staged.json").read_text())
    assert staged["author"] == "Env Agent <env@example.com>"


def test_merge_is_judged_against_first_parent(repo: GitRepo) -> None:
    base_file(repo)
    repo.diverge()
    repo.install_hook("commit-msg", RECORDER)
    repo.git("merge", "-q", "--no-ff", "-m", "merge side", "side")
    staged = json.loads((repo.root / ".git" / "staged.json").read_text())
    committed = CommitChange.load(Repo(), "HEAD")
    assert committed.is_merge
    assert staged["patch_id"] == committed.patch_id
    assert [p.path for p in committed.paths] == ["side.txt"]


def test_user_diff_config_changes_nothing(repo: GitRepo) -> None:
    base_file(repo)
    repo.stage("a.txt", "one\nTWO\nthree\n" + "".join(f"line {i}\n" for i in range(30)))
    repo.git("mv", "script.sh", "tool.sh")
    plain = StagedChange.from_message_file(Repo(), None).patch_id
    for key, value in [
        ("diff.noprefix", "true"), ("diff.mnemonicPrefix", "true"), ("diff.context", "10"),
        ("color.ui", "always"), ("color.diff", "always"), ("diff.renames", "false"),
        ("core.abbrev", "7"), ("diff.algorithm", "histogram"), ("diff.interHunkContext", "5"),
        ("diff.suppressBlankEmpty", "true"), ("core.quotePath", "false"),
        ("diff.external", "false"),
    ]:
        repo.git("config", key, value)
    hostile = StagedChange.from_message_file(Repo(), None).patch_id
    assert hostile == plain


def test_leaked_git_dir_is_ignored(repo: GitRepo, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    base_file(repo)
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    r = Repo()
    assert r.root == repo.root


def test_split_commit_object_folds_signature_headers() -> None:
    raw = (b"tree abc\nparent p1\nparent p2\nauthor A <a@x> 1 +0000\n"
           b"committer C <c@x> 1 +0000\ngpgsig -----BEGIN-----\n line\n -----END-----\n"
           b"\nsubject\n\nbody\n")
    headers, message = split_commit_object(raw)
    assert [k for k, _ in headers] == ["tree", "parent", "parent", "author", "committer", "gpgsig"]
    assert dict(headers)["gpgsig"] == "-----BEGIN-----\nline\n-----END-----"
    assert message == b"subject\n\nbody\n"


def test_empty_change_has_the_hash_of_nothing(repo: GitRepo) -> None:
    base_file(repo)
    change = StagedChange.from_message_file(Repo(), None)
    assert change.diff == b""
    assert change.patch_id == "da39a3ee5e6b4b0d3255bfef95601890afd80709"


def test_linked_worktree(repo: GitRepo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    base_file(repo)
    wt = tmp_path / "wt"
    repo.git("worktree", "add", "-q", "-b", "feature", str(wt))
    other = GitRepo(wt, repo.env)
    other.stage("a.txt", "worktree edit\n")
    repo.install_hook("commit-msg", RECORDER)
    other.commit("in a worktree")
    git_dir = Path(other.out("rev-parse", "--absolute-git-dir"))
    assert git_dir != repo.root / ".git"
    staged = json.loads((git_dir / "staged.json").read_text())
    committed = CommitChange.load(Repo(wt), "HEAD")
    assert staged["patch_id"] == committed.patch_id
    assert staged["paths"] == [["M", "a.txt", None]]


def test_sha256_repository(tmp_path, home, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from conftest import isolated_env

    root = tmp_path / "sha256"
    root.mkdir()
    r = GitRepo(root, isolated_env(home))
    r.git("init", "-q", "--object-format=sha256")
    monkeypatch.chdir(root)
    r.stage("a.txt", "one\n")
    staged, committed = staged_then_committed(r)
    assert len(committed.patch_id) == 64
    assert staged["patch_id"] == committed.patch_id
    r.git("commit", "-q", "--allow-empty", "-m", "empty")
    assert CommitChange.load(Repo(), "HEAD").patch_id == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


def test_shallow_clone_says_how_to_fetch(repo: GitRepo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    base_file(repo)
    repo.stage("a.txt", "two\n")
    repo.commit("second")
    clone = tmp_path / "shallow"
    repo.git("clone", "-q", "--depth", "1", f"file://{repo.root}", str(clone))
    change = CommitChange.load(Repo(clone), "HEAD")
    from agentops_hooks.errors import FatalError

    with pytest.raises(FatalError, match="shallow clone.*fetch-depth: 0"):
        change.patch_id


def test_amend_env_cannot_overrule_git(repo: GitRepo) -> None:
    """AGENTOPS_AMEND=1 on a plain `git commit` does not make it an amend."""
    base_file(repo)
    repo.stage("a.txt", "plain\n")
    repo.install_hook("commit-msg", RECORDER)
    repo.commit("plain", env={"AGENTOPS_AMEND": "1"})
    staged = json.loads((repo.root / ".git" / "staged.json").read_text())
    assert staged["amend"] is False
    assert staged["patch_id"] == CommitChange.load(Repo(), "HEAD").patch_id


def test_amend_env_is_the_fallback_without_a_git_parent(repo: GitRepo) -> None:
    base_file(repo)
    assert StagedChange.from_message_file(Repo(), None, {"AGENTOPS_AMEND": "1"}).amend is True
    assert StagedChange.from_message_file(Repo(), None, {}).amend is False


_LINES = st.sampled_from(["a", "b", "+++ x", "--- y", "", " ", "@@ -1 +1 @@", "\\ no", "c"])


@settings(max_examples=40, deadline=None)
@given(st.lists(_LINES, max_size=30), st.lists(_LINES, max_size=30))
def test_changed_line_count_agrees_with_unidiff(
    tmp_path_factory: pytest.TempPathFactory, before: list[str], after: list[str],
) -> None:
    from unidiff import PatchSet

    from agentops_hooks.git import count_changed_lines
    from conftest import isolated_env

    home = tmp_path_factory.mktemp("home")
    root = tmp_path_factory.mktemp("r")
    r = GitRepo(root, isolated_env(home))
    r.git("init", "-q")
    r.write("f.txt", "\n".join(before) + ("\n" if before else ""))
    r.write("g.txt", "x\n")
    r.git("add", "-A")
    r.git("-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "-m", "base")
    r.write("f.txt", "\n".join(after))
    r.git("add", "-A")
    diff = Repo(root).diff_index("HEAD", dict(r.env))
    expected = sum(f.added + f.removed for f in PatchSet(diff.decode()))
    assert count_changed_lines(diff) == expected


def test_bytes_after_a_nul_are_bound(repo: GitRepo) -> None:
    """git patch-id hashes a line only up to its first NUL: the binding must not."""
    repo.stage("a.txt", "base\n")
    repo.commit("base")
    ids = []
    for content in (b"MZ\0one payload\n", b"MZ\0another payload\n"):
        repo.stage("tool.bin", content)
        repo.commit("add the tool")
        ids.append(CommitChange.load(Repo(), "HEAD").patch_id)
        plain = repo.git("diff-tree", "-p", "-M", "--full-index", "--text", "HEAD").stdout
        assert b"\0" in plain
        repo.git("reset", "-q", "--hard", "HEAD~1")
    assert ids[0] != ids[1]
    unbound = [repo.git("patch-id", "--verbatim", input=d).stdout for d in (
        b"diff --git a/t b/t\nnew file mode 100644\nindex 0000000..1111111\n--- /dev/null\n+++ b/t\n"
        b"@@ -0,0 +1 @@\n+MZ\0" + tail + b"\n" for tail in (b"one", b"another"))]
    assert unbound[0] == unbound[1]  # what git alone would bind
