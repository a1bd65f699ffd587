"""Findings as people read them at commit time and in a terminal."""
from __future__ import annotations

from collections.abc import Sequence

from agentops_hooks.authorship import AgentSignal
from agentops_hooks.findings import FACTOR_NAMES
from agentops_hooks.findings import Finding


def who(signals: Sequence[AgentSignal]) -> str:
    """One line saying why the change counts as an agent's, or that it does not."""
    if not signals:
        return "human-authored"
    reasons = "; ".join(f"{s.agent}: {s.reason}" for s in signals[:3])
    more = f" (+{len(signals) - 3} more)" if len(signals) > 3 else ""
    return f"agent-authored ({reasons}{more})"


def findings_text(label: str, signals: Sequence[AgentSignal], findings: Sequence[Finding]) -> str:
    """The refusal a user sees: each finding with its factor, rule and fix."""
    refused = any(f.severity == "error" for f in findings)
    verb = "refused" if refused else "warnings for"
    lines = [f"agentops: {verb} {label}, {who(signals)}", ""]
    for f in findings:
        factor = FACTOR_NAMES.get(f.factor, "")
        kind = "" if f.severity == "error" else "warning: "
        lines.append(f"[{f.factor} {factor}] {f.gate}: {kind}{f.rule}")
        lines.append(f"  {f.message}")
        lines.append(f"  fix: {f.fix}")
        lines.append("")
    count = len(findings)
    rules = " ".join(dict.fromkeys(f.rule for f in findings))
    lines.append(f"{count} finding{'s' if count != 1 else ''}. Why, and how to satisfy each: "
                 f"agentops explain {rules}")
    return "\n".join(lines)


def passed_text(label: str, signals: Sequence[AgentSignal], gates: Sequence[str]) -> str:
    """The one line printed when every gate passes."""
    return f"agentops: {label} passed {', '.join(gates)} ({who(signals)})"
