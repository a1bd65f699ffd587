"""When a repository adopted the agentops hooks, as its history shows it.

A commit can only bypass the hooks if the hooks were there to bypass. Git
records no hook installation (`pre-commit install` is per clone), so the
history's own marks decide, the oldest of:
- the commit that made `.pre-commit-config.yaml` run an agentops hook;
- the first commit carrying a `Verdict:` trailer (read by git's trailer parser);
- the first commit a verdict note in refs/notes/agentops/verdicts is attached to.
Commits made after it (its descendants) were made where the hooks ran.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass

from agentops_hooks.evidence.verdicts import VERDICT_KEY
from agentops_hooks.git import Repo

PRE_COMMIT_CONFIG = ".pre-commit-config.yaml"
# A hook entry `- id: agentops` (or agentops-record, agentops-push, ...), quoted or not.
_HOOK_ID = re.compile(r"""^\s*(?:-\s*)?id:\s*["']?agentops(?:-[a-z]+)*["']?\s*(?:#.*)?$""", re.MULTILINE)
NEVER = ("this history never adopted the agentops hooks: no commit's .pre-commit-config.yaml "
         "runs them and no commit carries a verdict")


@dataclass(frozen=True)
class Adoption:
    """The commit from which on the hooks ran, and how the history shows it."""

    commit: str
    date: str
    """Its committer date, YYYY-MM-DD (UTC)."""
    how: str
    """What the commit did that shows the adoption, in a few words."""

    def describe(self) -> str:
        return f"{self.date}, {self.commit[:12]}: {self.how}"


@dataclass(frozen=True)
class History:
    """What one walk of the history reachable from a range's tips says."""

    adoption: Adoption | None
    """The oldest commit that shows the hooks adopted (None: none does)."""
    times: dict[str, int]
    """The committer time (Unix seconds) of every commit reachable from the tips."""


def read_history(repo: Repo, tips: Sequence[str], noted: Iterable[str]) -> History:
    """Walk the history reachable from `tips` once; `noted` are the objects verdict
    notes are attached to. Three git processes."""
    if not tips:
        return History(None, {})
    noted = set(noted)
    order: dict[str, int] = {}
    times: dict[str, int] = {}
    candidates: list[tuple[int, str, str, str]] = []
    trailer_found = note_found = False
    # Oldest first, never a parent after its child: the first hit of each kind is the one wanted.
    out = repo.git("log", "--date-order", "--reverse", "--format=%H %ct %(trailers:key="
                   + VERDICT_KEY + ",valueonly,unfold,separator=%x20)", *tips, "--")
    for line in out.decode("utf-8", "replace").splitlines():
        commit, _, rest = line.partition(" ")
        stamp, _, verdict = rest.partition(" ")
        if not stamp.isdigit():  # never: values are unfolded onto one line
            continue
        order[commit] = len(order)
        times[commit] = int(stamp)
        if not trailer_found and verdict.strip():
            trailer_found = True
            candidates.append((order[commit], commit, stamp, "its first commit with a Verdict trailer"))
        if not note_found and commit in noted:
            note_found = True
            candidates.append((order[commit], commit, stamp, "its first commit with a verdict note"))
    configured = _hooks_configured(repo, tips)
    if configured is not None and configured[1] in order:
        candidates.append((order[configured[1]], configured[1], str(configured[0]),
                           f"{PRE_COMMIT_CONFIG} made to run the agentops hooks"))
    if not candidates:
        return History(None, times)
    _, commit, stamp, how = min(candidates)
    day = dt.datetime.fromtimestamp(int(stamp), dt.timezone.utc).date().isoformat()
    return History(Adoption(commit, day, how), times)


def _hooks_configured(repo: Repo, tips: Sequence[str]) -> tuple[int, str] | None:
    """(committer time, commit) of the oldest commit whose .pre-commit-config.yaml
    runs an agentops hook while its first parent's did not."""
    out = repo.git("log", "--date-order", "--reverse", "--format=%H %ct %P", "-G", "agentops", *tips,
                   "--", PRE_COMMIT_CONFIG)
    rows = [line.split() for line in out.decode().splitlines() if line.strip()]
    names = [f"{r[0]}:{PRE_COMMIT_CONFIG}" for r in rows]
    names += [f"{r[2]}:{PRE_COMMIT_CONFIG}" for r in rows if len(r) > 2]
    blobs = repo.read_blobs(names)
    for row in rows:
        after = blobs.get(f"{row[0]}:{PRE_COMMIT_CONFIG}", b"")
        before = blobs.get(f"{row[2]}:{PRE_COMMIT_CONFIG}", b"") if len(row) > 2 else b""
        if runs_agentops(after) and not runs_agentops(before):
            return int(row[1]), row[0]
    return None


def runs_agentops(config: bytes) -> bool:
    """Does this .pre-commit-config.yaml name an agentops hook?"""
    return _HOOK_ID.search(config.decode("utf-8", "replace")) is not None


def adopted_commits(repo: Repo, adoption: Adoption, tips: Sequence[str]) -> set[str]:
    """The commits reachable from `tips` made after the adoption (its descendants)."""
    out = repo.git("rev-list", "--ancestry-path", f"^{adoption.commit}", *tips, "--")
    return set(out.decode().split())
