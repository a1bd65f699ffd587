"""`agentops report`: measure outcomes over a range (factor XII)."""
from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import click

from agentops_hooks.errors import FatalError
from agentops_hooks.report.fitness import build_report
from agentops_hooks.report.pages import RENDERERS

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

DEFAULT_COUNT = 100


class TerminalProgress:
    """A progress bar on stderr, shown from the first update; enter it as a context."""

    def __init__(self, stack: ExitStack) -> None:
        self.stack = stack
        self.bar: ProgressBar[int] | None = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = self.stack.enter_context(click.progressbar(
                length=total, label="agentops: report", file=sys.stderr, show_pos=True))
        self.bar.update(done - self.bar.pos)


@click.command("report")
@click.argument("revisions", nargs=-1, metavar="[RANGE]...")
@click.option("--format", "fmt", type=click.Choice(sorted(RENDERERS)), default="markdown",
              show_default=True, help="markdown, json, or html (one self-contained page).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Write the report to FILE instead of standard output.")
def report_command(revisions: tuple[str, ...], fmt: str, output: Path | None) -> None:
    """Measure outcomes over a range (factor XII): agent share, verdicts, first-pass
    yield, FAILs, escalations, ratchet trends, learnings added and cited, and
    agent commits that bypassed the hooks after the repository adopted them.

    RANGE is anything `git rev-list` takes (main..feature, v1.0..HEAD, a
    branch). Default: the last 100 commits of HEAD. On a terminal, progress
    is shown on stderr.
    """
    from agentops_hooks.gates import policy
    from agentops_hooks.git import Repo

    for rev in revisions:
        if rev.startswith("-"):
            raise click.UsageError(f"{rev!r} is not a revision")
    try:
        repo = Repo()
        config = policy(repo.root, repo.cache_dir)
        revs = list(revisions) or [f"--max-count={DEFAULT_COUNT}", "HEAD"]
        label = " ".join(revisions) or f"the last {DEFAULT_COUNT} commits of HEAD"
        if not revisions and repo.head() is None:
            raise FatalError("HEAD has no commits yet: nothing to report")
        with ExitStack() as stack:  # progress on a terminal only: a pipe or a file gets none
            progress = TerminalProgress(stack) if sys.stderr.isatty() else None
            report = build_report(repo, config, revs, label, progress)
        text = RENDERERS[fmt](report)
        if output is None:
            click.echo(text, nl=False)
            return
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as e:
            raise FatalError(f"cannot write {output}: {e.strerror}") from None
        click.echo(f"agentops: wrote the report to {output}", err=True)
    except FatalError as e:
        click.echo(f"agentops: error: {e}", err=True)
        sys.exit(2)
