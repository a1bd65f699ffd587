"""`agentops schema`: the JSON Schemas of what users and judges write."""
from __future__ import annotations

import json

import click

from agentops_hooks import config as config_file
from agentops_hooks import gates as gate_runner


@click.command()
@click.argument("name", type=click.Choice(["config", "learning", "constraint", "verdict", "ratchet"]))
def schema(name: str) -> None:
    """Print a JSON Schema: config (for editors of .agentops.toml), learning
    (front matter of .agents/learnings files), constraint (a .agents/constraints
    file), verdict (a notes record)."""
    if name == "config":
        click.echo(json.dumps(config_file.json_schema(gate_runner.SECTIONS), indent=2))
    elif name == "ratchet":
        from agentops_hooks.ratchet.baselines import json_schema as ratchet_schema

        click.echo(json.dumps(ratchet_schema(), indent=2))
    elif name == "verdict":
        from agentops_hooks.evidence.notes import json_schema as verdict_schema

        click.echo(json.dumps(verdict_schema(), indent=2))
    else:
        from agentops_hooks.schemafiles import load_schema

        click.echo(json.dumps(load_schema(f"{name}.schema.json"), indent=2))
