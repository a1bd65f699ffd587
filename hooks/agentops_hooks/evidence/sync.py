"""Sharing the notes refs between clones without losing a line.

git does not fetch or push notes by default. We fetch them into
refs/notes/remotes/REMOTE/agentops/*, merge each into the local ref with
`cat_sort_uniq` (the union of lines), and push without force; a push
rejected because someone pushed first is fetched, merged and retried.
"""
from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass

from agentops_hooks.errors import FatalError
from agentops_hooks.git import GitError
from agentops_hooks.git import Repo
from agentops_hooks.git import scrubbed_env
from agentops_hooks.evidence.notes import NOTES_PREFIX

PUSH_ATTEMPTS = 20
_REJECTED = re.compile(
    r"rejected|non-fast-forward|fetch first|failed to update ref|cannot lock ref|"
    r"failed to lock|stale info|incorrect old value",
    re.IGNORECASE,
)


def fetch_refspec(remote: str) -> str:
    """The refspec that brings a remote's agentops notes next to ours."""
    return f"+{NOTES_PREFIX}*:refs/notes/remotes/{remote}/agentops/*"


@dataclass
class SyncReport:
    """What a fetch or push did, for the user."""

    merged: list[str]
    pushed: list[str]
    retries: int = 0


def require_remote(repo: Repo, remote: str) -> None:
    """A clear error for a remote that is not configured."""
    out = repo.git("remote", ok_codes=(0,)).decode("utf-8", "replace").split()
    if remote not in out:
        known = ", ".join(out) or "none"
        raise FatalError(f"no remote named {remote!r} (configured remotes: {known})")


def _merge_env(repo: Repo) -> dict[str, str]:
    """git notes merge writes commits: give it an identity if the user has none."""
    env = scrubbed_env()
    if not repo.git("var", "GIT_COMMITTER_IDENT", ok_codes=(0, 128)).strip():
        env.update({"GIT_COMMITTER_NAME": "agentops", "GIT_COMMITTER_EMAIL": "agentops@localhost",
                    "GIT_AUTHOR_NAME": "agentops", "GIT_AUTHOR_EMAIL": "agentops@localhost"})
    return env


def _refs(repo: Repo, prefix: str) -> dict[str, str]:
    out = repo.git("for-each-ref", "--format=%(refname) %(objectname)", prefix)
    refs = {}
    for line in out.decode("utf-8", "replace").splitlines():
        name, _, oid = line.partition(" ")
        refs[name] = oid
    return refs


def fetch(repo: Repo, remote: str) -> SyncReport:
    """Fetch the remote's agentops notes and merge each into ours, keeping every line."""
    require_remote(repo, remote)
    try:
        repo.git("fetch", "--quiet", "--no-tags", remote, fetch_refspec(remote))
    except GitError as e:
        raise FatalError(f"cannot fetch notes from {remote}: {e}") from None
    remote_prefix = f"refs/notes/remotes/{remote}/agentops/"
    local = _refs(repo, NOTES_PREFIX)
    merged = []
    env = _merge_env(repo)
    for name, oid in _refs(repo, remote_prefix).items():
        ours = NOTES_PREFIX + name[len(remote_prefix):]
        if ours not in local:
            repo.git("update-ref", ours, oid, "")
        elif local[ours] != oid:
            repo.git("notes", f"--ref={ours}", "merge", "--quiet", "--strategy=cat_sort_uniq",
                     name, env=env)
        merged.append(ours)
    repo.forget_refs()
    return SyncReport(merged=merged, pushed=[])


def push(repo: Repo, remote: str) -> SyncReport:
    """Push our agentops notes without force; on rejection fetch, merge, retry."""
    require_remote(repo, remote)
    retries = 0
    for attempt in range(PUSH_ATTEMPTS):
        refs = sorted(_refs(repo, NOTES_PREFIX))
        if not refs:
            return SyncReport(merged=[], pushed=[], retries=retries)
        try:
            repo.git("push", "--quiet", "--porcelain", remote, *(f"{r}:{r}" for r in refs))
            return SyncReport(merged=[], pushed=refs, retries=retries)
        except GitError as e:
            if not _REJECTED.search(str(e)) or attempt == PUSH_ATTEMPTS - 1:
                raise FatalError(f"cannot push notes to {remote}: {e}") from None
        retries += 1
        time.sleep(random.uniform(0.02, 0.1) * min(retries, 5))
        fetch(repo, remote)
    raise FatalError(f"cannot push notes to {remote}: still rejected after {PUSH_ATTEMPTS} tries")


def sync(repo: Repo, remote: str) -> SyncReport:
    """Fetch and merge, then push: both sides end with every line of both."""
    fetched = fetch(repo, remote)
    pushed = push(repo, remote)
    return SyncReport(merged=fetched.merged, pushed=pushed.pushed, retries=pushed.retries)
