"""The Change a gate judges: a staged commit about to be made, or a commit made.

Both forms offer the same view (message, trailers, who wrote it, which paths
changed, the patch and its canonical patch-id), so a gate never knows where it
runs. Everything that costs a git process is computed on first use.

Why one module of some 600 lines: the range machinery at the end (the batch
of a range's diffs, the diff feed, `load_commits`) fills the private fields of
each CommitChange as git's stream passes its commit, and hands each patch over
once; split apart, those fields would have to become a public interface that
nothing else should use.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import NamedTuple
from typing import TYPE_CHECKING

from agentops_hooks import trailers as trailer_format
from agentops_hooks.authorship import Identity
from agentops_hooks.authorship import co_authors
from agentops_hooks.amend import commit_is_amend
from agentops_hooks.errors import FatalError
from agentops_hooks.git import GitError
from agentops_hooks.git import PatchStream
from agentops_hooks.git import Repo
from agentops_hooks.git import UnreadableCommit
from agentops_hooks.git import count_changed_lines
from agentops_hooks.git import paths_of_patch

if TYPE_CHECKING:
    from unidiff.patch import PatchSet

    from agentops_hooks.git import ChangedPaths
    from agentops_hooks.git import StagedDiff

KEEP_LIMIT = 32 << 20
"""A range's kept patches (those gate IV reads) hold at most about this many
bytes at once: git's stream waits for the gates to take them."""


class ChangedPath(NamedTuple):
    """One path the change touches: status A/M/D/R/C/T, and the old path of a rename."""

    status: str
    path: str
    old_path: str | None = None


class Change:
    """What every gate sees. Subclasses say where the diff comes from."""

    defects: tuple[str, ...] = ()
    """What cannot be read of a commit made (an empty or non-UTF-8 message or
    identity): agent detection counts such a commit as an agent's."""

    def __init__(
        self,
        repo: Repo,
        raw_message: bytes,
        author: Identity | None,
        committer: Identity | None,
        base: str | None,
        env: Mapping[str, str] | None,
        commit: str | None = None,
    ) -> None:
        self.repo = repo
        self.raw_message = raw_message
        self.message = decode_message(raw_message)
        self.author = author
        self.committer = committer
        self.base = base
        """The first parent (or HEAD) the diff is taken against; None for a root."""
        self.env = env
        """The environment at commit time; None for a commit already made."""
        self.commit = commit
        self._patches: dict[tuple[str, ...], PatchSet] = {}
        self._batch: _BatchDiffs | None = None

    @property
    def label(self) -> str:
        """How findings name this change."""
        return self.commit[:12] if self.commit else "staged change"

    @property
    def trailer_syntax(self) -> trailer_format.TrailerSyntax:
        return self.repo.trailer_syntax

    @cached_property
    def trailers(self) -> list[tuple[str, str]]:
        """(key, value) pairs exactly as `git interpret-trailers --parse` reads them."""
        return trailer_format.parse(self.message, self.trailer_syntax)

    @cached_property
    def detection_text(self) -> str:
        """The message as agent detection reads it (all of it, for a commit made)."""
        return self.message

    @cached_property
    def co_authors(self) -> list[Identity]:
        return co_authors(self.trailers)

    @cached_property
    def subject(self) -> str:
        for line in self.message.split("\n"):
            if line.strip() and not line.startswith(self.trailer_syntax.comment_char):
                return line.strip()
        return ""

    @cached_property
    def diff(self) -> bytes:
        """The pinned plumbing patch of this change (DESIGN.md section 3)."""
        return self._diff()

    @cached_property
    def patch_id(self) -> str:
        """The canonical patch-id a verdict must name."""
        if self._from_batch("patch_id"):
            return str(self.__dict__["patch_id"])
        diff = self.diff
        if "patch_id" in self.__dict__:  # computed alongside the diff
            return str(self.__dict__["patch_id"])
        return self.repo.patch_id(diff)

    @cached_property
    def paths(self) -> list[ChangedPath]:
        if self._from_batch("paths"):
            return list(self.__dict__["paths"])
        return [ChangedPath(s, p, o) for s, p, o in paths_of_patch(self.diff)]

    def kept_patch(self) -> bytes | None:
        """This commit's patch if a batch load kept it; b"" when the batch looked
        and it holds none of the words; None when no batch kept patches. The
        batch gives it up: it is read once."""
        if "_kept" in self.__dict__:  # a second gate asks (IV and X both read it)
            kept: bytes = self.__dict__["_kept"]
            return kept
        batch = self._batch
        if batch is None or not batch.keep_words or batch.stream is None:
            return None
        batch.fill(self, "patch_id")
        self.__dict__["_kept"] = found = batch.stream.take(self.commit or "")
        return found

    def judged(self) -> None:
        """Every gate has judged this commit: what a batch kept for it is let go."""
        self.__dict__.pop("_kept", None)
        if self._batch is not None and self._batch.stream is not None:
            self._batch.stream.release(self.commit or "")

    def _from_batch(self, name: str) -> bool:
        """Did a batch load (see load_commits) fill this attribute in?"""
        if self._batch is not None:
            self._batch.fill(self, name)
        return name in self.__dict__

    @cached_property
    def patch(self) -> PatchSet:
        """The diff as a unidiff PatchSet (lines added and removed, per file)."""
        from unidiff.patch import PatchSet

        return PatchSet(self.diff.decode("utf-8", "replace"))

    @cached_property
    def changed_lines(self) -> int:
        """Added plus removed lines over all text files (counted from the hunks)."""
        if self._from_batch("changed_lines"):
            return int(self.__dict__["changed_lines"])
        return count_changed_lines(self.diff)

    def patch_for(self, pathspecs: Sequence[str]) -> PatchSet:
        """The part of the patch that touches these files or directories ("dir/")."""
        from unidiff.patch import PatchSet

        key = tuple(pathspecs)
        if key not in self._patches:
            selected = PatchSet("")
            selected.extend(f for f in self.patch if matches_pathspecs(f.path, key))
            self._patches[key] = selected
        return self._patches[key]

    def take_patch_for(self, key: tuple[str, ...], read: dict[str, bytes]) -> PatchSet:
        """`patch_for(key)` from patches read for many commits (see patches_for):
        this commit's is taken out of `read`, so each is held once."""
        if key not in self._patches:
            from unidiff.patch import PatchSet

            raw = read.pop(self.commit or "", b"")
            self._patches[key] = PatchSet(raw.decode("utf-8", "replace"))
        return self._patches[key]

    def file_after(self, path: str) -> bytes | None:
        """A file as this change leaves it (None: it is not there)."""
        raise NotImplementedError

    def paths_since(self, tree: str) -> list[str]:
        """The paths that differ between `tree` (a tree or commit) and what this change leaves."""
        raise NotImplementedError

    @property
    def selector(self) -> str:
        """The `agentops` options that pick this change again, for fix commands."""
        return f"--commit {self.commit[:12]}" if self.commit else "--staged"

    @property
    def message_option(self) -> str | None:
        """`--message-file F` when this change's message is in a file we can edit."""
        return None

    @property
    def retry(self) -> str:
        """What to run after fixing, to try this change again."""
        return f"agentops check {self.selector}" if self.commit else "git commit again"

    def _diff(self) -> bytes:
        raise NotImplementedError


class StagedChange(Change):
    """The commit git is about to make, seen from a commit-msg (or pre-commit) hook."""

    def __init__(
        self, repo: Repo, raw_message: bytes, env: Mapping[str, str], *, amend: bool,
    ) -> None:
        self.amend = amend
        head = repo.head()
        if amend:
            if head is None:
                raise FatalError("--amend needs a commit to amend, but HEAD is unborn")
            base = repo.resolve(f"{head}^")
        else:
            base = head
        idents = repo.var_list(env)
        author = Identity.parse(idents.get("GIT_AUTHOR_IDENT", ""))
        committer = Identity.parse(idents.get("GIT_COMMITTER_IDENT", ""))
        super().__init__(repo, raw_message, author, committer, base, env)
        self._index_env = repo.index_env(env)
        self._staged: StagedDiff | None = None
        self.message_file: str | None = None

    @property
    def selector(self) -> str:
        amend = " --amend" if self.amend else ""
        if self.message_file is None:
            return f"--staged{amend}"
        return f"--message-file {_shell_quote(self.message_file)}{amend}"

    @property
    def retry(self) -> str:
        if self.message_file is None:
            return "git commit again"
        # --cleanup=strip: the file may still hold the editor's comment lines.
        amend = " --amend" if self.amend else ""
        return f"git commit{amend} --cleanup=strip -F {_shell_quote(self.message_file)}"

    @property
    def message_option(self) -> str | None:
        if self.message_file is None:
            return None
        return f"--message-file {_shell_quote(self.message_file)}"

    @classmethod
    def from_message_file(
        cls,
        repo: Repo,
        message_file: str | os.PathLike[str] | None,
        env: Mapping[str, str] | None = None,
        *,
        amend: bool | None = None,
    ) -> StagedChange:
        """The staged change with the message in `message_file` (None: no message yet)."""
        repo.require_worktree("checking a staged change")
        env = os.environ if env is None else env
        raw = read_message_file(message_file) if message_file is not None else b""
        if amend is None:
            amend = commit_is_amend(repo, env)
        change = cls(repo, raw, env, amend=amend)
        if message_file is not None:
            change.message_file = _display_path(repo, Path(message_file))
        return change

    def _target(self) -> str:
        return self.base or self.repo.empty_tree

    @cached_property
    def detection_text(self) -> str:
        """The message git will keep: no comment lines, nothing after the scissors
        (`git commit -v` puts the diff there, and a diff may quote anything)."""
        comment = self.trailer_syntax.comment_char
        kept = []
        for line in self.message.split("\n"):
            if line.startswith(comment):
                if line[len(comment):].strip() == trailer_format.SCISSORS_TEXT:
                    break
                continue
            kept.append(line)
        return "\n".join(kept)

    def file_after(self, path: str) -> bytes | None:
        return self.repo.read_file(f":{path}", env=self._index_env)

    def paths_since(self, tree: str) -> list[str]:
        return self.repo.paths_between(tree, None, self._index_env)

    def prefetch(self) -> None:
        """Start git on the diff now (it is wanted): Python goes on meanwhile."""
        if self._staged is None and "diff" not in self.__dict__:
            self._staged = self.repo.start_diff_index(self._target(), self._index_env)

    def _diff(self) -> bytes:
        self.prefetch()
        assert self._staged is not None
        patch, patch_id = self._staged.result()
        self._staged = None
        self.__dict__["patch_id"] = patch_id
        return patch


class CommitChange(Change):
    """A commit already made, judged against its first parent."""

    def __init__(self, repo: Repo, commit: str, raw_object: bytes) -> None:
        headers, message = split_commit_object(raw_object)
        parents: list[str] = []
        author = committer = None
        # As git reads a commit: its parents are the `parent` lines right after
        # the `tree` line. One further down (an object written with `hash-object
        # --literally`) is no parent for git, so it must not make this a merge.
        in_parents = False
        for i, (key, value) in enumerate(headers):  # one pass: a range builds thousands of these
            if key == "parent":
                if in_parents:
                    parents.append(value)
                continue
            in_parents = i == 0 and key == "tree"
            if key == "author" and author is None:
                author = Identity.parse(value)
            elif key == "committer" and committer is None:
                committer = Identity.parse(value)
        self.parents = parents
        super().__init__(
            repo, message, author, committer, parents[0] if parents else None, None, commit,
        )
        self.defects = _defects(raw_object, headers, author, committer, self)

    @classmethod
    def load(cls, repo: Repo, rev: str) -> CommitChange:
        """The commit `rev` names, or a clear error when it names none."""
        commit = repo.resolve(rev)
        if commit is None:
            raise FatalError(f"{rev!r} does not name a commit in this repository")
        return cls(repo, commit, repo.cat_commit(commit))

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1

    def file_after(self, path: str) -> bytes | None:
        return self.repo.read_file(f"{self.commit}:{path}")

    def paths_since(self, tree: str) -> list[str]:
        assert self.commit is not None
        return self.repo.paths_between(tree, self.commit)

    def _diff(self) -> bytes:
        assert self.commit is not None
        self._require_parent()
        try:
            return self.repo.diff_tree(self.commit, self.base)
        except GitError as e:
            raise UnreadableCommit(self.commit, str(e)) from None

    def _require_parent(self) -> None:
        if self.base is not None and self.repo.is_shallow() and self.repo.resolve(self.base) is None:
            raise FatalError(
                f"commit {self.label}'s parent {self.base[:12]} is not in this shallow clone, "
                "so its change cannot be read: fetch more history "
                "(git fetch --unshallow, or fetch-depth: 0 in actions/checkout)",
            )


def _defects(raw: bytes, headers: list[tuple[str, str]], author: Identity | None,
             committer: Identity | None, change: Change) -> tuple[str, ...]:
    """What of a commit object cannot be read as text; decodes a declared encoding."""
    found = []
    head, _, message = raw.partition(b"\n\n")
    declared = next((v.strip() for k, v in headers if k == "encoding"), "")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        found.append("its author or committer identity is not UTF-8")
    if declared and declared.lower().replace("_", "-") not in ("utf-8", "utf8"):
        try:
            change.message = message.decode(declared, "replace")
        except LookupError:
            found.append(f"its message's encoding {declared!r} is unknown")
    else:
        try:
            message.decode("utf-8")
        except UnicodeDecodeError:
            found.append("its message is not UTF-8 and names no encoding")
    if not change.message.strip():
        found.append("its message is empty")
    for role, ident in (("author", author), ("committer", committer)):
        if ident is None or not ident.email.strip():
            found.append(f"its {role} identity is empty or unreadable")
    return tuple(found)


def _display_path(repo: Repo, path: Path) -> str:
    """A message file path as the user would type it at the top of the work tree."""
    try:
        return str(path.resolve().relative_to(repo.root.resolve())) if repo.root else str(path)
    except ValueError:
        return str(path.resolve())


def _shell_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def matches_pathspecs(path: str, pathspecs: Sequence[str]) -> bool:
    """A path equal to a file spec, or under a directory spec ending in "/"."""
    return any(path == spec or (spec.endswith("/") and path.startswith(spec)) for spec in pathspecs)


class _BatchDiffs:
    """Patch-ids (and line counts) of many commits, computed by git in the background.

    The git pipeline runs while Python reads messages and authors. With
    `stats`, the patches pass through Python on their way to patch-id (see
    git.PatchStream), which reads their changed lines and paths on the way,
    and a change waits only until the stream has passed it; without, a
    change that needs its patch-id waits for the whole batch, once.
    """

    def __init__(
        self, repo: Repo, pairs: Sequence[tuple[str, str | None]], stats: bool,
        keep_words: tuple[bytes, ...] = (), *, start: bool = True, more: bool = False,
        keep_limit: int | None = None,
    ) -> None:
        import threading

        self.repo = repo
        self.pairs = list(pairs)
        self.keep_words = keep_words if stats else ()
        self.stream = PatchStream(self.keep_words, keep_limit=keep_limit) if stats else None
        self.plain: PatchStream | None = None
        """Without stats, the stream patch_ids read (it names the unreadable commits)."""
        if self.stream is not None:  # fed now, so that their order is known before git runs
            self.stream.feed(self.pairs)
            if not more:  # `more`: add() brings the commits, close() ends them
                self.stream.end_input()
        self.error: BaseException | None = None
        self.ids: dict[str, str] = {}
        self.paths: dict[str, ChangedPaths] | None = None
        self.thread = threading.Thread(target=self._work, daemon=True)
        self.started = start
        if start:
            self.thread.start()

    def add(self, changes: Sequence[CommitChange]) -> None:
        """Give git more commits to diff (a batch started with none, stats on)."""
        assert self.stream is not None
        self.stream.feed([(c.commit or "", c.base) for c in changes])
        for change in changes:
            change._batch = self

    def close(self) -> None:
        """No more commits to add."""
        if self.stream is not None:
            self.stream.end_input()

    def _work(self) -> None:
        try:
            if self.stream is None:
                self.plain = PatchStream()
                self.ids = self.repo.patch_ids(self.pairs, self.plain)
            else:
                self.ids = self.repo.patch_ids((), self.stream)
        except BaseException as e:  # re-raised in the thread that waits
            self.error = e
        finally:
            if self.stream is not None:
                self.stream.finish(self.error)

    def fill(self, change: Change, name: str) -> None:
        """Put `name` (patch_id, changed_lines, paths) on the change, once git has it."""
        if not self.started:  # a batch kept for later: someone asks, so it starts now
            self.started = True
            self.thread.start()
        commit = change.commit or ""
        known = change.__dict__
        stream = self.stream
        if stream is not None:
            stream.wait(commit)
            _require_readable(stream, commit)
            if "patch_id" not in known:
                known["patch_id"] = stream.ids.get(commit) or self.repo.empty_patch_id
            if "changed_lines" not in known:
                known["changed_lines"] = stream.counts.get(commit, 0)
            paths = stream.paths.get(commit, [])
        else:
            self.thread.join()
            if self.error is not None:
                raise self.error
            if self.plain is not None:
                _require_readable(self.plain, commit)
            known.setdefault("patch_id", self.ids[commit])
            if name != "paths":
                return
            if self.paths is None:
                found = zip((c for c, _ in self.pairs), self.repo.diff_stats(self.pairs))
                self.paths = {c: paths for c, (paths, _) in found}
            paths = self.paths.get(commit, [])
        if name == "paths" and "paths" not in known:
            known["paths"] = [ChangedPath(st, p, o) for st, p, o in paths]


def _require_readable(stream: PatchStream, commit: str) -> None:
    if commit in stream.unreadable:
        raise UnreadableCommit(commit, stream.unreadable[commit])


def load_commits(
    repo: Repo, revs: Sequence[str], *, stats: bool = False, keep_words: tuple[bytes, ...] = (),
    defer: bool = False,
) -> list[CommitChange]:
    """Every commit `git rev-list REVS` names, newest first, in a constant number of git processes.

    Messages and identities come from one `cat-file --batch`; patch-ids
    (and, with `stats`, changed paths and line counts) from one `diff-tree
    --stdin | patch-id` pipeline started at once, oldest commit first, and
    waited for on first use. With `defer`, no diff is started: the caller
    asks for them through a DiffFeed.
    """
    if repo.is_shallow():
        commits = repo.rev_list(*revs)
        objects = repo.read_blobs(commits)
        changes = [CommitChange(repo, c, objects[c]) for c in commits]
        if defer:
            return changes
        # A commit whose parent was cut off has no readable change; asking for
        # its patch-id later raises the error that says how to fetch more.
        present = repo.read_blobs(sorted({c.base for c in changes if c.base}))
        readable = [c for c in changes if c.base is None or c.base in present]
        cut = _BatchDiffs(repo, [(c.commit or "", c.base) for c in reversed(readable)], stats,
                          keep_words)
        for change in readable:
            change._batch = cut
        return changes
    # rev-list names the parents, so git starts on the patches while we read the messages.
    listed = [line.split() for line in repo.git("rev-list", "--parents", *revs, "--")
              .decode().splitlines() if line]
    batch = None if defer else _BatchDiffs(
        repo, [(ids[0], ids[1] if len(ids) > 1 else None) for ids in reversed(listed)],
        stats, keep_words)
    commits = [ids[0] for ids in listed]
    objects = repo.read_blobs(commits)
    changes = [CommitChange(repo, c, objects[c]) for c in commits]
    for change in changes:
        change._batch = batch
    return changes


class DiffFeed:
    """The diffs of a range, asked for commit by commit as the caller decides.

    `want` sends commits to one pipeline that git starts on at once (each
    known as soon as git has passed it); `later` gives the others a second
    pipeline, started only if one of them is asked for its diff. Two
    pipelines at most, whatever the count.
    """

    def __init__(self, repo: Repo, *, stats: bool = True, keep_words: tuple[bytes, ...] = ()) -> None:
        self.repo = repo
        self.stats = stats
        self.keep_words = keep_words
        self.now = _BatchDiffs(repo, [], True, keep_words, more=True, keep_limit=KEEP_LIMIT)
        self.pending: list[CommitChange] = []

    def want(self, change: CommitChange) -> None:
        self.pending.append(change)
        if len(self.pending) >= 256:  # a few lines at a time, not a write per commit
            self.now.add(self.pending)
            self.pending = []

    def stop(self) -> None:
        """The caller judges no more: git reads on, whatever patches are kept."""
        if self.now.stream is not None:
            self.now.stream.stop_limiting()

    def later(self, changes: Sequence[CommitChange]) -> None:
        """The rest, and the end of the input."""
        if self.pending:
            self.now.add(self.pending)
            self.pending = []
        self.now.close()
        if changes:  # no gate judges them: their patches are not kept
            batch = _BatchDiffs(self.repo, [(c.commit or "", c.base) for c in changes], self.stats,
                                start=False)
            for change in changes:
                change._batch = batch


def patches_for(repo: Repo, changes: Sequence[Change], pathspecs: Sequence[str]) -> dict[str, bytes]:
    """The patches of many commits limited to `pathspecs`, from one `git diff-tree
    --stdin`: {commit: raw patch} for the commits that touch them."""
    pairs = [(c.commit, c.base) for c in changes if c.commit]
    return {c: text for c, text in repo.diff_tree_many(pairs, pathspecs).items() if text}


def split_commit_object(raw: bytes) -> tuple[list[tuple[str, str]], bytes]:
    """Headers (continuation lines folded) and the message of a raw commit."""
    head, _, message = raw.partition(b"\n\n")
    headers: list[tuple[str, str]] = []
    for text in head.decode("utf-8", "replace").split("\n"):
        if text[:1] == " " and headers:
            key, value = headers[-1]
            headers[-1] = (key, value + "\n" + text[1:])
        elif text:
            key, _, value = text.partition(" ")
            headers.append((key, value))
    return headers, message


def read_message_file(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a commit message file, or a clear error."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise FatalError(f"commit message file not found: {os.fspath(path)}") from None
    except IsADirectoryError:
        raise FatalError(f"commit message file is a directory: {os.fspath(path)}") from None
    except OSError as e:
        raise FatalError(f"cannot read commit message file {os.fspath(path)}: {e.strerror}") from None


def decode_message(raw: bytes) -> str:
    """Messages are UTF-8 by convention; a stray byte becomes U+FFFD, never an error."""
    return raw.decode("utf-8", "replace")
