"""`agentops check`: the enabled gates on one change, or on every commit of a range."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from agentops_hooks import gates as gate_runner
from agentops_hooks import render
from agentops_hooks.findings import refusing
from agentops_hooks.commands.options import change_options
from agentops_hooks.commands.options import load_change
from agentops_hooks.commands.options import open_repo

if TYPE_CHECKING:
    from agentops_hooks.places.range_check import CommitResult

PROGRESS_FROM = 100
"""A range this long shows its progress on a terminal's stderr."""


@click.command()
@change_options
@click.option("--range", "range_spec", metavar="BASE..HEAD",
              help="Every commit of a range (CI): findings grouped by commit.")
@click.option(
    "--gate", "gates", multiple=True, type=click.Choice(sorted(gate_runner.SECTIONS.names())),
    help="Run only this gate (repeatable). Default: the gates the config enables.",
)
@click.option("--policy", type=click.Choice(["base", "worktree"]), default="base", show_default=True,
              help="With --range: read .agentops.toml from the range's BASE commit (a change "
                   "cannot relax the policy it is judged by) or from the work tree.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github", "markdown"]),
              default="text", show_default=True,
              help="Output: text (colour on a terminal), json, github (workflow annotations), "
                   "markdown (also appended to $GITHUB_STEP_SUMMARY when set).")
@click.option("--verbose", "-v", is_flag=True,
              help="With --range, text: every commit, passing ones too (default: only those "
                   "with something to say, and the outcome).")
@click.option("--quiet", "-q", is_flag=True,
              help="Print nothing when there is no finding; with --range, text: only the "
                   "commits with findings and the outcome.")
@click.option("--color", type=click.Choice(render.COLOR_CHOICES), default=render.color_setting,
              show_default="$PRE_COMMIT_COLOR, else auto",
              help="Colour: auto (on a terminal, unless NO_COLOR is set), always or never.")
@click.option("--trust", "trust_file", metavar="FILE",
              help="With --range: the allowed-signers file (a CI secret, a file the workflow "
                   "fetches) that signed verdicts are checked against, instead of the tree's; "
                   "only signed verdicts count.")
def check(
    staged: bool, message_file: Path | None, rev: str | None, amend: bool, range_spec: str | None,
    gates: tuple[str, ...], policy: str, fmt: str, verbose: bool, quiet: bool, color: str,
    trust_file: str | None,
) -> None:
    """Run the enabled gates on one change, or on every commit of a range.

    With no option, checks the HEAD commit. Use --staged (with
    --message-file for the message) for the commit about to be made, and
    --range BASE..HEAD in CI (on a pull request: base.sha..head.sha).
    """
    if verbose and quiet:
        raise click.UsageError("--verbose and --quiet say opposite things: give one")
    repo = open_repo()
    if range_spec is not None:
        if staged or message_file is not None or rev is not None or amend:
            raise click.UsageError("--range cannot be combined with --staged, --message-file, "
                                   "--commit or --amend")
        from agentops_hooks.places import range_check as checkrange

        outside = None
        if trust_file is not None:
            from agentops_hooks.evidence import trust

            outside = trust.read_outside(trust_file, "--trust")
        revs = checkrange.resolve_range(repo, range_spec)
        base = checkrange.range_base(repo, range_spec)
        # The base's policy only: the work tree's may be the very change being judged.
        config = (gate_runner.policy_at(repo, base) if base is not None and policy == "base"
                  else gate_runner.policy(repo.root, repo.cache_dir))
        from agentops_hooks.places import range_output

        run = checkrange.start_range(
            repo, config, revs, range_spec, list(gates) or None, trust_commit=base,
            outside_signers=outside, require_signature=outside is not None,
        )
        out = sys.stdout
        painted = render.use_color(color, out)
        main = (range_output.TextWriter(out.write, painted, verbose, quiet) if fmt == "text"
                else range_output.WRITERS[fmt](out.write, painted))
        writers = [main]
        if sys.stderr.isatty() and run.count >= PROGRESS_FROM and not verbose:
            def shows(result: CommitResult) -> bool:  # on the terminal the progress is on
                return out.isatty() and (fmt != "text" or bool(result.findings or result.unjudged))

            writers.insert(0, range_output.ProgressWriter(sys.stderr, shows))
        summary = None
        if os.environ.get("GITHUB_STEP_SUMMARY"):
            summary = range_output.spool()
            writers.append(range_output.MarkdownWriter(summary.write))
        range_output.write(run, writers)  # each commit written as it is judged
        out.flush()
        if summary is not None:
            range_output.append_step_summary(summary)
        sys.exit(0 if run.passed else 1)
    if fmt in ("github", "markdown") or trust_file is not None:
        raise click.UsageError(f"{'--trust' if trust_file else '--format ' + fmt} goes with --range")
    config = gate_runner.policy(repo.root, repo.cache_dir)
    change = load_change(repo, staged, message_file, rev, amend, default_commit=True)
    selected = list(gates) or list(config.gates)
    ctx = gate_runner.Context(change, config)
    findings = (gate_runner.run(ctx, selected) if change.commit
                else gate_runner.run_staged(ctx, selected, explicit=bool(gates)))
    label = f"commit {change.label}" if change.commit else "the staged change"
    if fmt == "json":
        click.echo(json.dumps({
            "change": change.commit or "staged",
            "patch_id": change.patch_id,
            "agent": [{"agent": s.agent, "reason": s.reason} for s in ctx.agent_signals],
            "gates": selected,
            "findings": [f._asdict() for f in findings],
        }, indent=2))
    elif findings:
        click.echo(render.findings_text(label, ctx.agent_signals, findings,
                                        render.use_color(color, sys.stdout)))
    elif not quiet:
        click.echo(render.passed_text(label, ctx.agent_signals, selected))
    sys.exit(1 if refusing(findings) else 0)
