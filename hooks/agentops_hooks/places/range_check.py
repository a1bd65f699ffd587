"""Every enabled gate over every commit of a range: CI, pre-push and the server.

The same gate code as at commit time, on the committed form of each change.
The range is read in a constant number of git processes however long it is
(rev-list, cat-file, diff-tree|patch-id, diff-tree --numstat, the notes).
"""
from __future__ import annotations

import gc
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from agentops_hooks import gates as gate_runner
from agentops_hooks.authorship import AgentSignal
from agentops_hooks.change import CommitChange
from agentops_hooks.change import DiffFeed
from agentops_hooks.change import load_commits
from agentops_hooks.config import Config
from agentops_hooks.errors import FatalError
from agentops_hooks.findings import Finding
from agentops_hooks.git import GitError
from agentops_hooks.git import Repo
from agentops_hooks.git import paths_of_patch
from agentops_hooks.evidence.notes import VERDICTS_REF
from agentops_hooks.render import who
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
    """The outcome of checking a range."""

    label: str
    results: list[CommitResult]
    """Oldest first."""
    notices: list[str] = field(default_factory=list)
    range_findings: list[Finding] = field(default_factory=list)

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
) -> RangeReport:
    """Run the gates on every commit `git rev-list REVS` names.

    `trust_commit` holds the trust roots every commit is checked against (the
    range's base, the protected ref's old tip); without one, each commit's parent.
    """
    # A range makes a few objects per commit and no cycles: the cyclic
    # collector would only walk them again and again (a tenth of the run).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _check_range(repo, config, revs, label, gates, verdicts_tip, notes_fix, trust_commit)
    finally:
        if collecting:
            gc.enable()


def _check_range(
    repo: Repo, config: Config, revs: Sequence[str], label: str,
    gates: Sequence[str] | None, verdicts_tip: str | None, notes_fix: str | None,
    trust_commit: str | None,
) -> RangeReport:
    selected = list(gates if gates is not None else config.gates)
    keep_words: tuple[bytes, ...] = ()
    if "privilege" in selected and config.section(PrivilegeConfig).secrets:
        from agentops_hooks.gates.privilege import SECRET_HINTS

        keep_words = tuple(h.encode() for h in SECRET_HINTS)
    # git's diff pipeline starts now and waits for the commits to diff, which
    # are known once the messages say who wrote what: the commits some gate
    # applies to (with the default policy, the agents'), in the order they
    # are judged. The others get a second pipeline, only if asked.
    feed = DiffFeed(repo, keep_words=keep_words)
    changes: list[CommitChange] = []
    plans: list[tuple[list[str], list[str]]] = []
    try:
        try:
            changes = load_commits(repo, revs, defer=True)
        except GitError as e:
            raise FatalError(f"cannot read {label}: {e}") from None
        _require_full_history(repo, changes, label)
        changes.reverse()  # oldest first, as people read history
        report = RangeReport(label, [])
        if not changes:
            report.notices.append(f"{label} holds no commits: nothing to check")
            return report
        evidence = gate_runner.Evidence(repo)
        evidence.batch = changes
        evidence.verdicts_tip = verdicts_tip
        evidence.trust_commit = trust_commit
        tip = changes[-1]
        contexts = [gate_runner.Context(c, config, evidence, range_changes=changes)
                    for c in changes]
        _find_merge_adds(repo, changes, contexts, selected, label)
        for change, ctx in zip(changes, contexts):
            plans.append(_plan(change, ctx, selected, tip))
            if plans[-1][0]:
                feed.want(change)
    finally:  # always end git's input, or its pipeline waits for more
        feed.later([change for change, (run, _) in zip(changes, plans) if not run])
    for change, ctx, (run, skipped) in zip(changes, contexts, plans):
        findings = gate_runner.run(ctx, run)
        report.results.append(CommitResult(change, ctx.agent_signals, findings, skipped))
    if "ratchet" in selected and config.section(RatchetConfig).metrics and tip.commit != repo.head():
        report.notices.append(
            f"the ratchet measured the work tree (HEAD {str(repo.head())[:12]}), not the newest "
            f"commit of the range ({tip.label}): check out that commit for a true measurement",
        )
    if not evidence.has_verdict_notes:
        _explain_missing_notes(report, notes_fix or f"fetch the notes first ({NOTES_FETCH}) and run again")
    return report


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


def _explain_missing_notes(report: RangeReport, fix: str) -> None:
    """No verdict notes in this clone: say so once, instead of 'unjudged' on every commit."""
    unjudged = [r for r in report.results if any(f.rule == "verdict-missing" for f in r.findings)]
    if not unjudged:
        return
    for r in unjudged:
        r.findings = [f for f in r.findings if f.rule != "verdict-missing"]
        r.unjudged = True
    names = ", ".join(r.change.label for r in unjudged[:8])
    more = f" and {len(unjudged) - 8} more" if len(unjudged) > 8 else ""
    report.range_findings.append(Finding(
        "VII", "verdict", "verdict-notes-missing",
        f"{len(unjudged)} agent commit(s) carry no Verdict trailer ({names}{more}), and this "
        f"clone has no {VERDICTS_REF}: verdicts recorded in notes were not fetched, so they "
        "cannot be checked.",
        f"{fix}; if there are none, those commits are unjudged",
    ))


# --- output ----------------------------------------------------------------------

def render_text(report: RangeReport, color: bool = False) -> str:
    """Findings grouped by commit, colour on a terminal."""
    def style(text: str, fg: str, bold: bool = False) -> str:
        if not color:
            return text
        import click

        return click.style(text, fg=fg, bold=bold)

    lines = [f"agentops: checking {report.label}: {len(report.results)} commit(s)"]
    lines += [f"agentops: {n}" for n in report.notices]
    for r in report.results:
        errors = [f for f in r.findings if f.severity == "error"]
        mark = (style("FAIL", "red", True) if errors
                else style("warn", "yellow") if r.findings
                else style("??", "yellow", True) if r.unjudged else style("ok", "green"))
        lines.append(f"{mark}  {r.change.label}  {r.change.subject[:60]}  ({who(r.signals)})")
        for f in r.findings:
            kind = "" if f.severity == "error" else "warning: "
            lines.append(f"      [{f.factor} {f.gate}] {kind}{style(f.rule, 'red')}: {f.message}")
            lines.append(f"      fix: {f.fix}")
    for f in report.range_findings:
        lines.append(f"{style('FAIL', 'red', True)}  [{f.factor} {f.gate}] {f.rule}: {f.message}")
        lines.append(f"      fix: {f.fix}")
    count = len(report.findings)
    lines.append(f"agentops: {count} finding(s) in {report.label}" if count
                 else f"agentops: {report.label} passed")
    return "\n".join(lines)


def render_json(report: RangeReport) -> str:
    def finding(f: Finding) -> dict[str, Any]:
        return f._asdict()

    return json.dumps({
        "range": report.label,
        "passed": report.passed,
        "notices": report.notices,
        "commits": [{
            "commit": r.change.commit, "subject": r.change.subject,
            "patch_id": r.change.patch_id, "agent": bool(r.signals),
            "why": [{"agent": s.agent, "reason": s.reason} for s in r.signals],
            "skipped": r.skipped,
            "unjudged_notes_missing": r.unjudged,
            "findings": [finding(f) for f in r.findings],
        } for r in report.results],
        "range_findings": [finding(f) for f in report.range_findings],
    }, indent=2)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: RangeReport) -> str:
    """GitHub Actions workflow commands: one ::error per finding, a ::notice per notice."""
    lines = [f"::notice title=agentops::{_escape_data(n)}" for n in report.notices]
    for r in report.results:
        for f in r.findings:
            title = _escape_property(f"agentops {f.factor} {f.rule} ({r.change.label})")
            body = _escape_data(f"{r.change.subject}\n{f.message}\nfix: {f.fix}")
            command = "error" if f.severity == "error" else "warning"
            lines.append(f"::{command} title={title}::{body}")
    for f in report.range_findings:
        title = _escape_property(f"agentops {f.factor} {f.rule}")
        lines.append(f"::error title={title}::{_escape_data(f.message + chr(10) + 'fix: ' + f.fix)}")
    lines.append(render_text(report))
    return "\n".join(lines)


def render_markdown(report: RangeReport) -> str:
    """A summary for pull requests and GITHUB_STEP_SUMMARY."""
    status = "passed" if report.passed else f"{len(report.findings)} finding(s)"
    lines = [f"### agentops: {report.label} {status}", ""]
    lines += [f"> {n}" for n in report.notices]
    lines += ["| commit | subject | author | result |", "|---|---|---|---|"]
    for r in report.results:
        result = ", ".join(f"`{f.rule}`" for f in r.findings) or (
            "unjudged? (notes missing)" if r.unjudged else "ok")
        subject = r.change.subject.replace("|", "\\|")[:70]
        author = "agent" if r.signals else "human"
        lines.append(f"| `{r.change.label}` | {subject} | {author} | {result} |")
    details = [(r.change.label, f) for r in report.results for f in r.findings]
    details += [("range", f) for f in report.range_findings]
    if details:
        lines += ["", "#### Findings", ""]
        for label, f in details:
            lines.append(f"- **{label}** [{f.factor} {f.gate}] `{f.rule}`: {f.message}  ")
            lines.append(f"  fix: `{f.fix}`")
    return "\n".join(lines) + "\n"


def write_step_summary(markdown: str) -> None:
    """Append to $GITHUB_STEP_SUMMARY when running in GitHub Actions."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(markdown)
