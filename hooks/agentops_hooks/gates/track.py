"""Factor II, Track Everything in Git: if it isn't in git, it didn't happen.

Two rules for an agent's change:

- When a commit is made, no file under `track.state_dir` (the agent's state,
  `.agents` by default) may be left untracked or ignored. A commit already
  made shows nothing about the work tree it came from, so this rule applies
  at commit time only.
- Every trailer named in `track.path_trailers` whose value looks like a
  repository path (see `evidence_path`) must name a file in the tree the
  change leaves: the index when staged, the commit's tree when committed.
"""
from __future__ import annotations

import posixpath
import re
import shlex
import weakref
from collections.abc import Sequence
from typing import NamedTuple
from typing import TYPE_CHECKING

from agentops_hooks.config import Audience
from agentops_hooks.config import Severity
from agentops_hooks.findings import Finding
from agentops_hooks.trailers import values

if TYPE_CHECKING:
    from agentops_hooks.change import Change
    from agentops_hooks.gates import Context
    from agentops_hooks.gates import Evidence

FACTOR = "II"
GATE = "track"
PHASE = "prepare"


class TrackConfig(NamedTuple):
    """Gate II: agent state and referenced evidence live in git."""

    required_for: Audience = "agents"
    severity: Severity = "error"
    state_dir: str = ".agents"
    """Agent state that must not be left untracked or ignored."""
    path_trailers: tuple[str, ...] = ("Research", "Verdict-Evidence", "Evidence")
    """Trailers whose values name files that must exist in the commit's tree (when they look like paths)."""


SETTINGS = TrackConfig
SHOWN_PATHS = 10
"""Paths a finding names; the rest are counted."""

_LINE_SUFFIX = re.compile(r"(?::\d+)+(?:-\d+)?\Z")
_LINE_ANCHOR = re.compile(r"#L\d+(?:-L?\d+)?\Z")
_EXTENSION = re.compile(r"\.[A-Za-z0-9_-]*[A-Za-z][A-Za-z0-9_-]*\Z")


def _finding(change: Change, rule: str, message: str, fix: str) -> Finding:
    return Finding(FACTOR, GATE, rule, message, fix, change.commit)


def evidence_path(value: str) -> str | None:
    """The repository path a trailer value names, or None when it is not a path.

    A value is a path when it has no whitespace, is not a URL (`scheme://`)
    or an address (`@`), and contains `/` or ends in a file extension with a
    letter in it (`.md`, `.json`; not `1.2`). A pytest node id (`file::test`),
    a line suffix (`file:12`, `file:3-9`) or a line anchor (`file#L12`) names
    its file; any other `#` makes the value an issue or PR reference, not a
    path. The path is normalised (`./` and `a/../` removed); one that is
    absolute or climbs out of the repository is returned as written, since
    it cannot be in git.
    """
    text = value.strip()
    if not text or any(c.isspace() for c in text) or "://" in text or "@" in text:
        return None
    text = text.split("::", 1)[0]
    text = _LINE_ANCHOR.sub("", text)
    if "#" in text:
        return None
    text = _LINE_SUFFIX.sub("", text)
    if not text or not ("/" in text or _EXTENSION.search(text)):
        return None
    if text.startswith("/"):
        return text
    path = posixpath.normpath(text)
    if path in (".", "..") or path.startswith("../"):
        return text
    return path


def _quoted(paths: Sequence[str]) -> str:
    return " ".join(shlex.quote(p) for p in paths)


def _listed(paths: Sequence[str]) -> str:
    shown = ", ".join(paths[:SHOWN_PATHS])
    more = len(paths) - SHOWN_PATHS
    return shown + (f" and {more} more" if more > 0 else "")


# --- agent state left out of git ----------------------------------------------------

def _ls_files(change: Change, state_dir: str, *options: str) -> list[str]:
    repo = change.repo
    env = repo.index_env(change.env) if change.env is not None else None
    out = repo.git(
        "ls-files", "-z", "--full-name", "--others", *options,
        "--", f":(top,literal){state_dir}",
        **({"env": env} if env is not None else {}),
    )
    return sorted(p for p in out.decode("utf-8", "surrogateescape").split("\0") if p)


def _ignore_rules(change: Change, paths: Sequence[str]) -> list[tuple[str, str]]:
    """(`source:line`, pattern) of the ignore rules behind the paths (from git check-ignore)."""
    root = change.repo.root
    assert root is not None  # only asked at commit time, in a work tree
    out = change.repo.git(
        "-C", str(root), "check-ignore", "-v", "-z", "--stdin", input="\0".join(paths).encode() + b"\0",
        ok_codes=(0, 1),
    )
    fields = out.decode("utf-8", "surrogateescape").split("\0")
    rules: list[tuple[str, str]] = []
    for i in range(0, len(fields) - 3, 4):
        source, line, pattern = fields[i:i + 3]
        rule = (f"{source}:{line}", pattern)
        if source and rule not in rules:
            rules.append(rule)
    return rules


def state_findings(change: Change, config: TrackConfig) -> list[Finding]:
    """Untracked and ignored files under the state directory, at commit time."""
    root = change.repo.root
    state_dir = config.state_dir.strip().strip("/")
    if root is None or not state_dir or not (root / state_dir).exists():
        return []
    # One process in the usual case (nothing untracked); the second tells ignored apart.
    others = _ls_files(change, state_dir)
    if not others:
        return []
    ignored = _ls_files(change, state_dir, "--ignored", "--exclude-standard")
    left = set(ignored)
    untracked = [p for p in others if p not in left]
    findings: list[Finding] = []
    if untracked:
        add = f"git add -- {_quoted(untracked)}" if len(untracked) <= SHOWN_PATHS \
            else f"git add -- {shlex.quote(state_dir)}"
        findings.append(_finding(
            change, "track-untracked-state",
            f"{len(untracked)} file(s) of agent state under {state_dir}/ are not in git: "
            f"{_listed(untracked)}. State an agent leaves outside git is lost to the next "
            "session and to review.",
            f"{add}   then {change.retry} (or delete them if they are not state)",
        ))
    if ignored:
        rules = _ignore_rules(change, ignored)
        why = " (ignored by " + "; ".join(f"`{p}` at {where}" for where, p in rules) + ")" \
            if rules else ""
        force = f"git add -f -- {_quoted(ignored)}" if len(ignored) <= SHOWN_PATHS \
            else f"git add -f -- {shlex.quote(state_dir)}"
        findings.append(_finding(
            change, "track-ignored-state",
            f"{len(ignored)} file(s) of agent state under {state_dir}/ are ignored by git"
            f"{why}: {_listed(ignored)}. Ignored state never reaches the repository.",
            "delete or narrow the ignore rule" + (f" at {rules[0][0]}" if rules else "")
            + f" so that {state_dir}/ is not ignored, then git add the files; or force-add "
            f"them: {force}; or, if they are not state (caches, secrets), move them out of "
            f"{state_dir}/; then {change.retry}",
        ))
    return findings


# --- evidence references ------------------------------------------------------------

_EXISTS: weakref.WeakKeyDictionary[Evidence, dict[str, bool]] = weakref.WeakKeyDictionary()


def _references(change: Change, config: TrackConfig) -> list[tuple[str, str, str]]:
    """(trailer key, value, path) of each trailer value that names a path."""
    found = []
    seen: set[str] = set()
    for key in config.path_trailers:
        if key.lower() in seen:  # keys match in any case: each once
            continue
        seen.add(key.lower())
        for value in values(change.trailers, key):
            path = evidence_path(value)
            if path is not None:
                found.append((key, value.strip(), path))
    return found


def _request(change: Change, path: str) -> str | None:
    if path.startswith(("/", "../")):
        return None  # cannot be in the repository
    return f"{change.commit or ''}:{path}"


def _files_exist(change: Change, ctx: Context, config: TrackConfig) -> dict[str, bool]:
    """Is each `REV:path` a file, for this change and, batched, the range it is checked with?"""
    known = _EXISTS.setdefault(ctx.store, {})
    mine = [r for _, _, p in _references(change, config) if (r := _request(change, p))]
    if all(r in known for r in mine):
        return known
    batch = list(mine)
    if change.commit is not None:  # ask for every commit of the range in the same process
        for other in ctx.range_changes:
            if other.commit is not None and other is not change:
                batch += [r for _, _, p in _references(other, config) if (r := _request(other, p))]
    todo = [r for r in dict.fromkeys(batch) if r not in known]
    repo = change.repo
    env = repo.index_env(change.env) if change.commit is None and change.env is not None else None
    out = repo.git(
        "cat-file", "--batch-check", "--buffer", input="".join(f"{r}\n" for r in todo).encode(),
        **({"env": env} if env is not None else {}),
    )
    lines = out.decode("utf-8", "surrogateescape").split("\n")
    for request, line in zip(todo, lines):
        parts = line.split()
        known[request] = len(parts) == 3 and parts[1] == "blob" and not line.endswith(" missing")
    return known


def evidence_findings(change: Change, ctx: Context, config: TrackConfig) -> list[Finding]:
    """Path-like values of the evidence trailers that name no file in the tree."""
    references = _references(change, config)
    if not references:
        return []
    exists = _files_exist(change, ctx, config)
    where = f"commit {change.label}" if change.commit else "the index (what this commit records)"
    findings = []
    for key, value, path in references:
        request = _request(change, path)
        if request is not None and exists.get(request, False):
            continue
        why = "is outside the repository" if request is None else f"is not a file in {where}"
        if change.commit is None:
            fix = f"commit the file with this change: git add -- {shlex.quote(path)}"
        else:
            fix = (f"the file must be in commit {change.label}: add it there "
                   f"(git rebase -i, `edit` that commit, git add -- {shlex.quote(path)}, "
                   "git commit --amend)")
        findings.append(_finding(
            change, "track-missing-evidence",
            f"`{key}: {value}` points at {path}, which {why}: a reference that is not in git "
            "does not count as evidence.",
            f"{fix}; or correct the `{key}:` trailer to name a tracked file; then {change.retry}",
        ))
    return findings


def check(change: Change, ctx: Context) -> list[Finding]:
    """Findings for gate II; none when state and referenced evidence are in git."""
    config = ctx.config.section(TrackConfig)
    if not ctx.applies(config.required_for):
        return []
    findings = state_findings(change, config) if change.commit is None else []
    return findings + evidence_findings(change, ctx, config)
