"""Findings as people read them at commit time and in a terminal."""
from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TextIO

from agentops_hooks.authorship import AgentSignal
from agentops_hooks.findings import FACTOR_NAMES
from agentops_hooks.findings import Finding

COLOR_CHOICES = ("auto", "always", "never")
RED, BOLD_RED, GREEN, YELLOW, BOLD_YELLOW = "31", "1;31", "32", "33", "1;33"


def color_setting() -> str:
    """The default of every --color: pre-commit's own setting when it is given."""
    setting = os.environ.get("PRE_COMMIT_COLOR", "auto")
    return setting if setting in COLOR_CHOICES else "auto"


def use_color(setting: str, stream: TextIO) -> bool:
    """--color as pre-commit reads it (always, never, or auto: on a terminal that is
    not dumb), and NO_COLOR (no-color.org) turning auto off."""
    if setting != "auto":
        return setting == "always"
    return (not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
            and stream.isatty())


def paint(text: str, sgr: str, color: bool) -> str:
    """`text` in an ANSI colour (`sgr`: e.g. RED) when `color`."""
    return f"\033[{sgr}m{text}\033[m" if color else text


def who(signals: Sequence[AgentSignal]) -> str:
    """One line saying why the change counts as an agent's, or that it does not."""
    if not signals:
        return "human-authored"
    reasons = "; ".join(f"{s.agent}: {s.reason}" for s in signals[:3])
    more = f" (+{len(signals) - 3} more)" if len(signals) > 3 else ""
    return f"agent-authored ({reasons}{more})"


def findings_text(label: str, signals: Sequence[AgentSignal], findings: Sequence[Finding],
                  color: bool = False) -> str:
    """The refusal a user sees: each finding with its factor, rule and fix."""
    refused = any(f.severity == "error" for f in findings)
    verb = paint("refused", BOLD_RED, color) if refused else paint("warnings for", BOLD_YELLOW, color)
    lines = [f"agentops: {verb} {label}, {who(signals)}", ""]
    for f in findings:
        factor = FACTOR_NAMES.get(f.factor, "")
        kind = "" if f.severity == "error" else "warning: "
        rule = paint(f.rule, RED if f.severity == "error" else YELLOW, color)
        lines.append(f"[{f.factor} {factor}] {f.gate}: {kind}{rule}")
        lines.append(f"  {f.message}")
        lines.append(f"  {paint('fix:', GREEN, color)} {f.fix}")
        lines.append("")
    count = len(findings)
    rules = " ".join(dict.fromkeys(f.rule for f in findings))
    lines.append(f"{count} finding{'s' if count != 1 else ''}. Why, and how to satisfy each: "
                 f"agentops explain {rules}")
    return "\n".join(lines)


def passed_text(label: str, signals: Sequence[AgentSignal], gates: Sequence[str]) -> str:
    """The one line printed when every gate passes."""
    return f"agentops: {label} passed {', '.join(gates)} ({who(signals)})"
