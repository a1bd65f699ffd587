"""Factor VII, Validate Externally: no agent grades its own work.

An agent's change needs a `Verdict: PASS` trailer from a judge who is not the
author, the committer or a co-author, bound to this change's patch-id, and
(when the config names judges) from one of them. Any FAIL or NOT_PROVEN
refuses, so two verdicts that disagree refuse.
"""
from __future__ import annotations

from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from agentops_hooks import verdicts
from agentops_hooks.authorship import Identity
from agentops_hooks.findings import Finding
from agentops_hooks.trailers import values

if TYPE_CHECKING:
    from agentops_hooks.change import Change
    from agentops_hooks.config import VerdictConfig
    from agentops_hooks.gates import Context

FACTOR = "VII"
GATE = "verdict"


def _finding(change: Change, rule: str, message: str, fix: str) -> Finding:
    return Finding(FACTOR, GATE, rule, message, fix, change.commit)


def _verdict_command(change: Change, status: str = "pass") -> str:
    return (
        f'agentops verdict {status} --judge "Judge Name <judge@example.com>" '
        f"{change.selector}   # run by the judge, then {change.retry}"
    )


def _person_keys(identities: list[Identity | None], config: VerdictConfig) -> set[str]:
    keys = {verdicts.email_key(i.email) for i in identities if i is not None and i.email}
    for group in config.aliases:
        group_keys = {verdicts.email_key(e) for e in group}
        if keys & group_keys:
            keys |= group_keys
    return keys


def judge_allowed(judge: Identity, config: VerdictConfig) -> bool:
    """Does the judge match `verdict.judges` (always true when none are listed)?"""
    if not config.judges:
        return True
    email = verdicts.email_key(judge.email)
    for entry in config.judges:
        parsed = Identity.parse(entry)
        wanted = parsed.email if parsed is not None and parsed.email else entry
        if fnmatchcase(email, verdicts.email_key(wanted)):
            return True
    return False


def check(change: Change, ctx: Context) -> list[Finding]:
    """Findings for gate VII; none when an independent PASS binds this change."""
    config = ctx.config.verdict
    if not ctx.applies(config.required_for):
        return []
    raw = values(change.trailers, verdicts.VERDICT_KEY)
    who = "an agent-authored change" if ctx.agent_signals else "every change (policy)"
    if not raw:
        return [_finding(
            change, "verdict-missing",
            f"{who} needs a `Verdict: PASS` trailer from an independent judge, "
            f"bound to patch {change.patch_id}.",
            _verdict_command(change),
        )]

    findings: list[Finding] = []
    parsed: list[verdicts.Verdict] = []
    for value in raw:
        try:
            parsed.append(verdicts.parse(value))
        except verdicts.VerdictSyntaxError as e:
            findings.append(_finding(
                change, "verdict-malformed",
                f"cannot read `Verdict: {value}`: {e}.",
                _verdict_command(change),
            ))
    statuses = {v.status for v in parsed}
    if len(statuses) > 1:
        findings.append(_finding(
            change, "verdict-conflict",
            "the Verdict trailers disagree (" + ", ".join(sorted(statuses)) + "); "
            "only an unopposed PASS admits a change.",
            "remove the stale Verdict trailers and ask the judge again: "
            + _verdict_command(change),
        ))
    for v in parsed:
        if not v.admits:
            findings.append(_finding(
                change, "verdict-not-pass",
                f"judge {v.judge} gave {v.status}: the change is not admitted.",
                "fix what the judge found, then ask for a new verdict: "
                + _verdict_command(change),
            ))
    if findings:
        return findings

    people = _person_keys([change.author, change.committer, *change.co_authors], config)
    problems: list[Finding] = []
    for v in parsed:
        if verdicts.email_key(v.judge.email) in people:
            problems.append(_finding(
                change, "verdict-self-judged",
                f"judge {v.judge} is the author, committer or a co-author of this change: "
                "no agent grades its own work.",
                "ask someone else to judge: " + _verdict_command(change),
            ))
        elif v.patch_id != change.patch_id:
            problems.append(_finding(
                change, "verdict-wrong-patch",
                f"the verdict of {v.judge} is bound to patch {v.patch_id}, but this change is "
                f"patch {change.patch_id}: it judged another change, or the change was edited "
                "after judging.",
                "ask the judge to review the change as it is now: " + _verdict_command(change),
            ))
        elif not judge_allowed(v.judge, config):
            listed = ", ".join(config.judges)
            problems.append(_finding(
                change, "verdict-judge-not-listed",
                f"judge {v.judge} is not one of the judges in verdict.judges ({listed}).",
                "ask a listed judge: " + _verdict_command(change),
            ))
        else:
            return []
    return problems
