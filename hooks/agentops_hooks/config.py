"""The project's policy: `.agentops.toml`, or `[tool.agentops]` in pyproject.toml.

The model is plain records (see record.py) so that a repository without a
config file pays next to nothing at commit time; when a file exists, the same
classes become dataclasses and pydantic validates the file against them
(unknown keys refused), and `schemas/config.schema.json` is generated from them.
"""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import Literal

from agentops_hooks.errors import FatalError
from agentops_hooks.record import as_dataclass
from agentops_hooks.record import field
from agentops_hooks.record import record
from agentops_hooks.record import replace

if TYPE_CHECKING:
    from agentops_hooks.git import Repo

CONFIG_FILE = ".agentops.toml"
PYPROJECT = "pyproject.toml"
GATE_NAMES = (
    "context", "track", "scope", "privilege", "research", "isolate",
    "verdict", "ratchet", "learnings", "knowledge", "supervise",
)
DEFAULT_GATES = ("verdict", "learnings", "privilege", "supervise")
# The doctrine's four phases, in the order it recommends adopting them.
PHASES = {
    "prepare": ("context", "track", "scope"),
    "bound": ("privilege", "research", "isolate"),
    "select": ("verdict", "ratchet", "learnings"),
    "govern": ("knowledge", "supervise"),
}
Audience = Literal["agents", "everyone"]

_STRICT = {"extra": "forbid", "use_attribute_docstrings": True}


class ConfigError(FatalError):
    """The config file is unreadable or says something we cannot accept."""


@record
class AgentsConfig:
    """Identities, beyond the built-in ones, that mark a change as an agent's."""

    __pydantic_config__ = _STRICT

    emails: tuple[str, ...] = ()
    """Author, committer or co-author emails (case-insensitive)."""
    patterns: tuple[str, ...] = ()
    """Python regular expressions searched in "Name <email>" of each identity."""
    env: tuple[str, ...] = ()
    """Environment variables at commit time: "VAR" (set, not 0) or "VAR=value"."""
    trailers: tuple[str, ...] = ()
    """Trailer keys whose presence marks an agent's change."""


@record
class VerdictConfig:
    """Gate VII: an independent PASS verdict bound to the change."""

    __pydantic_config__ = _STRICT

    required_for: Audience = "agents"
    """Whose changes need a verdict: "agents" or "everyone"."""
    severity: Severity = "error"
    """"error" refuses; "warning" only reports."""
    judges: tuple[str, ...] = ()
    """Who may judge: "Name <email>", an email, or a glob such as "*@review.example.com"."""
    aliases: tuple[tuple[str, ...], ...] = ()
    """Groups of emails that belong to one person (never judge each other)."""
    require_signature: bool = False
    """Count a verdict only if its SSH signature verifies against allowed_signers."""
    allowed_signers: str | None = None
    """A tracked allowed-signers file (ssh-keygen format), read from the base commit."""
    merges: bool = False
    """Judge every merge commit as a whole (against its first parent) in range checks;
    false: only a merge that adds something beyond its parents (its remerge diff)."""


@record
class LearningsConfig:
    """Gate IX: a non-trivial change leaves a learning behind."""

    __pydantic_config__ = _STRICT

    required_for: Audience = "agents"
    """Whose changes need a learning: "agents" or "everyone"."""
    severity: Severity = "error"
    min_changed_lines: int = 10
    """A change with more added plus removed lines than this is non-trivial."""
    min_words: int = 3
    """A learning must have at least this many words; placeholders ("x", "n/a", "TODO") never count."""
    file: str = "learnings.md"
    """The learnings file: a new `## Title (YYYY-MM-DD)` section with a bullet counts."""
    directory: str = ".agents/learnings"
    """A new file here whose front matter matches schemas/learning.schema.json counts."""
    exempt_docs_only: bool = True
    """A change that touches only documentation needs no learning."""
    docs_patterns: tuple[str, ...] = ("*.md", "*.rst", "*.txt", "*.adoc", "docs/**")
    """Globs that make a path documentation."""


@record
class SuperviseConfig:
    """Gate XI: a worker stuck on a task hands it over instead of retrying."""

    __pydantic_config__ = _STRICT

    required_for: Audience = "agents"
    """Whose changes are supervised: "agents" or "everyone"."""
    severity: Severity = "error"
    max_failures: int = 3
    """FAIL verdicts one worker may collect on one task before it must hand over."""


Severity = Literal["error", "warning"]


@record
class ContextConfig:
    """Gate I: the agent-facing context stays under a token budget."""

    __pydantic_config__ = _STRICT

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


@record
class TrackConfig:
    """Gate II: agent state and referenced evidence live in git."""

    __pydantic_config__ = _STRICT

    required_for: Audience = "agents"
    severity: Severity = "error"
    state_dir: str = ".agents"
    """Agent state that must not be left untracked or ignored."""
    path_trailers: tuple[str, ...] = ("Research", "Verdict-Evidence", "Evidence")
    """Trailers whose values name files that must exist in the commit's tree (when they look like paths)."""


@record
class ScopeConfig:
    """Gate III: one agent change, one task, within size limits."""

    __pydantic_config__ = _STRICT

    required_for: Audience = "agents"
    severity: Severity = "error"
    task_pattern: str | None = None
    """A regular expression that finds a task reference in the subject, besides the Task trailer."""
    max_files: int = 50
    """Most files one change may touch (binary files count)."""
    max_lines: int = 1000
    """Most changed (added plus removed) lines one change may have."""


@record
class PrivilegeConfig:
    """Gate IV: an agent cannot widen its own envelope, and leaks no secrets."""

    __pydantic_config__ = _STRICT

    required_for: Audience = "agents"
    severity: Severity = "error"
    protected_paths: tuple[str, ...] = (
        ".agentops.toml", ".gitattributes", ".pre-commit-config.yaml", ".git-hooks/**",
        ".githooks/**", ".husky/**", "lefthook.yml", ".lefthook.yml",
        ".github/workflows/**", ".github/actions/**", ".gitlab-ci.yml", ".circleci/**",
        ".buildkite/**", "Jenkinsfile", "azure-pipelines.yml", "CODEOWNERS",
    )
    """Globs an agent may change only with a verdict from a human judge: what decides what is
    checked or how a diff reads (the allowed-signers file and pyproject.toml's [tool.agentops]
    table are added)."""
    human_judges: tuple[str, ...] = ()
    """Judges who are people: "Name <email>", an email, or a glob."""
    secrets: bool = True
    """Refuse added lines that look like secrets (keys, tokens, high-entropy assignments)."""


@record
class ResearchConfig:
    """Gate V: a large change rests on written-down research."""

    __pydantic_config__ = _STRICT

    required_for: Audience = "agents"
    severity: Severity = "error"
    min_changed_lines: int = 200
    """A change with more changed lines than this needs a Research trailer."""


@record
class IsolateConfig:
    """Gate VI: agents work on their own branches and paths."""

    __pydantic_config__ = _STRICT

    required_for: Audience = "agents"
    severity: Severity = "error"
    protected_branches: tuple[str, ...] = ("main", "master", "release/*")
    """Branches (globs) an agent may not commit to directly."""
    workers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Worker (Agent session or author email) -> the path globs it may change."""


@record
class KnowledgeConfig:
    """Gate X: learnings are well formed, unique, reachable and fresh."""

    __pydantic_config__ = _STRICT

    required_for: Audience = "everyone"
    severity: Severity = "error"
    stale_days: int = 90
    """Entries older than this with no `Cites:` in later commits are stale."""
    stale_severity: Severity = "warning"
    """How stale entries are reported."""


MetricFormat = Literal[
    "number", "coverage-json", "junit", "json-pointer", "ruff-json", "pylint-json", "mypy-json",
]


@record
class MetricConfig:
    """One ratcheted metric: where its number comes from, and which way is better."""

    __pydantic_config__ = _STRICT

    direction: Literal["higher", "lower"]
    """Which way is better: "higher" (coverage, tests) or "lower" (warnings)."""
    command: str | None = None
    """A shell command, run at the repository root, that prints one number."""
    file: str | None = None
    """A file (relative to the repository root) the number is read from."""
    format: MetricFormat | None = None
    """How to read `file`: number, coverage-json, junit, json-pointer, ruff-json, pylint-json, mypy-json."""
    field: Literal["tests", "failures", "errors", "skipped", "passed"] | None = None
    """For junit: which count (summed over every testsuite)."""
    pointer: str | None = None
    """For json-pointer: an RFC 6901 pointer, e.g. "/totals/percent_covered"."""
    tolerance: float | str = 0
    """How much worse than the baseline still passes: a number, or "N%" of the baseline."""
    timeout: float = 300
    """Seconds a command may run before it is stopped (and the metric fails)."""


@record
class RatchetConfig:
    """Factor VIII: metrics may not get worse than the baseline recorded in notes."""

    __pydantic_config__ = _STRICT

    metrics: dict[str, MetricConfig] = field(default_factory=dict)
    """The ratcheted metrics, by name: [ratchet.metrics.NAME]."""
    required_for: Audience = "everyone"
    """Whose changes the ratchet holds: "everyone" (default) or "agents"."""
    severity: Severity = "error"


@record
class Config:
    """Everything `.agentops.toml` can say."""

    __pydantic_config__ = _STRICT

    gates: tuple[str, ...] = DEFAULT_GATES
    """The gates the umbrella `agentops` hook and `agentops check` run (ratchet:
    added automatically when metrics are configured)."""
    protected: tuple[str, ...] = ("refs/heads/main", "refs/heads/master", "refs/heads/release/*")
    """Refs whose new commits `agentops pre-receive` checks (globs), besides the server's
    default branch and every tag (refs/tags/*), which are always protected."""
    agents: AgentsConfig = field(default_factory=AgentsConfig)
    verdict: VerdictConfig = field(default_factory=VerdictConfig)
    learnings: LearningsConfig = field(default_factory=LearningsConfig)
    supervise: SuperviseConfig = field(default_factory=SuperviseConfig)
    ratchet: RatchetConfig = field(default_factory=RatchetConfig)
    context: ContextConfig = field(default_factory=ContextConfig)
    track: TrackConfig = field(default_factory=TrackConfig)
    scope: ScopeConfig = field(default_factory=ScopeConfig)
    privilege: PrivilegeConfig = field(default_factory=PrivilegeConfig)
    research: ResearchConfig = field(default_factory=ResearchConfig)
    isolate: IsolateConfig = field(default_factory=IsolateConfig)
    knowledge: KnowledgeConfig = field(default_factory=KnowledgeConfig)
    source: str | None = field(default=None, repr=False, compare=False)
    """Where this config was read from (not a key of the file)."""


def parse_toml(raw: bytes, where: str) -> dict[str, Any]:
    """A TOML document, or a ConfigError naming where it came from."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{where}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{where}: not valid TOML: {e}") from None


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror}") from None
    return parse_toml(raw, str(path))


def find(root: Path) -> tuple[Path, dict[str, Any]] | None:
    """The config file under `root` and its raw table, or None when there is none."""
    own = root / CONFIG_FILE
    if own.is_file():
        return own, _load_toml(own)
    pyproject = root / PYPROJECT
    if pyproject.is_file():
        try:
            text = pyproject.read_bytes()
        except OSError:
            return None
        if b"tool.agentops" in text:
            table = _load_toml(pyproject).get("tool", {}).get("agentops")
            if isinstance(table, dict):
                return pyproject, table
    return None


def load(root: Path | None, cache_dir: Path | None = None) -> Config:
    """The config of the repository at `root`; defaults when it has none.

    With `cache_dir`, a file validated once is not validated again while its
    bytes stay the same (see `from_toml`).
    """
    if root is None:
        return Config()
    own = root / CONFIG_FILE
    if own.is_file():
        return from_toml(_read(own), str(own), "", cache_dir)
    pyproject = root / PYPROJECT
    if pyproject.is_file():
        try:
            raw = pyproject.read_bytes()
        except OSError:
            return Config()
        if b"tool.agentops" in raw:
            return from_toml(raw, str(pyproject), "tool.agentops.", cache_dir)
    return Config()


def load_at(repo: Repo, commit: str) -> Config:
    """The policy committed in `commit`: .agentops.toml, else [tool.agentops]; else defaults."""
    for name, prefix in ((CONFIG_FILE, ""), (PYPROJECT, "tool.agentops.")):
        raw = repo.read_file(f"{commit}:{name}")
        if not raw or (prefix and b"tool.agentops" not in raw):
            continue
        return from_toml(raw, f"{commit[:12]}:{name}", prefix, repo.cache_dir)
    return Config()


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror}") from None


def from_toml(raw: bytes, where: str, prefix: str = "", cache_dir: Path | None = None) -> Config:
    """The policy a TOML document states (under [tool.agentops] when `prefix`
    says so; defaults when that table is missing), checked against the model.

    Checking imports pydantic, which costs a commit a quarter of a second; so
    with `cache_dir` the checked policy is kept there with the exact bytes it
    came from, and the next run with the same bytes (and the same agentops)
    takes it from there. A document that fails the check is never kept.
    """
    import pickle  # here: a repository without a config file never needs it
    import zlib

    key = (_model_version(), where, prefix, raw)
    cache = cache_dir / f"config-{zlib.crc32(where.encode('utf-8', 'surrogateescape')):08x}.pickle" \
        if cache_dir is not None else None
    if cache is not None:
        try:  # the git directory is written only by whoever may write the repository's hooks
            stored_key, stored = pickle.loads(cache.read_bytes())
            if stored_key == key and isinstance(stored, Config):
                return stored
        except Exception:  # noqa: BLE001 - a missing or unreadable cache is only a miss
            pass
    table = parse_toml(raw, where)
    if prefix:
        table = table.get("tool", {}).get("agentops")
        if not isinstance(table, dict):
            return Config()
    config = validate(table, where=where, prefix=prefix)
    if cache is not None:
        try:
            from agentops_hooks.messages import write_atomic

            cache.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(cache, pickle.dumps((key, config)))
        except OSError:
            pass  # a read-only repository: check again next time
    return config


def _model_version() -> tuple[str, int, int]:
    """The agentops version and this file's identity: a changed model invalidates caches."""
    from agentops_hooks import __version__

    stat = os.stat(__file__)
    return __version__, stat.st_mtime_ns, stat.st_size


def validate(table: dict[str, Any], *, where: str, prefix: str = "") -> Config:
    """Check a raw TOML table against the model; errors name the file and key."""
    from pydantic import TypeAdapter
    from pydantic import ValidationError

    try:
        config = TypeAdapter(_model()).validate_python(table, strict=False)
    except ValidationError as e:
        raise ConfigError(_describe(e, where, prefix)) from None
    if "source" in table:
        raise ConfigError(f"{where}: {prefix}source: unknown key")
    for gate in config.gates:
        if gate not in GATE_NAMES:
            known = ", ".join(GATE_NAMES)
            raise ConfigError(f"{where}: {prefix}gates: unknown gate {gate!r} (known: {known})")
    for i, pattern in enumerate(config.agents.patterns):
        try:
            re.compile(pattern)
        except re.error as e:
            raise ConfigError(
                f"{where}: {prefix}agents.patterns[{i}]: not a valid regular expression: {e}",
            ) from None
    for i, entry in enumerate(config.agents.env):
        if not entry.split("=", 1)[0]:
            raise ConfigError(f"{where}: {prefix}agents.env[{i}]: empty variable name")
    if config.learnings.min_changed_lines < 0:
        raise ConfigError(f"{where}: {prefix}learnings.min_changed_lines: must be 0 or more")
    if config.learnings.min_words < 1:
        raise ConfigError(f"{where}: {prefix}learnings.min_words: must be 1 or more")
    if config.supervise.max_failures < 1:
        raise ConfigError(f"{where}: {prefix}supervise.max_failures: must be 1 or more")
    if config.verdict.require_signature and not config.verdict.allowed_signers:
        raise ConfigError(
            f"{where}: {prefix}verdict.require_signature: needs verdict.allowed_signers "
            "(a tracked allowed-signers file)",
        )
    for name, metric in config.ratchet.metrics.items():
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise ConfigError(f"{where}: {prefix}ratchet.metrics.{name}: a metric name is letters, "
                              "digits, '_', '.' and '-' (it is written in Ratchet-Reversal trailers)")
        problem = metric_problem(metric)
        if problem:
            raise ConfigError(f"{where}: {prefix}ratchet.metrics.{name}: {problem}")
    for i, pattern in enumerate(config.protected):
        if not pattern.startswith("refs/") or any(c in pattern for c in " ~^:\\"):
            raise ConfigError(
                f"{where}: {prefix}protected[{i}]: {pattern!r} is not a ref pattern "
                "(use e.g. refs/heads/main or refs/heads/release/*)",
            )
    gates = config.gates
    if "gates" not in table and config.ratchet.metrics:
        gates = (*gates, "ratchet")
    if config.scope.task_pattern is not None:
        try:
            re.compile(config.scope.task_pattern)
        except re.error as e:
            raise ConfigError(f"{where}: {prefix}scope.task_pattern: not a valid regular "
                              f"expression: {e}") from None
    return replace(config, gates=gates, source=where)


def _model() -> type[Config]:
    """Config and every class it holds, as the dataclasses pydantic reads."""
    for section in (AgentsConfig, VerdictConfig, LearningsConfig, SuperviseConfig, ContextConfig,
                    TrackConfig, ScopeConfig, PrivilegeConfig, ResearchConfig, IsolateConfig,
                    KnowledgeConfig, MetricConfig, RatchetConfig, Config):
        as_dataclass(section)
    return Config


def gates_for_phase(phase: str) -> tuple[str, ...]:
    """The gates of `phase` and of every phase before it."""
    names: list[str] = []
    for name, gates in PHASES.items():
        names.extend(gates)
        if name == phase:
            return tuple(names)
    raise ConfigError(f"unknown phase {phase!r} (one of {', '.join(PHASES)})")


def set_gates(root: Path, gates: tuple[str, ...]) -> Path:
    """Write `gates = [...]` into .agentops.toml (created if needed), keeping the rest."""
    import json as _json

    own = root / CONFIG_FILE
    if not own.exists() and (root / PYPROJECT).is_file() and find(root) is not None:
        raise ConfigError(f"the config is [tool.agentops] in {root / PYPROJECT}: set "
                          f"gates = {_json.dumps(list(gates))} there")
    line = f"gates = {_json.dumps(list(gates))}\n"
    text = own.read_text(encoding="utf-8") if own.exists() else ""
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    placed = False
    in_table = False
    skipping = False
    for current in lines:
        stripped = current.strip()
        if skipping:  # the rest of a multi-line `gates = [` array
            skipping = "]" not in stripped
            continue
        if stripped.startswith("["):
            if not placed:
                out.append(line)
                placed = True
            in_table = True
        if not in_table and stripped.split("=", 1)[0].strip() == "gates":
            if not placed:
                out.append(line)
                placed = True
            skipping = "]" not in stripped.split("=", 1)[1]
            continue
        out.append(current)
    if not placed:
        out.append(line)
    new = "".join(out)
    validate(parse_toml(new.encode("utf-8"), str(own)), where=str(own))
    from agentops_hooks.messages import write_atomic

    write_atomic(own, new.encode("utf-8"))
    return own


def set_in_table(root: Path, table: str, values: dict[str, str | bool]) -> Path:
    """Write `key = value` lines into `[table]` of .agentops.toml (created if needed),
    replacing those keys' lines there and keeping the rest."""
    import json as _json

    own = root / CONFIG_FILE
    lines = {k: f"{k} = {_json.dumps(v)}\n" for k, v in values.items()}
    if not own.exists() and (root / PYPROJECT).is_file() and find(root) is not None:
        raise ConfigError(f"the config is [tool.agentops] in {root / PYPROJECT}: set "
                          f"[tool.agentops.{table}] {', '.join(s.strip() for s in lines.values())} "
                          "there")
    text = own.read_text(encoding="utf-8") if own.exists() else ""
    out: list[str] = []
    current = None
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped.startswith("["):
            if current == table:
                out.extend(lines.pop(k) for k in list(lines))
            current = stripped.strip("[] ")
        elif current == table and stripped.split("=", 1)[0].strip() in lines:
            continue  # replaced below, at the end of the table
        out.append(line)
    if current == table:
        out.extend(lines.pop(k) for k in list(lines))
    elif lines:
        if out and not out[-1].endswith("\n"):
            out.append("\n")
        out += ["\n" if out else "", f"[{table}]\n", *lines.values()]
    new = "".join(out)
    validate(parse_toml(new.encode("utf-8"), str(own)), where=str(own))
    from agentops_hooks.messages import write_atomic

    write_atomic(own, new.encode("utf-8"))
    return own


def metric_problem(metric: MetricConfig) -> str | None:
    """What is inconsistent in one metric's config (None: nothing)."""
    if (metric.command is None) == (metric.file is None):
        return "give exactly one of command or file"
    if metric.file is not None and metric.format is None:
        return "a file metric needs a format"
    if metric.command is not None and (metric.format or metric.field or metric.pointer):
        return "format, field and pointer go with file, not command"
    if metric.format == "junit" and metric.field is None:
        return "the junit format needs field (tests, failures, errors, skipped or passed)"
    if metric.format != "junit" and metric.field is not None:
        return "field goes with the junit format only"
    if metric.format == "json-pointer" and not (metric.pointer or "").startswith("/"):
        return 'the json-pointer format needs pointer, starting with "/"'
    if metric.format != "json-pointer" and metric.pointer is not None:
        return "pointer goes with the json-pointer format only"
    if isinstance(metric.tolerance, str):
        text = metric.tolerance.strip()
        try:
            ok = text.endswith("%") and float(text[:-1]) >= 0
        except ValueError:
            ok = False
        if not ok:
            return f'tolerance {metric.tolerance!r} is neither a number nor "N%"'
    elif metric.tolerance < 0:
        return "tolerance must be 0 or more"
    if metric.timeout <= 0:
        return "timeout must be more than 0"
    return None


def _describe(error: Any, where: str, prefix: str) -> str:
    lines = []
    for item in error.errors():
        loc = ".".join(
            f"[{part}]" if isinstance(part, int) else str(part) for part in item["loc"]
        ).replace(".[", "[")
        if item["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
            what = "unknown key"
        else:
            what = item["msg"].lower()
        lines.append(f"{where}: {prefix}{loc}: {what}")
    return "\n".join(lines)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the config file, generated from the model."""
    schema = schema_of(Config, "config.schema.json", "agentops-hooks configuration (.agentops.toml)")
    schema.get("properties", {}).pop("source", None)
    return schema


def schema_of(model: type, file_name: str, title: str) -> dict[str, Any]:
    """A JSON Schema generated by pydantic from one of our models."""
    from pydantic import TypeAdapter

    schema: dict[str, Any] = TypeAdapter(_model() if model is Config else model).json_schema(
        mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://agentops-hooks.dev/schemas/{file_name}"
    schema["title"] = title
    return schema
