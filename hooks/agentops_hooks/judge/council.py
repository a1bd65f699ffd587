"""How the judges' verdicts combine into the one verdict that is signed."""
from __future__ import annotations

from collections.abc import Sequence

from agentops_hooks.config import JudgeSpec
from agentops_hooks.evidence.verdicts import JudgeRun


def combine(specs: Sequence[JudgeSpec], runs: Sequence[JudgeRun], at_least: int) -> tuple[str, str]:
    """(status, why) for the judges' runs under the council rule.

    `at_least` 0: every judge must PASS. Else PASS needs that many PASSes, every
    required judge's among them. Any FAIL of a required judge is a FAIL; short of a
    PASS, a FAIL of any judge makes it a FAIL, else it is NOT_PROVEN."""
    required = {s.name for s in specs if s.required or not at_least}
    passed = [r.name for r in runs if r.status == "PASS"]
    failed = [r.name for r in runs if r.status == "FAIL"]
    unproven = [r.name for r in runs if r.status == "NOT_PROVEN"]
    needed = at_least or len(specs)
    if failed_required := [n for n in failed if n in required]:
        return "FAIL", f"{', '.join(failed_required)} failed"
    missing = [n for n in required if n not in passed]
    if len(passed) >= needed and not missing:
        rule = "all judges" if not at_least else f"{len(passed)} of {len(specs)} judges, at least {at_least}"
        return "PASS", f"{rule} passed"
    if failed:
        return "FAIL", f"{', '.join(failed)} failed; {len(passed)} of {needed} needed passed"
    return "NOT_PROVEN", (f"{', '.join(unproven)} proved nothing; {len(passed)} of {needed} "
                          "needed passed")
