"""The `agentops` command: one module per verb, joined in one click group.

Each verb's module is imported only when that verb runs, so `agentops check`
does not pay for the report, nor the report for the ratchet.
"""
from __future__ import annotations

import sys
from typing import Any

import click

from agentops_hooks import __version__
from agentops_hooks.errors import FatalError

COMMANDS = {
    "check": "check", "verdict": "verdict", "review": "review_command", "notes": "notes",
    "pre-receive": "pre_receive_command", "ratchet": "ratchet_group", "init": "init",
    "trailer": "trailer", "learn": "learn", "schema": "schema", "demo": "demo",
    "judges": "judges", "judge": "judge", "explain": "explain", "knowledge": "knowledge",
    "report": "report_command",
}
"""Verb -> the click command of the module `agentops_hooks.commands.<verb>`."""


class AgentopsGroup(click.Group):
    """Imports each verb on use, and turns FatalError into one line on stderr and
    exit 2, never a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        import importlib

        if cmd_name not in COMMANDS:
            return None
        module = f"agentops_hooks.commands.{cmd_name.replace('-', '_')}"
        command: click.Command = getattr(importlib.import_module(module), COMMANDS[cmd_name])
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FatalError as e:
            click.echo(f"agentops: error: {e}", err=True)
            ctx.exit(2)


@click.group(name="agentops", cls=AgentopsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="agentops")
def cli() -> None:
    """Hold coding-agent commits to the 12-Factor AgentOps factors.

    An agent's commit needs an independent verdict bound to exactly that
    change (factor VII) and a learning (factor IX). Exit codes: 0 passed,
    1 refused, 2 could not run.
    """


def main() -> None:
    """Console entry point."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")
    cli(prog_name="agentops")
