"""`agentops review`: every commit of a range with its author kind and its verdicts."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from agentops_hooks import gates as gate_runner
from agentops_hooks.change import CommitChange
from agentops_hooks.config import Config
from agentops_hooks.gates import verdict as verdict_gate
from agentops_hooks.git import Repo
from agentops_hooks.render import who
from agentops_hooks.gates.verdict import VerdictConfig


@dataclass
class VerdictView:
    """One verdict as the review shows it."""

    status: str
    judge: str
    where: str
    bound: bool
    signed: str
    """"verified", "invalid: why", "unsigned", or "not checked" (no allowed signers)."""
    judges: str = ""
    """An automated verdict: each judge's status and time (`agentops judge --explain`
    prints their commands and output)."""


@dataclass
class ReviewRow:
    """One commit of the review."""

    commit: str
    subject: str
    agent: bool
    why: str
    verdicts: list[VerdictView] = field(default_factory=list)
    gate: str = "pass"
    """"pass", "not required", or the refusing rules."""
    admitted_by: str = ""
    """The verdict that admitted the commit: its judge and where it is."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _signed(candidate: verdict_gate.Candidate, ctx: gate_runner.Context) -> str:
    if candidate.signature is None:
        return "unsigned"
    if verdict_gate.trusted_signers(ctx) is None:
        return "not checked"
    problem = verdict_gate.signature_problem(candidate, ctx)
    return "verified" if problem is None else f"invalid: {problem}"


def review(repo: Repo, config: Config, changes: Sequence[CommitChange]) -> list[ReviewRow]:
    """Rows for the given commits; the notes are read once for all of them."""
    evidence = gate_runner.Evidence(repo)
    rows = []
    for change in changes:
        ctx = gate_runner.Context(change, config, evidence, range_changes=changes)
        signals = ctx.agent_signals
        row = ReviewRow(
            commit=change.commit or "", subject=change.subject, agent=bool(signals),
            why=who(signals),
        )
        candidates, _ = verdict_gate.candidates(change, ctx)
        for c in candidates:
            row.verdicts.append(VerdictView(
                status=c.verdict.status, judge=str(c.verdict.judge), where=c.where,
                bound=verdict_gate.binds(c.verdict, change), signed=_signed(c, ctx),
                judges=", ".join(f"{r.name} {r.status} {r.duration:.1f}s" for r in c.verdict.runs),
            ))
        findings = verdict_gate.check(change, ctx)
        if findings:
            row.gate = "refused: " + ", ".join(sorted({f.rule for f in findings}))
        elif not ctx.applies(config.section(VerdictConfig).required_for):
            row.gate = "not required"
        elif (admitting := verdict_gate.admission(change, ctx, candidates)[1]) is not None:
            row.admitted_by = f"{admitting.verdict.judge} ({admitting.where})"
        rows.append(row)
    return rows


def table(rows: Sequence[ReviewRow]) -> str:
    """A fixed-width table, one line per verdict (a commit without one gets one line);
    a "judges run" column when an automated verdict is among them."""
    automated = any(v.judges for row in rows for v in row.verdicts)
    header = ("commit", "subject", "author", "verdict", "judge", "bound", "signed", "gate",
              "admitted by", *(("judges run",) if automated else ()))
    lines: list[tuple[str, ...]] = [header]
    for row in rows:
        author = "agent" if row.agent else "human"
        views: list[VerdictView | None] = list(row.verdicts) or [None]
        for i, v in enumerate(views):
            first = i == 0
            lines.append((
                row.commit[:12] if first else "",
                _cut(row.subject, 40) if first else "",
                author if first else "",
                v.status if v else "-",
                _cut(v.judge, 36) if v else "-",
                ("yes" if v.bound else "no") if v else "-",
                _cut(v.signed, 40) if v else "-",
                row.gate if first else "",
                _cut(row.admitted_by, 60) if first else "",
                *((_cut(v.judges, 60) if v and v.judges else "",) if automated else ()),
            ))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines]
    agents = [r for r in rows if r.agent]
    out.append("")
    out.append(f"{len(rows)} commit(s), {len(agents)} by agents:")
    out.extend(f"  {r.commit[:12]} {r.why}" for r in agents)
    return "\n".join(out)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "~"
