"""`agentops notes`: fetch, push, sync and verify the notes refs."""
from __future__ import annotations

import sys

import click

from agentops_hooks.commands.options import open_repo


@click.group()
def notes() -> None:
    """Share and audit the verdict notes (refs/notes/agentops/*)."""


@notes.command("fetch")
@click.argument("remote", default="origin")
def notes_fetch(remote: str) -> None:
    """Fetch REMOTE's notes and merge them into ours, keeping every line."""
    from agentops_hooks.evidence import sync

    report = sync.fetch(open_repo(), remote)
    click.echo(f"agentops: fetched and merged {len(report.merged)} notes ref(s) from {remote}")


@notes.command("push")
@click.argument("remote", default="origin")
def notes_push(remote: str) -> None:
    """Push our notes to REMOTE without force; merge and retry when rejected."""
    from agentops_hooks.evidence import sync

    report = sync.push(open_repo(), remote)
    click.echo(f"agentops: pushed {len(report.pushed)} notes ref(s) to {remote}"
               + (f" after {report.retries} retries" if report.retries else ""))


@notes.command("sync")
@click.argument("remote", default="origin")
def notes_sync(remote: str) -> None:
    """Fetch and merge, then push: both sides end with every verdict of both."""
    from agentops_hooks.evidence import sync

    report = sync.sync(open_repo(), remote)
    click.echo(f"agentops: synced {len(set(report.merged) | set(report.pushed))} notes ref(s) "
               f"with {remote}" + (f" ({report.retries} retries)" if report.retries else ""))


@notes.command("verify")
@click.argument("ref", default="refs/notes/agentops/verdicts")
def notes_verify(ref: str) -> None:
    """Prove REF's history only ever added lines; name any commit that removed one."""
    from agentops_hooks.evidence import ledger

    report = ledger.verify(open_repo(), ledger.full_ref(ref))
    for item in report.corrupt:
        click.echo(f"agentops: warning: unreadable line in the note on {item.target[:12]}: "
                   f"{item.problem}: {item.line[:100]}", err=True)
    if report.violations:
        for v in report.violations:
            click.echo(f"agentops: {v.describe()}")
        click.echo(f"agentops: {report.ref} is NOT append-only "
                   f"({len(report.violations)} violation(s) in {report.commits} commits)")
        sys.exit(1)
    click.echo(f"agentops: {report.ref} is append-only ({report.commits} commits checked, "
               f"{len(report.corrupt)} unreadable line(s))")
