"""What a gate says about a change (one Finding per broken rule), and the doctrine's factors."""
from __future__ import annotations

from typing import NamedTuple

FACTOR_NAMES = {
    "I": "Context Is Everything",
    "II": "Track Everything in Git",
    "III": "One Agent, One Job",
    "IV": "Enforce Least Privilege",
    "V": "Research Before You Build",
    "VI": "Isolate Workers",
    "VII": "Validate Externally",
    "VIII": "Lock Progress Forward",
    "IX": "Extract Learnings",
    "X": "Compound Knowledge",
    "XI": "Supervise Hierarchically",
    "XII": "Measure Outcomes",
}
"""The doctrine's twelve factors by numeral; each gate module names the one it enforces (`FACTOR`)."""


class Finding(NamedTuple):
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
