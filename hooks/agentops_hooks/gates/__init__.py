"""The gates: one module per factor, each `check(change, ctx) -> list[Finding]`.

A gate is one module, and this package finds them by listing itself: each
declares `FACTOR` (the doctrine's numeral), `GATE` (its name, the module's),
`PHASE`, `SETTINGS` (its config section, a frozen dataclass whose fields are
the `[GATE]` table's keys) and `check()`. The policy's model and the registry
are assembled from them (`SECTIONS`, `policy`), so adding a gate is adding a
module and its docs page. A gate knows nothing about where it runs; the runner
builds the Context once per change and imports only the gates it is asked for.
"""
from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from collections.abc import Sequence
from functools import cached_property
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple
from typing import Any
from typing import TYPE_CHECKING

from agentops_hooks.agent_catalog import Marker
from agentops_hooks.agent_catalog import configured_markers
from agentops_hooks.authorship import AI_NOTES_REF
from agentops_hooks.authorship import AgentRules
from agentops_hooks.authorship import AgentSignal
from agentops_hooks.authorship import detect_agent
from agentops_hooks import config as config_file
from agentops_hooks.config import Config
from agentops_hooks.evidence.refs import VERDICTS_REF

if TYPE_CHECKING:
    from agentops_hooks.change import Change
    from agentops_hooks.config import AgentsConfig
    from agentops_hooks.ratchet.metrics import MetricConfig
    from agentops_hooks.findings import Finding
    from agentops_hooks.git import Repo
    from unidiff.patch import PatchSet

    from agentops_hooks.evidence.notes import VerdictIndex



class Evidence:
    """What the repository holds about changes: notes and trusted files, read once.

    One Evidence serves every change of a range, so the notes are read in a
    constant number of git processes however many commits are checked.
    """

    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        self._signers: dict[tuple[str | None, str], bytes | None] = {}
        self._measured: dict[str, float] | None = None
        self.fail_index: dict[tuple[str, str], set[tuple[str, str]]] | None = None
        """Gate XI's FAIL verdicts by (task, worker), built on first use."""
        self.verdicts_tip: str | None = None
        """Read the verdict notes at this commit (a value being pushed), not the ref's."""
        self._batch: Sequence[Change] = ()
        self._in_batch: frozenset[int] = frozenset()
        self._patches_for: dict[tuple[str, ...], dict[str, bytes]] = {}
        self.trust_commit: str | None = None
        """Where trust roots (the allowed signers) are read in a range check: the
        range's base, or the protected ref's old tip; never a commit being judged."""
        self.outside_signers: tuple[bytes, str] | None = None
        """An allowed-signers file from outside the repository (`--trust FILE`, the
        server's agentops.allowedSigners) and what to call it: wins over the tree's."""
        self._patches_of: tuple[int, frozenset[str]] | None = None
        self.require_signature = False
        """Signatures required whatever the policy says (the enforcement point says so)."""
        self.kept_words: tuple[bytes, ...] = ()
        """The words the range's patch stream keeps patches for (see git.PatchStream)."""
        self.fired: list[Any] = []
        """The constraints gate X found broken (gates._constraints.Fired), for the place to count."""

    @cached_property
    def ai_notes(self) -> dict[str, bytes | str]:
        """git-ai's authorship notes (refs/notes/ai) by commit, read once: a note's
        bytes, or why it cannot be read (its blob is missing)."""
        if not self.repo.has_ref(AI_NOTES_REF):
            return {}
        from agentops_hooks.evidence.notes import NotesRef

        ref = NotesRef(self.repo, AI_NOTES_REF)
        tip = ref.tip()
        paths = ref.paths(tip) if tip else {}
        blobs = self.repo.read_blobs(sorted({blob for _, blob in paths.values()}))
        return {target: blobs.get(blob, f"its blob {blob[:12]} is missing")
                for target, (_, blob) in paths.items()}

    @cached_property
    def verdicts(self) -> VerdictIndex:
        from agentops_hooks.evidence.notes import VerdictIndex

        return VerdictIndex.load(self.repo, tip=self.verdicts_tip)

    @property
    def has_verdict_notes(self) -> bool:
        """Are there verdict notes to read (in the clone, or in the push)?"""
        return self.verdicts_tip is not None or self.repo.has_ref(VERDICTS_REF)

    def patches_of(self, changes: Sequence[Change]) -> frozenset[str]:
        """The patch-ids of the commits judged together (read once per range: every
        context of a range check holds the same sequence)."""
        key = id(changes)
        if self._patches_of is None or self._patches_of[0] != key:
            self._patches_of = (key, frozenset(c.patch_id for c in changes))
        return self._patches_of[1]

    @property
    def batch(self) -> Sequence[Change]:
        """The commits of a range check, whose patches are read together."""
        return self._batch

    @batch.setter
    def batch(self, changes: Sequence[Change]) -> None:
        self._batch = changes
        self._in_batch = frozenset(id(c) for c in changes)
        self._patches_for.clear()

    def in_batch(self, change: Change) -> bool:
        """Is the change one of the range's commits? (A set: asked once per commit.)"""
        return id(change) in self._in_batch

    def patch_for(self, change: Change, pathspecs: Sequence[str]) -> PatchSet:
        """`change.patch_for`; in a range check, the first call reads these paths'
        patches of every commit in one git process, and each commit takes its own."""
        if not (change.commit and self.in_batch(change)):
            return change.patch_for(pathspecs)
        from agentops_hooks.change import patches_for

        key = tuple(pathspecs)
        if key not in self._patches_for:
            self._patches_for[key] = patches_for(self.repo, self._batch, key)
        return change.take_patch_for(key, self._patches_for[key])

    def measured(self, metrics: Mapping[str, MetricConfig], root: Path) -> dict[str, float]:
        """Every metric measured once in the work tree, however many changes ask."""
        from agentops_hooks.ratchet.metrics import measure

        if self._measured is None:
            self._measured = {name: measure(name, m, root) for name, m in metrics.items()}
        return self._measured

    def file_at(self, commit: str | None, path: str) -> bytes | None:
        """A tracked file as it is in `commit` (None: unborn, so no file)."""
        key = (commit, path)
        if key not in self._signers:
            content = None
            if commit is not None:
                content = self.repo.read_file(f"{commit}:{path}") or None
            self._signers[key] = content
        return self._signers[key]


class MergeAdds(NamedTuple):
    """What a merge adds beyond its parents, as a range check found it."""

    clean: bool
    """Its remerge diff is empty: it brings only what its parents hold."""
    paths: tuple[str, ...] = ()
    """The paths its remerge diff touches."""
    octopus: bool = False
    """An octopus merge, which git cannot remerge (never clean: judged as a whole)."""


class Context:
    """What a gate may consult besides the change: the policy, who wrote it, the evidence.

    `range_changes`: the other commits judged together with this one (a pushed
    or checked range). `merge_adds`: for a merge in a range check, what it adds
    beyond its parents (None: not asked)."""

    def __init__(self, change: Change, config: Config, evidence: Evidence | None = None,
                 range_changes: Sequence[Change] = (), merge_adds: MergeAdds | None = None) -> None:
        self.change = change
        self.config = config
        self.evidence = evidence if evidence is not None else Evidence(change.repo)
        self.range_changes = range_changes
        self.merge_adds = merge_adds

    @property
    def store(self) -> Evidence:
        assert self.evidence is not None
        return self.evidence

    @property
    def trust_base(self) -> str | None:
        """The commit whose tree holds the trust roots (allowed signers) the
        change is checked against: the range's trusted commit, else its parent."""
        return self.store.trust_commit or self.change.base

    @cached_property
    def agent_signals(self) -> list[AgentSignal]:
        """Why this change counts as an agent's (empty: a human's)."""
        change = self.change
        note = self.store.ai_notes.get(change.commit) if change.commit else None
        rules, known = _agent_rules(self.config.agents)
        return detect_agent(
            change.author,
            change.committer,
            change.trailers,
            change.env,
            rules,
            message=change.detection_text,
            ai_note=note,
            known=known,
            defects=change.defects,
        )

    def applies(self, required_for: str) -> bool:
        """Does an agent-only (or everyone) rule apply to this change?"""
        return required_for == "everyone" or bool(self.agent_signals)


@lru_cache(maxsize=8)
def _agent_rules(agents: AgentsConfig) -> tuple[AgentRules, tuple[Marker, ...]]:
    """The `[agents]` section as detection takes it: the older rules, and the
    markers of `[[agents.known]]`."""
    rules = AgentRules(agents.emails, agents.patterns, agents.env, agents.trailers)
    if not agents.known:
        return rules, ()
    return rules, configured_markers([
        {"id": a.id, "name": a.name, "markers": [
            {"id": m.id, "kind": m.kind, "value": m.value, "roles": m.roles, "source": m.source,
             "hints": m.hints}
            for m in a.markers]}
        for a in agents.known])


def applies(ctx: Context, gate: str) -> bool:
    """Does the gate judge this change? Its section's `required_for` says whose
    changes it judges: "agents" (theirs only) or "everyone". Every gate's
    check() begins with this question; callers ask it to plan (what to diff)."""
    section = settings(ctx.config, gate)
    # A section with rules for two audiences says whose changes any of them judges.
    audience = getattr(section, "audience", None) or getattr(section, "required_for", "everyone")
    return ctx.applies(str(audience))


def settings(config: Config, gate: str) -> Any:
    """The gate's section of `config` (its defaults where the file says nothing).

    Asked several times a commit in a range check, about the same few configs:
    kept by config identity (a config is never changed, only replaced)."""
    key = (id(config), gate)
    kept = _SETTINGS.get(key)
    if kept is not None and kept[0] is config:
        return kept[1]
    found = config.section(module(gate).SETTINGS)
    _SETTINGS[key] = (config, found)
    return found


_SETTINGS: dict[tuple[int, str], tuple[Config, Any]] = {}


def module(name: str) -> Any:
    """The gate's module, imported on first use."""
    found = _MODULES.get(name)
    if found is None:
        if name not in SECTIONS.names():
            raise KeyError(name)
        found = _MODULES[name] = importlib.import_module(f"agentops_hooks.gates.{name}")
    return found


def run(ctx: Context, gates: Sequence[str] | None = None) -> list[Finding]:
    """Run the named gates (default: those the config enables) on the context's change."""
    findings: list[Finding] = []
    # The verdict binds the patch every other gate's fix may change: its findings come last.
    for name in sorted(gates if gates is not None else ctx.config.gates, key=lambda g: g == "verdict"):
        found = module(name).check(ctx.change, ctx)  # each gate first asks if it applies
        if getattr(settings(ctx.config, name), "severity", "error") == "warning":
            found = [f._replace(severity="warning") for f in found]
        findings.extend(found)
    return findings


_POLICY_FILES = frozenset(("pyproject.toml", ".agentops.toml"))


def run_staged(ctx: Context, gates: Sequence[str] | None = None, *, explicit: bool = False) -> list[Finding]:
    """`run` for the commit about to be made, whose policy is the work tree's.

    An agent's change to the policy files is also judged by the policy its base
    commits: else its own `gates = []` would switch off the gate that refuses it.
    With `explicit`, `gates` were asked for by name and are run under both.
    """
    findings = run(ctx, gates)
    change = ctx.change
    if not ctx.agent_signals or change.base is None or not any(
            p.path in _POLICY_FILES or p.old_path in _POLICY_FILES for p in change.paths):
        return findings
    committed = policy_at(change.repo, change.base)
    again = run(Context(change, committed, ctx.evidence), gates if explicit else committed.gates)
    return findings + [f for f in again if f not in findings]


_MODULES: dict[str, Any] = {}


class _Sections:
    """The gate modules of this package, as the policy's model needs them."""

    @lru_cache(maxsize=1)  # noqa: B019 - one instance, for the process's life
    def names(self) -> frozenset[str]:
        # A directory listing, not pkgutil (which imports inspect): this runs on every commit.
        return frozenset(entry.name[:-3] for entry in os.scandir(os.path.dirname(__file__))
                         if entry.name.endswith(".py") and not entry.name.startswith("_"))

    def classes(self) -> dict[str, type]:
        found = [module(name) for name in self.names()]
        found.sort(key=lambda m: _NUMERALS.index(m.FACTOR))
        return {m.GATE: m.SETTINGS for m in found}

    def stamp(self) -> tuple[object, ...]:
        here = Path(__file__).parent
        return tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in here.glob("*.py")))


_NUMERALS = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")
SECTIONS = _Sections()
"""Every gate's config section: what `config` validates a policy file against."""


def names() -> tuple[str, ...]:
    """Every gate's name, in factor order (imports them all)."""
    return tuple(SECTIONS.classes())


def policy(root: Path | None, cache_dir: Path | None = None) -> Config:
    """The policy of the work tree at `root` (see `config.load`)."""
    return config_file.load(root, SECTIONS, cache_dir)


def policy_at(repo: Repo, commit: str) -> Config:
    """The policy committed in `commit` (see `config.load_at`)."""
    return config_file.load_at(repo, commit, SECTIONS)


def gates_for_phase(phase: str, enabled: Sequence[str] = config_file.DEFAULT_GATES) -> tuple[str, ...]:
    """`enabled` and the gates of `phase` and of every phase before it, in factor
    order: a phase adds gates, it never turns one off."""
    if phase not in config_file.PHASES:
        raise config_file.ConfigError(f"unknown phase {phase!r} (one of {', '.join(config_file.PHASES)})")
    upto = config_file.PHASES[:config_file.PHASES.index(phase) + 1]
    return tuple(name for name in names() if module(name).PHASE in upto or name in enabled)
