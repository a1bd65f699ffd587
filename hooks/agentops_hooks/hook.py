"""The commit-time entry point pre-commit runs: `agentops-hook [--gate G] MSGFILE`.

It imports only the standard library (plus unidiff when a diff is read, and
pydantic when a config file exists), because it runs on every commit.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from agentops_hooks import config as config_file
from agentops_hooks import gates as gate_runner
from agentops_hooks import git
from agentops_hooks import render
from agentops_hooks.change import StagedChange
from agentops_hooks.errors import FatalError


def main(argv: Sequence[str] | None = None) -> int:
    """Judge the staged change with its message file; 0 pass, 1 refused, 2 error."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")
    parser = argparse.ArgumentParser(
        prog="agentops-hook",
        description="Check the commit being made against the enabled agentops gates "
                    "(run by pre-commit at the commit-msg stage).",
    )
    parser.add_argument(
        "--gate", action="append", choices=sorted(gate_runner.FACTORS),
        help="run only this gate (repeatable); default: the gates the config enables",
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing when the change passes")
    parser.add_argument(
        "--record", action="store_true",
        help="post-commit: copy the Verdict trailers of HEAD into refs/notes/agentops/verdicts",
    )
    parser.add_argument("filenames", nargs="*", help="the commit message file (from git)")
    args = parser.parse_args(argv)

    if args.record:
        return record_head(args.quiet)
    try:
        repo = git.Repo()
        root = repo.require_worktree("agentops-hook")
        config = config_file.load(root)
        message_file = args.filenames[0] if args.filenames else None
        change = StagedChange.from_message_file(repo, message_file)
        selected = args.gate or list(config.gates)
        ctx = gate_runner.Context(change, config)
        findings = gate_runner.run(ctx, selected)
    except FatalError as e:
        print(f"agentops: error: {e}", file=sys.stderr)
        return 2
    if findings:
        print(render.findings_text("this commit", ctx.agent_signals, findings))
        return 1
    if not args.quiet:
        print(render.passed_text("this commit", ctx.agent_signals, selected))
    return 0


def record_head(quiet: bool) -> int:
    """The post-commit job: the new commit's verdicts become notes."""
    from agentops_hooks.change import CommitChange
    from agentops_hooks.notes import VERDICTS_REF
    from agentops_hooks.notes import record_trailer_verdicts

    try:
        repo = git.Repo()
        recorded = record_trailer_verdicts(CommitChange.load(repo, "HEAD"))
    except FatalError as e:
        print(f"agentops: error: {e}", file=sys.stderr)
        return 2
    if recorded and not quiet:
        print(f"agentops: recorded {len(recorded)} verdict(s) in {VERDICTS_REF}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
