"""Factor I, Context Is Everything: what an agent loads stays under a token budget.

The agent-facing context files (the `context.files` globs, the learnings file
and every file under the learnings directory, plus everything they
`@`-include, recursively) together may take at most `context.budget_percent`
% of `context.window_tokens`. The files are read as the change leaves them:
the index for a staged change, the commit's tree for a commit made. Tokens
are estimated offline (see `estimate_tokens`).

The budget is a property of the tree, but a change that touches none of those
files (nor an `@`-included file, nor a path an include names) cannot move it:
such a change passes without being measured, which keeps commits fast.
"""
from __future__ import annotations

import posixpath
import re
import weakref
from typing import NamedTuple
from typing import TYPE_CHECKING

from agentops_hooks.config import Audience
from agentops_hooks.config import Severity
from agentops_hooks.findings import Finding
from agentops_hooks.git import ObjectReader
from agentops_hooks.gates.learnings import LearningsConfig

if TYPE_CHECKING:
    from agentops_hooks.change import Change
    from agentops_hooks.config import Config
    from agentops_hooks.gates import Context
    from agentops_hooks.gates import Evidence

FACTOR = "I"
GATE = "context"
PHASE = "prepare"


class ContextConfig(NamedTuple):
    """Gate I: the agent-facing context stays under a token budget."""

    required_for: Audience = "agents"
    """Whose changes are held to it: "agents" or "everyone"."""
    severity: Severity = "error"
    """"error" refuses; "warning" only reports."""
    window_tokens: int = 200_000
    """The context window the budget is a share of."""
    budget_percent: float = 40
    """The share of the window the context files may take together."""
    files: tuple[str, ...] = (
        "CLAUDE.md", "AGENTS.md", ".cursorrules", ".github/copilot-instructions.md",
    )
    """Agent-facing context files (globs); the learnings files and `@`-included files count too."""


SETTINGS = ContextConfig

# Claude Code's import syntax: `@path` at a line start or after whitespace, `\ ` for a space.
INCLUDE = re.compile(r"(?:^|(?<=\s))@((?:[^\s\\]|\\ )+)")
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)")
TRAILING_PUNCTUATION = ".,;:!?)]}>\"'"
SHOWN_FILES = 10
"""The largest files a finding names; the rest are summed."""
"""Requests written to cat-file before reading its answers: well under any pipe buffer."""


def estimate_tokens(text: str) -> int:
    """Tokens the text costs a model, estimated offline.

    ASCII text (English prose, code, markup) runs at about four characters
    a token in the Claude and GPT tokenizers; every other character (CJK,
    Cyrillic, accented letters, emoji) is counted as a whole token, since
    those tokenizers give them one or more. So: ceil(ASCII characters / 4)
    plus the number of other characters, which errs on the high side.
    """
    ascii_chars = len(text) if text.isascii() else len(text.encode("ascii", "ignore"))
    return -(-ascii_chars // 4) + (len(text) - ascii_chars)


def includes(text: str) -> list[str]:
    """The `@path` imports of a context file, outside fenced code blocks and code spans.

    A trailing sentence mark (`.`, `,`, `)`...) is not part of the path, and
    `\\ ` is an escaped space, as in Claude Code's CLAUDE.md imports.
    """
    found: list[str] = []
    fence: str | None = None
    for line in text.split("\n"):
        opened = FENCE.match(line)
        if fence is not None:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence) \
                    and not line.strip().lstrip(fence[0]):
                fence = None
            continue
        if opened:
            fence = opened.group(1)
            continue
        for match in INCLUDE.finditer(CODE_SPAN.sub(" ", line)):
            target = match.group(1).replace("\\ ", " ").rstrip(TRAILING_PUNCTUATION)
            if target:
                found.append(target)
    return found


def resolve_include(including: str, target: str) -> str | None:
    """The repository path `@target` in the file `including` names (None: outside the repo)."""
    if target.startswith(("/", "~")):
        return None  # an absolute or home path: not part of the repository
    path = posixpath.normpath(posixpath.join(posixpath.dirname(including), target))
    if path in (".", "..") or path.startswith("../"):
        return None
    return path


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A git-style glob matched against a whole repository path.

    `*` and `?` stay within one directory, `**/` matches any number of
    directories (none too), a trailing `/**` everything below, `[...]` a class.
    """
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and (end := pattern.find("]", i + 2)) != -1:
            body = pattern[i + 1:end]
            negate = body[:1] in ("!", "^")
            body = body[1:] if negate else body
            body = body.replace("\\", "\\\\")
            out.append(f"[^/{body}]" if negate else f"[{body}]")  # never matches "/"
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def _is_glob(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


def _glob_prefix(pattern: str) -> str:
    """The directory a glob's matches all lie in ("" for the whole tree)."""
    parts = pattern.split("/")[:-1]
    fixed: list[str] = []
    for part in parts:
        if _is_glob(part):
            break
        fixed.append(part)
    return "/".join(fixed)


def _clean(path: str) -> str:
    path = path.strip().strip("/")
    return posixpath.normpath(path) if path else ""


# --- reading the tree the change leaves --------------------------------------------

class _Shared:
    """What a check keeps across the changes of one Evidence (one range)."""

    def __init__(self) -> None:
        self.readers: dict[str, ObjectReader] = {}
        # (rules, commit) -> the paths whose change can change that commit's context
        self.watched: dict[tuple[tuple[object, ...], str], frozenset[str]] = {}


_SHARED: weakref.WeakKeyDictionary[Evidence, _Shared] = weakref.WeakKeyDictionary()


def _shared(ctx: Context) -> _Shared:
    store = ctx.store
    if store not in _SHARED:
        _SHARED[store] = _Shared()
    return _SHARED[store]


def object_reader(ctx: Context, change: Change) -> ObjectReader:
    """The reader of this check; a staged change's reads its own index (GIT_INDEX_FILE)."""
    from agentops_hooks.git import scrubbed_env

    repo = change.repo
    env = repo.index_env(change.env) if change.commit is None and change.env is not None \
        else scrubbed_env()
    key = env.get("GIT_INDEX_FILE", "")
    readers = _shared(ctx).readers
    if key not in readers or readers[key].repo is not repo:
        readers[key] = ObjectReader(repo, env)
    return readers[key]


# --- measuring the context ----------------------------------------------------------

class ContextRules:
    """Which paths are context, from `[context] files` and `[learnings]`."""

    def __init__(self, config: Config) -> None:
        files = [_clean(f) for f in config.section(ContextConfig).files if _clean(f)]
        self.literals = tuple(f for f in files if not _is_glob(f))
        self.patterns = tuple((f, glob_regex(f)) for f in files if _is_glob(f))
        self.learnings_file = _clean(config.section(LearningsConfig).file)
        self.learnings_dir = _clean(config.section(LearningsConfig).directory)
        self.key: tuple[object, ...] = (
            self.literals, tuple(p for p, _ in self.patterns), self.learnings_file,
            self.learnings_dir,
        )

    def matches(self, path: str) -> bool:
        """Is the path a context file by configuration (not by an include)?"""
        return (
            path in self.literals or path == self.learnings_file
            or bool(self.learnings_dir and path.startswith(self.learnings_dir + "/"))
            or any(regex.match(path) for _, regex in self.patterns)
        )

    @property
    def prefixes(self) -> set[str]:
        found = {_glob_prefix(p) for p, _ in self.patterns}
        if self.learnings_dir:
            found.add(self.learnings_dir)
        return found


# Plain classes, not dataclasses: building those costs a commit milliseconds at import.
class ContextFile:
    """One file the agent loads, and what it costs."""

    __slots__ = ("path", "tokens", "via")

    def __init__(self, path: str, tokens: int, via: str | None = None) -> None:
        self.path = path
        self.tokens = tokens
        self.via = via  # the file that @-includes it; None for a configured file


class ContextScan:
    """The agent-facing context of one tree."""

    def __init__(self, files: list[ContextFile], watched: frozenset[str]) -> None:
        self.files = files
        # every path whose change can change this scan: the files and every include target
        self.watched = watched

    @property
    def total(self) -> int:
        return sum(f.tokens for f in self.files)


def scan(reader: ObjectReader, change: Change, rules: ContextRules) -> ContextScan:
    """Read the context files as `change` leaves them, following `@` includes."""
    if change.commit is not None:
        rev = change.commit
        listed = reader.list_files(change.commit, rules.prefixes) if rules.prefixes else set()
    else:
        rev = ""  # `:path` reads the index
        listed = set()
        if change.base is not None and rules.prefixes:
            listed = reader.list_files(change.base, rules.prefixes)
        for changed in change.paths:  # the index is the base tree plus the staged change
            if changed.status == "D":
                listed.discard(changed.path)
                continue
            if changed.status == "R" and changed.old_path is not None:
                listed.discard(changed.old_path)
            listed.add(changed.path)
    roots = [*rules.literals, rules.learnings_file, *sorted(p for p in listed if rules.matches(p))]

    files: list[ContextFile] = []
    seen: set[str] = set()
    level: dict[str, str | None] = {}
    for path in roots:
        if path and path not in seen:
            seen.add(path)
            level[path] = None
    while level:
        answers = reader.read(f"{rev}:{p}" for p in level)
        next_level: dict[str, str | None] = {}
        for path, via in level.items():
            answer = answers[f"{rev}:{path}"]
            if answer is None or answer[0] != "blob":
                continue  # a missing file (or a directory): nothing to load, but watched
            data = answer[1]
            if b"\0" in data[:8000]:
                continue  # binary, as git decides: not text an agent reads as context
            text = data.decode("utf-8", "replace").removeprefix("\ufeff")
            files.append(ContextFile(path, estimate_tokens(text), via))
            for target in includes(text):
                included = resolve_include(path, target)
                if included is not None and included not in seen:
                    seen.add(included)
                    next_level[included] = path
        level = next_level
    return ContextScan(files, frozenset(seen))


# --- the gate -------------------------------------------------------------------------

def _finding(change: Change, rule: str, message: str, fix: str) -> Finding:
    return Finding(FACTOR, GATE, rule, message, fix, change.commit)


def _touched(change: Change) -> set[str]:
    paths = {p.path for p in change.paths}
    return paths | {p.old_path for p in change.paths if p.old_path}


def _percent(tokens: int, window: int) -> str:
    return f"{tokens * 100 / window:.1f}%" if window > 0 else "all"


def _over_budget(change: Change, ctx: Context, result: ContextScan, budget: int) -> Finding:
    config = ctx.config.section(ContextConfig)
    window = config.window_tokens
    ranked = sorted(result.files, key=lambda f: (-f.tokens, f.path))
    shares = []
    for f in ranked[:SHOWN_FILES]:
        via = f" (@-included by {f.via})" if f.via else ""
        shares.append(f"{f.path}{via} {f.tokens:,} tokens ({_percent(f.tokens, window)})")
    rest = ranked[SHOWN_FILES:]
    if rest:
        rest_tokens = sum(f.tokens for f in rest)
        shares.append(f"{len(rest)} more files {rest_tokens:,} tokens "
                      f"({_percent(rest_tokens, window)})")
    where = f"commit {change.label}" if change.commit else "the index"
    message = (
        f"the agent-facing context in {where} is {result.total:,} tokens, "
        f"{_percent(result.total, window)} of the {window:,}-token window, over the budget of "
        f"{budget:,} tokens (context.budget_percent = {config.budget_percent:g}%): "
        + "; ".join(shares)
        + ". Tokens are estimated: ASCII characters / 4, plus one per other character."
    )
    largest = ", ".join(f.path for f in ranked[:3])
    fix = (
        f"cut at least {result.total - budget:,} tokens from the largest files ({largest}): "
        "move detail the agent does not need every session into files it reads on demand "
        "(not @-included), prune old learnings; or, if the agent's window really is larger, "
        "set `window_tokens` / `budget_percent` under [context] in .agentops.toml; "
        f"then {change.retry}"
    )
    return _finding(change, "context-over-budget", message, fix)


def check(change: Change, ctx: Context) -> list[Finding]:
    """Findings for gate I; none when the change leaves the context within budget."""
    config = ctx.config.section(ContextConfig)
    if not ctx.applies(config.required_for):
        return []
    rules = ContextRules(ctx.config)
    shared = _shared(ctx)
    touched = _touched(change)
    by_config = any(rules.matches(p) for p in touched)
    if change.commit is not None and change.base is not None and not by_config:
        before = shared.watched.get((rules.key, change.base))
        if before is not None and not touched & before:
            shared.watched[(rules.key, change.commit)] = before  # the same files, unchanged
            return []
    if not touched:
        return []

    result = scan(object_reader(ctx, change), change, rules)
    if change.commit is not None:
        shared.watched[(rules.key, change.commit)] = result.watched
    if not by_config and not touched & result.watched:
        return []
    budget = int(config.window_tokens * config.budget_percent / 100)
    if result.total <= budget:
        return []
    return [_over_budget(change, ctx, result, budget)]
