"""The commit-time entry point pre-commit runs: `agentops-hook [--gate G] MSGFILE`.

It imports only the standard library (plus unidiff when a diff is read, and
pydantic when a config file exists), because it runs on every commit.
"""
from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from agentops_hooks import config as config_file
from agentops_hooks import gates as gate_runner
from agentops_hooks import git
from agentops_hooks import render
from agentops_hooks.change import CommitChange
from agentops_hooks.change import StagedChange
from agentops_hooks.errors import FatalError
from agentops_hooks.findings import refusing


def parser() -> argparse.ArgumentParser:
    """`agentops-hook`'s arguments."""
    p = argparse.ArgumentParser(
        prog="agentops-hook",
        # A set width: asking the terminal's imports shutil, 3 ms of every commit.
        formatter_class=functools.partial(argparse.HelpFormatter, width=88),
        description="Check the commit being made against the enabled agentops gates (run by "
                    "pre-commit at the commit-msg stage). Exit 0 passed, 1 refused, 2 could not run.",
    )
    p.add_argument("--gate", action="append", default=[], choices=sorted(gate_runner.SECTIONS.names()),
                   metavar="GATE", help="run only this gate (repeatable; one of %(choices)s); "
                                        "default: the gates the config enables")
    p.add_argument("--quiet", action="store_true", help="print nothing when the change passes")
    p.add_argument("--color", choices=render.COLOR_CHOICES, default=render.color_setting(),
                   help="colour the refusal: auto (on a terminal, unless NO_COLOR is set), "
                        "always or never; default: $PRE_COMMIT_COLOR, else auto")
    p.add_argument("--amend", action="store_true",
                   help="the commit will amend HEAD: judge the index against HEAD's parent")
    p.add_argument("--push", action="store_true",
                   help="pre-push: check every commit being pushed (PRE_COMMIT_FROM_REF..TO_REF, "
                        "or the commits on no remote-tracking ref yet)")
    p.add_argument("--record", action="store_true",
                   help="post-commit: copy the Verdict trailers of HEAD into "
                        "refs/notes/agentops/verdicts (and record a ratchet baseline when HEAD "
                        "carries Ratchet-Reversal trailers)")
    p.add_argument("--any-stage", action="store_true",
                   help="for hooks installable at several stages: a MSGFILE inside the git "
                        "directory is the commit message (commit-msg), other paths are ignored "
                        "(pre-commit), and with PRE_COMMIT_TO_REF set (pre-push) the pushed "
                        "commits are checked")
    p.add_argument("--as-check", action="store_true", help=argparse.SUPPRESS)  # `agentops check --staged`
    p.add_argument("filenames", nargs="*", metavar="MSGFILE")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Judge the staged change with its message file; 0 pass, 1 refused, 2 error."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")
    try:
        args = parser().parse_args(argv)
    except SystemExit as e:  # --help (0), or a usage error argparse has explained (2)
        return int(e.code or 0)

    if args.record:
        return record_head(args.quiet)
    try:
        repo = git.Repo(idents_env=os.environ)
        root = repo.require_worktree("agentops-hook")
        config = gate_runner.policy(root, repo.cache_dir)
        selected = args.gate or list(config.gates)
        push = _push_revs(repo) if args.push or args.any_stage else None
        if push is not None or args.push:
            return _check_push(repo, config, push, selected, args.quiet, args.color)
        message_file = _message_file(repo, args.filenames, args.any_stage)
        change = StagedChange.from_message_file(
            repo, message_file, os.environ, amend=args.amend or None,
        )
        ctx = gate_runner.Context(change, config)
        judged = [g for g in selected if gate_runner.applies(ctx, g)]
        if judged:
            change.prefetch()  # git diffs while the gates are imported
            for name in judged:
                gate_runner.module(name)
        findings = gate_runner.run_staged(ctx, selected, explicit=bool(args.gate))
        if ctx.store.fired and change.base is not None:
            _record_fired(repo, change.base, ctx.store.fired)
    except FatalError as e:
        print(f"agentops: error: {e}", file=sys.stderr)
        return 2
    label = "the staged change" if args.as_check else "this commit"
    if findings:
        print(render.findings_text(label, ctx.agent_signals, findings,
                                   render.use_color(args.color, sys.stdout)))
        return 1 if refusing(findings) else 0
    if not args.quiet:
        print(render.passed_text(label, ctx.agent_signals, selected))
    return 0


Push = tuple[list[str], str, "str | None"]
"""rev-list arguments, a label, and the commit the trust roots are read from."""


def _push_revs(repo: git.Repo) -> Push | None:
    """The commits a pre-push brings; None outside pre-push.

    pre-commit names FROM..TO (FROM, what the remote has, holds the trust
    roots), or, when the push brings a root commit, only the local branch:
    then every commit not yet on a remote-tracking ref.
    """
    to_ref = os.environ.get("PRE_COMMIT_TO_REF")
    from_ref = os.environ.get("PRE_COMMIT_FROM_REF", "")
    if to_ref:
        if from_ref.strip("0"):
            return [f"{from_ref}..{to_ref}"], f"{from_ref[:12]}..{to_ref[:12]}", from_ref
        return [to_ref, "--not", "--remotes"], f"{to_ref[:12]} (commits on no remote yet)", None
    local = os.environ.get("PRE_COMMIT_LOCAL_BRANCH")
    if local and os.environ.get("PRE_COMMIT_REMOTE_NAME"):
        return [local, "--not", "--remotes"], f"{local} (commits on no remote yet)", None
    return None


def _check_push(
    repo: git.Repo, config: config_file.Config, push: Push | None,
    gates: Sequence[str], quiet: bool, color: str,
) -> int:
    from agentops_hooks.places import range_output
    from agentops_hooks.places.range_check import start_range

    revs, label, trusted = push or (["HEAD", "--not", "--remotes"], "HEAD (commits on no remote yet)",
                                    None)
    run = start_range(repo, config, revs, label, gates, trust_commit=trusted)
    # Held in a temporary file, not in memory: only the outcome says whether it is shown.
    text = range_output.spool()
    range_output.write(run, [range_output.TextWriter(text.write, render.use_color(color, sys.stdout))])
    if not run.passed or not quiet:
        range_output.copy(text, sys.stdout.write)
    else:
        text.close()
    sys.stdout.flush()
    return 0 if run.passed else 1


def _message_file(repo: git.Repo, filenames: Sequence[str], any_stage: bool) -> str | None:
    if not filenames:
        return None
    if not any_stage:
        return filenames[0]
    for name in filenames:
        path = Path(name).resolve()
        if path == repo.git_dir.resolve() or repo.git_dir.resolve() in path.parents:
            return name
    return None


def _record_fired(repo: git.Repo, base: str, fired: Sequence[object]) -> None:
    """Each constraint that refused this commit counts as a citation of its learning:
    a line in refs/notes/agentops/constraints on the commit it was made on."""
    import datetime as dt
    import json

    from agentops_hooks.evidence.notes import NotesRef
    from agentops_hooks.evidence.refs import CONSTRAINTS_REF
    from agentops_hooks.gates._constraints import Fired

    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    lines = [json.dumps({"v": 1, "constraint": f.constraint.id, "learning": f.constraint.learning,
                         "where": f.where, "day": now.date().isoformat(),
                         "at": now.isoformat().replace("+00:00", "Z")}, sort_keys=True)
             for f in fired if isinstance(f, Fired)]
    NotesRef(repo, CONSTRAINTS_REF).append({base: lines}, "agentops: constraints fired")


def record_head(quiet: bool) -> int:
    """The post-commit job: the new commit's verdicts become notes."""
    from agentops_hooks.evidence.notes import VERDICTS_REF
    from agentops_hooks.evidence.notes import record_trailer_verdicts

    try:
        repo = git.Repo()
        head = CommitChange.load(repo, "HEAD")
        recorded = record_trailer_verdicts(head)
        baseline = _record_reversal_baseline(repo, head)
    except FatalError as e:
        print(f"agentops: error: {e}", file=sys.stderr)
        return 2
    if recorded and not quiet:
        print(f"agentops: recorded {len(recorded)} verdict(s) in {VERDICTS_REF}")
    if baseline and not quiet:
        print(f"agentops: {baseline}")
    return 0


def _record_reversal_baseline(repo: git.Repo, head: CommitChange) -> str | None:
    """A commit that reverses a metric becomes the new baseline at once, so the
    reversal does not have to excuse later commits too."""
    from agentops_hooks.ratchet import baselines as ratchet
    from agentops_hooks.ratchet.metrics import measure
    from agentops_hooks.trailers import values

    if not values(head.trailers, ratchet.REVERSAL_KEY) or repo.root is None:
        return None
    from agentops_hooks.gates.ratchet import RatchetConfig

    config = gate_runner.policy(repo.root, repo.cache_dir)
    metrics = config.section(RatchetConfig).metrics
    if not metrics or head.commit is None:
        return None
    measured = {name: measure(name, m, repo.root) for name, m in metrics.items()}
    evaluation, entry = ratchet.record_at(repo, metrics, head.commit, measured)
    if entry is None:
        names = ", ".join(r.name for r in evaluation.regressions)
        return f"ratchet baseline NOT recorded on {head.commit[:12]}: {names} regressed"
    return f"recorded the ratchet baseline on {head.commit[:12]} (reversed: {', '.join(entry.reversals or {})})"


if __name__ == "__main__":
    raise SystemExit(main())
