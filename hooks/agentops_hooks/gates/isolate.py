"""Factor VI, Isolate Workers: agents work on their own branches, inside their own paths.

(a) An agent does not commit directly on a protected branch: at commit time
the checked-out branch (a detached HEAD is no branch) is matched against
`isolate.protected_branches` (`isolate-protected-branch`). A commit already
made does not know which branch it was made on, so range checks skip this
rule; CI and `agentops pre-receive` guard branches through `protected` refs.
(b) When `isolate.workers` maps the change's worker (the `Agent: … session=ID`
trailer's "session ID", else the author's email) to path globs, every
changed path, and the old path of a rename, matches one of them
(`isolate-outside-paths`). A worker the map does not name is not restricted.

Globs are `fnmatch` globs, case-sensitive: `*` and `**` match any characters,
`/` included; `**/` also matches no directory at all (`src/**/test_*.py`
matches `src/test_a.py`), and a glob ending in `/` means everything under it.
"""
from __future__ import annotations

import re
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import NamedTuple
from typing import TYPE_CHECKING

from agentops_hooks.config import Audience
from agentops_hooks.config import Severity
from agentops_hooks.findings import Finding
from agentops_hooks.evidence.verdicts import email_key
from agentops_hooks.evidence.verdicts import task_of
from agentops_hooks.evidence.verdicts import worker_of

if TYPE_CHECKING:
    from collections.abc import Mapping
    from collections.abc import Sequence

    from agentops_hooks.change import Change
    from agentops_hooks.gates import Context

FACTOR = "VI"
GATE = "isolate"
PHASE = "bound"


class IsolateConfig(NamedTuple):
    """Gate VI: agents work on their own branches and paths."""

    required_for: Audience = "agents"
    severity: Severity = "error"
    protected_branches: tuple[str, ...] = ("main", "master", "release/*")
    """Branches (globs) an agent may not commit to directly."""
    workers: dict[str, tuple[str, ...]] = {}
    """Worker (Agent session or author email) -> the path globs it may change."""


SETTINGS = IsolateConfig
SESSION_PREFIX = "session "
SHOWN = 10  # paths named in one finding


def _finding(change: Change, rule: str, message: str, fix: str) -> Finding:
    return Finding(FACTOR, GATE, rule, message, fix, change.commit)


@lru_cache(maxsize=256)
def _variants(pattern: str) -> tuple[str, ...]:
    """The fnmatch patterns one glob stands for: each `**/` present, or matching no directory."""
    if pattern.endswith("/"):
        pattern += "**"
    variants = [""]
    rest = pattern
    while "**/" in rest and len(variants) < 64:  # six `**/` are plenty for one glob
        head, _, rest = rest.partition("**/")
        variants = [v + head + tail for v in variants for tail in ("**/", "")]
    return tuple(dict.fromkeys(v + rest for v in variants))


def glob_match(name: str, pattern: str) -> bool:
    """Does a path or branch name match a glob (see the module docstring)?"""
    return any(fnmatchcase(name, p) for p in _variants(pattern))


def worker_key(worker: str) -> str:
    """A `workers` key as `worker_of` spells workers: "session ID", or an email key."""
    if worker.startswith(SESSION_PREFIX):
        return SESSION_PREFIX + worker[len(SESSION_PREFIX):].strip()
    return email_key(worker)


def allowed_paths(workers: Mapping[str, Sequence[str]], worker: str) -> list[str] | None:
    """The path globs `worker` may change; None when the map does not restrict it."""
    globs: list[str] | None = None
    for key, patterns in workers.items():
        if worker_key(key) == worker:
            globs = [*(globs or []), *patterns]
    return globs


def _protected_branch(change: Change, ctx: Context) -> list[Finding]:
    patterns = ctx.config.section(IsolateConfig).protected_branches
    if change.commit is not None or not patterns:
        return []  # a commit already made carries no branch: pre-receive guards refs
    branch = change.repo.branch()
    if branch is None:
        return []
    hit = next((p for p in patterns if glob_match(branch, p)), None)
    if hit is None:
        return []
    task = task_of(change.trailers)
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", task).strip("-.") if task else ""
    who = "an agent-authored change" if ctx.agent_signals else "a change (policy: everyone)"
    return [_finding(
        change, "isolate-protected-branch",
        f"{who} may not be committed directly on branch {branch!r}: it matches "
        f"isolate.protected_branches {hit!r}. Agents work on their own branch (and worktree), "
        "and their work reaches protected branches through review and a merge.",
        f"git switch -c agent/{name or '<task>'}   (the staged change comes along), "
        f"then {change.retry}",
    )]


def _outside_paths(change: Change, ctx: Context) -> list[Finding]:
    workers = ctx.config.section(IsolateConfig).workers
    if not workers:
        return []
    # The session named in the message and the author both count: a new
    # `Agent: session=` trailer must not lift the author's restriction.
    names = [worker_of(change.trailers, change.author)]
    if change.author is not None and change.author.email:
        names.append(email_key(change.author.email))
    findings: list[Finding] = []
    for worker in dict.fromkeys(n for n in names if n):
        globs = allowed_paths(workers, worker)
        if globs is not None:
            findings.extend(_outside(change, worker, globs))
    return findings[:1] if len(findings) > 1 and findings[0] == findings[-1] else findings


def _outside(change: Change, worker: str, globs: list[str]) -> list[Finding]:
    touched: list[str] = []
    for changed in change.paths:
        touched.append(changed.path)
        if changed.status == "R" and changed.old_path:
            touched.append(changed.old_path)
    outside = [p for p in dict.fromkeys(touched) if not any(glob_match(p, g) for g in globs)]
    if not outside:
        return []
    shown = ", ".join(outside[:SHOWN])
    more = f" and {len(outside) - SHOWN} more" if len(outside) > SHOWN else ""
    allowed = ", ".join(globs) if globs else "(none)"
    if change.commit is None:
        fix = (f"unstage them (git restore --staged -- {' '.join(outside[:SHOWN])}"
               f"{' ...' if more else ''}) and leave them to the worker that owns them, "
               f"then {change.retry}")
    else:
        base = change.base[:12] if change.base else "--root"
        recheck = f"{change.base[:12]}..HEAD" if change.base else "HEAD"
        fix = (f"take them out of the commit: git rebase -i {base}, mark {change.label} `edit`, "
               "git reset HEAD^ -- <those paths>, git commit --amend, git rebase --continue, "
               f"then agentops check --range {recheck}; the worker that owns them commits them")
    return [_finding(
        change, "isolate-outside-paths",
        f"worker {worker} may change only {allowed} (isolate.workers), but this change "
        f"touches {len(outside)} path(s) outside them: {shown}{more}.",
        fix,
    )]


def check(change: Change, ctx: Context) -> list[Finding]:
    """Findings for gate VI; none on an agent's own branch, inside its own paths."""
    config = ctx.config.section(IsolateConfig)
    if not ctx.applies(config.required_for):
        return []
    return [*_protected_branch(change, ctx), *_outside_paths(change, ctx)]
