"""The one door to git: every git process this package starts goes through here.

Hooks inherit GIT_* variables from whatever git ran them (GIT_DIR, GIT_INDEX_FILE,
GIT_WORK_TREE...), which silently point later git calls elsewhere. Like
pre-commit, we drop them all, and a caller names the few it means to pass on.
Diff output is pinned with explicit options so no user config changes a byte.

It is long because it is the only door: the environment and pinning (top),
`Repo` (one small method per git question), the range's patch stream
(`PatchStream`, which reads each commit's paths, size and hinted patch on the
way to patch-id) and the persistent `cat-file` reader (`ObjectReader`). Every
git process of the package starts in one of them, so the protections above
apply to all.
"""
from __future__ import annotations

import os
import re
from bisect import bisect_left
import subprocess
import time
import weakref
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path
from typing import IO
from typing import TYPE_CHECKING

from agentops_hooks.errors import FatalError

if TYPE_CHECKING:
    from agentops_hooks.trailers import TrailerSyntax

MIN_GIT = (2, 39)  # `git patch-id --verbatim` with binary and mode-change hashing

# Kept as pre-commit keeps them: they configure git, not which repository.
# (We also keep the three that choose the global and system config files.)
_KEPT_ALWAYS = frozenset((
    "GIT_EXEC_PATH", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_SSL_CAINFO",
    "GIT_SSL_NO_VERIFY", "GIT_CONFIG_COUNT", "GIT_HTTP_PROXY_AUTHMETHOD",
    "GIT_ALLOW_PROTOCOL", "GIT_ASKPASS",
    "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG_NOSYSTEM",
))

# What git shows must be what the repository stores, in every clone and on the
# server: no replace refs (an ordinary ref a push can create), no grafts, no
# mailmap, no signature lines mixed into log output. Set for every git process.
_STORED_OBJECTS_ENV = {
    "GIT_NO_REPLACE_OBJECTS": "1",
    # A path under /dev/null can never exist (ENOTDIR), and git is silent about that.
    "GIT_GRAFT_FILE": os.path.join(os.devnull, "agentops-no-grafts"),
    "GIT_ATTR_NOSYSTEM": "1",
}
_STORED_OBJECTS_CONFIG = (
    ("core.useReplaceRefs", "false"),
    ("log.showSignature", "false"),
    ("log.mailMap", "false"),
)

# Every option that user config or attributes could otherwise change in a patch.
_PINNED_CONFIG = (
    "-c", "core.attributesFile=" + os.devnull,
    "-c", "core.bigFileThreshold=512m",
    "-c", "core.quotePath=true",
    "-c", "diff.noprefix=false",
    "-c", "diff.mnemonicPrefix=false",
    "-c", "diff.suppressBlankEmpty=false",
    "-c", "diff.context=3",
    "-c", "diff.interHunkContext=0",
    "-c", "core.abbrev=no",
)
# --text: a file is diffed as text whatever .gitattributes (`-diff`, `binary`)
# or config (core.bigFileThreshold, diff.<driver>.binary) say, so a patch and
# its patch-id are a function of the commits alone.
PINNED_DIFF = (
    "-p", "-M", "--full-index", "--text", "--no-color", "--no-ext-diff", "--no-textconv",
    "--src-prefix=a/", "--dst-prefix=b/", "-U3", "--inter-hunk-context=0",
    "--diff-algorithm=myers", "--indent-heuristic", "--no-relative",
    "-l1000", "-O/dev/null",
)

# A remerge redoes the merge with git's defaults, whatever user config says,
# so a clone and the server see the same remerge diff.
_REMERGE_CONFIG = (
    "-c", "merge.conflictStyle=merge",
    "-c", "merge.renames=true",
    "-c", "merge.directoryRenames=conflict",
    "-c", "merge.renormalize=false",
)

EMPTY_TREE = {
    "sha1": "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
    "sha256": "6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321",
}


class GitError(FatalError):
    """git could not do what we asked; the message says why."""


class UnreadableCommit(GitError):
    """git cannot diff this commit: an object of it is missing (a partial clone
    that cannot fetch it, or a damaged repository)."""

    def __init__(self, commit: str, error: str) -> None:
        self.commit = commit
        lines = [line.strip() for line in error.splitlines() if line.strip()]
        self.error = lines[-1] if lines else "git diff-tree failed"
        """git's last word on it (a fetch from a promisor remote says more before)."""
        super().__init__(
            f"commit {commit[:12]} cannot be read ({self.error}): an object it needs is missing (a "
            "partial clone that cannot fetch it, or a damaged repository); fetch the missing "
            "objects (git fetch --refetch origin, or clone again; git fsck names them)")


_kept_for_session: set[str] = set()


def keep_in_env(*names: str) -> None:
    """Pass these GIT_* variables on from now on (pre-receive's quarantine needs them)."""
    _kept_for_session.update(names)


def scrubbed_env(
    keep: Sequence[str] = (),
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment without the GIT_* variables hooks inherit, but `keep`;
    and git told to show the objects as stored (see _STORED_OBJECTS_ENV)."""
    env = os.environ if base is None else base
    kept = _KEPT_ALWAYS.union(keep, _kept_for_session)
    out = {
        k: v for k, v in env.items()
        if not k.startswith("GIT_")
        or k in kept
        or k.startswith(("GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_"))
    }
    out.update(_STORED_OBJECTS_ENV)
    # Appended to any config the environment already passes: the last value wins.
    count = out.get("GIT_CONFIG_COUNT", "0")
    first = int(count) if count.isdigit() else 0
    for i, (key, value) in enumerate(_STORED_OBJECTS_CONFIG, start=first):
        out[f"GIT_CONFIG_KEY_{i}"] = key
        out[f"GIT_CONFIG_VALUE_{i}"] = value
    out["GIT_CONFIG_COUNT"] = str(first + len(_STORED_OBJECTS_CONFIG))
    return out


def run(
    *args: str,
    input: bytes | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    ok_codes: Sequence[int] = (0,),
) -> bytes:
    """Run git with `args`; return stdout, or raise GitError with git's words."""
    try:
        proc = subprocess.run(
            ("git", *args),
            input=input,
            capture_output=True,
            env=scrubbed_env() if env is None else dict(env),
            cwd=cwd,
            check=False,
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    if proc.returncode not in ok_codes:
        message = proc.stderr.decode("utf-8", "replace").strip()
        raise GitError(message or f"git {args[0]} failed (exit {proc.returncode})")
    return proc.stdout


def version() -> tuple[int, ...]:
    """The installed git's version as a tuple of ints."""
    text = run("version").decode().split()[2]
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def require_version() -> None:
    """Stop with a clear error when git is too old to compute our patch-ids."""
    found = version()
    if found < MIN_GIT:
        have = ".".join(map(str, found))
        need = ".".join(map(str, MIN_GIT))
        raise GitError(
            f"git {have} is too old: agentops needs git >= {need} "
            "for `git patch-id --verbatim`",
        )


class Repo:
    """A repository as seen from a working directory, with its settings read once."""

    def __init__(
        self, cwd: str | os.PathLike[str] | None = None,
        idents_env: Mapping[str, str] | None = None,
    ) -> None:
        self.cwd = Path(cwd or os.getcwd())
        # A commit hook will want `git var -l` too: start it alongside rev-parse.
        self._var_list: tuple[Mapping[str, str], subprocess.Popen[bytes]] | None = None
        if idents_env is not None:
            self._var_list = (idents_env, self._start_var_list(idents_env))
        # One process for the layout and HEAD (which fails, harmlessly, when unborn).
        out = self._run(
            "rev-parse", "--is-bare-repository", "--absolute-git-dir", "--git-common-dir",
            "--show-object-format", "--show-toplevel", "HEAD^{commit}",
            ok_codes=(0, 128),
        )
        lines = out.decode("utf-8", "surrogateescape").splitlines()
        if len(lines) < 4:
            raise FatalError(f"not a git repository: {self.cwd}")
        self.bare = lines[0] == "true"
        self.git_dir = Path(lines[1])
        self.common_dir = (self.cwd / lines[2]).resolve()
        self.object_format = lines[3]
        self.root = Path(lines[4]) if len(lines) > 4 and not self.bare else None
        last = lines[5] if len(lines) > 5 and not self.bare else ""
        self._head: str | None | bool = last if _is_oid(last) else (None if self.root else False)
        self._config: list[tuple[str, str]] | None = None
        self._refs: dict[str, bool] = {}
        self._syntax: TrailerSyntax | None = None

    def _run(self, *args: str, **kwargs: object) -> bytes:
        return run(*args, cwd=self.cwd, **kwargs)  # type: ignore[arg-type]

    def git(self, *args: str, **kwargs: object) -> bytes:
        """Run a git command in this repository (see `run`)."""
        return self._run(*args, **kwargs)

    def require_worktree(self, what: str) -> Path:
        """The top of the work tree, or a clear error for a bare repository."""
        if self.root is None:
            where = "a bare repository" if self.bare else "inside the .git directory"
            raise FatalError(f"{what} needs a work tree, but {self.cwd} is {where}")
        return self.root

    @property
    def cache_dir(self) -> Path:
        """Where agentops keeps what it need not work out twice (one per repository)."""
        return self.common_dir / "agentops"

    @property
    def empty_tree(self) -> str:
        return EMPTY_TREE.get(self.object_format, EMPTY_TREE["sha1"])

    @property
    def empty_patch_id(self) -> str:
        """The patch-id of a change with no diff: the hash of no bytes."""
        import hashlib

        return hashlib.new(self.object_format, b"").hexdigest()

    def config(self) -> list[tuple[str, str]]:
        """All config as (lower-cased variable, value) pairs, in git's order."""
        if self._config is None:
            out = self._run("config", "-z", "--list", ok_codes=(0, 1))
            pairs = []
            for entry in out.decode("utf-8", "replace").split("\0"):
                if entry:
                    var, _, value = entry.partition("\n")
                    pairs.append((var.lower(), value))
            self._config = pairs
        return self._config

    @property
    def trailer_syntax(self) -> TrailerSyntax:
        """How this repository's config says trailers are read (read once)."""
        if self._syntax is None:
            from agentops_hooks.trailers import TrailerSyntax

            self._syntax = TrailerSyntax.from_config(self.config())
        return self._syntax

    def config_value(self, var: str) -> str | None:
        """The last value of one config variable, or None."""
        found = None
        for name, value in self.config():
            if name == var.lower():
                found = value
        return found

    def has_ref(self, ref: str) -> bool:
        """Does the ref exist (asked once per Repo; files first, git when unsure)?"""
        if ref not in self._refs:
            loose = self.common_dir / ref
            if loose.is_file():
                self._refs[ref] = True
            elif not (self.common_dir / "reftable").exists() and not loose.exists():
                try:
                    packed = (self.common_dir / "packed-refs").read_bytes()
                except OSError:
                    packed = b""
                self._refs[ref] = (b" " + ref.encode() + b"\n") in packed
            else:
                out = self._run("rev-parse", "--verify", "--quiet", ref, ok_codes=(0, 1, 128))
                self._refs[ref] = bool(out.strip())
        return self._refs[ref]

    def forget_refs(self) -> None:
        """Ask git again next time: a ref may have been written since."""
        self._refs.clear()

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """`git merge-base --is-ancestor`: is the first commit in the second's history?"""
        proc = subprocess.run(
            ("git", "merge-base", "--is-ancestor", ancestor, descendant),
            capture_output=True, cwd=self.cwd, env=scrubbed_env(), check=False,
        )
        if proc.returncode not in (0, 1):
            raise GitError(proc.stderr.decode("utf-8", "replace").strip() or "merge-base failed")
        return proc.returncode == 0

    def is_shallow(self) -> bool:
        """Is this a shallow clone (history cut off at some commits)?"""
        return (self.git_dir / "shallow").is_file()

    def resolve(self, rev: str) -> str | None:
        """The commit id `rev` names, or None when it names no commit."""
        out = self._run(
            "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}",
            ok_codes=(0, 1, 128),
        )
        return out.decode().strip() or None

    def head(self) -> str | None:
        """The commit HEAD points at, or None on an unborn branch."""
        if self._head is False:
            self._head = self.resolve("HEAD")
        return self._head if isinstance(self._head, str) else None

    def _start_var_list(self, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
        keep = [k for k in env if k.startswith(("GIT_AUTHOR_", "GIT_COMMITTER_"))]
        return subprocess.Popen(
            ("git", "var", "-l"), cwd=self.cwd, env=scrubbed_env(keep, env),
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )

    def var_list(self, env: Mapping[str, str]) -> dict[str, str]:
        """`git var -l` under the hook's environment: both identities, and the
        config (kept for `config()`), in one process."""
        started = self._var_list
        self._var_list = None
        if started is not None and started[0] is env:
            proc = started[1]
        else:
            if started is not None:
                started[1].kill()
                started[1].wait()
            proc = self._start_var_list(env)
        out, _ = proc.communicate()
        variables: dict[str, str] = {}
        config: list[tuple[str, str]] = []
        for line in out.decode("utf-8", "replace").split("\n"):
            name, sep, value = line.partition("=")
            if not sep:
                continue
            if name.startswith("GIT_"):
                variables[name] = value
            else:
                config.append((name.lower(), value))
        if self._config is None:
            self._config = config
        return variables

    def branch(self) -> str | None:
        """The short name of the checked-out branch, or None when detached."""
        out = self._run("symbolic-ref", "--quiet", "--short", "HEAD", ok_codes=(0, 1, 128))
        return out.decode("utf-8", "replace").strip() or None

    def cat_commit(self, commit: str) -> bytes:
        """The raw commit object."""
        return self._run("cat-file", "commit", commit)

    def diff_index(self, base: str, index_env: Mapping[str, str]) -> bytes:
        """The staged change against `base`, as a pinned patch."""
        return self._run(
            *_PINNED_CONFIG, "diff-index", "--cached", *PINNED_DIFF, base, "--",
            env=index_env,
        )

    def diff_tree(self, commit: str, parent: str | None) -> bytes:
        """A committed change against `parent` (None: a root commit), pinned."""
        target = (parent, commit) if parent else ("--root", commit)
        return self._run(*_PINNED_CONFIG, "diff-tree", *PINNED_DIFF, *target, "--")

    def paths_between(self, old: str, new: str | None, index_env: Mapping[str, str] | None = None) -> list[str]:
        """The paths that differ from tree-ish `old` to `new` (None: the index)."""
        names = ("--name-only", "--no-renames", "-z", "--no-ext-diff")
        if new is None:
            out = self._run("diff-index", "--cached", "-r", *names, old, "--", env=index_env)
        else:
            out = self._run("diff-tree", "-r", *names, old, new, "--")
        return [name for name in out.decode("utf-8", "replace").split("\0") if name]

    def read_blobs(self, ids: Sequence[str]) -> dict[str, bytes]:
        """The content of many objects in one `git cat-file --batch`."""
        if not ids:
            return {}
        # --buffer: one-shot, so cat-file need not flush after every object.
        out = self._run("cat-file", "--batch", "--buffer", input="".join(f"{i}\n" for i in ids).encode())
        result: dict[str, bytes] = {}
        pos = 0
        for oid in ids:
            nl = out.index(b"\n", pos)
            header = out[pos:nl].split()
            pos = nl + 1
            if len(header) < 3 or header[1] == b"missing":
                continue
            size = int(header[2])
            result[oid] = out[pos:pos + size]
            pos += size + 1
        return result

    def valid_ref_name(self, ref: str) -> bool:
        """Is `ref` a full ref name git accepts (`git check-ref-format`)?"""
        proc = subprocess.run(("git", "check-ref-format", ref), capture_output=True,
                              cwd=self.cwd, env=scrubbed_env(), check=False)
        return proc.returncode == 0

    def read_file(self, name: str, env: Mapping[str, str] | None = None) -> bytes | None:
        """The blob `REV:path` (or `:path`, the index `env` names) names; None when it names none."""
        proc = subprocess.run(
            ("git", "cat-file", "blob", name), capture_output=True, cwd=self.cwd,
            env=scrubbed_env() if env is None else dict(env), check=False,
        )
        return proc.stdout if proc.returncode == 0 else None

    def committer_ident(self) -> str:
        """`Name <email> <time> <tz>` for commits we write; a neutral one if none is set."""
        out = self._run("var", "GIT_COMMITTER_IDENT", ok_codes=(0, 128)).decode("utf-8", "replace")
        ident = out.strip()
        if ident:
            return ident
        return f"agentops <agentops@localhost> {int(time.time())} +0000"

    def rev_list(self, *revs: str) -> list[str]:
        """Commit ids that `git rev-list REVS` names, newest first."""
        out = self._run("rev-list", *revs, "--")
        return out.decode().split()

    def patch_ids(
        self, pairs: Sequence[tuple[str, str | None]], stream: PatchStream | None = None,
    ) -> dict[str, str]:
        """Patch-ids of many commits (each against the given parent) in one pipeline.

        `git diff-tree --stdin | git patch-id --verbatim`: two processes for
        any number of commits; a commit with an empty diff gets the hash of
        no bytes, as `patch_id` gives it. The patches pass through us on their
        way to patch-id (see bind_nul_lines), and `stream` (a new one if none
        is given) reads each commit's changed paths and line count from them:
        the diff is computed once for all. A commit git cannot diff (an object
        of it is missing: a partial or damaged clone) is named in
        `stream.unreadable` and gets no patch-id; the pipeline starts again
        after it.
        """
        if not pairs and stream is None:
            return {}
        if stream is None:
            stream = PatchStream()
        if pairs:  # else the stream was (or is being) fed by its owner
            stream.feed(pairs)
            stream.end_input()
        start = 0
        while (failed := self._patch_pipeline(stream, start)) is not None:
            start = self._skip_unreadable(stream, *failed)
        result = dict.fromkeys((c for c in stream.commits if c not in stream.unreadable),
                               self.empty_patch_id)
        result.update(stream.ids)
        return result

    def _patch_pipeline(
        self, stream: PatchStream, start: int,
    ) -> tuple[int, bytearray, str] | None:
        """One `diff-tree --stdin | patch-id` over the stream's commits from `start`.
        None when it read them all; else where diff-tree stopped, and why."""
        import threading

        diff = subprocess.Popen(
            ("git", *_PINNED_CONFIG, "diff-tree", "--stdin", "--root", *PINNED_DIFF, "--raw",
             "--always"),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=self.cwd, env=scrubbed_env(),
        )
        pid = subprocess.Popen(
            ("git", "patch-id", "--verbatim"), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, cwd=self.cwd, env=scrubbed_env(),
        )
        assert diff.stdin is not None and diff.stdout is not None and diff.stderr is not None
        assert pid.stdin is not None and pid.stdout is not None and pid.stderr is not None
        run = stream.new_run()
        feeder = threading.Thread(target=stream.write_input, args=(diff.stdin, start, run),
                                  daemon=True)
        feeder.start()
        reader = threading.Thread(target=stream.read_ids, args=(pid.stdout,), daemon=True)
        reader.start()
        last, tail = stream.tee(diff.stdout, pid.stdin, start)
        reader.join()
        err = pid.stderr.read()
        pid.wait()
        diff_err = diff.stderr.read()
        if diff.wait() != 0:
            stream.new_run()  # the feeder of this run stops
            feeder.join()
            return last, tail, diff_err.decode("utf-8", "replace").strip()
        feeder.join()
        if pid.returncode != 0:
            require_version()
            raise GitError(err.decode("utf-8", "replace").strip() or "git patch-id failed")
        stream.read_last(last, tail)
        return None

    def _skip_unreadable(self, stream: PatchStream, last: int, tail: bytearray, error: str) -> int:
        """diff-tree stopped at commit `last` (its part, `tail`, begun) or at the
        next one: ask git about each alone, name the one it cannot diff, and
        return where the pipeline starts again."""
        for index in (last, last + 1) if tail else (last,):
            if index >= len(stream.commits):
                break
            commit, parent = stream.commits[index], stream.parents[index]
            try:
                self.diff_tree(commit, parent)
            except GitError as e:
                if index > last:
                    stream.read_last(last, tail)  # its part was whole
                stream.mark_unreadable(index, str(e))
                return index + 1
        raise GitError(error or "git diff-tree failed")

    def diff_stats(
        self, pairs: Sequence[tuple[str, str | None]],
    ) -> list[tuple[list[tuple[str, str, str | None]], int]]:
        """Per (commit, parent): its changed paths and its added+removed line count,
        from one `git diff-tree --stdin --raw --numstat` (binary files count 0 lines)."""
        if not pairs:
            return []
        lines = "".join(f"{c} {p}\n" if p else f"{c}\n" for c, p in pairs).encode()
        out = self._run(*_PINNED_CONFIG, "diff-tree", "--stdin", "--root", "-r", "-z", "-M",
                        "-l1000", "--raw", "--numstat", "--no-relative", input=lines)
        wanted = {c for c, _ in pairs}
        found: dict[str, tuple[list[tuple[str, str, str | None]], int]] = {}
        tokens = out.split(b"\0")
        current: str | None = None
        i = 0
        while i < len(tokens):
            token = tokens[i]
            i += 1
            if not token:
                continue
            if token.startswith(b":"):
                status = token.split()[-1].decode()[:1]
                if status in ("R", "C"):
                    old, new = tokens[i].decode("utf-8", "surrogateescape"), tokens[i + 1].decode(
                        "utf-8", "surrogateescape")
                    i += 2
                    entry: tuple[str, str, str | None] = (status, new, old)
                else:
                    entry = (status, tokens[i].decode("utf-8", "surrogateescape"), None)
                    i += 1
                if current is not None:
                    found[current][0].append(entry)
            elif b"\t" in token:
                added, removed, rest = token.split(b"\t", 2)
                if not rest:
                    i += 2  # a rename: old and new path follow
                if current is not None and added != b"-":
                    paths, count = found[current]
                    found[current] = (paths, count + int(added) + int(removed))
            else:
                current = token.decode().strip()
                if current in wanted:
                    found.setdefault(current, ([], 0))
                else:
                    current = None
        return [found.get(c, ([], 0)) for c, _ in pairs]

    def diff_tree_many(
        self, pairs: Sequence[tuple[str, str | None]], pathspecs: Sequence[str],
    ) -> dict[str, bytes]:
        """The pinned patches of many commits, limited to `pathspecs`, from one diff-tree."""
        lines = "".join(f"{c} {p}\n" if p else f"{c}\n" for c, p in pairs).encode()
        out = self._run(*_PINNED_CONFIG, "diff-tree", "--stdin", "--root", *PINNED_DIFF,
                        "--", *pathspecs, input=lines)
        wanted = {c for c, _ in pairs}
        result: dict[str, list[bytes]] = {}
        current: list[bytes] | None = None
        for line in out.splitlines(keepends=True):
            head = line.strip()
            if len(head) in (40, 64) and head.decode("ascii", "replace") in wanted:
                current = result.setdefault(head.decode(), [])
            elif current is not None:
                current.append(line)
        return {c: b"".join(parts) for c, parts in result.items()}

    def remerge_diffs(self, merges: Sequence[str]) -> dict[str, bytes]:
        """What each two-parent merge adds beyond its parents: its remerge diff,
        pinned (b"" for a clean merge), from one git process for all of them.

        The remerge diff is the merge's tree against git's own re-merge of its
        parents, conflict markers included: a hand-resolved conflict shows its
        resolution, an evil merge what it slipped in. git has none for an
        octopus merge (it warns and prints nothing), so callers ask for merges
        of two parents only. `git log`, because `git diff-tree --remerge-diff`
        crashes in git 2.39; it writes its re-merged objects to a temporary
        object directory of its own, which works in pre-receive's quarantine.
        """
        if not merges:
            return {}
        out = self._run(
            *_PINNED_CONFIG, *_REMERGE_CONFIG, "log", "--no-walk", "--stdin", "--remerge-diff",
            *PINNED_DIFF, "--no-show-signature", "--no-notes", "--no-decorate", "--format=%x00%H",
            input="".join(f"{m}\n" for m in merges).encode(),
        )
        result = dict.fromkeys(merges, b"")
        # Each commit starts with NUL + its id: a patch line starts with a
        # space, +, - or a header word, and no path holds a NUL.
        for part in (b"\n" + out).split(b"\n\0")[1:]:
            commit, _, patch = part.partition(b"\n")
            name = commit.decode("ascii", "replace")
            if name in result:
                result[name] = patch.lstrip(b"\n")
        return result

    def diff_index_and_patch_id(self, base: str, index_env: Mapping[str, str]) -> tuple[bytes, str]:
        """The staged patch and its patch-id, with patch-id started while the diff runs."""
        return self.start_diff_index(base, index_env).result()

    def start_diff_index(self, base: str, index_env: Mapping[str, str]) -> StagedDiff:
        """Start git on the staged patch and its patch-id; `result()` waits for them."""
        return StagedDiff(self, base, index_env)

    def patch_id(self, patch: bytes) -> str:
        """The canonical patch-id of a patch (`git patch-id --verbatim`)."""
        if not patch.strip():
            return self.empty_patch_id
        try:
            out = self._run("patch-id", "--verbatim", input=bind_nul_lines(patch))
        except GitError:
            require_version()  # the likely cause; say so plainly
            raise
        first = out.split(b" ", 1)[0].decode().strip()
        return first or self.empty_patch_id

    def commit_tree(self, tree: str, parent: str | None, message: str) -> str:
        """A commit object of `tree` (on `parent`), written but on no ref: what a fresh
        worktree checks out to judge a staged change."""
        env = scrubbed_env()
        for role in ("AUTHOR", "COMMITTER"):
            env[f"GIT_{role}_NAME"] = "agentops judge"
            env[f"GIT_{role}_EMAIL"] = "agentops@localhost"
        parents = ("-p", parent) if parent else ()
        return self._run("commit-tree", tree, *parents, "-m", message, env=env).decode().strip()

    def materialise(self, commit: str, dest: Path) -> None:
        """A new repository at `dest` that reads this one's objects (an alternate, as
        `git clone --shared` sets up) and has `commit` checked out, detached: a fresh
        worktree with no ref, index or file of this repository in it, and no hook.

        GitError, one line, when the commit's tree cannot be checked out (a missing object)."""
        no_hooks = ("-c", f"core.hooksPath={os.devnull}", "-c", "advice.detachedHead=false")
        run(*no_hooks, "init", "--quiet", "--template=", str(dest))
        alternates = dest / ".git" / "objects" / "info" / "alternates"
        alternates.write_text(f"{self.common_dir / 'objects'}\n", encoding="utf-8")
        proc = subprocess.run(("git", *no_hooks, "checkout", "--quiet", "--detach", commit),
                              cwd=dest, env=scrubbed_env(), capture_output=True, check=False)
        said = [line for line in proc.stderr.decode("utf-8", "replace").splitlines()
                if line.startswith(("error:", "fatal:"))]
        if proc.returncode or said:  # a missing blob is an "error:", and exit 0 all the same
            last = said[-1] if said else f"git checkout exited with {proc.returncode}"
            raise GitError(f"cannot check out {commit[:12]} in a fresh worktree ({last}): "
                           "an object it needs is missing; fetch it (git fetch --refetch "
                           "origin; git fsck names it)")

    def index_env(self, env: Mapping[str, str]) -> dict[str, str]:
        """A git environment that reads the index the hook was given.

        `git commit -a` and `git commit <paths>` stage into a temporary index
        named by GIT_INDEX_FILE; reading .git/index instead would judge the
        wrong change.
        """
        index = env.get("GIT_INDEX_FILE")
        if not index:
            return scrubbed_env()
        path = Path(index)
        if not path.is_absolute():
            path = (self.root or self.cwd) / path
        out = scrubbed_env()
        out["GIT_INDEX_FILE"] = str(path)
        return out


class StagedDiff:
    """The staged patch and its patch-id, computed by git from the moment it is made."""

    def __init__(self, repo: Repo, base: str, index_env: Mapping[str, str]) -> None:
        self.repo = repo
        self.diff = subprocess.Popen(
            ("git", *_PINNED_CONFIG, "diff-index", "--cached", *PINNED_DIFF, base, "--"),
            cwd=repo.cwd, env=dict(index_env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        self.pid = subprocess.Popen(
            ("git", "patch-id", "--verbatim"), cwd=repo.cwd, env=scrubbed_env(),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )

    def result(self) -> tuple[bytes, str]:
        """(patch, patch-id), or GitError with git's words."""
        diff, pid = self.diff, self.pid
        patch, diff_err = diff.communicate()
        if diff.returncode != 0:
            pid.kill()
            pid.wait()
            raise GitError(diff_err.decode("utf-8", "replace").strip() or "git diff-index failed")
        if not patch.strip():
            pid.kill()
            pid.wait()
            return patch, self.repo.empty_patch_id
        out, err = pid.communicate(bind_nul_lines(patch))
        if pid.returncode != 0:
            require_version()
            raise GitError(err.decode("utf-8", "replace").strip() or "git patch-id failed")
        first = out.split(b" ", 1)[0].decode().strip()
        return patch, first or self.repo.empty_patch_id


def bind_nul_lines(patch: bytes) -> bytes:
    """The patch as `git patch-id` must read it to bind every byte.

    patch-id hashes each line only up to its first NUL byte, so two files
    that differ only after a NUL on some line would share a patch-id, and one
    verdict would admit both. So each line holding a NUL is preceded by a line
    `~<sha256 of that line>`: inside a hunk, where such a line always is,
    patch-id hashes a line that starts with none of ` +-` without counting it
    against the hunk, and no line of a diff starts with `~`. A patch without
    a NUL (nearly every one) is passed on unchanged.
    """
    if patch.find(b"\0") < 0:
        return patch
    import hashlib

    out = bytearray()
    for line in patch.split(b"\n"):
        if b"\0" in line:
            out += b"~" + hashlib.sha256(line).hexdigest().encode() + b"\n"
        out += line + b"\n"
    del out[-1:]  # split() made one line more than there were newlines
    return bytes(out)


class _NulBinder:
    """Writes a patch stream to `git patch-id`, whole lines at a time, through
    bind_nul_lines: a line is held back until its end is seen."""

    def __init__(self, sink: IO[bytes]) -> None:
        self.sink = sink
        self.carry = bytearray()

    def write(self, data: bytes) -> None:
        end = data.rfind(b"\n") + 1
        if not end:
            self.carry += data
            return
        block = bytes(self.carry) + data[:end] if self.carry else data[:end]
        self.carry = bytearray(data[end:])
        self.sink.write(bind_nul_lines(block))

    def close(self) -> None:
        if self.carry:
            self.sink.write(bind_nul_lines(bytes(self.carry)))
        self.sink.close()


def _is_oid(text: str) -> bool:
    return len(text) in (40, 64) and all(c in "0123456789abcdef" for c in text)


ChangedPaths = list[tuple[str, str, str | None]]
"""(status letter, path, old path for a rename), as `diff-tree --raw` says them."""

_FILE_HEADER = re.compile(
    rb"^(?:diff --git ([^\n]*)|(n)ew file mode|(d)eleted file mode|rename (from|to) ([^\n]*))",
    re.MULTILINE,
)
"""A patch's per-file header lines. Content lines start with a space, `+`, `-`
or `\\`, so none of them can look like one of these."""


def paths_of_patch(patch: bytes) -> ChangedPaths:
    """The changed paths of one pinned patch, as `--name-status` names them.

    A file's status comes from its extended header lines: `new file mode`
    (A), `deleted file mode` (D), `rename from/to` (R), else M; a type change,
    which a patch shows as a deletion then an addition of one path, is T.
    """
    files: ChangedPaths = []
    for m in _FILE_HEADER.finditer(patch):
        header, added, deleted, side, name = m.groups()
        if header is not None:
            files.append(("M", _header_path(header), None))
        elif not files:
            continue
        elif added or deleted:
            path = files[-1][1]
            if added and len(files) > 1 and files[-2] == ("D", path, None):
                files.pop()
                files[-1] = ("T", path, None)
            else:
                files[-1] = ("A" if added else "D", path, None)
        else:
            _, path, old_path = files[-1]
            named = c_unquote(name)
            files[-1] = ("R", named, old_path) if side == b"to" else ("R", path, named)
    return files


def _header_path(header: bytes) -> str:
    """The path of `diff --git a/P b/P` (the same P twice; quoted as a whole
    when it holds special characters). A rename names two paths; its
    `rename from/to` lines, which follow, say which."""
    if header[:1] == b'"':  # "a/Q" "b/Q"
        return c_unquote(header[:(len(header) - 1) // 2])[2:]
    return header[2:(len(header) - 1) // 2].decode("utf-8", "surrogateescape")  # a/P b/P


_C_ESCAPES = {ord("a"): 7, ord("b"): 8, ord("t"): 9, ord("n"): 10, ord("v"): 11, ord("f"): 12,
              ord("r"): 13, ord('"'): 34, ord("\\"): 92}


def c_unquote(text: bytes) -> str:
    """A path as git prints it: as is, or C-quoted (`"a\\tb\\303\\251"`) when
    it holds control, quote, backslash or (core.quotePath) non-ASCII bytes."""
    if text[:1] != b'"' or text[-1:] != b'"' or len(text) < 2:
        return text.decode("utf-8", "surrogateescape")
    out = bytearray()
    body = text[1:-1]
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != 92 or i + 1 == len(body):
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1]
        if 48 <= nxt <= 51 and i + 3 < len(body):
            out.append(int(body[i + 1:i + 4], 8))
            i += 4
        else:
            out.append(_C_ESCAPES.get(nxt, nxt))
            i += 2
    return bytes(out).decode("utf-8", "surrogateescape")


_FILE_START = re.compile(rb"(?:^|(?<=\n))diff --git ")
"""Where a file's part of a patch starts: no content line can (each starts with ` +-\\`)."""

_LONGEST_HINT = 32
"""How far windows overlap, so that a hint word cut in two is still found."""

_HUNK_HEADER = re.compile(rb"\n@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")


def count_changed_lines(patch: bytes | bytearray, start: int = 0, end: int | None = None) -> int:
    """Added plus removed lines of a unified diff (or of patch[start:end], which
    starts at a line that is not a context line), read from its hunk headers.

    A hunk `@@ -a,b +c,d @@` spans b old and d new lines, its context lines
    (those starting with a space) being counted in both: so it changes
    b + d - 2 * context lines. Content that starts with `+++` or `---` is
    counted right, and the counting of context lines is done by C. Patches
    are diffed --text, so a binary file's lines count like any other's: no
    byte (a NUL, an attribute) can make a change look smaller than it is.
    """
    end = len(patch) if end is None else end
    changed = 0
    for old, new in _HUNK_HEADER.findall(patch, start, end):
        changed += (int(old) if old else 1) + (int(new) if new else 1)
    return changed - 2 * patch.count(b"\n ", start, end)


def any_of(words: Sequence[bytes]) -> bytes:
    """A regular expression matching any of the words, as a trie (`k(?:ey|ex)`): re
    tries each alternative at every position its first bytes allow, so a hundred words
    in one flat alternation cost a hundred tries a byte, a trie a few."""
    if b"" in words:
        rest = [w for w in words if w]
        return b"(?:" + any_of(rest) + b")?" if rest else b""
    groups: dict[bytes, list[bytes]] = {}
    for word in sorted(set(words)):
        groups.setdefault(word[:1], []).append(word[1:])
    alternatives = [re.escape(first) + (any_of(tails) if tails != [b""] else b"")
                    for first, tails in groups.items()]
    return alternatives[0] if len(alternatives) == 1 else b"(?:" + b"|".join(alternatives) + b")"


class PatchStream:
    """What the range's patch stream says of each commit besides its patch-id.

    diff-tree runs with `--raw --always`, so every commit's part starts with
    its id and its `--raw` lines (which patch-id skips, as it skips anything
    before a commit's first `diff` line). On the way to patch-id each part
    gives the commit's changed paths (from the raw lines, exactly as git names
    them), its added+removed lines (count_changed_lines), and, when it holds
    one of `keep_words` (lower case), its patch text.

    What is known of a commit is known as soon as the stream has passed it:
    `wait(commit)` returns then, so the gates can judge the first commits
    while git still diffs the last ones. Commits may be fed while the
    pipeline runs (`feed`, then `end_input`): git starts on the first ones
    while the caller is still choosing the next.

    With `keep_limit`, the kept patches are bounded: the stream stops reading
    while they hold more than that many bytes, until their commits are taken
    (`take`) or passed over (`release`), or someone waits for a commit not yet
    read. So memory stays bounded however much patch text a range holds.
    """

    def __init__(
        self, keep_words: Sequence[bytes] = (), chunk_size: int = 1 << 16,
        keep_limit: int | None = None,
    ) -> None:
        import threading

        self.commits: list[str] = []
        """In the order they were fed (and diffed)."""
        self.parents: list[str | None] = []
        self.chunk_size = chunk_size
        self.ids: dict[str, str] = {}
        """Patch-ids patch-id printed; a commit without one has an empty diff."""
        self.counts: dict[str, int] = {}
        self.paths: dict[str, ChangedPaths] = {}
        self.kept: dict[str, bytes] = {}
        self.unreadable: dict[str, str] = {}
        """Commits git could not diff, with git's words."""
        self.keep_limit = keep_limit
        self._kept_bytes = 0
        self._waiting = 0
        self._hint = re.compile(any_of(keep_words)) if keep_words else None
        if keep_words and max(map(len, keep_words)) > _LONGEST_HINT:
            raise ValueError(f"keep words are at most {_LONGEST_HINT} bytes")
        self._order: dict[str, int] = {}
        self._input_ended = False
        self._run = 0  # the pipeline run now reading (a new one after an unreadable commit)
        self._read_upto = -1  # every part up to this index was read
        self._named_upto = -1  # patch-id has printed every id up to this index
        self._finished = False
        self._error: BaseException | None = None
        self._changed = threading.Condition()

    def feed(self, pairs: Sequence[tuple[str, str | None]]) -> None:
        """Queue commits (each with the parent to diff against) for diff-tree, in order."""
        with self._changed:
            for commit, parent in pairs:
                self._order[commit] = len(self.commits)
                self.commits.append(commit)
                self.parents.append(parent)
            self._changed.notify_all()

    def end_input(self) -> None:
        """No more commits: diff-tree may finish."""
        with self._changed:
            self._input_ended = True
            self._changed.notify_all()

    def new_run(self) -> int:
        """A new pipeline takes over (the feeder of the last one stops)."""
        with self._changed:
            self._run += 1
            self._changed.notify_all()
            return self._run

    def write_input(self, sink: IO[bytes], start: int, run: int) -> None:
        """A pipeline's feeder: the commits from `start` to diff-tree as they are
        fed, until the input ends or another run takes over."""
        sent = start
        try:
            while True:
                with self._changed:
                    while (sent >= len(self.commits) and not self._input_ended
                           and run == self._run):
                        self._changed.wait()
                    if run != self._run or sent >= len(self.commits):
                        return
                    pairs = list(zip(self.commits[sent:], self.parents[sent:]))
                sent += len(pairs)
                sink.write("".join(f"{c} {p}\n" if p else f"{c}\n" for c, p in pairs).encode())
                sink.flush()
        except OSError:
            pass  # diff-tree stopped early: the pipeline reports its error
        finally:
            try:
                sink.close()
            except OSError:
                pass

    def wait(self, commit: str) -> None:
        """Until what the stream says of `commit` is known; raises the pipeline's error."""
        index = self._order[commit]
        if index <= self._read_upto and index <= self._named_upto:
            return  # known already: no lock to take
        with self._changed:
            self._waiting += 1  # the reader may go past the kept patches' limit
            self._changed.notify_all()
            try:
                while not self._finished and (index > self._read_upto or index > self._named_upto):
                    self._changed.wait()
            finally:
                self._waiting -= 1
            if self._error is not None:
                raise self._error

    def take(self, commit: str) -> bytes:
        """The commit's kept patch, given up by the stream (b"": none kept)."""
        with self._changed:
            patch = self.kept.pop(commit, b"")
            self._kept_bytes -= len(patch)
            self._changed.notify_all()
        return patch

    def release(self, commit: str) -> None:
        """The commit is judged: its kept patch, if no one took it, is let go."""
        if commit in self.kept:
            self.take(commit)

    def stop_limiting(self) -> None:
        """Read on whatever is kept (its owner stops taking)."""
        with self._changed:
            self.keep_limit = None
            self._changed.notify_all()

    def mark_unreadable(self, index: int, error: str) -> None:
        """git could not diff this commit: it has no patch-id, and it is passed."""
        with self._changed:
            commit = self.commits[index]
            self.unreadable[commit] = error
            self.ids.pop(commit, None)
            self._read_upto = max(self._read_upto, index)
            self._named_upto = max(self._named_upto, index)
            self._changed.notify_all()

    def finish(self, error: BaseException | None = None) -> None:
        """The pipeline is over: everything is known, or `error` says why not."""
        with self._changed:
            self._finished = True
            self._error = error
            self._changed.notify_all()

    def read_ids(self, out: IO[bytes]) -> None:
        """Read patch-id's `PATCH-ID COMMIT` lines as they come. They come in
        stream order and a commit with an empty diff gets none, so an id names
        every commit before it too."""
        read = getattr(out, "read1", out.read)
        carry = b""
        while True:
            chunk = read(1 << 16)
            lines = (carry + chunk).split(b"\n")
            carry = lines.pop() if chunk else b""
            named = self._named_upto
            for line in lines:
                patch, _, commit = line.decode().partition(" ")
                index = self._order.get(commit)
                if index is not None:
                    self.ids[commit] = patch
                    named = max(named, index)
            with self._changed:
                self._named_upto = named
                self._changed.notify_all()
            if not chunk:
                return

    def tee(self, source: IO[bytes], sink: IO[bytes], k: int = 0) -> tuple[int, bytearray]:
        """Copy `source` to `sink`, reading each commit's part as it completes,
        from commit `k` on. Returns the last commit's index and its part, which
        only diff-tree's exit says is whole (see read_last)."""
        commits = self.commits  # grows while the pipeline runs (see feed)
        buf = bytearray()  # grows in place: one commit's patch may be hundreds of MB
        searched = 0  # where the search for the next id line may resume
        to_patch_id = _NulBinder(sink)
        try:
            while True:
                chunk = source.read(self.chunk_size)
                if chunk:
                    to_patch_id.write(chunk)
                    buf += chunk
                parts: list[tuple[int, int, int]] = []  # (commit index, start, end) in buf
                start = 0
                while k + 1 < len(commits):
                    mark = b"\n" + commits[k + 1].encode() + b"\n"
                    at = buf.find(mark, max(start, searched))
                    if at < 0:
                        searched = max(start, len(buf) - len(mark))
                        break
                    parts.append((k, start, at + 1))
                    start = at + 1
                    searched = start
                    k += 1
                self._read_parts(buf, parts)
                del buf[:start]
                searched -= start
                if not chunk:
                    return k, buf
                self._keep_within_limit()
        finally:
            to_patch_id.close()

    def read_last(self, k: int, part: bytearray) -> None:
        """Read the stream's last part (diff-tree ended well, or git diffs it alone)."""
        if part and k < len(self.commits):
            self._read_parts(part, [(k, 0, len(part))])

    def _keep_within_limit(self) -> None:
        if self.keep_limit is None or self._kept_bytes <= self.keep_limit:
            return
        with self._changed:
            while (self.keep_limit is not None and self._kept_bytes > self.keep_limit
                   and not self._waiting and not self._finished):
                self._changed.wait()

    def _read_parts(self, buf: bytearray, parts: list[tuple[int, int, int]]) -> None:
        """Each part's paths and line count; its patch too when it holds a hint word."""
        if not parts:
            return
        hits = self._added_hints(buf, parts[0][1], parts[-1][2])  # most stretches hold none
        commits, counts, paths = self.commits, self.counts, self.paths
        kept: dict[str, bytes] = {}
        for k, start, end in parts:
            commit = commits[k]
            body = buf.index(b"\n", start) + 1  # after the id line
            files: ChangedPaths = []
            while buf.startswith(b":", body, end):
                line_end = buf.index(b"\n", body)
                files.append(_raw_entry(bytes(buf[body:line_end])))
                body = line_end + 1
            paths[commit] = files
            counts[commit] = count_changed_lines(buf, body, end)
            if _any_between(hits, body, end):
                kept[commit] = self._hinted_files(buf, body, end, hits)
        with self._changed:
            self.kept.update(kept)
            self._kept_bytes += sum(map(len, kept.values()))
            self._read_upto = parts[-1][0]
            self._changed.notify_all()

    def _hinted_files(self, buf: bytearray, start: int, end: int, hits: list[int]) -> bytes:
        """The files of buf[start:end] (one commit's patch) whose added lines hold
        a hint word: a secret is looked for in added lines that hold one, so the
        other files (and a commit whose hint is only in context) need no reading."""
        heads = [m.start() for m in _FILE_START.finditer(buf, start, end)]
        return b"".join(buf[a:b] for a, b in zip(heads, [*heads[1:], end]) if _any_between(hits, a, b))

    def _added_hints(self, buf: bytearray, start: int, end: int) -> list[int]:
        """Where buf[start:end] holds a hint word (in any case, ASCII folding) on an
        added line (or a `+++` header: read too, which is harmless), in order.

        One pass, a window at a time (a huge patch is never copied whole): the
        words are found by one expression of literals, which re scans fast, and
        each is then placed on its line; one pattern with a line prefix before
        the words would try every word at every character of every added line."""
        hint = self._hint
        if hint is None:
            return []
        found: list[int] = []
        step = 1 << 16
        for pos in range(start, end, step):
            window = buf[pos:min(end, pos + step + _LONGEST_HINT)].lower()
            for match in hint.finditer(window):
                if match.start() >= step:
                    break  # the next window finds it whole
                at = pos + match.start()
                line = buf.rfind(b"\n", start, at) + 1
                if line > 0 and buf[line] == 43:  # "+"
                    found.append(at)
        return found


def _any_between(hits: list[int], start: int, end: int) -> bool:
    """Is one of the (sorted) positions in [start, end)?"""
    i = bisect_left(hits, start)
    return i < len(hits) and hits[i] < end


def _raw_entry(line: bytes) -> tuple[str, str, str | None]:
    """(status, path, old path) of one `--raw` line: `:mode mode oid oid STATUS\tpath[\tpath]`."""
    meta, _, names = line.partition(b"\t")
    status = meta.rpartition(b" ")[2][:1].decode()
    if status in ("R", "C"):
        old, _, new = names.partition(b"\t")
        return status, c_unquote(new), c_unquote(old)
    return status, c_unquote(names), None


_CHUNK_BYTES = 8192


class ObjectReader:
    """One `git cat-file --batch` process answering every object request of a check.

    Requests are `REV:path`, `:path` (the index) or object ids; answers are
    cached, and a range check shares one reader, so its cost does not grow
    with the number of commits. Requests are written in small chunks before
    their answers are read, so neither pipe can fill up and stall.
    """

    def __init__(self, repo: Repo, env: Mapping[str, str]) -> None:
        self.repo = repo
        self.env = dict(env)
        self.oid_bytes = 32 if repo.object_format == "sha256" else 20
        self._proc: subprocess.Popen[bytes] | None = None
        self._cache: dict[str, tuple[str, bytes] | None] = {}

    def read(self, names: Iterable[str]) -> dict[str, tuple[str, bytes] | None]:
        """(type, content) for each name, None for a name that names no object."""
        wanted = list(dict.fromkeys(names))
        todo = [n for n in wanted if n not in self._cache]
        for name in todo:
            if "\n" in name:  # cat-file reads one request a line
                self._cache[name] = None
        todo = [n for n in todo if n not in self._cache]
        chunk: list[str] = []
        size = 0
        for name in todo:
            if chunk and size + len(name) >= _CHUNK_BYTES:
                self._ask(chunk)
                chunk, size = [], 0
            chunk.append(name)
            size += len(name) + 1
        if chunk:
            self._ask(chunk)
        return {n: self._cache[n] for n in wanted}

    def _ask(self, names: Sequence[str]) -> None:
        proc = self._process()
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(b"".join(n.encode("utf-8", "surrogateescape") + b"\n" for n in names))
            proc.stdin.flush()
            for name in names:
                header = proc.stdout.readline()
                parts = header.split()
                if not header.endswith(b"\n"):
                    raise GitError("git cat-file --batch stopped answering")
                if len(parts) == 3 and parts[2].isdigit() and not header.endswith(
                        (b" missing\n", b" ambiguous\n")):
                    size = int(parts[2])
                    content = proc.stdout.read(size + 1)[:size]
                    self._cache[name] = (parts[1].decode("ascii", "replace"), content)
                else:
                    self._cache[name] = None
        except (BrokenPipeError, ValueError) as e:
            raise GitError(f"git cat-file --batch failed: {e}") from None

    def _process(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            try:
                self._proc = subprocess.Popen(
                    ("git", "cat-file", "--batch"), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL, cwd=self.repo.cwd, env=self.env,
                )
            except FileNotFoundError:
                raise GitError("git is not installed or not on PATH") from None
            weakref.finalize(self, _stop, self._proc)
        return self._proc

    def tree_entries(self, data: bytes) -> list[tuple[str, str, str]]:
        """(mode, name, object id) of each entry of a raw tree object."""
        entries = []
        pos = 0
        while pos < len(data):
            space = data.index(b" ", pos)
            nul = data.index(b"\0", space)
            oid = data[nul + 1:nul + 1 + self.oid_bytes].hex()
            entries.append((data[pos:space].decode("ascii"),
                            data[space + 1:nul].decode("utf-8", "surrogateescape"), oid))
            pos = nul + 1 + self.oid_bytes
        return entries

    def list_files(self, commit: str, prefixes: Iterable[str]) -> set[str]:
        """Every file (blob or symlink) of `commit`'s tree under the prefixes ("": all)."""
        found: set[str] = set()
        level = {(f"{commit}:{p}" if p else f"{commit}^{{tree}}"): p for p in set(prefixes)}
        while level:
            answers = self.read(level)
            next_level: dict[str, str] = {}
            for name, path in level.items():
                answer = answers[name]
                if answer is None:
                    continue
                kind, data = answer
                if kind == "blob":
                    found.add(path)
                elif kind == "tree":
                    for mode, entry, oid in self.tree_entries(data):
                        child = f"{path}/{entry}" if path else entry
                        if mode == "40000":
                            next_level[oid] = child
                        elif mode != "160000":  # a submodule is not a file here
                            found.add(child)
            level = next_level
        return found


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.stdin is not None:
        proc.stdin.close()
    if proc.stdout is not None:
        proc.stdout.close()
    proc.wait()
