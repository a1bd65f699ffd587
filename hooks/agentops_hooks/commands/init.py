"""`agentops init`: set a repository up for agentops."""
from __future__ import annotations

import click

from agentops_hooks import config as config_file
from agentops_hooks import gates as gate_runner
from agentops_hooks.commands.options import open_repo


@click.command()
@click.option("--remote", "remotes", multiple=True, metavar="NAME",
              help="Also make `git fetch NAME` bring the agentops notes (repeatable).")
@click.option("--phase", type=click.Choice(list(config_file.PHASES)),
              help="Turn on the gates of this 12-Factor AgentOps phase and the phases before "
                   "it (writes `gates` in .agentops.toml).")
def init(remotes: tuple[str, ...], phase: str | None) -> None:
    """Set up this clone: notes follow --amend and rebase, `git log` shows verdicts.

    Sets notes.rewriteRef and notes.rewriteMode (a verdict note is copied to
    the rewritten commit; it still counts only if the patch is unchanged)
    and notes.displayRef; with --remote, adds the fetch refspec that brings
    the remote's notes to refs/notes/remotes/NAME/agentops/* (then
    `agentops notes fetch` merges them into ours).
    """
    from agentops_hooks.evidence import sync
    from agentops_hooks.evidence.notes import NOTES_PREFIX

    repo = open_repo()
    if phase is not None:
        gates = gate_runner.gates_for_phase(phase)
        path = config_file.set_gates(repo.require_worktree("agentops init --phase"), gates, gate_runner.SECTIONS)
        click.echo(f"agentops: {path.name}: gates = {list(gates)} (phase {phase} and before)")
    # A glob: git log stays quiet until the refs exist, and shows them after.
    for var, value in (("notes.rewriteRef", NOTES_PREFIX + "*"),
                       ("notes.rewriteMode", "cat_sort_uniq"),
                       ("notes.displayRef", NOTES_PREFIX + "*")):
        present = [v for name, v in repo.config() if name == var.lower()]
        if value not in present:
            repo.git("config", "--replace-all" if var == "notes.rewriteMode" else "--add", var, value)
            click.echo(f"agentops: set {var} = {value}")
        else:
            click.echo(f"agentops: {var} = {value} already")
    for remote in remotes:
        sync.require_remote(repo, remote)
        spec = sync.fetch_refspec(remote)
        present = [v for name, v in repo.config() if name == f"remote.{remote.lower()}.fetch"]
        if spec not in present:
            repo.git("config", "--add", f"remote.{remote}.fetch", spec)
            click.echo(f"agentops: git fetch {remote} now brings the notes ({spec})")
        else:
            click.echo(f"agentops: remote {remote} already fetches the notes")
