"""Factor XI, Supervise Hierarchically: a stuck worker hands the task over.

From the FAIL verdicts in refs/notes/agentops/verdicts: when one task (the
`Task:` trailer, else the patch-id) has collected `supervise.max_failures`
FAIL verdicts from attempts by the same worker (the `Agent:` trailer's
session, else the author), that worker's next attempt is refused: the task
goes to a fresh agent or a human, recorded with an `Escalated-To:` trailer.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple
from typing import TYPE_CHECKING

from agentops_hooks.config import Audience
from agentops_hooks.config import Severity
from agentops_hooks.evidence import verdicts
from agentops_hooks.findings import Finding
from agentops_hooks.trailers import values

if TYPE_CHECKING:
    from agentops_hooks.change import Change
    from agentops_hooks.gates import Context

FACTOR = "XI"
GATE = "supervise"
PHASE = "govern"


class SuperviseConfig(NamedTuple):
    """Gate XI: a worker stuck on a task hands it over instead of retrying."""

    required_for: Audience = "agents"
    """Whose changes are supervised: "agents" or "everyone"."""
    severity: Severity = "error"
    max_failures: int = 3
    """FAIL verdicts one worker may collect on one task before it must hand over."""

    def problems(self) -> Iterator[tuple[str, str]]:
        """What pydantic's types cannot say: (key, problem) pairs."""
        if self.max_failures < 1:
            yield "max_failures", "must be 1 or more"


SETTINGS = SuperviseConfig


def failure_index(ctx: Context) -> dict[tuple[str, str], set[tuple[str, str]]]:
    """{(task, worker): distinct (patch-id, judge) of FAIL verdicts}, built once per range."""
    store = ctx.store
    if store.fail_index is None:
        index: dict[tuple[str, str], set[tuple[str, str]]] = {}
        for item in store.verdicts.stored:
            record = item.record
            if record.status == "FAIL" and record.worker is not None:
                key = (record.task or record.patch_id, record.worker)
                index.setdefault(key, set()).add(
                    (record.patch_id, verdicts.email_key(record.judge)),
                )
        store.fail_index = index
    return store.fail_index


def check(change: Change, ctx: Context) -> list[Finding]:
    """Findings for gate XI; none unless this worker has failed this task too often."""
    config = ctx.config.section(SuperviseConfig)
    if not ctx.applies(config.required_for):
        return []
    if not ctx.store.has_verdict_notes:
        return []
    if any(v.strip() for v in values(change.trailers, verdicts.ESCALATED_KEY)):
        return []
    worker = verdicts.worker_of(change.trailers, change.author)
    if worker is None:
        return []
    task_name = verdicts.task_of(change.trailers)
    task = task_name or change.patch_id
    failed = failure_index(ctx).get((task, worker), set())
    if len(failed) < config.max_failures:
        return []
    what = f"task {task_name}" if task_name else f"this exact change (patch {change.patch_id[:12]})"
    return [Finding(
        FACTOR, GATE, "supervise-escalate",
        f"{what} already has {len(failed)} FAIL verdicts from attempts by {worker} "
        f"(supervise.max_failures = {config.max_failures}): retrying in the same context is a "
        "loop, not progress.",
        "hand the task to a fresh agent or a human, who commits with the trailer "
        "`Escalated-To: <who takes over>` and the failure report (what was tried, what failed)",
        change.commit,
    )]
