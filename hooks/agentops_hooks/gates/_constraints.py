"""Constraints: learnings that carry a check, as gate X reads and runs them.

A constraint file is TOML under `.agents/constraints/` (`*.toml`), one
`[[constraint]]` table each, checked against schemas/constraint.schema.json:
an id, the learning it comes from, a reason, the paths it applies to, one
check (`forbid`: a pattern no added line may match; `require`: a pattern a
file must keep; `command`: a shell command whose exit code decides) and a
witness the check must catch.

Matching is bounded three ways, because Python's `re` backtracks:
- a pattern with a repeat inside an unbounded repeat (`(a+)+`), an
  alternation inside one (`(a|ab)*`) or a back-reference is refused when the
  constraint is read: those are the exponential kind;
- a line longer than WINDOW characters is matched in windows of WINDOW
  characters that overlap by WINDOW // 2, so a long (minified) line costs in
  proportion to its length, and any match up to WINDOW // 2 long is found;
- all matching of one change runs under a time budget (SIGALRM, which the
  regular expression engine checks while it backtracks): a change whose
  check runs out of time is refused, never passed.

A helper module of `gates/` (its name starts with `_`: not a gate); only the
standard library is imported here until a constraint file is validated.
"""
from __future__ import annotations

import re
from functools import lru_cache
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from typing import NamedTuple
from typing import Any
from typing import TYPE_CHECKING

from agentops_hooks.errors import FatalError

if TYPE_CHECKING:
    from pathlib import Path

DIRECTORY = ".agents/constraints"
"""Where constraint files live; always a protected path (gate IV)."""
KINDS = ("forbid", "require", "command")
WINDOW = 1000
"""Characters of a line matched at once (see the module's docstring)."""
BUDGET_SECONDS = 2.0
"""How long all the pattern matching of one change may take."""
COMMAND_TIMEOUT = 60.0
_LITERAL_MAX = 32  # the range's patch stream keeps patches holding words up to this long


class ConstraintError(FatalError):
    """A constraint file or entry that cannot be used: one line naming the file and entry."""


class OutOfTime(Exception):
    """The matching of one change ran past its time budget."""


class Constraint(NamedTuple):
    """One constraint as it is enforced."""

    id: str
    learning: str
    reason: str
    paths: tuple[str, ...]
    kind: str
    """forbid, require or command."""
    check: str
    """The pattern, or the command."""
    witness: str
    witness_file: str
    timeout: float
    where: str
    """`.agents/constraints/http.toml` (the file it is read from)."""
    literal: str
    """Text every match holds (lower case; "" when none could be found): a prefilter."""

    @property
    def label(self) -> str:
        return f"{self.where} constraint `{self.id}`"

    def applies_to(self, path: str) -> bool:
        return paths_matcher(self.paths).match(path) is not None

    def fires_on_line(self, line: str) -> bool:
        """Does a forbid pattern match this added line (in windows, if it is long)?"""
        search = _compiled(self.check).search
        if len(line) <= WINDOW:
            return search(line) is not None
        step = WINDOW // 2
        return any(search(line, i, i + WINDOW) is not None for i in range(0, len(line) - step, step))

    def keeps(self, text: str) -> bool:
        """Does a file's text still match a require pattern?"""
        return any(self.fires_on_line(line) for line in text.split("\n"))


# Compiled on first use, once per process: a commit whose added lines hold none of
# the literals compiles no pattern at all.
_compiled = lru_cache(maxsize=None)(re.compile)


@lru_cache(maxsize=None)
def paths_matcher(paths: tuple[str, ...]) -> re.Pattern[str]:
    """`paths`, read as gate IV reads protected paths."""
    from agentops_hooks.gates.privilege import glob_matcher

    return glob_matcher(paths)


# --- reading -----------------------------------------------------------------------

def parse_file(where: str, raw: bytes) -> list[Constraint]:
    """Every constraint of one file; ConstraintError (file and entry named) if one is unusable."""
    from agentops_hooks.config import ConfigError
    from agentops_hooks.config import parse_toml

    try:
        data = parse_toml(raw, where)
    except ConfigError as e:
        raise ConstraintError(str(e)) from None
    tables = data.get("constraint")
    problem = _schema_problem(data)
    if problem is not None:
        entry, text = problem
        name = _entry_name(tables, entry)
        raise ConstraintError(f"{where}{name}: {text}")
    assert isinstance(tables, list)  # the schema says so
    return [_constraint(where, t) for t in tables]


def _entry_name(tables: object, index: int | None) -> str:
    if index is None or not isinstance(tables, list) or index >= len(tables):
        return ""
    table = tables[index]
    ident = table.get("id") if isinstance(table, dict) else None
    return f" constraint `{ident}`" if isinstance(ident, str) else f" constraint #{index + 1}"


def _schema_problem(data: dict[str, Any]) -> tuple[int | None, str] | None:
    """(index of the entry, what is wrong) of the first schema error, None if none."""
    from jsonschema import Draft202012Validator

    from agentops_hooks.schemafiles import load_schema

    validator = Draft202012Validator(load_schema("constraint.schema.json"))
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.path])
    if not errors:
        return None
    error = errors[0]
    path = list(error.path)
    index = path[1] if len(path) > 1 and path[0] == "constraint" and isinstance(path[1], int) else None
    key = ".".join(str(p) for p in path[2:])
    if error.validator == "oneOf":
        return index, f"give exactly one check: {', '.join(KINDS)}"
    return index, f"{key + ': ' if key else ''}{error.message}"


def _constraint(where: str, table: dict[str, Any]) -> Constraint:
    kind = next(k for k in KINDS if k in table)
    check = str(table[kind])
    literal = ""
    label = f"{where} constraint `{table['id']}`"
    if kind != "command":
        try:
            _compiled(check)
        except re.error as e:
            raise ConstraintError(f"{label}: {kind} {check!r} is not a regular expression: {e}") from None
        unsafe = _slow_part(check)
        if unsafe is not None:
            raise ConstraintError(f"{label}: {kind} {check!r} {unsafe}, which can take exponential "
                                  "time on one line: write it without")
        literal = required_literal(check)
    paths = tuple(table["paths"])
    return Constraint(
        table["id"], table["learning"], table["reason"], paths, kind, check,
        table["witness"], table.get("witness_file") or _witness_file(paths[0]),
        float(table.get("timeout", COMMAND_TIMEOUT)), where, literal,
    )


def _witness_file(glob: str) -> str:
    name = glob.strip("/").replace("**/", "").replace("/**", "/witness").replace("**", "witness")
    return re.sub(r"[*?]|\[[^]]*\]", "witness", name) or "witness"


def read_all(files: dict[str, bytes]) -> list[Constraint]:
    """The constraints of every file ({path: content}), ids unique across them."""
    found: list[Constraint] = []
    seen: dict[str, str] = {}
    for where in sorted(files):
        for constraint in parse_file(where, files[where]):
            if constraint.id in seen:
                raise ConstraintError(f"{constraint.label}: the id is taken by {seen[constraint.id]}")
            seen[constraint.id] = where
            found.append(constraint)
    return found


def read_kept(tree: str, files: Callable[[], dict[str, bytes]], cache_dir: Path | None) -> list[Constraint]:
    """`read_all` of a tree's constraint files ({path: content} from `files()`), kept in
    `cache_dir` by the tree's id (which names their exact bytes): checked against the
    schema once, not on every commit. The tree "" holds none."""
    if not tree:
        return []
    if tree in _KEPT:
        return _KEPT[tree]
    import os

    from agentops_hooks import __version__
    from agentops_hooks.config import kept

    stat = os.stat(__file__)
    key = (__version__, stat.st_mtime_ns, stat.st_size, tree)
    cache = cache_dir / f"constraints-{tree}.pickle" if cache_dir is not None else None
    _KEPT[tree] = found = kept(cache, key, list, lambda: read_all(files()))
    return found


_KEPT: dict[str, list[Constraint]] = {}


class Relevant(NamedTuple):
    """The constraints some of a change's paths fall under, by kind, worked out once per
    set of path groups (a range asks the same few again and again)."""

    forbid: tuple[Constraint, ...]
    require: tuple[Constraint, ...]
    command: tuple[Constraint, ...]
    literals: tuple[str, ...]
    """The forbid patterns' literals, each once."""

    @classmethod
    def of(cls, constraints: Sequence[Constraint]) -> Relevant:
        kinds = {k: tuple(c for c in constraints if c.kind == k) for k in KINDS}
        literals = tuple(dict.fromkeys(c.literal for c in kinds["forbid"] if c.literal))
        return cls(kinds["forbid"], kinds["require"], kinds["command"], literals)


class Effect:
    """The constraints that judge a change, grouped by their paths (few distinct)."""

    def __init__(self, constraints: Sequence[Constraint]) -> None:
        self.constraints = tuple(constraints)
        groups: dict[tuple[str, ...], list[Constraint]] = {}
        for c in constraints:
            groups.setdefault(c.paths, []).append(c)
        self.groups = tuple((k, tuple(v)) for k, v in groups.items())
        self._relevant: dict[tuple[int, ...], Relevant] = {}

    def relevant(self, paths: Sequence[str]) -> Relevant | None:
        """Those whose paths one of `paths` matches (None: none)."""
        hit = tuple(i for i, (globs, _) in enumerate(self.groups)
                    if any(paths_matcher(globs).match(p) for p in paths))
        if not hit:
            return None
        if hit not in self._relevant:
            self._relevant[hit] = Relevant.of([c for i in hit for c in self.groups[i][1]])
        return self._relevant[hit]


# --- what a pattern costs ----------------------------------------------------------

def _parser() -> Any:
    try:
        from re import _parser as parser  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - Python 3.10
        import sre_parse as parser
    return parser


def _slow_part(pattern: str) -> str | None:
    """Why a pattern can backtrack exponentially (None: it cannot in these ways)."""
    parser = _parser()
    constants = parser  # the opcodes are re-exported there

    def walk(items: Any, repeated: bool) -> str | None:
        for op, av in items:
            if op in (constants.MAX_REPEAT, constants.MIN_REPEAT) or str(op) == "POSSESSIVE_REPEAT":
                low, high, sub = av
                unbounded = high == constants.MAXREPEAT or high > 64
                if unbounded and _can_repeat(sub, constants):
                    return "repeats a repeat"
                found = walk(sub, repeated or unbounded)
                if found:
                    return found
            elif op == constants.SUBPATTERN:
                found = walk(av[-1], repeated)
                if found:
                    return found
            elif op == constants.BRANCH:
                if repeated:
                    return "repeats an alternation"
                for alternative in av[1]:
                    found = walk(alternative, repeated)
                    if found:
                        return found
            elif op in (constants.ASSERT, constants.ASSERT_NOT):
                found = walk(av[1], repeated)
                if found:
                    return found
            elif op in (constants.GROUPREF, constants.GROUPREF_EXISTS):
                return "refers back to a group"
        return None

    return walk(parser.parse(pattern), False)


def _can_repeat(sub: Any, constants: Any) -> bool:
    """Does a repeated part hold anything that can itself match more than one way?"""
    for op, av in sub:
        if op in (constants.MAX_REPEAT, constants.MIN_REPEAT) and (
                av[0] != av[1] or _can_repeat(av[2], constants)):
            return True
        if op == constants.SUBPATTERN and _can_repeat(av[-1], constants):
            return True
    return False


def required_literal(pattern: str) -> str:
    """The longest run of plain characters every match holds, lower case ("" if none):
    what the range check's patch stream looks for to keep a commit's patch."""
    parser = _parser()
    best = max(_runs(parser.parse(pattern), parser), key=len, default="")
    if len(best) < 3 or not best.isascii() or "\n" in best:
        return ""
    return best.lower()[:_LITERAL_MAX]


def _runs(items: Any, parser: Any) -> list[str]:
    """Runs of literal characters at the top level of a parsed pattern (each one in every match)."""
    runs = [""]
    for op, av in items:
        if op == parser.LITERAL:
            runs[-1] += chr(av)
        elif op == parser.SUBPATTERN and all(o == parser.LITERAL for o, _ in av[-1]):
            runs[-1] += "".join(chr(c) for _, c in av[-1])
        elif op == parser.SUBPATTERN:
            runs.append("")
            runs.extend(_runs(av[-1], parser))
            runs.append("")
        elif op in (parser.AT, parser.ASSERT, parser.ASSERT_NOT):
            runs.append("")  # a zero-width part: the runs around it may not touch
        elif op == parser.MAX_REPEAT and av[0] >= 1:
            inner = _runs(av[2], parser)
            runs.append("")
            runs.extend(inner)
            runs.append("")
        else:
            runs.append("")
    return [r for r in runs if r] or [""]


# --- running ------------------------------------------------------------------------

class Fired(NamedTuple):
    """A constraint broken by a change: where, and what."""

    constraint: Constraint
    where: str
    """`src/app.py:12`, or the file, or the command."""
    text: str
    """The line, or what the command said."""


def added_lines(patch: bytes) -> Iterator[tuple[str, int, str]]:
    """(path, line number, text) of every added line of a unified diff."""
    from agentops_hooks.git import c_unquote

    path = ""
    number = 0
    for raw in patch.split(b"\n"):
        if raw.startswith(b"+++ "):
            name = raw[4:].rstrip(b"\r")
            path = "" if name == b"/dev/null" else c_unquote(name)
            if path.startswith("b/"):
                path = path[2:]
        elif raw.startswith(b"@@ "):
            match = _HUNK.match(raw)
            number = int(match.group(1)) if match else 0
        elif raw.startswith(b"+"):
            yield path, number, raw[1:].rstrip(b"\r").decode("utf-8", "replace")
            number += 1
        elif raw.startswith(b" "):
            number += 1


_HUNK = re.compile(rb"@@ -\d+(?:,\d+)? \+(\d+)")
_SMALL_PATCH = 1 << 16


def forbidden(relevant: Relevant, patch: bytes) -> list[Fired]:
    """The forbid constraints the patch's added lines break (first line of each); OutOfTime
    when matching takes more than BUDGET_SECONDS."""
    found: dict[str, Fired] = {}
    literals = relevant.literals
    lowered = patch.lower()
    # In a large patch one pass of one expression says whether any literal is there
    # (most patches: none), and only then is each looked for; a small one (a commit's,
    # mostly) is quicker to search a literal at a time than the expression to compile.
    if len(lowered) > _SMALL_PATCH and literals and not _any_literal(literals).search(lowered):
        literals = ()
    present = {w for w in literals if w.encode() in lowered}
    todo = [c for c in relevant.forbid if not c.literal or c.literal in present]
    if not todo:
        return []  # most patches: no pattern runs, and no time budget is set
    by_path: dict[str, list[Constraint]] = {}
    with Budget(BUDGET_SECONDS):
        for path, number, line in added_lines(patch):
            here = by_path.get(path)
            if here is None:
                here = by_path[path] = [c for c in todo if c.applies_to(path)]
            for constraint in here:
                if constraint.id not in found and constraint.fires_on_line(line):
                    found[constraint.id] = Fired(constraint, f"{path}:{number}", line)
    return list(found.values())


@lru_cache(maxsize=8)
def _any_literal(literals: tuple[str, ...]) -> re.Pattern[bytes]:
    from agentops_hooks.git import any_of

    return re.compile(any_of([w.encode() for w in literals]))


def run_command(constraint: Constraint, files: dict[str, bytes]) -> Fired | None:
    """Run a command constraint on these files ({path: content}) in a temporary directory;
    raises CommandFailed (ratchet.metrics) when it cannot run or runs out of time."""
    import tempfile
    from pathlib import Path

    from agentops_hooks.ratchet.metrics import run_shell

    with tempfile.TemporaryDirectory(prefix="agentops-constraint-") as tmp:
        root = Path(tmp)
        for path, content in files.items():
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        code, out, err = run_shell(constraint.check, constraint.timeout, root, tuple(files))
    if code == 0:
        return None
    said = (err or out).strip().splitlines()
    return Fired(constraint, ", ".join(files), f"exit {code}" + (f": {said[-1][:200]}" if said else ""))


class Budget:
    """A time budget: OutOfTime is raised inside the `with` block once `seconds` have
    passed (SIGALRM, main thread on POSIX only; elsewhere the static checks are the bound)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.previous: Any = None

    def __enter__(self) -> Budget:
        import signal
        import threading

        if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGALRM, _expired)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.previous is not None:
            import signal

            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)
            self.previous = None


def _expired(signum: int, frame: object) -> None:
    raise OutOfTime


def witness_fires(constraint: Constraint) -> bool:
    """Does the constraint catch its own witness?"""
    if constraint.kind == "forbid":
        return any(constraint.fires_on_line(line) for line in constraint.witness.split("\n"))
    if constraint.kind == "require":
        return not constraint.keeps(constraint.witness)
    return run_command(constraint, {constraint.witness_file: constraint.witness.encode()}) is not None
