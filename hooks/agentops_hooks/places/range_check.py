"""Every enabled gate over every commit of a range: CI, pre-push and the server.

The same gate code as at commit time, on the committed form of each change.
The range is read in a constant number of git processes however long it is
(rev-list, cat-file, diff-tree|patch-id, diff-tree --numstat, the notes).
"""
from __future__ import annotations

import gc
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field

from agentops_hooks import gates as gate_runner
from agentops_hooks.authorship import AgentSignal
from agentops_hooks.change import CommitChange
from agentops_hooks.change import DiffFeed
from agentops_hooks.change import load_commits
from agentops_hooks.config import Config
from agentops_hooks.errors import FatalError
from agentops_hooks.findings import Finding
from agentops_hooks.git import GitError
from agentops_hooks.git import UnreadableCommit
from agentops_hooks.git import Repo
from agentops_hooks.git import paths_of_patch
from agentops_hooks.evidence.notes import VERDICTS_REF
from agentops_hooks.evidence.verdicts import UNSIGNED_ACCEPTED
from agentops_hooks.gates.privilege import PrivilegeConfig
from agentops_hooks.gates.ratchet import RatchetConfig
from agentops_hooks.gates.verdict import VerdictConfig

NOTES_FETCH = "git fetch origin '+refs/notes/agentops/*:refs/notes/agentops/*'"
# Gates that judge the work of a commit. A merge brings work judged on its
# branches, so gate VII judges only what it adds beyond its parents, and the
# others skip it (unless verdict.merges asks to judge every merge as a whole).
_WORK_GATES = ("verdict", "learnings", "supervise")


@dataclass
class CommitResult:
    """One commit of the range and what the gates said."""

    change: CommitChange
    signals: list[AgentSignal]
    findings: list[Finding]
    skipped: list[str] = field(default_factory=list)
    unjudged: bool = False
    """No verdict trailer, and no notes to look in (see verdict-notes-missing)."""


@dataclass
class RangeReport:
    """The outcome of checking a range, every commit's result held."""

    label: str
    results: list[CommitResult]
    """Oldest first."""
    notices: list[str] = field(default_factory=list)
    range_findings: list[Finding] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.results)

    def each(self) -> Iterator[CommitResult]:
        return iter(self.results)

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.results for f in r.findings] + self.range_findings

    @property
    def passed(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)


def resolve_range(repo: Repo, spec: str) -> list[str]:
    """`BASE..HEAD` as rev-list args; `BASE...HEAD` means from their merge base.

    Both ends must be given (an empty end is usually an unset CI variable);
    a single revision means its whole history.
    """
    if not spec.strip() or spec.startswith("-"):
        raise FatalError(f"{spec!r} is not a range: use BASE..HEAD")
    triple = "..." in spec
    ends = spec.split("...") if triple else spec.split("..")
    if len(ends) > 2 or (len(ends) == 2 and not all(e.strip() for e in ends)):
        raise FatalError(f"{spec!r} is not a range: use BASE..HEAD, both ends given "
                         "(an empty end is often an unset CI variable)")
    for end in ends:
        if repo.resolve(end) is None:
            hint = ""
            if repo.is_shallow():
                hint = (" (this is a shallow clone: fetch the full history, "
                        "e.g. fetch-depth: 0 in actions/checkout)")
            raise FatalError(f"{end!r} in {spec!r} does not name a commit here{hint}")
    if triple:
        base = repo.git("merge-base", ends[0], ends[1], ok_codes=(0, 1)).decode().strip()
        if not base:
            raise FatalError(f"{ends[0]!r} and {ends[1]!r} share no history")
        return [f"{base}..{ends[1]}"]
    return [spec]


def range_base(repo: Repo, spec: str) -> str | None:
    """The commit a `BASE..HEAD` range starts from (its trusted policy), if any."""
    if ".." not in spec:
        return None
    left = spec.split("...")[0] if "..." in spec else spec.split("..")[0]
    return repo.resolve(left)


def _require_full_history(repo: Repo, changes: Sequence[CommitChange], label: str) -> None:
    """A shallow clone must not silently check a shorter range than asked."""
    if not repo.is_shallow():
        return
    # Every parent: a merge's other parents name the commits it merges (and
    # its remerge diff needs them all).
    present = repo.read_blobs(sorted({p for c in changes for p in c.parents}))
    cut = [c for c in changes if any(p not in present for p in c.parents)]
    if cut:
        which = "a parent" if cut[0].is_merge else "the parent"
        raise FatalError(
            f"{label} reaches past the history of this shallow clone ({which} of "
            f"{cut[0].label} is missing): fetch the full history (fetch-depth: 0 in "
            "actions/checkout, or git fetch --unshallow) and run again",
        )


def check_range(
    repo: Repo, config: Config, revs: Sequence[str], label: str,
    gates: Sequence[str] | None = None, verdicts_tip: str | None = None,
    notes_fix: str | None = None, trust_commit: str | None = None,
    outside_signers: tuple[bytes, str] | None = None, require_signature: bool = False,
) -> RangeReport:
    """Run the gates on every commit `git rev-list REVS` names; every result held
    (start_range gives them one at a time)."""
    run = start_range(repo, config, revs, label, gates, verdicts_tip, notes_fix, trust_commit,
                      outside_signers, require_signature)
    results = list(run.each())
    return RangeReport(label, results, run.notices, run.range_findings)


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    # A range makes a few objects per commit and no cycles: the cyclic
    # collector would only walk them again and again (a tenth of the run).
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


class RangeRun:
    """A range being checked: `each()` judges its commits one at a time, oldest
    first, as git's patch stream passes them, and forgets each once it is given,
    so that a writer can stream the output (memory does not grow with the
    output). `range_findings` and `passed` are known once `each()` is done."""

    def __init__(self, label: str, count: int = 0) -> None:
        self.label = label
        self.count = count
        self.notices: list[str] = []
        self.range_findings: list[Finding] = []
        self.refused = False
        self.changes: list[CommitChange] = []
        """The range's commits, oldest first."""
        self._steps: list[tuple[CommitChange, gate_runner.Context, list[str], list[str]]] = []
        self._feed: DiffFeed | None = None
        self._notes_fix = ""
        self._has_notes = True

    @property
    def passed(self) -> bool:
        return not self.refused and not any(f.severity == "error" for f in self.range_findings)

    def each(self) -> Iterator[CommitResult]:
        unjudged: list[str] = []
        steps, self._steps = self._steps, []
        try:
            with _no_cyclic_gc():
                for change, ctx, run, skipped in steps:
                    result = _judge(change, ctx, run, skipped)
                    change.judged()
                    if not self._has_notes and any(f.rule == "verdict-missing" for f in result.findings):
                        result.findings = [f for f in result.findings if f.rule != "verdict-missing"]
                        result.unjudged = True
                        unjudged.append(change.label)
                    self.refused |= any(f.severity == "error" for f in result.findings)
                    yield result
        finally:
            if self._feed is not None:
                self._feed.stop()
        if unjudged:
            self.range_findings.append(_notes_missing(unjudged, self._notes_fix))


def _judge(
    change: CommitChange, ctx: gate_runner.Context, run: list[str], skipped: list[str],
) -> CommitResult:
    """One commit's result; a commit git cannot read is refused, never passed."""
    try:
        findings = gate_runner.run(ctx, run)
    except UnreadableCommit as e:
        findings = [Finding(
            "VII", "verdict", "commit-unreadable",
            f"commit {change.label} cannot be read ({e.error}), so no gate can judge it: an "
            "object it needs is missing (a partial clone that cannot fetch it, or a damaged "
            "repository).",
            "fetch the missing objects (git fetch --refetch origin, or clone again; git fsck "
            "names them) and run again", commit=change.commit,
        )]
    return CommitResult(change, ctx.agent_signals, findings, skipped)


def start_range(
    repo: Repo, config: Config, revs: Sequence[str], label: str,
    gates: Sequence[str] | None = None, verdicts_tip: str | None = None,
    notes_fix: str | None = None, trust_commit: str | None = None,
    outside_signers: tuple[bytes, str] | None = None, require_signature: bool = False,
) -> RangeRun:
    """Read the commits `git rev-list REVS` names and plan their gates; the
    RangeRun judges them when asked.

    `trust_commit` holds the trust roots every commit is checked against (the
    range's base, the protected ref's old tip); without one, each commit's parent.
    `outside_signers` (content, what to call it) wins over any allowed-signers file in
    the tree; `require_signature` counts only signed verdicts whatever the policy says.
    """
    with _no_cyclic_gc():
        return _start_range(repo, config, revs, label, gates, verdicts_tip, notes_fix, trust_commit,
                            outside_signers, require_signature)


def _start_range(
    repo: Repo, config: Config, revs: Sequence[str], label: str,
    gates: Sequence[str] | None, verdicts_tip: str | None, notes_fix: str | None,
    trust_commit: str | None, outside_signers: tuple[bytes, str] | None = None,
    require_signature: bool = False,
) -> RangeRun:
    selected = list(gates if gates is not None else config.gates)
    keep_words: tuple[bytes, ...] = ()
    if "privilege" in selected and config.section(PrivilegeConfig).secrets:
        from agentops_hooks.gates.privilege import SECRET_HINTS

        keep_words = tuple(h.encode() for h in SECRET_HINTS)
    if "knowledge" in selected:
        from agentops_hooks.gates.knowledge import constraint_words

        keep_words += constraint_words(repo, trust_commit or repo.head())
    # git's diff pipeline starts now and waits for the commits to diff, which
    # are known once the messages say who wrote what: the commits some gate
    # applies to (with the default policy, the agents'), in the order they
    # are judged. The others get a second pipeline, only if asked.
    feed = DiffFeed(repo, keep_words=keep_words)
    changes: list[CommitChange] = []
    plans: list[tuple[list[str], list[str]]] = []
    run = RangeRun(label)
    try:
        try:
            changes = load_commits(repo, revs, defer=True)
        except GitError as e:
            raise FatalError(f"cannot read {label}: {e}") from None
        _require_full_history(repo, changes, label)
        changes.reverse()  # oldest first, as people read history
        if "verdict" in selected and not (
                require_signature or gate_runner.settings(config, "verdict").require_signature):
            run.notices.append(UNSIGNED_ACCEPTED)
        if not changes:
            run.notices.append(f"{label} holds no commits: nothing to check")
            return run
        evidence = gate_runner.Evidence(repo)
        evidence.batch = changes
        evidence.verdicts_tip = verdicts_tip
        evidence.trust_commit = trust_commit
        evidence.outside_signers = outside_signers
        evidence.require_signature = require_signature
        evidence.kept_words = keep_words
        tip = changes[-1]
        contexts = [gate_runner.Context(c, config, evidence, range_changes=changes)
                    for c in changes]
        _find_merge_adds(repo, changes, contexts, selected, label)
        for change, ctx in zip(changes, contexts):
            plans.append(_plan(change, ctx, selected, tip))
            if plans[-1][0]:
                feed.want(change)
    except BaseException:
        feed.stop()
        raise
    finally:  # always end git's input, or its pipeline waits for more
        feed.later([change for change, (planned, _) in zip(changes, plans) if not planned])
    run.count = len(changes)
    run.changes = changes
    run._steps = [(c, ctx, planned, skipped) for c, ctx, (planned, skipped) in zip(changes, contexts, plans)]
    run._feed = feed
    run._has_notes = evidence.has_verdict_notes
    run._notes_fix = notes_fix or f"fetch the notes first ({NOTES_FETCH}) and run again"
    if "ratchet" in selected and config.section(RatchetConfig).metrics and tip.commit != repo.head():
        run.notices.append(
            f"the ratchet measured the work tree (HEAD {str(repo.head())[:12]}), not the newest "
            f"commit of the range ({tip.label}): check out that commit for a true measurement",
        )
    return run


def _find_merge_adds(
    repo: Repo, changes: Sequence[CommitChange], contexts: Sequence[gate_runner.Context],
    selected: Sequence[str], label: str,
) -> None:
    """Set `merge_adds` on each merge gate VII would judge (with the default
    policy, the agents'), from one git process for all their remerge diffs:
    a human's merge costs nothing."""
    if "verdict" not in selected or not contexts or contexts[0].config.section(VerdictConfig).merges:
        return
    judged = [(change, ctx) for change, ctx in zip(changes, contexts)
              if change.is_merge and gate_runner.applies(ctx, "verdict")]
    if not judged:
        return
    try:
        diffs = repo.remerge_diffs([c.commit or "" for c, _ in judged if len(c.parents) == 2])
    except GitError as e:
        raise FatalError(f"cannot tell what the merges of {label} add beyond their "
                         f"parents: {e}") from None
    for change, ctx in judged:
        if len(change.parents) > 2:  # git has no remerge diff for an octopus
            ctx.merge_adds = gate_runner.MergeAdds(clean=False, octopus=True)
        else:
            patch = diffs[change.commit or ""]
            paths = dict.fromkeys(path for _, path, _ in paths_of_patch(patch))
            ctx.merge_adds = gate_runner.MergeAdds(not patch.strip(), tuple(paths))


def _merge_skip(gate: str, ctx: gate_runner.Context) -> str | None:
    """Why a work gate skips this merge (None: it does not, if it applies)."""
    if gate != "verdict":
        return f"{gate} (merge commit: judged on the commits it merges; verdict.merges = false)"
    if ctx.merge_adds is not None and ctx.merge_adds.clean:
        return "verdict (clean merge: its remerge diff is empty, it adds nothing beyond its parents)"
    return None


def _plan(
    change: CommitChange, ctx: gate_runner.Context, selected: Sequence[str], tip: CommitChange,
) -> tuple[list[str], list[str]]:
    """The gates that apply to this commit, and why the others are skipped."""
    config = ctx.config
    run: list[str] = []
    skipped: list[str] = []
    for gate in selected:
        if gate == "ratchet" and change is not tip:
            skipped.append("ratchet (measured once, on the newest commit)")
        elif (change.is_merge and gate in _WORK_GATES and not config.section(VerdictConfig).merges
              and (reason := _merge_skip(gate, ctx)) is not None):
            skipped.append(reason)
        elif gate_runner.applies(ctx, gate):
            run.append(gate)
    return run, skipped


def _notes_missing(unjudged: Sequence[str], fix: str) -> Finding:
    """No verdict notes in this clone: said once, instead of 'unjudged' on every commit."""
    names = ", ".join(unjudged[:8])
    more = f" and {len(unjudged) - 8} more" if len(unjudged) > 8 else ""
    return Finding(
        "VII", "verdict", "verdict-notes-missing",
        f"{len(unjudged)} agent commit(s) carry no Verdict trailer ({names}{more}), and this "
        f"clone has no {VERDICTS_REF}: verdicts recorded in notes were not fetched, so they "
        "cannot be checked.",
        f"{fix}; if there are none, those commits are unjudged",
    )


# The output, written as the commits are judged, is in range_output; these
# are its renderers of a whole report, for the places that print one.
from agentops_hooks.places.range_output import render_github
from agentops_hooks.places.range_output import render_json
from agentops_hooks.places.range_output import render_markdown
from agentops_hooks.places.range_output import render_text

__all__ = ["CommitResult", "RangeReport", "RangeRun", "check_range", "range_base", "render_github",
           "render_json", "render_markdown", "render_text", "resolve_range", "start_range"]
