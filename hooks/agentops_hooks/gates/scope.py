"""Factor III, One Agent, One Job: one agent change does one task, and stays small.

An agent's change names exactly one task: the distinct non-empty `Task:`
trailers plus the distinct matches of `scope.task_pattern` in the subject
(compared ignoring case, so `Task: PROJ-1` and a subject "PROJ-1: ..." are
one task). None is `scope-no-task`, two or more is `scope-many-tasks`. It
touches at most `scope.max_files` files (binary files count) and changes at
most `scope.max_lines` lines (added plus removed, from the diff's hunks):
`scope-too-many-files`, `scope-too-many-lines`.
"""
from __future__ import annotations

from collections.abc import Iterator
import re
from functools import lru_cache
from typing import NamedTuple
from typing import TYPE_CHECKING

from agentops_hooks.config import Audience
from agentops_hooks.config import Severity
from agentops_hooks.findings import Finding
from agentops_hooks.trailers import values
from agentops_hooks.evidence.verdicts import TASK_KEY

if TYPE_CHECKING:
    from agentops_hooks.change import Change
    from agentops_hooks.gates import Context

FACTOR = "III"
GATE = "scope"
PHASE = "prepare"


class ScopeConfig(NamedTuple):
    """Gate III: one agent change, one task, within size limits."""

    required_for: Audience = "agents"
    severity: Severity = "error"
    task_pattern: str | None = None
    """A regular expression that finds a task reference in the subject, besides the Task trailer."""
    max_files: int = 50
    """Most files one change may touch (binary files count)."""
    max_lines: int = 1000
    """Most changed (added plus removed) lines one change may have."""

    def problems(self) -> Iterator[tuple[str, str]]:
        """What pydantic's types cannot say: (key, problem) pairs."""
        if self.task_pattern is not None:
            try:
                re.compile(self.task_pattern)
            except re.error as e:
                yield "task_pattern", f"not a valid regular expression: {e}"


SETTINGS = ScopeConfig


def _finding(change: Change, rule: str, message: str, fix: str) -> Finding:
    return Finding(FACTOR, GATE, rule, message, fix, change.commit)


@lru_cache(maxsize=8)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def task_references(change: Change, config: ScopeConfig) -> list[str]:
    """The distinct tasks the change names, in order: Task trailers, then subject matches."""
    found: dict[str, str] = {}
    for value in values(change.trailers, TASK_KEY):
        if value.strip():
            found.setdefault(value.strip().casefold(), value.strip())
    if config.task_pattern:
        for m in _compiled(config.task_pattern).finditer(change.subject):
            if m.group(0).strip():
                found.setdefault(m.group(0).strip().casefold(), m.group(0).strip())
    return list(found.values())


def _add_task_fix(change: Change) -> str:
    """How to give this change's message a Task trailer, then try it again."""
    if change.commit is None:
        if change.message_option is not None:
            return (f'agentops trailer add Task "<task id>" {change.message_option}, '
                    f"then {change.retry}")
        return f"add a `Task: <task id>` trailer to the commit message, then {change.retry}"
    base = change.base[:12] if change.base else "--root"
    recheck = f"{change.base[:12]}..HEAD" if change.base else "HEAD"
    return (f"add a `Task: <task id>` trailer to the message: git rebase -i {base} and mark "
            f"{change.label} `reword` (for the newest commit: git commit --amend --trailer "
            f'"Task: <task id>"), then agentops check --range {recheck}')


def _split_fix(change: Change, parts: str) -> str:
    """How to split this change into smaller ones."""
    if change.commit is None:
        return ("split the change: unstage part of it (git restore --staged <paths>, or "
                f"git reset -p), commit the rest, then stage and commit the next part; {parts}")
    base = change.base[:12] if change.base else "--root"
    recheck = f"{change.base[:12]}..HEAD" if change.base else "HEAD"
    return (f"split the commit: git rebase -i {base}, mark {change.label} `edit`, "
            f"git reset HEAD^, commit it in parts ({parts}), git rebase --continue, "
            f"then agentops check --range {recheck}")


def _pattern_note(config: ScopeConfig) -> str:
    if config.task_pattern:
        return f", and nothing in the subject matches scope.task_pattern = {config.task_pattern!r}"
    return " (scope.task_pattern is not set, so the subject is not searched)"


def check(change: Change, ctx: Context) -> list[Finding]:
    """Findings for gate III; none when the change names one task and is within the limits."""
    config = ctx.config.section(ScopeConfig)
    if not ctx.applies(config.required_for):
        return []
    who = "an agent-authored change" if ctx.agent_signals else "every change (policy)"
    findings: list[Finding] = []
    tasks = task_references(change, config)
    if not tasks:
        findings.append(_finding(
            change, "scope-no-task",
            f"{who} must name the one task it does: it has no `Task:` trailer"
            f"{_pattern_note(config)}.",
            _add_task_fix(change),
        ))
    elif len(tasks) > 1:
        named = ", ".join(tasks)
        findings.append(_finding(
            change, "scope-many-tasks",
            f"{who} names {len(tasks)} tasks ({named}); one agent, one job: a change does "
            "exactly one.",
            _split_fix(change, "one commit per task, each naming only its own task"),
        ))
    files = len(change.paths)
    if files > config.max_files:
        findings.append(_finding(
            change, "scope-too-many-files",
            f"{who} touches {files} files (over scope.max_files = {config.max_files}): too much "
            "for one job to review.",
            _split_fix(change, "each within the limits"),
        ))
    lines = change.changed_lines
    if lines > config.max_lines:
        findings.append(_finding(
            change, "scope-too-many-lines",
            f"{who} changes {lines} lines, added plus removed (over scope.max_lines = "
            f"{config.max_lines}): too much for one job to review.",
            _split_fix(change, "each within the limits"),
        ))
    return findings
