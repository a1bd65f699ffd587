"""Factor X, Compound Knowledge: the learnings stay fit for the next session to use.

Only a change that touches the learnings (`learnings.file`, the `*.md` files
directly in `learnings.directory`) or the context files (`context.files`) is
checked, and it is checked on the learnings as it leaves them (the index, or
the commit's tree):

- every `## ` section of the learnings file is `## Title (YYYY-MM-DD)` with a
  real date and at least one non-empty bullet, every learning file's front
  matter matches schemas/learning.schema.json, and no entry's text is a
  placeholder by gate IX's rules (`x`, `n/a`, `TODO`; its word count is for new
  learnings only) (`knowledge-malformed`);
- no entry says the same thing as another, in either place, once lower-cased
  with punctuation and repeated whitespace dropped (`knowledge-duplicate`);
- every context file that exists names the learnings file or directory, so the
  next session is told to read them (`knowledge-not-linked`);
- an entry older than `knowledge.stale_days` is cited by title in a `Cites:`
  trailer of some commit since its date, or its constraint fired since
  (`knowledge-stale`, reported with `knowledge.stale_severity`);
- the change breaks no promoted constraint, a learning with a check kept in
  `.agents/constraints/` (`knowledge-constraint`; docs/constraints.md), and the
  constraints it leaves parse, name learnings that exist and catch their own
  witnesses (`knowledge-constraint-malformed`).

Patterns are paths from the top of the repository: `*` stays inside one
directory, `**` spans any number. A range check reads the files of all its
commits in a constant number of git processes, and history's `Cites:`
trailers with one `git log`.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from fnmatch import fnmatchcase
from typing import NamedTuple
from typing import TYPE_CHECKING

from agentops_hooks.config import Audience
from agentops_hooks.config import Severity
from agentops_hooks.errors import FatalError
from agentops_hooks.findings import Finding
from agentops_hooks.gates import _constraints as constraint_rules
from agentops_hooks.gates._constraints import Constraint
from agentops_hooks.gates._constraints import ConstraintError
from agentops_hooks.gates._constraints import Fired
from agentops_hooks.gates._learning_entries import Entry
from agentops_hooks.gates._learning_entries import citation_key
from agentops_hooks.gates._learning_entries import Learnings
from agentops_hooks.gates._learning_entries import parse_learning_file
from agentops_hooks.gates._learning_entries import parse_learnings_file
from agentops_hooks.trailers import parse
from agentops_hooks.trailers import values
from agentops_hooks.gates.context import ContextConfig
from agentops_hooks.gates.learnings import LearningsConfig
from agentops_hooks.gates.learnings import quote

if TYPE_CHECKING:
    from pathlib import Path

    from agentops_hooks.change import Change
    from agentops_hooks.config import Config
    from agentops_hooks.gates import Context
    from agentops_hooks.git import Repo

FACTOR = "X"
GATE = "knowledge"
PHASE = "govern"


class KnowledgeConfig(NamedTuple):
    """Gate X: learnings are well formed, unique, reachable and fresh."""

    required_for: Audience = "everyone"
    severity: Severity = "error"
    stale_days: int = 90
    """Entries older than this with no `Cites:` in later commits are stale."""
    stale_severity: Severity = "warning"
    """How stale entries are reported."""
    constraints_required_for: Audience = "agents"
    """Whose changes the promoted constraints (.agents/constraints/*.toml) judge: "agents" or "everyone"."""

    @property
    def audience(self) -> Audience:
        """Whose changes the gate judges at all: those of either setting."""
        return "everyone" if "everyone" in (self.required_for, self.constraints_required_for) else "agents"


SETTINGS = KnowledgeConfig
CITES_KEY = "Cites"

_GLOB = frozenset("*?[")
_REGULAR = ("100644", "100755")
_TREE = "40000"


# --- which paths are ours ---------------------------------------------------------

def _segments(pattern: str) -> tuple[str, ...]:
    return tuple(p for p in pattern.strip().lstrip("/").split("/") if p and p != ".")


def _step(rest: tuple[str, ...], name: str, is_dir: bool) -> tuple[bool, list[tuple[str, ...]]]:
    """Match one path segment: does a file `name` match, and what is left to match below a
    directory `name`?"""
    if not rest:
        return False, []
    head, tail = rest[0], rest[1:]
    if head == "**":
        matched, below = _step(tail, name, is_dir)  # `**` as no directory at all
        if is_dir:
            below.append(rest)
        return matched or (not tail and not is_dir), below
    if not fnmatchcase(name, head):
        return False, []
    if tail:
        return False, [tail] if is_dir else []
    return not is_dir, []


def matches(pattern: tuple[str, ...], path: str) -> bool:
    """Does a path (from the top of the repository) match a pattern's segments?"""
    parts = path.split("/")
    states = {pattern}
    for i, name in enumerate(parts):
        last = i == len(parts) - 1
        below: set[tuple[str, ...]] = set()
        for state in states:
            hit, more = _step(state, name, not last)
            if hit and last:
                return True
            below.update(more)
        states = below
    return False


@dataclass(frozen=True)
class Places:
    """The patterns of the learnings and context files, from the config."""

    file: str
    directory: str
    learnings: tuple[tuple[str, ...], ...]
    context: tuple[tuple[str, ...], ...]

    @classmethod
    def of(cls, config: Config) -> Places:
        file = "/".join(_segments(config.section(LearningsConfig).file))
        directory = "/".join(_segments(config.section(LearningsConfig).directory))
        learnings = (_segments(file), (*_segments(directory), "*.md") if directory else ())
        context = tuple(s for s in map(_segments, config.section(ContextConfig).files) if s)
        return cls(file, directory, learnings, context)

    @property
    def every(self) -> tuple[tuple[str, ...], ...]:
        return tuple(p for p in (*self.learnings, *self.context) if p and "\n" not in "".join(p))

    def kind(self, path: str) -> str | None:
        """"file", "directory" or "context" (None: none of ours)."""
        if path == self.file:
            return "file"
        if matches(self.learnings[1], path):
            return "directory"
        if any(matches(p, path) for p in self.context):
            return "context"
        return None

    def touched_by(self, change: Change) -> bool:
        return any(self.kind(p) is not None for c in change.paths for p in (c.path, c.old_path) if p)


# --- reading the files as the change leaves them ----------------------------------------

class Snapshots:
    """Learnings and context files of commits and the index, read in batches and kept.

    Lives on the Evidence of a range check, so every commit of the range is
    read by the same few git processes, and a blob shared by many commits is
    read and parsed once.
    """

    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        self.files: dict[str, dict[str, str]] = {}
        """{commit: {path: blob id}} of our files."""
        self.blobs: dict[str, bytes] = {}
        self.parsed: dict[tuple[str, str, str], Learnings] = {}
        self.cites: dict[tuple[str, ...], History] = {}
        self.trees: dict[str, str] = {}
        """{commit: the tree of its .agents/constraints/ ("": none)}."""
        self.tree_files: dict[str, dict[str, str]] = {}
        """{tree: {path: blob id}} of the constraint files, once a tree's are read."""
        self.constraint_sets: dict[str, list[Constraint]] = {}
        """The constraints of each such tree."""
        self.covered: dict[tuple[str, ...], bool] = {}
        """Did the range's patch stream look for every one of these literals?"""
        self.effects: dict[tuple[int, int], constraint_rules.Effect] = {}
        """In effect for a (trusted, parent) pair of constraint lists (see in_effect)."""
        self.batch: dict[int, str] | None = None
        """id() -> commit of the range's changes (None until a range change asks)."""

    def in_batch(self, change: Change, batch: Sequence[Change]) -> bool:
        """Is the change one of the commits of the range being checked?"""
        if self.batch is None:
            self.batch = {id(c): c.commit for c in batch if c.commit}
        return id(change) in self.batch

    def text(self, oid: str) -> str:
        return self.blobs.get(oid, b"").decode("utf-8", "replace")

    def read_commits(self, commits: Sequence[str], places: Places) -> None:
        """Find our files in each commit's tree, walking only the directories that can hold one."""
        todo = [c for c in dict.fromkeys(commits) if c not in self.files]
        if not todo:
            return
        hash_len = 32 if self.repo.object_format == "sha256" else 20
        waiting: dict[str, set[tuple[str, str, tuple[str, ...]]]] = {}
        for commit in todo:
            self.files[commit] = {}
            for pattern in places.every:
                lead = 0
                while lead < len(pattern) - 1 and not _GLOB & set(pattern[lead]) and pattern[lead] != "**":
                    lead += 1
                directory = "/".join(pattern[:lead])
                spec = f"{commit}:{directory}" if directory else f"{commit}^{{tree}}"
                waiting.setdefault(spec, set()).add((commit, directory, pattern[lead:]))
        trees: dict[str, bytes] = {}
        while waiting:
            wanted = [spec for spec in waiting if spec not in trees]
            trees.update({k: v for k, (kind, v) in _cat_batch(self.repo, wanted).items()
                          if kind == "tree"})
            below: dict[str, set[tuple[str, str, tuple[str, ...]]]] = {}
            for spec, states in waiting.items():
                if spec not in trees:
                    continue
                for mode, name, oid in _tree_entries(trees[spec], hash_len):
                    is_dir = mode == _TREE
                    if not is_dir and mode not in _REGULAR:
                        continue  # symlinks and submodules are not read
                    for commit, directory, rest in states:
                        path = f"{directory}/{name}" if directory else name
                        hit, more = _step(rest, name, is_dir)
                        if hit:
                            self.files[commit][path] = oid
                        for state in more:
                            below.setdefault(oid, set()).add((commit, path, state))
            waiting = below
        self._read_blobs([o for c in todo for o in self.files[c].values()])

    def read_index(self, change: Change, places: Places) -> dict[str, str]:
        """{path: blob id} of our files in the index the commit is being made from."""
        specs = []
        for pattern in places.every:
            lead = 0
            while lead < len(pattern) and not _GLOB & set(pattern[lead]) and pattern[lead] != "**":
                lead += 1
            specs.append(":(top,literal)" + "/".join(pattern[:lead]) if lead else ":(top)")
        env = self.repo.index_env(change.env or {})
        out = self.repo.git("ls-files", "--stage", "--full-name", "-z", "--", *dict.fromkeys(specs),
                            env=env)
        found = {}
        for record in out.split(b"\0"):
            meta, _, raw_path = record.partition(b"\t")
            parts = meta.split()
            path = raw_path.decode("utf-8", "surrogateescape")
            if len(parts) == 3 and parts[0].decode() in _REGULAR and parts[2] == b"0" \
                    and places.kind(path) is not None:
                found[path] = parts[1].decode()
        self._read_blobs(list(found.values()))
        return found

    def _read_blobs(self, oids: Sequence[str]) -> None:
        wanted = [o for o in dict.fromkeys(oids) if o not in self.blobs]
        self.blobs.update({k: v for k, (_, v) in _cat_batch(self.repo, wanted).items()})

    def learnings(self, path: str, oid: str, kind: str) -> Learnings:
        key = (kind, path, oid)
        if key not in self.parsed:
            parse = parse_learnings_file if kind == "file" else parse_learning_file
            self.parsed[key] = parse(path, self.text(oid))
        return self.parsed[key]


def _cat_batch(repo: Repo, specs: Sequence[str]) -> dict[str, tuple[str, bytes]]:
    """{spec: (type, content)} of the objects that exist, from one `git cat-file --batch`."""
    if not specs:
        return {}
    out = repo.git("cat-file", "--batch", "--buffer", input="".join(f"{s}\n" for s in specs).encode())
    found: dict[str, tuple[str, bytes]] = {}
    pos = 0
    for spec in specs:
        end = out.find(b"\n", pos)
        if end < 0:
            break
        header = out[pos:end].decode("utf-8", "replace")
        pos = end + 1
        parts = header.rsplit(" ", 2)
        if len(parts) != 3 or not parts[2].isdigit():
            continue  # "<spec> missing" or "<spec> ambiguous"
        size = int(parts[2])
        found[spec] = (parts[1], out[pos:pos + size])
        pos += size + 1
    return found


def _tree_entries(raw: bytes, hash_len: int) -> Iterator[tuple[str, str, str]]:
    """(mode, name, object id) of each entry of a raw tree object."""
    pos = 0
    while pos < len(raw):
        space = raw.find(b" ", pos)
        nul = raw.find(b"\0", space + 1)
        if space < 0 or nul < 0:
            return
        yield (raw[pos:space].decode(), raw[space + 1:nul].decode("utf-8", "surrogateescape"),
               raw[nul + 1:nul + 1 + hash_len].hex())
        pos = nul + 1 + hash_len


def _snapshots(ctx: Context, name: str = "_knowledge") -> Snapshots:
    """The Snapshots kept on the check's Evidence under `name` (the learnings', or the
    constraints': their files are not the same)."""
    found = getattr(ctx.store, name, None)
    if not isinstance(found, Snapshots):
        found = Snapshots(ctx.store.repo)
        setattr(ctx.store, name, found)
    return found


def files_left_by(change: Change, ctx: Context, places: Places) -> dict[str, str]:
    """{path: blob id} of the learnings and context files as the change leaves them."""
    snapshots = _snapshots(ctx)
    if change.commit is None:
        return snapshots.read_index(change, places)
    commits = [change.commit]
    if change.commit not in snapshots.files and snapshots.in_batch(change, ctx.store.batch):
        commits += [c.commit for c in ctx.store.batch if c.commit and places.touched_by(c)]
    snapshots.read_commits(commits, places)
    return snapshots.files[change.commit]


# --- citations in history --------------------------------------------------------------

@dataclass
class History:
    """When each name was cited (`Cites:` trailers), and when each commit was made."""

    cited: dict[str, list[dt.date]] = field(default_factory=dict)
    made: dict[str, dt.date] = field(default_factory=dict)

    def add(self, trailers: Sequence[tuple[str, str]], day: dt.date) -> None:
        for value in values(trailers, CITES_KEY):
            for name in {value, *value.split(";")}:
                key = citation_key(name)
                if key:
                    self.cited.setdefault(key, []).append(day)

    def cited_between(self, names: frozenset[str], since: dt.date, until: dt.date) -> bool:
        return any(since <= day <= until for n in names for day in self.cited.get(n, ()))


def history(ctx: Context, change: Change) -> History:
    """Every `Cites:` trailer reachable from the change (from all the range's commits, in a
    range check), with one `git log` per range."""
    store = _snapshots(ctx)
    if change.commit is not None and store.in_batch(change, ctx.store.batch):
        tips: tuple[str, ...] = ("range",)
        listed = list((store.batch or {}).values())
    else:
        tips = tuple(t for t in (change.commit or change.base,) if t)
        listed = list(tips)
    if tips not in store.cites:
        found = History()
        if listed:
            out = ctx.store.repo.git("-c", "log.showSignature=false", "log", "-z", "--no-color",
                                     "--encoding=UTF-8", "--format=%H %ct%n%B", "--stdin",
                                     input="".join(f"{t}\n" for t in listed).encode())
            syntax = change.trailer_syntax
            for record in out.decode("utf-8", "replace").split("\0"):
                head, _, message = record.lstrip("\n").partition("\n")
                commit, _, stamp = head.partition(" ")
                if not stamp.isdigit():
                    continue
                day = dt.datetime.fromtimestamp(int(stamp), dt.timezone.utc).date()
                found.made[commit] = day
                if "cites" in message.lower():
                    found.add(parse(message, syntax), day)
        store.cites[tips] = found
    return store.cites[tips]


# --- the gate ----------------------------------------------------------------------------

def _finding(change: Change, rule: str, message: str, fix: str, severity: str = "error") -> Finding:
    return Finding(FACTOR, GATE, rule, message, fix, change.commit, severity)


def _malformed_fix(where: str, places: Places, problem: str) -> str:
    if where.startswith(places.file + ":"):
        line = where.rsplit(":", 1)[1]
        return (f"edit {places.file} line {line}: a section is `## Title (YYYY-MM-DD)` followed by "
                "at least one `- <what was learned>` bullet (`agentops learn` writes one)")
    if problem.startswith("the learning itself"):
        return f"write, after the front matter of {where}, what was learned, and why it matters"
    return (f"fix the front matter of {where}: `---` lines around date (YYYY-MM-DD), author, area, "
            "evidence, confidence (low|medium|high or 0-1) and kind (observation|learning|pattern) "
            "(`agentops schema learning` prints the schema), then the learning itself")


def check(change: Change, ctx: Context) -> list[Finding]:
    """Findings for gate X: the promoted constraints the change breaks, and what is wrong
    with the learnings and constraints it leaves (none when it touches neither)."""
    config = ctx.config.section(KnowledgeConfig)
    findings = check_constraints(change, ctx) if ctx.applies(config.constraints_required_for) else []
    if not ctx.applies(config.required_for):
        return findings
    places = Places.of(ctx.config)
    touches_constraints = any(_is_constraint_file(p) for c in change.paths
                              for p in (c.path, c.old_path) if p)
    if not places.touched_by(change) and not touches_constraints:
        return findings
    return findings + _learnings_findings(change, ctx, places)


def _learnings_findings(change: Change, ctx: Context, places: Places) -> list[Finding]:
    files = files_left_by(change, ctx, places)
    snapshots = _snapshots(ctx)
    findings: list[Finding] = []
    entries: list[Entry] = []
    context: list[str] = []
    for path, oid in sorted(files.items()):
        kind = places.kind(path)
        if kind == "context":
            context.append(path)
            continue
        if kind is None:
            continue
        found = snapshots.learnings(path, oid, kind)
        entries.extend(found.entries)
        for where, problem in found.problems:
            findings.append(_finding(
                change, "knowledge-malformed", f"{where}: {problem}.", _malformed_fix(where, places, problem),
            ))

    first: dict[str, Entry] = {}
    # The older entry is the original; on the same day the learnings file's.
    def age(e: Entry) -> tuple[dt.date, bool]:
        return e.day or dt.date.max, not e.where.startswith(places.file + ":")

    for entry in sorted(entries, key=age):
        if not entry.text:
            continue
        other = first.setdefault(entry.text, entry)
        if other is not entry:
            findings.append(_finding(
                change, "knowledge-duplicate",
                f"{entry.where} (`{entry.title}`) says the same as {other.where} (`{other.title}`): "
                "one lesson, two entries, and citations split between them.",
                f"delete {entry.where}, or merge the two into {other.where}",
            ))

    if any(places.kind(p) in ("file", "directory") for p in files):
        links = tuple(p for p in (places.file, places.directory) if p)
        for path in context:
            if not any(link in snapshots.text(files[path]) for link in links):
                findings.append(_finding(
                    change, "knowledge-not-linked",
                    f"context file {path} does not mention {' or '.join(links)}: the next "
                    "session is never told to read the learnings.",
                    f"add a line to {path}: `Before you start, read {places.file} and "
                    f"{places.directory}/; cite each entry you relied on with a "
                    "`Cites: <title>` trailer.`",
                ))

    findings.extend(_constraint_problems(change, ctx, entries))
    findings.extend(_stale(change, ctx, entries))
    return findings


def _stale(change: Change, ctx: Context, entries: Sequence[Entry]) -> list[Finding]:
    config = ctx.config.section(KnowledgeConfig)
    limit = dt.timedelta(days=config.stale_days)
    today = dt.date.today()
    old = [e for e in entries if e.day is not None and e.day < today - limit]
    if not old:
        return []  # history is read only when some entry could be stale
    cites = history(ctx, change)
    now = cites.made.get(change.commit, today) if change.commit else today
    own = fired_history(ctx)
    if change.commit is None:
        own.add(change.trailers, today)  # the message being committed cites too
    severity = "warning" if config.stale_severity == "warning" else "error"
    findings = []
    for entry in old:
        assert entry.day is not None
        if entry.day >= now - limit or cites.cited_between(entry.names, entry.day, now) \
                or own.cited_between(entry.names, entry.day, now):
            continue
        age = (now - entry.day).days
        findings.append(_finding(
            change, "knowledge-stale",
            f"{entry.where} `{entry.title}` ({entry.day.isoformat()}) is {age} days old "
            f"(knowledge.stale_days = {config.stale_days}) and no commit since cites it: "
            "knowledge nobody uses decays.",
            f"if it still holds, cite it where it helped (trailer `{CITES_KEY}: {entry.title}`, "
            f'e.g. agentops trailer add {CITES_KEY} "{entry.title}"); if not, delete or replace it',
            severity,
        ))
    return findings


# --- constraints: learnings that carry a check (gates/_constraints.py) ----------------

def _is_constraint_file(path: str) -> bool:
    directory, _, name = path.rpartition("/")
    return directory == constraint_rules.DIRECTORY and name.endswith(".toml")


def _constraint_snapshots(ctx: Context) -> Snapshots:
    return _snapshots(ctx, "_constraints")


def constraints_of(ctx: Context, commit: str | None) -> list[Constraint]:
    """The constraints committed in `commit` (none on an unborn branch); in a range check,
    the first call finds those of every commit's parent, and of the trusted commit, at once."""
    if commit is None:
        return []
    store = _constraint_snapshots(ctx)
    if commit not in store.trees:
        wanted = [commit]
        if ctx.store.batch:
            wanted += [c.base for c in ctx.store.batch if c.base]
            wanted += [ctx.store.trust_commit] if ctx.store.trust_commit else []
        _find_constraint_trees(store, wanted)
    return _constraint_set(store, store.trees[commit])


def _find_constraint_trees(store: Snapshots, commits: Sequence[str]) -> None:
    """Which tree each commit's .agents/constraints/ is ("": none), from one `cat-file
    --batch-check` however many commits: they mostly share one, read and checked once."""
    todo = [c for c in dict.fromkeys(commits) if c not in store.trees]
    if not todo:
        return
    specs = "".join(f"{c}:{constraint_rules.DIRECTORY}\n" for c in todo)
    out = store.repo.git("cat-file", "--batch-check", "--buffer", input=specs.encode()).decode()
    for commit, line in zip(todo, out.splitlines()):
        oid, _, kind = line.partition(" ")
        store.trees[commit] = oid if kind.startswith("tree ") else ""


def _tree_files(store: Snapshots, tree: str) -> dict[str, str]:
    """{path: blob id} of the constraint files in a tree of .agents/constraints/, contents read."""
    if not tree:
        return {}
    if tree not in store.tree_files:
        raw = _cat_batch(store.repo, [tree]).get(tree, ("", b""))[1]
        hash_len = 32 if store.repo.object_format == "sha256" else 20
        store.tree_files[tree] = {f"{constraint_rules.DIRECTORY}/{name}": blob
                                  for mode, name, blob in _tree_entries(raw, hash_len)
                                  if mode in _REGULAR and name.endswith(".toml")}
        store._read_blobs(list(store.tree_files[tree].values()))
    return store.tree_files[tree]


def _constraint_set(store: Snapshots, tree: str) -> list[Constraint]:
    if tree not in store.constraint_sets:
        store.constraint_sets[tree] = constraint_rules.read_kept(
            tree, lambda: {p: store.blobs.get(o, b"") for p, o in _tree_files(store, tree).items()},
            store.repo.cache_dir)
    return store.constraint_sets[tree]


def in_effect(change: Change, ctx: Context) -> constraint_rules.Effect:
    """The promoted constraints that judge a change: those of the trusted commit (the
    range's base, the ref's old tip; at commit time HEAD), and the pattern constraints
    its parent adds (a change can only be held to more by its own range, never to less;
    a command runs only if a trusted tree holds it)."""
    trusted = constraints_of(ctx, ctx.trust_base)
    try:
        added = constraints_of(ctx, change.base) if change.base != ctx.trust_base else trusted
    except ConstraintError:
        added = trusted  # gate X refuses the commit that brought it; it judges nothing
    store = _constraint_snapshots(ctx)
    key = (id(trusted), id(added))  # both lists are kept by the store for its life
    if key not in store.effects:
        known = set(trusted)
        store.effects[key] = constraint_rules.Effect(
            trusted + [c for c in added if c.kind != "command" and c not in known])
    return store.effects[key]


def constraint_words(repo: Repo, commit: str | None) -> tuple[bytes, ...]:
    """What the range's patch stream keeps patches for, so that gate X reads only the
    patches its forbid patterns can match: each one's literal (b"": one has none)."""
    if commit is None:
        return ()
    store = Snapshots(repo)
    _find_constraint_trees(store, [commit])
    found = _constraint_set(store, store.trees[commit])
    return tuple(dict.fromkeys(c.literal.encode() for c in found if c.kind == "forbid"))


def _patch_for_constraints(change: Change, ctx: Context, relevant: constraint_rules.Relevant) -> bytes:
    kept = change.kept_patch()
    if kept is None:
        return change.diff
    store = _constraint_snapshots(ctx)
    if relevant.literals not in store.covered:
        words = set(ctx.store.kept_words)
        store.covered[relevant.literals] = b"" in words or all(
            c.literal.encode() in words for c in relevant.forbid)
    if store.covered[relevant.literals]:
        return kept
    return change.diff  # a constraint the stream did not look for (one its range adds)


def check_constraints(change: Change, ctx: Context) -> list[Finding]:
    """The promoted constraints this change breaks, each named with its learning and reason."""
    effect = in_effect(change, ctx)
    if not effect.constraints:
        return []
    touched = [p.path for p in change.paths if p.status != "D"]
    relevant = effect.relevant(touched)
    if relevant is None:
        return []
    fired: list[Fired] = []
    forbid, require = relevant.forbid, relevant.require
    try:
        if forbid:
            fired += constraint_rules.forbidden(relevant, _patch_for_constraints(change, ctx, relevant))
        if require:
            with constraint_rules.Budget(constraint_rules.BUDGET_SECONDS):
                for c in require:
                    for path in touched:
                        if c.applies_to(path) and not c.keeps(
                                (change.file_after(path) or b"").decode("utf-8", "replace")):
                            fired.append(Fired(c, path, f"no longer matches {c.check!r}"))
    except constraint_rules.OutOfTime:
        return [_finding(
            change, "knowledge-constraint-slow",
            f"matching the constraints ({_some(c.id for c in (*forbid, *require))}) against this change "
            f"took more than {constraint_rules.BUDGET_SECONDS:g} s, so it could not be checked: "
            "a pattern backtracks badly on one of its lines.",
            "a human rewrites the slow pattern in .agents/constraints/ (agentops knowledge verify "
            "times each); until then, the change cannot pass",
        )]
    for c in relevant.command:
        files = {p: change.file_after(p) or b"" for p in touched if c.applies_to(p)}
        try:
            found = constraint_rules.run_command(c, files)
        except FatalError as e:  # it could not say: the change is not passed
            found = Fired(c, ", ".join(files), str(e))
        if found is not None:
            fired.append(found)
    ctx.store.fired.extend(fired)
    return [_fired_finding(change, f) for f in fired]


def _some(names: Iterable[str], shown: int = 5) -> str:
    listed = list(names)
    more = f" and {len(listed) - shown} more" if len(listed) > shown else ""
    return ", ".join(listed[:shown]) + more


def _fired_finding(change: Change, fired: Fired) -> Finding:
    c = fired.constraint
    shown = quote(fired.text, 80)
    return _finding(
        change, "knowledge-constraint",
        f"{fired.where}: {shown} breaks constraint `{c.id}` ({c.where}), from the learning "
        f"`{c.learning}`: {c.reason}",
        f"change {fired.where} so that it keeps the learning `{c.learning}`, then {change.retry} "
        f"(the constraint is promoted: changing {c.where} needs a human verdict, gate IV)",
    )


def constraints_left_by(change: Change, ctx: Context) -> dict[str, bytes]:
    """{path: content} of the constraint files as the change leaves them."""
    store = _constraint_snapshots(ctx)
    files: dict[str, bytes] = {}
    if change.base is not None:
        constraints_of(ctx, change.base)
        files = {p: store.blobs.get(o, b"")
                 for p, o in _tree_files(store, store.trees[change.base]).items()}
    for c in change.paths:
        for path in (c.old_path, c.path):
            if path and _is_constraint_file(path):
                content = change.file_after(path)
                if content is None:
                    files.pop(path, None)
                else:
                    files[path] = content
    return files


def constraint_problem(constraints: Sequence[Constraint], entries: Sequence[Entry]) -> str | None:
    """What is wrong with constraints that parse: a learning they name that is not there,
    or a pattern that misses its own witness (commands' witnesses: `knowledge verify`)."""
    names = {n for e in entries for n in e.names}
    for c in constraints:
        if citation_key(c.learning) not in names:
            return f"{c.label}: the learning `{c.learning}` is not in the learnings"
        if c.kind != "command" and not constraint_rules.witness_fires(c):
            return f"{c.label}: its {c.kind} pattern does not catch its own witness"
    return None


def _constraint_problems(change: Change, ctx: Context, entries: Sequence[Entry]) -> list[Finding]:
    files = constraints_left_by(change, ctx)
    if not files:
        return []
    try:
        problem = constraint_problem(constraint_rules.read_all(files), entries)
    except ConstraintError as e:
        problem = str(e)
    if problem is None:
        return []
    return [_finding(
        change, "knowledge-constraint-malformed", problem + ".",
        "fix the constraint (docs/constraints.md has the format; agentops knowledge verify "
        "checks every one)",
    )]


def learnings_in(root: Path, places: Places) -> list[Entry]:
    """The entries of the learnings file and directory in the work tree at `root`."""
    entries: list[Entry] = []
    if places.file and (root / places.file).is_file():
        entries += parse_learnings_file(places.file, (root / places.file).read_text("utf-8", "replace")).entries
    if places.directory and (root / places.directory).is_dir():
        for path in sorted((root / places.directory).glob("*.md")):
            where = f"{places.directory}/{path.name}"
            entries += parse_learning_file(where, path.read_text("utf-8", "replace")).entries
    return entries


def fired_history(ctx: Context) -> History:
    """The days each learning's constraints fired (refs/notes/agentops/constraints): a
    firing is a citation, so a learning whose constraint keeps firing never goes stale."""
    import json

    from agentops_hooks.evidence.notes import NotesRef
    from agentops_hooks.evidence.refs import CONSTRAINTS_REF

    kept = getattr(ctx.store, "_fired_history", None)
    if isinstance(kept, History):  # read once per check, however many changes ask
        return History({k: list(v) for k, v in kept.cited.items()})
    found = History()
    notes = NotesRef(ctx.store.repo, CONSTRAINTS_REF).read_all() \
        if ctx.store.repo.has_ref(CONSTRAINTS_REF) else {}
    for note in notes.values():
        for line in note.decode("utf-8", "replace").splitlines():
            try:
                record = json.loads(line)
                day = dt.date.fromisoformat(str(record["day"]))
                key = citation_key(str(record["learning"]))
            except (ValueError, KeyError, TypeError):
                continue  # a line this version cannot read cites nothing
            found.cited.setdefault(key, []).append(day)
    setattr(ctx.store, "_fired_history", found)  # noqa: B010 - an attribute Evidence does not declare
    return History({k: list(v) for k, v in found.cited.items()})
