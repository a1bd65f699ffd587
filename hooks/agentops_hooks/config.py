"""The project's policy: `.agentops.toml`, or `[tool.agentops]` in pyproject.toml.

The model is frozen dataclasses: `Config` here holds the keys of the whole
file, and each gate module declares its own section (`[verdict]` is
`gates.verdict.VerdictConfig`). A repository without a config file pays only
for the sections of the gates that run; when a file exists, pydantic checks it
against the same classes (unknown keys refused), and
`schemas/config.schema.json` is generated from them.
"""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import Literal
from typing import NamedTuple
from typing import Protocol
from typing import TypeVar

from agentops_hooks.errors import FatalError

if TYPE_CHECKING:
    from collections.abc import Callable

    from agentops_hooks.git import Repo

CONFIG_FILE = ".agentops.toml"
PYPROJECT = "pyproject.toml"
DEFAULT_GATES = ("verdict", "learnings", "privilege", "supervise")
PHASES = ("prepare", "bound", "select", "govern")
"""The doctrine's four phases, in the order it recommends adopting them; each
gate module names its own (`PHASE`)."""
Audience = Literal["agents", "everyone"]
Severity = Literal["error", "warning"]

T = TypeVar("T")


class ConfigError(FatalError):
    """The config file is unreadable or says something we cannot accept."""


class AgentMarkerConfig(NamedTuple):
    """One mark an agent leaves, in agents.json's form (see docs/detection.md)."""

    kind: Literal["email", "email-regex", "name", "name-regex", "name-suffix", "subject-prefix",
                  "line", "trailer", "trailer-value", "env-equals", "env-set", "git-ai-tool"]
    """What `value` is matched against (docs/detection.md lists the kinds)."""
    value: str
    """The email, name, prefix, regex, trailer key or "VAR=value"."""
    id: str = ""
    """The marker's id: reasons cite the rule `config.<agent>.<id>` (default: the kind)."""
    roles: tuple[Literal["author", "committer", "co-author"], ...] = ()
    """For identity kinds, whose identity it marks (default: all three)."""
    source: str = ""
    """Where the marker is documented."""
    hints: tuple[str, ...] = ()
    """For a line marker: words one of which a message must hold (any case) for its regex
    to be tried, which keeps a range check fast."""


class KnownAgentConfig(NamedTuple):
    """An agent added to the built-in ones of agents.json."""

    name: str
    """The agent's name, as detection reasons show it."""
    markers: tuple[AgentMarkerConfig, ...]
    """The marks it leaves on a commit."""
    id: str = ""
    """A short id for rule names (default: the name, lower-cased, spaces as dashes)."""


class Sections(Protocol):
    """Where the gates' sections come from (`gates.SECTIONS`): the policy's
    model is assembled from the gate modules, which this module never imports."""

    def names(self) -> frozenset[str]:
        """Every gate's name, without importing any gate."""

    def classes(self) -> dict[str, type]:
        """Every gate's section class by gate name, in factor order (imports them all)."""

    def stamp(self) -> tuple[object, ...]:
        """What identifies the gate modules' code, to invalidate a kept policy."""


class AgentsConfig(NamedTuple):
    """Identities, beyond the built-in ones, that mark a change as an agent's."""

    known: tuple[KnownAgentConfig, ...] = ()
    """Agents to add to the built-in catalog ([[agents.known]]), each with its markers."""

    emails: tuple[str, ...] = ()
    """Author, committer or co-author emails (case-insensitive)."""
    patterns: tuple[str, ...] = ()
    """Python regular expressions searched in "Name <email>" of each identity."""
    env: tuple[str, ...] = ()
    """Environment variables at commit time: "VAR" (set, not 0) or "VAR=value"."""
    trailers: tuple[str, ...] = ()
    """Trailer keys whose presence marks an agent's change."""


class JudgeSpec(NamedTuple):
    """One judge `agentops judge` runs on a change (docs/judges.md)."""

    name: str
    """What the verdict's evidence calls it, e.g. "tests" or "claude-review"."""
    command: str
    """Run by `sh -c` in a fresh worktree of the change, with the change's files and
    variables (docs/judges.md); e.g. "python -m pytest -q"."""
    kind: Literal["check", "reviewer"] = "check"
    """"check": its exit code is the verdict (0 PASS, else FAIL). "reviewer": it prints
    a JSON verdict (schemas/judge-output.schema.json); anything else is NOT_PROVEN."""
    timeout: float = 600.0
    """Seconds it may run; past them it is stopped and the judge is NOT_PROVEN."""
    required: bool = True
    """With `at_least`: this judge must PASS whatever the others say."""
    env: tuple[str, ...] = ()
    """Variables passed on to it from the environment `agentops judge` runs in (an API key
    a reviewer needs); nothing else is."""


class JudgeConfig(NamedTuple):
    """`agentops judge`: the automated judges, how they combine, and who signs."""

    judges: tuple[JudgeSpec, ...] = ()
    """The judges ([[judge.judges]]), run in this order."""
    at_least: int = 0
    """The council rule: PASS needs this many judges to PASS (0: all of them), every
    required one among them; any FAIL of a required judge is a FAIL."""
    identity: str | None = None
    """The judge identity its verdicts are signed as, "Name <email>"; its key's public
    half belongs in verdict.allowed_signers."""
    key: str | None = None
    """The private key file that signs (else $AGENTOPS_JUDGE_KEY: a key file's path,
    or the key itself, as a CI secret holds it)."""
    admits: tuple[str, ...] = ("verdict",)
    """The gates that accept the automated judge's signed verdict; a gate not listed
    ("privilege": protected paths) still needs a human."""
    output_limit: int = 16384
    """The characters of each judge's output kept in the verdict record (the end of it;
    the sha256 covers all of it)."""


class Config(NamedTuple):
    """Everything `.agentops.toml` can say."""

    # Besides these keys, one section a gate (`[verdict]`, `[learnings]`, ...),
    # each declared by its gate module and kept in `sections`.

    gates: tuple[str, ...] = DEFAULT_GATES
    """The gates the umbrella `agentops` hook and `agentops check` run (ratchet:
    added automatically when metrics are configured)."""
    protected: tuple[str, ...] = ("refs/heads/main", "refs/heads/master", "refs/heads/release/*")
    """Refs whose new commits `agentops pre-receive` checks (globs), besides the server's
    default branch and every tag (refs/tags/*), which are always protected."""
    agents: AgentsConfig = AgentsConfig()
    judge: JudgeConfig = JudgeConfig()
    sections: tuple[Any, ...] = ()
    """The gate sections the file states (not a key of the file); `section()` gives
    any gate's, with its defaults where the file says nothing."""
    source: str | None = None
    """Where this config was read from (not a key of the file)."""

    def section(self, cls: type[T]) -> T:
        """The section of the gate whose settings class is `cls`."""
        for found in self.sections:
            if type(found) is cls:
                return found
        default = _DEFAULTS.get(cls)
        if default is None:
            default = _DEFAULTS[cls] = cls()
        return default


_DEFAULTS: dict[type, Any] = {}
_CORE_KEYS = ("gates", "protected", "agents", "judge")


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


def load(root: Path | None, sections: Sections, cache_dir: Path | None = None) -> Config:
    """The config of the repository at `root`; defaults when it has none.

    With `cache_dir`, a file validated once is not validated again while its
    bytes stay the same (see `from_toml`).
    """
    if root is None:
        return Config()
    own = root / CONFIG_FILE
    if own.is_file():
        return from_toml(_read(own), str(own), sections, "", cache_dir)
    pyproject = root / PYPROJECT
    if pyproject.is_file():
        try:
            raw = pyproject.read_bytes()
        except OSError:
            return Config()
        if b"tool.agentops" in raw:
            return from_toml(raw, str(pyproject), sections, "tool.agentops.", cache_dir)
    return Config()


def load_at(repo: Repo, commit: str, sections: Sections) -> Config:
    """The policy committed in `commit`: .agentops.toml, else [tool.agentops]; else defaults."""
    for name, prefix in ((CONFIG_FILE, ""), (PYPROJECT, "tool.agentops.")):
        raw = repo.read_file(f"{commit}:{name}")
        if not raw or (prefix and b"tool.agentops" not in raw):
            continue
        return from_toml(raw, f"{commit[:12]}:{name}", sections, prefix, repo.cache_dir)
    return Config()


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror}") from None


def from_toml(raw: bytes, where: str, sections: Sections, prefix: str = "",
              cache_dir: Path | None = None) -> Config:
    """The policy a TOML document states (under [tool.agentops] when `prefix`
    says so; defaults when that table is missing), checked against the model.

    Checking imports pydantic, which costs a commit a quarter of a second; so
    with `cache_dir` the checked policy is kept there with the exact bytes it
    came from, and the next run with the same bytes (and the same agentops)
    takes it from there. A document that fails the check is never kept.
    """
    import zlib

    key = (_model_version(sections), where, prefix, raw)
    cache = cache_dir / f"config-{zlib.crc32(where.encode('utf-8', 'surrogateescape')):08x}.pickle" \
        if cache_dir is not None else None

    def check() -> Config:
        table = parse_toml(raw, where)
        if prefix:
            table = table.get("tool", {}).get("agentops")
            if not isinstance(table, dict):
                return Config()
        return validate(table, sections, where=where, prefix=prefix)

    return kept(cache, key, Config, check)


def kept(cache: Path | None, key: object, kind: type[T], build: Callable[[], T]) -> T:
    """`build()`, kept in the file `cache` (None: not kept) under `key`: a later run with
    the same key takes it from there. Something that fails to build is never kept."""
    import pickle  # here: a run that keeps nothing never needs it

    if cache is not None:
        try:  # the git directory is written only by whoever may write the repository's hooks
            stored_key, stored = pickle.loads(cache.read_bytes())
            if stored_key == key and isinstance(stored, kind):
                return stored
        except Exception:  # noqa: BLE001 - a missing or unreadable cache is only a miss
            pass
    found = build()
    if cache is not None:
        try:
            from agentops_hooks.messages import write_atomic

            cache.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(cache, pickle.dumps((key, found)))
        except OSError:
            pass  # a read-only repository: build it again next time
    return found


def _model_version(sections: Sections) -> tuple[object, ...]:
    """The agentops version and the model's code: a changed model invalidates caches."""
    from agentops_hooks import __version__

    stat = os.stat(__file__)
    return __version__, stat.st_mtime_ns, stat.st_size, sections.stamp()


def validate(table: dict[str, Any], sections: Sections, *, where: str, prefix: str = "") -> Config:
    """Check a raw TOML table against the model; errors name the file and key.

    The keys of `Config` are checked here; every other key must name a gate,
    whose section class checks its table (and may add `problems()` of its own)."""
    from pydantic import ValidationError

    from agentops_hooks.config_model import checked

    classes = sections.classes()
    errors: list[str] = []
    core = {key: value for key, value in table.items() if key in _CORE_KEYS}
    config = Config()
    try:
        config = checked(Config, core)
    except ValidationError as e:
        errors.append(_describe(e, where, prefix))
    stated: list[Any] = []
    for key, value in table.items():
        if key in _CORE_KEYS:
            continue
        if key not in classes:
            errors.append(f"{where}: {prefix}{key}: unknown key")
            continue
        try:
            stated.append(checked(classes[key], value))
        except ValidationError as e:
            errors.append(_describe(e, where, f"{prefix}{key}."))
    if errors:
        raise ConfigError("\n".join(errors))
    config = config._replace(sections=tuple(stated))
    _check_core(config, classes, where, prefix)
    names = {cls: name for name, cls in classes.items()}
    for found in stated:
        name = names[type(found)]
        for key, problem in getattr(found, "problems", lambda: ())():
            raise ConfigError(f"{where}: {prefix}{name}.{key}: {problem}")
    gates = config.gates
    if "gates" not in table:  # a section may switch its gate on (ratchet: when it has metrics)
        gates = (*gates, *(names[type(s)] for s in stated if getattr(s, "switches_on", lambda: False)()
                           and names[type(s)] not in gates))
    return config._replace(gates=gates, source=where)


def _check_core(config: Config, classes: dict[str, type], where: str, prefix: str) -> None:
    for gate in config.gates:
        if gate not in classes:
            known = ", ".join(classes)
            raise ConfigError(f"{where}: {prefix}gates: unknown gate {gate!r} (known: {known})")
    for i, pattern in enumerate(config.agents.patterns):
        try:
            re.compile(pattern)
        except re.error as e:
            raise ConfigError(
                f"{where}: {prefix}agents.patterns[{i}]: not a valid regular expression: {e}",
            ) from None
    for i, agent in enumerate(config.agents.known):
        for j, marker in enumerate(agent.markers):
            if marker.kind in ("email-regex", "name-regex", "line"):
                try:
                    re.compile(marker.value)
                except re.error as e:
                    raise ConfigError(f"{where}: {prefix}agents.known[{i}].markers[{j}].value: "
                                      f"not a valid regular expression: {e}") from None
    for i, entry in enumerate(config.agents.env):
        if not entry.split("=", 1)[0]:
            raise ConfigError(f"{where}: {prefix}agents.env[{i}]: empty variable name")
    for key, problem in _judge_problems(config.judge, classes):
        raise ConfigError(f"{where}: {prefix}judge.{key}: {problem}")
    for i, pattern in enumerate(config.protected):
        if not pattern.startswith("refs/") or any(c in pattern for c in " ~^:\\"):
            raise ConfigError(
                f"{where}: {prefix}protected[{i}]: {pattern!r} is not a ref pattern "
                "(use e.g. refs/heads/main or refs/heads/release/*)",
            )


def _judge_problems(judge: JudgeConfig, classes: dict[str, type]) -> list[tuple[str, str]]:
    """What pydantic's types cannot say about `[judge]`: (key, problem) pairs."""
    from agentops_hooks.authorship import Identity

    found = []
    names = [j.name for j in judge.judges]
    for i, spec in enumerate(judge.judges):
        if not spec.name.strip() or any(ch.isspace() for ch in spec.name):
            found.append((f"judges[{i}].name", "must be one word"))
        if names.count(spec.name) > 1:
            found.append((f"judges[{i}].name", f"{spec.name!r} names two judges"))
        if not spec.command.strip():
            found.append((f"judges[{i}].command", "is empty"))
        if not spec.timeout > 0:
            found.append((f"judges[{i}].timeout", "must be more than 0 seconds"))
    if judge.at_least < 0 or judge.at_least > len(judge.judges):
        found.append(("at_least", f"must be between 0 and the number of judges ({len(names)})"))
    ident = Identity.parse(judge.identity) if judge.identity is not None else None
    if judge.identity is not None and (ident is None or not ident.name or "@" not in ident.email):
        found.append(("identity", 'must be "Name <email>"'))
    for gate in judge.admits:
        if gate not in classes:
            found.append(("admits", f"unknown gate {gate!r}"))
    if judge.output_limit < 0:
        found.append(("output_limit", "must be 0 or more"))
    return found


def set_gates(root: Path, gates: tuple[str, ...], sections: Sections, *, dry: bool = False) -> Path:
    """Write `gates = [...]` into .agentops.toml (created if needed), keeping the rest
    (`dry`: only check that it could)."""
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
    validate(parse_toml(new.encode("utf-8"), str(own)), sections, where=str(own))
    if not dry:
        from agentops_hooks.messages import write_atomic

        write_atomic(own, new.encode("utf-8"))
    return own


def set_in_table(root: Path, table: str, values: dict[str, str | bool], sections: Sections,
                 *, dry: bool = False) -> Path:
    """Write `key = value` lines into `[table]` of .agentops.toml (created if needed),
    replacing those keys' lines there and keeping the rest (`dry`: only check that it could)."""
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
    validate(parse_toml(new.encode("utf-8"), str(own)), sections, where=str(own))
    if not dry:
        from agentops_hooks.messages import write_atomic

        write_atomic(own, new.encode("utf-8"))
    return own


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


def json_schema(sections: Sections) -> dict[str, Any]:
    """The JSON Schema of the config file: `Config`'s keys, and each gate's section."""
    from agentops_hooks.config_model import model as _model

    schema = schema_of(_model(Config), "config.schema.json", "agentops-hooks configuration (.agentops.toml)")
    properties = schema["properties"]
    for key in ("sections", "source"):
        properties.pop(key, None)
    defs = schema.setdefault("$defs", {})
    for name, cls in sections.classes().items():
        section = schema_of(_model(cls), "", "")
        for key in ("$schema", "$id"):
            section.pop(key)
        section["title"] = cls.__name__
        defs.update(section.pop("$defs", {}))
        defs[cls.__name__] = section
        properties[name] = {"$ref": f"#/$defs/{cls.__name__}"}
    schema["$defs"] = dict(sorted(defs.items()))
    return schema


def schema_of(model: type, file_name: str, title: str) -> dict[str, Any]:
    """A JSON Schema generated by pydantic from one of our models."""
    from pydantic import TypeAdapter

    schema: dict[str, Any] = TypeAdapter(model).json_schema(
        mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://agentops-hooks.dev/schemas/{file_name}"
    schema["title"] = title
    return schema
