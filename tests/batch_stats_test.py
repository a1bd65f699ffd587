"""Changed paths and line counts are read from the patch a change is judged
by (a range reads its patches once, in one stream): they agree with what git's
own `--name-status` and `--numstat` say, whatever the paths and the kind of
change, for a range, a single commit and a staged change."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from agentops_hooks.change import CommitChange
from agentops_hooks.change import StagedChange
from agentops_hooks.change import load_commits
from agentops_hooks.git import PatchStream
from agentops_hooks.git import Repo
from agentops_hooks.git import c_unquote
from conftest import GitRepo
from conftest import isolated_env

ODD_NAMES = [
    "plain.txt",
    "dir with space/naïve 文件.txt",
    "tab\tname.txt",
    "new\nline.txt",
    'quote"d.txt',
    "back\\slash.txt",
    "x b/x",              # the header `diff --git a/x b/x b/x b/x` must not be split at the first " b/"
    "a/b b/c d.txt",
    "-dash.txt",
]


def name_status(repo: GitRepo, *args: str) -> list[tuple[str, str, str | None]]:
    """git's own `--name-status -z`, read into (status, path, old path for a rename)."""
    fields = iter(repo.git(*args, "-M", "-l1000", "--name-status", "-z").stdout.split(b"\0"))
    result: list[tuple[str, str, str | None]] = []
    for status in fields:
        if not status:
            continue
        first = next(fields).decode("utf-8", "surrogateescape")
        if status[:1] in (b"R", b"C"):
            result.append((status[:1].decode(), next(fields).decode("utf-8", "surrogateescape"), first))
        else:
            result.append((status.decode(), first, None))
    return result


def committed_paths(repo: GitRepo, commit: str, parent: str | None) -> list[tuple[str, str, str | None]]:
    target = (parent, commit) if parent else ("--root", commit)
    return name_status(repo, "diff-tree", "-r", "--no-commit-id", *target)


def numstat_lines(repo: GitRepo, commit: str, parent: str | None) -> int:
    """Added plus removed lines of git's own --text patch, counted line by line
    (git's --numstat calls a binary file's lines "-" even with --text)."""
    target = (parent, commit) if parent else ("--root", commit)
    out = repo.git("diff-tree", "-r", "-p", "-M", "-l1000", "--text", "--no-commit-id",
                   *target).stdout
    total, in_hunk = 0, False
    for line in out.split(b"\n"):
        if line.startswith(b"diff --git "):
            in_hunk = False
        elif line.startswith(b"@@ "):
            in_hunk = True
        elif in_hunk and line[:1] in (b"+", b"-"):
            total += 1
    return total


def assert_batch_agrees_with_git(repo: GitRepo, revs: list[str]) -> list[CommitChange]:
    r = Repo(repo.root)
    changes = load_commits(r, revs, stats=True)
    assert changes, "no commits loaded"
    for change in changes:
        assert change.commit is not None
        expected = committed_paths(repo, change.commit, change.base)
        lines = numstat_lines(repo, change.commit, change.base)
        assert as_tuples(change) == expected, change.label
        assert change.changed_lines == lines, change.label
        alone = CommitChange.load(r, change.commit)  # read by itself, not in a batch
        assert as_tuples(alone) == expected, change.label
        assert alone.changed_lines == lines, change.label
    return changes


def as_tuples(change: CommitChange | StagedChange) -> list[tuple[str, str, str | None]]:
    return [(p.status, p.path, p.old_path) for p in change.paths]


def test_every_kind_of_change(repo: GitRepo) -> None:
    body = "".join(f"line {i}\n" for i in range(40))
    for name in ODD_NAMES:
        repo.stage(name, body)
    repo.stage("bin.dat", b"\x00\x01\x02\x03")
    repo.stage("script.sh", "echo hi\n")
    repo.stage("link-me.txt", "soon a link\n")
    repo.stage("patch.diff", "diff --git a/x b/x\nnew file mode 100644\nrename from x\n@@ -1 +1 @@\n")
    repo.commit("root: every odd name")

    repo.stage("plain.txt", body.replace("line 3\n", "LINE 3\n"))
    repo.git("rm", "-q", "bin.dat")
    repo.stage("fresh.txt", "fresh\n")
    repo.commit("modify, delete, add")

    repo.git("mv", "tab\tname.txt", "renamed é\t.txt")
    repo.commit("pure rename between quoted names")

    repo.root.joinpath("x b/x").unlink()
    repo.write("moved/x b/y", body + "one more\n")
    repo.git("add", "-A")
    repo.commit("rename with an edit")

    repo.root.joinpath("script.sh").chmod(0o755)
    repo.git("add", "script.sh")
    repo.commit("mode change")

    repo.root.joinpath("link-me.txt").unlink()
    repo.root.joinpath("link-me.txt").symlink_to("plain.txt")
    repo.git("add", "link-me.txt")
    repo.commit("type change: a file becomes a link")

    repo.stage("bin2.dat", b"\x00\x01")
    repo.commit("binary add")
    repo.stage("bin2.dat", b"\x00\x02\x03")
    repo.commit("binary modify")

    repo.commit("empty", "--allow-empty")

    gitlink = repo.head()
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{gitlink},vendor/sub")
    repo.commit("a submodule")

    repo.stage("patch.diff", "diff --git a/y b/y\ndeleted file mode 100644\nrename to y\n")
    repo.commit("a patch file edited: its lines are content, not headers")

    repo.diverge()
    repo.git("merge", "-q", "--no-ff", "-m", "merge side", "side")

    changes = assert_batch_agrees_with_git(repo, ["HEAD"])
    kinds = {p.status for c in changes for p in c.paths}
    assert kinds >= {"A", "M", "D", "R", "T"}  # the repo above really holds each kind
    merge = changes[0]
    assert merge.is_merge and [p.path for p in merge.paths] == ["side.txt"]


def test_c_unquote_reads_what_git_quotes(repo: GitRepo) -> None:
    for name in ODD_NAMES:
        repo.stage(name, "x\n")
    quoted = repo.git("-c", "core.quotePath=true", "ls-files").stdout.splitlines()
    plain = repo.git("ls-files", "-z").stdout.split(b"\0")[:-1]
    assert [c_unquote(q) for q in quoted] == [p.decode("utf-8", "surrogateescape") for p in plain]
    assert any(q.startswith(b'"') for q in quoted)


_NAME_CHARS = st.sampled_from([*"ab b/\t\n\"\\é文-_.", "\x01", " a/", " b/"])


def _usable(name: str) -> bool:
    parts = name.split("/")
    return all(p and p not in (".", "..", ".git") for p in parts)


_NAMES = st.lists(_NAME_CHARS, min_size=1, max_size=10).map("".join).filter(_usable)


@settings(max_examples=25, deadline=None)
@given(st.lists(_NAMES, min_size=1, max_size=4, unique=True), st.booleans())
def test_any_path_names(tmp_path_factory: pytest.TempPathFactory, names: list[str], rename: bool) -> None:
    home = tmp_path_factory.mktemp("home")
    root = tmp_path_factory.mktemp("r")
    r = GitRepo(root, isolated_env(home))
    r.git("init", "-q")
    dirs = {n.rsplit("/", 1)[0] for n in names if "/" in n}
    names = [n for n in names if n not in dirs and not any(d.startswith(n + "/") for d in dirs)]
    if not names:
        return
    for i, name in enumerate(names):
        r.write(name, "".join(f"{name!r} {i} {j}\n" for j in range(12)))
    r.git("add", "-A")
    r.git("commit", "-q", "-m", "add")
    first = names[0]
    if rename:
        r.root.joinpath(first).rename(r.root / (first + " moved"))
        r.git("add", "-A")
    else:
        r.write(first, "changed\n")
        r.git("add", "-A")
    staged = StagedChange.from_message_file(Repo(root), None, r.env, amend=False)
    assert as_tuples(staged) == name_status(r, "diff-index", "--cached", "HEAD")
    r.git("commit", "-q", "-m", "change")
    assert_batch_agrees_with_git(r, ["HEAD"])


@pytest.mark.parametrize("chunk_size", [1, 7, 41, 100, 4096])
def test_the_stream_reads_the_same_whatever_its_chunks(repo: GitRepo, chunk_size: int) -> None:
    """The patch stream arrives in chunks that cut commits (and their id lines) anywhere."""
    body = "".join(f"line {i}\n" for i in range(30))
    repo.stage("a.txt", body)
    repo.commit("root")
    repo.commit("empty", "--allow-empty")
    repo.stage("a.txt", body.replace("line 7\n", "line seven\n"))
    repo.stage("conf.py", 'api_token = "not a real one"\n')
    repo.commit("hinted")
    repo.git("mv", "a.txt", "b c.txt")
    repo.commit("renamed")
    repo.commit("empty again", "--allow-empty")
    r = Repo(repo.root)
    listed = [line.split() for line in repo.out("rev-list", "--parents", "HEAD").splitlines()]
    pairs = [(ids[0], ids[1] if len(ids) > 1 else None) for ids in listed]
    whole = PatchStream((b"token",))
    expected_ids = r.patch_ids(pairs, whole)
    cut = PatchStream((b"token",), chunk_size=chunk_size)
    assert r.patch_ids(pairs, cut) == expected_ids == r.patch_ids(pairs)  # the tee changes no patch-id
    assert (cut.counts, cut.paths, cut.kept) == (whole.counts, whole.paths, whole.kept)
    hinted = repo.out("rev-parse", "HEAD~2")
    assert list(cut.kept) == [hinted] and cut.kept[hinted].startswith(b"diff --git ")
    assert cut.counts[hinted] == 3 and cut.paths[repo.out("rev-parse", "HEAD~1")] == [
        ("R", "b c.txt", "a.txt")]
    assert cut.counts[repo.head()] == 0 and cut.paths[repo.head()] == []


def test_a_hint_word_is_found_wherever_the_reading_windows_cut_it() -> None:
    """A huge patch is searched a window at a time; a word across two windows still
    counts, once, and only on an added line."""
    stream = PatchStream((b"token",))
    for at in (2, 65531, 65534, 65536, 131070, 199995):
        buf = bytearray(b"\n+" + b"x" * 199_998)
        buf[at:at + 5] = b"ToKeN"
        assert stream._added_hints(buf, 0, len(buf)) == [at], at
        assert not stream._added_hints(buf, at + 1, len(buf))  # the word itself is cut off
        buf[1:2] = b" "  # a context line: its words are not the change's
        assert not stream._added_hints(buf, 0, len(buf)), at
    assert not stream._added_hints(bytearray(b"\n+" + b"x" * 200_000), 0, 200_002)


def test_kept_patches_wait_for_the_gates_to_take_them(repo: GitRepo) -> None:
    """With a limit, the stream stops reading while its kept patches hold more than
    that, so a range full of hint words never holds all their patches at once."""
    import threading
    import time

    repo.stage("a.txt", "a\n")
    repo.commit("root")
    for i in range(30):
        repo.stage(f"conf{i}.py", "".join(f'api_token_{n} = "{i}"\n' for n in range(100)))
        repo.commit(f"hinted {i}")
    listed = [line.split() for line in repo.out("rev-list", "--reverse", "--parents", "HEAD").splitlines()]
    pairs = [(ids[0], ids[1] if len(ids) > 1 else None) for ids in listed]
    r = Repo(repo.root)
    whole = PatchStream((b"token",))
    r.patch_ids(pairs, whole)
    largest = max(map(len, whole.kept.values()))
    limit = 3 * largest
    bounded = PatchStream((b"token",), chunk_size=1024, keep_limit=limit)
    reader = threading.Thread(target=r.patch_ids, args=(pairs, bounded), daemon=True)
    reader.start()
    time.sleep(1)  # the gates are slow: an unbounded stream would read everything meanwhile
    held = sum(map(len, bounded.kept.values()))
    assert 0 < held <= limit + largest
    for commit, _ in pairs:
        bounded.wait(commit)
        assert bounded.take(commit) == whole.kept.get(commit, b"")
    reader.join(timeout=30)
    assert not reader.is_alive() and bounded.ids == whole.ids
