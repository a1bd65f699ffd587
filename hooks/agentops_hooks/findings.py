"""What a gate says about a change (one Finding per broken rule), and the factors the gates stand for."""
from __future__ import annotations

from agentops_hooks.record import record

# gate name -> (factor numeral, factor name)
FACTORS = {
    "context": ("I", "Context Is Everything"),
    "track": ("II", "Track Everything in Git"),
    "scope": ("III", "One Agent, One Job"),
    "privilege": ("IV", "Enforce Least Privilege"),
    "research": ("V", "Research Before You Build"),
    "isolate": ("VI", "Isolate Workers"),
    "verdict": ("VII", "Validate Externally"),
    "ratchet": ("VIII", "Lock Progress Forward"),
    "learnings": ("IX", "Extract Learnings"),
    "knowledge": ("X", "Compound Knowledge"),
    "supervise": ("XI", "Supervise Hierarchically"),
}


@record
class Finding:
    """A refused rule: which factor, which rule, what is wrong, and the fix."""

    factor: str
    """The factor's roman numeral, e.g. "VII"."""
    gate: str
    """The gate's name, e.g. "verdict"."""
    rule: str
    """A stable rule id, e.g. "verdict-missing"."""
    message: str
    """What is wrong, in one or two sentences."""
    fix: str
    """The exact command (or edit) that makes the change pass."""
    commit: str | None = None
    """The commit this finding is about; None for the staged change."""
    severity: str = "error"
    """"error" refuses the change; "warning" is reported only."""


def refusing(findings: list[Finding]) -> list[Finding]:
    """The findings that refuse a change (severity "error")."""
    return [f for f in findings if f.severity == "error"]
