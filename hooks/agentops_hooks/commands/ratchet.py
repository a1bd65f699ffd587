"""`agentops ratchet`: check, record, show and chart the ratcheted metrics."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from agentops_hooks import config as config_file
from agentops_hooks import gates as gate_runner
from agentops_hooks import git
from agentops_hooks.errors import FatalError
from agentops_hooks.commands.options import open_repo
from agentops_hooks.gates.ratchet import RatchetConfig


@click.group("ratchet")
def ratchet_group() -> None:
    """Factor VIII: metrics that may only get better (baselines in git notes)."""


def _ratchet_setup() -> tuple[git.Repo, Path, config_file.Config]:
    repo = open_repo()
    root = repo.require_worktree("the ratchet")
    config = gate_runner.policy(root, repo.cache_dir)
    if not config.section(RatchetConfig).metrics:
        where = config.source or ".agentops.toml"
        raise FatalError(f"no metrics configured: add [ratchet.metrics.NAME] to {where}")
    return repo, root, config


def _rev(repo: git.Repo, rev: str) -> str:
    commit = repo.resolve(rev)
    if commit is None:
        raise FatalError(f"{rev!r} does not name a commit in this repository")
    return commit


@ratchet_group.command("check")
@click.option("--rev", default="HEAD", show_default=True, help="Compare with the baseline of this commit.")
@click.option("--message-file", type=click.Path(dir_okay=False, path_type=Path),
              help="The message of the commit being made (its Ratchet-Reversal trailers count).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def ratchet_check(rev: str, message_file: Path | None, fmt: str) -> None:
    """Measure the metrics now and compare them with the baseline; exit 1 on a regression.

    The baseline is the nearest first-parent record at or before REV; a
    Ratchet-Reversal in any commit since it (or in --message-file) excuses
    the regression of its metric.
    """
    from agentops_hooks.ratchet import baselines as ratchet
    from agentops_hooks.change import read_message_file
    from agentops_hooks.ratchet.metrics import measure
    from agentops_hooks.trailers import TrailerSyntax
    from agentops_hooks.trailers import parse

    repo, root, config = _ratchet_setup()
    start = repo.resolve(rev) if rev == "HEAD" else _rev(repo, rev)
    trailers: list[tuple[str, str]] = []
    if message_file is not None:
        message = read_message_file(message_file).decode("utf-8", "replace")
        trailers = parse(message, TrailerSyntax.from_config(repo.config()))
    measured = {name: measure(name, m, root) for name, m in config.section(RatchetConfig).metrics.items()}
    evaluation = ratchet.check_at(repo, config.section(RatchetConfig).metrics, start, measured, trailers,
                                  since_baseline=True)
    if fmt == "json":
        click.echo(json.dumps({
            "baseline": evaluation.baseline.__dict__ if evaluation.baseline else None,
            "results": [r.__dict__ for r in evaluation.results],
            "problems": evaluation.problems, "passed": evaluation.passed,
        }, indent=2))
    else:
        click.echo(ratchet.table(evaluation))
    sys.exit(0 if evaluation.passed else 1)


@ratchet_group.command("record")
@click.option("--rev", default="HEAD", show_default=True, help="The commit the baseline is recorded on.")
def ratchet_record(rev: str) -> None:
    """Record the metrics measured now as the baseline of REV.

    Never records a regression, unless a commit since the last baseline
    (REV included) carries `Ratchet-Reversal: METRIC: reason` for it: that
    reason is recorded too.
    """
    from agentops_hooks.ratchet import baselines as ratchet
    from agentops_hooks.ratchet.metrics import measure

    repo, root, config = _ratchet_setup()
    commit = _rev(repo, rev)
    if commit != repo.head():
        click.echo(f"agentops: warning: recording on {commit[:12]}, which is not checked out: "
                   "the work tree is what gets measured", err=True)
    elif repo.git("status", "--porcelain", "--untracked-files=no").strip():
        click.echo("agentops: warning: the work tree has uncommitted changes; "
                   "they are part of what gets measured", err=True)
    measured = {name: measure(name, m, root) for name, m in config.section(RatchetConfig).metrics.items()}
    evaluation, entry = ratchet.record_at(repo, config.section(RatchetConfig).metrics, commit, measured)
    click.echo(ratchet.table(evaluation))
    if entry is None:
        names = ", ".join(r.name for r in evaluation.regressions)
        click.echo(f"agentops: not recorded: {names} regressed with no Ratchet-Reversal")
        sys.exit(1)
    click.echo(f"agentops: recorded the baseline on {commit[:12]} in {ratchet.RATCHET_REF}"
               + (f" (reversed: {', '.join(entry.reversals or {})})" if entry.reversals else ""))


@ratchet_group.command("show")
@click.argument("rev", default="HEAD")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def ratchet_show(rev: str, fmt: str) -> None:
    """The baseline REV is held to: the nearest first-parent record."""
    from agentops_hooks.ratchet import baselines as ratchet

    repo, _, config = _ratchet_setup()
    baseline = ratchet.baseline_for(repo, _rev(repo, rev), config.section(RatchetConfig).metrics)
    if fmt == "json":
        click.echo(json.dumps(baseline.__dict__ if baseline else None, indent=2))
        return
    if baseline is None:
        click.echo(f"agentops: no baseline for {rev} yet (agentops ratchet record writes one)")
        return
    click.echo(f"baseline of {rev}: recorded on {baseline.commit[:12]} at {baseline.recorded_at}")
    for name, value in sorted(baseline.values.items()):
        why = baseline.reversals.get(name)
        click.echo(f"  {name}: {value:g}" + (f"   (reversed: {why})" if why else ""))


@ratchet_group.command("history")
@click.option("--rev", default="HEAD", show_default=True, help="Walk first-parent history from here.")
@click.option("--metric", "names", multiple=True, help="Only this metric (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--svg", "svg_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a trend chart to this SVG file.")
def ratchet_history(rev: str, names: tuple[str, ...], fmt: str, svg_file: Path | None) -> None:
    """Every recorded baseline along first-parent history, oldest first, with reversals."""
    from agentops_hooks.ratchet import baselines as ratchet

    repo, _, config = _ratchet_setup()
    metrics = config.section(RatchetConfig).metrics
    for name in names:
        if name not in metrics:
            raise click.BadParameter(f"{name!r} is not a configured metric", param_hint="--metric")
    wanted = list(names) or sorted(metrics)
    rows = ratchet.history_rows(repo, _rev(repo, rev), metrics, wanted)
    if svg_file is not None:
        svg = ratchet.trend_svg([(r.commit, r.metrics) for r in rows], wanted)
        try:
            svg_file.write_text(svg, encoding="utf-8")
        except OSError as e:
            raise FatalError(f"cannot write {svg_file}: {e.strerror}") from None
    if fmt == "json":
        click.echo(json.dumps([r.__dict__ for r in rows], indent=2))
        return
    header = ["commit", "recorded", *wanted]
    lines = [header]
    for row in rows:
        lines.append([row.commit[:12], row.recorded_at,
                      *(f"{row.metrics[n]:g}" if n in row.metrics else "-" for n in wanted)])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        click.echo("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip())
    for row in rows:
        for n, why in row.reversals.items():
            click.echo(f"reversal on {row.commit[:12]}: {n}: {why}")
    if svg_file is not None:
        click.echo(f"agentops: wrote {svg_file}")
