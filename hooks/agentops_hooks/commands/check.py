"""`agentops check`: the enabled gates on one change, or on every commit of a range."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from agentops_hooks import gates as gate_runner
from agentops_hooks import render
from agentops_hooks.findings import refusing
from agentops_hooks.commands.options import change_options
from agentops_hooks.commands.options import load_change
from agentops_hooks.commands.options import open_repo


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
def check(
    staged: bool, message_file: Path | None, rev: str | None, amend: bool, range_spec: str | None,
    gates: tuple[str, ...], policy: str, fmt: str,
) -> None:
    """Run the enabled gates on one change, or on every commit of a range.

    With no option, checks the HEAD commit. Use --staged (with
    --message-file for the message) for the commit about to be made, and
    --range BASE..HEAD in CI (on a pull request: base.sha..head.sha).
    """
    repo = open_repo()
    if range_spec is not None:
        if staged or message_file is not None or rev is not None or amend:
            raise click.UsageError("--range cannot be combined with --staged, --message-file, "
                                   "--commit or --amend")
        from agentops_hooks.places import range_check as checkrange

        revs = checkrange.resolve_range(repo, range_spec)
        base = checkrange.range_base(repo, range_spec)
        # The base's policy only: the work tree's may be the very change being judged.
        config = (gate_runner.policy_at(repo, base) if base is not None and policy == "base"
                  else gate_runner.policy(repo.root, repo.cache_dir))
        report = checkrange.check_range(
            repo, config, revs, range_spec, list(gates) or None, trust_commit=base,
        )
        if fmt == "markdown" or os.environ.get("GITHUB_STEP_SUMMARY"):
            markdown = checkrange.render_markdown(report)
            checkrange.write_step_summary(markdown)
        out = {
            "text": lambda: checkrange.render_text(report, color=sys.stdout.isatty()),
            "json": lambda: checkrange.render_json(report),
            "github": lambda: checkrange.render_github(report),
            "markdown": lambda: checkrange.render_markdown(report),
        }[fmt]()
        click.echo(out)
        sys.exit(0 if report.passed else 1)
    if fmt in ("github", "markdown"):
        raise click.UsageError(f"--format {fmt} goes with --range")
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
            "findings": [f.__dict__ for f in findings],
        }, indent=2))
    elif findings:
        click.echo(render.findings_text(label, ctx.agent_signals, findings))
    else:
        click.echo(render.passed_text(label, ctx.agent_signals, selected))
    sys.exit(1 if refusing(findings) else 0)
