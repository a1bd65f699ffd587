"""Factor V, Research Before You Build: a large change rests on written-down research.

An agent's change of more than `research.min_changed_lines` changed lines
(added plus removed) needs a `Research:` trailer naming a research note
(e.g. `.agents/research/2026-11-21-auth.md`). Every note it names must be a
file in the change's own tree (the index for a staged change, the commit's
tree for a commit) with more than whitespace in it: `research-missing`,
`research-not-tracked`, `research-empty`. The notes are read with one
`git cat-file --batch`; in a range check, one for every commit of the range.
"""
from __future__ import annotations

from typing import NamedTuple
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from agentops_hooks.config import Audience
from agentops_hooks.config import Severity
from agentops_hooks.findings import Finding
from agentops_hooks.trailers import values

if TYPE_CHECKING:
    from collections.abc import Mapping
    from collections.abc import Sequence

    from agentops_hooks.change import Change
    from agentops_hooks.gates import Context
    from agentops_hooks.gates import Evidence
    from agentops_hooks.git import Repo

FACTOR = "V"
GATE = "research"
PHASE = "bound"


class ResearchConfig(NamedTuple):
    """Gate V: a large change rests on written-down research."""

    required_for: Audience = "agents"
    severity: Severity = "error"
    min_changed_lines: int = 200
    """A change with more changed lines than this needs a Research trailer."""


SETTINGS = ResearchConfig
RESEARCH_KEY = "Research"
EXAMPLE_NOTE = ".agents/research/<date>-<topic>.md"

# (object type, content) of "<commit>:<path>", read once per Evidence (one range check).
_Object = tuple[str, bytes]
_read_for: WeakKeyDictionary[Evidence, dict[str, _Object | None]] = WeakKeyDictionary()


def _finding(change: Change, rule: str, message: str, fix: str) -> Finding:
    return Finding(FACTOR, GATE, rule, message, fix, change.commit)


def note_path(value: str) -> str | None:
    """The repository path a Research trailer names, or None when it names none."""
    path = value.strip()
    while path.startswith("./"):
        path = path[2:]
    parts = path.split("/")
    if not path or path.startswith("/") or ".." in parts or any(c in path for c in "\n\r\0"):
        return None
    return path


def named_notes(change: Change) -> list[str]:
    """The non-empty values of the change's Research trailers."""
    return [v.strip() for v in values(change.trailers, RESEARCH_KEY) if v.strip()]


def read_objects(
    repo: Repo, names: Sequence[str], env: Mapping[str, str] | None = None,
) -> dict[str, _Object | None]:
    """Type and content of each `<rev>:<path>` (or `:0:<path>`, the index) from one cat-file."""
    if not names:
        return {}
    kwargs: dict[str, object] = {} if env is None else {"env": env}
    out = repo.git("cat-file", "--batch", "--buffer", input="".join(f"{n}\n" for n in names).encode(),
                   **kwargs)
    found: dict[str, _Object | None] = {}
    pos = 0
    for name in names:
        nl = out.find(b"\n", pos)
        if nl < 0:
            break
        header = out[pos:nl]
        pos = nl + 1
        parts = header.split(b" ")
        if len(parts) != 3 or not parts[2].isdigit():
            found[name] = None  # "<name> missing" (or ambiguous)
            continue
        size = int(parts[2])
        found[name] = (parts[1].decode("ascii", "replace"), out[pos:pos + size])
        pos += size + 1
    return found


def _over_threshold(change: Change, ctx: Context) -> bool:
    return change.changed_lines > ctx.config.section(ResearchConfig).min_changed_lines


def _notes_of(change: Change, ctx: Context, paths: Sequence[str]) -> dict[str, _Object | None]:
    """What each path holds in the change's tree: the index, or the commit's tree."""
    if change.commit is None:
        env = change.repo.index_env(change.env or {})
        read = read_objects(change.repo, [f":0:{p}" for p in paths], env)
        return {p: read.get(f":0:{p}") for p in paths}
    store = ctx.store
    cache = _read_for.setdefault(store, {})
    wanted = [f"{change.commit}:{p}" for p in paths]
    if any(w not in cache for w in wanted):
        in_batch = any(c is change for c in store.batch)
        for other in store.batch if in_batch else ():
            if other.commit and named_notes(other) and _over_threshold(other, ctx):
                wanted.extend(f"{other.commit}:{p}" for v in named_notes(other)
                              if (p := note_path(v)) is not None)
        todo = list(dict.fromkeys(w for w in wanted if w not in cache))
        cache.update(read_objects(change.repo, todo))
    return {p: cache.get(f"{change.commit}:{p}") for p in paths}


def _where(change: Change) -> str:
    if change.commit is None:
        return "the staged tree (the index)"
    return f"commit {change.label}'s tree"


def _commit_fix(change: Change, what: str) -> str:
    """How to put something into an existing commit, then check it again."""
    base = change.base[:12] if change.base else "--root"
    recheck = f"{change.base[:12]}..HEAD" if change.base else "HEAD"
    return (f"git rebase -i {base}, mark {change.label} `edit`, {what}, "
            f"git commit --amend, git rebase --continue, then agentops check --range {recheck}")


def _missing_fix(change: Change) -> str:
    write = (f"write what you found (including what did not work) in {EXAMPLE_NOTE} and "
             f"git add it")
    if change.commit is not None:
        return _commit_fix(change, f"{write}, add the trailer `Research: {EXAMPLE_NOTE}`")
    if change.message_option is not None:
        trailer = f'agentops trailer add Research "{EXAMPLE_NOTE}" {change.message_option}'
    else:
        trailer = f"add the trailer `Research: {EXAMPLE_NOTE}` to the commit message"
    return f"{write}; {trailer}; then {change.retry}"


def _problem(change: Change, value: str, path: str | None,
             found: _Object | None) -> tuple[str, str, str] | None:
    """(rule, what is wrong, fix) for one named note; None when it is a good note."""
    if path is None:
        fix = (f"name the note by its path from the repository root, e.g. "
               f"`Research: {EXAMPLE_NOTE}`, then {change.retry}")
        what = f"`Research: {value}` is not a path inside the repository"
        return "research-not-tracked", what, fix
    root = change.repo.root
    on_disk = root / path if change.commit is None and root is not None else None
    if found is None or found[0] != "blob":
        if (found is not None and found[0] == "tree") or (on_disk is not None and on_disk.is_dir()):
            fix = (f"name the note file itself, e.g. `Research: {path.rstrip('/')}/<note>.md`, "
                   f"then {change.retry}")
            what = f"`Research: {value}` names a directory, not a note file"
            return "research-not-tracked", what, fix
        what = f"`Research: {value}` names no file in {_where(change)}"
        if on_disk is None:
            return "research-not-tracked", what, _commit_fix(change, f"git add {path}")
        if on_disk.is_file():
            what += " (it is in the work tree, but not staged)"
        return "research-not-tracked", what, f"git add {path}, then {change.retry}"
    if not found[1].strip():
        what = f"`Research: {value}` is empty in {_where(change)}"
        write = f"write the research into {path} (what was read, what was learned, what failed)"
        if on_disk is None:
            return "research-empty", what, _commit_fix(change, f"{write}, git add {path}")
        return "research-empty", what, f"{write}, git add {path}, then {change.retry}"
    return None


def check(change: Change, ctx: Context) -> list[Finding]:
    """Findings for gate V; none for a small change or one that names good research notes."""
    config = ctx.config.section(ResearchConfig)
    if not ctx.applies(config.required_for):
        return []
    size = change.changed_lines
    if size <= config.min_changed_lines:
        return []
    who = "an agent-authored change" if ctx.agent_signals else "every change (policy)"
    reason = (f"{who} of {size} changed lines (over research.min_changed_lines = "
              f"{config.min_changed_lines})")
    named = named_notes(change)
    if not named:
        return [_finding(
            change, "research-missing",
            f"{reason} needs a `Research:` trailer naming the research note it rests on: a "
            f"tracked, non-empty file such as {EXAMPLE_NOTE}.",
            _missing_fix(change),
        )]
    paths = {value: note_path(value) for value in named}
    notes = _notes_of(change, ctx, [p for p in dict.fromkeys(paths.values()) if p is not None])
    findings = []
    for value, path in paths.items():
        problem = _problem(change, value, path, notes.get(path) if path is not None else None)
        if problem is not None:
            rule, what, fix = problem
            findings.append(_finding(change, rule, f"{reason}: {what}.", fix))
    return findings
