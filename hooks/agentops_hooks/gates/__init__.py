"""The gates: one module per factor, each `check(change, ctx) -> list[Finding]`.

A gate knows nothing about where it runs; the runner builds the Context once
per change and imports only the gates it is asked for.
"""
from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from agentops_hooks.authorship import AgentRules
from agentops_hooks.authorship import AgentSignal
from agentops_hooks.authorship import detect_agent

if TYPE_CHECKING:
    from agentops_hooks.change import Change
    from agentops_hooks.config import Config
    from agentops_hooks.findings import Finding

# gate name -> (factor numeral, factor name)
FACTORS = {
    "verdict": ("VII", "Validate Externally"),
    "learnings": ("IX", "Extract Learnings"),
}


@dataclass
class Context:
    """What a gate may consult besides the change: the policy, and who wrote it."""

    change: Change
    config: Config

    @cached_property
    def agent_signals(self) -> list[AgentSignal]:
        """Why this change counts as an agent's (empty: a human's)."""
        rules = self.config.agents
        return detect_agent(
            self.change.author,
            self.change.committer,
            self.change.trailers,
            self.change.env,
            AgentRules(rules.emails, rules.patterns, rules.env, rules.trailers),
        )

    def applies(self, required_for: str) -> bool:
        """Does an agent-only (or everyone) rule apply to this change?"""
        return required_for == "everyone" or bool(self.agent_signals)


def run(ctx: Context, gates: Sequence[str] | None = None) -> list[Finding]:
    """Run the named gates (default: those the config enables) on the context's change."""
    findings: list[Finding] = []
    for name in gates if gates is not None else ctx.config.gates:
        module = importlib.import_module(f"agentops_hooks.gates.{name}")
        findings.extend(module.check(ctx.change, ctx))
    return findings
