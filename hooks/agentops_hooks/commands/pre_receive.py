"""`agentops pre-receive`: the server's hook."""
from __future__ import annotations

import sys

import click


@click.command("pre-receive")
def pre_receive_command() -> None:
    """Run as a bare repository's pre-receive hook: refuse pushes the gates refuse.

    Reads `<old> <new> <ref>` lines on stdin. New commits on protected refs
    (config `protected`, read from the repository's HEAD) go through the
    enabled gates; updates to refs/notes/agentops/* must only append. Any
    error refuses the push (fail closed).
    """
    from agentops_hooks.places import server

    code, message = server.main(sys.stdin.read())
    if message:
        click.echo(message, err=True)
    sys.exit(code)
