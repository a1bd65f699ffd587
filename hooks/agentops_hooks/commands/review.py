"""`agentops review`: the verdicts of a range, commit by commit."""
from __future__ import annotations

import json

import click

from agentops_hooks import gates as gate_runner
from agentops_hooks import git
from agentops_hooks.errors import FatalError
from agentops_hooks.commands.options import open_repo


@click.command("review")
@click.argument("revisions", nargs=-1, metavar="[RANGE]...")
@click.option("-n", "--max-count", type=click.IntRange(min=1), default=None,
              help="At most this many commits (default: 20 when no RANGE is given).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
def review_command(revisions: tuple[str, ...], max_count: int | None, fmt: str) -> None:
    """Show each commit's author kind and verdicts, from trailers and notes.

    RANGE is anything `git rev-list` takes (main..feature, HEAD~10..,
    a branch). Columns: commit, subject, agent or human, verdict, judge,
    bound to this patch or not, signature verified or not, and the gate's
    outcome.
    """
    from agentops_hooks.change import load_commits
    from agentops_hooks.report.review import review
    from agentops_hooks.report.review import table

    repo = open_repo()
    config = gate_runner.policy(repo.root, repo.cache_dir)
    revs = list(revisions) or ["HEAD"]
    if max_count is None and not revisions:
        max_count = 20
    for rev in revs:
        if rev.startswith("-"):
            raise click.UsageError(f"{rev!r} is not a revision")
    if max_count is not None:
        revs = [f"--max-count={max_count}", *revs]
    try:
        changes = load_commits(repo, revs)
    except git.GitError as e:
        raise FatalError(f"cannot read {' '.join(revisions) or 'HEAD'}: {e}") from None
    rows = review(repo, config, changes)
    if fmt == "json":
        click.echo(json.dumps([r.to_dict() for r in rows], indent=2))
    else:
        click.echo(table(rows))
