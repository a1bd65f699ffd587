"""`agentops trailer`: add a trailer to a message file as git places it."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from agentops_hooks import gates as gate_runner
from agentops_hooks.commands.options import open_repo
from agentops_hooks.commands.learn import require_learning


@click.group()
def trailer() -> None:
    """Read and write git trailers in commit messages."""


@trailer.command("add")
@click.argument("key")
@click.argument("value")
@click.option("--message-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Edit this message file in place (atomically). Default: "
                   "read the message on stdin, print the result.")
def trailer_add(key: str, value: str, message_file: Path | None) -> None:
    """Add the trailer KEY: VALUE where git would place it."""
    from agentops_hooks import messages

    repo = open_repo()
    if key.lower() == "learning":
        require_learning(value, gate_runner.policy(repo.root, repo.cache_dir))
    if message_file is not None:
        messages.add_trailers_to_file(repo, message_file, [(key, value)])
        click.echo(f"agentops: added {key}: {value} to {message_file}", err=True)
        return
    message = sys.stdin.buffer.read()
    sys.stdout.buffer.write(messages.add_trailers(repo, message, [(key, value)]))
