"""Factor VIII, Lock Progress Forward: validated work only ratchets forward.

The configured metrics, measured in the work tree, may not be worse than the
baseline in refs/notes/agentops/ratchet (the nearest first-parent record
before this change), unless a `Ratchet-Reversal: METRIC: reason` trailer in
this change, or in a commit since the baseline, says why.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple
from typing import TYPE_CHECKING

from agentops_hooks.config import Audience
from agentops_hooks.config import Severity
from agentops_hooks.ratchet.metrics import MetricConfig
from agentops_hooks.ratchet.metrics import metric_problem
from agentops_hooks.ratchet import baselines as ratchet
from agentops_hooks.findings import Finding

if TYPE_CHECKING:
    from agentops_hooks.change import Change
    from agentops_hooks.gates import Context

FACTOR = "VIII"
GATE = "ratchet"
PHASE = "select"


class RatchetConfig(NamedTuple):
    """Factor VIII: metrics may not get worse than the baseline recorded in notes."""

    metrics: dict[str, MetricConfig] = {}
    """The ratcheted metrics, by name: [ratchet.metrics.NAME]."""
    required_for: Audience = "everyone"
    """Whose changes the ratchet holds: "everyone" (default) or "agents"."""
    severity: Severity = "error"

    def problems(self) -> Iterator[tuple[str, str]]:
        """What pydantic's types cannot say: (key, problem) pairs."""
        for name, metric in self.metrics.items():
            if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
                yield (f"metrics.{name}", "a metric name is letters, digits, '_', '.' and '-' "
                       "(it is written in Ratchet-Reversal trailers)")
            problem = metric_problem(metric)
            if problem:
                yield f"metrics.{name}", problem

    def switches_on(self) -> bool:
        """Configured metrics turn the gate on when `gates` is not given."""
        return bool(self.metrics)


SETTINGS = RatchetConfig


def findings_for(
    evaluation: ratchet.Evaluation, commit: str | None, has_message: bool = True,
) -> list[Finding]:
    """One finding per regression and per refused reversal."""
    out = []
    where = ("the commit message" if has_message else
             "the commit message (at the pre-commit stage there is no message yet: run "
             "agentops-ratchet at the commit-msg stage so the trailer counts)")
    base = evaluation.baseline
    for r in evaluation.regressions:
        recorded = f" recorded on {base.commit[:12]}" if base else ""
        hint = f" Note: {r.reason}." if r.reason else ""
        out.append(Finding(
            FACTOR, GATE, "ratchet-regressed",
            f"{r.name} is {r.now:g}, worse than the baseline {r.baseline:g}{recorded} "
            f"(allowed: {r.allowed:g}).{hint}",
            f"bring {r.name} back, or if the regression is intended add the trailer "
            f"`{ratchet.REVERSAL_KEY}: {r.name}: <why>` to {where}",
            commit,
        ))
    for problem in evaluation.problems:
        out.append(Finding(
            FACTOR, GATE, "ratchet-reversal-refused", problem + ".",
            f"write `{ratchet.REVERSAL_KEY}: METRIC: reason` only for a metric that regresses",
            commit,
        ))
    return out


def check(change: Change, ctx: Context) -> list[Finding]:
    """Findings for gate VIII; none when no metric is worse than its baseline."""
    config = ctx.config.section(RatchetConfig)
    if not config.metrics or not ctx.applies(config.required_for):
        return []
    repo = change.repo
    measured = ctx.store.measured(config.metrics, repo.require_worktree("the ratchet"))
    evaluation = ratchet.check_at(
        repo, config.metrics, change.base, measured, change.trailers,
        range_messages=[(c.commit or "", c.trailers) for c in ctx.range_changes],
    )
    has_message = bool(change.commit) or bool(change.raw_message.strip())
    return findings_for(evaluation, change.commit, has_message)
